"""App configuration for accounts: people who sign in to the admin, and their advertiser."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Advertiser accounts"
    default_auto_field = "django.db.models.BigAutoField"
