"""A Redis that hangs on an open connection: a task publish fails within its socket timeout
instead of holding the request until Redis answers again."""

import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from kombu import Connection
from kombu.exceptions import OperationalError

from tests.support.frozen_proxy import FrozenProxy

pytestmark = pytest.mark.redis


def test_a_publish_to_a_hung_redis_fails_within_its_socket_timeout():
    target = urlsplit(settings.REDIS_URL)
    proxy = FrozenProxy(target.hostname or "127.0.0.1", target.port or 6379)
    queue = f"test-hung-{uuid.uuid4().hex}"
    url = f"redis://127.0.0.1:{proxy.port}/0"
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        with Connection(url, transport_options=options) as conn:
            producer = conn.Producer()
            producer.publish({"n": 1}, routing_key=queue)
            proxy.freeze()
            thaw = threading.Timer(8.0, proxy.thaw)  # what an unbounded publish waits for
            thaw.start()
            started = time.monotonic()
            with pytest.raises((OperationalError, redis.RedisError)):
                producer.publish({"n": 2}, routing_key=queue)
            elapsed = time.monotonic() - started
            thaw.cancel()
    finally:
        proxy.close()
        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
    assert elapsed < options["socket_timeout"] + 0.5
