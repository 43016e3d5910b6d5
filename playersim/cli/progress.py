"""The progress line of `playersim run` on a terminal: where the run is, how fast it goes, and,
when its span or its number of sessions is known, how far along it is, how long it has to go and
at what time (wall clock) it will be done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TextIO

from playersim.clock import format_instant
from playersim.engines.realtime import RealtimeEngine
from playersim.runner import Run

__all__ = ["PROGRESS_EVERY_S", "Progress"]

# How often a run on a terminal redraws its progress line, in wall seconds.
PROGRESS_EVERY_S = 0.5
# A rate measured over less than this share of the run says little about the rest: no ETA yet.
_LEAST_FOR_ETA = 0.01


class Progress:
    """One line on a terminal, redrawn as the run goes.

    How far along: with a window (`duration`), the simulated time through it; otherwise the
    viewings finished of those there will be (the arrivals, and the next episodes so far). The
    time left: in a paced run with a window, the wall time until the clock reaches its end;
    otherwise the pace so far, carried on. A window's end is when arrivals stop: the sessions
    open then still play out, and the line says so.
    """

    def __init__(
        self,
        run: Run,
        stream: TextIO,
        *,
        monotonic: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = run.engine
        self.stream = stream
        self._monotonic = monotonic
        self._wall = wall
        self._began = monotonic()
        self._last = 0.0
        self._start = run.start
        workload = run.workload
        self._end = workload.end if workload is not None else None
        # Arrivals there will be, when fixed (a script plays its `sessions` at once).
        self._count = workload.count if workload is not None else (run.options.sessions or 1)
        engine = run.engine
        # Shared between processes, this one counts its own share of what finishes and what
        # is sent (it plays every viewing: `active` is the run's): the rest is estimated.
        self._parts = run.processes
        paced = isinstance(engine, RealtimeEngine) and engine.paced
        self._speed = engine.pacer.speed if isinstance(engine, RealtimeEngine) and paced else None

    def tick(self) -> None:
        """Redraw, if it has been a while (cheap to call often)."""
        now = self._monotonic()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.draw()

    async def every(self, seconds: float) -> None:
        while True:
            self.draw()
            await asyncio.sleep(seconds)

    def line(self) -> str:
        stats = self.engine.stats
        parts = self._parts
        about = "~" if parts > 1 else ""
        finished = sum(stats.outcomes.values()) * parts
        requests = stats.requests * parts
        wall = max(1e-9, self._monotonic() - self._began)
        return (
            f"{format_instant(self.engine.clock.now())[:19]}Z  {self._how_far()}"
            f"active {self.engine.active:,}  finished {about}{finished:,}  "
            f"requests {about}{requests:,} ({requests / wall:,.0f}/s)  "
            f"not accepted {about}{stats.failed * parts:,}"
        )

    def draw(self) -> None:
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()

    def done(self) -> float | None:
        """The share of the run done (0 to 1), or None when nothing says how much there is."""
        if self._end is not None:
            window = max(1, self._end - self._start)
            return min(1.0, max(0.0, (self.engine.clock.now() - self._start) / window))
        if self._count is None:
            return None
        stats = self.engine.stats
        parts = self._parts
        finished = sum(stats.outcomes.values()) * parts
        return min(1.0, finished / (self._count + stats.follow_ups * parts))

    def left_s(self, done: float) -> float | None:
        """Wall seconds until `done` reaches 1, or None while there is no telling."""
        if self._end is not None and self._speed is not None:
            # Paced: the clock reaches the window's end at a known wall time.
            return max(0.0, (self._end - self.engine.clock.now()) / 1000 / self._speed)
        if done < _LEAST_FOR_ETA:
            return None
        return (self._monotonic() - self._began) * (1 - done) / done

    def _how_far(self) -> str:
        done = self.done()
        if done is None:
            return ""
        if done >= 1 and self._end is not None:
            return "arrivals over, open sessions playing out  "
        left = self.left_s(done)
        if left is None:
            return f"{done:.0%}  "
        now = self._wall()
        return f"{done:.0%} ETA {_duration(left)}, ends {_clock(now + left, now)}  "


def _duration(seconds: float) -> str:
    """`45s`, `12m05s`, `3h07m`, `2d04h`: a time left, as precise as it is worth.

    >>> _duration(45.2), _duration(725), _duration(11_220), _duration(187_200)
    ('45s', '12m05s', '3h07m', '2d04h')
    """
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86_400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86_400}d{whole % 86_400 // 3600:02d}h"


def _clock(at: float, now: float) -> str:
    """A wall-clock instant (local time): the time of day, with the date when not today."""
    when, today = time.localtime(at), time.localtime(now)
    if when[:3] == today[:3]:
        return time.strftime("%H:%M:%S", when)
    return time.strftime("%Y-%m-%d %H:%M", when)
