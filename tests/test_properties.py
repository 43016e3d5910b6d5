"""Rules that must hold for every seed and every bundled profile (MCA-SPEC.md sections 4 and 5)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    VirtualClock,
    bundled_profiles,
    load_profile,
)
from playersim.collector import CollectedSession

PROFILES = sorted(bundled_profiles())
# Any instant from 2000 to 2100, to the millisecond: across midnights, leap days, far futures.
INSTANTS = st.integers(min_value=946_684_800_000, max_value=4_102_444_800_000)


def simulate(profile_name: str, seed: int, start: int, sessions: int = 3) -> Collector:
    clock = VirtualClock(start=start)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    profile = load_profile(profile_name)
    for index in range(sessions):
        engine.add(Player(profile, seed=seed, index=index, start_at=start + index * 7_000))
    engine.run()
    assert engine.stats.accepted == engine.stats.requests == engine.stats.generated
    return collector


def check_independently(session: CollectedSession) -> None:
    """The rules, restated here without the collector's conformance code."""
    events = session.events
    kinds = session.event_types
    params = session.start.params
    live = params.content_type in {"live", "linear"}
    assert kinds[0] == "sessionStart"
    assert kinds.count("sessionStart") == 1
    assert kinds[-1] in {"sessionComplete", "sessionEnd"}
    assert kinds.count("play") == 1
    assert kinds.index("play") == 1
    assert set(kinds[2:-1]) <= {"ping"}
    stamps = [event.ts for event in events]
    assert all(b - a >= 1 for a, b in itertools.pairwise(stamps))
    assert all(b - a <= 10_000 for a, b in itertools.pairwise(stamps))
    for event in events:
        if live:
            assert 0 <= event.playhead < 86_400
        else:
            assert 0 <= event.playhead < params.length
    if not live:
        # Before play the playhead holds at 0; after it, it keeps step with the clock.
        play_index = kinds.index("play")
        play_ts = events[play_index].ts
        for event in events[: play_index + 1]:
            assert event.playhead == 0
        for event in events[play_index + 1 :]:
            assert abs(event.playhead - (event.ts - play_ts) / 1000) < 0.01
    else:
        for event in events[1:]:
            assert abs(event.playhead - (event.ts // 1000) % 86_400) in (0, 1, 86_399)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profile=st.sampled_from(PROFILES),
    seed=st.integers(min_value=0, max_value=2**32),
    start=INSTANTS,
)
def test_every_session_conforms(profile: str, seed: int, start: int) -> None:
    """Every session of every profile, any seed, any start: accepted, and no conformance problem."""
    collector = simulate(profile, seed, start)
    assert len(collector.sessions) == 3
    for session in collector.sessions:
        assert session.problems == [], session.problems
        check_independently(session)


@settings(max_examples=15, deadline=None)
@given(
    profile=st.sampled_from(PROFILES),
    seed=st.integers(min_value=0, max_value=2**32),
    start=INSTANTS,
)
def test_same_seed_same_traffic(profile: str, seed: int, start: int) -> None:
    """Two runs with the same seed and start deliver identical bodies to the collector."""
    first, second = simulate(profile, seed, start), simulate(profile, seed, start)
    dump = [[e.body.model_dump_json(by_alias=True) for e in s.events] for s in first.sessions]
    again = [[e.body.model_dump_json(by_alias=True) for e in s.events] for s in second.sessions]
    assert dump == again
