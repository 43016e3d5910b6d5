"""Real time: the same traffic as virtual time, paced to the wall clock, sessions independent."""

from __future__ import annotations

import asyncio
import gc
import io
import time
from collections import defaultdict

import pytest

from playersim import Collector, Engine, MemoryTransport, VirtualClock, load_profile
from playersim.clock import Pacer, parse_instant
from playersim.engines.realtime import RealtimeEngine
from playersim.engines.summary import Lateness
from playersim.mca.api import Request, Response
from playersim.sim.viewings import Workload
from playersim.transports.base import AsyncTransport
from playersim.transports.recording import Recorder

START = parse_instant("2026-01-05T20:00:00Z")


def workload(sessions: int = 40) -> Workload:
    profiles = [load_profile(name) for name in ("ugc-clip", "live-news", "vod-episode")]
    return Workload(profiles, start=START, sessions=sessions, duration_ms=300_000)


def recorded(realtime: bool, speed: float = 5000) -> tuple[str, Engine]:
    work = workload()
    stream = io.StringIO()
    clock = VirtualClock(START)
    transport = MemoryTransport(Collector(clock))
    recorder = Recorder(stream)
    engine: Engine
    if realtime:
        engine = RealtimeEngine(
            clock, transport, speed=speed, follow_up=work.follow_up(3), recorder=recorder
        )
        engine.add_arrivals(work.players(3), until=work.end)
        assert isinstance(engine, RealtimeEngine)
        asyncio.run(engine.run_async())
    else:
        engine = Engine(clock, transport, follow_up=work.follow_up(3), recorder=recorder)
        engine.add_arrivals(work.players(3), until=work.end)
        engine.run()
    return stream.getvalue(), engine


def test_real_time_sends_the_same_bytes_as_virtual_time() -> None:
    """Same seed, same players: the recording is identical whatever the engine's timing."""
    virtual, _ = recorded(realtime=False)
    paced, engine = recorded(realtime=True)
    assert virtual.count("\n") > 1000
    assert paced == virtual
    assert isinstance(engine, RealtimeEngine)
    assert engine.lateness.summary()["ping_p99_ms"] is not None


def test_real_time_takes_the_simulated_time_divided_by_the_speed() -> None:
    """A run is paced, not rushed: it cannot end before its simulated span has passed."""
    clock = VirtualClock(START)
    engine = RealtimeEngine(clock, MemoryTransport(Collector(clock)), speed=100)
    work = Workload([load_profile("ugc-clip")], start=START, sessions=3, rate=1.0)
    engine.add_arrivals(work.players(1))
    began = time.perf_counter()
    asyncio.run(engine.run_async(until=START + 100_000))  # 100 simulated seconds
    assert time.perf_counter() - began >= 0.95
    assert clock.now() == START + 100_000


class SlowForOne(AsyncTransport):
    """An asyncio transport in front of a collector that answers one session slowly."""

    def __init__(self, collector: Collector, slow_media: str, delay: float) -> None:
        self.collector = collector
        self.slow_media = slow_media
        self.delay = delay
        self.slow_sids: set[str] = set()
        self.sent: dict[str, list[int]] = defaultdict(list)
        self.late: dict[str, list[float]] = defaultdict(list)  # wall ms, as each was sent
        self.pacer: Pacer | None = None

    async def send(self, request: Request) -> Response:
        body = request.body
        slow = request.sid in self.slow_sids or (
            body["eventType"] == "sessionStart" and body["params"]["media.id"] == self.slow_media
        )
        assert self.pacer is not None
        late = self.pacer.late_ms(body["playerTime"]["ts"])
        if slow:
            await asyncio.sleep(self.delay)
        response = self.collector.handle("POST", request.path, body)
        sid = request.sid or response.sid
        if sid is not None:
            if slow:
                self.slow_sids.add(sid)
            self.sent[sid].append(body["playerTime"]["ts"])
            self.late[sid].append(late)
        return response


@pytest.mark.slow
def test_one_slow_session_does_not_delay_the_others() -> None:
    """A session whose every answer takes 0.3 s falls behind alone; the rest stay on time."""
    profile = load_profile("live-news")
    work = Workload([profile], start=START, sessions=6, concurrency=6)
    players = list(work.players(2))
    clock = VirtualClock(START)
    collector = Collector(clock)
    transport = SlowForOne(collector, players[0].title.media_id, delay=0.3)
    engine = RealtimeEngine(clock, transport, speed=20)
    transport.pacer = engine.pacer
    engine.add_arrivals(iter(players))
    asyncio.run(engine.run_async(until=START + 60_000))  # 3 s of wall time
    slow = transport.slow_sids
    assert slow
    quick = [sid for sid in transport.sent if sid not in slow]
    assert quick
    # Every request of every session went in order, slow or not.
    assert all(ts == sorted(ts) for ts in transport.sent.values())
    # The slow session's requests queue up behind its slow answers; the others' do not.
    slow_late = max(max(transport.late[sid]) for sid in slow)
    quick_late = max(max(transport.late[sid]) for sid in quick)
    assert slow_late > 600
    assert quick_late < slow_late / 3


def test_lateness_percentiles() -> None:
    lateness = Lateness()
    for late in range(100):
        lateness.add(late, ping=late % 2 == 0)
    figures = lateness.summary()
    assert figures["p50_ms"] == 49
    assert figures["p99_ms"] == 98
    assert figures["max_ms"] == 99
    assert figures["ping_p99_ms"] == 98
    assert Lateness().summary()["p99_ms"] is None
    lateness.add(0.26, ping=True)  # tenths of a millisecond are kept
    assert 2 in lateness.pings
    lateness.reset()
    assert lateness.summary()["max_ms"] is None


def test_a_pacer_maps_simulated_time_to_the_wall_clock() -> None:
    pacer = Pacer(START, speed=1000)
    assert pacer.late_ms(START + 1_000_000) == pytest.approx(-1000, abs=50)
    asyncio.run(pacer.wait_until(START + 50_000))  # 50 ms of wall time
    assert pacer.late_ms(START + 50_000) >= 0
    with pytest.raises(ValueError, match="above 0"):
        Pacer(START, speed=0)


@pytest.mark.parametrize(
    ("full_collections", "automatic", "collects"),
    [(False, True, True), (True, True, False), (False, False, False)],
    ids=["by default", "full_collections=True", "gc disabled by the program"],
)
def test_a_paced_run_collects_young_objects_itself_between_wake_ups(
    monkeypatch: pytest.MonkeyPatch, full_collections: bool, automatic: bool, collects: bool
) -> None:
    # CPython's own trigger let 130,000 young objects pile up among 20,000 live viewers (the
    # old objects of sessions that end count against it): a 100 ms pause, every request due
    # meanwhile that late. A paced run collects them itself, a little at a time, unless told
    # to leave collections to Python or the program has turned them off.
    collected: list[int] = []

    def collect(generation: int = 2) -> int:
        collected.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    work = Workload([load_profile("live-news")], start=START, sessions=20, rate=1.0)
    clock = VirtualClock(START)
    engine = RealtimeEngine(
        clock,
        MemoryTransport(Collector(clock)),
        speed=200,  # a minute in 0.3 s of wall time, whatever the machine
        full_collections=full_collections,
    )
    engine.add_arrivals(work.players(1))
    was_enabled = gc.isenabled()
    if not automatic:
        gc.disable()
    try:
        asyncio.run(engine.run_async(until=START + 60_000))
    finally:
        if was_enabled:
            gc.enable()
    assert engine.stats.requests > 100
    assert bool(collected) is collects
    assert set(collected) <= {0, 1}
