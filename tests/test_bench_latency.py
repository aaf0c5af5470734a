"""scripts/bench.py reads wrk's latency histogram back to the requests as answered.

wrk 4 "corrects" its histogram for coordinated omission before a script sees it; the bench
takes that correction out again (bench.as_answered) and reports both. These tests apply the
correction the way wrk's stats_correct does and check that it comes back off exactly.
"""

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

_PATH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
_spec = importlib.util.spec_from_file_location("adnet_bench_script", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def wrk_corrected(recorded: dict[int, int], duration_us: int, requests: int, connections: int):
    """What wrk does to its histogram after a run (stats_correct, wrk 4.1): one array indexed
    by microseconds, walked upwards from twice the expected interval, each value adding its
    count at value - interval, value - 2 * interval, ... while above the interval."""
    data = [0] * (max(recorded) + 1)
    for value, count in recorded.items():
        data[value] = count
    per_connection = requests // connections
    if per_connection > 0:
        expected = duration_us // per_connection
        for n in range(expected * 2, len(data)):
            count = data[n]
            m = n - expected
            while count and m > expected:
                data[m] += count
                m -= expected
    return {value: count for value, count in enumerate(data) if count}


def test_a_slow_request_is_one_request_again():
    # 20 requests in 10 ms on one connection: wrk expects one every 500 us. The one that
    # took 2,600 us gains samples at 2,100, 1,600, 1,100 and 600 us; 1,000 us gains none.
    recorded = {400: 18, 1_000: 1, 2_600: 1}
    corrected = wrk_corrected(recorded, 10_000, 20, 1)
    assert corrected == {400: 18, 600: 1, 1_000: 1, 1_100: 1, 1_600: 1, 2_100: 1, 2_600: 1}

    assert bench.as_answered(corrected, 10_000, 20, 1) == recorded
    # wrk's 90th percentile counts the requests it made up; the answered one does not.
    assert bench.percentile(corrected, 90) == 1_600
    assert bench.percentile(recorded, 90) == 1_000


def test_samples_at_whole_intervals():
    # wrk adds only above the interval itself: 1,500 us adds 1,000 but not 500, where a
    # request that took exactly 500 us stays one request.
    recorded = {400: 17, 500: 1, 1_500: 1, 1_000: 1}
    corrected = wrk_corrected(recorded, 10_000, 20, 1)
    assert corrected == {400: 17, 500: 1, 1_000: 2, 1_500: 1}
    assert bench.as_answered(corrected, 10_000, 20, 1) == recorded


def test_fewer_requests_than_connections_are_left_as_they_are():
    histogram = {300: 2, 5_000: 1}
    assert bench.as_answered(histogram, 1_000_000, 3, 16) == histogram


def test_a_histogram_wrk_could_not_have_corrected_is_refused():
    # At 500 us between requests, two requests of 2,600 us would have added two samples at
    # 1,100 us: there is only one.
    with pytest.raises(ValueError, match="not a histogram wrk corrected"):
        bench.as_answered({400: 17, 1_100: 1, 2_600: 2}, 10_000, 20, 1)


@given(
    recorded=st.dictionaries(
        st.integers(min_value=1, max_value=20_000),
        st.integers(min_value=1, max_value=50),
        min_size=1,
        max_size=60,
    ),
    connections=st.sampled_from([1, 2, 16]),
    duration_us=st.integers(min_value=1_000, max_value=2_000_000),
)
def test_the_correction_comes_off_exactly(recorded, connections, duration_us):
    requests = sum(recorded.values())
    corrected = wrk_corrected(recorded, duration_us, requests, connections)
    assert bench.as_answered(corrected, duration_us, requests, connections) == recorded


@given(
    values=st.lists(st.integers(min_value=1, max_value=5_000), min_size=1, max_size=300),
    p=st.sampled_from([50, 90, 99, 99.9]),
)
def test_percentile_is_wrks_rank(values, p):
    histogram: dict[int, int] = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    ordered = sorted(values)
    # wrk: the smallest value whose running count reaches round(p / 100 * count + 0.5),
    # C's round() taking halves away from zero.
    rank = int(p / 100 * len(values) + 0.5 + 0.5)
    assert bench.percentile(histogram, p) == ordered[rank - 1]
