"""Clocks: virtual time moved by hand, and the system clock as freezegun drives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    SystemClock,
    VirtualClock,
    format_instant,
    load_profile,
    parse_instant,
)

NOON = 1_795_780_800_000  # 2026-11-27T12:00:00Z in epoch milliseconds


def test_virtual_clock_starts_where_told_and_moves_only_when_told() -> None:
    """VirtualClock reads back its start, and advance/advance_to move it exactly."""
    clock = VirtualClock(start="2026-11-27T12:00:00Z")
    assert clock.now() == NOON
    assert clock.now() == NOON  # reading does not move it
    clock.advance(1.5)
    assert clock.now() == NOON + 1500
    clock.advance_to("2026-11-27T13:00:00Z")
    assert format_instant(clock.now()) == "2026-11-27T13:00:00.000Z"


def test_virtual_clock_refuses_to_go_backwards() -> None:
    """Time only moves forward: a negative advance or an earlier target is an error."""
    clock = VirtualClock(start=NOON)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(NOON - 1)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-27T12:00:00Z", NOON),
        ("2026-11-27T12:00:00+00:00", NOON),
        ("2026-11-27T13:00:00+01:00", NOON),
        ("2026-11-27T12:00:00", NOON),  # naive means UTC, never the machine's zone
        ("2026-11-27T12:00:00.250Z", NOON + 250),
        (datetime(2026, 11, 27, 12, tzinfo=UTC), NOON),
        (datetime(2026, 11, 27, 7, tzinfo=timezone(timedelta(hours=-5))), NOON),
        (NOON, NOON),
    ],
)
def test_instants_parse_to_utc_milliseconds(given: str | int | datetime, expected: int) -> None:
    """ISO-8601 strings, datetimes and epoch ms all become integer UTC milliseconds."""
    assert parse_instant(given) == expected


def test_a_bad_instant_says_what_was_expected() -> None:
    """A string that is not ISO-8601 is refused with an example of one that is."""
    with pytest.raises(ValueError, match=r"not an ISO-8601 instant: 'yesterday'.*2026-11-27"):
        parse_instant("yesterday")


def test_system_clock_follows_freezegun() -> None:
    """SystemClock reads the frozen time, and moves with tick() and move_to()."""
    clock = SystemClock()
    with freeze_time("2026-11-27 12:00:00") as frozen:
        assert clock.now() == NOON
        frozen.tick(10)
        assert clock.now() == NOON + 10_000
        frozen.move_to("2026-11-27 18:30:00")
        assert clock.now() == NOON + 6.5 * 3_600_000


def test_system_clock_follows_freezegun_with_tick_true() -> None:
    """Under freeze_time(tick=True) the clock starts at the frozen instant and moves on."""
    clock = SystemClock()
    with freeze_time("2026-11-27 12:00:00", tick=True):
        first = clock.now()
        assert NOON <= first < NOON + 5_000
        assert clock.now() >= first


def test_players_on_the_system_clock_run_under_freezegun() -> None:
    """A test freezes time, ticks it, and the engine's step() sends what is due then."""
    with freeze_time("2026-11-27 12:00:00") as frozen:
        clock = SystemClock()
        collector = Collector(clock=clock)
        engine = Engine(clock, MemoryTransport(collector))
        engine.add(Player(load_profile("live-news"), seed=1, exact=True))
        engine.step()
        session = collector.sessions[0]
        assert session.event_types == ["sessionStart"]
        assert session.events[0].ts == NOON
        assert session.events[0].playhead == 43200
        for _ in range(6):
            frozen.tick(10)
            engine.step()
        assert session.event_types[0] == "sessionStart"
        assert session.events[-1].event_type == "ping"
        assert session.events[-1].ts == NOON + 60_000
        assert session.problems == []


def test_the_engine_cannot_move_a_system_clock() -> None:
    """advance() needs a virtual clock; on the system clock it says to use step()."""
    clock = SystemClock()
    engine = Engine(clock, MemoryTransport(Collector(clock=clock)))
    with pytest.raises(TypeError, match="step"):
        engine.advance(10)
