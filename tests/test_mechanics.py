"""The player's mechanics and the order they win ties in, as a viewer's traffic shows them."""

from __future__ import annotations

import gc
import random
import weakref
from collections.abc import Iterator

import pytest

from playersim import Player, load_profile, parse_instant
from playersim.audience.catalog import AdCreative, Chapter, Title
from playersim.audience.profiles import bundled_profiles
from playersim.mca.states import SessionState
from playersim.mca.wire import WireBody
from playersim.sim.behaviour import (
    AdPlay,
    Decision,
    Leave,
    Play,
    PodKind,
    Seek,
    SessionView,
)
from playersim.sim.mechanics import DroppedFrames, Schedule, Step
from playersim.sim.script import script_from_dict
from tests.conftest import START

T0 = parse_instant(START)


def run_to_end(player: Player) -> list[WireBody]:
    """Every body a player sends, asked at each wake-up, its sessionStart answered."""
    bodies: list[WireBody] = []
    while (wake := player.next_wakeup) is not None:
        for body in player.due(wake):
            bodies.append(body)
            if body["eventType"] == "sessionStart":
                player.on_response("sessionStart", 201, sid="0" * 64)
    return bodies


def timed(bodies: list[WireBody]) -> list[tuple[int, str]]:
    """(whole seconds since T0, eventType) of each body, in the order sent (which `ts` keeps)."""
    return [((body["playerTime"]["ts"] - T0) // 1000, body["eventType"]) for body in bodies]


def scripted(timeline: list[dict[str, object]], **session: object) -> list[WireBody]:
    script = script_from_dict({"timeline": timeline, "session": {"length": 3600, **session}})
    return run_to_end(script.player(seed=1, start_at=T0))


# --- a ping changes only the time ----------------------------------------------------------

# Each profile, plus viewings where the long-pause deadline is the earliest mechanic but a ping
# (which moves the playhead, and so the deadline) comes first.
_VIEWINGS = [(name, 2, index) for name in sorted(bundled_profiles()) for index in range(6)] + [
    ("podcast-audio", 1, 35),
    ("podcast-audio", 11, 2),
    ("vod-episode", 2, 28),
    ("vod-movie", 3, 29),
]


@pytest.mark.parametrize(("name", "seed", "index"), _VIEWINGS)
def test_a_viewing_sends_the_same_traffic_when_every_ping_reschedules_everything(
    name: str, seed: int, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a ping the player asks again only the mechanics a ping can move; asking all of them
    after every ping must change nothing on the wire."""
    viewing = run_to_end(Player(load_profile(name), seed=seed, index=index, start_at=START))
    take = Schedule.take

    def take_and_forget_everything(
        self: Schedule[Player], host: Player, state: SessionState, now: int, by: int
    ) -> tuple[int, Step[Player]] | None:
        due = take(self, host, state, now, by)
        self.changed()  # whatever runs, a ping too, leaves every row to be asked again
        return due

    monkeypatch.setattr(Schedule, "take", take_and_forget_everything)
    the_long_way = run_to_end(Player(load_profile(name), seed=seed, index=index, start_at=START))
    assert viewing == the_long_way


def test_a_viewer_back_before_the_30_minutes_keeps_the_session_once_a_ping_shows_it() -> None:
    """The pause started at 60 s; play at 1845 s, 15 s before the deadline: the ping at 1850 s
    carries the moving playhead, so the back end never times the session out."""
    bodies = scripted([{"at": 0, "do": "play"}, {"at": 60, "do": "pause", "for": 1785}])
    events = timed(bodies)
    assert (1845, "play") in events
    assert (1850, "ping") in events
    assert [kind for _, kind in events].count("sessionStart") == 1
    assert "sessionEnd" not in [kind for _, kind in events[:-1]]  # only the viewer's own, last


def test_a_viewer_back_3_s_before_the_30_minutes_with_no_ping_in_between_gets_a_new_session() -> (
    None
):
    """Play at 1857 s, the deadline at 1860 s (a ping instant too): nothing the back end saw moved
    the playhead in 30 minutes, so the session ends then and a new one resumes playback."""
    bodies = scripted([{"at": 0, "do": "play"}, {"at": 60, "do": "pause", "for": 1797}])
    events = timed(bodies)
    at_deadline = [kind for at, kind in events if at == 1860]
    assert at_deadline == ["sessionEnd", "sessionStart", "play"]  # the ping lost the tie
    resumed = [b for b in bodies if b["eventType"] == "sessionStart"][1]
    assert resumed["params"]["media.resume"] is True
    assert (1870, "ping") in events  # the new session's grid goes on


def test_a_pause_of_more_than_30_minutes_ends_the_session_and_play_opens_a_new_one() -> None:
    bodies = scripted([{"at": 0, "do": "play"}, {"at": 60, "do": "pause", "for": 2400}])
    events = timed(bodies)
    ends = [at for at, kind in events if kind == "sessionEnd"]
    assert ends[0] == 60 + 1800  # 30 minutes after the playhead last changed: the pauseStart
    # Nothing is sent while the session is closed; the viewer's play re-opens it.
    after = [(at, kind) for at, kind in events if at > 1860]
    assert after[:2] == [(2460, "sessionStart"), (2460, "play")]


# --- ties: the order of the priority table ---------------------------------------------------


def test_a_pod_ending_as_the_viewer_plays_completes_before_the_play() -> None:
    bodies = scripted([{"at": 0, "do": "adBreak", "ads": [10]}, {"at": 10, "do": "play"}])
    assert [kind for at, kind in timed(bodies) if at == 10] == [
        "adComplete",
        "adBreakComplete",
        "play",
    ]


def test_a_ping_is_not_sent_at_an_instant_where_another_event_is() -> None:
    bodies = scripted([{"at": 0, "do": "play"}, {"at": 20, "do": "pause", "for": 10}])
    assert [kind for at, kind in timed(bodies) if at in (20, 30)] == ["pauseStart", "play"]


def test_a_seek_into_another_chapter_skips_the_old_and_starts_the_new_after_the_play() -> None:
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 15, "do": "seek", "to": 100}, {"at": 30, "do": "end"}],
        chapters=[[0, 60, "one"], [60, 60, "two"]],
    )
    assert [kind for at, kind in timed(bodies) if at == 15] == [
        "pauseStart",
        "chapterSkip",
        "play",
        "chapterStart",
    ]
    second = [b for b in bodies if b["eventType"] == "chapterStart"][1]
    assert second["params"]["media.chapter.friendlyName"] == "two"


def test_a_pause_at_a_chapter_boundary_comes_before_the_next_chapter_starts() -> None:
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 60, "do": "pause", "for": 5}, {"at": 90, "do": "end"}],
        chapters=[[0, 60, "one"], [60, 60, "two"]],
    )
    assert [kind for at, kind in timed(bodies) if at == 60] == [
        "chapterComplete",
        "pauseStart",
        "chapterStart",
    ]


def test_a_chapter_that_starts_mid_content_starts_when_the_playhead_reaches_it() -> None:
    """A chapter's start is a due instant like its end: at playhead 25, between two pings."""
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 90, "do": "end"}], chapters=[[25, 30, "one"]]
    )
    events = timed(bodies)
    assert (25, "chapterStart") in events
    assert (55, "chapterComplete") in events
    starts = [b for b in bodies if b["eventType"] == "chapterStart"]
    assert [b["playerTime"]["playhead"] for b in starts] == [25]


def test_a_chapter_ahead_of_a_pause_starts_only_when_playback_has_brought_the_playhead_there() -> (
    None
):
    """Paused 5 s short of the chapter for 20 s: its start moves with the pause, to 45 s."""
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 20, "do": "pause", "for": 20}, {"at": 90, "do": "end"}],
        chapters=[[25, 30, "one"]],
    )
    assert [at for at, kind in timed(bodies) if kind == "chapterStart"] == [45]


def test_content_that_ends_as_the_30_minutes_run_out_completes_in_its_session() -> None:
    """Paused 3 s before the end, back 1797 s later with no ping before the end: the end of the
    content and the 30-minute deadline fall together, and the content's end goes first."""
    bodies = scripted([{"at": 0, "do": "play"}, {"at": 57, "do": "pause", "for": 1797}], length=60)
    assert timed(bodies)[-2:] == [(1854, "play"), (1857, "sessionComplete")]


def test_a_viewer_paused_as_the_24_hours_run_out_gets_a_new_session_only_when_back() -> None:
    """The 30 minutes of a pause and the 24 hours of the session end together: the session ends
    for the pause, and nothing more is sent until the viewer plays again."""
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 84_600, "do": "pause", "for": 3600}], length=90_000
    )
    events = [(at, kind) for at, kind in timed(bodies) if 86_400 <= at <= 88_200]
    assert events == [
        (86_400, "sessionEnd"),
        (88_200, "sessionStart"),
        (88_200, "play"),
    ]


def test_the_24_hour_restart_comes_before_a_decision_at_the_same_instant() -> None:
    """The viewer's pause goes into the new session, after it re-sent the playing state."""
    bodies = scripted(
        [{"at": 0, "do": "play"}, {"at": 86_400, "do": "pause", "for": 10}], length=90_000
    )
    assert [kind for at, kind in timed(bodies) if at == 86_400] == [
        "sessionEnd",
        "sessionStart",
        "play",
        "pauseStart",
    ]


class _Viewer:
    """A behaviour for the tie tests: play at once, a one-ad mid-roll at every cue, then leave."""

    def __init__(self, leave_at: int) -> None:
        self.leave_at = leave_at
        self.creative = AdCreative("mid", 5_000, {})

    def next(self, view: SessionView) -> Decision | None:
        if not view.played:
            return Decision(view.now, Play())
        return Decision(max(view.now, self.leave_at), Leave())

    def acted(self, decision: Decision, view: SessionView) -> None:
        pass

    def pod(self, kind: PodKind, view: SessionView) -> tuple[AdPlay, ...]:
        return (AdPlay(self.creative),) if kind == "mid" else ()

    def initial_states(self) -> tuple[str, ...]:
        return ()

    def start_position_ms(self) -> int:
        return 0

    def initial_bitrate(self) -> int:
        return 1_000_000


def test_a_cue_on_a_chapter_boundary_ends_the_chapter_before_the_mid_roll() -> None:
    """chapterComplete, the mid-roll, then the next chapter once the break is over."""
    title = Title(
        "t",
        "Two chapters",
        120,
        chapters=(Chapter(1, 0, 60_000, "one"), Chapter(2, 60_000, 60_000, "two")),
        cue_points_ms=(60_000,),
    )
    player = Player(
        load_profile("vod-movie"),
        start_at=T0,
        title=title,
        behaviour=_Viewer(T0 + 90_000),
        exact=True,
    )
    events = timed(run_to_end(player))
    assert [kind for at, kind in events if at == 60] == [
        "chapterComplete",
        "adBreakStart",
        "adStart",
    ]
    assert [kind for at, kind in events if at == 65] == [
        "adComplete",
        "adBreakComplete",
        "chapterStart",
    ]


def test_a_cue_at_the_very_end_is_served_before_the_content_completes() -> None:
    title = Title("t", "A cue at the end", 60, cue_points_ms=(60_000,))
    player = Player(
        load_profile("vod-movie"),
        start_at=T0,
        title=title,
        behaviour=_Viewer(T0 + 90_000),
        exact=True,
    )
    events = timed(run_to_end(player))
    assert [kind for at, kind in events if at >= 60] == [
        "adBreakStart",
        "adStart",
        "adComplete",
        "adBreakComplete",
        "sessionComplete",
    ]


# --- a finished viewing --------------------------------------------------------------------


@pytest.fixture
def no_garbage_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_garbage_collection")
@pytest.mark.parametrize("stopped", [False, True])
def test_a_finished_viewing_is_freed_without_waiting_for_the_garbage_collector(
    stopped: bool,
) -> None:
    """A day of traffic finishes millions of viewings: each must go as soon as it is dropped."""
    player = Player(load_profile("vod-episode"), seed=4, start_at=T0)
    if stopped:
        player.due(T0 + 60_000)
        player.stop(T0 + 60_000)
    else:
        run_to_end(player)
    assert player.finished
    gone = weakref.ref(player)
    del player
    assert gone() is None


def test_a_seek_forward_skips_the_mid_rolls_it_jumps_over() -> None:
    title = Title("t", "Cues", 120, cue_points_ms=(30_000, 90_000))

    class Seeker(_Viewer):
        def next(self, view: SessionView) -> Decision | None:
            if not view.played:
                return Decision(view.now, Play())
            if view.playhead_ms < 50_000:
                return Decision(T0 + 40_000, Seek(100_000)) if view.now < T0 + 40_000 else None
            return Decision(max(view.now, T0 + 110_000), Leave())

    player = Player(load_profile("vod-movie"), start_at=T0, title=title, behaviour=Seeker(0))
    bodies = run_to_end(player)
    starts = [b["params"]["media.ad.podSecond"] for b in bodies if b["eventType"] == "adBreakStart"]
    assert starts == [30]  # the cue at 90 s was jumped over


def test_a_script_can_start_an_ad_break_after_the_content_started() -> None:
    """A scripted break after the first frame is a mid-roll, numbered after the pre-roll."""
    bodies = scripted(
        [
            {"at": 0, "do": "adBreak", "ads": [5]},
            {"at": 5, "do": "play"},
            {"at": 20, "do": "adBreak", "ads": [5]},
            {"at": 40, "do": "end"},
        ]
    )
    pods = [b["params"] for b in bodies if b["eventType"] == "adBreakStart"]
    assert [(p["media.ad.podIndex"], p["media.ad.podFriendlyName"]) for p in pods] == [
        (0, "pre-roll"),
        (1, "mid-roll 1"),
    ]


@pytest.mark.parametrize("per_minute", [0.0, 1.5, 40.0])
def test_dropped_frames_made_again_from_the_seed_draw_as_one_kept_rng_would(
    per_minute: float,
) -> None:
    """`DroppedFrames` keeps no RNG between draws (2.5 KB a viewing): made again from its seed
    and the draws so far, it gives what one RNG kept all along gives."""
    rng = random.Random("7:vod-movie:3:frames")
    rate = per_minute * rng.lognormvariate(0.0, 1.0) if per_minute > 0 else 0.0
    spacing = 60_000 / rate if rate > 0 else 0.0
    next_ms, count = (rng.expovariate(1.0) * spacing if rate > 0 else 0.0), 0
    frames = DroppedFrames(per_minute, "7:vod-movie:3:frames")
    for watched_ms in (0, 1, 5_000, 5_000, 61_000, 600_000, 3_600_000, 3_600_001, 7_200_000):
        while spacing and next_ms <= watched_ms:
            count += 1
            next_ms += rng.expovariate(1.0) * spacing
        assert frames.by(watched_ms) == count
    assert per_minute == 0 or count > 20  # (many draws skipped, not one or two)
