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


def qoe_of(collector: Collector, field: str) -> list[list[int]]:
    return [
        [
            getattr(event.body.qoe_data, field)
            for event in session.events
            if event.body.qoe_data is not None and getattr(event.body.qoe_data, field) is not None
        ]
        for session in collector.sessions
    ]


def test_dropped_frames_are_counted_at_random_each_viewing_at_its_own_rate() -> None:
    collector = sessions("vod-episode", 120)
    dropped = qoe_of(collector, "dropped_frames")
    for counts in dropped:
        assert counts == sorted(counts)  # a running count: it never goes back
    finals = [counts[-1] for counts in dropped if len(counts) > 3]
    assert len(set(finals)) > len(finals) // 2  # not minutes x rate for everyone alike
    assert 0 in finals or min(finals) < max(finals) / 10  # a few drop little, some a lot


def test_frame_rates_are_the_titles_own() -> None:
    collector = sessions("vod-episode", 150)
    rates: dict[str, set[int]] = {}
    for session in collector.sessions:
        title = str(session.events[0].params["media.id"])
        for fps in qoe_of_session(session):
            rates.setdefault(title, set()).add(fps)
    assert all(len(found) == 1 for found in rates.values())  # a title keeps its rate
    assert {fps for found in rates.values() for fps in found} == {24, 25, 30}


def qoe_of_session(session) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        event.body.qoe_data.frames_per_second
        for event in session.events
        if event.body.qoe_data is not None and event.body.qoe_data.frames_per_second is not None
    ]


def test_a_phone_plays_a_shorter_ladder_than_a_tv() -> None:
    """A phone's player caps the ladder at 720p (3 Mb/s), a browser at 6 Mb/s; a TV climbs to
    the top rung when its connection allows."""
    profile = load_profile("vod-movie")
    caps = profile.qoe.device_max_bps
    collector = sessions("vod-movie", 200)
    top_by_family: dict[str, int] = {}
    for session in collector.sessions:
        rates = bitrates(session)
        if not rates:
            continue
        family = session.start.params.player_name
        top_by_family[family] = max(top_by_family.get(family, 0), *rates)
    assert top_by_family["AVPlayer"] <= caps["ios"]
    assert top_by_family["ExoPlayer"] <= caps["android"]
    assert top_by_family["html5-video"] <= caps["web"]
    assert max(top_by_family.values()) == profile.qoe.bitrates[-1]  # a TV on a fast line


def test_a_device_cap_must_be_a_positive_number() -> None:
    data = load_profile("vod-movie").model_dump(mode="json")
    data["qoe"]["device_max_bps"] = {"ios": 0}
    with pytest.raises(ProfileError, match="device_max_bps"):
        profile_from_dict(data)
