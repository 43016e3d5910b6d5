"""Players on `SystemClock` under the time libraries users already test with: freezegun
(`move_to`, `tick`, `tick=True`) and time-machine, with the synchronous engine and the asyncio
one (`RealtimeEngine`, which needs freezegun's `real_asyncio=True`)."""

from __future__ import annotations

import asyncio

import time_machine
from freezegun import freeze_time

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    RealtimeEngine,
    SystemClock,
    VirtualClock,
    load_profile,
    parse_instant,
)

NOON = parse_instant("2026-11-27T12:00:00Z")


def _one_viewer(clock: SystemClock) -> tuple[Engine, Collector]:
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    engine.add(Player(load_profile("live-news"), seed=1, exact=True))
    engine.step()
    return engine, collector


def test_freezegun_move_to_jumps_the_players_forward() -> None:
    """`frozen.move_to(...)` half a minute on: one step() sends every ping due meanwhile, each
    stamped with its own instant."""
    with freeze_time("2026-11-27 12:00:00") as frozen:
        engine, collector = _one_viewer(SystemClock())
        frozen.move_to("2026-11-27 12:00:30")
        engine.step()
        session = collector.sessions[0]
        # Judged on the frozen clock: outside it, real time has long timed the session out.
        assert session.problems == []
    pings = [event.ts for event in session.events if event.event_type == "ping"]
    assert pings == [NOON + 10_000, NOON + 20_000, NOON + 30_000]


def test_time_machine_travel_and_shift() -> None:
    """time-machine: `travel(..., tick=False)` freezes the clock the players read; `shift`
    moves it, and step() sends what is due."""
    with time_machine.travel("2026-11-27 12:00:00Z", tick=False) as traveller:
        engine, collector = _one_viewer(SystemClock())
        assert collector.sessions[0].events[0].ts == NOON
        for _ in range(3):
            traveller.shift(10)
            engine.step()
        session = collector.sessions[0]
        assert session.problems == []
    assert session.events[-1].event_type == "ping"
    assert session.events[-1].ts == NOON + 30_000


def _paced_minute(speed: float) -> Collector:
    """A real-time engine, paced at `speed`, starting at the wall clock's now, for a minute."""
    start = SystemClock().now()
    clock = VirtualClock(start=start)
    collector = Collector(clock)
    engine = RealtimeEngine(clock, MemoryTransport(collector), speed=speed)
    engine.add(Player(load_profile("live-news"), seed=1, start_at=start, exact=True))

    async def run() -> None:
        await asyncio.wait_for(engine.run_async(until=start + 60_000), timeout=30)

    asyncio.run(run())
    return collector


def test_the_asyncio_engine_under_freezegun_with_real_asyncio() -> None:
    """Frozen wall time, real asyncio: the engine is paced by the loop's own clock, so it runs
    while `datetime.now()` and `SystemClock` stay at the frozen instant."""
    with freeze_time("2026-11-27 12:00:00", real_asyncio=True):
        collector = _paced_minute(speed=600)
        assert SystemClock().now() == NOON  # the wall clock never moved
    session = collector.sessions[0]
    assert session.events[0].ts == NOON
    assert session.events[-1].ts == NOON + 60_000
    assert session.problems == []


def test_the_asyncio_engine_under_time_machine() -> None:
    """time-machine leaves the monotonic clocks alone: a real-time engine runs under it as
    usual, its timestamps starting at the travelled-to instant."""
    with time_machine.travel("2026-11-27 12:00:00Z", tick=True):
        collector = _paced_minute(speed=600)
    session = collector.sessions[0]
    assert NOON <= session.events[0].ts < NOON + 1_000
    assert session.problems == []
