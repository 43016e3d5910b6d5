"""Who is who: the catalogue and the people stay the same across traffic seeds unless a run asks
for others; each viewing's randomness names everything that identifies it; day parts are the
audience's local ones."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    RunOptions,
    VirtualClock,
    load_profile,
    run,
)
from playersim.audience.metadata import MetadataPool
from playersim.runner import OptionError

START = 1_795_780_800_000  # 2026-11-27T12:00:00Z


def sessions_of(path: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # (A downloaded session's line holds the whole session: its sessionStart first.)
    bodies = [line["body"][0] if isinstance(line["body"], list) else line["body"] for line in lines]
    return [body["params"] for body in bodies if body["eventType"] == "sessionStart"]


PROFILE = load_profile("vod-episode")


def people(pool: MetadataPool) -> set[str]:
    """The visitor ids of everyone who watches a profile, on every device they may use."""
    return {
        pool.audience.visitor(person, family).visitor_id
        for person in range(PROFILE.audience.visitors)
        for family in PROFILE.audience.devices
    }


def test_two_traffic_seeds_share_their_titles_and_people(tmp_path: Path) -> None:
    for seed in (1, 2):
        run(profiles=["vod-episode"], sessions=60, seed=seed, record=tmp_path / f"{seed}.ndjson")
    one, two = sessions_of(tmp_path / "1.ndjson"), sessions_of(tmp_path / "2.ndjson")
    titles = [{s["media.id"] for s in starts} for starts in (one, two)]
    # The same service: the popular titles come back, and every viewer of either run is one
    # of the same register of people; what differs is who watches what, and when.
    assert len(titles[0] & titles[1]) >= 10
    assert titles[0] | titles[1] <= {t.media_id for t in MetadataPool.build(PROFILE).titles}
    register = people(MetadataPool.build(PROFILE))
    assert {s["analytics.visitorId"] for s in one + two} <= register
    assert [s["media.id"] for s in one] != [s["media.id"] for s in two]


def test_a_catalogue_seed_gives_another_service(tmp_path: Path) -> None:
    run(profiles=["vod-episode"], sessions=40, seed=1, record=tmp_path / "a.ndjson")
    run(
        profiles=["vod-episode"],
        sessions=40,
        seed=1,
        catalog_seed="another",
        record=tmp_path / "b.ndjson",
    )
    a, b = sessions_of(tmp_path / "a.ndjson"), sessions_of(tmp_path / "b.ndjson")
    assert not {s["media.id"] for s in a} & {s["media.id"] for s in b}
    assert not {s["analytics.visitorId"] for s in b} & people(MetadataPool.build(PROFILE))


def test_the_default_catalogue_is_the_one_a_run_plays() -> None:
    pool = MetadataPool.build(load_profile("vod-movie"))
    player = Player(load_profile("vod-movie"), seed=9, start_at=START)
    assert player.title in pool.titles


def test_profiles_run_apart_with_one_seed_are_not_copies_of_each_other() -> None:
    # The same seed and index in two profiles of the same shape: their viewers draw apart (the
    # issue's symptom was the same viewer positions failing to start in every profile's run).
    def draws(name: str) -> list[tuple[bool, int]]:
        draws = []
        for index in range(200):
            player = Player(load_profile(name), seed=5, index=index, start_at=START)
            behaviour = player.behaviour
            draws.append((behaviour.fails_to_start, behaviour.startup_ms))  # type: ignore[attr-defined]
        return draws

    movie, episode = draws("vod-movie"), draws("vod-episode")
    failing = [{i for i, (fails, _) in enumerate(d) if fails} for d in (movie, episode)]
    assert failing[0] != failing[1]
    assert sum(a[1] == b[1] for a, b in zip(movie, episode, strict=True)) < 10


@pytest.mark.parametrize(
    ("utc", "day_part"),
    [
        ("2026-11-28T01:30:00Z", "Primetime"),  # 20:30 in New York
        ("2026-11-27T12:30:00Z", "Morning"),  # 07:30 in New York
        ("2026-11-27T17:30:00Z", "Daytime"),  # 12:30
        ("2026-11-27T22:30:00Z", "Early Fringe"),  # 17:30
        ("2026-11-28T05:00:00Z", "Late Night"),  # midnight
    ],
)
def test_a_day_part_is_the_viewers_local_one(utc: str, day_part: str) -> None:
    """Each viewer's day part is in their own region's time: New York's 20:30 is prime time
    there, and 17:30 (Early Fringe) in Los Angeles."""
    live = load_profile("live-news")
    assert "America/Los_Angeles" in live.arrivals.regions
    seen: dict[str, str] = {}
    for index in range(40):
        clock = VirtualClock(start=utc)
        collector = Collector(clock=clock)
        engine = Engine(clock, MemoryTransport(collector))
        player = engine.add(Player(live, seed=1, index=index, start_at=utc))
        engine.advance(1)
        params = collector.sessions[0].start.params.model_dump(by_alias=True)
        seen[player.visitor.timezone] = params["media.dayPart"]
    assert seen["America/New_York"] == day_part
    assert len(seen) > 1  # the audience lives in several time zones


def test_a_run_moved_to_another_time_zone_labels_its_day_parts_there(tmp_path: Path) -> None:
    path = tmp_path / "tokyo.ndjson"
    # 11:00 UTC is 20:00 in Tokyo: prime time there, morning in New York.
    run(
        profiles=["live-news"],
        sessions=5,
        seed=1,
        start="2026-11-27T11:00:00Z",
        duration=timedelta(minutes=10),
        timezone="Asia/Tokyo",
        record=path,
    )
    assert {s["media.dayPart"] for s in sessions_of(path)} == {"Primetime"}


def test_a_catalogue_seed_that_is_not_text_or_a_number_is_refused_by_name() -> None:
    with pytest.raises(OptionError, match="catalog_seed"):
        RunOptions(catalog_seed=1.5)  # type: ignore[arg-type]


def test_the_command_line_takes_a_catalogue_seed(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    result = subprocess.run(
        [sys.executable, "-m", "playersim", "run", "--profile", "ugc-clip", "--sessions", "5",
         "--catalog-seed", "7", "--record", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pool = MetadataPool.build(load_profile("ugc-clip"), "7")
    ids = {title.media_id for title in pool.titles}
    assert {s["media.id"] for s in sessions_of(path)} <= ids
