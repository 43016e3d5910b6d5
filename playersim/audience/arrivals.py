"""Arrivals: the instants at which viewers start watching.

An audience does not arrive evenly. `Shape` gives the hour-of-day and day-of-week multipliers of a
service's audience in the audience's own time zone (an evening peak in New York is 01:00 UTC);
`Ramp` fades a run in and out. Together they make an intensity, sessions per second at each
instant, and arrivals are drawn from it:

- `poisson`: a (non-homogeneous) Poisson process at `rate` per second, averaged over the shape;
- `uniform`: the same intensity with evenly spaced arrivals (a constant rate, when flat);
- `spread`: exactly `count` sessions over a window, placed along the intensity (conditioned
  Poisson, or evenly spaced).

All are lazy iterators of increasing integer instants (UTC milliseconds) that hold O(1) state,
so a year of arrivals never sits in memory. Randomness comes only from the `random.Random`
passed in: same seed, same instants.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "FLAT",
    "Places",
    "Process",
    "Ramp",
    "Shape",
    "closed_loop",
    "parse_duration",
    "parse_rate",
    "poisson",
    "spread",
    "uniform",
    "window_intensity",
]

Process = Literal["poisson", "uniform"]

# The intensity is integrated in steps of this length: fine enough that a session placed inside a
# step is placed by the step's own rate, coarse enough that a year is half a million steps.
STEP_MS: Final = 60_000
_HOURS: Final = 24
_DAYS: Final = 7


@dataclass(frozen=True)
class Shape:
    """Hour-of-day and day-of-week multipliers of an audience, in its time zone.

    Both are normalised to a mean of 1, so a rate given with a shape is the average rate over a
    week, and the shape only says when in the week it is higher or lower. Between the middles of
    two hours the multiplier moves in a straight line, so a curve has no 60-minute steps.

    >>> evening = Shape(hourly=[1] * 20 + [3, 3, 3, 1], timezone="UTC")
    >>> round(evening.multiplier(20 * 3_600_000 + 1_800_000), 3)  # 20:30 UTC, Thursday 1 Jan 1970
    2.4
    """

    hourly: Sequence[float] = (1.0,) * _HOURS
    weekly: Sequence[float] = (1.0,) * _DAYS  # Monday first
    timezone: str = "UTC"
    # An audience spread over several time zones: (zone, share) pairs, each region on the same
    # curve in its own local time; empty: everyone in `timezone`.
    regions: Sequence[tuple[str, float]] = ()

    def __post_init__(self) -> None:
        for name, values, size in (("hourly", self.hourly, _HOURS), ("weekly", self.weekly, _DAYS)):
            if len(values) != size:
                raise ValueError(f"{name} needs {size} multipliers, got {len(values)}")
            if any(not math.isfinite(v) or v < 0 for v in values):
                raise ValueError(f"{name} multipliers must be finite and at least 0: {values}")
            if not any(values):
                raise ValueError(f"{name} multipliers cannot all be 0")
        for zone in (self.timezone, *(zone for zone, _ in self.regions)):
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                message = f"unknown time zone {zone!r} (e.g. America/New_York, UTC)"
                raise ValueError(message) from None
        shares = [share for _, share in self.regions]
        if shares and (not all(math.isfinite(s) and s >= 0 for s in shares) or not any(shares)):
            raise ValueError("region shares must be finite and at least 0, one above 0")

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _hours(self) -> tuple[float, ...]:
        return _normalised(self.hourly)

    @cached_property
    def _days(self) -> tuple[float, ...]:
        return _normalised(self.weekly)

    @property
    def flat(self) -> bool:
        return len(set(self.hourly)) == 1 and len(set(self.weekly)) == 1

    @cached_property
    def _regions(self) -> tuple[tuple[Shape, float], ...]:
        total = sum(share for _, share in self.regions)
        return tuple(
            (Shape(self.hourly, self.weekly, zone), share / total)
            for zone, share in self.regions
            if share
        )

    def local(self, zone: str) -> Shape:
        """The same curve, for the audience of one time zone."""
        return Shape(self.hourly, self.weekly, zone)

    def multiplier(self, instant: int) -> float:
        """How busy the audience is at `instant` (UTC ms), relative to its weekly average."""
        if self.flat:
            return 1.0
        if self.regions:
            return sum(shape.multiplier(instant) * share for shape, share in self._regions)
        local = datetime.fromtimestamp(instant / 1000, self._zone)
        # Hour values sit at the middle of their hour; interpolate between neighbours.
        position = local.hour + local.minute / 60 + local.second / 3600 - 0.5
        below = math.floor(position)
        fraction = position - below
        hours = self._hours
        hourly = hours[below % _HOURS] * (1 - fraction) + hours[(below + 1) % _HOURS] * fraction
        return hourly * self._days[local.weekday()]


def _normalised(values: Sequence[float]) -> tuple[float, ...]:
    """Scaled to a mean of 1 (scaled to a top of 1 first: huge values must not overflow)."""
    top = max(values)
    scaled = [v / top for v in values]
    mean = sum(scaled) / len(scaled)
    return tuple(v / mean for v in scaled)


FLAT: Final = Shape()


@dataclass(frozen=True)
class Ramp:
    """A linear fade-in over `up_ms` after `start`, and a fade-out over `down_ms` before `end`."""

    start: int
    up_ms: int = 0
    down_ms: int = 0
    end: int | None = None

    def multiplier(self, instant: int) -> float:
        factor = 1.0
        if self.up_ms > 0 and instant < self.start + self.up_ms:
            factor = max(0.0, (instant - self.start) / self.up_ms)
        if self.down_ms > 0 and self.end is not None and instant > self.end - self.down_ms:
            factor = min(factor, max(0.0, (self.end - instant) / self.down_ms))
        return factor


class _Intensity:
    """The cumulative expected arrivals from `start`, inverted one increasing target at a time."""

    def __init__(self, start: int, rate_at: Callable[[int], float], end: int | None) -> None:
        self._rate_at = rate_at
        self._end = end
        self.end = end
        self._step_start = start
        self._done = 0.0  # expected arrivals before the current step
        self._horizon = start + _HORIZON_MS  # an unbounded window still ends somewhere
        self._rate = self._rate_here()

    def _rate_here(self) -> float:
        # The rate at the middle of the current step (of a last, shorter step too), as `total`
        # measures it, so that the two sums agree.
        return self._rate_at(self._step_start + max(1, self._step_length()) // 2)

    def _step_mass(self) -> float:
        return self._rate * self._step_length() / 1000

    def _step_length(self) -> int:
        if self._end is None:
            return STEP_MS
        return max(0, min(STEP_MS, self._end - self._step_start))

    def total(self) -> float:
        """Expected arrivals over the whole window (which must be bounded)."""
        assert self._end is not None
        total = 0.0
        at = self._step_start
        while at < self._end:
            length = min(STEP_MS, self._end - at)
            total += self._rate_at(at + length // 2) * length / 1000
            at += length
        return total

    def instant(self, target: float) -> int | None:
        """The instant the cumulative intensity reaches `target`; None past the window."""
        silent = 0  # steps in a row with no intensity at all
        while True:
            mass = self._step_mass()
            if mass > 0 and self._done + mass >= target:
                break
            if self._end is not None and self._step_start + STEP_MS >= self._end:
                # The last step: a target beyond it by rounding only lands on its end.
                if mass > 0 and target - self._done - mass <= 1e-9 * max(1.0, target):
                    break
                return None
            silent = silent + 1 if mass == 0 else 0
            if silent > _MAX_SILENT_STEPS:
                return None  # a ramp or shape that never rises: nothing will ever arrive
            self._done += mass
            self._step_start += STEP_MS
            if self._step_start >= self._horizon:
                return None  # a rate so low that nothing more arrives in any useful time
            self._rate = self._rate_here()
        offset = (target - self._done) / self._rate * 1000
        return self._step_start + min(int(offset), self._step_length() - 1)


# Arrivals are looked for at most this far after the start (the command line's longest window).
_HORIZON_MS: Final = 366 * 86_400_000
# An unbounded window whose intensity stays 0 for eight days has nothing to give: a shape is
# non-zero somewhere in every week, so only a degenerate input gets here.
_MAX_SILENT_STEPS: Final = 8 * 86_400_000 // STEP_MS


def _rate_function(rate: float, shape: Shape, ramp: Ramp | None) -> Callable[[int], float]:
    if shape.flat and ramp is None:
        return lambda _: rate
    if ramp is None:
        return lambda at: rate * shape.multiplier(at)
    return lambda at: rate * shape.multiplier(at) * ramp.multiplier(at)


def poisson(
    rng: random.Random,
    *,
    rate: float,
    start: int,
    end: int | None = None,
    shape: Shape = FLAT,
    ramp: Ramp | None = None,
) -> Iterator[int]:
    """Arrivals of a Poisson process of `rate` per second (times the shape and ramp)."""
    intensity = _Intensity(start, _rate_function(rate, shape, ramp), end)
    target = 0.0
    while True:
        target += rng.expovariate(1.0)
        instant = intensity.instant(target)
        if instant is None:
            return
        yield instant


def uniform(
    *,
    rate: float,
    start: int,
    end: int | None = None,
    shape: Shape = FLAT,
    ramp: Ramp | None = None,
) -> Iterator[int]:
    """Evenly spaced arrivals: one per `1/rate` seconds of (shaped) intensity, from `start`."""
    intensity = _Intensity(start, _rate_function(rate, shape, ramp), end)
    count = 0
    while (instant := intensity.instant(count + 1e-9)) is not None:
        yield instant
        count += 1


def spread(
    rng: random.Random,
    *,
    count: int,
    start: int,
    end: int,
    process: Process = "poisson",
    shape: Shape = FLAT,
    ramp: Ramp | None = None,
) -> Iterator[int]:
    """Exactly `count` arrivals between `start` and `end`, placed along the intensity.

    Raises ValueError at once (not at the first arrival) if the window has no intensity at all.

    Poisson arrivals conditioned on their number are independent draws from the intensity; they
    are generated here already in order (ascending uniform order statistics, one at a time), so
    a million of them need no sort and no list.
    """
    rate_at = _rate_function(1.0, shape, ramp)
    total = window_intensity(start=start, end=end, shape=shape, ramp=ramp)
    if not total > 0:
        raise ValueError("the arrival curve and ramp leave no time in the window for sessions")
    return _spread(rng, count, _Intensity(start, rate_at, end), total, uniform=process == "uniform")


def window_intensity(
    *, start: int, end: int, shape: Shape = FLAT, ramp: Ramp | None = None
) -> float:
    """The expected arrivals over a window at a rate of 1 per second (0: none can arrive)."""
    return _Intensity(start, _rate_function(1.0, shape, ramp), end).total()


def _spread(
    rng: random.Random, count: int, intensity: _Intensity, total: float, *, uniform: bool
) -> Iterator[int]:
    end = intensity.end
    assert end is not None, "a spread has a window"
    position = 0.0  # in [0, 1): the fraction of the window's intensity already passed
    for index in range(count):
        if uniform:
            position = (index + 0.5) / count
        else:
            left = count - index
            position += (1.0 - position) * (1.0 - rng.random() ** (1.0 / left))
        instant = intensity.instant(min(position, 1.0) * total)
        # The very last arrival may round past the window's last step: it is at its end.
        yield end - 1 if instant is None else instant


@dataclass(frozen=True, slots=True)
class Places:
    """A closed workload's places: `count` of them, opened one by one over `ramp_ms` from
    `start` (place i at `start + ramp_ms * i // count`, all at `start` with no ramp). Once
    open, a place is always taken: by one viewer, and as each finishes, at once by the next.

    That is what makes the ramp a ramp of concurrency, as a load tool's users ramp up (each
    starting its next iteration as the last ends): a viewer who leaves during the ramp frees
    a place that the next viewer takes then, not at the ramp's end; and so, once anyone has
    left, the viewers still to come start before the instants the ramp made them for.
    (`playersim.sim.viewings.Seats` are the same places, for a load tool that runs each one
    as a task of its own.)

    >>> places = Places(start=0, count=4, ramp_ms=4000)
    >>> [places.opens(i) for i in range(4)]
    [0, 1000, 2000, 3000]
    """

    start: int
    count: int
    ramp_ms: int = 0

    def __post_init__(self) -> None:
        if self.count < 1 or self.ramp_ms < 0:
            raise ValueError(
                f"places need a count of at least 1 and a ramp of 0 ms or more, got "
                f"{self.count} and {self.ramp_ms}"
            )

    def opens(self, index: int) -> int:
        """When place `index` (0 first) opens."""
        return self.start + (self.ramp_ms * index) // self.count


def closed_loop(places: Places) -> Iterator[int]:
    """A closed workload's arrivals: the instants its viewers are made for.

    The first `places.count` are made for the instants their places open; every one after
    them, a replacement, for the end of the ramp. When each starts is the engine's to say, as
    it is given the `Places`: as soon as a place is open (one opening on the ramp, or one a
    viewer has just left), whatever the instant it was made for. (The viewer is drawn for that
    instant, as free then, with that hour's regions and devices: a replacement starting
    earlier, or later, keeps them.)
    """
    for index in range(places.count):
        yield places.opens(index)
    while True:
        yield places.start + places.ramp_ms


# --- parsing the command line's quantities -----------------------------------------------------

_UNITS_MS: Final = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|min|s|m|h|d)")
_RATE_UNITS: Final = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}


def parse_duration(text: str) -> int:
    """`90`, `90s`, `15m`, `1h30m`, `2d`, `500ms` as milliseconds (a bare number is seconds).

    >>> parse_duration("1h30m")
    5400000
    """
    stripped = text.strip().lower()
    try:
        seconds = float(stripped)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{text!r} is not a duration (e.g. 90s, 15m, 24h, 7d)")
        return round(seconds * 1000)
    parts = _DURATION.findall(stripped)
    if not parts or "".join(n + u for n, u in parts) != stripped:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 15m, 24h, 7d)")
    return round(sum(float(number) * _UNITS_MS[unit] for number, unit in parts))


def parse_rate(text: str) -> float:
    """`2.5`, `10/s`, `600/min`, `20000/h`, `100000/d` as sessions per second.

    >>> parse_rate("600/min")
    10.0
    """
    number, _, unit = text.strip().lower().partition("/")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a rate (e.g. 2.5, 10/s, 600/min, 20000/h)") from None
    if unit and unit not in _RATE_UNITS:
        raise ValueError(f"{text!r}: the unit after / must be s, min, h or d")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r} must be a rate above 0")
    return value / _RATE_UNITS[unit or "s"]
