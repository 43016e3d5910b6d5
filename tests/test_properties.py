"""Rules that must hold for every seed and every bundled profile (MCA-SPEC.md sections 4 and 5).

Each example simulates a few sessions of one profile, from any instant between 2000 and 2100, for
up to three hours of virtual time, and checks them twice: with the collector's conformance report,
and with the rules restated here independently of it.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playersim import (
    CollectedSession,
    Collector,
    Engine,
    MemoryTransport,
    Player,
    VirtualClock,
    bundled_profiles,
    load_profile,
)

PROFILES = sorted(bundled_profiles())
INSTANTS = st.integers(min_value=946_684_800_000, max_value=4_102_444_800_000)
SEEDS = st.integers(min_value=0, max_value=2**32)
HORIZON_MS = 3 * 3_600_000
AD_EVENTS = {"adStart", "adComplete", "adSkip"}
PLAYBACK_EVENTS = {"play", "pauseStart", "bufferStart"}


def simulate(profile_name: str, seed: int, start: int, sessions: int = 3) -> Collector:
    clock = VirtualClock(start=start)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    # Viewings watched offline send their sessions once the rest is done, not hours later.
    engine.hurry_uploads = True
    profile = load_profile(profile_name)
    for index in range(sessions):
        engine.add(Player(profile, seed=seed, index=index, start_at=start + index * 7_000))
    engine.run(until=start + HORIZON_MS)
    assert engine.stats.accepted == engine.stats.requests
    return collector


def check_independently(session: CollectedSession, granular: bool) -> None:
    """The rules, restated here without the collector's conformance code."""
    events = session.events
    kinds = session.event_types
    params = session.start.params
    live = params.content_type in {"live", "linear"}
    assert kinds[0] == "sessionStart"
    assert kinds.count("sessionStart") == 1
    if "sessionEnd" in kinds:
        assert kinds[-1] == "sessionEnd"
    # ts strictly increasing; no gap a second longer than the ping interval (1 s in ads when
    # granular): a real player's ping timer fires late, but by less than a second.
    in_ad = False
    for before, after in itertools.pairwise(events):
        in_ad = (
            in_ad or before.event_type == "adBreakStart"
        ) and before.event_type != "adBreakComplete"
        assert after.ts - before.ts >= 1
        if before.event_type != "sessionComplete":
            limit = 1_000 if granular and in_ad and after.event_type != "adBreakStart" else 10_000
            assert after.ts - before.ts < limit + 1_000, (before, after)
    # Playheads in range; live ones are the second of the day while content plays.
    for event in events:
        if live:
            assert 0 <= event.playhead < 86_400
        else:
            assert 0 <= event.playhead < params.length
    # Ad breaks are bookended: adBreakStart, then ads, then adBreakComplete; nothing playback in
    # between; a pre-roll (podIndex 0) before the first play; positions from 1.
    breaking = False
    played = False
    position = 0
    for event in events:
        kind = event.event_type
        if kind == "adBreakStart":
            assert not breaking
            breaking, position = True, 0
            pre_roll = event.params["media.ad.podIndex"] == 0
            if params.resume and not played:
                pass  # a resumed session's first break: a pre-roll, or the mid-roll it was in
            else:
                assert pre_roll == (not played)
            assert event.params["media.ad.podSecond"] == event.playhead
        elif kind == "adStart":
            assert breaking
            position += 1
            assert event.params["media.ad.podPosition"] == position
        elif kind in AD_EVENTS:
            assert breaking
        elif kind == "adBreakComplete":
            assert breaking
            breaking = False
        elif kind in PLAYBACK_EVENTS or kind.startswith("chapter"):
            assert not breaking, kinds
        if kind == "play":
            played = True
    # Chapters never overlap.
    chapter_open = False
    for kind in kinds:
        if kind == "chapterStart":
            assert not chapter_open
            chapter_open = True
        elif kind in ("chapterComplete", "chapterSkip"):
            assert chapter_open
            chapter_open = False
    # After a mid-roll, `play` comes before the next ping (section 5; the player always sends it).
    for at, kind in enumerate(kinds):
        if kind == "adBreakComplete" and "play" in kinds[:at]:
            rest = [k for k in kinds[at + 1 :] if k not in ("chapterComplete", "chapterStart")]
            assert not rest or rest[0] in ("play", "sessionComplete", "sessionEnd"), kinds[at:]
    # At most 10 distinct player states.
    names = {e.params.get("media.state.name") for e in events if e.event_type.startswith("state")}
    assert len(names - {None}) <= 10


@pytest.mark.slow
@settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(profile=st.sampled_from(PROFILES), seed=SEEDS, start=INSTANTS)
def test_every_session_conforms(profile: str, seed: int, start: int) -> None:
    """Every session of every profile, any seed, any start: accepted, and no rule broken."""
    collector = simulate(profile, seed, start)
    granular = load_profile(profile).ads.granular_tracking
    assert len(collector.sessions) >= 3
    for session in collector.sessions:
        assert session.problems == [], session.problems
        check_independently(session, granular)


@settings(max_examples=15, deadline=None)
@given(profile=st.sampled_from(PROFILES), seed=SEEDS, start=INSTANTS)
def test_same_seed_same_traffic(profile: str, seed: int, start: int) -> None:
    """Two runs with the same seed and start deliver identical bodies to the collector."""
    first, second = simulate(profile, seed, start, 2), simulate(profile, seed, start, 2)
    dump = [[e.body.model_dump_json(by_alias=True) for e in s.events] for s in first.sessions]
    again = [[e.body.model_dump_json(by_alias=True) for e in s.events] for s in second.sessions]
    assert dump == again
