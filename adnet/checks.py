"""System checks of the deployment's own settings (`manage.py check`, `check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from adnet.core import jws, signing


@register(Tags.security)
def signing_keys_parse(app_configs, **kwargs):
    errors = []
    for module in (signing, jws):
        try:
            module.keys()
        except module.KeyConfigError as exc:
            errors.append(Error(str(exc), id="adnet.E001"))
    return errors


@register(Tags.security, deploy=True)
def production_keys(app_configs, **kwargs):
    """A deployment signs with keys of its own, never the checkout's development ones."""
    errors = []
    if not settings.SECRET_KEY_FROM_ENVIRONMENT:
        errors.append(
            Error(
                "SECRET_KEY is not set: the development key of this checkout is in use.",
                hint="Set SECRET_KEY to 50+ random characters (docs/operations.md).",
                id="adnet.E002",
            )
        )
    if not settings.TOKEN_SIGNING_KEYS:
        errors.append(
            Error(
                "TOKEN_SIGNING_KEYS is not set: placement tokens are signed with the "
                "development key.",
                hint="Set TOKEN_SIGNING_KEYS=kid:secret (32+ random characters); "
                "docs/operations.md explains rotation.",
                id="adnet.E003",
            )
        )
    if not settings.RECOMMENDATION_SIGNING_KEYS:
        errors.append(
            Error(
                "RECOMMENDATION_SIGNING_KEYS is not set: match answers are signed with the "
                "development key.",
                hint="Set RECOMMENDATION_SIGNING_KEYS=kid:seed (python manage.py "
                "newsigningkey prints one); docs/operations.md explains rotation.",
                id="adnet.E004",
            )
        )
    return errors
