"""`manage.py revokeapikey PREFIX`: revoke an API key by its visible prefix."""

import json

from django.core.management.base import BaseCommand, CommandError

from facilitators.models import ApiKey
from facilitators.services import revoke_key


class Command(BaseCommand):
    help = "Revoke an API key, given its prefix (e.g. adnfac_k3j4h5m6n7p8) or its key id."

    def add_arguments(self, parser):
        parser.add_argument("prefix")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, prefix: str, **options):
        key_id = prefix.split("_")[1] if "_" in prefix else prefix
        key = ApiKey.objects.filter(key_id=key_id).first()
        if key is None:
            raise CommandError(f"No API key with prefix {prefix!r}.")
        revoked = revoke_key(key_pk=key.pk)
        if options["json"]:
            result = {"prefix": key.prefix, "revoked": True, "changed": revoked}
            self.stdout.write(json.dumps(result))
        else:
            state = "revoked" if revoked else "was already revoked"
            self.stdout.write(f"{key.prefix} {state}.")
