"""`RealtimeEngine(speed=math.inf)`: virtual time over an asyncio transport, as `run --to` uses
it. Each player hears its answers before it moves on, whatever the network's timing; a
transport's bug ends the run instead of hanging it; `stop()` after a run still sends."""

from __future__ import annotations

import asyncio
import math

import pytest

from playersim import (
    AsyncMemoryTransport,
    Collector,
    Engine,
    Player,
    VirtualClock,
    load_profile,
    parse_instant,
)
from playersim.realtime import RealtimeEngine
from playersim.transport import Request, Response

START = parse_instant("2026-01-05T20:00:00Z")


def _answer(request: Request, start_number: int) -> Response:
    if request.event_type != "sessionStart":
        return Response(204)
    if start_number == 1:
        return Response(201, location="/api/v1/sessions/" + "a" * 64)
    return Response(400, message="refused")


class _SlowRefusal:
    """The first sessionStart is accepted at once; the second refused, 50 ms later."""

    def __init__(self) -> None:
        self.starts = 0

    async def send(self, request: Request) -> Response:
        if request.event_type == "sessionStart":
            self.starts += 1
        number = self.starts
        if request.event_type == "sessionStart" and number == 2:
            await asyncio.sleep(0.05)
        return _answer(request, number)


class _Refusal:
    def __init__(self) -> None:
        self.starts = 0

    def send(self, request: Request) -> Response:
        if request.event_type == "sessionStart":
            self.starts += 1
        return _answer(request, self.starts)


def _twins() -> list[Player]:
    # Same profile, seed and instant: their wake-ups always fall on the same millisecond.
    return [Player(load_profile("vod-movie"), seed=1, start_at=START) for _ in range(2)]


def test_a_refused_start_ends_its_viewing_even_when_another_is_due_at_that_instant() -> None:
    virtual = Engine(VirtualClock(START), _Refusal())
    for player in _twins():
        virtual.add(player)
    virtual.run()
    unpaced = RealtimeEngine(VirtualClock(START), _SlowRefusal(), speed=math.inf, in_flight=8)
    for player in _twins():
        unpaced.add(player)
    asyncio.run(unpaced.run_async())
    assert unpaced.stats.accounting() == virtual.stats.accounting()
    assert unpaced.stats.dropped == 0
    assert dict(unpaced.stats.outcomes) == dict(virtual.stats.outcomes)


class _Buggy:
    """A transport with a bug: every 20th request raises what no transport should."""

    def __init__(self, collector: Collector) -> None:
        self.inner = AsyncMemoryTransport(collector)
        self.sent = 0

    async def send(self, request: Request) -> Response:
        self.sent += 1
        if self.sent % 20 == 0:
            raise ValueError("a bug in the client")
        return await self.inner.send(request)


def test_a_transport_that_raises_ends_the_run_instead_of_hanging_it() -> None:
    clock = VirtualClock(START)
    engine = RealtimeEngine(clock, _Buggy(Collector(clock)), speed=math.inf, in_flight=4)
    for index in range(10):
        engine.add(Player(load_profile("live-news"), seed=1, index=index, start_at=START))

    async def run() -> None:
        await asyncio.wait_for(engine.run_async(), timeout=30)

    with pytest.raises(ValueError, match="a bug in the client"):
        asyncio.run(run())


@pytest.mark.parametrize("speed", [math.inf, 1000.0])
def test_stop_after_a_run_ends_every_open_session(speed: float) -> None:
    """`run_async(until=...)`, then `stop()` and `wind_down()`: each open session gets its
    sessionEnd, unpaced as paced."""
    clock = VirtualClock(START)
    collector = Collector(clock)
    engine = RealtimeEngine(clock, AsyncMemoryTransport(collector), speed=speed, in_flight=4)
    for index in range(6):
        engine.add(Player(load_profile("live-news"), seed=1, index=index, start_at=START))

    async def run() -> None:
        await engine.run_async(until=START + 60_000)
        engine.stop()
        await engine.wind_down(grace_s=5)

    asyncio.run(run())
    assert collector.sessions
    for session in collector.sessions:
        assert session.event_types[-1] in ("sessionEnd", "sessionComplete")
    counts = engine.stats.accounting()
    assert counts["generated"] == counts["accepted"]


class _OneSlowSession:
    """Answers at once, except the events of the first session opened: 100 ms each (a session
    whose requests the endpoint keeps failing and the client keeps retrying, say)."""

    def __init__(self) -> None:
        self.starts = 0
        self.answered: list[str] = []  # the sid of each request answered, in order

    async def send(self, request: Request) -> Response:
        if request.event_type == "sessionStart":
            self.starts += 1
            sid = f"{self.starts:064x}"
            self.answered.append(sid)
            return Response(201, location=f"/api/v1/sessions/{sid}")
        sid = request.sid or ""
        if sid == f"{1:064x}":
            await asyncio.sleep(0.1)
        self.answered.append(sid)
        return Response(204)


def test_a_slow_session_does_not_hold_up_the_others() -> None:
    """Unpaced, a session whose answers are slow holds back only itself: viewers that started
    with it play to their end while it still has most of its requests to go."""
    transport = _OneSlowSession()
    engine = RealtimeEngine(VirtualClock(START), transport, speed=math.inf, in_flight=8)
    engine.add(Player(load_profile("live-news"), seed=1, start_at=START))
    for index in range(1, 4):
        engine.add(Player(load_profile("ugc-clip"), seed=1, index=index, start_at=START + index))
    asyncio.run(engine.run_async())
    slow = f"{1:064x}"
    others_done = max(i for i, sid in enumerate(transport.answered) if sid != slow)
    slow_answered_by_then = transport.answered[: others_done + 1].count(slow)
    assert slow_answered_by_then < transport.answered.count(slow) / 2
