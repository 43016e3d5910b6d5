"""Real time: 10,000 concurrent sessions in one process, and how late their pings go out.

Run: `python bench/realtime.py [--sessions N] [--seconds S] [--ramp R] [--speed X] [--at T]
[--visitors V] [--limit MS]`; issue 17's target: `--sessions 50000 --limit 50`.

The claim under test: one process paces 10,000 concurrent real-time sessions against the
in-memory collector with the 99th percentile of ping lateness under 100 ms. A closed workload of
`--sessions` viewers of live profiles (`live-news`, `live-sports`, `linear-channel`: long
sessions keep the concurrency up; each viewer who leaves is replaced at once) is started over
`--ramp` wall seconds (default: 6 s per 1,000 sessions, at least 60 s: about 170 viewers
starting a second, each with a burst of requests, is what the one core starts beside the
sessions already running) by a `RealtimeEngine` on a `MemoryTransport(Collector(...))` made as
`playersim run` makes it (no events kept, closed sessions forgotten after an hour), then held
for a measured window of `--seconds` wall seconds. The profiles are watched by an audience of
`--visitors` people (default: four per concurrent session): a person watches one thing at a
time, and the profiles' own audiences, sized for a day, are too small for 50,000 viewers at
once. Lateness is how far past its due instant
each request was handed to the collector, in wall milliseconds, as the engine measures it; it
is reported for the ramp and for the window separately, since the ramp carries every
session's start-up burst. Sessions in progress are sampled every half second of the window;
CPU time (`time.process_time`) over wall time says how busy the one core was. The cyclic
garbage collector's pauses are timed too (`gc.callbacks`): with 10,000 sessions' objects alive,
a full (generation 2) collection stops the loop for hundreds of milliseconds, and every request
due meanwhile goes out that late, however idle the core is otherwise.

Where the window falls in the simulated day matters. Live mid-roll breaks are on a UTC grid
(every 15 min for `live-news`, 10 for `live-sports`, 12 for `linear-channel`), so every viewer
of a profile starts a break at the same instant, and at the top of the hour all three do:
about 21,000 requests due in the same millisecond, then more as the ads end 15 and 30 s
later. The default window is centred there (`--at 20:00:00`), the hardest minute a live
audience has; `--at 20:05:00` is a stretch with no break. The simulated start is fixed, so a
seed gives the same traffic in every run.

These machines are noisy, so before the run the same event loop times 1,000 bare
`asyncio.sleep(0.01)` wake-ups with nothing else to do: how late the machine itself wakes a
coroutine right now (to a tenth of a millisecond). Ping p99 is printed beside that baseline's
p99.

`--speed` runs simulated time faster than the wall clock (`--ramp` and `--seconds` stay wall
seconds). Two diagnostics: `--gc-freeze` calls `gc.freeze()` after the ramp, so the collector
never scans the sessions already built again (a what-if, not what the library does);
`--cprofile K` profiles the window and prints the K costliest functions (cProfile slows the
run, so lateness under it is worse than without).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import time
from dataclasses import dataclass

from playersim import (
    Collector,
    MemoryTransport,
    Profile,
    VirtualClock,
    format_instant,
    load_profile,
    parse_instant,
)
from playersim.audience.metadata import MetadataPool
from playersim.engines.realtime import RealtimeEngine
from playersim.runner import RETENTION_S
from playersim.sim.viewings import Workload

PROFILES = ("live-news", "live-sports", "linear-channel")
LIMIT_MS = 100  # the default claim; issue 17's is 50 ms with 50,000 sessions (`--limit 50`)
DAY = "2026-01-07"  # a Wednesday; `--at` picks the simulated time of day
CALIBRATION_WAKEUPS = 1_000
CALIBRATION_SLEEP_S = 0.01
SAMPLE_EVERY_S = 0.5
# The default ramp: 6 wall seconds per 1,000 concurrent sessions (at least `MIN_RAMP_S`).
RAMP_S_PER_SESSION = 0.006
MIN_RAMP_S = 60.0
# A person watches one thing at a time: the bundled live profiles' audiences (4,000 to 6,000
# people, sized for a day of a few thousand arrivals) are far too small for 50,000 viewers at
# once, and a run gives most of them to someone watching already (the summary's `crowded`).
# Assumption (ours): a live audience four times the size of its peak concurrency, within the
# profiles' limit on `[audience] visitors`.
VISITORS_PER_SESSION = 4
MAX_VISITORS = 200_000


def with_audience(profile: Profile, visitors: int) -> Profile:
    """`profile` watched by the first `visitors` people of the run's audience."""
    audience = profile.audience.model_copy(update={"visitors": visitors})
    return profile.model_copy(update={"audience": audience})


def row(label: str, value: str) -> None:
    print(f"{label:<30}{value}")


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,} ms"


def clock_time(instant: int) -> str:
    return format_instant(instant)[11:19]


def breaks_in(profiles: list[Profile], low: int, high: int) -> str:
    """The instants in [low, high] where live profiles' mid-roll breaks fall, for every viewer.

    Live breaks are on a UTC grid (`midroll_interval_seconds` of the day), so every viewer of a
    profile starts one at the same instant: thousands of requests due at once.
    """
    found: dict[int, list[str]] = {}
    for profile in profiles:
        step = round(profile.ads.midroll_interval_seconds * 1000)
        if not profile.content.live or step <= 0:
            continue
        for instant in range(-(-low // step) * step, high + 1, step):
            found.setdefault(instant, []).append(profile.name)
    if not found:
        return "none"
    return "; ".join(
        f"{clock_time(instant)} ({', '.join(names)})" for instant, names in sorted(found.items())
    )


async def calibrate() -> tuple[float, float]:
    """How late bare `asyncio.sleep` wake-ups are on this loop with nothing else running.

    Returns p50 and p99, in wall milliseconds.
    """
    loop = asyncio.get_running_loop()
    late: list[float] = []
    for _ in range(CALIBRATION_WAKEUPS):
        due = loop.time() + CALIBRATION_SLEEP_S
        await asyncio.sleep(CALIBRATION_SLEEP_S)
        late.append((loop.time() - due) * 1000)
    late.sort()
    return late[len(late) // 2], late[min(len(late) - 1, int(len(late) * 0.99))]


@dataclass
class Sampled:
    """Sessions in progress, sampled through the window."""

    peak: int = 0
    total: int = 0
    count: int = 0

    def add(self, active: int) -> None:
        self.peak = max(self.peak, active)
        self.total += active
        self.count += 1

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


class GcPauses:
    """The cyclic garbage collector's pauses, by generation, in wall milliseconds."""

    def __init__(self) -> None:
        self.began = 0.0
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self.began = now
        else:
            self.pauses[info["generation"]].append((now - self.began) * 1000)

    def reset(self) -> None:
        for pauses in self.pauses.values():
            pauses.clear()

    def text(self) -> str:
        counts = "/".join(f"{len(p):,}" for p in self.pauses.values())
        worst = "/".join(f"{max(p, default=0):,.0f}" for p in self.pauses.values())
        total = sum(sum(p) for p in self.pauses.values()) / 1000
        return f"{counts} runs, max {worst} ms, {total:,.1f} s in all"


async def sample(engine: RealtimeEngine, into: Sampled) -> None:
    while True:
        into.add(engine.active)
        await asyncio.sleep(SAMPLE_EVERY_S)


async def bench(args: argparse.Namespace) -> None:
    base_p50, base_p99 = await calibrate()

    visitors = args.visitors or min(MAX_VISITORS, VISITORS_PER_SESSION * args.sessions)
    profiles = [with_audience(load_profile(name), visitors) for name in PROFILES]
    for profile in profiles:  # built before the pacer starts, so the first wake-ups are not late
        MetadataPool.build(profile, args.seed)
    ramp_s = args.ramp
    if ramp_s is None:
        ramp_s = max(MIN_RAMP_S, args.sessions * RAMP_S_PER_SESSION)
    ramp_ms = round(ramp_s * 1000 * args.speed)
    window_ms = round(args.seconds * 1000 * args.speed)
    middle = parse_instant(f"{DAY}T{args.at}Z")
    start = middle - ramp_ms - window_ms // 2
    clock = VirtualClock(start)
    workload = Workload(
        profiles,
        start=start,
        concurrency=args.sessions,
        ramp_up_ms=ramp_ms,
        sessions=args.sessions * 10,  # enough to replace every viewer who leaves
    )
    engine = RealtimeEngine(
        clock,
        MemoryTransport(Collector(clock, keep_events=False, retention_s=RETENTION_S)),
        speed=args.speed,
        concurrency=args.sessions,
    )
    engine.add_arrivals(workload.players(args.seed), places=workload.places)

    collections = GcPauses()
    gc.callbacks.append(collections)
    try:
        began = time.perf_counter()
        await engine.run_async(until=start + ramp_ms)
        ramp_wall = time.perf_counter() - began
        ramp = engine.lateness.summary()
        ramp_requests = engine.stats.requests
        ramp_gc = collections.text()
        collections.reset()
        if args.gc_freeze:
            gc.freeze()  # what the ramp built is never scanned again
        window_end = start + ramp_ms + window_ms
        window = await hold(engine, until=window_end, cprofile=args.cprofile)
    finally:
        gc.callbacks.remove(collections)

    row("profiles", ", ".join(PROFILES))
    row("audience", f"{visitors:,} people, {engine.stats.crowded:,} viewings crowded")
    row("speed", f"{args.speed:g} simulated s per wall s")
    row("window (simulated, UTC)", f"{clock_time(start + ramp_ms)} to {clock_time(window_end)}")
    row("live ad breaks in window", breaks_in(profiles, start + ramp_ms, window_end))
    row("ramp", f"{ramp_wall:,.1f} s wall, {ramp_requests:,} requests")
    row("ramp ping lateness p50/p99", f"{ms(ramp['ping_p50_ms'])} / {ms(ramp['ping_p99_ms'])}")
    row("ramp lateness p99/max (all)", f"{ms(ramp['p99_ms'])} / {ms(ramp['max_ms'])}")
    row("ramp gc (gen 0/1/2)", ramp_gc)
    window.report(engine.stats.sessions)
    row("window gc (gen 0/1/2)", collections.text() + (" (gc.freeze)" if args.gc_freeze else ""))
    row("baseline sleep p50/p99", f"{base_p50:.1f} ms / {base_p99:.1f} ms")
    ping_p99 = window.lateness["ping_p99_ms"]
    row("ping p99 vs baseline p99", f"{ms(ping_p99)} vs {base_p99:.1f} ms")
    passed = ping_p99 is not None and ping_p99 < args.limit and window.active.peak >= args.sessions
    print(
        f"{'PASS' if passed else 'FAIL'}: p99 ping lateness < {args.limit:g} ms with "
        f"{args.sessions:,} concurrent sessions "
        f"(p99 {ms(ping_p99)}, peak {window.active.peak:,} active)"
    )
    if window.profile:
        print(window.profile)


@dataclass
class Window:
    """What the measured window did."""

    wall: float
    cpu: float
    sent: int
    active: Sampled
    lateness: dict[str, float | None]
    profile: str

    def report(self, sessions: int) -> None:
        row("window", f"{self.wall:,.1f} s wall")
        row("active sessions peak", f"{self.active.peak:,}")
        row("active sessions mean", f"{self.active.mean:,.0f}")
        row("sessions started", f"{sessions:,} (ramp and window)")
        row("requests sent", f"{self.sent:,}")
        row("requests/s", f"{self.sent / self.wall:,.0f}")
        row("ping lateness p50", ms(self.lateness["ping_p50_ms"]))
        row("ping lateness p99", ms(self.lateness["ping_p99_ms"]))
        row("lateness p99 (all)", ms(self.lateness["p99_ms"]))
        row("lateness max", ms(self.lateness["max_ms"]))
        row("CPU load", f"{self.cpu / self.wall:.2f} ({self.cpu:,.1f} s CPU in {self.wall:,.1f} s)")


async def hold(engine: RealtimeEngine, *, until: int, cprofile: int) -> Window:
    """Run the engine to `until`, sampling sessions in progress, CPU and lateness afresh."""
    engine.lateness.reset()
    sampled = Sampled()
    sampler = asyncio.ensure_future(sample(engine, sampled))
    profiler = cProfile.Profile() if cprofile else None
    wall, cpu, sent = time.perf_counter(), time.process_time(), engine.stats.requests
    if profiler is not None:
        profiler.enable()
    try:
        await engine.run_async(until=until)
    finally:
        if profiler is not None:
            profiler.disable()
        sampler.cancel()
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    profile = ""
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(cprofile)
        profile = out.getvalue()
    return Window(
        wall, cpu, engine.stats.requests - sent, sampled, engine.lateness.summary(), profile
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="concurrent sessions")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window, wall s")
    parser.add_argument(
        "--ramp", type=float, default=None, help="ramp up, wall s (6 per 1,000 sessions, >= 60)"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="simulated s per wall s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--limit", type=float, default=LIMIT_MS, help="the p99 ping lateness to pass, ms"
    )
    parser.add_argument(
        "--visitors",
        type=int,
        default=0,
        help=f"people in the audience (default: {VISITORS_PER_SESSION} per concurrent session, "
        f"at most {MAX_VISITORS:,})",
    )
    parser.add_argument(
        "--at",
        default="20:00:00",
        metavar="HH:MM:SS",
        help="simulated UTC time at the middle of the window (default: the top of the hour, "
        "where every live profile's ad break falls at once; 20:05:00 is a quiet stretch)",
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after the ramp (a what-if)"
    )
    parser.add_argument("--cprofile", type=int, default=0, metavar="K", help="profile the window")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
