"""The engine: wake-ups in time order, ordered delivery per session, and accounting that adds up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from playersim import (
    Collector,
    EndpointUnreachableError,
    Engine,
    MemoryTransport,
    Outbox,
    Player,
    Request,
    Response,
    TransportError,
    VirtualClock,
    load_profile,
    parse_instant,
)
from playersim.wire import make_body
from tests.conftest import START

T0 = parse_instant(START)


class ScriptedTransport:
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
    assert set(stats.outcomes) <= {"completed", "left"}
    assert stats.generated == stats.requests + stats.dropped
    assert stats.accepted == stats.requests
    assert stats.statuses["201"] == 12


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
    engine.add(Player(load_profile("vod-episode"), seed=2, start_at=T0))
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


def test_an_endpoint_that_never_answers_ends_the_run_instead_of_hanging(
    clock: VirtualClock,
) -> None:
    """Twenty requests in a row without an answer abort the run with a clear error."""

    class Dead:
        calls = 0

        def send(self, request: Request) -> Response:
            Dead.calls += 1
            raise TransportError("POST", "http://127.0.0.1:9/api/v1/sessions", "refused")

    engine = Engine(clock, Dead())
    for index in range(100):
        engine.add(Player(load_profile("live-news"), seed=1, index=index, start_at=T0))
    with pytest.raises(EndpointUnreachableError, match="20 requests in a row got no answer"):
        engine.run()
    assert Dead.calls == 20
    assert engine.stats.statuses["no answer"] == 20


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
