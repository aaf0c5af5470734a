"""Solana evidence, judged from getTransaction answers served by a local JSON-RPC stand-in.

No Solana validator runs here, so the answers are fixed documents in Solana's `jsonParsed`
shape (evidence/tests/recorded/); the stand-in serves them over HTTP as a node would,
batches included, so the client's requests are real."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evidence import chains, rpc, solana
from evidence.facts import Claim
from evidence.judge import Outcome, Reason

RECORDED = json.loads(
    (Path(__file__).parent / "recorded" / "solana_get_transaction.json").read_text()
)
NETWORK = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
SIGS = RECORDED["signatures"]


class _Node(BaseHTTPRequestHandler):
    asked: list = []

    def do_POST(self):
        calls = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).asked.append(calls)
        answers = [
            {"jsonrpc": "2.0", "id": c["id"], "result": RECORDED["answers"].get(c["params"][0])}
            for c in calls
        ]
        body = json.dumps(answers).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def node():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def solana_settings(settings, node):
    settings.CHAIN_RPC_URLS = {NETWORK: node}
    settings.CHAIN_ASSETS = {}
    return settings


def claim(signature: str, amount: int = 10_000) -> Claim:
    at = dt.datetime.fromtimestamp(RECORDED["answers"][SIGS["paid"]]["blockTime"], dt.UTC)
    return Claim(
        network=NETWORK,
        tx_hash=signature,
        payer=RECORDED["payer"],
        amount=amount,
        asset=RECORDED["mint"],
        pay_to=frozenset({RECORDED["merchant"]}),
        not_before=at - dt.timedelta(minutes=5),
        not_after=at + dt.timedelta(minutes=5),
    )


def test_a_usdc_payment_is_proven(solana_settings):
    c = claim(SIGS["paid"])
    verdict = chains.verify([c])[c]
    assert (verdict.outcome, verdict.paid) == (Outcome.PROVEN, 10_000)


def test_a_transfer_inside_another_program_counts(solana_settings):
    c = claim(SIGS["inner"])
    assert chains.verify([c])[c].proven


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (SIGS["failed"], Reason.FAILED),
        (SIGS["short"], Reason.AMOUNT_SHORT),
        (SIGS["elsewhere"], Reason.WRONG_RECIPIENT),
        ("5" * 88, Reason.NOT_FOUND),
    ],
)
def test_what_the_chain_contradicts_is_never_proven(solana_settings, signature, reason):
    c = claim(signature)
    verdict = chains.verify([c])[c]
    assert not verdict.proven
    assert verdict.reason is reason


def test_signatures_are_asked_in_one_batch_at_finalized(node):
    _Node.asked.clear()
    seen = solana.observe(node, list(SIGS.values()), timeout=5)
    assert len(_Node.asked) == 1
    assert {c["params"][1]["commitment"] for c in _Node.asked[0]} == {"finalized"}
    assert all(seen[s].found for s in SIGS.values())


def test_an_unreachable_node_decides_nothing(settings):
    settings.CHAIN_RPC_URLS = {NETWORK: "http://127.0.0.1:9"}
    c = claim(SIGS["paid"])
    assert chains.verify([c]) == {}
    with pytest.raises(rpc.RpcUnavailable):
        solana.observe("http://127.0.0.1:9", [SIGS["paid"]], timeout=2)
