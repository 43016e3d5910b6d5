"""For data engineers: a day of a streaming service, generated in seconds, as NDJSON.

    python examples/a_day_of_traffic.py --sessions 2000 --out day.ndjson

Viewers arrive along each bundled profile's daily curve (New York evenings for films and series,
breakfast news, commuter podcasts), play in virtual time, and every request they send is
validated by the built-in collector and written as a line of NDJSON: the input a pipeline
expects. Same seed, same bytes.
"""

from __future__ import annotations

import argparse

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Recorder,
    VirtualClock,
    Workload,
    bundled_profiles,
    format_instant,
    load_profile,
    parse_instant,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--start", default="2026-03-02T05:00:00Z", help="midnight in New York")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--out", default="day.ndjson")
    args = parser.parse_args()

    start = parse_instant(args.start)
    profiles = [load_profile(path) for path in bundled_profiles().values()]
    day = Workload(profiles, start=start, sessions=args.sessions, duration_ms=24 * 3_600_000)
    clock = VirtualClock(start=start)
    collector = Collector(clock, keep_events=False, retention_s=3600)
    with Recorder(args.out) as recorder:
        engine = Engine(
            clock,
            MemoryTransport(collector),
            follow_up=day.follow_up(args.seed),
            recorder=recorder,
        )
        engine.add_arrivals(day.players(args.seed), until=day.end)
        engine.run()

    stats = engine.stats
    print(f"{stats.sessions:,} viewings, {stats.accepted:,} requests accepted -> {args.out}")
    # By the hour itself (2026-03-02T05), not the hour of the day: a day from 05:00 crosses
    # midnight, and 05:00 of the next date is another hour.
    by_hour = {format_instant(hour * 3_600_000)[:13]: n for hour, n in stats.starts_by_hour.items()}
    print("starts by UTC hour:", " ".join(f"{hour}h:{n}" for hour, n in sorted(by_hour.items())))
    problems = sum(collector.counts().problems.values())
    print(f"conformance problems: {problems}")
    if stats.failed or problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
