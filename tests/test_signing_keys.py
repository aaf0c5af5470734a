"""Token signing keys fit for production: key ids, rotation, legacy tokens, deploy checks."""

import base64
import datetime as dt
import hashlib
import hmac
import os
import stat
import uuid

import pytest
from django.core import checks as django_checks

from adnet import checks
from adnet import settings as project_settings
from adnet.core import signing
from campaigns import tokens

OLD = "old:" + "o" * 40
NEW = "new:" + "n" * 40
EXPIRES = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PUBLIC_DEVELOPMENT_KEY = "adnet-insecure-development-key-change-me-in-production"


def _legacy_token(placement: uuid.UUID, secret_key: str) -> str:
    """A token as made before key ids: payload and tag, the key derived from SECRET_KEY."""
    payload = tokens._LAYOUT_WITHOUT_CAMPAIGN.pack(placement.bytes, int(EXPIRES.timestamp()))
    key = hashlib.sha256(f"adnet.signing:placement-token:{secret_key}".encode()).digest()
    tag = hmac.new(key, payload, hashlib.sha256).digest()[: signing.TAG_BYTES]
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode()


def test_every_token_names_the_key_that_signed_it(settings):
    settings.TOKEN_SIGNING_KEYS = [NEW, OLD]
    token = tokens.encode(uuid.uuid4(), EXPIRES)
    assert signing.token_kid(token) == "new"


def test_a_key_rotates_without_breaking_open_tokens(settings):
    placement = uuid.uuid4()
    settings.TOKEN_SIGNING_KEYS = [OLD]
    before = tokens.encode(placement, EXPIRES)
    settings.TOKEN_SIGNING_KEYS = [NEW, OLD]  # the new key signs, the old one still checks
    after = tokens.encode(placement, EXPIRES)
    assert signing.token_kid(after) == "new"
    assert tokens.decode(before).placement_id == placement
    assert tokens.decode(after).placement_id == placement
    settings.TOKEN_SIGNING_KEYS = [NEW]  # the old key dropped once its tokens expired
    assert tokens.decode(before) is None
    assert tokens.decode(after).placement_id == placement


def test_a_token_naming_an_unknown_or_another_key_is_refused(settings):
    settings.TOKEN_SIGNING_KEYS = [OLD]
    token = tokens.encode(uuid.uuid4(), EXPIRES)
    settings.TOKEN_SIGNING_KEYS = ["old:" + "x" * 40]  # same id, another secret
    assert tokens.decode(token) is None
    settings.TOKEN_SIGNING_KEYS = [NEW]
    assert tokens.decode(token) is None
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[1:4] = b"new"  # claims the other key id
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert tokens.decode(forged) is None


def test_tokens_made_before_key_ids_stay_good(settings):
    placement = uuid.uuid4()
    settings.TOKEN_SIGNING_KEYS = [NEW]
    assert tokens.decode(_legacy_token(placement, settings.SECRET_KEY)).placement_id == placement
    assert tokens.decode(_legacy_token(placement, "some-other-secret")) is None


def test_the_old_public_development_key_mints_nothing(settings):
    """`make run` used to sign with a fixed key printed in the source; a token made with it
    must not be accepted by a quick start now."""
    assert settings.SECRET_KEY != PUBLIC_DEVELOPMENT_KEY
    assert tokens.decode(_legacy_token(uuid.uuid4(), PUBLIC_DEVELOPMENT_KEY)) is None


def test_the_development_secret_is_random_private_and_stable(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = project_settings.development_secret(path)
    assert len(first) >= 50
    assert project_settings.development_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert project_settings.development_secret(tmp_path / "other" / "secret_key") != first


@pytest.mark.parametrize(
    "entries",
    [["no-secret"], ["bad kid!:" + "s" * 40], ["short:tooshort"], [NEW, "new:" + "m" * 40]],
)
def test_malformed_keys_fail_the_system_check(settings, entries):
    settings.TOKEN_SIGNING_KEYS = entries
    assert [e.id for e in checks.signing_keys_parse(None)] == ["adnet.E001"]


def test_deploy_check_refuses_development_keys(settings):
    settings.SECRET_KEY_FROM_ENVIRONMENT = False
    settings.TOKEN_SIGNING_KEYS = []
    settings.RECOMMENDATION_SIGNING_KEYS = ["r1:" + "A" * 43]
    assert {e.id for e in checks.production_keys(None)} == {"adnet.E002", "adnet.E003"}
    settings.SECRET_KEY_FROM_ENVIRONMENT = True
    settings.TOKEN_SIGNING_KEYS = [NEW]
    assert checks.production_keys(None) == []


def test_deploy_checks_are_registered():
    deploy = django_checks.registry.registry.get_checks(include_deployment_checks=True)
    assert checks.production_keys in deploy
    assert checks.signing_keys_parse in django_checks.registry.registry.get_checks()
