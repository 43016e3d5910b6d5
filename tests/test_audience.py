"""The audience and catalogue of a run: stable people, returning viewers, binges, one catalogue."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import Collector, Engine, MemoryTransport, Player, VirtualClock, load_profile
from playersim.audience.arrivals import Places
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import Profile, profile_from_dict
from playersim.audience.visitors import Audience
from playersim.clock import parse_instant
from playersim.sim.viewings import Workload

START = parse_instant("2026-01-05T00:00:00Z")


def run(workload: Workload, seed: int | str = 1) -> tuple[Engine, Collector]:
    clock = VirtualClock(workload.start)
    collector = Collector(clock)
    engine = Engine(
        clock,
        MemoryTransport(collector),
        concurrency=workload.concurrency,
        follow_up=workload.follow_up(seed),
    )
    engine.add_arrivals(workload.players(seed), until=workload.end, places=workload.places)
    engine.run()
    return engine, collector


def starts(collector: Collector) -> list[dict[str, Any]]:
    return [session.events[0].params for session in collector.sessions]


def test_a_person_keeps_their_ids_and_signs_in_on_every_device() -> None:
    audience = Audience(seed=9)
    phone, browser = audience.visitor(3, "ios"), audience.visitor(3, "web")
    assert phone == Audience(seed=9).visitor(3, "ios")
    # A device has its own cookie, ECID and install; the account is the person's.
    assert phone.visitor_id != browser.visitor_id
    assert phone.ecid != browser.ecid
    assert phone.app_installation_id != browser.app_installation_id
    assert phone.customer_id == browser.customer_id
    assert len(phone.ecid) == 38
    assert Audience(seed=10).visitor(3, "ios") != phone


def test_everyone_owns_a_device() -> None:
    audience = Audience(seed=1)
    families = ("web", "ios", "android", "roku", "tvos", "firetv")
    assert all(any(audience.owns(person, f) for f in families) for person in range(2000))


def test_profiles_of_a_run_share_their_people() -> None:
    """The first people of a 400-visitor profile are the same people in a 600-visitor one."""
    movie, episode = load_profile("vod-movie"), load_profile("vod-episode")
    a, b = MetadataPool.build(movie, 4), MetadataPool.build(episode, 4)
    assert a.audience is b.audience
    assert a.audience.visitor(5, "web") == b.audience.visitor(5, "web")


def small_audience(visitors: int) -> Profile:
    clip = load_profile("ugc-clip").model_dump(mode="json")
    clip["audience"]["visitors"] = visitors
    return profile_from_dict(clip | {"name": f"clips-for-{visitors}"})


def test_a_few_people_watch_most_and_many_come_back() -> None:
    """Activity is skewed: the busiest fifth of viewers make about half the viewings."""
    profile = small_audience(500)
    pool = MetadataPool.build(profile, 1)
    rng = random.Random(5)
    by_person = Counter(pool.pick_visitor(rng).person for _ in range(20_000))
    counts = sorted(by_person.values(), reverse=True)
    assert sum(counts[: len(counts) // 5]) / sum(counts) > 0.45
    workload = Workload([profile], start=START, sessions=400, rate=1.0)
    engine, _ = run(workload)
    assert engine.stats.returning > 0.2 * engine.stats.sessions
    assert len(engine.stats.people) + engine.stats.returning == engine.stats.sessions


@pytest.mark.slow
def test_every_media_id_has_one_name_length_and_show_in_a_run() -> None:
    workload = Workload(
        [load_profile("vod-episode"), load_profile("podcast-audio")],
        start=START,
        sessions=400,
        rate=0.5,
    )
    _, collector = run(workload)
    seen: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    keys = ("media.name", "media.length", "media.show", "media.genre", "media.rating")
    for params in starts(collector):
        seen[params["media.id"]].add(tuple(params.get(key) for key in keys))
    assert len(seen) > 20
    assert all(len(variants) == 1 for variants in seen.values())


def test_popular_titles_get_most_views() -> None:
    """Zipf-like popularity: the top tenth of titles get far more than a tenth of the views."""
    profile = load_profile("vod-movie")
    pool = MetadataPool.build(profile, 1)
    rng = random.Random(6)
    views = sorted(Counter(pool.pick_title(rng).media_id for _ in range(20_000)).values())[::-1]
    assert sum(views[: profile.content.titles // 10]) / sum(views) > 0.35


def test_two_profiles_of_the_same_content_watch_the_same_catalogue() -> None:
    base = load_profile("vod-movie").model_dump(mode="json")
    mobile = profile_from_dict(
        base | {"name": "vod-movie-mobile", "audience": base["audience"] | {"devices": {"ios": 1}}}
    )
    assert MetadataPool.build(load_profile("vod-movie"), 1).titles == (
        MetadataPool.build(mobile, 1).titles
    )


def test_binge_watchers_roll_on_into_the_next_episode() -> None:
    """A finished episode is followed, for some viewers, by the next one: same person, device."""
    workload = Workload([load_profile("vod-episode")], start=START, sessions=200, rate=0.2)
    binge = workload.follow_up(1)
    pairs: list[tuple[Player, Player]] = []

    def watching(player: Player, ended_at: int) -> Player | None:
        after = binge(player, ended_at)
        if after is not None:
            pairs.append((player, after))
        return after

    clock = VirtualClock(START)
    collector = Collector(clock)
    engine = Engine(clock, MemoryTransport(collector), follow_up=watching)
    engine.add_arrivals(workload.players(1))
    engine.run()
    assert len(pairs) == engine.stats.follow_ups > 5
    assert engine.stats.sessions == 200 + len(pairs)
    pool = MetadataPool.build(load_profile("vod-episode"))  # the catalogue a run plays
    opened = {(s.events[0].ts, s.events[0].params["media.id"]) for s in collector.sessions}
    for before, after in pairs:
        assert before.outcome == "completed"
        assert after.title == pool.next_title(before.title)
        assert after.title.metadata["media.show"] == before.title.metadata["media.show"]
        assert after.visitor == before.visitor
        assert before.last_event_at is not None
        assert after.start_at is not None
        assert 5_000 <= after.start_at - before.last_event_at <= 15_000  # autoplay countdown
        assert (after.start_at, after.title.media_id) in opened


def test_films_are_not_binged() -> None:
    workload = Workload([load_profile("vod-movie")], start=START, sessions=200, rate=0.2)
    engine, _ = run(workload)
    assert engine.stats.follow_ups == 0


def test_a_concurrency_limit_holds_and_arrivals_wait_for_a_place() -> None:
    workload = Workload(
        [load_profile("ugc-clip")], start=START, sessions=200, concurrency=7, ramp_up_ms=7000
    )
    clock = VirtualClock(START)
    engine = Engine(clock, MemoryTransport(Collector(clock)), concurrency=7)
    engine.add_arrivals(workload.players(1))
    most = 0
    while (wake := engine.next_wakeup) is not None:
        engine.advance_to(wake)
        most = max(most, engine.active)
    assert most == 7
    assert engine.stats.sessions == 200


def closed(
    profile: str, *, sessions: int, places: int, ramp_ms: int
) -> tuple[Engine, Collector, Places]:
    """An engine given a closed workload of `places` viewers of `profile`, ramped over
    `ramp_ms`, as `playersim run --concurrency` gives it one; not run yet."""
    workload = Workload(
        [load_profile(profile)],
        start=START,
        sessions=sessions,
        concurrency=places,
        ramp_up_ms=ramp_ms,
    )
    assert workload.places is not None
    clock = VirtualClock(START)
    collector = Collector(clock)
    engine = Engine(clock, MemoryTransport(collector), concurrency=places)
    engine.add_arrivals(workload.players(1), places=workload.places)
    return engine, collector, workload.places


def test_a_closed_workload_ramps_its_concurrency_and_replaces_who_leaves_at_once() -> None:
    # Live viewers, many of whom leave within minutes: each is replaced as they go, during
    # the ramp too, so as many watch as the ramp has opened places, and the ramp's end brings
    # no burst of the replacements held back till then.
    engine, collector, _ = closed("live-news", sessions=900, places=300, ramp_ms=600_000)
    for minute in range(1, 13):
        engine.advance_to(START + minute * 60_000)
        assert engine.active == min(300, 30 * minute + 1)  # place i opens at i * 2 s
    started = Counter(session.events[0].ts for session in collector.sessions)
    assert sum(n for ts, n in started.items() if ts < START + 600_000) > 300  # replacements
    assert max(started.values()) <= 2


def test_a_closed_workload_nobody_leaves_during_the_ramp_starts_on_it() -> None:
    # A linear channel's viewers, none of whom leaves in the first minute: the viewers start
    # at the instants of the 40 s ramp (a place every 1.33 s), as before the ramp was one of
    # places, and so send what they sent before.
    engine, collector, places = closed("linear-channel", sessions=30, places=30, ramp_ms=40_000)
    engine.advance_to(START + 60_000)
    assert engine.active == 30
    assert not engine.stats.outcomes  # nobody has left
    starts = sorted(session.events[0].ts for session in collector.sessions)
    assert starts == [places.opens(index) for index in range(30)]


def test_a_closed_workload_with_a_limit_that_is_not_its_own_is_refused() -> None:
    workload = Workload([load_profile("ugc-clip")], start=START, sessions=10, concurrency=4)
    clock = VirtualClock(START)
    engine = Engine(clock, MemoryTransport(Collector(clock)), concurrency=5)
    with pytest.raises(ValueError, match="4 places for a concurrency of 5"):
        engine.add_arrivals(workload.players(1), places=workload.places)
    with pytest.raises(ValueError, match="at least 1"):
        Places(start=START, count=0)


def test_no_session_starts_after_the_window() -> None:
    workload = Workload(
        [load_profile("live-news")], start=START, duration_ms=3_600_000, rate=0.5, concurrency=3
    )
    engine, collector = run(workload)
    assert all(session.events[0].ts < START + 3_600_000 for session in collector.sessions)
    assert engine.stats.sessions >= 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": [0.0]}, "at least one above 0"),
        ({"ramp_down_ms": 1000}, "needs a duration"),
        ({"duration_ms": 1000, "ramp_up_ms": 2000}, "longer than the duration"),
    ],
)
def test_a_bad_workload_says_why(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Workload([load_profile("ugc-clip")], start=START, **kwargs)


def test_a_profile_given_twice_is_refused() -> None:
    clip = load_profile("ugc-clip")
    with pytest.raises(ValueError, match="given twice"):
        Workload([clip, clip], start=START)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), weights=st.lists(st.integers(0, 5), min_size=3, max_size=3))
def test_a_mix_gets_its_sessions_in_proportion(seed: int, weights: list[int]) -> None:
    """With a count and a window, each profile gets its exact share of the count."""
    if not any(weights):
        weights[0] = 1
    names = ("ugc-clip", "live-news", "vod-movie")
    workload = Workload(
        [load_profile(n) for n in names],
        start=START,
        weights=[float(w) for w in weights],
        sessions=90,
        duration_ms=86_400_000,
    )
    got = Counter(player.profile.name for player in workload.players(seed))
    total = sum(weights)
    for name, weight in zip(names, weights, strict=True):
        assert abs(got[name] - 90 * weight / total) < 1


def test_huge_weights_still_share_the_sessions() -> None:
    clip, news = load_profile("ugc-clip"), load_profile("live-news")
    workload = Workload([clip, news], start=START, weights=[1e308, 1e308], sessions=10,
                        duration_ms=3_600_000)  # fmt: skip
    assert Counter(p.profile.name for p in workload.players(1)) == {"ugc-clip": 5, "live-news": 5}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"weights": [float("nan")]}, "finite"), ({"rate": -1.0}, "rate must be a number above 0"),
     ({"rate": float("inf")}, "above 0"), ({"sessions": 0}, "sessions must be at least 1"),
     ({"concurrency": 0}, "concurrency must be at least 1")],
)  # fmt: skip
def test_bad_numbers_are_refused_when_the_workload_is_made(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Workload([load_profile("ugc-clip")], start=START, **kwargs)


def test_a_tiny_rate_ends_instead_of_searching_for_ever() -> None:
    workload = Workload([load_profile("ugc-clip")], start=START, rate=1e-300, sessions=2)
    assert list(workload.instants(1)) == []
