"""The admin app's configuration: Django's admin with this project's site as the default."""

from django.contrib.admin.apps import AdminConfig


class AdnetAdminConfig(AdminConfig):
    # A string: the site module imports the apps' models, which are not loaded yet here.
    default_site = "adnet.admin_site.AdnetAdminSite"
