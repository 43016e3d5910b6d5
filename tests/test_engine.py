"""The engine: wake-ups in time order, ordered delivery per session, and accounting that adds up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from playersim import (
    Collector,
    EndpointUnreachableError,
    Engine,
    GiveUp,
    MemoryTransport,
    Outbox,
    Player,
    RealtimeEngine,
    Request,
    Response,
    TransportError,
    VirtualClock,
    load_profile,
    parse_instant,
)
from playersim.mca.wire import make_body
from playersim.transports.base import Transport
from tests.conftest import START

T0 = parse_instant(START)


class ScriptedTransport(Transport):
    """A transport whose answers a test decides, in front of a real collector."""

    def __init__(self, collector: Collector, answer: Callable[[Request], Response | None]) -> None:
        self.inner = MemoryTransport(collector)
        self.answer = answer
        self.seen: list[Request] = []

    def send(self, request: Request) -> Response:
        self.seen.append(request)
        override = self.answer(request)
        if override is not None:
            return override
        return self.inner.send(request)


def test_advance_serves_every_wake_up_on_the_way_in_time_order(
    clock: VirtualClock, collector: Collector, engine: Engine
) -> None:
    """Players started at different instants are served in global time order."""
    profile = load_profile("live-news")
    engine.add(Player(profile, seed=1, index=0, start_at=T0 + 5_000))
    engine.add(Player(profile, seed=1, index=1, start_at=T0))
    engine.advance(120)
    assert clock.now() == T0 + 120_000
    assert len(collector.sessions) == 2
    arrivals = [event.received_at for s in collector.sessions for event in s.events]
    # Each event arrives at the instant it happened (ts may be a few ms later: same-instant
    # events are spread 1 ms apart).
    for session in collector.sessions:
        for event in session.events:
            assert 0 <= event.ts - event.received_at < 50
    assert min(arrivals) == T0
    assert collector.sessions[0].events[0].ts == T0  # the earlier player opened first


def test_run_finishes_every_session_and_counts_outcomes(engine: Engine) -> None:
    """run() serves until every player is done; outcomes and requests are all accounted for."""
    for index in range(12):
        engine.add(Player(load_profile("vod-episode"), seed=4, index=index, start_at=T0))
    engine.run()
    stats = engine.stats
    assert engine.active == 0
    assert sum(stats.outcomes.values()) == 12
    assert set(stats.outcomes) <= {"completed", "left", "failed to start"}
    assert stats.generated == stats.requests + stats.dropped
    assert stats.accepted == stats.requests
    # One session a viewing, and one more for each viewing back from a pause of 30 minutes.
    assert stats.statuses["201"] == stats.sessions_started == 12 + stats.resumed


def test_events_wait_for_the_session_id_and_go_out_in_order() -> None:
    """Nothing but sessionStart leaves before the 201; then events follow in order."""
    outbox = Outbox()
    outbox.push([make_body("sessionStart", 0, 1, params={"x": 1}), make_body("play", 0, 2)])
    start = outbox.next_request()
    assert start is not None
    assert start.path == "/api/v1/sessions"
    assert outbox.next_request() is None  # one in flight at a time
    outbox.settle(start, Response(201, location="/api/v1/sessions/" + "ab" * 32))
    play = outbox.next_request()
    assert play is not None
    assert play.path == f"/api/v1/sessions/{'ab' * 32}/events"
    assert play.event_type == "play"


def test_a_refused_session_start_drops_its_events_and_counts_them(
    clock: VirtualClock, collector: Collector
) -> None:
    """A 500 on sessionStart: the session's later events are dropped, counted, never sent."""
    transport = ScriptedTransport(
        collector,
        lambda r: Response(500, message="boom") if r.event_type == "sessionStart" else None,
    )
    engine = Engine(clock, transport)
    engine.add(Player(load_profile("vod-movie"), seed=1, start_at=T0))
    engine.run()
    assert [r.event_type for r in transport.seen] == ["sessionStart"]
    assert engine.stats.statuses["500"] == 1
    assert engine.stats.outcomes["rejected"] == 1
    assert engine.stats.problems == ["sessionStart: 500 boom"]
    assert engine.stats.generated == engine.stats.requests + engine.stats.dropped


def test_a_410_opens_a_resumed_session_and_carries_on(
    clock: VirtualClock, collector: Collector
) -> None:
    """After a 410 on an event the player opens a new session with media.resume and goes on."""
    pings = 0

    def gone_on_third_ping(request: Request) -> Response | None:
        nonlocal pings
        if request.event_type == "ping":
            pings += 1
            if pings == 3:
                return Response(410, message="gone")
        return None

    transport = ScriptedTransport(collector, gone_on_third_ping)
    engine = Engine(clock, transport)
    engine.add(Player(load_profile("vod-episode"), seed=1, start_at=T0))
    engine.run()
    kinds = [r.event_type for r in transport.seen]
    assert kinds.count("sessionStart") == 2
    gone = [i for i, r in enumerate(transport.seen) if r.event_type == "ping"][2]
    resumed = transport.seen[gone + 1]
    assert resumed.event_type == "sessionStart"
    assert resumed.body["params"]["media.resume"] is True
    assert resumed.body["playerTime"]["ts"] > transport.seen[gone].body["playerTime"]["ts"]
    assert len(collector.sessions) == 2
    assert collector.sessions[1].problems == []
    assert engine.stats.failed == 1
    assert set(engine.stats.outcomes) <= {"completed", "left"}


class Outage(Transport):
    """A transport in front of a collector that goes down: requests `down` (numbered from 0)
    get no answer, each after `timeout_s` of a fake monotonic clock (a client timeout: nothing
    really waits); the rest are answered at once. With `restart`, the collector that comes back
    is a new one, which knows none of the sessions opened before."""

    def __init__(
        self,
        clock: VirtualClock,
        down: range,
        *,
        timeout_s: float = 1.0,
        restart: bool = True,
    ) -> None:
        self.clock = clock
        self.before = Collector(clock, seed="before")
        self.after = Collector(clock, seed="after") if restart else self.before
        self.down = down
        self.timeout_s = timeout_s
        self.seconds = 0.0  # the fake monotonic clock the give-up rule reads
        self.calls = 0

    def now(self) -> float:
        return self.seconds

    def send(self, request: Request) -> Response:
        number = self.calls
        self.calls += 1
        if number in self.down:
            self.seconds += self.timeout_s
            raise TransportError("POST", "http://127.0.0.1:9/", "cannot connect: refused")
        self.seconds += 0.001
        collector = self.before if number < self.down.start else self.after
        return collector.handle("POST", request.path, request.body)


def viewers(engine: Engine, count: int) -> None:
    for index in range(count):
        engine.add(Player(load_profile("live-news"), seed=1, index=index, start_at=T0))


def test_an_endpoint_silent_for_the_give_up_time_ends_the_run(clock: VirtualClock) -> None:
    """Nothing answers, each request after a second's timeout: the run gives up once 30 s have
    passed without an answer, however many requests that took, and says so."""
    dead = Outage(clock, range(10**9), timeout_s=1.0)
    engine = Engine(clock, dead, give_up=GiveUp(30, now=dead.now))
    viewers(engine, 100)
    with pytest.raises(EndpointUnreachableError) as gave_up:
        engine.run()
    assert str(gave_up.value).startswith(
        "gave up: no answer from the endpoint for 30 s (30 requests in a row got none; the "
        "last: POST http://127.0.0.1:9/: cannot connect: refused)"
    )
    assert dead.calls == 30
    assert engine.stats.statuses["no answer"] == 30
    assert engine.stats.answer_lost == 30  # TransportError's default: it may have arrived


@pytest.mark.parametrize(("give_up_s", "survived"), [(30, True), (15, False)])
def test_a_collector_back_within_the_give_up_time_is_ridden_out(
    clock: VirtualClock, give_up_s: float, survived: bool
) -> None:
    """A collector restarts: 20 s without an answer. Waiting 30 s rides it out: the sessions
    it lost carry on in new ones, with media.resume, as on any 404. Waiting 15 s gives up."""
    outage = Outage(clock, range(200, 220), timeout_s=1.0)
    engine = Engine(clock, outage, give_up=GiveUp(give_up_s, now=outage.now))
    viewers(engine, 10)
    if not survived:
        with pytest.raises(EndpointUnreachableError, match="for 15 s"):
            engine.run()
        assert outage.calls == 215
        return
    engine.run()
    stats = engine.stats
    assert stats.statuses["no answer"] == 20
    assert stats.statuses["404"] > 0  # the sessions the new collector never knew ...
    resumed = [s for s in outage.after.sessions if s.start.params.resume]
    assert resumed  # ... went on in new ones
    assert all(s.problems == [] for s in resumed)
    assert stats.generated == stats.requests + stats.dropped
    assert "cut off" not in stats.outcomes


def test_a_201_without_a_session_id_is_not_counted_as_accepted(
    clock: VirtualClock, collector: Collector
) -> None:
    """A 201 whose Location names no session loses the session: counted and explained."""
    transport = ScriptedTransport(
        collector,
        lambda r: (
            Response(201, location="/somewhere/else") if r.event_type == "sessionStart" else None
        ),
    )
    engine = Engine(clock, transport)
    engine.add(Player(load_profile("live-news"), seed=1, start_at=T0))
    engine.run()
    assert engine.stats.accepted == 0
    assert engine.stats.statuses["201 without a session id"] == 1
    assert "201 without a usable Location" in engine.stats.problems[0]


class Killed(BaseException):
    """What a killed greenlet raises (gevent's GreenletExit), or Ctrl-C: not an Exception."""


def test_a_send_cut_short_is_settled_so_stop_can_still_end_the_session() -> None:
    """Ctrl-C, or Locust killing a user's greenlet, lands in the middle of a send: the
    request's fate is unknown, so it is counted as unanswered and the session is not left
    with a request in flight for ever. `stop()` then sends its sessionEnd."""
    clock = VirtualClock(START)
    collector = Collector(clock)
    kills = [1]

    def answer(request: Request) -> Response | None:
        if request.event_type == "ping" and kills:
            kills.pop()
            raise Killed
        return None

    engine = Engine(clock, ScriptedTransport(collector, answer))
    engine.add(Player(load_profile("live-news"), seed=4))
    with pytest.raises(Killed):
        engine.advance(600)
    interrupted = engine.stats.requests
    engine.stop()
    session = collector.sessions[0]
    assert session.event_types[-1] == "sessionEnd"
    assert session.close_reason == "sessionEnd"
    assert engine.stats.requests == interrupted + 1  # the cut-short one counted, then the end
    assert engine.stats.statuses["no answer"] == 1
    assert engine.stats.outcomes == {"stopped": 1}


def test_a_stop_says_which_sessions_it_ended_and_why_others_could_not_be(
    clock: VirtualClock, collector: Collector
) -> None:
    """Three viewers stopped: one sessionEnd accepted, one refused (410), one unanswered. The
    stop's account says so, in words a person reads after Ctrl-C."""
    ends = iter(["ok", "gone", "silent"])

    def answer(request: Request) -> Response | None:
        if request.event_type != "sessionEnd" or not engine.stopping:
            return None  # (a viewer who leaves before the stop ends their own session)
        fate = next(ends)
        if fate == "gone":
            return Response(410, message="closed")
        if fate == "silent":
            raise TransportError("POST", "http://127.0.0.1:9/", "no answer within 10 s")
        return None

    engine = Engine(clock, ScriptedTransport(collector, answer))
    for index in range(4):
        engine.add(Player(load_profile("live-news"), seed=1, index=index, start_at=T0))
    engine.advance(60)
    assert engine.stats.outcomes == {"left": 1}  # one of them left within the minute
    engine.stop()
    ending = engine.stats.ending
    assert ending is not None
    assert (ending.open, ending.ended) == (3, 1)
    assert ending.not_ended == {
        "its session was closed already (410)": 1,
        "its sessionEnd got no answer": 1,
    }
    assert ending.said() == (
        "1 of 3 open sessions were ended with a sessionEnd; 2 could not be "
        "(1: its session was closed already (410); 1: its sessionEnd got no answer)"
    )
    assert engine.stats.outcomes == {"left": 1, "stopped": 3}


def test_a_signal_mid_wake_up_does_not_hide_that_the_run_gave_up() -> None:
    """A signal handler sets `stopping` while a request to a dead endpoint is out: the run
    still gives up on the endpoint (and says so), rather than return as if stopped."""
    clock = VirtualClock(START)

    class Dead(Transport):
        def send(self, request: Request) -> Response:
            engine.stopping = True  # Ctrl-C arrives while this request waits
            raise TransportError("POST", "http://127.0.0.1:9", "connection refused")

    seconds = iter(range(0, 1000, 10))  # the give-up's clock: 10 s pass between two looks
    engine = Engine(clock, Dead(), give_up=GiveUp(1, now=lambda: float(next(seconds))))
    engine.add(Player(load_profile("ugc-clip"), seed=1))
    with pytest.raises(EndpointUnreachableError):
        engine.run()
    assert engine.gave_up


def test_an_asyncio_transport_that_does_not_say_so_is_refused_by_name() -> None:
    class Duck:
        async def send(self, request: Request) -> Response:
            return Response(204)

    with pytest.raises(TypeError, match=r"Duck\.send is a coroutine function.*AsyncTransport"):
        RealtimeEngine(VirtualClock(START), Duck())  # type: ignore[arg-type]
