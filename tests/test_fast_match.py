"""The WSGI fast path for POST /v1/match answers as Django would, and leaves Django the rest.

Every request here is sent twice: once through the fast path (FastPathClient, as the
production server's adnet.wsgi does) and once through Django alone (a plain APIClient),
and the two answers are compared: status, every header, the body.
"""

import io
import json
import time
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from adnet.core import ratelimits
from adnet.wsgi import application as production_application
from campaigns import catalog
from campaigns.models import MatchRequest
from facilitators import services as facilitator_services
from tests.factories import AdvertiserFactory, CampaignFactory, evm_address
from tests.support.fast import FastPathClient
from tests.support.journal import written

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "settledAmount": "10000",
}
TOKEN_FIELDS = ("impressionBeacon", "impressionToken", "tracking")


@pytest.fixture
def both(facilitator_key):
    fast = FastPathClient()
    fast.credentials(HTTP_AUTHORIZATION=f"Bearer {facilitator_key}")
    django = APIClient()
    django.credentials(HTTP_AUTHORIZATION=f"Bearer {facilitator_key}")
    return fast, django


def _headers(response) -> dict:
    return {k.lower(): v for k, v in response.items() if k.lower() not in {"x-request-id"}}


def _same(fast_response, django_response) -> None:
    assert fast_response.status_code == django_response.status_code
    assert _headers(fast_response) == _headers(django_response)
    fast_body, django_body = dict(fast_response.json()), dict(django_response.json())
    for name in TOKEN_FIELDS:  # signed per placement: the same shape, another token
        assert (name in fast_body) == (name in django_body)
        fast_body.pop(name, None), django_body.pop(name, None)
    assert fast_body == django_body


def _post(client, n: int, **extra):
    body = {**BODY, "payerWallet": evm_address(n)}
    return client.post("/v1/match", body, format="json", **extra)


def test_matched_and_unmatched_answers_are_the_same_both_ways(both):
    fast, django = both
    _same(_post(fast, 1), _post(django, 2))  # nothing to match yet
    CampaignFactory(rec_price=None, rec_bazaar_id="bz-1", rec_description="Quotes \u2028 live")
    catalog.forget()  # made by the factory, not the services: no new catalog version
    answered_fast, answered_django = _post(fast, 3), _post(django, 4)
    assert answered_fast.json()["matched"] is True
    _same(answered_fast, answered_django)
    assert b"\\u2028" in answered_fast.content  # escaped as DRF's renderer does
    assert fast.fast_answers == 2
    token = answered_fast.json()["impressionToken"]
    assert answered_fast.json()["impressionBeacon"].endswith(f"/v1/track/impression/{token}")
    written()
    assert MatchRequest.objects.count() == 4
    assert MatchRequest.objects.filter(matched=True).count() == 2


def test_https_behind_a_proxy_and_a_public_base_url(both, settings):
    fast, django = both
    CampaignFactory()
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_PRELOAD = True
    proxied = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "ads.example.org"}
    settings.ALLOWED_HOSTS = ["ads.example.org", "testserver"]
    answered = _post(fast, 1, **proxied)
    _same(answered, _post(django, 2, **proxied))
    assert answered["Strict-Transport-Security"] == "max-age=3600; preload"
    assert answered.json()["impressionBeacon"].startswith("https://ads.example.org/v1/")
    settings.PUBLIC_BASE_URL = "https://track.example.org"
    answered = _post(fast, 3, **proxied)
    _same(answered, _post(django, 4, **proxied))
    assert answered.json()["tracking"]["clickUrl"].startswith("https://track.example.org/")
    assert fast.fast_answers == 2


def test_a_key_over_its_rate_gets_the_same_429(both, settings, monkeypatch):
    fast, django = both
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "facilitator": "2/m"}
    # The rate window's clock stands still in the middle of this minute: no window ends
    # between the four requests, and both refusals round the same wait into Retry-After
    # (a second boundary between them once gave 37 against 36).
    now = float(int(time.time()) // 60 * 60 + 30)
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: now))
    assert [_post(fast, n).status_code for n in range(2)] == [200, 200]
    refused_fast = _post(fast, 3)
    refused_django = _post(django, 4)
    assert refused_fast.status_code == 429
    assert refused_fast["Retry-After"] == "30"
    _same(refused_fast, refused_django)
    assert fast.fast_answers == 3


def test_the_request_id_is_echoed(both):
    fast, _ = both
    answered = _post(fast, 1, HTTP_X_REQUEST_ID="facilitator-abc.1")
    assert answered["X-Request-ID"] == "facilitator-abc.1"
    generated = _post(fast, 2, HTTP_X_REQUEST_ID="not sane!")
    assert len(generated["X-Request-ID"]) == 32
    assert fast.fast_answers == 2


@pytest.mark.parametrize(
    "case",
    [
        "explain",
        "text-plain",
        "accept-html",
        "unknown-key",
        "advertiser-key",
        "no-key",
        "basic-auth",
        "bad-host",
        "invalid-body",
        "not-json",
        "nan",
        "utf16",
        "too-large",
        "ssl-redirect",
    ],
)
def test_what_the_fast_path_does_not_take_django_answers_unchanged(both, settings, case):
    fast, django = both
    CampaignFactory()
    body = json.dumps({**BODY, "payerWallet": evm_address(7)})
    extra: dict = {}
    content_type = "application/json"
    path = "/v1/match"
    if case == "explain":
        path += "?explain=1"
    elif case == "text-plain":
        content_type = "text/plain"
    elif case == "accept-html":
        extra["HTTP_ACCEPT"] = "text/html"
    elif case in {"unknown-key", "advertiser-key", "no-key", "basic-auth"}:
        key = {
            "unknown-key": "adnfac_nothing_here",
            "advertiser-key": facilitator_services.issue_advertiser_key(
                advertiser_id=AdvertiserFactory().id
            ).api_key,
        }.get(case)
        for client in both:
            client.credentials(**({"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}))
        if case == "basic-auth":
            extra["HTTP_AUTHORIZATION"] = "Basic dXNlcjpwYXNz"
    elif case == "bad-host":
        extra["HTTP_HOST"] = "evil.example.com"
    elif case == "invalid-body":
        body = json.dumps({**BODY, "payerWallet": "0x12"})
    elif case == "not-json":
        body = "{not json"
    elif case == "nan":
        body = body[:-1] + ', "extra": NaN}'
    elif case == "utf16":
        body = body.encode("utf-16")
    elif case == "too-large":
        body = json.dumps({**BODY, "payerWallet": evm_address(7), "pad": "x" * 20_000})
    elif case == "ssl-redirect":
        settings.SECURE_SSL_REDIRECT = True
    fast_response = fast.generic("POST", path, body, content_type=content_type, **extra)
    django_response = django.generic("POST", path, body, content_type=content_type, **extra)
    assert fast.fast_answers == 0
    assert fast_response.status_code == django_response.status_code
    assert fast_response.status_code != 200 or case == "explain"
    assert _headers(fast_response).keys() == _headers(django_response).keys()


def _environ(path: str, method: str = "GET", body: bytes = b"", **extra) -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        **extra,
    }


def test_the_production_wsgi_application_answers_both_kinds(facilitator_key, monkeypatch):
    """adnet.wsgi.application itself: matches through the fast path, the rest to Django."""
    from campaigns.api.fast_match import FastMatch

    monkeypatch.setattr(FastMatch, "request_finished", lambda self: None)  # test transaction
    CampaignFactory()
    seen = []

    def start_response(status, headers):
        seen.append((status, dict(headers)))

    body = json.dumps({**BODY, "payerWallet": evm_address(1)}).encode()
    match_environ = _environ(
        "/v1/match",
        "POST",
        body,
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Bearer {facilitator_key}",
    )
    answer = json.loads(b"".join(production_application(match_environ, start_response)))
    assert seen[-1][0] == "200 OK"
    assert answer["matched"] is True
    assert answer["impressionBeacon"].startswith("http://127.0.0.1:8000/v1/track/impression/")
    assert int(seen[-1][1]["Content-Length"]) == len(json.dumps(answer, separators=(",", ":")))
    ping = b"".join(production_application(_environ("/v1/ping"), start_response))
    assert seen[-1][0] == "200 OK" and json.loads(ping) == {"ok": True}
    unauthorized = _environ("/v1/match", "POST", body, CONTENT_TYPE="application/json")
    refused = json.loads(b"".join(production_application(unauthorized, start_response)))
    assert seen[-1][0].startswith("401")
    assert refused["error"]["code"] == "unauthorized"


def test_a_key_lookup_that_fails_is_a_503_at_once(both, monkeypatch):
    """A database that cannot be asked about a key: 503 from the fast path itself (handing
    it to Django would make the facilitator wait for a second connection timeout)."""
    from django.db import OperationalError

    from campaigns.api import fast_match

    def down(raw):
        raise OperationalError("connection refused")

    monkeypatch.setattr(fast_match, "principal_for_key", down)
    fast, _ = both
    answered = _post(fast, 1)
    assert fast.fast_answers == 1
    assert answered.status_code == 503
    assert answered.json()["error"]["code"] == "service_unavailable"
    assert answered["Retry-After"] == "1"


def _served_match(key: str, n: int):
    """A match as the production server hands it to adnet.wsgi: the response iterable, whose
    close() the server calls once the answer is sent."""
    body = json.dumps({**BODY, "payerWallet": evm_address(n)}).encode()
    environ = _environ(
        "/v1/match",
        "POST",
        body,
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    return production_application(environ, lambda status, headers: None)


def test_grants_are_renewed_after_the_answer_not_before(facilitator_key, monkeypatch):
    """The match that takes a grant below its low mark answers at once, and the server tops
    the grant up once that answer is sent (WSGI close()); the top-up task then leaves it
    alone. A grant found spent is refilled the same way: that match answers with what it
    can place (here nothing). The day's first grant is made in the request that needs it."""
    from campaigns import grants
    from campaigns.api.fast_match import FastMatch
    from campaigns.models import BudgetGrant

    monkeypatch.setattr(FastMatch, "request_finished", lambda self: None)  # test transaction
    monkeypatch.setattr("django.conf.settings.GRANT_MIN_HOLDS", 2)  # low mark: one hold
    monkeypatch.setattr("django.conf.settings.GRANT_MAX_HOLDS", 3)
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=100_000, budget_daily=100_000)

    def call(n: int):
        answer = _served_match(facilitator_key, n)
        return answer, json.loads(b"".join(answer))["matched"]

    def live() -> int:
        return BudgetGrant.objects.filter(campaign=campaign, closed_at=None).count()

    def made() -> int:
        return BudgetGrant.objects.filter(campaign=campaign).count()

    answer, matched = call(1)  # the day's first grant, made in this request
    assert matched is True and not hasattr(answer, "close")
    assert (made(), live()) == (1, 1)
    answer, matched = call(2)  # takes the grant below its low mark...
    assert matched is True and made() == 1  # ...answered before any refill
    answer.close()  # the server, once the answer is sent: a new grant
    assert (made(), live()) == (2, 1)
    assert grants.top_up() == 0  # listed for the top-up task too, which sees it done
    assert made() == 2

    # A grant found spent (its low-mark top-up never ran: here, close() is not called).
    budget_grant = BudgetGrant.objects.get(campaign=campaign, closed_at=None)
    holds = budget_grant.granted_millis // budget_grant.hold_millis
    n, signalled = 100, 0
    for _ in range(holds):
        n += 1
        answer, matched = call(n)
        assert matched is True
        signalled += hasattr(answer, "close")
    assert signalled == 1  # this grant's low mark too, seconds after the last grant's
    answer, matched = call(n + 1)
    assert matched is False  # nothing else can place: answered without waiting
    assert made() == 2
    answer.close()
    assert made() == 3
    assert call(n + 2)[1] is True


def test_a_refill_after_the_answer_that_fails_frees_the_campaign_for_the_next(
    facilitator_key, monkeypatch, caplog
):
    """If the refill after the answer fails, it is logged and its claim released: the
    next match that finds the grant spent refills it."""
    from campaigns import grants
    from campaigns.api.fast_match import FastMatch

    monkeypatch.setattr(FastMatch, "request_finished", lambda self: None)
    monkeypatch.setattr("django.conf.settings.GRANT_MIN_HOLDS", 1)  # spent by one match
    CampaignFactory(max_bid_amount=1000, budget_total=100_000, budget_daily=100_000)
    answer = _served_match(facilitator_key, 1)
    assert json.loads(b"".join(answer))["matched"] is True
    real_refill = grants.refill

    def broken(campaign_id, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(grants, "refill", broken)
    answer.close()  # the top-up after the answer fails
    assert "refilling the grant of campaign" in caplog.text
    monkeypatch.setattr(grants, "refill", real_refill)
    django = APIClient()  # Django's path refills in the request: no claim is in its way
    django.credentials(HTTP_AUTHORIZATION=f"Bearer {facilitator_key}")
    assert _post(django, 2).json()["matched"] is True


def test_a_top_up_leaves_no_moment_without_a_live_grant(facilitator_key, monkeypatch):
    """While a half-spent grant is topped up, the old one stays live until the new one
    replaces it in one step: a match served meanwhile (another worker) still places. The
    old grant is closed at what it had left, the rest given back."""
    from campaigns import budget, grants
    from campaigns.api.fast_match import FastMatch
    from campaigns.models import BudgetGrant

    monkeypatch.setattr(FastMatch, "request_finished", lambda self: None)  # test transaction
    monkeypatch.setattr("django.conf.settings.GRANT_MIN_HOLDS", 4)  # low mark: two holds
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=100_000, budget_daily=100_000)
    fast = FastPathClient()
    fast.credentials(HTTP_AUTHORIZATION=f"Bearer {facilitator_key}")
    during = []
    real_take = grants._take

    def take(campaign_id, *args):
        during.append(budget.live_grant(campaign_id))
        if len(during) == 2:  # the top-up: another request placed meanwhile
            assert _post(APIClient(), 99, HTTP_AUTHORIZATION=f"Bearer {facilitator_key}").json()[
                "matched"
            ]
        return real_take(campaign_id, *args)

    monkeypatch.setattr(grants, "_take", take)
    for n in range(3):  # the third takes the first grant below its low mark
        assert _post(fast, n).json()["matched"] is True
    assert during[0] is None  # the day's first grant
    first = BudgetGrant.objects.filter(campaign=campaign).order_by("id").first()
    old_id, _, left = during[1]
    assert old_id == first.id and left == 1 * first.hold_millis  # 4 holds, 3 placed
    first.refresh_from_db()
    assert first.closed_at is not None
    assert first.final_millis == 4 * first.hold_millis  # 3 here, 1 by the other request
    live = budget.live_grant(str(campaign.id))
    assert live[0] == BudgetGrant.objects.get(campaign=campaign, closed_at=None).id
