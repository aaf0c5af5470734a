"""The per-second loops (adnet.loops, `manage.py runloops`): errors, backoff, stop, last success,
and a beat schedule left with minute-scale work only."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings

from adnet import loops
from adnet.core import heartbeats
from tests.test_metrics import scrape, value

REPO_ROOT = Path(__file__).resolve().parent.parent

# run_loop drops broken or old database connections around each run, as the worker does.
pytestmark = pytest.mark.django_db


class CountingStop:
    """A stop event that records each wait and is set after `waits` of them: drives
    `run_loop` in the test's own thread without sleeping."""

    def __init__(self, waits: int):
        self.waits: list[float] = []
        self.limit = waits

    def is_set(self) -> bool:
        return len(self.waits) >= self.limit

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return self.is_set()


def flaky(failures: int):
    """A run that raises `failures` times, then succeeds; `calls` counts every run."""
    state = {"calls": 0}

    def run():
        state["calls"] += 1
        if state["calls"] <= failures:
            raise RuntimeError(f"failure {state['calls']}")

    return run, state


def test_an_error_is_logged_and_the_loop_goes_on(caplog):
    run, state = flaky(failures=2)
    loop = loops.Loop("test-flaky", 1.0, run)
    stop = CountingStop(waits=4)
    loops.run_loop(loop, stop)
    assert state["calls"] == 4  # the two failures did not end it
    assert caplog.text.count("loop test-flaky failed") == 2
    assert "RuntimeError: failure 2" in caplog.text
    assert "loop test-flaky recovered" in caplog.text
    assert heartbeats.loop_last_success("test-flaky") is not None


def test_repeated_failures_back_off_doubling_up_to_the_ceiling_then_reset(settings):
    settings.LOOPS_MAX_BACKOFF_SECONDS = 10
    run, _ = flaky(failures=5)
    stop = CountingStop(waits=7)
    loops.run_loop(loops.Loop("test-backoff", 1.5, run), stop)
    # Five failures in a row: 3, 6, then the 10 s ceiling; success: the interval again.
    assert stop.waits == [3.0, 6.0, 10.0, 10.0, 10.0, 1.5, 1.5]


def test_backoff_never_waits_less_than_the_interval(settings):
    settings.LOOPS_MAX_BACKOFF_SECONDS = 5
    assert loops.backoff(15.0, 0) == 15.0
    assert loops.backoff(15.0, 3) == 15.0
    assert loops.backoff(1.0, 100) == 5.0


def test_only_a_success_is_recorded_as_the_last_success():
    run, _ = flaky(failures=1)
    loops.run_loop(loops.Loop("test-failing", 1.0, run), CountingStop(waits=1))
    assert heartbeats.loop_last_success("test-failing") is None
    before = dt.datetime.now(dt.UTC)
    loops.run_loop(loops.Loop("test-failing", 1.0, run), CountingStop(waits=1))
    at = heartbeats.loop_last_success("test-failing")
    assert at is not None and before <= at <= dt.datetime.now(dt.UTC)


def test_stop_ends_every_loop_after_its_current_run():
    stop = threading.Event()
    entered, release = threading.Event(), threading.Event()
    finished = []

    def slow():
        entered.set()
        release.wait(5)
        finished.append(True)

    threads = loops.start(
        [
            loops.Loop("test-slow", 3600.0, slow),
            loops.Loop("test-quick", 3600.0, lambda: None),
            loops.Loop("test-disabled", 0.01, lambda: None, enabled=lambda: False),
        ],
        stop,
    )
    assert [t.name for t in threads] == ["loop:test-slow", "loop:test-quick"]
    assert entered.wait(5)
    stop.set()
    release.set()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
    assert finished == [True]  # the run under way was finished, not cut off
    assert heartbeats.loop_last_success("test-disabled") is None


def test_metrics_publish_each_loops_last_success():
    at = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    heartbeats.record_loop_success("sweep-event-inbox", at)
    samples = scrape()
    assert value(
        samples, "adnet_loop_last_success_timestamp_seconds", loop="sweep-event-inbox"
    ) == (at.timestamp())
    # A loop that never ran has no sample (absent, as alerting expects), not a zero.
    never = ("adnet_loop_last_success_timestamp_seconds", (("loop", "drain-match-journal"),))
    assert never not in samples


def test_every_loop_has_an_interval_and_the_registry_names_each_once():
    names = [loop.name for loop in loops.registry()]
    assert sorted(names) == sorted(settings.LOOP_INTERVALS)
    assert len(set(names)) == len(names)


def test_beat_sends_minute_scale_work_only():
    """Per-second work through the broker had queued faster than the filesystem transport
    delivers; it runs as loops now, and nothing beat sends is due more often than every 30 s."""
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = entry["schedule"]
        if isinstance(schedule, crontab):
            continue
        seconds = schedule.total_seconds() if isinstance(schedule, dt.timedelta) else schedule
        assert seconds >= 30, f"beat entry {name} runs every {seconds} s: make it a loop"
    assert not set(settings.CELERY_BEAT_SCHEDULE) & set(settings.LOOP_INTERVALS)


def test_runloops_stops_cleanly_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(ADNET_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log = tmp_path / "loops.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runloops"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "loops running" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        assert "loops running" in log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "loops stopped" in log.read_text()
