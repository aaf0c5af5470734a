"""A real x402 world on loopback, built from the official SDK: facilitator, resource server, agent.

Only the payment scheme is ours: `ledger` settles without a blockchain, and its
transaction hash is a digest of the payment's nonce. Everything around it is the SDK's own
code path: the facilitator (`x402FacilitatorSync` or `x402Facilitator`, with the kit's
after-settle hook) behind a small HTTP front, the resource server's Flask middleware with
its HTTP facilitator client, and the agent's httpx client that answers 402 by paying and
reads the PAYMENT-RESPONSE header.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from flask import Flask, jsonify
from werkzeug.serving import make_server
from x402 import x402Client, x402Facilitator, x402FacilitatorSync, x402ResourceServerSync
from x402.http import (
    PAYMENT_RESPONSE_HEADER,
    FacilitatorConfig,
    HTTPFacilitatorClientSync,
    PaymentOption,
    RouteConfig,
    decode_payment_response_header,
)
from x402.http.clients import x402HttpxClient
from x402.http.middleware.flask import PaymentMiddleware
from x402.schemas import (
    AssetAmount,
    PaymentPayload,
    PaymentRequirements,
    SettleResponse,
    VerifyResponse,
)

SCHEME = "ledger"
NETWORK = "eip155:8453"
USDC = "0x833589fcd6ee4b5b0d1d3c5b0e1e7e0f0a0b0c0d"
PAY_TO = "0x" + "5e" * 20


def tx_hash_of(nonce: str) -> str:
    return "0x" + hashlib.sha256(nonce.encode()).hexdigest()


# --- The scheme: client, server and facilitator sides ------------------------------------


class LedgerClientScheme:
    """The agent's side: a payment is its address and a fresh nonce (no signature)."""

    scheme = SCHEME

    def __init__(self, payer: str):
        self.payer = payer

    def create_payment_payload(self, requirements: PaymentRequirements) -> dict[str, Any]:
        return {"payer": self.payer, "nonce": uuid.uuid4().hex, "amount": requirements.amount}

    def find_default_asset(self, asset: str, network: str) -> dict[str, Any] | None:
        """USDC is this scheme's known asset, so the client's default spend controls apply."""
        if asset.lower() == USDC and network == NETWORK:
            return {"asset": USDC, "symbol": "USDC", "name": "USD Coin", "decimals": 6}
        return None


class LedgerServerScheme:
    """The resource server's side: prices are atomic USDC amounts."""

    scheme = SCHEME
    default_asset_transfer_method = "default"
    payment_flows = {"default": {"supported": ("authorization",), "default": "authorization"}}

    def parse_price(self, price: Any, network: str) -> AssetAmount:
        if isinstance(price, AssetAmount):
            return price
        return AssetAmount(amount=str(price), asset=USDC)

    def enhance_payment_requirements(
        self, requirements: PaymentRequirements, supported_kind: Any, extensions: list[str]
    ) -> PaymentRequirements:
        return requirements


class LedgerFacilitatorScheme:
    """The facilitator's side: a nonce settles once, like a transfer on a chain."""

    scheme = SCHEME
    caip_family = "eip155:*"

    def __init__(self) -> None:
        self.settled: dict[str, str] = {}  # nonce -> transaction hash
        self._lock = threading.Lock()

    def get_extra(self, network: str) -> dict[str, Any] | None:
        return None

    def get_signers(self, network: str) -> list[str]:
        return [PAY_TO]

    def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements, context: Any = None
    ) -> VerifyResponse:
        inner = payload.payload
        if inner.get("amount") != requirements.amount:
            return VerifyResponse(is_valid=False, invalid_reason="amount_mismatch")
        if inner.get("nonce") in self.settled:
            return VerifyResponse(is_valid=False, invalid_reason="nonce_used")
        return VerifyResponse(is_valid=True, payer=inner["payer"])

    def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements, context: Any = None
    ) -> SettleResponse:
        nonce = payload.payload["nonce"]
        with self._lock:
            if nonce in self.settled:
                return SettleResponse(
                    success=False, error_reason="nonce_used", transaction="", network=NETWORK
                )
            self.settled[nonce] = tx_hash_of(nonce)
        return SettleResponse(
            success=True,
            payer=payload.payload["payer"],
            transaction=self.settled[nonce],
            network=requirements.network,
            amount=requirements.amount,
        )


# --- Servers on loopback -----------------------------------------------------------------


class _ThreadedServer:
    def __init__(self, server: Any):
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> _ThreadedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class FacilitatorService:
    """An x402 facilitator on HTTP: POST /verify, POST /settle, GET /supported.

    The SDK ships the facilitator logic, not a server; its own examples put it behind a
    web framework, and this is the same with the standard library. `settle_seconds` records
    how long each settle took inside the facilitator, hook included.
    """

    facilitator: x402Facilitator | x402FacilitatorSync
    settle_seconds: list[float] = field(default_factory=list)
    settled: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        if isinstance(self.facilitator, x402Facilitator):
            # One event loop for the async facilitator, as an ASGI server would have.
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True).start()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/supported":
                    self._reply(404, {"error": "not found"})
                    return
                self._reply(200, service.facilitator.get_supported())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                payload = PaymentPayload.model_validate(body["paymentPayload"])
                requirements = PaymentRequirements.model_validate(body["paymentRequirements"])
                if self.path == "/verify":
                    self._reply(200, service.call("verify", payload, requirements))
                elif self.path == "/settle":
                    started = time.perf_counter()
                    result = service.call("settle", payload, requirements)
                    service.settle_seconds.append(time.perf_counter() - started)
                    wire = result.model_dump(by_alias=True, exclude_none=True)
                    service.settled.append(wire)
                    self._reply(200, wire)
                else:
                    self._reply(404, {"error": "not found"})

            def _reply(self, status: int, model: Any) -> None:
                data = (
                    model.model_dump(by_alias=True, exclude_none=True)
                    if hasattr(model, "model_dump")
                    else model
                )
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._http = _ThreadedServer(server).start()
        self.url = self._http.url

    def call(self, method: str, payload: PaymentPayload, requirements: PaymentRequirements) -> Any:
        bound = getattr(self.facilitator, method)
        if self._loop is None:
            return bound(payload, requirements)
        return asyncio.run_coroutine_threadsafe(bound(payload, requirements), self._loop).result()

    def stop(self) -> None:
        self._http.stop()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)


@dataclass(frozen=True)
class Resource:
    path: str  # where the resource server serves it
    canonical_url: str  # the URL it declares in its payment requirements (what is matched)
    description: str
    price: str  # atomic USDC


class ResourceServer:
    """A Flask app whose routes the SDK's Flask middleware puts behind x402 payments."""

    def __init__(self, facilitator_url: str, resources: list[Resource]):
        app = Flask("x402-resources")
        routes = {}
        for resource in resources:
            app.add_url_rule(
                resource.path,
                endpoint=resource.path,
                view_func=lambda resource=resource: jsonify(served=resource.canonical_url),
            )
            routes[f"GET {resource.path}"] = RouteConfig(
                accepts=PaymentOption(
                    scheme=SCHEME, pay_to=PAY_TO, price=resource.price, network=NETWORK
                ),
                # Behind a proxy a resource declares its public URL; the ad network matches it.
                resource=resource.canonical_url,
                description=resource.description,
                mime_type="application/json",
            )
        facilitator_client = HTTPFacilitatorClientSync(FacilitatorConfig(url=facilitator_url))
        server = x402ResourceServerSync(facilitator_client)
        server.register(NETWORK, LedgerServerScheme())
        PaymentMiddleware(app, routes, server)
        self._http = _ThreadedServer(make_server("127.0.0.1", 0, app, threaded=True)).start()
        self.url = self._http.url
        self.local_url = {r.canonical_url: self.url + r.path for r in resources}

    def stop(self) -> None:
        self._http.stop()


@dataclass
class Paid:
    """One paid request as the agent saw it."""

    status: int
    body: Any
    settlement: SettleResponse | None
    seconds: float

    @property
    def sponsored_access(self) -> dict[str, Any] | None:
        extensions = (self.settlement.extensions or {}) if self.settlement else {}
        return extensions.get("sponsored-access")


class Agent:
    """A paying agent: the SDK's x402 client on httpx, paying with the ledger scheme."""

    def __init__(self, payer: str, resolve: dict[str, str]):
        self.payer = payer
        self.resolve = resolve  # public URL -> where it is served here (a hosts file)
        self._client = x402Client()
        self._client.register(NETWORK, LedgerClientScheme(payer))

    def pay(self, url: str) -> Paid:
        return asyncio.run(self._pay(self.resolve.get(url, url)))

    async def _pay(self, url: str) -> Paid:
        async with x402HttpxClient(self._client, timeout=30) as http:
            started = time.perf_counter()
            response = await http.get(url)
            seconds = time.perf_counter() - started
        header = response.headers.get(PAYMENT_RESPONSE_HEADER)
        settlement = decode_payment_response_header(header) if header else None
        return Paid(response.status_code, response.json(), settlement, seconds)

    @staticmethod
    def fire_beacon(url: str) -> int:
        """What client SDKs do with tracking.impressionBeacon: a plain GET."""
        return httpx.get(url, timeout=10).status_code


class BlackHole:
    """A loopback port that accepts connections and never answers: a hung ad network."""

    def __init__(self) -> None:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def stop(self) -> None:
        self._sock.close()
