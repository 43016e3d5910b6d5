"""`playersim replay`: a recording's requests sent again, to an endpoint or to the built-in
collector."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from playersim.cli import flags
from playersim.cli.interrupts import TerminatedError, interruptible
from playersim.cli.report import fail, interrupted, say_if_behind, status
from playersim.clock import VirtualClock
from playersim.edge.front import speak_edge
from playersim.engines.delivery import GiveUp
from playersim.engines.replay import RecordingError, ReplayLine, read_replay, replay
from playersim.engines.summary import Lateness, RunStats, format_summary
from playersim.errors import EndpointUnreachableError
from playersim.mca.collector import Collector
from playersim.mca.spec import STALL_TIMEOUT_MS
from playersim.runner import (
    MAX_IN_FLIGHT,
    MAX_RETRIES,
    MAX_SPEED,
    MAX_TIMEOUT_S,
    RETENTION_S,
    OptionError,
    RunOptions,
    http_transport,
)
from playersim.transports.base import MemoryTransport
from playersim.transports.clients import CLIENTS, Client

__all__ = ["ReplayOptions", "add_http_options", "add_replay", "replay_command"]

PROG = "playersim replay"
# A replay's retries have a seed of their own: a recording has no run seed.
REPLAY_SEED = "replay"
_DEFAULTS = RunOptions()


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What `playersim replay` was asked: the recording, where to, at what pace, and how to
    send over HTTP (the same HTTP options as a run, with a run's defaults)."""

    file: str
    to: str | None = None
    # X times the recording's pace; None: as recorded with `to` (1), as fast as possible without.
    speed: float | None = None
    fast: bool = False
    timeout: float = _DEFAULTS.timeout
    retries: int = _DEFAULTS.retries
    give_up_after: timedelta = _DEFAULTS.give_up_after
    in_flight: int = _DEFAULTS.in_flight
    http_client: Client = _DEFAULTS.http_client

    @property
    def pace(self) -> float | None:
        """X times the recording's pace, or None: as fast as the endpoint answers."""
        if self.fast or (self.to is None and self.speed is None):
            return None
        return self.speed or 1.0

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReplayOptions:
        return cls(
            file=args.file,
            to=args.to,
            speed=args.speed,
            fast=args.fast,
            timeout=args.timeout,
            retries=args.retries,
            give_up_after=args.give_up_after,
            in_flight=args.in_flight,
            http_client=args.http_client,
        )


def add_http_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The flags of sending over HTTP, shared by `run` and `replay`."""
    parser.add_argument(
        "--timeout",
        type=flags.above_zero(MAX_TIMEOUT_S),
        default=_DEFAULTS.timeout,
        metavar="SECONDS",
        help=f"HTTP timeout per request with --to (default {_DEFAULTS.timeout:g})",
    )
    parser.add_argument(
        "--retries",
        type=flags.whole(0, MAX_RETRIES),
        default=_DEFAULTS.retries,
        metavar="N",
        help="with --to, send a request again up to N times after a connection error, a "
        f"timeout, 429 or 5xx, with exponential back-off and jitter (default {_DEFAULTS.retries})",
    )
    parser.add_argument(
        "--give-up-after",
        type=flags.span(),
        default=_DEFAULTS.give_up_after,
        metavar="DURATION",
        help="with --to, end the run when the endpoint has answered nothing for this long, "
        "however many requests were tried meanwhile (default "
        f"{_DEFAULTS.give_up_after.total_seconds():g}s): a collector that restarts in a few "
        "seconds is ridden out, its lost sessions resumed; a dead one ends the run",
    )
    parser.add_argument(
        "--in-flight",
        type=flags.whole(1, MAX_IN_FLIGHT),
        default=_DEFAULTS.in_flight,
        metavar="N",
        help="with --to, at most N requests out at once, each from a different session, over "
        f"at most N connections (default {_DEFAULTS.in_flight})",
    )
    parser.add_argument(
        "--http-client",
        choices=CLIENTS,
        default=_DEFAULTS.http_client,
        help="with --to, the HTTP client: direct (fastest; the direct extra; no proxies), "
        "aiohttp (the aiohttp extra), httpx, or auto: direct when installed and no proxy is "
        "set for the URL, else aiohttp when installed, else httpx (default)",
    )


def add_replay(commands: argparse._SubParsersAction[flags.Parser]) -> None:
    """`playersim replay` and its flags."""
    again = commands.add_parser(
        "replay",
        help="send a recording to an endpoint again",
        description="Send the requests of a recording (from `playersim run --record`) to an "
        "endpoint, with new session ids, with the recording's own pacing (or --speed, --fast). "
        "Without --to, check it against the built-in collector, as fast as possible.",
    )
    again.add_argument(
        "file", metavar="FILE", help="an NDJSON recording: plain, gzip or Zstandard (.gz, .zst)"
    )
    again.add_argument(
        "--to",
        type=flags.url,
        metavar="URL",
        help="the MCA endpoint to send to (default: the built-in in-memory collector)",
    )
    pacing = again.add_mutually_exclusive_group()
    pacing.add_argument(
        "--speed",
        type=flags.above_zero(MAX_SPEED),
        metavar="X",
        help="X times the recording's pace (default 1 with --to: as recorded)",
    )
    pacing.add_argument("--fast", action="store_true", help="as fast as the endpoint answers")
    add_http_options(again)


def replay_command(options: ReplayOptions) -> int:
    skipped: list[RecordingError] = []
    lines = read_replay(options.file, skipped=skipped)
    try:
        first = next(lines, None)
    except RecordingError as exc:
        return fail(PROG, str(exc))
    if first is None:
        return fail(PROG, f"{options.file}: the recording holds no requests")
    speed = options.pace
    clock = VirtualClock(start=first.ts)
    collector: Collector | None = None
    began = time.perf_counter()
    aborted: str | None = None
    stopped: int | None = None
    lateness: Lateness | None = None
    # Filled in as the replay goes, so an interrupted one can still be summed up.
    stats, paced = RunStats(), Lateness()
    if speed is not None:
        lateness = paced
    try:
        if options.to:
            where = f"to {options.to}"
            send = _replay_http(options, itertools.chain([first], lines), speed, stats, paced)
        else:
            where = "in memory (built-in collector)"
            # (Either API's recording: the built-in collector answers both.)
            collector = speak_edge(Collector(clock, keep_events=False, retention_s=RETENTION_S))
            send = replay(itertools.chain([first], lines), MemoryTransport(collector),
                          speed=speed, clock=clock, stats=stats, lateness=paced)  # fmt: skip
        asyncio.run(interruptible(send))
    except RecordingError as exc:
        return fail(PROG, str(exc))
    except OptionError as exc:
        return fail(PROG, exc.says(lambda name: "--" + name.replace("_", "-")))
    except EndpointUnreachableError as exc:
        if not isinstance(exc.stats, RunStats):
            return fail(PROG, str(exc), status=1)
        stats, aborted = exc.stats, str(exc)
    except KeyboardInterrupt:
        stopped = 130
    except TerminatedError:
        stopped = 143
    elapsed = time.perf_counter() - began
    conformance: Counter[str] | None = None
    if collector is not None:
        clock.advance(STALL_TIMEOUT_MS / 1000)
        conformance = collector.counts().problems
    pace = "as fast as possible" if speed is None else f"at x{speed:g} the recorded pace"
    title = f"{PROG}: {options.file}, {where}, {pace}, {elapsed:.2f} s"
    print(format_summary(stats, title=title, conformance=conformance, lateness=lateness,
                         replay=True))  # fmt: skip
    if skipped:
        print(
            f"  skipped {len(skipped):,} line{'s' if len(skipped) != 1 else ''} refused when "
            f"recorded and too malformed to send again (first: {skipped[0]})"
        )
    if lateness is not None and aborted is None:
        say_if_behind(PROG, lateness, "the recording's pace")
    problems = sum(conformance.values()) if conformance else 0
    code = status(
        PROG, stats, aborted, problems, no_sessions="no sessionStart of the recording was sent"
    )
    if stopped is None:
        return code
    return interrupted(PROG, stopped, stats.ending)


async def _replay_http(
    options: ReplayOptions,
    lines: Iterator[ReplayLine],
    speed: float | None,
    stats: RunStats,
    lateness: Lateness,
) -> tuple[RunStats, Lateness | None]:
    assert options.to is not None
    transport = http_transport(
        options.to,
        client=options.http_client,
        timeout=options.timeout,
        retries=options.retries,
        seed=REPLAY_SEED,
        in_flight=options.in_flight,
    )
    give_up = GiveUp(options.give_up_after.total_seconds())
    try:
        return await replay(
            lines,
            transport,
            speed=speed,
            in_flight=options.in_flight,
            give_up=give_up,
            stats=stats,
            lateness=lateness,
        )
    finally:
        # However it ended (given up, interrupted), the transport's share of the accounting.
        stats.retried = transport.retried
        stats.sent_again_after_lost_answer = transport.sent_again_after_lost_answer
        await transport.aclose()
