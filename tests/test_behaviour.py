"""Realistic viewing: ads, chapters, pauses, resumes and the profile's rates, event by event."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from playersim import (
    CollectedSession,
    Collector,
    Engine,
    MemoryTransport,
    Player,
    Profile,
    VirtualClock,
    load_profile,
    parse_instant,
    profile_from_dict,
)
from playersim.audience.metadata import MetadataPool
from playersim.sim.behaviour import preroll_leave_share
from playersim.sim.mechanics import _break_day
from tests.conftest import START

T0 = parse_instant(START)


def profile(**sections: dict[str, Any]) -> Profile:
    """A VOD profile with no randomness but what a test asks for."""
    data: dict[str, Any] = {
        "name": "test",
        "content": {
            "kind": "episode",
            "content_type": "vod",
            "channel": "test",
            "length_seconds": {"distribution": "fixed", "value": 1800},
        },
        "viewing": {
            "startup_seconds": {"distribution": "fixed", "value": 2},
            "completion_rate": 1.0,
            "watch_seconds": {"distribution": "fixed", "value": 600},
        },
        "timing": {"exact": True},  # pings on the grid, events at one instant 1 ms apart
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return profile_from_dict(data)


def simulate(
    prof: Profile, sessions: int = 1, seed: int = 1, gap_ms: int = 0, until: int | None = None
) -> list[CollectedSession]:
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    for index in range(sessions):
        engine.add(Player(prof, seed=seed, index=index, start_at=T0 + index * gap_ms))
    engine.run(until=until)
    assert engine.stats.accepted == engine.stats.requests
    for session in collector.sessions:
        assert session.problems == [], session.problems
    return collector.sessions


def kinds(session: CollectedSession, *, pings: bool = False) -> list[str]:
    return [k for k in session.event_types if pings or k != "ping"]


def test_ad_pods_come_before_during_and_after_the_content() -> None:
    """A pre-roll before the first play, mid-rolls at cue points, a post-roll, then complete."""
    prof = profile(
        ads={
            "preroll_rate": 1.0,
            "postroll_rate": 1.0,
            "midroll_interval_seconds": 600,
            "ads_per_pod": {"distribution": "fixed", "value": 2},
            "ad_seconds": {"distribution": "fixed", "value": 15},
        }
    )
    [session] = simulate(prof)
    sequence = kinds(session)
    assert sequence[:4] == ["sessionStart", "adBreakStart", "adStart", "adComplete"]
    assert sequence.count("adBreakStart") == 4  # pre-roll, mid-rolls at 600 and 1200 s, post-roll
    pods = [e for e in session.events if e.event_type == "adBreakStart"]
    assert [p.params["media.ad.podIndex"] for p in pods] == [0, 1, 2, 3]
    assert [p.params["media.ad.podSecond"] for p in pods] == [0, 600, 1200, 1799.999]
    assert [p.params["media.ad.podFriendlyName"] for p in pods] == [
        "pre-roll", "mid-roll 1", "mid-roll 2", "post-roll",
    ]  # fmt: skip
    # After a mid-roll, `play` (section 5); the post-roll leads straight to sessionComplete.
    after = [sequence[i + 1] for i, k in enumerate(sequence) if k == "adBreakComplete"]
    assert after == ["play", "play", "play", "sessionComplete"]
    ad = next(e for e in session.events if e.event_type == "adStart").params
    for key in (
        "media.ad.advertiser",
        "media.ad.campaignId",
        "media.ad.creativeId",
        "media.ad.name",
    ):
        assert ad[key]


def test_granular_ad_tracking_pings_every_second_in_ads() -> None:
    """With granular ad tracking, pings come every second during ads and every 10 s otherwise."""
    prof = profile(
        ads={
            "preroll_rate": 1.0,
            "ads_per_pod": {"distribution": "fixed", "value": 1},
            "ad_seconds": {"distribution": "fixed", "value": 15},
            "granular_tracking": True,
        }
    )
    [session] = simulate(prof, until=T0 + 120_000)
    ad_pings = [e for e in session.events if e.event_type == "ping" and e.ts < T0 + 17_000]
    assert len(ad_pings) == 14  # seconds 3 .. 16 of a 15 s ad that starts at 2 s
    later = [e.ts - T0 for e in session.events if e.event_type == "ping" and e.ts > T0 + 20_000]
    assert later[:3] == [30_000, 40_000, 50_000]


def test_chapters_follow_the_content_and_never_overlap() -> None:
    """Chapters start and complete at their boundaries, index from 1, offset and length right."""
    prof = profile(content={"chapters": {"distribution": "fixed", "value": 3}})
    [session] = simulate(prof)
    chapters = [e for e in session.events if e.event_type.startswith("chapter")]
    assert [e.event_type for e in chapters] == ["chapterStart", "chapterComplete"] * 3
    starts = [e.params for e in chapters if e.event_type == "chapterStart"]
    assert [p["media.chapter.index"] for p in starts] == [1, 2, 3]
    offsets = [p["media.chapter.offset"] for p in starts]
    assert offsets[0] == 0
    assert sum(p["media.chapter.length"] for p in starts) == pytest.approx(1800)
    for chapter in (e for e in chapters if e.event_type == "chapterStart"):
        assert chapter.params["media.chapter.offset"] == pytest.approx(chapter.playhead, abs=0.01)


def test_a_pause_over_30_minutes_ends_the_session_and_resuming_opens_a_new_one() -> None:
    """sessionEnd after 30 minutes still; back: a media.resume session re-sending the states."""
    prof = profile(
        viewing={
            "pauses_per_hour": 60,
            "pause_seconds": {"distribution": "fixed", "value": 2400},
        },
        states={"initial": {"fullscreen": 1.0}},
    )
    sessions = simulate(prof, until=T0 + 3 * 3_600_000)
    first, second = sessions[0], sessions[1]
    pause = first.event_types.index("pauseStart")
    assert first.event_types[-1] == "sessionEnd"
    assert first.events[-1].ts - first.events[pause].ts == 30 * 60_000
    assert second.start.params.resume is True
    assert second.events[0].ts - first.events[pause].ts == 2400_000  # when the viewer came back
    assert kinds(second)[:3] == ["sessionStart", "stateStart", "play"]
    assert second.events[1].params == {"media.state.name": "fullscreen"}
    assert second.events[0].playhead == first.events[pause].playhead


def test_a_live_session_restarts_after_24_hours() -> None:
    """Any session is ended and re-opened with media.resume after 24 hours (SDK rule)."""
    prof = profile_from_dict(
        {
            "name": "all-day",
            "content": {"kind": "live", "content_type": "live", "channel": "news"},
            "viewing": {
                "startup_seconds": {"distribution": "fixed", "value": 1},
                "watch_seconds": {"distribution": "fixed", "value": 26 * 3600},
            },
        }
    )
    sessions = simulate(prof)
    assert len(sessions) == 2
    assert sessions[0].event_types[-1] == "sessionEnd"
    assert sessions[0].events[-1].ts - T0 == 24 * 3_600_000
    assert sessions[1].start.params.resume is True
    assert kinds(sessions[1])[:2] == ["sessionStart", "play"]


def test_live_ad_breaks_and_programmes_follow_the_channels_schedule() -> None:
    """Live viewers of a channel all get its breaks at the same UTC instants, about every
    interval (each channel on its own schedule); its day's programmes are the chapters."""
    prof = profile_from_dict(
        {
            "name": "live",
            "content": {
                "kind": "live",
                "content_type": "live",
                "channel": "news",
                "titles": 1,  # one channel
                "program_minutes": 30,
                "live_latency_seconds": {"distribution": "fixed", "value": 0},  # at the edge
            },
            "viewing": {
                "startup_seconds": {"distribution": "fixed", "value": 1},
                "watch_seconds": {"distribution": "fixed", "value": 3600},
            },
            "ads": {
                "midroll_interval_seconds": 900,
                "ads_per_pod": {"distribution": "fixed", "value": 1},
                "ad_seconds": {"distribution": "fixed", "value": 30},
            },
        }
    )
    sessions = simulate(prof, sessions=3, gap_ms=61_000)
    schedules = set()
    for session in sessions:
        breaks = [e.ts // 1000 % 86_400 for e in session.events if e.event_type == "adBreakStart"]
        schedules.add(tuple(breaks[:2]))
        # Near every 15 minutes of the UTC day, a few minutes off the even grid at most.
        assert 900 - 360 <= breaks[1] - breaks[0] <= 900 + 360
        resumed = session.event_types.index("adBreakComplete") + 1
        play = session.events[resumed]
        assert play.event_type == "play"
        assert play.playhead == play.ts // 1000 % 86_400  # live resumes at the current second
        chapters = [e.params for e in session.events if e.event_type == "chapterStart"]
        # The channel's day (its time zone: UTC here), from the programme on air at noon.
        day = MetadataPool.build(prof).titles[0].schedule
        noon = next(i for i, slot in enumerate(day) if slot.start_minute <= 720 < slot.end_minute)
        expected = [(slot.start_minute * 60, slot.minutes * 60, slot.name) for slot in day[noon:]]
        seen = [
            (c["media.chapter.offset"], c["media.chapter.length"], c["media.chapter.friendlyName"])
            for c in chapters
        ]
        assert seen == expected[: len(seen)]
        assert len(seen) >= 2
    assert len(schedules) == 1  # one channel: one schedule for all its viewers


def test_live_viewers_sit_behind_the_live_edge_each_their_own_way() -> None:
    """A channel's break reaches each viewer 3-30 s late: not all in one millisecond."""
    sessions = simulate(load_profile("live-news"), sessions=40, gap_ms=7_000)
    interval_ms = round(load_profile("live-news").ads.midroll_interval_seconds * 1000)
    lags = set()
    for session in sessions:
        day = _break_day(session.start.params.id, interval_ms)
        for event in session.events:
            if event.event_type == "adBreakStart" and event.params["media.ad.podIndex"] > 0:
                of_day = event.ts % 86_400_000
                scheduled = max((b for b in day if b <= of_day), default=day[-1] - 86_400_000)
                lag = (of_day - scheduled) / 1000
                assert 3 <= lag <= 30.001
                lags.add(round(lag))
    assert len(lags) > 5


def test_an_audio_podcast_is_audio_without_frames() -> None:
    """The podcast profile says media.streamType audio and sends no frame figures."""
    sessions = simulate(load_profile("podcast-audio"), sessions=5, gap_ms=5_000)
    for session in sessions:
        assert session.start.params.stream_type == "audio"
        assert session.start.params.content_type == "podcast"
        for event in session.events:
            qoe = event.body.qoe_data
            if qoe is not None:
                assert qoe.frames_per_second is None
                assert qoe.dropped_frames is None


def test_qoe_has_a_fixed_time_to_start_and_cumulative_dropped_frames() -> None:
    """timeToStart is on the first play; droppedFrames never goes down; bitrates are the ladder."""
    prof = profile(
        qoe={"bitrate_changes_per_hour": 60, "dropped_frames_per_minute": 5},
    )
    [session] = simulate(prof)
    first_play = next(e for e in session.events if e.event_type == "play")
    assert first_play.body.qoe_data is not None
    assert first_play.body.qoe_data.time_to_start == 2000
    changes = [e.body.qoe_data for e in session.events if e.event_type == "bitrateChange"]
    assert len(changes) > 5
    dropped = [q.dropped_frames or 0 for q in changes if q is not None]
    assert dropped == sorted(dropped)
    assert {q.bitrate for q in changes if q is not None} <= set(prof.qoe.bitrates)


def test_preroll_abandonment_follows_the_published_curve() -> None:
    """19 % leave during a 10 s pre-roll, 33 % during a 20 s or longer one (MCA-SPEC.md 7)."""
    points = [(10.0, 0.19), (20.0, 0.33)]
    assert preroll_leave_share(points, 10) == pytest.approx(0.19)
    assert preroll_leave_share(points, 15) == pytest.approx(0.26)
    assert preroll_leave_share(points, 45) == pytest.approx(0.33)
    assert preroll_leave_share(points, 0) == 0
    prof = profile(
        ads={
            "preroll_rate": 1.0,
            "ads_per_pod": {"distribution": "fixed", "value": 1},
            "ad_seconds": {"distribution": "fixed", "value": 30},
            "preroll_abandonment": [[10, 0.19], [20, 0.33]],
        },
        content={"length_seconds": {"distribution": "fixed", "value": 60}},
    )
    sessions = simulate(prof, sessions=800, gap_ms=1_000)
    left = sum("play" not in s.event_types for s in sessions)
    assert left / 800 == pytest.approx(0.33, abs=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vod-episode", "live-news", "ugc-clip"])
def test_a_bundled_profile_behaves_at_its_settings(name: str) -> None:
    """Start failures, completions and rebuffering land near the profile's rates."""
    prof = load_profile(name)
    clock = VirtualClock(start=START)
    engine = Engine(clock, MemoryTransport(Collector(clock=clock, keep_events=False)))
    for index in range(1000):
        engine.add(Player(prof, seed=3, index=index, start_at=T0 + index * 2_000))
    engine.run()
    seen = engine.stats.behaviour[name]
    viewing = prof.viewing
    assert seen.start_failed / seen.sessions == pytest.approx(viewing.start_failure_rate, abs=0.02)
    assert seen.rebuffered / seen.played == pytest.approx(viewing.buffering_rate, abs=0.06)
    if viewing.completion_rate is not None:
        assert seen.completed / seen.played == pytest.approx(viewing.completion_rate, abs=0.06)
    outcomes = Counter(engine.stats.outcomes)
    assert outcomes["left"] > 0
    assert engine.stats.accepted == engine.stats.requests


def test_mid_rolls_fall_on_chapter_boundaries_between_acts() -> None:
    """With chapters, cue points move to act boundaries: chapterComplete, the pod, play, next."""
    prof = profile(
        content={"chapters": {"distribution": "fixed", "value": 3}},
        ads={
            "midroll_interval_seconds": 600,
            "ads_per_pod": {"distribution": "fixed", "value": 1},
            "ad_seconds": {"distribution": "fixed", "value": 15},
        },
    )
    [session] = simulate(prof)
    sequence = kinds(session)
    first_break = sequence.index("adBreakStart")
    assert sequence[first_break - 1] == "chapterComplete"
    assert sequence[first_break : first_break + 6] == [
        "adBreakStart", "adStart", "adComplete", "adBreakComplete", "play", "chapterStart",
    ]  # fmt: skip
    assert sequence.count("adBreakStart") == 2  # at both boundaries between three acts


def test_the_bundled_episode_profile_has_mid_rolls() -> None:
    """vod-episode viewers see pods after the pre-roll (the issue asks for mid-rolls)."""
    sessions = simulate(load_profile("vod-episode"), sessions=30, gap_ms=10_000)
    indices = {
        e.params["media.ad.podIndex"] for s in sessions for e in s.events
        if e.event_type == "adBreakStart"
    }  # fmt: skip
    assert {0, 1, 2} <= indices


@pytest.mark.parametrize(
    ("utc", "local_minute"),
    [("2026-11-27T12:30:00Z", 7 * 60 + 30), ("2026-11-27T23:40:00Z", 18 * 60 + 40)],
)
def test_a_news_channel_airs_its_programmes_at_their_local_hour(
    utc: str, local_minute: int
) -> None:
    """The morning show at 07:30 in New York, the evening news at 18:40: the channel's day in
    its own time zone, not names cycling on a UTC grid."""
    news = load_profile("live-news")
    assert news.arrivals.timezone == "America/New_York"
    clock = VirtualClock(start=utc)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    player = engine.add(Player(news, seed=1, start_at=utc, exact=True))
    engine.advance(120)
    assert player.sid is not None
    starts = [e for e in collector.session(player.sid).events if e.event_type == "chapterStart"]
    assert starts, "the viewer saw the programme on air"
    day = player.title.schedule
    on_air = next(s for s in day if s.start_minute <= local_minute < s.end_minute)
    assert starts[0].params["media.chapter.friendlyName"] == on_air.name
    assert starts[0].params["media.chapter.length"] == on_air.minutes * 60


@pytest.mark.parametrize(
    "utc",
    [
        "2026-11-01T05:20:00Z",  # New York's clocks go back at 06:00 UTC: 01:00-02:00 twice
        "2026-03-08T06:20:00Z",  # and forward at 07:00 UTC: 02:00-03:00 never comes
    ],
)
@pytest.mark.parametrize("name", ["live-news", "linear-channel"])
def test_programmes_run_through_the_nights_the_clocks_change(utc: str, name: str) -> None:
    """Across a clock change every viewing plays on, programme after programme, each chapter
    starting where the one before ended."""
    data = load_profile(name).model_dump(mode="json")
    data["viewing"]["watch_seconds"] = {"distribution": "fixed", "value": 4 * 3600}  # all night
    data["viewing"]["pauses_per_hour"] = 0
    night_owls = profile_from_dict(data)
    clock = VirtualClock(start=utc)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    for index in range(20):
        engine.add(Player(night_owls, seed=4, index=index, start_at=clock.now() + index * 60_000))
    engine.run(until=clock.now() + 4 * 3_600_000)
    assert engine.stats.accepted == engine.stats.requests
    changes = 0
    for session in collector.sessions:
        assert session.problems == []
        chapters = [e.params for e in session.events if e.event_type == "chapterStart"]
        for before, after in itertools.pairwise(chapters):
            end = before["media.chapter.offset"] + before["media.chapter.length"]
            if after["media.chapter.index"] != before["media.chapter.index"]:
                changes += 1
                assert after["media.chapter.offset"] == pytest.approx(end % 86_400, abs=1)
    assert changes > 0
