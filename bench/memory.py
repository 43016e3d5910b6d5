"""Memory: bytes per session in progress, and whether a long day's memory follows them.

Run: `python bench/memory.py [--sessions N] [--seed S] [--rate R] [--day D] [--retention S]`

The claim under test: a million-session day must not need a million sessions in memory, only
the ones in progress. Two measurements, each against a baseline taken in the same process.

1. Bytes per active session. `tracemalloc` is started before anything is built; the profiles'
   pools (catalogues, audiences, ad creatives) are built and the first player made, and the
   traced memory then is the baseline. Sessions then arrive at `--rate` per second (a flat
   curve) for five simulated minutes, the engine moving in 30-second steps with `advance_to`;
   at the end of the window, when the most sessions are in progress, the traced memory above the
   baseline divided by the sessions in progress is the cost of one. The collector is then let
   go (by the engine and its sender both) and the memory traced again: the drop is the
   collector's share (the rest is players, their outboxes and the engine). Of the players'
   share, the `random.Random` objects the sessions hold are counted apart (a Random is 2.5 KB
   of state; a session's streams hold one only while they draw, `RandomStream`). A last line
   says PASS or FAIL against issue 17's target: at most 4 KB (4,096 bytes) per active session.
   `tracemalloc` slows this workload six- to eightfold, which is why the window is short.

2. A simulated day (`--sessions` arrivals along the profiles' daily curves, binge-watching
   follow-ups included), run without `tracemalloc` at full speed and sampled every ten
   simulated minutes: sessions in progress, sessions started so far, and the interpreter's live
   allocated blocks (`sys.getallocatedblocks()`, exact and free to read) above the count just
   before the arrivals. Blocks are turned into approximate bytes with the bytes per block that
   part 1 measured. The day runs twice: against a sink that answers like a collector but keeps
   nothing (the engine and players alone), and against the in-memory `Collector` as
   `playersim run` makes it (`keep_events=False`, closed sessions forgotten after an hour:
   `--retention`; `--retention 0` keeps every session, as a bare `Collector` does, and then
   what is left per session of the day is extrapolated to a million sessions). Memory that
   follows the sessions in progress falls back towards the baseline when the day's last
   session ends (the collector still holds the last hour's closed sessions then); memory that
   follows the day's total does not. Peak RSS (`resource.getrusage`) is the process's whole
   high-water mark.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Request,
    Response,
    VirtualClock,
    load_profile,
)
from playersim.audience.arrivals import Shape
from playersim.audience.metadata import MetadataPool
from playersim.clock import parse_instant
from playersim.engines.engine import Inline
from playersim.mca.api import SESSIONS_PATH
from playersim.runner import RETENTION_S
from playersim.sim.viewings import Workload
from playersim.transports.base import Transport

PROFILES = ("vod-movie", "live-sports", "vod-episode")
BURST_START = "2026-01-07T12:00:00Z"
BURST_WINDOW_MS = 5 * 60_000
BURST_STEP_MS = 30_000
# Midnight in New York, where the bundled profiles' daily curves are set: a whole evening peak.
DAY_START = "2026-01-07T05:00:00Z"
DAY_MS = 86_400_000
DAY_STEP_MS = 10 * 60_000
DAY_ROWS_EVERY = 12  # samples: a row every two simulated hours
MB = 1024 * 1024
# Issue 17's target: memory per active session (player, outbox, engine and the collector's
# per-session state) at most 4 KB.
TARGET_BYTES = 4 * 1024


class Sink(Transport):
    """Answers like a collector that keeps nothing: a fresh sid per sessionStart, 204 otherwise.

    It validates nothing: it is here to show what the engine and players hold on their own.
    """

    def __init__(self) -> None:
        self.opened = 0

    def send(self, request: Request) -> Response:
        if request.path == SESSIONS_PATH:
            self.opened += 1
            return Response(201, location=f"{SESSIONS_PATH}/{self.opened:x}")
        return Response(204)


def peak_rss_mb() -> float:
    """The process's high-water resident set (`ru_maxrss` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float | None:
    """The resident set now, where /proc says it (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * resource.getpagesize() / MB


# A Random's state (624 words of the Mersenne Twister) and its instance dict (`gauss_next`).
RNG_BYTES = sys.getsizeof(random.Random(0)) + sys.getsizeof(vars(random.Random(0)))


def rngs() -> int:
    """The `random.Random` objects alive: 2.5 KB each. A viewing's streams hold one only while
    they draw (`playersim.audience.streams`); they are counted apart for that reason."""
    return sum(isinstance(obj, random.Random) for obj in gc.get_objects())


def row(label: str, value: str) -> None:
    print(f"{label:<34}{value}")


# --- 1. bytes per active session -----------------------------------------------------------------


def per_session(seed: int, rate: float) -> float:
    """Part 1; returns the bytes per allocated block of session state, for part 2's estimates."""
    tracemalloc.start()
    profiles = [load_profile(name) for name in PROFILES]
    start = parse_instant(BURST_START)
    clock = VirtualClock(start)
    collector = Collector(clock, keep_events=False, retention_s=RETENTION_S)
    engine = Engine(clock, MemoryTransport(collector))
    workload = Workload(
        profiles, start=start, rate=rate, duration_ms=BURST_WINDOW_MS, shape=Shape()
    )
    for profile in profiles:
        MetadataPool.build(profile, seed)
    players = workload.players(seed)
    first = next(players)  # pools, catalogues and audiences are built by now
    gc.collect()
    base_bytes = tracemalloc.get_traced_memory()[0]
    base_blocks = sys.getallocatedblocks()
    base_rngs = rngs()

    engine.add_arrivals(itertools.chain([first], players), until=workload.end)
    began = time.perf_counter()
    for at in range(start + BURST_STEP_MS, start + BURST_WINDOW_MS + 1, BURST_STEP_MS):
        engine.advance_to(at)
    elapsed = time.perf_counter() - began
    gc.collect()
    active = engine.active
    held = len(collector.sessions)
    session_rngs = rngs() - base_rngs
    traced_bytes, traced_peak = tracemalloc.get_traced_memory()
    blocks = sys.getallocatedblocks() - base_blocks
    grown = traced_bytes - base_bytes

    # Let the collector go (the engine keeps its players): what is freed was the collector's.
    # The engine's sender holds the transport too: both must let go of it.
    engine.transport = Sink()
    assert isinstance(engine.sender, Inline)
    engine.sender.transport = engine.transport
    del collector
    gc.collect()
    without_collector = tracemalloc.get_traced_memory()[0] - base_bytes
    tracemalloc.stop()

    report_per_session(
        Burst(
            rate=rate,
            sessions=engine.stats.sessions,
            requests=engine.stats.requests,
            seconds=elapsed,
            active=active,
            held=held,
            rngs=session_rngs,
            base_bytes=base_bytes,
            traced_bytes=traced_bytes,
            traced_peak=traced_peak,
            without_collector=without_collector,
            blocks=blocks,
        )
    )
    return grown / blocks


@dataclass
class Burst:
    """What part 1 measured, in bytes traced (above the baseline where it says so)."""

    rate: float
    sessions: int
    requests: int
    seconds: float
    active: int
    held: int  # sessions the collector held (open and lately closed)
    rngs: int  # random.Random objects made by the sessions, alive
    base_bytes: int
    traced_bytes: int
    traced_peak: int
    without_collector: int  # above the baseline, once the collector was let go
    blocks: int  # live blocks above the baseline


def report_per_session(burst: Burst) -> None:
    active, grown = burst.active, burst.traced_bytes - burst.base_bytes
    collector = grown - burst.without_collector
    print("1. bytes per active session (tracemalloc)")
    row("profiles", ", ".join(PROFILES))
    row("arrivals", f"{burst.rate:g}/s for {BURST_WINDOW_MS // 60_000} simulated min")
    row("sessions started", f"{burst.sessions:,}")
    row("active sessions", f"{active:,}")
    row("held by collector", f"{burst.held:,} (open and closed)")
    row("requests", f"{burst.requests:,} ({burst.requests / burst.seconds:,.0f}/s traced)")
    row("traced before arrivals (baseline)", f"{burst.base_bytes / MB:,.1f} MB")
    row("traced with sessions active", f"{burst.traced_bytes / MB:,.1f} MB")
    row("traced peak", f"{burst.traced_peak / MB:,.1f} MB")
    row("session state (above baseline)", f"{grown / MB:,.1f} MB")
    row("bytes per active session", f"{grown / active:,.0f}")
    row("  players, outboxes, engine", f"{burst.without_collector / active:,.0f}")
    row(
        "    of which RNG state",
        f"{burst.rngs * RNG_BYTES / active:,.0f} ({burst.rngs / active:,.2f} random.Random "
        f"a session awake, {RNG_BYTES:,} bytes each)",
    )
    row("  collector", f"{collector / active:,.0f}")
    row("collector bytes per session held", f"{collector / burst.held:,.0f}")
    row("live blocks per active session", f"{burst.blocks / active:,.0f}")
    row("bytes per block", f"{grown / burst.blocks:,.0f}")
    row("peak RSS", f"{peak_rss_mb():,.0f} MB")
    per = grown / active
    print(
        f"{'PASS' if per <= TARGET_BYTES else 'FAIL'}: at most {TARGET_BYTES:,} bytes per active "
        f"session (issue 17): {per:,.0f}"
    )
    print()


# --- 2. a simulated day --------------------------------------------------------------------------


@dataclass
class Day:
    """What one simulated day did to memory, in live blocks above the baseline."""

    sessions: int = 0
    requests: int = 0
    seconds: float = 0.0
    peak_active: int = 0
    peak_active_hour: float = 0.0
    blocks_at_peak_active: int = 0
    max_blocks: int = 0
    max_blocks_active: int = 0
    max_blocks_held: int = 0
    end_blocks: int = 0
    end_held: int = 0
    forgotten: int = 0


def day(seed: int, sessions: int, *, sink: bool, retention: float | None, per_block: float) -> Day:
    """One simulated day against a `Sink`, or a collector with that retention (None: keep all)."""
    profiles = [load_profile(name) for name in PROFILES]
    start = parse_instant(DAY_START)
    clock = VirtualClock(start)
    collector = None if sink else Collector(clock, keep_events=False, retention_s=retention)
    transport = Sink() if collector is None else MemoryTransport(collector)
    workload = Workload(profiles, start=start, sessions=sessions, duration_ms=DAY_MS)
    engine = Engine(clock, transport, follow_up=workload.follow_up(seed))
    players = workload.players(seed)
    first = next(players)
    gc.collect()
    base = sys.getallocatedblocks()
    engine.add_arrivals(itertools.chain([first], players), until=workload.end)

    def held() -> int:
        return 0 if collector is None else len(collector.sessions)

    result = Day()
    print(
        f"{'hour':>6}{'active':>9}{'started':>10}{'held':>9}{'blocks':>12}{'~MB':>9}{'RSS MB':>9}"
    )
    began = time.perf_counter()
    for step in itertools.count(1):
        engine.advance_to(start + step * DAY_STEP_MS)
        blocks = sys.getallocatedblocks() - base
        active = engine.active
        if active > result.peak_active:
            result.peak_active, result.blocks_at_peak_active = active, blocks
            result.peak_active_hour = step * DAY_STEP_MS / 3_600_000
        if blocks > result.max_blocks:
            result.max_blocks, result.max_blocks_active = blocks, active
            result.max_blocks_held = held()
        done = engine.next_wakeup is None
        if done or step % DAY_ROWS_EVERY == 0:
            rss = current_rss_mb()
            print(
                f"{step * DAY_STEP_MS / 3_600_000:>6.1f}{active:>9,}{engine.stats.sessions:>10,}"
                f"{'-' if collector is None else f'{held():,}':>9}"
                f"{blocks:>12,}{blocks * per_block / MB:>9,.1f}"
                f"{'-' if rss is None else f'{rss:,.0f}':>9}"
            )
        if done:
            break
    result.seconds = time.perf_counter() - began
    gc.collect()
    result.end_blocks = sys.getallocatedblocks() - base
    result.end_held = held()
    result.forgotten = 0 if collector is None else collector.forgotten
    result.sessions = engine.stats.sessions
    result.requests = engine.stats.requests
    return result


def report_day(name: str, result: Day, per_block: float, *, keeps_all: bool) -> None:
    def mb(blocks: int) -> str:
        # Below the baseline by a few blocks (interpreter caches freed) reads as nothing left.
        blocks = max(0, blocks)
        return f"{blocks:,} blocks (~{blocks * per_block / MB:,.1f} MB)"

    row(f"{name}: sessions (with binges)", f"{result.sessions:,}")
    row("  requests", f"{result.requests:,} in {result.seconds:,.1f} s")
    row("  peak active", f"{result.peak_active:,} (hour {result.peak_active_hour:.1f})")
    row("  memory at peak active", mb(result.blocks_at_peak_active))
    row(
        "  max memory",
        f"{mb(result.max_blocks)} with {result.max_blocks_active:,} active, "
        f"{result.max_blocks_held:,} held",
    )
    row(
        "  memory after the last session",
        f"{mb(result.end_blocks)}, {result.end_held:,} held, {result.forgotten:,} forgotten",
    )
    row("  end / peak-active memory", f"{result.end_blocks / result.blocks_at_peak_active:.2f}")
    row("  max / peak-active memory", f"{result.max_blocks / result.blocks_at_peak_active:.2f}")
    if keeps_all:
        million = result.end_blocks / result.sessions * 1_000_000 * per_block
        row("  held after a 1M-session day", f"~{max(0.0, million) / 1e9:,.1f} GB (extrapolated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=6_000, help="arrivals in the day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=20.0, help="part 1 arrivals per second")
    parser.add_argument(
        "--day",
        choices=("both", "collector", "sink"),
        default="both",
        help="which transport(s) the simulated day runs against",
    )
    parser.add_argument(
        "--retention",
        type=float,
        default=RETENTION_S,
        metavar="S",
        help="the day's collector forgets sessions closed this long ago (default: as "
        "`playersim run`; 0 keeps every session, as a bare Collector does)",
    )
    args = parser.parse_args()
    retention = args.retention or None

    per_block = per_session(args.seed, args.rate)
    print(f"2. a simulated day, {args.sessions:,} arrivals (live blocks above the baseline)")
    results: list[tuple[str, Day]] = []
    if args.day in ("sink", "both"):
        print("-- against the sink (engine and players alone)")
        sink = day(args.seed, args.sessions, sink=True, retention=None, per_block=per_block)
        results.append(("sink", sink))
    if args.day in ("collector", "both"):
        kept = "every session" if retention is None else f"retention {retention:g} s"
        print(f"-- against the collector (keep_events=False, {kept})")
        kept_day = day(
            args.seed, args.sessions, sink=False, retention=retention, per_block=per_block
        )
        results.append(("collector", kept_day))
    print()
    for name, result in results:
        report_day(name, result, per_block, keeps_all=name == "collector" and retention is None)
    row("peak RSS", f"{peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
