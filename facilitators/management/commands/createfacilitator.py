"""`manage.py createfacilitator NAME`: register a facilitator and issue its first API key."""

import json

from django.core.management.base import BaseCommand, CommandError

from adnet.core.errors import AdnetError
from facilitators.services import register_facilitator_with_key


class Command(BaseCommand):
    help = "Register a facilitator and print its facilitatorId and API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, name: str, **options):
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        try:
            issued = register_facilitator_with_key(name=name)
        except AdnetError as exc:
            raise CommandError(exc.message) from exc
        result = {"facilitatorId": str(issued.record.facilitator_id), "apiKey": issued.api_key}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Facilitator {name!r}: {result['facilitatorId']}")
            self.stdout.write(f"API key (shown once, store it now): {issued.api_key}")
