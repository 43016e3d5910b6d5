"""The collector: answers like the MCA (MCA-SPEC.md section 1), times sessions out on its own
clock (section 5), and reports the session-level rules the real API cannot check (sections 4, 5).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from playersim import (
    CollectedSession,
    Collector,
    Engine,
    MemoryTransport,
    Player,
    Response,
    Rule,
    VirtualClock,
    load_profile,
    parse_instant,
)
from playersim.mca.api import events_path
from playersim.mca.collector import FORGOTTEN_PROBLEMS_KEPT
from playersim.mca.wire import WireBody, make_body
from tests.conftest import START

T0 = parse_instant(START)  # 2026-11-27T12:00:00Z: second 43200 of the UTC day
NOON_SECOND = 43_200
SESSIONS = "/api/v1/sessions"
LOCATION = re.compile(r"^/api/v1/sessions/([0-9a-f]{64})$")


def ms(seconds: float) -> int:
    """Seconds as integer milliseconds."""
    return round(seconds * 1000)


def start_params(*, content_type: str = "vod", length: float = 60) -> dict[str, Any]:
    """The required sessionStart params of MCA-SPEC.md section 3, and nothing else."""
    return {
        "analytics.trackingServer": "example.sc.omtrdc.net",
        "analytics.reportSuite": "example-rsid",
        "visitor.marketingCloudOrgId": "0123456789ABCDEF01234567@AdobeOrg",
        "media.id": "movie-1",
        "media.length": length,
        "media.contentType": content_type,
        "media.playerName": "html5",
        "media.channel": "movies",
    }


def session_start(
    *, at: float = 0, playhead: float = 0, content_type: str = "vod", length: float = 60
) -> WireBody:
    """A minimal valid sessionStart body, `at` seconds after T0."""
    params = start_params(content_type=content_type, length=length)
    return make_body("sessionStart", ms(playhead), T0 + ms(at), params=params)


def player_session_start(profile: str = "vod-movie") -> WireBody:
    """The first body a real Player of a bundled profile sends, at T0."""
    player = Player(load_profile(profile), seed=1, start_at=T0)
    wake = player.next_wakeup
    assert wake is not None
    return player.due(wake)[0]


class Viewer:
    """Drives one session: opens it, then posts events at given seconds after T0."""

    def __init__(
        self,
        collector: Collector,
        clock: VirtualClock,
        *,
        content_type: str = "vod",
        length: float = 60,
        playhead: float = 0,
        at: float = 0,
        custom: dict[str, str] | None = None,
    ) -> None:
        self.collector = collector
        self.clock = clock
        clock.advance_to(T0 + ms(at))
        body = session_start(at=at, playhead=playhead, content_type=content_type, length=length)
        if custom:
            body["customMetadata"] = custom
        response = collector.handle("POST", SESSIONS, body)
        assert response.status == 201, response.message
        assert response.sid is not None
        self.sid = response.sid

    def send(
        self, at: float, event_type: str, playhead: float, *, ts: int | None = None, **parts: Any
    ) -> Response:
        """Post `event_type` at `at` seconds after T0 (ts = that instant unless given)."""
        self.clock.advance_to(T0 + ms(at))
        sent_ts = T0 + ms(at) if ts is None else ts
        body = make_body(event_type, ms(playhead), sent_ts, **parts)
        return self.collector.handle("POST", events_path(self.sid), body)

    def play(self, steps: list[tuple[float, str, float]]) -> None:
        """Post (at, eventType, playhead) steps, each of which must be accepted with 204."""
        for at, event_type, playhead in steps:
            response = self.send(at, event_type, playhead)
            assert response.status == 204, (at, event_type, response.message)

    @property
    def session(self) -> CollectedSession:
        return self.collector.session(self.sid)

    def rules(self) -> list[Rule]:
        return [problem.rule for problem in self.session.problems]


AD_BREAK = {"media.ad.podIndex": 0, "media.ad.podSecond": 0}
AD = {
    "media.ad.id": "ad-1",
    "media.ad.length": 15,
    "media.ad.podPosition": 1,
    "media.ad.playerName": "html5",
}


def chapter(index: int, offset: float) -> dict[str, Any]:
    """chapterStart params of a 30 s chapter."""
    return {
        "media.chapter.index": index,
        "media.chapter.offset": offset,
        "media.chapter.length": 30,
    }


# --- answers -------------------------------------------------------------------------------------


def test_a_players_session_start_gets_201_and_a_location_with_a_64_hex_sid(
    collector: Collector,
) -> None:
    """A real Player's sessionStart, as JSON bytes, gets 201 and Location /api/v1/sessions/<sid>."""
    response = collector.handle("POST", SESSIONS, json.dumps(player_session_start()).encode())
    assert response.status == 201
    assert response.location is not None
    match = LOCATION.match(response.location)
    assert match is not None
    assert response.sid == match.group(1)
    assert response.message is None
    assert [session.sid for session in collector.sessions] == [response.sid]


def test_a_minimal_session_start_gets_201(collector: Collector) -> None:
    """A sessionStart with only the required params opens a session (201, 64-hex Location)."""
    response = collector.handle("POST", SESSIONS, session_start())
    assert response.status == 201
    assert LOCATION.match(response.location or "")
    assert collector.sessions[0].event_types == ["sessionStart"]


def test_sids_are_deterministic_per_seed_and_differ_between_seeds(clock: VirtualClock) -> None:
    """Two collectors with one seed issue the same sids; another seed issues other sids."""

    def sids(seed: int | str) -> list[str]:
        collector = Collector(clock=clock, seed=seed)
        return [collector.handle("POST", SESSIONS, session_start()).sid or "" for _ in range(3)]

    first = sids(7)
    assert first == sids(7)
    assert len(set(first)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{64}", sid) for sid in first)
    assert set(first).isdisjoint(sids(8))
    assert set(first).isdisjoint(sids("seven"))


def test_a_valid_event_gets_204(collector: Collector, clock: VirtualClock) -> None:
    """A valid event posted to an open session's events path is answered 204, no body."""
    viewer = Viewer(collector, clock)
    response = viewer.send(0.001, "play", 0)
    assert response == Response(204)
    assert viewer.session.event_types == ["sessionStart", "play"]


def test_a_bad_session_start_gets_400_naming_the_field(collector: Collector) -> None:
    """A sessionStart missing a required param is a 400 whose message names params.media.id."""
    body = session_start()
    del body["params"]["media.id"]
    response = collector.handle("POST", SESSIONS, body)
    assert response.status == 400
    assert response.message == "sessionStart: params.media.id: required"
    assert response.location is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"playerTime": {"playhead": "1", "ts": T0 + 1}},
            "play: playerTime.playhead: must be a number, not a string",
        ),
        ({"playerTime": {"playhead": 0, "ts": T0 + 1.5}}, "play: playerTime.ts: "),
        ({"params": {"media.id": "x"}}, "play: params.media.id: unknown key"),
        ({"eventType": "resume"}, 'eventType: "resume" is not an MCA event type'),
    ],
)
def test_a_bad_event_gets_400_naming_the_field(
    collector: Collector, clock: VirtualClock, change: dict[str, Any], message: str
) -> None:
    """A malformed event on the events path is a 400 whose message names the failing field."""
    viewer = Viewer(collector, clock)
    body = {**make_body("play", 0, T0 + 1), **change}
    response = collector.handle("POST", events_path(viewer.sid), body)
    assert response.status == 400
    assert response.message is not None
    assert response.message.startswith(message)


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"{not json", "the body is not valid JSON: "),
        (b"", "the body is not valid JSON: "),
        ("{'eventType': 'play'}", "the body is not valid JSON: "),
        (b"\xff\xfe", "the body is not UTF-8 text (it looks like UTF-16"),
    ],
)
@pytest.mark.parametrize("endpoint", ["sessions", "events"])
def test_raw_bytes_that_are_not_json_get_400(
    collector: Collector, clock: VirtualClock, endpoint: str, raw: bytes | str, said: str
) -> None:
    """A body that is not JSON in UTF-8 is a 400 that says so, on either endpoint."""
    path = SESSIONS if endpoint == "sessions" else events_path(Viewer(collector, clock).sid)
    response = collector.handle("POST", path, raw)
    assert response.status == 400
    assert (response.message or "").startswith(said)


@pytest.mark.parametrize("endpoint", ["sessions", "events"])
def test_a_json_body_that_is_not_an_object_gets_400(
    collector: Collector, clock: VirtualClock, endpoint: str
) -> None:
    """A JSON array body is a 400 saying the body must be an object, on either endpoint."""
    path = SESSIONS if endpoint == "sessions" else events_path(Viewer(collector, clock).sid)
    response = collector.handle("POST", path, b"[]")
    assert response == Response(400, message="the body must be a JSON object, got an array")


def test_a_non_session_start_on_the_sessions_path_gets_400(collector: Collector) -> None:
    """Posting a play to /api/v1/sessions is a 400 saying that path takes a sessionStart."""
    response = collector.handle("POST", SESSIONS, make_body("play", 0, T0))
    assert response.status == 400
    assert "takes a sessionStart body, not play" in (response.message or "")
    assert collector.sessions == []


def test_a_session_start_on_the_events_path_gets_400(
    collector: Collector, clock: VirtualClock
) -> None:
    """Posting a sessionStart to a session's events path is a 400 pointing to /api/v1/sessions."""
    viewer = Viewer(collector, clock)
    response = collector.handle("POST", events_path(viewer.sid), session_start(at=0.001))
    assert response.status == 400
    assert response.message == f"sessionStart opens a session: POST it to {SESSIONS}"
    assert len(collector.sessions) == 1


def test_an_unknown_sid_gets_404(collector: Collector, clock: VirtualClock) -> None:
    """An event for a sid the collector never issued is a 404 naming the sid."""
    Viewer(collector, clock)
    sid = "0" * 64
    response = collector.handle("POST", events_path(sid), make_body("play", 0, T0 + 1))
    assert response.status == 404
    assert response.message == f"unknown session id {sid!r}"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1/session",
        "/api/v2/sessions",
        "/api/v1/sessions/{sid}",
        "/api/v1/sessions/{sid}/event",
        "/api/v1/sessions/{sid}/events/more",
        "/api/v1/sessions//events",
    ],
)
def test_an_unknown_path_gets_404(collector: Collector, clock: VirtualClock, path: str) -> None:
    """A POST to a path that is not an MCA endpoint is a 404 'no such endpoint'."""
    path = path.format(sid=Viewer(collector, clock).sid)
    response = collector.handle("POST", path, make_body("play", 0, T0 + 1))
    assert response.status == 404
    assert response.message == f"no such endpoint: {path}"
    assert collector.sessions[0].event_types == ["sessionStart"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
@pytest.mark.parametrize("endpoint", ["sessions", "events"])
def test_a_method_other_than_post_gets_405(
    collector: Collector, clock: VirtualClock, method: str, endpoint: str
) -> None:
    """Any method but POST on either endpoint is a 405 saying to use POST, and opens nothing."""
    path = SESSIONS if endpoint == "sessions" else events_path(Viewer(collector, clock).sid)
    response = collector.handle(method, path, session_start())
    assert response.status == 405
    assert response.message == f"{method} is not allowed on {path}: use POST"
    assert len(collector.sessions) == (0 if endpoint == "sessions" else 1)


# --- closing -------------------------------------------------------------------------------------


def test_events_after_session_end_get_410(collector: Collector, clock: VirtualClock) -> None:
    """sessionComplete leaves the session open; sessionEnd closes it, and later events get 410."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (5, "sessionComplete", 4.999), (10, "ping", 4.999)])
    assert viewer.session.open
    assert viewer.send(12, "sessionEnd", 4.999).status == 204
    assert viewer.session.close_reason == "sessionEnd"
    assert viewer.session.closed_at == T0 + 12_000
    response = viewer.send(13, "ping", 4.999)
    assert response.status == 410
    assert response.message == f"session {viewer.sid} is closed (sessionEnd)"
    assert viewer.session.event_types[-1] == "sessionEnd"


def test_an_event_exactly_ten_minutes_after_the_last_is_accepted(
    collector: Collector, clock: VirtualClock
) -> None:
    """600 s without an event is not yet a timeout: an event at exactly 600 s gets 204."""
    viewer = Viewer(collector, clock)
    assert viewer.send(600, "play", 0).status == 204
    assert viewer.session.open


def test_ten_minutes_without_events_closes_the_session(
    collector: Collector, clock: VirtualClock
) -> None:
    """An event more than 600 s after the previous one gets 410: the session timed out."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0)])
    response = viewer.send(600.002, "ping", 600.001)
    assert response.status == 410
    assert response.message == f"session {viewer.sid} is closed (idle timeout)"
    assert viewer.session.close_reason == "idle timeout"
    assert viewer.session.closed_at == T0 + 600_001


def test_thirty_minutes_without_a_playhead_change_closes_the_session_despite_pings(
    collector: Collector, clock: VirtualClock
) -> None:
    """A paused session pinging every 10 s is closed (410) 30 minutes after its playhead moved."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (10.001, "pauseStart", 10)])
    # The playhead last changed at 10.001 s; the ping at exactly 30 minutes after is accepted.
    viewer.play([(10.001 + 10 * n, "ping", 10) for n in range(1, 181)])
    response = viewer.send(1820.001, "ping", 10)
    assert response.status == 410
    assert response.message == f"session {viewer.sid} is closed (playhead stalled)"
    assert viewer.session.close_reason == "playhead stalled"
    assert viewer.session.closed_at == T0 + 1_810_001


def test_a_rejected_request_is_not_stored(collector: Collector, clock: VirtualClock) -> None:
    """A 400 leaves no trace: no event stored, no session opened, no idle timer reset."""
    viewer = Viewer(collector, clock)
    bad = make_body("play", 0, T0 + 300_000, custom={"a.reserved": "x"})
    clock.advance_to(T0 + 300_000)
    assert collector.handle("POST", events_path(viewer.sid), bad).status == 400
    assert collector.handle("POST", SESSIONS, {"eventType": "sessionStart"}).status == 400
    assert viewer.session.event_types == ["sessionStart"]
    assert len(collector.sessions) == 1
    # Only the sessionStart at 0 counts: 600.001 s later the session has timed out.
    assert viewer.send(600.001, "play", 0).status == 410
    # The rejected sessionStart left no trace: the next one gets the sid a fresh collector gives.
    fresh = Collector(clock=clock)
    assert collector.handle("POST", SESSIONS, session_start(at=600.001)).sid == (
        fresh.handle("POST", SESSIONS, session_start(at=600.001)).sid
    )


def test_sids_do_not_depend_on_the_order_sessions_arrive(clock: VirtualClock) -> None:
    """Concurrent sessions may reach a server in any order; each still gets the same sid."""
    first, second = session_start(at=0), session_start(at=1)
    one, other = Collector(clock, seed=3), Collector(clock, seed=3)
    a1, b1 = (one.handle("POST", SESSIONS, body).sid for body in (first, second))
    b2, a2 = (other.handle("POST", SESSIONS, body).sid for body in (second, first))
    assert (a1, b1) == (a2, b2)
    assert a1 != b1
    # The same sessionStart twice opens two sessions, with two sids.
    assert one.handle("POST", SESSIONS, first).sid not in (a1, b1)
    assert Collector(clock, seed=4).handle("POST", SESSIONS, first).sid != a1


def test_sessions_keep_their_accepted_events_in_order(
    collector: Collector, clock: VirtualClock
) -> None:
    """collector.sessions[i].events holds each accepted event with type, playhead, ts, params."""
    first = Viewer(collector, clock)
    second = Viewer(collector, clock, at=1)
    first.send(2, "adBreakStart", 0, params=AD_BREAK)
    first.send(2.001, "adStart", 0, params=AD)
    first.send(5.5, "ping", 0)
    assert [s.sid for s in collector.sessions] == [first.sid, second.sid]
    events = collector.sessions[0].events
    assert [e.event_type for e in events] == ["sessionStart", "adBreakStart", "adStart", "ping"]
    assert [e.ts for e in events] == [T0, T0 + 2000, T0 + 2001, T0 + 5500]
    assert [e.received_at for e in events] == [T0, T0 + 2000, T0 + 2001, T0 + 5500]
    assert [e.playhead for e in events] == [0, 0, 0, 0]
    assert events[0].params == start_params()
    assert events[1].params == AD_BREAK
    assert events[2].params == AD
    assert events[3].params == {}
    assert collector.sessions[1].event_types == ["sessionStart"]
    assert collector.sessions[1].events[0].ts == T0 + 1000


def test_expire_closes_idle_and_stalled_sessions_with_a_reason(
    collector: Collector, clock: VirtualClock
) -> None:
    """collector.expire() closes timed-out sessions (reason, instant) and leaves others open."""
    idle = Viewer(collector, clock)
    paused = Viewer(collector, clock)
    paused.play([(0.001, "play", 0), (10, "pauseStart", 9.999)])
    paused.play([(10 + 10 * n, "ping", 9.999) for n in range(1, 60)])  # up to 600 s
    clock.advance_to(T0 + 600_001)
    collector.expire()
    assert (idle.session.open, idle.session.close_reason) == (False, "idle timeout")
    assert idle.session.closed_at == T0 + 600_000
    assert (paused.session.open, paused.session.close_reason) == (True, None)
    paused.play([(10 + 10 * n, "ping", 9.999) for n in range(60, 180)])  # up to 1800 s
    clock.advance_to(T0 + 1_815_000)
    collector.expire()
    assert (paused.session.open, paused.session.close_reason) == (False, "playhead stalled")
    assert paused.session.closed_at == T0 + 1_810_000


def test_statuses_count_every_answer(collector: Collector, clock: VirtualClock) -> None:
    """collector.statuses counts the answers given, by status code."""
    viewer = Viewer(collector, clock)
    viewer.send(1, "play", 0)
    viewer.send(2, "sessionEnd", 1)
    viewer.send(3, "ping", 1)
    collector.handle("POST", SESSIONS, b"nope")
    collector.handle("POST", SESSIONS, make_body("play", 0, T0))
    collector.handle("POST", events_path("f" * 64), make_body("play", 0, T0))
    collector.handle("GET", SESSIONS, b"")
    assert collector.statuses == Counter({201: 1, 204: 2, 410: 1, 400: 2, 404: 1, 405: 1})


# --- conformance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ts", [T0, T0 - 1])
def test_a_ts_that_does_not_increase_is_flagged(
    collector: Collector, clock: VirtualClock, ts: int
) -> None:
    """An event whose ts is not after the previous event's is a ts-order problem (still 204)."""
    viewer = Viewer(collector, clock)
    assert viewer.send(0.001, "play", 0, ts=ts).status == 204
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.TS_ORDER, 1)
    assert problem.message == f"ts {ts} is not after the previous event's {T0}"


def test_a_gap_over_a_second_past_the_ping_interval_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """Up to 11 s between events is fine (a real player's ping lands a little late);
    11.001 s is a gap problem naming the state."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (11.001, "ping", 11), (22.002, "ping", 22.001)])
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.GAP, 3)
    assert problem.message == (
        "11.001 s without an event while playing (a ping every 10 s, and 1 s of slack)"
    )


@pytest.mark.parametrize(("playhead", "flagged"), [(59.999, False), (60, True), (75, True)])
def test_a_vod_playhead_outside_the_content_is_flagged(
    collector: Collector, clock: VirtualClock, playhead: float, flagged: bool
) -> None:
    """A VOD playhead must lie in [0, media.length): 60 in a 60 s video is a range problem."""
    viewer = Viewer(collector, clock, length=60)
    viewer.play([(0.001, "play", playhead)])  # a play may start anywhere (a seek)
    problems = viewer.session.problems
    if not flagged:
        assert problems == []
        return
    [problem] = problems
    assert (problem.rule, problem.index) == (Rule.PLAYHEAD_RANGE, 1)
    assert problem.message == f"playhead {playhead:g} outside [0, 60)"


def test_a_vod_playhead_that_moves_while_paused_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """While paused, a VOD playhead holds: a ping with a moved playhead is a motion problem."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (5.001, "pauseStart", 5), (15, "ping", 15)])
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.PLAYHEAD_MOTION, 3)
    assert problem.message == "playhead moved 10 s while paused"


@pytest.mark.parametrize("playhead", [5, 20, 9.8])
def test_a_vod_playhead_out_of_step_with_the_clock_while_playing_is_flagged(
    collector: Collector, clock: VirtualClock, playhead: float
) -> None:
    """While playing, a VOD playhead advances with the clock: 5 s in 10 s is a motion problem."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (10.001, "ping", playhead)])
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.PLAYHEAD_MOTION, 2)
    assert problem.message == f"playhead moved {playhead:g} s in 10 s of playback"


@pytest.mark.parametrize(("playhead", "flagged"), [(NOON_SECOND + 10, False), (NOON_SECOND, True)])
def test_a_live_playhead_that_is_not_the_second_of_the_day_is_flagged(
    collector: Collector, clock: VirtualClock, playhead: int, flagged: bool
) -> None:
    """While a live stream plays its playhead is the second of the UTC day (43210 at 12:00:10)."""
    viewer = Viewer(collector, clock, content_type="live", length=86_400, playhead=NOON_SECOND)
    viewer.play([(0.001, "play", NOON_SECOND), (10.001, "ping", playhead)])
    problems = viewer.session.problems
    if not flagged:
        assert problems == []
        return
    [problem] = problems
    assert (problem.rule, problem.index) == (Rule.LIVE_PLAYHEAD, 2)
    assert problem.message == "live playhead 43200, expected 43210 (second of the UTC day)"


@pytest.mark.parametrize("event_type", ["ping", "play"])
def test_custom_metadata_on_a_ping_or_play_is_accepted_but_flagged(
    collector: Collector, clock: VirtualClock, event_type: str
) -> None:
    """customMetadata belongs on sessionStart/adStart/chapterStart; elsewhere it is flagged."""
    viewer = Viewer(collector, clock, custom={"campaign": "spring"})
    response = viewer.send(0.001, event_type, 0, custom={"campaign": "spring"})
    assert response.status == 204
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.CUSTOM_METADATA, 1)
    assert problem.message == f"customMetadata on {event_type} is ignored by reports"


@pytest.mark.parametrize(
    ("steps", "bad", "state"),
    [
        # adStart outside an ad break
        ([(0.001, "play", 0)], (1, "adStart", 0.999), "playing"),
        # play after sessionComplete
        ([(0.001, "play", 0), (1, "sessionComplete", 0.999)], (2, "play", 0.999), "complete"),
        # a playback event between adBreakStart and the first adStart
        ([(0.001, "adBreakStart", 0)], (1, "play", 0), "waiting, in an ad break"),
        # adBreakComplete while an ad is still playing
        (
            [(0.001, "adBreakStart", 0), (0.002, "adStart", 0)],
            (1, "adBreakComplete", 0),
            "waiting, in an ad",
        ),
        # a chapter started while another is open (chapters never overlap)
        (
            [(0.001, "play", 0), (0.002, "chapterStart", 0)],
            (1, "chapterStart", 0.998),
            "playing, chapter open",
        ),
        # a chapter event inside an ad break
        (
            [(0.001, "adBreakStart", 0), (0.002, "adStart", 0)],
            (1, "chapterStart", 0),
            "waiting, in an ad",
        ),
        # adComplete without an ad
        ([(0.001, "play", 0)], (1, "adComplete", 0.999), "playing"),
    ],
)
def test_an_event_its_state_does_not_allow_is_accepted_but_flagged(
    collector: Collector,
    clock: VirtualClock,
    steps: list[tuple[float, str, float]],
    bad: tuple[float, str, float],
    state: str,
) -> None:
    """Sequence mistakes get 204 (as at Adobe) and an order problem naming event and state."""
    params = {"adBreakStart": AD_BREAK, "adStart": AD, "chapterStart": chapter(1, 0)}
    viewer = Viewer(collector, clock)
    for at, event_type, playhead in steps:
        assert viewer.send(at, event_type, playhead, params=params.get(event_type)).status == 204
    at, event_type, playhead = bad
    assert viewer.send(at, event_type, playhead, params=params.get(event_type)).status == 204
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.ORDER, len(steps) + 1)
    assert problem.message.startswith(f"cannot send {event_type!r} in state {state!r}: ")


def test_a_session_closed_by_a_timeout_without_ending_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """A session left to time out, never completed nor ended, is an unterminated problem."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (10.001, "ping", 10)])
    assert viewer.session.problems == []
    clock.advance(3_600)
    collector.expire()
    [problem] = viewer.session.problems
    assert (problem.rule, problem.index) == (Rule.UNTERMINATED, 2)
    assert problem.message == (
        "closed by idle timeout while playing, without sessionComplete or sessionEnd"
    )
    assert collector.problems() == [(viewer.sid, problem)]


@pytest.mark.parametrize("ending", ["sessionComplete", "sessionEnd"])
def test_a_completed_or_ended_session_is_not_flagged_when_it_closes(
    collector: Collector, clock: VirtualClock, ending: str
) -> None:
    """A session that sent sessionComplete or sessionEnd has no problem once it is closed."""
    viewer = Viewer(collector, clock)
    viewer.play([(0.001, "play", 0), (10.001, "ping", 10), (15.001, ending, 15)])
    clock.advance(3_600)
    collector.expire()
    assert not viewer.session.open
    assert viewer.session.problems == []
    assert collector.problems() == []


def test_a_well_formed_session_has_no_problems(collector: Collector, clock: VirtualClock) -> None:
    """The documented session of MCA-SPEC.md section 6, with chapters and ending, is conformant."""
    ad2 = {**AD, "media.ad.id": "ad-2", "media.ad.length": 7, "media.ad.podPosition": 2}
    ad3 = {**AD, "media.ad.id": "ad-3", "media.ad.length": 8}
    mid_roll = {"media.ad.podIndex": 1, "media.ad.podSecond": 21}
    custom = {"campaign": "spring"}
    viewer = Viewer(collector, clock, length=60.33, custom=custom)
    sends: list[tuple[float, str, float, dict[str, Any]]] = [
        (0.001, "adBreakStart", 0, {"params": AD_BREAK}),
        (0.002, "adStart", 0, {"params": AD, "custom": custom}),
        *[(float(t), "ping", 0, {}) for t in range(1, 15)],
        (15, "adComplete", 0, {}),
        (15.001, "adStart", 0, {"params": ad2, "custom": custom}),
        *[(float(t), "ping", 0, {}) for t in range(16, 22)],
        (22, "adComplete", 0, {}),
        (22.001, "adBreakComplete", 0, {}),
        (22.002, "play", 0, {}),
        (22.003, "chapterStart", 0.001, {"params": chapter(1, 0), "custom": custom}),
        (30, "ping", 7.998, {"qoe": {"media.qoe.bitrate": 3_500_000}}),
        (33, "bufferStart", 10.998, {}),
        (36, "play", 10.998, {}),
        (40, "ping", 14.998, {}),
        (46, "adBreakStart", 20.998, {"params": mid_roll}),
        (46.001, "adStart", 20.998, {"params": ad3}),
        *[(float(t), "ping", 20.998, {}) for t in range(47, 54)],
        (54, "adComplete", 20.998, {}),
        (54.001, "adBreakComplete", 20.998, {}),
        # Section 6 omits it, but section 5 says: after adBreakComplete, send play.
        (54.002, "play", 20.998, {}),
        (60, "ping", 26.996, {}),
        (64, "pauseStart", 30.996, {}),
        (70, "ping", 30.996, {}),
        (74, "play", 30.996, {}),
        (80, "ping", 36.996, {}),
        (88, "chapterComplete", 44.996, {}),
        (88.001, "sessionComplete", 44.997, {}),
        (95, "sessionEnd", 44.997, {}),
    ]
    for at, event_type, playhead, parts in sends:
        response = viewer.send(at, event_type, playhead, **parts)
        assert response.status == 204, (at, event_type, response.message)
    assert viewer.session.close_reason == "sessionEnd"
    assert viewer.session.problems == []
    assert collector.problems() == []


def test_bundled_players_traffic_has_no_problems(clock: VirtualClock) -> None:
    """Real players of every bundled profile, run for two hours, send only conformant sessions."""
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    for profile in ("vod-movie", "vod-episode", "live-news"):
        for seed in range(3):
            engine.add(Player(load_profile(profile), seed=seed))
    engine.advance(2 * 3_600)
    collector.expire()
    assert len(collector.sessions) == 9
    assert set(collector.statuses) == {201, 204}
    assert collector.problems() == []


# --- live playheads, ad breaks and chapters ------------------------------------------------------


def test_a_live_play_that_resumes_at_the_paused_position_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """After a pause, live playback resumes at the second of the day, not where it paused."""
    viewer = Viewer(collector, clock, content_type="live", length=86_400, playhead=NOON_SECOND)
    viewer.play(
        [
            (0.001, "play", NOON_SECOND),
            (10, "pauseStart", NOON_SECOND + 10),
            (20, "ping", NOON_SECOND + 10),
            (30, "play", NOON_SECOND + 10),  # should be 43230, the second of the day at 12:00:30
        ]
    )
    assert Rule.LIVE_PLAYHEAD in viewer.rules()


def test_a_live_playhead_that_moves_during_an_ad_break_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """During an ad break the playhead stays where the break began, for live content too."""
    viewer = Viewer(collector, clock, content_type="live", length=86_400, playhead=NOON_SECOND)
    viewer.send(0.001, "play", NOON_SECOND)
    pod = {"media.ad.podIndex": 1, "media.ad.podSecond": NOON_SECOND + 10}
    viewer.send(10, "adBreakStart", NOON_SECOND + 10, params=pod)
    viewer.send(10.001, "adStart", NOON_SECOND + 10, params=AD)
    viewer.send(20, "ping", NOON_SECOND + 20)  # should stay at 43210
    assert viewer.rules() == [Rule.PLAYHEAD_MOTION]


def test_a_chapter_started_before_the_previous_one_closed_is_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """Chapters never overlap: a chapterStart while a chapter is open is an order problem."""
    viewer = Viewer(collector, clock)
    viewer.send(0.001, "play", 0)
    viewer.send(0.002, "chapterStart", 0.001, params=chapter(1, 0))
    viewer.send(10, "chapterStart", 9.999, params=chapter(2, 10))
    assert viewer.rules() == [Rule.ORDER]


def test_a_deeply_nested_body_is_a_400_not_a_crash(collector: Collector) -> None:
    """JSON nested a hundred thousand deep is refused with a message, not a RecursionError."""
    response = collector.handle("POST", "/api/v1/sessions", "[" * 100_000 + "]" * 100_000)
    assert response.status == 400
    assert response.message is not None


def test_open_reflects_the_timeouts_without_an_explicit_expire(
    collector: Collector, clock: VirtualClock
) -> None:
    """After the clock moves past the idle timeout, session.open is False when read."""
    viewer = Viewer(collector, clock)
    assert viewer.session.open
    clock.advance(601)
    assert not viewer.session.open
    assert viewer.session.close_reason == "idle timeout"


def test_custom_metadata_keys_starting_with_media_are_flagged(
    collector: Collector, clock: VirtualClock
) -> None:
    """customMetadata keys "should not start with media." (section 2): flagged, not refused."""
    viewer = Viewer(collector, clock, custom={"media.show": "x"})
    [problem] = viewer.session.problems
    assert problem.rule is Rule.CUSTOM_METADATA
    assert "starts with 'media.'" in problem.message


def test_a_retention_forgets_closed_sessions_but_not_their_problems(clock: VirtualClock) -> None:
    """A long run's collector holds open and lately closed sessions only; the report is whole."""
    collector = Collector(clock, keep_events=False, retention_s=600)
    done = Viewer(collector, clock)
    done.send(1, "play", 0)
    done.send(2, "sessionEnd", 1)
    quiet = Viewer(collector, clock, at=3)  # never sends again: the idle timeout, a problem
    busy = Viewer(collector, clock, at=4, length=3600)
    for second in range(10, 1300, 10):
        assert busy.send(second, "ping" if second > 10 else "play", second - 10).status == 204
    # 20 minutes on, the ended and the idle sessions are gone, the busy one is kept.
    assert [s.sid for s in collector.sessions] == [busy.sid]
    assert collector.forgotten == 2
    assert collector.opened == 3
    # The idle session's problem is still in the report, under its sid.
    assert [(sid, p.rule.value) for sid, p in collector.problems()] == [(quiet.sid, "unterminated")]
    assert collector.handle("POST", events_path(done.sid), session_start()).status == 404
    assert quiet.sid not in {s.sid for s in collector.sessions}


def test_other_spellings_of_an_events_path_cost_no_memory(clock: VirtualClock) -> None:
    """Events posted to `.../events/` or `.../events?n=1` are served like any, and the path
    lookup keeps one entry per session, which its retention frees: a long `playersim serve`
    does not grow with the spellings its clients use."""
    collector = Collector(clock, keep_events=False, retention_s=600)
    viewer = Viewer(collector, clock)
    path = events_path(viewer.sid)
    for n, spelling in enumerate([path, f"{path}/", *(f"{path}?n={n}" for n in range(100))]):
        body = make_body("ping" if n else "play", 0, clock.now())
        assert collector.handle("POST", spelling, body).status == 204
    assert len(collector._sid_by_path) == 1
    assert collector.handle("POST", path, make_body("sessionEnd", 0, clock.now())).status == 204
    clock.advance(1200)
    Viewer(collector, clock, at=1201)  # a request after the retention: the sweep runs
    assert list(collector._sid_by_path) == []


def test_without_a_retention_every_session_is_kept(
    collector: Collector, clock: VirtualClock
) -> None:
    first = Viewer(collector, clock)
    first.send(1, "sessionEnd", 0)
    clock.advance(86_400)
    Viewer(collector, clock, at=86_401)
    assert len(collector.sessions) == 2
    assert collector.forgotten == 0


def test_without_conformance_every_body_is_still_validated(clock: VirtualClock) -> None:
    collector = Collector(clock, conformance=False)
    viewer = Viewer(collector, clock)
    assert viewer.send(1, "play", 0).status == 204
    assert viewer.send(2, "adStart", 1).status == 400  # no params: refused as the API does
    assert viewer.send(3, "pauseStart", 50).status == 204  # a playhead jump: no report kept
    assert collector.problems() == []


# --- long-lived collectors: counts, bounds, retries ----------------------------------------------


def test_counts_tell_open_complete_and_closed_sessions_apart(
    collector: Collector, clock: VirtualClock
) -> None:
    """A session that sent sessionComplete is still open to the API (until a sessionEnd or the
    idle timeout), but it is not a viewer watching: the counts show it apart."""
    watching = Viewer(collector, clock)
    watching.play([(1, "play", 0)])
    done = Viewer(collector, clock, at=2)
    done.play([(3, "play", 0), (13, "ping", 10), (13.001, "sessionComplete", 10.001)])
    ended = Viewer(collector, clock, at=63)
    ended.play([(64, "sessionEnd", 0)])
    counts = collector.counts()
    assert (counts.opened, counts.open, counts.complete) == (3, 1, 1)
    assert counts.closed == {"sessionEnd": 1}
    clock.advance_to(T0 + ms(64 + 601))  # ten minutes after the last of them
    counts = collector.counts()
    assert (counts.open, counts.complete) == (0, 0)
    assert counts.closed == {"sessionEnd": 1, "idle timeout": 2}
    assert counts.problems == {"unterminated": 1}  # the viewer who never completed nor ended


def test_counts_cost_nothing_per_session_that_is_not_due(
    collector: Collector, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/stats` polls these: with thousands of sessions open, reading them looks at none of
    the sessions whose timeouts are not due (it used to walk every one of them, every time)."""
    viewers = [Viewer(collector, clock, at=n / 1000) for n in range(2_000)]
    looked_at: list[str] = []
    expire = CollectedSession._expire

    def counted(session: CollectedSession, now: int) -> None:
        looked_at.append(session.sid)
        expire(session, now)

    monkeypatch.setattr(CollectedSession, "_expire", counted)
    for _ in range(100):
        assert collector.counts().open == 2_000
    assert looked_at == []
    clock.advance_to(T0 + 600_001)  # the first viewer's ten minutes (and only its) are up
    assert collector.counts().open == 1_999
    assert looked_at == [viewers[0].sid]


def test_a_server_that_runs_for_ever_holds_a_bounded_state(clock: VirtualClock) -> None:
    """Abandoned sessions come and go for days: the collector holds those open or closed
    within the retention, and a bounded sample of forgotten problems; their counts stay whole."""
    collector = Collector(clock, keep_events=False, retention_s=600)
    for n in range(3_000):  # a session a minute for two days, each abandoned at once
        Viewer(collector, clock, at=60 * n)
    clock.advance(1_200)
    counts = collector.counts()
    assert counts.opened == 3_000
    assert counts.problems == {"unterminated": 3_000}
    assert len(collector.sessions) <= 21  # the last ten minutes' open, ten minutes' closed
    assert len(collector.problems()) <= FORGOTTEN_PROBLEMS_KEPT
    assert counts.forgotten == 3_000 - len(collector.sessions)


def test_the_idle_timeout_can_be_shorter_than_the_apis(clock: VirtualClock) -> None:
    """`playersim serve --idle-timeout 30s`: a test need not wait ten minutes for a 410."""
    collector = Collector(clock, idle_timeout_s=30)
    viewer = Viewer(collector, clock)
    assert viewer.send(30, "play", 0).status == 204  # 30 s after the last event: still open
    response = viewer.send(60.001, "ping", 30.001)
    assert response.status == 410
    assert response.message == f"session {viewer.sid} is closed (idle timeout)"


def test_a_session_start_received_twice_is_a_duplicate_not_an_unended_session(
    collector: Collector, clock: VirtualClock
) -> None:
    """A retry after a lost answer can reach the API twice: the second try opens the session
    the player goes on with; the first is left without events. The report says that, once,
    instead of calling the first a session its player never ended."""
    start = session_start()
    first, second = (collector.handle("POST", SESSIONS, start) for _ in range(2))
    assert first.sid != second.sid
    for n in range(1, 4):
        event = make_body("ping", 0, T0 + n)
        clock.advance_to(T0 + n)
        assert collector.handle("POST", events_path(str(second.sid)), event).status == 204
    clock.advance(3_600)
    collector.expire()
    orphan = collector.session(str(first.sid))
    assert orphan.close_reason == "idle timeout"
    [problem] = orphan.problems
    assert problem.rule is Rule.DUPLICATE
    assert str(second.sid) in problem.message
    assert collector.counts().problems == {"duplicate": 1, "unterminated": 1}


def test_the_same_traffic_sent_twice_is_not_a_duplicate(
    collector: Collector, clock: VirtualClock
) -> None:
    """Two runs with the same seed send byte-identical sessions: the second opens sessions of
    its own, and neither is a retry's duplicate."""
    for run in range(2):
        sid = collector.handle("POST", SESSIONS, session_start()).sid
        assert sid is not None
        for n, (event, playhead) in enumerate([("play", 0), ("sessionEnd", 1)], start=1):
            clock.advance_to(T0 + 10 * run + n)
            body = make_body(event, ms(playhead), T0 + ms(n))
            assert collector.handle("POST", events_path(sid), body).status == 204
    assert len(collector.sessions) == 2
    assert collector.counts().problems == {}


def test_an_event_received_twice_is_counted_as_a_duplicate(
    collector: Collector, clock: VirtualClock
) -> None:
    viewer = Viewer(collector, clock)
    for _ in range(2):
        assert viewer.send(1, "play", 0).status == 204  # the API takes both
    assert viewer.rules() == [Rule.DUPLICATE]
    assert collector.counts().problems == {"duplicate": 1}


def test_a_resumed_live_session_picks_its_pod_up_where_the_pod_began(
    collector: Collector, clock: VirtualClock
) -> None:
    """A live player whose session was lost mid-break opens a new one with media.resume and
    re-sends the break as it began (podSecond: the second it started), while its playhead is
    the present second: that is the ad context MCA-SPEC.md section 5 asks for, not a problem."""
    clock.advance_to(T0 + ms(140))
    start = session_start(at=140, playhead=NOON_SECOND + 140, content_type="live", length=0)
    start["params"]["media.resume"] = True
    sid = collector.handle("POST", SESSIONS, start).sid
    assert sid is not None
    pod = {"media.ad.podIndex": 2, "media.ad.podSecond": NOON_SECOND + 100}
    steps: list[tuple[float, str, dict[str, Any]]] = [
        (140.001, "adBreakStart", pod),
        (140.002, "adStart", AD),
    ]
    for at, event, params in steps:
        clock.advance_to(T0 + ms(at))
        body = make_body(event, ms(NOON_SECOND + 140), T0 + ms(at), params=params)
        assert collector.handle("POST", events_path(sid), body).status == 204
    assert collector.session(sid).problems == []
