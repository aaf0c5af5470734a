"""`manage.py seeddemo`: a demo advertiser, campaigns and facilitator, a fresh demo key, and
with `--demo-accounts` the demo sign-ins of a development install."""

import datetime as dt
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from adnet.core import clock
from campaigns.models import Advertiser, Campaign
from campaigns.services import activate_campaign, create_campaign
from facilitators.models import ApiKey, Facilitator
from facilitators.services import issue_facilitator_key, revoke_key

DEMO_FACILITATOR = "Demo facilitator"
DEMO_ADVERTISER = "Demo Weather Co."
DEMO_WALLET = "0x000000000000000000000000000000000000d3e0"
# Fixed, published passwords: created only on request and only on a development install
# (no SECRET_KEY in the environment), so they can never open a production admin.
DEMO_OPERATOR = ("demo-operator", "demo-operator-password")
DEMO_ADVERTISER_USER = ("demo-advertiser", "demo-advertiser-password")
DEMO_CAMPAIGNS = [
    {
        "name": "Forecasts for anyone buying quotes",
        "target_url_patterns": ["https://api.example.com/*"],
        "rec_resource_url": "https://weather.example.net/v1/forecast",
        "rec_description": "Hourly forecasts for any city, paid per call with x402.",
        "max_bid_amount": 20_000,
    },
    {
        "name": "Jupiter swappers",
        "target_url_patterns": ["*jupiter*"],
        "target_networks": ["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"],
        "rec_resource_url": "https://weather.example.net/v1/storm-alerts",
        "rec_description": "Storm alerts for traders who care about the weather.",
        "max_bid_amount": 15_000,
    },
    {
        "name": "Any MCP tool call",
        "target_transports": ["mcp"],
        "rec_resource_url": "https://weather.example.net/mcp/forecast",
        "rec_description": "The forecast as an MCP tool.",
        "max_bid_amount": 10_000,
        "bid_strategy": "cpm",
    },
]


class Command(BaseCommand):
    help = "Create the demo data if missing, issue a new demo facilitator key, print it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON only")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--demo-accounts",
            action="store_true",
            help="also create the demo operator and advertiser sign-ins, with their fixed "
            "development passwords (refused when SECRET_KEY is set in the environment)",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        if options["demo_accounts"] and settings.SECRET_KEY_FROM_ENVIRONMENT:
            raise CommandError(
                "--demo-accounts creates sign-ins with published passwords; refused because "
                "SECRET_KEY is set, which marks a production install."
            )
        facilitator, _ = Facilitator.objects.get_or_create(name=DEMO_FACILITATOR)
        advertiser, _ = Advertiser.objects.get_or_create(
            name=DEMO_ADVERTISER, defaults={"wallet_address": DEMO_WALLET, "network": "eip155:8453"}
        )
        start = clock.now() - dt.timedelta(minutes=1)
        for spec in DEMO_CAMPAIGNS:
            campaign = Campaign.objects.filter(advertiser=advertiser, name=spec["name"]).first()
            if campaign is None:
                values = {
                    "budget_total": 100_000_000,
                    "budget_daily": 10_000_000,
                    "schedule_start": start,
                    "rec_sponsor_name": DEMO_ADVERTISER,
                    **spec,
                }
                campaign = create_campaign(advertiser_id=advertiser.id, values=values)
            if campaign.status != Campaign.Status.ACTIVE:
                activate_campaign(campaign=campaign)
        # Keys are shown once: each run revokes the previous demo keys and prints a new one.
        for key in ApiKey.objects.filter(facilitator=facilitator, revoked_at__isnull=True):
            revoke_key(key_pk=key.pk)
        issued = issue_facilitator_key(facilitator_id=facilitator.id, name="demo")
        base = options["base_url"].rstrip("/")
        sign_ins = _demo_sign_ins(advertiser) if options["demo_accounts"] else []
        body = json.dumps(
            {
                "resourceUrl": "https://api.example.com/v1/quote",
                "network": "eip155:8453",
                "payerWallet": "0x1111111111111111111111111111111111111111",
                "settledAmount": "10000",
            }
        )
        curl = (
            f"curl -s -X POST {base}/v1/match -H 'Authorization: Bearer {issued.api_key}' "
            f"-H 'Content-Type: application/json' -d '{body}'"
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "facilitatorId": str(facilitator.id),
                        "apiKey": issued.api_key,
                        "curl": curl,
                        "signIns": [
                            {"role": role, "username": username, "password": password}
                            for role, username, password in sign_ins
                        ],
                        "adminUrl": f"{base}/admin/",
                    }
                )
            )
            return
        self.stdout.write(f"Demo facilitator: {facilitator.id}")
        self.stdout.write(f"Demo facilitator API key: {issued.api_key}")
        self.stdout.write("Try a match:")
        self.stdout.write(curl)
        if sign_ins:
            self.stdout.write(f"Sign in at {base}/admin/ (development passwords):")
            for role, username, password in sign_ins:
                self.stdout.write(f"  {role:<10} {username} / {password}")


def _demo_sign_ins(advertiser: Advertiser) -> list[tuple[str, str, str]]:
    """The demo operator (a superuser) and a staff user of the demo advertiser. Each run
    resets their passwords and flags, so the printed sign-ins always work."""
    users = get_user_model()
    operator, _ = users.objects.get_or_create(username=DEMO_OPERATOR[0])
    operator.is_active = operator.is_staff = operator.is_superuser = True
    operator.set_password(DEMO_OPERATOR[1])
    operator.save()
    person, _ = users.objects.get_or_create(username=DEMO_ADVERTISER_USER[0])
    person.is_active = person.is_staff = True
    person.is_superuser = False
    person.set_password(DEMO_ADVERTISER_USER[1])
    person.save()
    # Apps import campaigns, never the reverse: the advertiser's relation names the model.
    membership = advertiser.memberships.model
    membership.objects.update_or_create(user=person, defaults={"advertiser": advertiser})
    return [("operator", *DEMO_OPERATOR), ("advertiser", *DEMO_ADVERTISER_USER)]
