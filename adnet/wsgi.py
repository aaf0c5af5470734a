"""WSGI entry point for the production server (gunicorn).

POST /v1/match is answered by campaigns.api.fast_match when it is well formed; every other
request, and every match it does not take, goes to Django as usual.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
django_application = get_wsgi_application()

from campaigns.api.fast_match import FastMatch  # noqa: E402 - needs Django set up first

application = FastMatch(django_application)
