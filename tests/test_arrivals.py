"""Arrivals: counts, rates, curves, ramps and closed workloads, and the flags' quantities."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim.audience.arrivals import (
    Places,
    Ramp,
    Shape,
    closed_loop,
    parse_duration,
    parse_rate,
    poisson,
    spread,
    uniform,
)
from playersim.clock import parse_instant

MONDAY = parse_instant("2026-01-05T00:00:00Z")
HOUR = 3_600_000
DAY = 24 * HOUR
EVENING = Shape(hourly=[0.2] * 18 + [3.0] * 6, timezone="UTC")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("90", 90_000), ("90s", 90_000), ("15m", 900_000), ("1h30m", 5_400_000), ("2d", 2 * DAY),
     ("500ms", 500), ("1.5h", 5_400_000), ("10min", 600_000)],
)  # fmt: skip
def test_durations_read_as_people_write_them(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "abc", "10x", "h", "-5", "1h 30m", "nan", "5 s"])
def test_a_bad_duration_says_what_would_do(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("2", 2.0), ("10/s", 10.0), ("600/min", 10.0), ("7200/h", 2.0), ("86400/d", 1.0)],
)
def test_rates_read_with_their_unit(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["0", "-1", "x/s", "5/week", "inf"])
def test_a_bad_rate_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"rate|unit"):
        parse_rate(text)


def test_a_shape_averages_one_over_a_week() -> None:
    """A rate given with a shape is the weekly average: the shape only moves arrivals around."""
    shape = Shape(hourly=[1 + (h % 7) for h in range(24)], weekly=[1, 1, 2, 2, 3, 5, 4],
                  timezone="America/New_York")  # fmt: skip
    step = 60_000
    samples = [shape.multiplier(MONDAY + i * step) for i in range(7 * DAY // step)]
    assert sum(samples) / len(samples) == pytest.approx(1.0, rel=0.01)


def test_a_shape_is_read_in_the_audience_time_zone() -> None:
    """An evening peak in New York falls in the small hours UTC."""
    new_york = Shape(hourly=[0.2] * 18 + [3.0] * 6, timezone="America/New_York")
    # 02:30 UTC on a January Monday is 21:30 in New York (UTC-5).
    assert new_york.multiplier(MONDAY + 2 * HOUR + 1_800_000) > 2
    assert EVENING.multiplier(MONDAY + 2 * HOUR + 1_800_000) < 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"hourly": [1.0] * 23}, "24"), ({"weekly": [0.0] * 7}, "all be 0"),
     ({"hourly": [-1.0] + [1.0] * 23}, "at least 0"), ({"timezone": "Mars/Olympus"}, "time zone"),
     ({"timezone": "America"}, "time zone"), ({"timezone": ""}, "time zone")],
)  # fmt: skip
def test_a_bad_shape_is_refused_with_its_reason(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shape(**kwargs)  # type: ignore[arg-type]


def test_poisson_arrivals_come_at_the_rate_asked() -> None:
    rng = random.Random(1)
    arrivals = list(poisson(rng, rate=2.0, start=MONDAY, end=MONDAY + HOUR))
    expected = 7200
    assert abs(len(arrivals) - expected) < 5 * math.sqrt(expected)
    assert arrivals == sorted(arrivals)
    assert arrivals[0] >= MONDAY
    assert arrivals[-1] < MONDAY + HOUR


def test_uniform_arrivals_are_evenly_spaced() -> None:
    arrivals = list(itertools.islice(uniform(rate=4.0, start=MONDAY), 5))
    assert [a - MONDAY for a in arrivals] == [0, 250, 500, 750, 1000]


def test_arrivals_follow_the_daily_curve() -> None:
    """Each hour gets its share of the day's sessions as the curve says (about 80% here)."""
    arrivals = list(spread(random.Random(2), count=20_000, start=MONDAY, end=MONDAY + DAY,
                           shape=EVENING))  # fmt: skip
    minutes = [EVENING.multiplier(MONDAY + m * 60_000 + 30_000) for m in range(24 * 60)]
    expected = sum(minutes[18 * 60 :]) / sum(minutes)
    evening = sum(1 for a in arrivals if a - MONDAY >= 18 * HOUR)
    assert expected > 0.75
    assert evening / len(arrivals) == pytest.approx(expected, abs=0.015)


def test_a_ramp_fades_arrivals_in_and_out() -> None:
    end = MONDAY + HOUR
    ramp = Ramp(MONDAY, up_ms=600_000, down_ms=600_000, end=end)
    arrivals = list(spread(random.Random(3), count=5000, start=MONDAY, end=end, ramp=ramp,
                           process="uniform"))  # fmt: skip
    by_ten_minutes = Counter((a - MONDAY) // 600_000 for a in arrivals)
    assert by_ten_minutes[0] == pytest.approx(by_ten_minutes[2] / 2, rel=0.05)
    assert by_ten_minutes[5] == pytest.approx(by_ten_minutes[3] / 2, rel=0.05)


def test_a_closed_workload_starts_its_viewers_over_the_ramp_then_waits() -> None:
    starts = list(itertools.islice(closed_loop(Places(start=MONDAY, count=4, ramp_ms=4000)), 6))
    assert [s - MONDAY for s in starts] == [0, 1000, 2000, 3000, 4000, 4000]


def test_the_same_seed_gives_the_same_arrivals() -> None:
    def draw(seed: int) -> list[int]:
        rng = random.Random(seed)
        return list(spread(rng, count=500, start=MONDAY, end=MONDAY + DAY, shape=EVENING))

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(1, 3000),
    window_ms=st.integers(60_000, 3 * DAY),
    offset=st.integers(0, 7 * DAY),
    hourly=st.lists(st.floats(0, 10), min_size=24, max_size=24).filter(any),
    process=st.sampled_from(["poisson", "uniform"]),
)
def test_an_exact_count_always_lands_in_order_inside_the_window(  # noqa: PLR0917
    seed: int, count: int, window_ms: int, offset: int, hourly: list[float], process: str
) -> None:
    """For every seed, window and curve: exactly N arrivals, in order, inside the window."""
    start = MONDAY + offset
    shape = Shape(hourly=hourly, timezone="Europe/Berlin")
    minutes = range(0, window_ms, 60_000)
    if not any(shape.multiplier(start + m + 30_000) for m in minutes):
        # A window that falls entirely in hours the curve gives 0 has no room at all.
        with pytest.raises(ValueError, match="no time in the window"):
            list(spread(random.Random(seed), count=count, start=start, end=start + window_ms,
                        shape=shape))  # fmt: skip
        return
    arrivals = list(spread(random.Random(seed), count=count, start=start, end=start + window_ms,
                           shape=shape, process=process))  # type: ignore[arg-type]  # fmt: skip
    assert len(arrivals) == count
    assert arrivals == sorted(arrivals)
    assert all(start <= a < start + window_ms for a in arrivals)
