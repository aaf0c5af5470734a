"""The client of the ad network's facilitator API: match, events and conversions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import http.client
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from adnet_facilitator._http import Response, Transport
from adnet_facilitator._version import __version__
from adnet_facilitator.events import (
    MAX_BATCH,
    Delivery,
    EventSender,
    EventStats,
    reset_in_forked_children,
)

logger = logging.getLogger("adnet_facilitator")

DEFAULT_MATCH_TIMEOUT = 2.0  # seconds; the wire contract's bound: a slow answer is a lost placement
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
_WARN_EVERY = 30.0  # seconds between two warnings of one kind about match failures


@dataclass(frozen=True)
class Recommendation:
    resource_url: str
    description: str
    sponsor: str
    bazaar_id: str | None = None
    price: str | None = None
    currency: str | None = None

    def to_wire(self) -> dict[str, str]:
        """The compatible recommendation; the optional fields only when the network sent them."""
        wire = {
            "resourceUrl": self.resource_url,
            "description": self.description,
            "sponsor": self.sponsor,
        }
        for key, value in (
            ("bazaarId", self.bazaar_id),
            ("price", self.price),
            ("currency", self.currency),
        ):
            if value is not None:
                wire[key] = value
        return wire


@dataclass(frozen=True)
class Match:
    """A sponsored recommendation for one settlement (the network's `matched: true` answer)."""

    campaign_id: str | None
    recommendation: Recommendation
    impression_beacon: str
    conversion_resource: str
    impression_token: str | None

    def sponsored_access(self) -> dict[str, Any]:
        """`extensions["sponsored-access"]` of the settlement response (wire-contract §3)."""
        return {
            "delivered": True,
            "recommendations": [self.recommendation.to_wire()],
            "tracking": {
                "impressionBeacon": self.impression_beacon,
                "conversionResource": self.conversion_resource,
            },
        }


@dataclass(frozen=True)
class ClientStats:
    matched: int  # matches answered with a recommendation
    unmatched: int  # answered {"matched": false}
    match_failures: int  # refused, errors, unreadable answers
    match_timeouts: int  # no answer within the match timeout
    match_skipped: int  # not asked: the breaker was open after repeated failures
    events: EventStats


class AdNetworkClient:
    """Talks to one ad network with one facilitator key. Thread-safe; share one per process.

    `match` is for the settle path: it returns within `match_timeout` seconds whatever the
    network does, and returns None instead of raising. After `breaker_threshold` failures
    in a row it stops asking for `breaker_cooldown` seconds, so a network that is down
    costs the settlements nothing at all rather than a timeout each. `send_event` only
    queues. Call `close()` (or use `with`) at shutdown to flush the queued events.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        match_timeout: float = DEFAULT_MATCH_TIMEOUT,
        request_timeout: float = 10.0,
        match_workers: int = 8,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 10.0,
        max_queued_events: int = 10_000,
        event_batch_size: int = MAX_BATCH,
        event_linger: float = 0.25,
        event_max_attempts: int = 5,
    ):
        self._transport = Transport(
            base_url, api_key, user_agent=f"adnet-facilitator/{__version__}"
        )
        self.match_timeout = match_timeout
        self.request_timeout = request_timeout
        self._match_workers = match_workers
        self._breaker_threshold = breaker_threshold
        self._breaker_cooldown = breaker_cooldown
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False
        self._consecutive_failures = 0
        self._breaker_open_until = 0.0
        self._matched = self._unmatched = self._failures = self._timeouts = self._skipped = 0
        self._warned_at: dict[str, float] = {}
        self._events = EventSender(
            self._post_events,
            max_queue=max_queued_events,
            batch_size=event_batch_size,
            linger=event_linger,
            max_attempts=event_max_attempts,
        )
        reset_in_forked_children(self)

    def _after_fork(self) -> None:
        # A forked child (gunicorn --preload, Celery prefork) has none of the parent's
        # threads: a new pool, and no connection shared with the parent.
        self._lock = threading.Lock()
        self._executor = None
        self._transport.forget_connections()

    def __enter__(self) -> AdNetworkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- POST /v1/match ------------------------------------------------------------------

    def match(
        self,
        *,
        resource_url: str,
        network: str,
        payer_wallet: str,
        settled_amount: str | int,
        resource_description: str | None = None,
        transport: str | None = None,
        tx_hash: str | None = None,
        timeout: float | None = None,
    ) -> Match | None:
        """A recommendation for this settlement, or None (no match, failure or timeout)."""
        body = _match_body(
            resource_url,
            network,
            payer_wallet,
            settled_amount,
            resource_description,
            transport,
            tx_hash,
        )
        deadline = time.monotonic() + (self.match_timeout if timeout is None else timeout)
        future = self._submit_match(body, deadline)
        if future is None:
            return None
        try:
            outcome = future.result(timeout=max(deadline - time.monotonic(), 0))
        except concurrent.futures.TimeoutError:
            future.cancel()
            return self._record(_TIMEOUT)
        return self._record(outcome)

    async def match_async(
        self,
        *,
        resource_url: str,
        network: str,
        payer_wallet: str,
        settled_amount: str | int,
        resource_description: str | None = None,
        transport: str | None = None,
        tx_hash: str | None = None,
        timeout: float | None = None,
    ) -> Match | None:
        """`match` for an event loop: the request runs on a worker thread, the loop never blocks."""
        body = _match_body(
            resource_url,
            network,
            payer_wallet,
            settled_amount,
            resource_description,
            transport,
            tx_hash,
        )
        deadline = time.monotonic() + (self.match_timeout if timeout is None else timeout)
        future = self._submit_match(body, deadline)
        if future is None:
            return None
        try:
            outcome = await asyncio.wait_for(
                asyncio.wrap_future(future), max(deadline - time.monotonic(), 0)
            )
        except asyncio.TimeoutError:
            future.cancel()
            return self._record(_TIMEOUT)
        return self._record(outcome)

    def _submit_match(
        self, body: dict[str, Any], deadline: float
    ) -> concurrent.futures.Future[_Outcome] | None:
        with self._lock:
            if self._closed:
                return None
            if time.monotonic() < self._breaker_open_until:
                self._skipped += 1
                return None
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._match_workers, thread_name_prefix="adnet-match"
                )
            executor = self._executor
        try:
            return executor.submit(self._match_call, body, deadline)
        except RuntimeError:  # shut down by close()
            return None

    def _match_call(self, body: dict[str, Any], deadline: float) -> _Outcome:
        try:
            return self._ask_for_match(body, deadline)
        except Exception:  # a bug here must still not reach the settle path
            logger.exception("adnet: match failed unexpectedly")
            return _Outcome("failure")

    def _ask_for_match(self, body: dict[str, Any], deadline: float) -> _Outcome:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            # Queued behind slow calls until its caller gave up: asking now would only hold
            # budget for a recommendation nobody will see.
            return _TIMEOUT
        try:
            response = self._transport.post_json("/v1/match", body, timeout=remaining)
        except TimeoutError:
            return _TIMEOUT
        except (OSError, http.client.HTTPException) as exc:
            return _Outcome("failure", network_fault=True, detail=f"match failed: {exc}")
        return _parse_match(response)

    def _record(self, outcome: _Outcome) -> Match | None:
        with self._lock:
            if outcome.kind == "matched":
                self._matched += 1
            elif outcome.kind == "unmatched":
                self._unmatched += 1
            elif outcome.kind == "timeout":
                self._timeouts += 1
            else:
                self._failures += 1
            if outcome.kind == "timeout" or outcome.network_fault:
                self._consecutive_failures += 1
                if self._consecutive_failures >= self._breaker_threshold:
                    self._breaker_open_until = time.monotonic() + self._breaker_cooldown
                    self._warn(
                        "breaker",
                        "adnet: %d match failures in a row; not asking for %.0f s",
                        self._consecutive_failures,
                        self._breaker_cooldown,
                    )
            else:
                self._consecutive_failures = 0
            if outcome.kind == "timeout":
                self._warn("timeout", "adnet: no match answer within the timeout")
            elif outcome.detail:
                self._warn(outcome.kind, "adnet: %s", outcome.detail)
        return outcome.match

    def _warn(self, kind: str, message: str, *args: object) -> None:
        """A warning per kind at most every 30 s: a sick network must not flood the logs of
        a facilitator settling thousands of payments a second. Called under self._lock."""
        now = time.monotonic()
        if now - self._warned_at.get(kind, -_WARN_EVERY) >= _WARN_EVERY:
            self._warned_at[kind] = now
            logger.warning(message, *args)
        else:
            logger.debug(message, *args)

    # --- POST /v1/events -----------------------------------------------------------------

    def send_event(
        self,
        *,
        tx_hash: str,
        network: str,
        resource_url: str,
        payer: str,
        settled_amount: str | int,
        campaign_id: str | None = None,
        impression_token: str | None = None,
        timestamp: dt.datetime | None = None,
        resource_description: str | None = None,
        mime_type: str | None = None,
    ) -> None:
        """Queue the settlement that carried a recommendation; returns at once, never raises."""
        resource: dict[str, str] = {"url": resource_url}
        if resource_description:
            resource["description"] = resource_description
        if mime_type:
            resource["mimeType"] = mime_type
        event: dict[str, Any] = {
            "txHash": tx_hash,
            "network": network,
            "resource": resource,
            "payer": payer,
            "settledAmount": str(settled_amount),
            "timestamp": _iso(timestamp),
        }
        if campaign_id:
            event["campaignId"] = campaign_id
        if impression_token:
            event["impressionToken"] = impression_token
        self._events.put(event)

    def _post_events(self, batch: list[dict[str, Any]]) -> Delivery:
        try:
            response = self._transport.post_json("/v1/events", batch, timeout=self.request_timeout)
        except (OSError, http.client.HTTPException) as exc:
            logger.warning("adnet: sending %d events failed: %s", len(batch), exc)
            return Delivery(retry=batch)
        if response.status == 202:
            return Delivery()
        if response.status in _RETRYABLE:
            return Delivery(retry=batch)
        bad = _invalid_indexes(response, len(batch))
        if response.status == 400 and bad and len(bad) < len(batch):
            # One invalid event rejects the whole batch; send the valid ones again at once.
            logger.warning("adnet: the network refused %d events: %s", len(bad), response.body)
            rest = [event for i, event in enumerate(batch) if i not in bad]
            delivery = self._post_events(rest)
            return Delivery(retry=delivery.retry, rejected=delivery.rejected + len(bad))
        logger.error(
            "adnet: the network refused %d events (HTTP %d): %s",
            len(batch),
            response.status,
            response.body,
        )
        return Delivery(rejected=len(batch))

    # --- POST /v1/conversions ------------------------------------------------------------

    def report_conversion(
        self,
        *,
        original_tx_hash: str,
        conversion_tx_hash: str,
        network: str,
        payer: str,
        resource_url: str,
        settled_amount: str | int,
        timestamp: dt.datetime | None = None,
        impression_token: str | None = None,
        timeout: float | None = None,
    ) -> str | None:
        """Report a conversion this facilitator tracked; the reportId, or None if it failed.

        Safe to repeat: the network answers a replay with the same reportId. Not for the
        settle path: it waits for the answer (up to `request_timeout`).
        """
        body: dict[str, Any] = {
            "originalTxHash": original_tx_hash,
            "conversionTxHash": conversion_tx_hash,
            "network": network,
            "payer": payer,
            "resourceUrl": resource_url,
            "settledAmount": str(settled_amount),
            "timestamp": _iso(timestamp),
        }
        if impression_token:
            body["impressionToken"] = impression_token
        try:
            response = self._transport.post_json(
                "/v1/conversions",
                body,
                timeout=self.request_timeout if timeout is None else timeout,
            )
        except (OSError, http.client.HTTPException) as exc:
            logger.warning("adnet: reporting a conversion failed: %s", exc)
            return None
        if response.status == 202 and isinstance(response.body, dict):
            report_id = response.body.get("reportId")
            return str(report_id) if report_id else None
        logger.warning(
            "adnet: the network refused a conversion (HTTP %d): %s", response.status, response.body
        )
        return None

    # --- lifecycle -----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was sent (or given up); True if the queue drained."""
        return self._events.flush(timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Flush the events for at most `timeout` seconds and stop the background threads."""
        drained = self._events.close(timeout)
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        self._transport.close()
        return drained

    def stats(self) -> ClientStats:
        with self._lock:
            return ClientStats(
                matched=self._matched,
                unmatched=self._unmatched,
                match_failures=self._failures,
                match_timeouts=self._timeouts,
                match_skipped=self._skipped,
                events=self._events.stats(),
            )


@dataclass(frozen=True)
class _Outcome:
    kind: str  # matched | unmatched | failure | timeout
    match: Match | None = None
    network_fault: bool = False  # counts towards the breaker: the network is away or sick
    detail: str = ""  # what went wrong, for the log


_TIMEOUT = _Outcome("timeout")


def _match_body(
    resource_url: str,
    network: str,
    payer_wallet: str,
    settled_amount: str | int,
    resource_description: str | None,
    transport: str | None,
    tx_hash: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceUrl": resource_url,
        "network": network,
        "payerWallet": payer_wallet,
        "settledAmount": str(settled_amount),
    }
    if resource_description:
        body["resourceDescription"] = resource_description
    if transport:
        body["transport"] = transport
    if tx_hash:
        body["txHash"] = tx_hash
    return body


def _parse_match(response: Response) -> _Outcome:
    if response.status != 200 or not isinstance(response.body, dict):
        if response.status in _RETRYABLE:
            return _Outcome(
                "failure", network_fault=True, detail=f"match answered HTTP {response.status}"
            )
        # 400 (this settlement is not matchable) or 401 (the key): the network is healthy.
        return _Outcome(
            "failure", detail=f"match refused (HTTP {response.status}): {response.body}"
        )
    body = response.body
    if body.get("matched") is not True:
        return _Outcome("unmatched")
    rec = body.get("recommendation")
    strings = (
        isinstance(rec, dict)
        and all(isinstance(rec.get(k), str) for k in ("resourceUrl", "description", "sponsor"))
        and isinstance(body.get("impressionBeacon"), str)
        and isinstance(body.get("conversionResource"), str)
    )
    if not strings:
        return _Outcome("failure", detail=f"match answer without a usable recommendation: {body}")

    def optional(key: str) -> str | None:
        value = rec.get(key)
        return str(value) if value not in (None, "") else None

    match = Match(
        campaign_id=str(body["campaignId"]) if body.get("campaignId") else None,
        recommendation=Recommendation(
            resource_url=rec["resourceUrl"],
            description=rec["description"],
            sponsor=rec["sponsor"],
            bazaar_id=optional("bazaarId"),
            price=optional("price"),
            currency=optional("currency"),
        ),
        impression_beacon=body["impressionBeacon"],
        conversion_resource=body["conversionResource"],
        impression_token=str(body["impressionToken"]) if body.get("impressionToken") else None,
    )
    return _Outcome("matched", match=match)


def _invalid_indexes(response: Response, size: int) -> set[int]:
    """The positions of the invalid events in a refused batch (the error's details keys)."""
    body = response.body
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, dict):
        return set()
    indexes = {int(key) for key in details if str(key).isdigit()}
    return {i for i in indexes if i < size}


def _iso(moment: dt.datetime | None) -> str:
    moment = moment or dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")
