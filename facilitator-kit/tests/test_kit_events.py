"""Settlement events: never blocking, batched, bounded with drop-oldest, retried, flushed."""

import threading
import time

from kit_fake_network import FakeNetwork, closed_port_url

from adnet_facilitator import AdNetworkClient
from adnet_facilitator.events import Delivery, EventSender

KEY = "adnfac_test_key"
MATCHABLE = {
    "resource_url": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payer_wallet": "0x" + "ab" * 20,
    "settled_amount": "10000",
}


def event(n: int) -> dict:
    return {
        "tx_hash": "0x" + f"{n:064x}",
        "network": "eip155:8453",
        "resource_url": "https://api.example.com/v1/quote",
        "payer": "0x" + "ab" * 20,
        "settled_amount": "10000",
        "campaign_id": "7d0c54a4-7f1c-4a4b-9d7e-1f6a4d1f2b11",
        "impression_token": f"tok{n}",
    }


def test_events_go_in_batches_of_at_most_500_in_order():
    with FakeNetwork() as net:
        client = AdNetworkClient(net.url, KEY, event_linger=0.5)
        for n in range(1200):
            client.send_event(**event(n))
        assert client.flush(timeout=10)
        client.close()

    batches = net.bodies("/v1/events")
    assert [len(b) for b in batches] == [500, 500, 200]
    sent = [e["txHash"] for batch in batches for e in batch]
    assert sent == ["0x" + f"{n:064x}" for n in range(1200)]
    assert client.stats().events.sent == 1200
    first = batches[0][0]
    assert first["resource"] == {"url": "https://api.example.com/v1/quote"}
    assert first["settledAmount"] == "10000"
    assert first["impressionToken"] == "tok0"
    assert first["timestamp"].endswith("Z")


def test_send_event_does_not_wait_for_a_slow_network():
    with FakeNetwork() as net:
        net.delay = 0.5
        client = AdNetworkClient(net.url, KEY, event_linger=0)
        started = time.perf_counter()
        for n in range(100):
            client.send_event(**event(n))
        assert time.perf_counter() - started < 0.1
        assert client.close(timeout=5)
    assert sum(len(b) for b in net.bodies("/v1/events")) == 100


def test_a_full_queue_drops_the_oldest_and_counts_them():
    release = threading.Event()
    delivered: list[list[dict]] = []

    def send(batch):
        release.wait(5)  # the network is stuck until the test lets go
        delivered.append(batch)
        return Delivery()

    sender = EventSender(send, max_queue=10, batch_size=5, linger=0)
    sender.put({"n": 0})
    time.sleep(0.1)  # event 0 is now in flight, the queue is empty
    for n in range(1, 26):
        sender.put({"n": n})
    stats = sender.stats()
    assert (stats.queued, stats.dropped) == (10, 15)

    release.set()
    assert sender.flush(timeout=5)
    assert [e["n"] for b in delivered for e in b] == [0, *range(16, 26)]
    assert sender.stats().sent == 11


def test_transient_failures_are_retried_then_given_up():
    attempts: list[int] = []

    def send(batch):
        attempts.append(len(batch))
        return Delivery(retry=batch) if len(attempts) < 3 else Delivery()

    sender = EventSender(send, linger=0, backoff=0.01)
    sender.put({"n": 1})
    assert sender.flush(timeout=5)
    assert attempts == [1, 1, 1]
    assert sender.stats().sent == 1

    with AdNetworkClient(closed_port_url(), KEY, event_linger=0, event_max_attempts=2) as client:
        client._events._backoff = 0.01
        client.send_event(**event(1))
        client.flush(timeout=5)
        assert client.stats().events.failed == 1


def test_invalid_events_are_dropped_and_the_rest_of_the_batch_sent_again():
    def events_answer(body):
        bad = {str(i): {"payer": ["bad"]} for i, e in enumerate(body) if e["payer"] == "0xbad"}
        if bad:
            return 400, {"error": {"code": "validation_error", "message": "x", "details": bad}}
        return 202, {"accepted": True}

    with FakeNetwork() as net:
        net.handlers["/v1/events"] = events_answer
        client = AdNetworkClient(net.url, KEY, event_linger=0.3)
        for n in range(5):
            client.send_event(**{**event(n), "payer": "0xbad" if n == 2 else "0x" + "ab" * 20})
        assert client.close(timeout=5)

    batches = net.bodies("/v1/events")
    assert [len(b) for b in batches] == [5, 4]
    stats = client.stats().events
    assert (stats.sent, stats.rejected) == (4, 1)


def test_a_refused_key_rejects_the_batch_without_retrying():
    with FakeNetwork() as net:
        net.handlers["/v1/events"] = lambda body: (401, {"error": {"code": "unauthenticated"}})
        client = AdNetworkClient(net.url, KEY, event_linger=0)
        client.send_event(**event(1))
        client.close(timeout=5)
    assert len(net.bodies("/v1/events")) == 1
    assert client.stats().events.rejected == 1


def test_close_bounds_the_wait_when_the_network_is_away():
    with AdNetworkClient(closed_port_url(), KEY, event_linger=0) as client:
        for n in range(3):
            client.send_event(**event(n))
        started = time.perf_counter()
        client.close(timeout=0.5)
        assert time.perf_counter() - started < 1.5
        assert client.stats().events.failed == 3


def test_a_forked_child_matches_and_sends_its_own_events():
    """gunicorn --preload forks workers after the client exists: the child needs its own
    match pool (the parent's idle worker thread does not exist there) and event sender."""
    import os

    with FakeNetwork() as net:
        client = AdNetworkClient(net.url, KEY, event_linger=0, match_timeout=1)
        assert client.match(**MATCHABLE) is not None  # the parent's pool has an idle thread
        client.send_event(**event(1))  # and its sender thread is running
        assert client.flush(timeout=5)
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 only if it matched and sent its event
            ok = False
            try:
                client.send_event(**event(2))
                ok = (
                    client.match(**MATCHABLE) is not None
                    and client.flush(timeout=5)
                    and client.stats().events.sent == 2
                )
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        client.close()
        assert os.waitstatus_to_exitcode(status) == 0
        sent = [e["txHash"] for batch in net.bodies("/v1/events") for e in batch]
        assert sent == ["0x" + f"{1:064x}", "0x" + f"{2:064x}"]
