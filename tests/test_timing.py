"""A real player's timing (profile `[timing]`): a ping timer that fires late, milliseconds between
events sent together, people who take a moment to press skip; and `exact` timing for scripts
and tests that want the nominal instants."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    ProfileError,
    VirtualClock,
    bundled_profiles,
    load_profile,
    profile_from_dict,
)
from playersim.mca.spec import PING_MS
from tests.viewings import simulate

START = 1_795_780_800_000  # 2026-11-27T12:00:00Z


def run(
    profile_name: str,
    *,
    sessions: int,
    seed: int = 3,
    exact: bool | None = None,
    hours: float = 3,
) -> Collector:
    return simulate(profile_name, sessions, seed=seed, exact=exact, hours=hours)


def ping_gaps(collector: Collector) -> list[int]:
    gaps = []
    for session in collector.sessions:
        pings = [event.ts for event in session.events if event.event_type == "ping"]
        gaps += [after - before for before, after in itertools.pairwise(pings)]
    return gaps


def event_gaps(collector: Collector) -> list[int]:
    """The time between consecutive events of each session while it runs."""
    return [
        after.ts - before.ts
        for session in collector.sessions
        for before, after in itertools.pairwise(session.events)
        if before.event_type != "sessionComplete"
    ]


def test_pings_are_not_a_metronome() -> None:
    # The figures, on a small audience: no ping-gap value carries 5% of the gaps, and
    # fewer than 10% of the events sit at a whole second from their sessionStart.
    collector = run("vod-episode", sessions=40)
    gaps = ping_gaps(collector)
    assert len(gaps) > 1_000
    most = Counter(gaps).most_common(1)[0][1]
    assert most / len(gaps) < 0.05
    events = [(s.events[0].ts, e.ts) for s in collector.sessions for e in s.events]
    whole = sum((ts - start) % 1000 == 0 for start, ts in events)
    assert whole / len(events) < 0.10
    assert max(event_gaps(collector)) < PING_MS + 1_000  # never a second over the interval
    assert all(session.problems == [] for session in collector.sessions)


def test_exact_timing_keeps_the_grid() -> None:
    collector = run("vod-episode", sessions=5, exact=True)
    for session in collector.sessions:
        start = session.events[0].ts
        for event in session.events:
            if event.event_type == "ping":
                assert (event.ts - start) % PING_MS == 0, event
        for before, after in itertools.pairwise(session.events):
            assert after.ts - before.ts >= 1


def test_events_sent_together_are_milliseconds_apart_not_one() -> None:
    collector = run("vod-movie", sessions=30)
    # adBreakStart then adStart, at one instant: a few milliseconds apart, never always 1.
    gaps = Counter(
        after.ts - before.ts
        for session in collector.sessions
        for before, after in itertools.pairwise(session.events)
        if (before.event_type, after.event_type) == ("adBreakStart", "adStart")
    )
    assert sum(gaps.values()) >= 20
    assert len(gaps) > 3
    assert all(gap >= 1 for gap in gaps)


def test_viewers_press_skip_after_the_button_appears_each_at_their_own_pace() -> None:
    realistic = run("ugc-clip", sessions=300, hours=1)
    exact = run("ugc-clip", sessions=300, hours=1, exact=True)

    def skip_times(collector: Collector) -> list[int]:
        times = []
        for session in collector.sessions:
            started = 0
            for event in session.events:
                if event.event_type == "adStart":
                    started = event.ts
                elif event.event_type == "adSkip":
                    times.append(event.ts - started)
        return times

    realistic_skips, exact_skips = skip_times(realistic), skip_times(exact)
    # Exact: the moment it is allowed, 5 s after the ad's instant (its adStart is stamped 1 ms
    # after the adBreakStart of the same instant): every skip alike.
    assert exact_skips
    assert set(exact_skips) == {4_999}
    assert len(realistic_skips) >= 5
    assert min(realistic_skips) > 5_000
    assert len(set(realistic_skips)) > len(realistic_skips) * 0.8  # each at their own pace


@pytest.mark.parametrize("name", sorted(bundled_profiles()))
def test_exact_timing_is_the_traffic_of_a_profile_without_timing_draws(name: str) -> None:
    # Exact timing draws nothing: the same seed gives the same events, in the same order, as
    # realistic timing wherever no reaction changes what happens (event types only: the
    # instants differ by design). Here: every profile, with the skippable ads turned off.
    profile = load_profile(name)
    ads = profile.ads.model_copy(update={"skippable_rate": 0.0})
    profile = profile.model_copy(update={"ads": ads})

    def kinds(exact: bool) -> list[list[str]]:
        clock = VirtualClock(start=START)
        collector = Collector(clock=clock)
        engine = Engine(clock, MemoryTransport(collector))
        for index in range(3):
            engine.add(Player(profile, seed=11, index=index, start_at=START, exact=exact))
        engine.run(until=START + 3_600_000)
        return [
            [e.event_type for e in s.events if e.event_type != "ping"] for s in collector.sessions
        ]

    assert kinds(True) == kinds(False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(bundled_profiles())),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_late_timers_keep_every_session_in_order_and_conformant(name: str, seed: int) -> None:
    collector = run(name, sessions=2, seed=seed, hours=1.5)
    for session in collector.sessions:
        assert session.problems == []
        for before, after in itertools.pairwise(session.events):
            assert after.ts > before.ts
    # No silence a second longer than the ping interval. (Between two pings there may be
    # more: a tick that falls on the very millisecond of another event is that event.)
    assert all(gap < PING_MS + 1_000 for gap in event_gaps(collector))


def test_a_ping_timer_more_than_a_second_late_is_refused_by_name() -> None:
    data = load_profile("vod-movie").model_dump(by_alias=True)
    data["timing"] = {
        "ping_late_ms": {"distribution": "lognormal", "median": 10, "sigma": 1, "max": 1500}
    }
    with pytest.raises(ProfileError, match=r"timing\.ping_late_ms.*below 1000"):
        profile_from_dict(data, source="mine.toml")
