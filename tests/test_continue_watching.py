"""Continue watching: a share of on-demand viewings start where the viewer left the title before,
as every streaming service's "continue watching" row does."""

from __future__ import annotations

from playersim import Collector, run
from playersim.engines.summary import format_summary, summary_json
from tests.viewings import simulate

START = 1_795_780_800_000  # 2026-11-27T12:00:00Z


def viewings(name: str, count: int) -> Collector:
    return simulate(name, count, seed=4, every_ms=5_000, hours=6)


def test_a_share_of_films_continue_mid_title_with_media_resume() -> None:
    collector = viewings("vod-movie", 200)
    starts = [s for s in collector.sessions if not s.start.params.resume or s.events[0].playhead]
    continued = [s for s in starts if s.events[0].playhead > 0]
    # The profile says 35% (an assumption of ours: REALISM-SOURCES.md 3.3 has no figure).
    assert 0.25 <= len(continued) / len(starts) <= 0.45
    for session in continued:
        assert session.start.params.resume is True
        plays = [e for e in session.events if e.event_type == "play"]
        if plays:  # the first frame is where the viewer left off, not 0
            assert plays[0].playhead == session.events[0].playhead
        assert session.events[0].playhead < session.start.params.length - 9
    assert all(session.problems == [] for session in collector.sessions)


def test_a_continued_viewing_plays_only_what_comes_after_where_it_starts() -> None:
    collector = viewings("vod-episode", 120)
    checked = midrolls = 0
    for session in collector.sessions:
        start = session.events[0].playhead
        if start == 0:
            continue
        for event in session.events:
            if event.event_type == "chapterStart":
                offset = event.params["media.chapter.offset"]
                length = event.params["media.chapter.length"]
                assert offset + length > start  # no chapter that ended before the start
                checked += 1
            if event.event_type == "adBreakStart" and event.params["media.ad.podIndex"] > 0:
                # No mid-roll of the part not watched: each comes where the content reaches it.
                assert event.params["media.ad.podSecond"] >= start
                midrolls += 1
    assert checked > 5
    assert midrolls > 5


def test_live_content_never_continues() -> None:
    collector = viewings("live-news", 30)
    assert all(session.start.params.resume is not True for session in collector.sessions)


def test_the_summary_counts_the_viewings_that_continued() -> None:
    stats = run(profiles=["vod-movie"], sessions=60, seed=2)
    assert 0 < stats.continued < 60
    assert summary_json(stats)["continued_viewings"] == stats.continued
    rows = [line.split() for line in format_summary(stats, title="run").splitlines()]
    assert ["continuing", "mid-title", "(media.resume)", str(stats.continued)] in rows
