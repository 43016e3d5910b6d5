"""Adaptive bitrate as players do it: a first rung from a bandwidth guess, a climb to what the
connection sustains, drops on congestion and recoveries."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from playersim import (
    Collector,
    ProfileError,
    load_profile,
    profile_from_dict,
)
from tests.viewings import simulate

START = 1_795_780_800_000


def sessions(name: str, count: int, seed: int = 6) -> Collector:
    return simulate(name, count, seed=seed, every_ms=3_000, hours=4)


def bitrates(session) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        event.body.qoe_data.bitrate
        for event in session.events
        if event.event_type in ("play", "bitrateChange") and event.body.qoe_data is not None
    ]


def test_the_first_bitrate_varies_and_starts_low() -> None:
    collector = sessions("vod-movie", 150)
    ladder = load_profile("vod-movie").qoe.bitrates
    firsts = Counter(rates[0] for s in collector.sessions if (rates := bitrates(s)))
    assert len(firsts) >= 2  # not one rung for everyone
    assert firsts.most_common(1)[0][1] < sum(firsts.values())
    # Players start from a guess of about 1 Mb/s: mostly the bottom rungs, never the top.
    assert sum(c for rate, c in firsts.items() if rate <= ladder[1]) > 0.8 * sum(firsts.values())
    assert ladder[-1] not in firsts


def test_players_climb_in_steps_after_the_first_frame() -> None:
    collector = sessions("vod-movie", 150)
    climbed = 0
    for session in collector.sessions:
        rates = bitrates(session)
        switches = [e for e in session.events if e.event_type == "bitrateChange"]
        if len(rates) > 1 and rates[1] > rates[0]:
            climbed += 1
        ladder = load_profile("vod-movie").qoe.bitrates
        for before, after in itertools.pairwise(rates):
            # One rung at a time, up or down.
            assert abs(ladder.index(after) - ladder.index(before)) <= 1
        assert all(e.body.qoe_data is not None for e in switches)
    assert climbed > 30
    assert all(session.problems == [] for session in collector.sessions)


def test_clips_change_bitrate_too() -> None:
    # The tell: ugc-clip never changed bitrate.
    collector = sessions("ugc-clip", 200)
    assert sum(s.event_types.count("bitrateChange") for s in collector.sessions) > 10


def test_a_ladder_out_of_order_is_refused_by_name() -> None:
    data = load_profile("vod-movie").model_dump(by_alias=True)
    data["qoe"]["bitrates"] = [3_000_000, 800_000]
    with pytest.raises(ProfileError, match=r"qoe\.bitrates.*lowest first"):
        profile_from_dict(data, source="mine.toml")
