"""App configuration for facilitators."""

from django.apps import AppConfig


class FacilitatorsConfig(AppConfig):
    name = "facilitators"
    verbose_name = "Facilitators and API keys"
