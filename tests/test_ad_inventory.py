"""An ad inventory that looks like the industry's: the published mix of lengths, creatives not
repeated within a session more often than the published rates, and pre-roll abandonment
wherever there are pre-rolls."""

from __future__ import annotations

from collections import Counter

import pytest

from playersim import (
    Collector,
    bundled_profiles,
    load_profile,
)
from tests.viewings import simulate

START = 1_795_780_800_000


def sessions(name: str, count: int) -> Collector:
    return simulate(name, count, seed=8, every_ms=20_000, hours=12)


def ad_ids(session) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.params["media.ad.id"] for e in session.events if e.event_type == "adStart"]


def test_ads_come_in_the_lengths_the_industry_sells() -> None:
    collector = sessions("vod-episode", 150)
    lengths = Counter(
        e.params["media.ad.length"]
        for s in collector.sessions
        for e in s.events
        if e.event_type == "adStart"
    )
    assert len(lengths) >= 5
    assert lengths.most_common(1)[0][0] == 30  # 30 s dominates on TV (Extreme Reach)


@pytest.mark.parametrize(
    ("name", "most"),
    [("vod-episode", 0.25), ("vod-movie", 0.25), ("live-sports", 0.5), ("linear-channel", 0.5)],
)
def test_the_same_ad_twice_in_a_session_at_about_the_published_rate(name: str, most: float) -> None:
    # FreeWheel: about 14% of full-episode streams and 37% of live streams repeat an ad.
    collector = sessions(name, 200)
    with_ads = [ids for s in collector.sessions if (ids := ad_ids(s))]
    repeated = sum(len(ids) != len(set(ids)) for ids in with_ads)
    assert len(with_ads) > 100
    assert 0 < repeated / len(with_ads) < most


def test_never_the_same_ad_twice_in_one_break() -> None:
    collector = sessions("live-sports", 100)
    for session in collector.sessions:
        pod: list[str] = []
        for event in session.events:
            if event.event_type == "adBreakStart":
                pod = []
            elif event.event_type == "adStart":
                assert event.params["media.ad.id"] not in pod
                pod.append(event.params["media.ad.id"])


@pytest.mark.parametrize("name", sorted(bundled_profiles()))
def test_every_profile_with_pre_rolls_says_how_many_viewers_leave_them(name: str) -> None:
    ads = load_profile(name).ads
    if ads.preroll_rate > 0:
        assert ads.preroll_abandonment
