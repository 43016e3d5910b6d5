"""A polite cap on the request rate: for sending to a paid, shared back end.

`RateLimitedTransport` wraps an asyncio transport so that at most `rate` requests a second go
through it, however many sessions send at once: each request takes the next free slot, and
waits for it on an injectable clock (the wall clock by default; a test's clock in a test).
It is a token bucket holding `burst` tokens (one, by default: requests evenly spaced, none
saved up during a quiet spell beyond that), written as the instant the next token is due.
"""

from __future__ import annotations

import math

from playersim.clock import SleepingClock, SystemClock
from playersim.mca.api import Request, Response
from playersim.transports.base import AsyncTransport

__all__ = ["RateLimitedTransport"]


class RateLimitedTransport(AsyncTransport):
    """Sends through `inner`, at most `rate` requests a second (a burst of at most `burst`).

    Requests go out in the order they asked for a slot. A request's retries, if `inner`
    retries, are part of its one send: the cap counts requests, not tries.

    >>> import asyncio
    >>> from playersim import AsyncMemoryTransport, Collector, VirtualClock
    >>> class Clock(VirtualClock):  # a clock whose waits pass at once
    ...     def sleep(self, seconds: float) -> None:
    ...         self.advance(seconds)
    ...     async def asleep(self, seconds: float) -> None:
    ...         self.advance(seconds)
    >>> clock = Clock("2026-01-01T12:00:00Z")
    >>> limited = RateLimitedTransport(AsyncMemoryTransport(Collector(clock)), 2, clock=clock)
    >>> async def ten() -> None:
    ...     for _ in range(10):
    ...         await limited.send(Request("/api/v1/sessions", {}))
    >>> asyncio.run(ten())
    >>> clock
    VirtualClock('2026-01-01T12:00:04.500Z')
    """

    def __init__(
        self,
        inner: AsyncTransport,
        rate: float,
        *,
        clock: SleepingClock | None = None,
        burst: int = 1,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"the rate must be a number above 0, got {rate}")
        if burst < 1:
            raise ValueError(f"the burst must be at least 1, got {burst}")
        self.inner = inner
        self.rate = rate
        self.burst = burst
        self.clock: SleepingClock = clock or SystemClock()
        self._interval_ms = 1000 / rate
        # The instant (ms) the bucket would be full again if nothing more were sent: a request
        # may go once it is no more than `burst - 1` intervals away.
        self._full_at: float | None = None
        self.waited_s = 0.0  # seconds requests spent waiting for their slot, in all

    def _slot(self) -> float:
        """Take the next free slot: seconds to wait for it (0: go now)."""
        now = float(self.clock.now())
        full_at = now if self._full_at is None else max(self._full_at, now)
        go_at = max(now, full_at - (self.burst - 1) * self._interval_ms)
        # Taken before waiting: requests asking meanwhile queue behind this one.
        self._full_at = full_at + self._interval_ms
        return (go_at - now) / 1000

    async def send(self, request: Request) -> Response:
        wait = self._slot()
        if wait > 0:
            self.waited_s += wait
            await self.clock.asleep(wait)
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
