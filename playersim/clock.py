"""Time, injected: every timestamp playersim emits comes from a `Clock`.

Nothing else in the package reads the wall clock. `VirtualClock` moves only when told, so a test
(or the batch engine) controls time exactly and never sleeps; `SystemClock` reads `time.time_ns()`
at each call, so `freezegun.freeze_time` and `time_machine.travel` drive it like any other code.
Instants are integer milliseconds since the Unix epoch, UTC: the unit of the MCA's `ts`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "ManualClock",
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

    def __repr__(self) -> str:
        return "SystemClock()"


@runtime_checkable
class ManualClock(Clock, Protocol):
    """A clock that an engine may move forward itself (a `VirtualClock`)."""

    def advance_to(self, instant: str | int | float | datetime) -> None: ...
