"""`RealtimeEngine(speed=math.inf)`: virtual time over an asyncio transport, as `run --to` uses
it. Each player hears its answers before it moves on, whatever the network's timing; a
transport's bug ends the run instead of hanging it; `stop()` after a run still sends."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from playersim import (
    AsyncMemoryTransport,
    Collector,
    EndpointUnreachableError,
    Engine,
    GiveUp,
    MemoryTransport,
    Player,
    Recorder,
    RunStats,
    TransportError,
    VirtualClock,
    Workload,
    load_profile,
    parse_instant,
    read_replay,
    replay,
)
from playersim.engines.realtime import RealtimeEngine
from playersim.engines.summary import STOPPED
from playersim.mca.api import Request, Response
from playersim.transports.base import AsyncTransport, Transport

START = parse_instant("2026-01-05T20:00:00Z")


def _answer(request: Request, start_number: int) -> Response:
    if request.event_type != "sessionStart":
        return Response(204)
    if start_number == 1:
        return Response(201, location="/api/v1/sessions/" + "a" * 64)
    return Response(400, message="refused")


class _SlowRefusal(AsyncTransport):
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


class _Refusal(Transport):
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


class _Buggy(AsyncTransport):
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


class _OneSlowSession(AsyncTransport):
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


@pytest.mark.slow
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


# --- stopping, and giving up ------------------------------------------------------------------


class _Slow(AsyncTransport):
    """The collector, behind answers that take `delay_s` each (a slow endpoint), counting."""

    def __init__(self, collector: Collector, delay_s: float = 0.002) -> None:
        self.inner = AsyncMemoryTransport(collector)
        self.delay_s = delay_s
        self.answered = 0

    async def send(self, request: Request) -> Response:
        await asyncio.sleep(self.delay_s)
        self.answered += 1
        return await self.inner.send(request)


async def _run_then_stop(engine: RealtimeEngine, stop_when: Callable[[], bool]) -> None:
    """Run, and cancel the run (as Ctrl-C does) once `stop_when()` holds."""
    run = asyncio.ensure_future(engine.run_async())
    while not stop_when():
        await asyncio.sleep(0.001)
        assert not run.done(), "the run ended before it could be stopped"
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


def test_a_stopped_run_drops_its_backlog_and_ends_every_session_right_after_its_request() -> None:
    """Unpaced against a slow endpoint, players are far ahead of their answers (thousands of
    events queued). Stopped: the unsent backlog is dropped and counted, each session's
    sessionEnd goes right after its request in flight (1 ms after it, at its playhead), every
    session the endpoint opened is closed, and the recording stays in order."""
    clock = VirtualClock(START)
    # The endpoint's own clock, as a server's would be: the run's races hours ahead.
    collector = Collector(VirtualClock(START))
    slow = _Slow(collector, delay_s=0.02)
    lines = io.StringIO()
    with Recorder(lines) as recorder:
        engine = RealtimeEngine(clock, slow, speed=math.inf, in_flight=100, recorder=recorder)
        work = Workload([load_profile("live-news")], start=START, sessions=40, rate=10.0)
        engine.add_arrivals(work.players(1))
        asyncio.run(_run_then_stop(engine, lambda: slow.answered >= 100))
    stats = engine.stats
    assert stats.generated == stats.requests + stats.dropped
    # The backlog (simulated hours ahead of the answers): more of it dropped than ever sent.
    assert stats.dropped_by[STOPPED] > stats.requests
    ending = stats.ending
    assert ending is not None
    assert ending.ended == ending.open > len(collector.sessions) / 2
    assert ending.not_ended == {}
    counts = collector.counts()
    assert (counts.open, counts.complete, counts.problems) == (0, 0, {})
    assert counts.closed == {"sessionEnd": len(collector.sessions)}
    assert stats.outcomes["stopped"] == ending.ended
    cut = 0
    for session in collector.sessions:
        before, end = session.events[-2:]
        assert end.event_type == "sessionEnd"
        cut += (end.ts, end.playhead) == (before.ts + 1, before.playhead)
    assert cut >= ending.ended  # each 1 ms after the request that was in flight
    recorded = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert len(recorded) == stats.requests
    for sid in {line["session"] for line in recorded}:
        stamps = [line["body"]["playerTime"]["ts"] for line in recorded if line["session"] == sid]
        assert stamps == sorted(stamps)


class _Silent(AsyncTransport):
    """An endpoint that never answers, and never fails: each request waits for ever."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, request: Request) -> Response:
        self.sent += 1
        await asyncio.Event().wait()
        raise AssertionError("never answered")


@pytest.mark.parametrize("in_flight", [1, 50])
def test_an_endpoint_that_answers_nothing_is_given_up_on_in_the_give_up_time(
    in_flight: int,
) -> None:
    """Every request hangs (a black hole, or retries that never end): no queue ever drains,
    yet the run ends when the give-up time passes without an answer, every viewing cut off
    and every request it made accounted for."""
    silent = _Silent()
    engine = RealtimeEngine(
        VirtualClock(START), silent, speed=math.inf, in_flight=in_flight, give_up=GiveUp(0.3)
    )
    work = Workload([load_profile("live-news")], start=START, sessions=40, rate=10.0)
    engine.add_arrivals(work.players(1))
    with pytest.raises(EndpointUnreachableError, match=r"no answer from the endpoint for 0.3 s"):
        asyncio.run(engine.run_async())
    stats = engine.stats
    assert silent.sent == stats.requests > 0
    assert stats.statuses["no answer"] == stats.requests
    assert stats.generated == stats.requests + stats.dropped
    assert set(stats.outcomes) == {"cut off"}


def test_replay_gives_up_by_the_same_rule_in_the_same_words(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    clock = VirtualClock(START)
    with Recorder(path) as recorder:
        engine = Engine(clock, MemoryTransport(Collector(clock)), recorder=recorder)
        engine.add(Player(load_profile("live-news"), seed=1, start_at=START))
        engine.run()
    with pytest.raises(EndpointUnreachableError) as gave_up:
        asyncio.run(replay(read_replay(path), _Silent(), speed=None, give_up=GiveUp(0.3)))
    assert str(gave_up.value).startswith("gave up: no answer from the endpoint for 0.3 s (")
    stats = gave_up.value.stats
    assert isinstance(stats, RunStats)
    assert stats.generated == stats.requests + stats.dropped > 0


class _FailsFirst(AsyncTransport):
    """An endpoint whose first request gets no answer; every other is answered at once."""

    def __init__(self, collector: Collector) -> None:
        self.inner = AsyncMemoryTransport(collector)
        self.calls = 0

    async def send(self, request: Request) -> Response:
        self.calls += 1
        if self.calls == 1:
            raise TransportError("POST", "http://127.0.0.1:9/", "cannot connect: refused")
        return await self.inner.send(request)


def test_time_with_nothing_to_send_is_not_time_waited_for_an_answer() -> None:
    """A paced run: the first viewer's sessionStart gets no answer, and the next viewer comes
    later than the give-up time. Nobody was waited for meanwhile: the run goes on."""
    clock = VirtualClock(START)
    collector = Collector(clock)
    engine = RealtimeEngine(clock, _FailsFirst(collector), speed=10, give_up=GiveUp(0.3))
    for index, at in enumerate([START, START + 5_000]):  # the second 0.5 s (wall) later
        engine.add(Player(load_profile("ugc-clip"), seed=1, index=index, start_at=at))
    asyncio.run(engine.run_async(until=START + 20_000))
    assert engine.stats.outcomes["unreachable"] == 1
    assert len(collector.sessions) == 1  # the second viewer played
