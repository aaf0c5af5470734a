"""Time-ordered ids for the rows matching writes (adnet.core.ids)."""

import datetime as dt
import uuid

from adnet.core.ids import time_ordered_uuid

AT = dt.datetime(2026, 11, 21, 12, 0, 0, 123_000, tzinfo=dt.UTC)


def test_a_version_7_uuid_carries_its_millisecond():
    made = time_ordered_uuid(AT)
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert made.int >> 80 == int(AT.timestamp() * 1000)


def test_ids_sort_by_time_and_never_repeat():
    made = [time_ordered_uuid(AT + dt.timedelta(milliseconds=n // 10)) for n in range(5000)]
    assert len(set(made)) == len(made)
    # Across milliseconds the order is the time's; within one, the random bits decide.
    firsts = [made[n] for n in range(0, 5000, 10)]
    assert firsts == sorted(firsts)
    assert [u.int >> 80 for u in sorted(made)] == sorted(u.int >> 80 for u in made)


def test_the_random_part_is_random():
    made = [time_ordered_uuid(AT) for _ in range(200)]
    low_bits = {u.int & ((1 << 62) - 1) for u in made}
    assert len(low_bits) == 200
