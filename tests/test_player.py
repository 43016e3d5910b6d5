"""A simulated player, one session at a time, on a hand-moved virtual clock."""

from __future__ import annotations

import itertools

import pytest

from playersim import (
    Collector,
    Engine,
    Player,
    PlayerProtocolError,
    State,
    VirtualClock,
    check_session,
    load_profile,
    parse_instant,
)
from playersim.audience.profiles import profile_from_dict
from playersim.mca.states import AdPhase, SessionState, advance
from playersim.mca.wire import WireBody, validate_body
from tests.conftest import START

T0 = parse_instant(START)


def run_to_end(player: Player) -> list[WireBody]:
    """Every body a player sends, asking it at each of its wake-ups."""
    bodies: list[WireBody] = []
    while (wake := player.next_wakeup) is not None:
        bodies.extend(player.due(wake))
    return bodies


def vod(completion_rate: float, length: float = 600.0, startup: float = 2.0) -> Player:
    profile = profile_from_dict(
        {
            "name": "test-vod",
            "content": {
                "kind": "movie",
                "content_type": "vod",
                "channel": "test",
                "length_seconds": {"distribution": "fixed", "value": length},
            },
            "viewing": {
                "startup_seconds": {"distribution": "fixed", "value": startup},
                "completion_rate": completion_rate,
                "watch_seconds": {"distribution": "fixed", "value": length / 3},
            },
            "timing": {"exact": True},  # the instants below are the grid's
            "qoe": {"bitrates": [3_000_000]},  # one rung: no climb to interleave
        }
    )
    return Player(profile, seed=3, start_at=T0)


def live(watch: float = 95.0, start: int = T0) -> Player:
    profile = profile_from_dict(
        {
            "name": "test-live",
            "content": {"kind": "live", "content_type": "live", "channel": "news"},
            "viewing": {
                "startup_seconds": {"distribution": "fixed", "value": 1.5},
                "watch_seconds": {"distribution": "fixed", "value": watch},
            },
            "timing": {"exact": True},
        }
    )
    return Player(profile, seed=3, start_at=start)


def kinds(bodies: list[WireBody]) -> list[str]:
    return [body["eventType"] for body in bodies]


def playhead(body: WireBody) -> float:
    value: float = body["playerTime"]["playhead"]
    return value


def ts(body: WireBody) -> int:
    value: int = body["playerTime"]["ts"]
    return value


def test_the_documented_test_engineer_workflow(
    clock: VirtualClock, collector: Collector, engine: Engine
) -> None:
    """A test moves one player second by second and asserts on what reached the collector."""
    player = engine.add(Player(load_profile("vod-movie"), seed=7))
    engine.advance(1)
    assert collector.sessions[0].event_types == ["sessionStart"]
    engine.advance(29)
    assert collector.sessions[0].events[-1].event_type == "ping"
    assert collector.sessions[0].sid == player.sid
    assert player.state.open


def test_a_vod_session_starts_plays_pings_and_completes() -> None:
    """sessionStart, play after start-up, a ping every 10 s, sessionComplete at the end."""
    bodies = run_to_end(vod(completion_rate=1.0, length=60.0, startup=2.0))
    assert kinds(bodies) == [
        "sessionStart", "play", "ping", "ping", "ping", "ping", "ping", "ping", "sessionComplete",
    ]  # fmt: skip
    assert [ts(b) - T0 for b in bodies] == [
        0,
        2000,
        10000,
        20000,
        30000,
        40000,
        50000,
        60000,
        62000,
    ]
    assert [playhead(b) for b in bodies[:-1]] == [0, 0, 8, 18, 28, 38, 48, 58]
    # The end of content: just short of media.length, never equal to it.
    assert playhead(bodies[-1]) == pytest.approx(59.999)
    assert bodies[1]["qoeData"]["media.qoe.timeToStart"] == 2000


def test_a_viewer_who_leaves_early_ends_the_session() -> None:
    """A VOD viewer who abandons sends sessionEnd mid-content, never sessionComplete."""
    bodies = run_to_end(vod(completion_rate=0.0, length=600.0))
    assert kinds(bodies)[-1] == "sessionEnd"
    assert "sessionComplete" not in kinds(bodies)
    assert 0 < playhead(bodies[-1]) < 600


def test_live_playhead_is_the_second_of_the_utc_day() -> None:
    """Live: the playhead is the current second of the UTC day (43200 at 12:00:00)."""
    bodies = run_to_end(live(watch=95))
    assert playhead(bodies[0]) == 43200
    for body in bodies[1:]:
        assert playhead(body) == (ts(body) // 1000) % 86400
    assert kinds(bodies)[-1] == "sessionEnd"
    assert ts(bodies[-1]) - ts(bodies[1]) == 95_000  # watch time counts from the first frame


def test_live_playhead_wraps_at_midnight() -> None:
    """A live session across midnight UTC goes from 86399 back to 0."""
    bodies = run_to_end(live(watch=60, start=parse_instant("2026-11-27T23:59:30Z")))
    heads = [playhead(b) for b in bodies]
    assert max(heads) < 86400
    assert heads[0] == 86370
    assert heads[-1] < 100


def test_ts_strictly_increases_with_same_instant_events_1ms_apart() -> None:
    """Events at one instant are spread 1 ms apart, in order; ts never repeats or goes back."""
    player = vod(completion_rate=1.0, startup=10.0)  # play lands on the 10 s ping instant
    bodies = run_to_end(player)
    stamps = [ts(b) for b in bodies]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert kinds(bodies)[1] == "play"
    assert ts(bodies[1]) == T0 + 10_000  # the play replaces the ping at that instant
    assert kinds(bodies)[2] == "ping"
    assert ts(bodies[2]) == T0 + 20_000


def test_no_gap_between_events_exceeds_the_ping_interval() -> None:
    """An open session never goes more than 10 s without an event."""
    bodies = run_to_end(live(watch=300))
    stamps = [ts(b) for b in bodies]
    assert max(b - a for a, b in itertools.pairwise(stamps)) <= 10_000


def test_every_body_a_player_sends_is_valid_on_the_wire() -> None:
    """Each body validates against the wire model."""
    for player in (vod(1.0), vod(0.0), live()):
        for body in run_to_end(player):
            validate_body(body)


def test_same_seed_same_session_and_another_seed_another() -> None:
    """A player is a pure function of its profile, seed, index and start."""
    profile = load_profile("vod-episode")
    first = run_to_end(Player(profile, seed=11, index=4, start_at=T0))
    again = run_to_end(Player(profile, seed=11, index=4, start_at=T0))
    other = run_to_end(Player(profile, seed=12, index=4, start_at=T0))
    assert first == again
    assert first != other


def test_session_metadata_is_plausible_and_consistent() -> None:
    """sessionStart carries routing, visitor ids, player and standard metadata from Faker pools."""
    profile = load_profile("vod-episode")
    params = run_to_end(Player(profile, seed=5, start_at=T0))[0]["params"]
    for key in (
        "analytics.trackingServer", "analytics.reportSuite", "visitor.marketingCloudOrgId",
        "analytics.visitorId", "visitor.marketingCloudUserId", "media.id",
        "media.name", "media.length", "media.contentType", "media.playerName", "media.channel",
        "media.sdkVersion", "media.show", "media.season", "media.episode", "media.genre",
        "media.rating", "media.network", "media.firstAirDate", "media.assetId",
    ):  # fmt: skip
        assert params.get(key), key
    assert len(params["visitor.marketingCloudUserId"]) == 38
    # An app has an installation id; a web browser has none.
    assert ("appInstallationId" in params) == (params["media.playerName"] != "html5-video")
    # The same title always carries the same metadata, whoever watches it.
    by_title: dict[str, dict[str, object]] = {}
    for index in range(60):
        p = run_to_end(Player(profile, seed=5, index=index, start_at=T0))[0]["params"]
        fixed = {k: p[k] for k in ("media.name", "media.length", "media.show", "media.genre")}
        assert by_title.setdefault(p["media.id"], fixed) == fixed
    assert len(by_title) > 5  # and the audience watches more than one title


def test_a_visitor_keeps_the_same_ids_across_sessions() -> None:
    """The ECID, app installation id and device follow the visitor id, session after session."""
    profile = load_profile("live-news")
    ids: dict[str, tuple[object, ...]] = {}
    for index in range(300):
        body = run_to_end(Player(profile, seed=9, index=index, start_at=T0))[0]
        p = body["params"]
        same = (
            p["visitor.marketingCloudUserId"],
            p.get("appInstallationId"),
            p["media.sdkVersion"],
            p["media.libraryVersion"],
            sorted(
                (key, value)
                for key, value in body["customMetadata"].items()
                if key.startswith(("device.", "app.", "browser."))
            ),
        )
        assert ids.setdefault(p["analytics.visitorId"], same) == same
    assert len(ids) < 300  # visitors come back


def test_a_player_is_asked_nothing_before_its_start() -> None:
    """Before start_at, due() returns nothing; the first wake-up is the start."""
    player = vod(1.0)
    assert player.next_wakeup == T0
    assert player.due(T0 - 1) == []
    assert kinds(player.due(T0)) == ["sessionStart"]


def test_asking_late_returns_everything_due_stamped_when_it_happened() -> None:
    """A player asked 30 s late returns the missed events with their own instants, in order."""
    player = vod(1.0, startup=2.0)
    bodies = player.due(T0 + 30_000)
    assert kinds(bodies) == ["sessionStart", "play", "ping", "ping", "ping"]
    assert [ts(b) - T0 for b in bodies] == [0, 2000, 10000, 20000, 30000]


def test_a_rejected_session_start_finishes_the_player() -> None:
    """Without a session id nothing more can be sent: the player stops."""
    player = vod(1.0)
    player.due(T0)
    player.on_response("sessionStart", 400)
    assert player.finished
    assert player.outcome == "rejected"
    assert player.next_wakeup is None


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_session_is_resumed_in_a_new_one(status: int) -> None:
    """A 404 or 410 on an event: a new session with media.resume, playback carrying on."""
    player = vod(1.0)
    sent = player.due(T0 + 20_000)
    player.on_response("sessionStart", 201, sid="a" * 64)
    player.on_response("ping", status)
    assert player.next_wakeup == ts(sent[-1])  # at once
    resumed = player.due(T0 + 20_000)
    assert kinds(resumed) == ["sessionStart", "play"]
    assert resumed[0]["params"]["media.resume"] is True
    assert playhead(resumed[1]) == 18  # where it was: 20 s in, after a 2 s start-up
    assert ts(resumed[0]) > ts(sent[-1])


def test_the_state_machine_refuses_impossible_sequences() -> None:
    """An event its state does not allow raises an error naming both."""
    playing = SessionState(State.PLAYING)
    with pytest.raises(PlayerProtocolError, match=r"cannot send 'adStart' in state 'playing'"):
        advance(playing, "adStart")
    with pytest.raises(PlayerProtocolError, match="ended"):
        advance(SessionState(State.ENDED), "ping")
    with pytest.raises(PlayerProtocolError, match="new"):
        advance(SessionState(), "play")
    with pytest.raises(PlayerProtocolError, match="chapter open"):
        advance(SessionState(State.PLAYING, chapter=True), "chapterStart")
    assert advance(SessionState(State.PAUSED), "play").playback is State.PLAYING
    in_ad = SessionState(State.PLAYING, AdPhase.AD)
    assert advance(in_ad, "adComplete").ad is AdPhase.BREAK
    # A mid-roll does not stop playback: content resumes when the break completes.
    after_break = advance(SessionState(State.PLAYING, AdPhase.BREAK), "adBreakComplete")
    assert after_break.playhead_advances


def test_stop_sends_what_was_due_before_the_session_end() -> None:
    """Stopped 2 ms after a ping was due (a load tool stopping its users as the timer fires),
    the player sends that ping, then the sessionEnd: no gap of more than 10 s in between."""
    player = Player(load_profile("live-news"), seed=8, start_at=0)
    bodies: list[WireBody] = []
    while (wake := player.next_wakeup) is not None and wake < 120_000:
        bodies += player.due(wake)
        for body in bodies[-1:]:
            if body["eventType"] == "sessionStart":
                player.on_response("sessionStart", 201, sid="a" * 64)
    assert wake is not None
    last = bodies[-1]["playerTime"]["ts"]
    ended = player.stop(wake + 2)
    assert [b["eventType"] for b in ended][-1] == "sessionEnd"
    assert len(ended) >= 2  # what was due at `wake` came first
    assert ended[0]["playerTime"]["ts"] == wake > last
    models = [validate_body(body) for body in bodies + ended]
    assert not [p for p in check_session(models) if p.rule == "gap"]
