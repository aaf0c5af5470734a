"""Who may call what: bearer keys, the one 401, scoping of advertiser keys, key lifecycle."""

import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Campaign, MatchRequest
from facilitators import services as facilitator_services
from facilitators.models import ApiKey, Facilitator
from tests import factories
from tests.support.journal import written
from tests.test_campaign_api import (
    ADVERTISERS,
    CAMPAIGNS,
    assert_error,
    campaign_body,
    campaign_url,
    create_campaign,
)

pytestmark = pytest.mark.django_db

MATCH = "/v1/match"
MATCH_BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": "0x" + "11" * 20,
    "settledAmount": "10000",
}
WWW_AUTHENTICATE = 'Bearer realm="adnet"'


def _client(authorization: str | None) -> APIClient:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def client_with(key: str) -> APIClient:
    return _client(f"Bearer {key}")


def _unauthorized(response) -> dict:
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    return response.json()


# --- the one 401 -------------------------------------------------------------------------------


def test_every_bad_credential_gets_the_identical_401(db):
    operator = facilitator_services.issue_operator_key(name="ops").api_key
    advertiser = factories.AdvertiserFactory()
    advertiser_key = facilitator_services.issue_advertiser_key(advertiser_id=advertiser.id).api_key
    revoked = facilitator_services.issue_operator_key(name="old")
    facilitator_services.revoke_key(key_pk=revoked.record.pk)
    tag, key_id, secret = operator.split("_", 2)
    wrong_secret = "X" if secret[0] != "X" else "Y"

    authorizations = {
        "missing header": None,
        "empty header": "",
        "unknown key": "Bearer adnop_abcdefghijkm_" + "s" * 43,
        "revoked key": f"Bearer {revoked.api_key}",
        "right id, wrong secret": f"Bearer {tag}_{key_id}_{wrong_secret}{secret[1:]}",
        "right key, wrong kind tag": f"Bearer adnfac_{key_id}_{secret}",
        "advertiser key id under operator tag": "Bearer adnop_"
        + advertiser_key.split("_", 2)[1]
        + "_"
        + advertiser_key.split("_", 2)[2],
        "malformed: garbage": "Bearer garbage",
        "malformed: short key id": f"Bearer {tag}_abc_{secret}",
        "malformed: no secret": f"Bearer {tag}_{key_id}_",
        "malformed: unknown tag": f"Bearer zzz_{key_id}_{secret}",
        "malformed: too long": f"Bearer {operator}{'a' * 200}",
        "malformed: key with a space": f"Bearer {operator} extra",
        "scheme only": "Bearer",
        "scheme only with space": "Bearer ",
        "wrong scheme: Basic": f"Basic {operator}",
        "wrong scheme: Token": f"Token {operator}",
        "no scheme": operator,
    }
    bodies = {}
    for label, authorization in authorizations.items():
        response = _client(authorization).get(CAMPAIGNS)
        assert response.status_code == 401, (label, response.content)
        bodies[label] = _unauthorized(response)
    reference = bodies["missing header"]
    assert reference["error"]["details"] is None
    for label, body in bodies.items():
        assert body == reference, label

    # The same 401 on every endpoint, whatever it needs.
    for method, path, data in [
        ("post", MATCH, MATCH_BODY),
        ("get", ADVERTISERS, None),
        ("post", ADVERTISERS, {"name": "x"}),
        ("patch", campaign_url(uuid.uuid4()), {"name": "x"}),
        ("post", campaign_url(uuid.uuid4(), "activate"), None),
    ]:
        for authorization in (None, authorizations["unknown key"]):
            response = getattr(_client(authorization), method)(path, data, format="json")
            assert _unauthorized(response) == reference, (method, path)
    written()
    assert MatchRequest.objects.count() == 0


def test_scheme_is_case_insensitive(db):
    key = facilitator_services.issue_operator_key(name="ops").api_key
    assert _client(f"bearer {key}").get(CAMPAIGNS).status_code == 200
    assert _client(f"BEARER {key}").get(CAMPAIGNS).status_code == 200


def test_suspended_facilitator_key_is_401(facilitator, facilitator_client):
    assert facilitator_client.post(MATCH, MATCH_BODY, format="json").status_code == 200
    facilitator_services.set_facilitator_status(
        facilitator_id=facilitator.id, status=Facilitator.Status.SUSPENDED
    )
    response = facilitator_client.post(MATCH, MATCH_BODY, format="json")
    reference = _unauthorized(_client(None).post(MATCH, MATCH_BODY, format="json"))
    assert _unauthorized(response) == reference
    written()
    assert MatchRequest.objects.count() == 1  # only the call made before the suspension


def test_revocation_takes_effect_on_the_next_request(facilitator):
    issued = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    client = client_with(issued.api_key)
    assert client.post(MATCH, MATCH_BODY, format="json").status_code == 200
    assert facilitator_services.revoke_key(key_pk=issued.record.pk) is True
    _unauthorized(client.post(MATCH, MATCH_BODY, format="json"))
    written()
    assert MatchRequest.objects.count() == 1
    assert facilitator_services.revoke_key(key_pk=issued.record.pk) is False  # once only


def test_revoking_one_key_leaves_the_others(facilitator):
    old = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    new = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    facilitator_services.revoke_key(key_pk=old.record.pk)
    _unauthorized(client_with(old.api_key).post(MATCH, MATCH_BODY, format="json"))
    assert client_with(new.api_key).post(MATCH, MATCH_BODY, format="json").status_code == 200


def test_revoked_operator_and_advertiser_keys_are_401(advertiser):
    operator = facilitator_services.issue_operator_key(name="ops")
    adv = facilitator_services.issue_advertiser_key(advertiser_id=advertiser.id)
    for issued in (operator, adv):
        client = client_with(issued.api_key)
        assert client.get(CAMPAIGNS).status_code == 200
        facilitator_services.revoke_key(key_pk=issued.record.pk)
        _unauthorized(client.get(CAMPAIGNS))


def test_last_used_at_is_recorded(facilitator):
    issued = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    assert ApiKey.objects.get(pk=issued.record.pk).last_used_at is None
    before = timezone.now()
    assert client_with(issued.api_key).post(MATCH, MATCH_BODY, format="json").status_code == 200
    used = ApiKey.objects.get(pk=issued.record.pk).last_used_at
    assert used is not None
    assert before <= used <= timezone.now()


def test_failed_authentication_records_no_use(facilitator):
    issued = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    tag, key_id, secret = issued.api_key.split("_", 2)
    forged = f"{tag}_{key_id}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    _unauthorized(client_with(forged).post(MATCH, MATCH_BODY, format="json"))
    assert ApiKey.objects.get(pk=issued.record.pk).last_used_at is None


# --- kinds of key and endpoints ------------------------------------------------------------------


def test_facilitator_key_cannot_use_campaign_or_advertiser_api(facilitator_client, advertiser):
    existing = factories.CampaignFactory(advertiser=advertiser, status=Campaign.Status.DRAFT)
    calls = [
        ("get", CAMPAIGNS, None),
        ("post", CAMPAIGNS, campaign_body(advertiser.id)),
        ("get", campaign_url(existing.id), None),
        ("patch", campaign_url(existing.id), {"name": "x"}),
        ("post", campaign_url(existing.id, "activate"), None),
        ("get", ADVERTISERS, None),
        (
            "post",
            ADVERTISERS,
            {"name": "x", "wallet_address": "0x" + "ab" * 20, "network": "eip155:8453"},
        ),
    ]
    for method, path, data in calls:
        response = getattr(facilitator_client, method)(path, data, format="json")
        assert_error(response, 403, "forbidden")
    existing.refresh_from_db()
    assert existing.status == Campaign.Status.DRAFT
    assert existing.name != "x"
    assert Campaign.objects.count() == 1


def test_operator_and_advertiser_keys_cannot_match(operator_client, advertiser_client):
    for client in (operator_client, advertiser_client):
        assert_error(client.post(MATCH, MATCH_BODY, format="json"), 403, "forbidden")
    written()
    assert MatchRequest.objects.count() == 0


def test_advertiser_key_cannot_create_advertisers(advertiser_client):
    before = factories.AdvertiserFactory._meta.model.objects.count()
    response = advertiser_client.post(
        ADVERTISERS,
        {"name": "x", "wallet_address": "0x" + "ab" * 20, "network": "eip155:8453"},
        format="json",
    )
    assert_error(response, 403, "forbidden")
    assert factories.AdvertiserFactory._meta.model.objects.count() == before


# --- advertiser keys are confined to their advertiser ---------------------------------------------


@pytest.fixture
def other_campaign(db):
    return factories.CampaignFactory(status=Campaign.Status.DRAFT, name="Theirs")


def test_advertiser_lists_only_its_own(advertiser_client, advertiser, other_campaign):
    mine = create_campaign(advertiser_client, advertiser.id)
    body = advertiser_client.get(CAMPAIGNS).json()
    assert body["count"] == 1
    assert [c["id"] for c in body["campaigns"]] == [mine["id"]]
    # Asking for another advertiser's campaigns by id gives nothing, not theirs.
    body = advertiser_client.get(CAMPAIGNS, {"advertiser_id": str(other_campaign.advertiser_id)})
    assert body.json() == {"campaigns": [], "count": 0}

    advertisers = advertiser_client.get(ADVERTISERS).json()
    assert advertisers["count"] == 1
    assert [a["id"] for a in advertisers["advertisers"]] == [str(advertiser.id)]


def test_another_advertisers_campaign_looks_missing(advertiser_client, other_campaign):
    missing = uuid.uuid4()
    calls = [
        ("get", "", None),
        ("patch", "", {"name": "Mine now"}),
        ("post", "activate", None),
        ("post", "pause", None),
    ]
    for method, action, data in calls:
        theirs = getattr(advertiser_client, method)(
            campaign_url(other_campaign.id, action), data, format="json"
        )
        absent = getattr(advertiser_client, method)(
            campaign_url(missing, action), data, format="json"
        )
        assert_error(theirs, 404, "campaign_not_found")
        assert theirs.json() == absent.json()
    other_campaign.refresh_from_db()
    assert other_campaign.name == "Theirs"
    assert other_campaign.status == Campaign.Status.DRAFT


def test_another_advertisers_active_campaign_cannot_be_paused(advertiser_client):
    theirs = factories.CampaignFactory(status=Campaign.Status.ACTIVE)
    assert_error(
        advertiser_client.post(campaign_url(theirs.id, "pause")), 404, "campaign_not_found"
    )
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.ACTIVE


def test_advertiser_cannot_create_campaign_for_another(advertiser_client, other_campaign):
    before = Campaign.objects.count()
    theirs = advertiser_client.post(
        CAMPAIGNS, campaign_body(other_campaign.advertiser_id), format="json"
    )
    error = assert_error(theirs, 400, "validation_error")
    assert "advertiser_id" in error["details"]
    # Indistinguishable from an advertiser that does not exist.
    absent = advertiser_client.post(CAMPAIGNS, campaign_body(uuid.uuid4()), format="json")
    assert absent.json() == theirs.json()
    assert Campaign.objects.count() == before
    assert (
        not Campaign.objects.filter(advertiser_id=other_campaign.advertiser_id)
        .exclude(pk=other_campaign.pk)
        .exists()
    )


def test_operator_sees_every_advertisers_campaigns(operator_client, advertiser, other_campaign):
    mine = factories.CampaignFactory(advertiser=advertiser)
    body = operator_client.get(CAMPAIGNS).json()
    assert body["count"] == 2
    assert {c["id"] for c in body["campaigns"]} == {str(mine.id), str(other_campaign.id)}
    assert operator_client.get(campaign_url(other_campaign.id)).status_code == 200


def test_revocation_by_another_process_applies_within_the_cache_lifetime(
    facilitator, settings, monkeypatch
):
    """Another process revoked the key (here: the database changed behind our cache)."""
    import time

    from facilitators.models import ApiKey

    settings.API_KEY_CACHE_SECONDS = 60  # the default's 2 s, long enough for a stalled machine
    issued = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id)
    client = client_with(issued.api_key)
    assert client.post(MATCH, MATCH_BODY, format="json").status_code == 200
    ApiKey.objects.filter(pk=issued.record.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.post(MATCH, MATCH_BODY, format="json").status_code == 200  # cached
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)
    _unauthorized(client.post(MATCH, MATCH_BODY, format="json"))


def test_key_lookup_is_cached_between_requests(
    facilitator_key, django_assert_num_queries, settings
):
    settings.API_KEY_CACHE_SECONDS = 3600  # not the default's 2 s: a stall cannot end it
    client = client_with(facilitator_key)
    client.get("/v1/campaigns")  # 403 for a facilitator key, but authenticated and cached
    with django_assert_num_queries(0):
        assert client.get("/v1/campaigns").status_code == 403


def test_a_key_lookup_is_one_statement_naming_the_caller(advertiser, django_assert_num_queries):
    """The lookup reads the key and its facilitator's status together, and hands back
    the ids as UUIDs whichever database returned them."""
    from facilitators import selectors

    facilitator = facilitator_services.register_facilitator(name="one-statement")
    for issued, facilitator_id, advertiser_id in (
        (
            facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id),
            facilitator.id,
            None,
        ),
        (
            facilitator_services.issue_advertiser_key(advertiser_id=advertiser.id),
            None,
            advertiser.id,
        ),
        (facilitator_services.issue_operator_key(name="ops"), None, None),
    ):
        selectors.forget_cached_keys()
        with django_assert_num_queries(1):
            principal = selectors.principal_for_key(issued.api_key)
        assert principal.key_pk == issued.record.pk
        assert principal.kind == issued.record.kind
        assert principal.name == issued.record.name
        assert principal.facilitator_id == facilitator_id
        assert principal.advertiser_id == advertiser_id
    selectors.forget_cached_keys()
    wrong = issued.api_key[:-1] + ("x" if issued.api_key[-1] != "x" else "y")
    assert selectors.principal_for_key(wrong) is None  # the right key id, a wrong secret


def test_uuid_columns_read_as_text_become_uuids():
    """SQLite hands a plain cursor a UUID column as 32 hex digits."""
    from facilitators.selectors import _as_uuid

    value = uuid.uuid4()
    assert _as_uuid(value.hex) == value
    assert _as_uuid(value) is value
    assert _as_uuid(None) is None
