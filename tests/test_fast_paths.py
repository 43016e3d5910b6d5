"""The hot path's shortcuts give the answers the long way would.

(The player's ping shortcut: tests/test_mechanics.py, by the traffic it sends. The body's bytes,
made once: tests/test_wire_bytes.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import Collector, PlayerProtocolError, VirtualClock
from playersim.errors import WireError
from playersim.mca.api import Request
from playersim.mca.conformance import _ping_model
from playersim.mca.dialect import MCA
from playersim.mca.spec import MAX_TS
from playersim.mca.states import SessionState, State, advance
from playersim.mca.wire import (
    BodyModel,
    EventType,
    Ping,
    make_body,
    ping_body,
    plain_ping,
    validate_body,
)


def test_remembered_transitions_still_refuse() -> None:
    ended = advance(advance(SessionState(), "sessionStart"), "sessionEnd")
    for _ in range(2):  # refused transitions are never remembered
        with pytest.raises(PlayerProtocolError):
            advance(ended, "ping")
    with pytest.raises(PlayerProtocolError):
        advance(SessionState(), "noSuchEvent")
    playing = advance(advance(SessionState(), "sessionStart"), "play")
    assert advance(playing, "ping") == SessionState(State.PLAYING)
    assert advance(playing, "ping") is advance(playing, "ping")


def test_request_event_type_is_the_bodys() -> None:
    body = make_body("ping", 0, 1)
    assert Request("/p", body).event_type == "ping"
    assert Request("/p", {}).event_type == ""
    assert Request("/p", body, "ping") == Request("/p", body)


@pytest.mark.parametrize("sid", ["a" * 64, "a/b", "a?b", ""])
def test_the_sid_an_mca_dialect_gives_its_requests_is_the_one_their_path_names(sid: str) -> None:
    """Worked out once per session, not from the path of every request: the same answer."""
    request = MCA.events(sid)(make_body("ping", 0, 1), "ping")
    assert request.sid == Request(request.path, request.body).sid
    assert request.sid == (sid if sid == "a" * 64 else None)


# --- a plain ping: judged without its model, exactly as with it ------------------------------

numbers = (
    st.integers(min_value=-3, max_value=2**53 + 2)
    | st.sampled_from([2**53 - 1, 2**53, 10**20, MAX_TS, MAX_TS + 1, -1, 0, 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([-0.0, 0.5, 2.0**53 - 1, 2.0**53, 1e300])
)
awkward = st.none() | st.booleans() | st.text(max_size=3) | st.just([1]) | st.just({"a": 1})
well_formed = st.builds(
    lambda p, t: {"playhead": p, "ts": t},
    numbers,
    st.integers(min_value=-2, max_value=MAX_TS + 2) | numbers,
)
player_times = st.one_of(
    well_formed,
    well_formed,
    st.dictionaries(
        st.sampled_from(["playhead", "ts", "Playhead", "x"]), numbers | awkward, max_size=3
    ),
)
event_types = st.one_of(
    st.just("ping"),
    st.just("ping"),
    st.sampled_from(["play", "Ping", EventType.PING, "pauseStart"]),
    awkward,
)
extras = st.dictionaries(
    st.sampled_from(["qoeData", "customMetadata", "params", "x"]),
    st.just({}) | st.just({"media.qoe.bitrate": 5}) | st.just({"k": "v"}) | st.none(),
    max_size=2,
)


@st.composite
def ping_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        body["playerTime"] = draw(player_times)
    if draw(st.integers(0, 9)):
        body["eventType"] = draw(event_types)
    body.update(draw(extras))
    return body


@settings(max_examples=800, deadline=None)
@given(ping_bodies())
def test_a_plain_ping_is_accepted_only_as_validation_accepts_it(body: dict[str, Any]) -> None:
    fast = plain_ping(body)
    try:
        slow: BodyModel | None = validate_body(body)
    except WireError:
        slow = None
    if slow is None:
        assert fast is None  # the fast path never takes what validation refuses
        return
    if fast is None:
        return  # left to validation, which decides
    assert isinstance(slow, Ping)
    assert slow.qoe_data is None
    assert slow.custom_metadata is None
    # The numbers as they came, of the same types: what the collector's checks are given.
    assert slow.player_time.playhead is fast["playhead"]
    assert slow.player_time.ts is fast["ts"]
    assert _ping_model(fast["playhead"], fast["ts"]) == slow


def test_a_valid_ping_takes_the_fast_path() -> None:
    for playhead_ms in (0, 1, 999, 1000, 86_399_999):
        assert plain_ping(ping_body(playhead_ms, MAX_TS)) is not None
        assert plain_ping(make_body("ping", playhead_ms, 0)) is not None


def start(content_type: str) -> dict[str, Any]:
    return make_body(
        "sessionStart",
        0,
        1_000,
        params={
            "analytics.trackingServer": "t.sc.omtrdc.net",
            "analytics.reportSuite": "rs",
            "visitor.marketingCloudOrgId": "0123456789ABCDEF01234567@AdobeOrg",
            "media.id": "m",
            "media.length": 600,
            "media.contentType": content_type,
            "media.playerName": "p",
            "media.channel": "c",
        },
    )


@st.composite
def sessions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A session's events after its sessionStart: mostly pings in step with the clock (valid,
    or repeated, late, early, moving wrongly, malformed), with plays and pauses among them."""
    bodies: list[dict[str, Any]] = []
    ts, playhead_ms = 1_000, 0
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["ping"] * 6 + ["play", "pauseStart", "again", "odd"]))
        if kind == "again" and bodies:
            bodies.append(dict(bodies[-1]))
            continue
        if kind == "odd":
            bodies.append(draw(ping_bodies()))
            continue
        step = draw(st.sampled_from([10_000, 10_000, 1, 0, -5, 25_000, 500]))
        ts += step
        if draw(st.booleans()):
            playhead_ms += step + draw(st.sampled_from([0, 0, 0, 1, 200, -3000]))
        playhead_ms = max(0, playhead_ms)
        event = "ping" if kind == "again" else kind
        bodies.append(make_body(event, playhead_ms, max(0, ts)))
    return bodies


@settings(max_examples=200, deadline=None)
@given(sessions(), st.booleans(), st.sampled_from(["vod", "linear"]))
def test_a_collector_judges_pings_the_same_with_or_without_the_fast_path(
    bodies: list[dict[str, Any]], close_by_timeout: bool, content_type: str
) -> None:
    """The same answers, the same conformance problems, the same counts, the same timeouts."""
    seen = []
    for fast in (True, False):
        clock = VirtualClock("2026-01-01T00:00:00Z")
        collector = Collector(clock, keep_events=False)
        collector._fast_pings = fast
        opened = collector.handle("POST", "/api/v1/sessions", start(content_type))
        path = f"{opened.location}/events"
        answers = []
        for body in bodies:
            clock.advance(1)
            answers.append(collector.handle("POST", path, body))
        if close_by_timeout:
            clock.advance(40 * 60)
        session = collector.sessions[0]
        seen.append(
            (
                answers,
                [(p.rule, p.index, p.message) for p in session.problems],
                collector.counts(),
                session.event_count,
                session.close_reason,
                collector.requests_by_event,
                collector.statuses,
            )
        )
    assert seen[0] == seen[1]
