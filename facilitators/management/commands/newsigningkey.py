"""`manage.py newsigningkey`: a fresh signing key entry to add to the environment."""

import secrets

from django.core.management.base import BaseCommand

from adnet.core import jws


class Command(BaseCommand):
    help = (
        "Print a new key entry: for RECOMMENDATION_SIGNING_KEYS (an Ed25519 seed, the default) "
        "or, with --tokens, for TOKEN_SIGNING_KEYS. Put it first in the list; keep the old key "
        "after it until what it signed has expired."
    )

    def add_arguments(self, parser):
        parser.add_argument("kid", help="the key id, e.g. 2026-12")
        parser.add_argument("--tokens", action="store_true", help="a placement-token key")

    def handle(self, *args, kid: str, tokens: bool, **options):
        secret = secrets.token_urlsafe(32) if tokens else jws.new_seed()
        self.stdout.write(f"{kid}:{secret}")
