"""A PostgreSQL that hangs on established connections (issue 29, "Fast failure everywhere").

The web server (real uWSGI, two workers) reaches PostgreSQL through a proxy that freezes:
connections stay open and what is sent is ACKed, but nothing comes back, so neither TCP
keepalives nor a server-side statement timeout can help. Every request must answer
within 3 s with the right status: 503 in the error shape for what needs the database,
/healthz 200 saying "down", /readyz 503, the beacon its 204, /v1/ping 200. Thawed, the same
server answers everything normally again, without a restart.
"""

import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from campaigns import services as campaign_services
from facilitators import services as facilitator_services
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address, settlement
from tests.support import procs, stalls
from tests.support.frozen_proxy import FrozenProxy
from tests.support.journal import written

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ANSWER_WITHIN = 3.0  # seconds, the machine's own stalls discounted (tests/support/stalls.py)
NETWORK = "eip155:8453"
RESOURCE = "https://api.example.com/v1/quote"


@pytest.fixture
def proxy():
    settings_dict = connection.settings_dict
    proxy = FrozenProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432))
    yield proxy
    proxy.close()


def requests_of_every_kind() -> dict[str, dict]:
    """name: the request, with the status it gets while PostgreSQL is hung and once it is back."""
    facilitator = FacilitatorFactory()
    key = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key
    CampaignFactory()
    placed = campaign_services.match_settlement(
        facilitator_id=facilitator.id,
        settlement=settlement(RESOURCE, evm_address(0x51), network=NETWORK),
        settled_amount=10_000,
        tx_hash="0x" + "51" * 32,
    )
    assert placed.placement is not None
    written()
    operator = get_user_model().objects.create_superuser("operator", "op@example.org", "x")
    browser = Client()
    browser.force_login(operator)
    session = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    event = {
        "txHash": "0x" + "52" * 32,
        "network": NETWORK,
        "resource": {"url": RESOURCE},
        "payer": evm_address(0x52),
        "settledAmount": "1",
        "timestamp": "2026-01-01T00:00:00Z",
    }
    match = {
        "resourceUrl": RESOURCE,
        "network": NETWORK,
        "payerWallet": evm_address(0x53),
        "settledAmount": "10000",
    }
    beacon = f"/v1/track/impression/{placed.token}"
    return {
        "match": {
            "args": ("POST", "/v1/match"),
            "body": match,
            "key": key,
            "hung": 503,
            "back": 200,
        },
        "events": {
            "args": ("POST", "/v1/events"),
            "body": event,
            "key": key,
            "hung": 503,
            "back": 202,
        },
        "admin": {
            "args": ("GET", "/admin/campaigns/campaign/"),
            "headers": session,
            "hung": 503,
            "back": 200,
        },
        "healthz": {"args": ("GET", "/healthz"), "hung": 200, "back": 200},
        "readyz": {"args": ("GET", "/readyz"), "hung": 503, "back": 200},
        "metrics": {"args": ("GET", "/metrics"), "hung": 200, "back": 200},
        "ping": {"args": ("GET", "/v1/ping"), "hung": 200, "back": 200},
        "beacon": {"args": ("GET", beacon), "hung": 204, "back": 204},
    }


def send(port: int, call: dict, machine: stalls.MachineStalls) -> tuple[int, dict | None, float]:
    """(status, body, seconds of its own: the machine's stalls discounted)"""
    started = time.perf_counter()
    status, body, elapsed = procs.request(
        port,
        *call["args"],
        body=call.get("body"),
        key=call.get("key"),
        headers=call.get("headers"),
        timeout=30,
    )
    return status, body, elapsed - machine.held_during(started, started + elapsed)


def test_a_hung_database_costs_each_request_at_most_3_s_and_then_recovers(stack, proxy):
    calls = requests_of_every_kind()
    through_proxy = procs.database_url(connection.settings_dict, host="127.0.0.1", port=proxy.port)
    port = stack.start_web({**stack.env, "DATABASE_URL": through_proxy})
    with stalls.MachineStalls(connection.settings_dict) as machine:
        # Both workers hold a connection to PostgreSQL (kept for CONN_MAX_AGE) when it hangs.
        for _ in range(3):
            for name, call in calls.items():
                status, body, _ = send(port, call, machine)
                assert status == call["back"], (name, body)
        time.sleep(2.5)  # the workers' cached API keys expire: the key is looked up again

        proxy.freeze()
        slow = []
        for round_ in range(2):  # first on the held connections, then on fresh ones
            for name, call in calls.items():
                status, body, own = send(port, call, machine)
                print(f"hung, round {round_}: {name} -> {status} in {own * 1000:.0f} ms")
                assert status == call["hung"], (name, body)
                if status == 503 and name != "readyz":
                    assert body["error"]["code"] == "service_unavailable", (name, body)
                    assert set(body["error"]) == {"code", "message", "details"}
                if name in ("healthz", "readyz"):
                    assert body["status"] == "down", body
                    assert body["parts"]["database"]["status"] == "down", body
                if name == "metrics":
                    assert "\nadnet_health 2.0\n" in body["raw"]
                if own >= ANSWER_WITHIN:
                    slow.append((name, round(own, 2)))
        assert not slow, f"answered in 3 s or more: {slow}"

        proxy.thaw()
        started = time.monotonic()
        # Each worker tries the database again at most DB_RETRY_AFTER_MS after it last gave up.
        for name, call in calls.items():
            procs.wait_for(
                lambda call=call: send(port, call, machine)[0] == call["back"],
                timeout=30,
                what=f"{name} to answer {call['back']} again",
            )
        print(f"thawed: everything answered again after {time.monotonic() - started:.1f} s")
        # Past every worker's DB_RETRY_AFTER_MS (1 s), whichever worker answers, all is well.
        time.sleep(max(0.0, started + 1.0 - time.monotonic()))
        for _ in range(2):
            for name, call in calls.items():
                status, body, own = send(port, call, machine)
                assert status == call["back"], (name, body)
                assert own < ANSWER_WITHIN, (name, own)
        _, live, _ = procs.request(port, "GET", "/healthz")
        assert live["parts"]["database"]["status"] == "ok", live
