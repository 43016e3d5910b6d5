"""A helper for tests on the traffic of many viewings: bundled profiles, in memory, on a
virtual clock, every viewing kept by the collector."""

from __future__ import annotations

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    Profile,
    VirtualClock,
    load_profile,
)

START = 1_795_780_800_000  # 2026-11-27T12:00:00Z


def simulate(
    name: str | Profile,
    count: int,
    *,
    seed: int = 3,
    every_ms: int = 7_000,
    hours: float = 4,
    exact: bool | None = None,
) -> Collector:
    """`count` viewings of profile `name` (bundled, or a Profile), one every `every_ms`, run for
    `hours`."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    profile = load_profile(name) if isinstance(name, str) else name
    for index in range(count):
        engine.add(
            Player(profile, seed=seed, index=index, start_at=START + index * every_ms, exact=exact)
        )
    engine.run(until=START + round(hours * 3_600_000))
    assert engine.stats.accepted == engine.stats.requests
    return collector
