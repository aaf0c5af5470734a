"""Management commands that register facilitators and issue keys; keys are kept only as hashes."""

import hashlib
import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from campaigns.models import MatchRequest
from facilitators.models import ApiKey, Facilitator
from tests import factories
from tests.support.journal import written

pytestmark = pytest.mark.django_db

MATCH_BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": "0x" + "22" * 20,
    "settledAmount": "10000",
}


def _run(*args) -> dict:
    buf = io.StringIO()
    call_command(*args, "--json", stdout=buf)
    return json.loads(buf.getvalue())


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _assert_stored_only_as_hash(raw: str) -> None:
    row = ApiKey.objects.get(key_id=raw.split("_", 2)[1])
    assert row.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.split("_", 2)[2]
    for field in ApiKey._meta.concrete_fields:
        value = str(getattr(row, field.attname))
        assert raw not in value, field.name
        assert secret not in value, field.name
    # Nor anywhere in the table.
    for values in ApiKey.objects.values_list():
        assert not any(secret in str(value) for value in values)


def test_createfacilitator_prints_id_and_a_working_key():
    result = _run("createfacilitator", "Dexter")
    assert set(result) == {"facilitatorId", "apiKey"}
    facilitator = Facilitator.objects.get(pk=uuid.UUID(result["facilitatorId"]))
    assert facilitator.name == "Dexter"
    assert facilitator.status == Facilitator.Status.ACTIVE
    assert result["apiKey"].startswith("adnfac_")

    response = _client(result["apiKey"]).post("/v1/match", MATCH_BODY, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"matched": False}
    written()
    observed = MatchRequest.objects.get()
    assert observed.facilitator_id == facilitator.id
    _assert_stored_only_as_hash(result["apiKey"])


def test_createfacilitator_refuses_a_taken_or_empty_name():
    _run("createfacilitator", "Dexter")
    with pytest.raises(CommandError):
        _run("createfacilitator", "Dexter")
    with pytest.raises(CommandError):
        _run("createfacilitator", "   ")
    assert Facilitator.objects.count() == 1
    assert ApiKey.objects.count() == 1


def test_createfacilitator_without_json_prints_the_key_once():
    buf = io.StringIO()
    call_command("createfacilitator", "Plain", stdout=buf)
    facilitator = Facilitator.objects.get(name="Plain")
    key = ApiKey.objects.get(facilitator=facilitator)
    assert str(facilitator.id) in buf.getvalue()
    assert f"adnfac_{key.key_id}_" in buf.getvalue()


def test_createapikey_operator():
    result = _run("createapikey", "--operator", "alice")
    assert set(result) == {"apiKey"}
    assert result["apiKey"].startswith("adnop_")
    row = ApiKey.objects.get(key_id=result["apiKey"].split("_", 2)[1])
    assert row.kind == ApiKey.Kind.OPERATOR
    assert row.name == "alice"
    client = _client(result["apiKey"])
    assert client.get("/v1/advertisers").status_code == 200
    response = client.post(
        "/v1/advertisers",
        {"name": "Jupiter", "wallet_address": "0x" + "ab" * 20, "network": "eip155:8453"},
        format="json",
    )
    assert response.status_code == 201, response.content
    _assert_stored_only_as_hash(result["apiKey"])


def test_createapikey_advertiser_is_confined_to_that_advertiser():
    advertiser = factories.AdvertiserFactory()
    factories.CampaignFactory(advertiser=advertiser)
    factories.CampaignFactory()  # someone else's
    result = _run("createapikey", "--advertiser", str(advertiser.id))
    assert result["apiKey"].startswith("adnadv_")
    row = ApiKey.objects.get(key_id=result["apiKey"].split("_", 2)[1])
    assert row.kind == ApiKey.Kind.ADVERTISER
    assert row.advertiser_id == advertiser.id

    body = _client(result["apiKey"]).get("/v1/campaigns").json()
    assert body["count"] == 1
    assert body["campaigns"][0]["advertiser_id"] == str(advertiser.id)
    _assert_stored_only_as_hash(result["apiKey"])


@pytest.mark.parametrize("advertiser_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_createapikey_unknown_advertiser_is_an_error(advertiser_id):
    with pytest.raises(CommandError):
        _run("createapikey", "--advertiser", advertiser_id)
    assert ApiKey.objects.count() == 0


def test_createapikey_facilitator_rotation(facilitator):
    result = _run("createapikey", "--facilitator", str(facilitator.id))
    assert result["apiKey"].startswith("adnfac_")
    response = _client(result["apiKey"]).post("/v1/match", MATCH_BODY, format="json")
    assert response.status_code == 200, response.content
    written()
    assert MatchRequest.objects.get().facilitator_id == facilitator.id
    with pytest.raises(CommandError):
        _run("createapikey", "--facilitator", str(uuid.uuid4()))


def test_createapikey_needs_exactly_one_kind():
    with pytest.raises(CommandError):
        call_command("createapikey", "--json", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command(
            "createapikey",
            "--operator",
            "a",
            "--advertiser",
            str(uuid.uuid4()),
            stdout=io.StringIO(),
        )
    assert ApiKey.objects.count() == 0


def test_each_issued_key_is_different_and_hashed():
    keys = [_run("createapikey", "--operator", f"op{i}")["apiKey"] for i in range(5)]
    assert len(set(keys)) == 5
    hashes = set(ApiKey.objects.values_list("secret_hash", flat=True))
    assert hashes == {hashlib.sha256(k.encode()).hexdigest() for k in keys}
    for key in keys:
        _assert_stored_only_as_hash(key)
