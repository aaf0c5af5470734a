"""Tell a slow answer caused by the code under test from one caused by the machine.

A latency bound checked against real processes on a shared virtual machine meets stalls
that hold every process at once: a commit's fsync that waits half a second behind the
disk, or a virtual CPU that is not scheduled. `MachineStalls` watches for them from the
side while a test sends its requests: a thread commits a one-row update of a table of its
own on its own PostgreSQL connection every few milliseconds (a commit that wrote WAL
waits for its flush, as every commit of the code under test does; one that wrote none,
`SELECT txid_current()` say, does not), and keeps when each finished. The time between
two finishes, less the typical time between two, is how long the machine held that thread
(its disk, its CPU or both).

An answer that took `elapsed` seconds, of which the machine held the probe for `held`,
took `elapsed - held` seconds of its own; a bound is kept if that is under it. What the
code under test waits for by itself (a broker's connect timeout, a retry's sleep) does
not hold the probe, and stays in the answer's own time.
Time is `time.perf_counter()`, the clock `procs.request` measures with.
"""

import statistics
import threading
import time

import psycopg

PAUSE = 0.01  # seconds between two probes


class MachineStalls:
    def __init__(self, settings_dict: dict, pause: float = PAUSE):
        self.conninfo = {
            "host": settings_dict.get("HOST") or "127.0.0.1",
            "port": settings_dict.get("PORT") or 5432,
            "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None,
            "dbname": settings_dict["NAME"],
        }
        self.pause = pause
        self.finishes: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> "MachineStalls":
        connection = psycopg.connect(autocommit=True, **self.conninfo)
        connection.execute("CREATE TABLE IF NOT EXISTS test_stall_probe (n bigint NOT NULL)")
        connection.execute("INSERT INTO test_stall_probe VALUES (0)")
        self.finishes.append(time.perf_counter())
        self._thread = threading.Thread(target=self._run, args=(connection,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        with psycopg.connect(autocommit=True, **self.conninfo) as connection:
            connection.execute("DROP TABLE IF EXISTS test_stall_probe")
        if self._error is not None and exc_info[0] is None:
            raise RuntimeError("the stall probe failed") from self._error

    def _run(self, connection) -> None:
        try:
            with connection:
                while not self._stop.wait(self.pause):
                    connection.execute("UPDATE test_stall_probe SET n = n + 1")
                    self.finishes.append(time.perf_counter())
        except BaseException as exc:  # noqa: BLE001 - reported by __exit__
            self._error = exc

    def held_during(self, start: float, end: float) -> float:
        """Seconds of [start, end] for which the machine held the probe: the overlap of each
        span between two finishes with [start, end], less a typical span (the median: the
        pause and an unhindered commit)."""
        spans = list(zip(self.finishes, self.finishes[1:], strict=False))
        typical = statistics.median(after - before for before, after in spans)
        held = 0.0
        for before, after in spans:
            if after <= start:
                continue
            if before >= end:
                break
            held += max(0.0, min(after, end) - max(before, start) - typical)
        return held
