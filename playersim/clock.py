"""Time, injected: every timestamp playersim emits comes from a `Clock`.

Nothing else in the package reads the wall clock. `VirtualClock` moves only when told, so a test
(or the batch engine) controls time exactly and never sleeps; `SystemClock` reads `time.time_ns()`
at each call, so `freezegun.freeze_time` and `time_machine.travel` drive it like any other code.
Instants are integer milliseconds since the Unix epoch, UTC: the unit of the MCA's `ts`.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "ManualClock",
    "Pacer",
    "SleepingClock",
    "SystemClock",
    "VirtualClock",
    "format_instant",
    "parse_instant",
]

_MS_PER_SECOND = 1000


@runtime_checkable
class Clock(Protocol):
    """Anything that can say what time it is, in integer UTC milliseconds."""

    def now(self) -> int:
        """The current instant, in milliseconds since the Unix epoch (UTC)."""
        ...


def parse_instant(value: str | int | float | datetime) -> int:
    """Turn an ISO-8601 string, a `datetime` or epoch milliseconds into epoch milliseconds.

    Naive strings and datetimes are taken as UTC: a simulator that silently used the machine's
    local zone would give different traffic on different machines.
    """
    if isinstance(value, bool):
        raise ValueError(f"not an instant: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"not an ISO-8601 instant: {value!r} (expected e.g. 2026-11-27T12:00:00Z)"
            ) from None
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic on the timedelta avoids float rounding of far-future instants.
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _MS_PER_SECOND + delta.microseconds // 1000


def format_instant(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC string with millisecond precision."""
    moment = datetime.fromtimestamp(ms // _MS_PER_SECOND, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % _MS_PER_SECOND:03d}Z"


class VirtualClock:
    """A clock that moves only when told to, and never sleeps.

    >>> clock = VirtualClock(start="2026-11-27T12:00:00Z")
    >>> clock.advance(10)
    >>> format_instant(clock.now())
    '2026-11-27T12:00:10.000Z'
    """

    def __init__(self, start: str | int | float | datetime = "2026-01-01T12:00:00Z") -> None:
        self._now = parse_instant(start)

    def now(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds` (fractions allowed, to the millisecond)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds} s)")
        self._now += round(seconds * _MS_PER_SECOND)

    def advance_to(self, instant: str | int | float | datetime) -> None:
        """Move forward to `instant`; moving to the present instant is allowed and does nothing."""
        target = parse_instant(instant)
        if target < self._now:
            raise ValueError(
                f"a clock cannot go backwards (from {format_instant(self._now)} "
                f"to {format_instant(target)})"
            )
        self._now = target

    def __repr__(self) -> str:
        return f"VirtualClock({format_instant(self._now)!r})"


class SystemClock:
    """The wall clock, read through `time.time_ns()` at every call.

    Reading the function at call time (not caching it at import) is what lets freezegun and
    time-machine move this clock in users' tests.
    """

    def now(self) -> int:
        return time.time_ns() // 1_000_000

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of wall time (a retry's back-off, say)."""
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Wait `seconds` of wall time without blocking the event loop."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


@runtime_checkable
class SleepingClock(Clock, Protocol):
    """A clock that can also wait: what HTTP transports back off on between retries."""

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


@runtime_checkable
class ManualClock(Clock, Protocol):
    """A clock that an engine may move forward itself (a `VirtualClock`)."""

    def advance_to(self, instant: str | int | float | datetime) -> None: ...


def _monotonic_ns() -> int:
    """The running event loop's monotonic clock in ns (the process's, outside a loop)."""
    try:
        return int(asyncio.get_running_loop().time() * 1e9)
    except RuntimeError:
        return time.monotonic_ns()


class Pacer:
    """Ties simulated time to the wall clock: `speed` simulated seconds per wall second.

    Simulated instant `start` is now; `wait_until(instant)` sleeps until the wall clock reaches
    that instant's place, and `late_ms(instant)` says how far past it the wall clock already
    is, in wall milliseconds. `speed=1` is real time, `speed=60` a minute per second. The wall
    clock read is the monotonic one, so a clock step (NTP, DST) does not stall or rush a run:
    the running event loop's own (`loop.time()`), so that pacing follows the loop's timers.
    Under freezegun's `freeze_time(..., real_asyncio=True)` that clock is the real one, so a
    run is paced in real time while the wall clock (`SystemClock`, `datetime.now()`) is frozen.
    """

    def __init__(self, start: int, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be above 0, got {speed}")
        self.start = start
        self.speed = speed
        self._origin_ns = _monotonic_ns()

    def reset(self) -> None:
        """Make the present wall instant simulated instant `start` (when a run begins)."""
        self._origin_ns = _monotonic_ns()

    def now(self) -> int:
        """The simulated instant the wall clock has reached (at infinite speed, `start`: an
        unpaced run has no wall-clock instant, only the instants it serves)."""
        if math.isinf(self.speed):
            return self.start
        elapsed_ms = (_monotonic_ns() - self._origin_ns) / 1_000_000
        return self.start + int(elapsed_ms * self.speed)

    def late_ms(self, instant: int) -> float:
        """Wall milliseconds since simulated `instant` was due (negative: not yet due)."""
        elapsed_ms = (_monotonic_ns() - self._origin_ns) / 1_000_000
        return elapsed_ms - (instant - self.start) / self.speed

    async def wait_until(self, instant: int) -> None:
        """Sleep until simulated `instant` is due on the wall clock."""
        early_ms = -self.late_ms(instant)
        if early_ms > 0:
            await asyncio.sleep(early_ms / 1000)

    def __repr__(self) -> str:
        return f"Pacer(start={format_instant(self.start)!r}, speed={self.speed:g})"
