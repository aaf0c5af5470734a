"""A small JSON-RPC 2.0 client over HTTP, batched, with a hard timeout (standard library only)."""

import itertools
import json
import urllib.error
import urllib.request
from typing import Any

_ids = itertools.count(1)


class RpcUnavailable(Exception):
    """The node could not be asked, or did not answer well: try again later."""


class RpcError(Exception):
    """The node answered a call with a JSON-RPC error."""

    def __init__(self, method: str, error: object):
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


def call_batch(url: str, calls: list[tuple[str, list]], timeout: float) -> list[Any]:
    """The results of `calls` ([(method, params)]) in their order, from one HTTP request."""
    if not calls:
        return []
    requests = [
        {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params}
        for method, params in calls
    ]
    body = json.dumps(requests).encode()
    http_request = urllib.request.Request(  # noqa: S310 - the operator configures the URL
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read())
    except (OSError, ValueError) as exc:  # refused, timed out, HTTP error, not JSON
        raise RpcUnavailable(f"{url}: {exc}") from exc
    if not isinstance(answer, list):
        raise RpcUnavailable(f"{url}: a batch answered with {type(answer).__name__}")
    by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
    results = []
    for request in requests:
        item = by_id.get(request["id"])
        if item is None:
            raise RpcUnavailable(f"{url}: no answer to {request['method']}")
        if item.get("error") is not None:
            raise RpcError(request["method"], item["error"])
        results.append(item.get("result"))
    return results


def call(url: str, method: str, params: list, timeout: float) -> Any:
    return call_batch(url, [(method, params)], timeout)[0]
