"""`manage.py createapikey --operator NAME | --advertiser ID`: issue an API key, shown once."""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from adnet.core.errors import AdnetError
from campaigns.services import issue_advertiser_key
from facilitators.services import issue_facilitator_key, issue_operator_key


class Command(BaseCommand):
    help = "Issue an operator, advertiser or facilitator API key and print it (shown once)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--operator", metavar="NAME", help="an operator key with this name")
        group.add_argument(
            "--advertiser", metavar="ADVERTISER_ID", help="a key confined to this advertiser"
        )
        group.add_argument(
            "--facilitator",
            metavar="FACILITATOR_ID",
            help="another key for this facilitator (key rotation)",
        )
        parser.add_argument("--name", default="", help="a label for the key")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, **options):
        try:
            if options["operator"]:
                issued = issue_operator_key(name=options["operator"])
            elif options["advertiser"]:
                issued = issue_advertiser_key(
                    advertiser_id=self._uuid(options["advertiser"]), name=options["name"]
                )
            else:
                issued = issue_facilitator_key(
                    facilitator_id=self._uuid(options["facilitator"]), name=options["name"]
                )
        except AdnetError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps({"apiKey": issued.api_key}))
        else:
            self.stdout.write(f"{issued.record.kind} key {issued.record.prefix}")
            self.stdout.write(f"API key (shown once, store it now): {issued.api_key}")

    @staticmethod
    def _uuid(value: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise CommandError(f"{value!r} is not an id (a UUID).") from exc
