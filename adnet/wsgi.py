"""WSGI entry point for the production server (uWSGI, configured by adnet/uwsgi.ini).

POST /v1/match is answered by campaigns.api.fast_match when it is well formed; every other
request, and every match it does not take, goes to Django as usual.
"""

import io
import json
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - needs Django set up first
from django.urls import get_resolver  # noqa: E402

from adnet.core import clock, deadline, heap  # noqa: E402
from adnet.core.api_errors import error_body  # noqa: E402
from campaigns import catalog  # noqa: E402
from campaigns.api.fast_match import FastMatch  # noqa: E402

try:  # only inside a uWSGI worker
    import uwsgi
except ImportError:
    uwsgi = None


class ChunkedBodies:
    """Request bodies sent with `Transfer-Encoding: chunked`, decoded before the application
    reads them.

    uWSGI's HTTP socket passes such a body on as it arrived (chunk sizes and all, with no
    CONTENT_LENGTH), so Django would see an empty body. The body is read through uWSGI's
    chunk decoder into memory, at most one byte past the largest body Django accepts
    (DATA_UPLOAD_MAX_MEMORY_SIZE), and handed on with its length: the usual size checks
    then refuse what is too large (413). A malformed or stalled chunked body is a 400 in the
    API's error shape.
    """

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = bytearray()
            try:
                while len(body) <= self.limit:
                    chunk = uwsgi.chunked_read()
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                error = error_body("malformed_body", "The chunked request body could not be read.")
                payload = json.dumps(error).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
                )
                return [payload]
            del environ["HTTP_TRANSFER_ENCODING"]
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(bytes(body))
        return self.app(environ, start_response)


def prepare_worker() -> None:
    """What a server process does once, after importing the application and before its
    first request."""
    # The URL configuration (and every view it imports) now rather than on the first request;
    # then everything imported lives as long as the worker: out of the collector's sight.
    get_resolver().url_patterns  # noqa: B018 - imports them
    heap.freeze_imports()
    # The campaign snapshot too: a worker (re)started under load must not make its first
    # matches wait for it.
    catalog.prepare(clock.now())


# Every request, the fast path's included, under its deadline (adnet.core.deadline).
application = deadline.RequestDeadline(FastMatch(django_application))
if uwsgi is not None:
    application = ChunkedBodies(application, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    prepare_worker()
