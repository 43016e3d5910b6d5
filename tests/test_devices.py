"""Devices and people a report can believe: many builds, each device true to itself, one
session per device at a time, human hours, households, regions, and device shares by hour."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    VirtualClock,
    Workload,
    bundled_profiles,
    load_profile,
    profile_from_dict,
    run,
)
from playersim.audience.arrivals import Shape
from playersim.audience.devices import PLATFORMS, device_for
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import Profile
from playersim.audience.visitors import SHARED, Audience
from playersim.errors import ProfileError
from playersim.sim.ledger import DeviceLedger

from .viewings import START, simulate


def recorded(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def a_day(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A day of every bundled profile: 1,500 sessions, recorded."""
    path = tmp_path_factory.mktemp("day") / "day.ndjson"
    run(
        profiles=sorted(bundled_profiles()),
        sessions=1500,
        seed=9,
        start="2026-11-20T00:00:00Z",
        duration=timedelta(hours=24),
        record=path,
    )
    return recorded(path)


@pytest.mark.slow
def test_no_device_plays_two_sessions_at_once_and_each_stays_itself(
    a_day: list[dict[str, Any]],
) -> None:
    starts: dict[str, int] = {}
    last: dict[str, int] = {}
    device_of: dict[str, str] = {}
    person_of_session: dict[str, tuple[str, ...]] = {}
    builds: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    # Every event of every session: a downloaded session's line holds all of its own.
    events = [
        (body, line["session"])
        for line in a_day
        for body in (line["body"] if isinstance(line["body"], list) else [line["body"]])
    ]
    for body, sid in events:
        ts = body["playerTime"]["ts"]
        if body["eventType"] == "sessionStart":
            params = body["params"]
            device = params["analytics.visitorId"]
            starts[sid], device_of[sid] = ts, device
            custom = body["customMetadata"]
            builds[device].add(
                (
                    params["media.playerName"],
                    params["media.sdkVersion"],
                    params["media.libraryVersion"],
                    params.get("appInstallationId"),
                    custom.get("device.model"),
                    custom.get("device.osVersion"),
                    custom.get("browser.version"),
                )
            )
            person_of_session[sid] = (device,)
        last[sid] = ts
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for sid, start in starts.items():
        spans[device_of[sid]].append((start, last[sid]))
    overlaps = [
        (device, a, b)
        for device, pairs in spans.items()
        for a, b in itertools.pairwise(sorted(pairs))
        if b[0] < a[1]
    ]
    assert not overlaps, overlaps[:3]
    assert all(len(seen) == 1 for seen in builds.values())  # a device is one build, always
    assert any(len(pairs) > 3 for pairs in spans.values())  # and people do come back


def test_a_service_has_dozens_of_builds_and_no_build_is_an_sdk_copy() -> None:
    """10,000 viewers of a mixed audience: at least 50 builds; the app release is not the
    Adobe library's version; a browser has no app install."""
    builds: Counter[tuple[str, str, str]] = Counter()
    rng = random.Random(1)
    for name in ("vod-episode", "live-news", "ugc-clip", "linear-channel"):
        pool = MetadataPool.build(load_profile(name))
        for index in range(2500):
            visitor = pool.pick_visitor(rng, START + index * 30_000)
            device = visitor.device
            builds[(device.player_name, device.sdk_version, device.library_version)] += 1
            assert device.sdk_version != device.library_version
            assert (visitor.app_installation_id is None) == (device.family == "web")
    assert len(builds) >= 50


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**9), person=st.integers(0, 5000))
def test_a_household_shares_its_tv_and_each_person_has_their_own_phone(
    seed: int, person: int
) -> None:
    audience = Audience(seed)
    household = audience.household(person)
    other = person + 1 if audience.household(person + 1) == household else person - 1
    if other < 0 or audience.household(other) != household:
        return  # a household of one
    for family in ("roku", "web", "ios"):
        mine, theirs = audience.visitor(person, family), audience.visitor(other, family)
        same = mine.visitor_id == theirs.visitor_id
        assert same == (family in SHARED)
        if same:
            assert mine.device == theirs.device
            assert mine.customer_id == theirs.customer_id  # the account holder's


def test_households_are_mostly_small() -> None:
    audience = Audience(0)
    sizes = Counter(audience.household(person) for person in range(20_000))
    shares = Counter(sizes.values())
    assert 0.25 < shares[1] / len(sizes) < 0.33  # Census: 29 % live alone
    assert max(shares) <= 6


def test_a_person_watches_one_thing_at_a_time_and_not_all_day() -> None:
    """The ledger refuses a person already watching (on any device) and one past their hours
    in the last 24 h; autoplay's next episode keeps the device."""
    pool = MetadataPool.build(load_profile("vod-episode"))
    visitor = pool.pick_visitor(random.Random(3), START)
    ledger = DeviceLedger()

    class Viewing:
        devices: DeviceLedger | None = None

        def __init__(self, start: int, end: int | None) -> None:
            self.visitor, self.start_at, self.last_event_at = visitor, start, end

    first = Viewing(START, START + 2 * 3_600_000)
    ledger.hold(first)  # type: ignore[arg-type]
    assert not ledger.free(visitor, START + 60_000, hours_per_day=6)
    ledger.release(first)  # type: ignore[arg-type]
    assert ledger.free(visitor, START + 3 * 3_600_000, hours_per_day=6)
    assert not ledger.free(visitor, START + 3 * 3_600_000, hours_per_day=2)  # 2 h already
    assert ledger.free(visitor, START + 27 * 3_600_000, hours_per_day=2)  # a day later


def test_device_shares_move_with_the_hour() -> None:
    """Desktops at lunch, TVs late at night (FreeWheel's dayparts), in the viewer's local time."""
    pool = MetadataPool.build(load_profile("vod-episode"))

    def screens(utc_hour: int) -> Counter[str]:
        rng = random.Random(utc_hour)
        at = START - 12 * 3_600_000 + utc_hour * 3_600_000  # START is noon UTC
        return Counter(
            "tv" if pool.pick_visitor(rng, at).device.family in SHARED else "other"
            for _ in range(4000)
        )

    night, noon = screens(8), screens(17)  # 03:00 and 12:00 in New York
    assert night["tv"] / 4000 > noon["tv"] / 4000 + 0.05


def test_an_audience_in_several_time_zones_arrives_on_each_ones_local_curve() -> None:
    evening = [1.0] * 20 + [4.0, 4.0, 1.0, 1.0]
    both = Shape(hourly=evening, regions=(("America/New_York", 1.0), ("America/Los_Angeles", 1.0)))
    east = Shape(hourly=evening, timezone="America/New_York")
    west = Shape(hourly=evening, timezone="America/Los_Angeles")
    instant = START + 13 * 3_600_000 + 1_800_000  # 01:30 UTC: 20:30 in New York
    assert both.multiplier(instant) == pytest.approx(
        (east.multiplier(instant) + west.multiplier(instant)) / 2
    )


def test_custom_metadata_comes_per_session_person_or_title() -> None:
    profile = load_profile("vod-episode").model_dump(mode="json")
    profile["name"] = "custom"
    profile["custom_metadata"] = {
        "plan": {"values": ["basic", "premium"], "per": "viewer", "signed_out": "free"},
        "rights.window": {"values": ["svod", "avod", "tvod"], "per": "title"},
        "entry": {"values": ["rail", "search"], "weights": [3, 1]},
    }
    custom = profile_from_dict(profile)
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    players = [
        engine.add(Player(custom, seed=4, index=index, start_at=START + index * 1000))
        for index in range(150)
    ]
    engine.advance(200)
    plans: dict[str, set[str]] = defaultdict(set)
    windows: dict[str, set[str]] = defaultdict(set)
    entries: Counter[str] = Counter()
    for player in players:
        if player.offline_delay_ms is not None:
            continue  # watched offline: its session is sent later, whole
        assert player.sid is not None
        session = collector.session(player.sid)
        data = session.start.custom_metadata or {}
        assert data["device.os"]  # the device's own keys come too
        account = player.visitor.customer_id
        if account is None:
            assert data["plan"] == "free"  # not signed in: the free tier
        else:
            plans[account].add(data["plan"])  # one plan per account, on all its devices
        windows[player.title.media_id].add(data["rights.window"])
        entries[data["entry"]] += 1
    assert all(len(values) == 1 for values in plans.values())
    assert {"basic", "premium"} <= {plan for values in plans.values() for plan in values}
    assert all(len(values) == 1 for values in windows.values())
    assert len({next(iter(v)) for v in windows.values()}) > 1
    assert entries["rail"] > entries["search"] > 0


def test_a_custom_metadata_key_the_mca_reserves_is_refused_by_name() -> None:
    profile = load_profile("vod-movie").model_dump(mode="json")
    profile["custom_metadata"] = {"media.genre": {"values": ["x"]}}
    with pytest.raises(ProfileError, match=r"media\.genre"):
        profile_from_dict(profile)
    profile["custom_metadata"] = {"tier": {"values": ["a", "b"], "weights": [1]}}
    with pytest.raises(ProfileError, match="1 weights for 2 values"):
        profile_from_dict(profile)


def test_news_channels_break_on_schedules_of_their_own(tmp_path: Path) -> None:
    """Each channel breaks at its own minutes, every viewer of a channel at the same ones."""
    path = tmp_path / "news.ndjson"
    run(
        profiles=["live-news"],
        sessions=60,
        seed=2,
        start="2026-11-27T12:00:00Z",
        duration=timedelta(minutes=30),
        record=path,
    )
    channel_of: dict[str, str] = {}
    breaks: dict[str, set[int]] = defaultdict(set)
    for line in recorded(path):
        body, sid = line["body"], line["session"]
        if body["eventType"] == "sessionStart":
            channel_of[sid] = body["params"]["media.id"]
        elif body["eventType"] == "adBreakStart" and body["params"]["media.ad.podIndex"] > 0:
            # The minute and second of the break on the channel's clock (its playhead).
            breaks[channel_of[sid]].add(round(body["playerTime"]["playhead"]) % 900 // 60)
    assert len({min(minutes) for minutes in breaks.values() if minutes}) > 1


def test_breaks_deliver_fewer_ads_than_planned() -> None:
    """Four slots planned in every break, half of those after the first filled: pods of one to
    four ads, never more, and fewer on average than planned."""
    profile = load_profile("vod-episode").model_dump(mode="json")
    profile["ads"]["ads_per_pod"] = {"distribution": "fixed", "value": 4}
    profile["ads"]["fill_rate"] = 0.5
    collector = simulate(profile_from_dict(profile), 30, seed=5, every_ms=60_000, hours=4)
    sizes: Counter[int] = Counter()
    for session in collector.sessions:
        count = 0
        for event in session.events:
            if event.event_type == "adBreakStart":
                count = 0
            elif event.event_type == "adStart":
                count += 1
            elif event.event_type == "adBreakComplete":
                sizes[count] += 1
    assert set(sizes) <= {1, 2, 3, 4}
    assert len(sizes) >= 3
    assert sum(size * n for size, n in sizes.items()) / sum(sizes.values()) < 3


def _small(visitors: int) -> Profile:
    data = load_profile("ugc-clip").model_dump(mode="json")
    data["audience"]["visitors"] = visitors
    return profile_from_dict(data)


def test_an_arrival_turned_away_holds_no_device() -> None:
    """A full service turns arrivals away; they never watch, so their people stay free."""
    profile = _small(60)
    work = Workload([profile], start=START, sessions=600, rate=1.0)
    clock = VirtualClock(start=START)
    engine = Engine(clock, MemoryTransport(Collector(clock=clock)), concurrency=5, turn_away=True)
    ledgers: list[DeviceLedger] = []

    def players() -> Iterator[Player]:
        for player in work.players(2):
            assert player.devices is not None
            ledgers.append(player.devices)
            yield player

    engine.add_arrivals(players())
    engine.run()
    assert engine.stats.turned_away > 100
    assert engine.stats.crowded == 0  # five at a time among sixty people: always someone free
    assert ledgers
    assert ledgers[0].busy() == (0, 0)  # every viewing over, every device free


def test_an_audience_too_small_for_the_run_is_reported() -> None:
    """Three people cannot watch twenty viewings at once: the summary says how many went to
    someone already watching."""
    stats = run(profiles=[_small(3)], sessions=20, rate=1.0, seed=1)
    assert stats.crowded > 0


@pytest.mark.parametrize(
    ("section", "field", "value", "says"),
    [
        ("qoe", "device_max_bps", {"iphone": 3_000_000}, "unknown device 'iphone'"),
        ("custom_metadata", None, {"device.model": {"values": ["x"]}}, "the device's own"),
        ("custom_metadata", None, {"tier": {"values": ["a"], "weights": [1e300]}}, "less than"),
        ("arrivals", "regions", {"America/Nowhere": 1}, "unknown time zone 'America/Nowhere'"),
    ],
)
def test_a_bad_device_or_audience_setting_is_refused_by_name(
    section: str, field: str | None, value: object, says: str
) -> None:
    data = load_profile("vod-movie").model_dump(mode="json")
    if field is None:
        data[section] = value
    else:
        data[section][field] = value
    with pytest.raises(ProfileError, match=re.escape(says)):
        profile_from_dict(data)


def test_an_arrival_when_every_region_sleeps_still_finds_a_viewer() -> None:
    """A run's own shape (a flat one, a closed workload) may bring arrivals at an hour the
    profile's curve leaves empty in every region: the regions are then drawn by their shares."""
    data = load_profile("vod-episode").model_dump(mode="json")
    data["arrivals"]["hourly"] = [0.0] * 23 + [1.0]
    pool = MetadataPool.build(profile_from_dict(data))
    noon_in_new_york = START + 5 * 3_600_000
    visitor = pool.pick_visitor(random.Random(1), noon_in_new_york)
    assert visitor.timezone in data["arrivals"]["regions"]


@settings(max_examples=200, deadline=None)
@given(
    family=st.sampled_from(["ios", "android", "roku", "tvos", "firetv", "web"]),
    units=st.lists(st.floats(0, 0.999999), min_size=5, max_size=5),
)
def test_a_device_runs_an_os_its_model_can_run(family: str, units: list[float]) -> None:
    """No iPhone 16 on iOS 15, no Galaxy S10 on Android 16; an iPad says iPadOS."""
    device = device_for(family, units)
    spec = next((m for m in PLATFORMS[family].models if m[0] == device.model), None)
    if spec is not None and len(spec) == 4:
        assert spec[2] <= int(device.os_version.split(".")[0]) <= spec[3]
    assert (device.os == "iPadOS") == device.model.startswith("iPad")
    assert device.sdk_version != device.library_version
