"""The `playersim` command line.

`playersim run` simulates a batch of viewing sessions on a virtual clock and sends their traffic
to the built-in in-memory collector (default) or to an HTTP endpoint (`--to`), optionally
recording every request (`--record`), and prints a summary. `playersim profiles` lists the
bundled profiles.

Bad input exits with status 2 and one line naming the flag (or file, field and value); a run
whose traffic was not all accepted exits with status 1. Never a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from typing import NoReturn

from playersim import __version__
from playersim.clock import VirtualClock, parse_instant
from playersim.collector import STALL_TIMEOUT_MS, Collector
from playersim.engine import Engine
from playersim.errors import EndpointUnreachableError, ProfileError
from playersim.http_transport import DEFAULT_TIMEOUT, HttpTransport, check_base_url
from playersim.metadata import MetadataPool
from playersim.player import Player
from playersim.profiles import Profile, bundled_profiles, load_profile
from playersim.recording import Recorder, RecordingTransport
from playersim.summary import format_summary
from playersim.transport import MemoryTransport, Transport

__all__ = ["main"]

# A fixed default start keeps `playersim run` reproducible byte for byte; `--start now` asks for
# the present instead (what a live report suite wants).
DEFAULT_START = "2026-01-01T12:00:00Z"
# Sessions arrive as a Poisson process with this mean gap until arrival shapes come along.
MEAN_ARRIVAL_GAP_S = 5.0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _instant(text: str) -> int:
    if text == "now":
        return time.time_ns() // 1_000_000
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _url(text: str) -> str:
    try:
        check_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="playersim",
        description="Simulated media players that emit Adobe Streaming Media Collection API "
        "traffic.",
    )
    parser.add_argument("--version", action="version", version=f"playersim {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    run = commands.add_parser(
        "run",
        help="simulate viewing sessions and send their traffic",
        description="Simulate viewing sessions on a virtual clock and send their MCA traffic to "
        "the built-in in-memory collector, or to an HTTP endpoint with --to.",
    )
    run.add_argument(
        "--profile",
        action="append",
        metavar="NAME_OR_PATH",
        help="a bundled profile name or a .toml file; repeat to mix "
        "(default: every bundled profile)",
    )
    run.add_argument(
        "--sessions",
        type=_positive_int,
        default=100,
        metavar="N",
        help="sessions to simulate (default 100)",
    )
    run.add_argument(
        "--seed", default="1", metavar="SEED", help="run seed: same seed, same traffic (default 1)"
    )
    run.add_argument(
        "--start",
        type=_instant,
        default=parse_instant(DEFAULT_START),
        metavar="INSTANT",
        help=f"virtual time of the first session, ISO-8601 UTC or 'now' (default {DEFAULT_START})",
    )
    run.add_argument(
        "--to",
        type=_url,
        metavar="URL",
        help="send to this MCA endpoint (e.g. http://127.0.0.1:8080) instead of in memory",
    )
    run.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"HTTP timeout per request with --to (default {DEFAULT_TIMEOUT:g})",
    )
    run.add_argument("--record", metavar="FILE", help="write every request as NDJSON to FILE")

    commands.add_parser(
        "profiles", help="list the bundled profiles", description="List the bundled profiles."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "profiles":
        return _list_profiles()
    return _run(args, parser)


def _list_profiles() -> int:
    for name, path in bundled_profiles().items():
        profile = load_profile(path)
        print(f"{name:<16} {profile.content.content_type:<8} {profile.description}")
    return 0


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    prog = "playersim run"
    try:
        names = args.profile or list(bundled_profiles())
        profiles = [load_profile(name) for name in names]
    except ProfileError as exc:
        return _fail(prog, f"--profile: {exc}")
    if not profiles:
        return _fail(prog, "no profiles: none bundled and none given with --profile")

    clock = VirtualClock(start=args.start)
    collector: Collector | None = None
    with ExitStack() as stack:
        transport: Transport
        if args.to:
            http = HttpTransport(args.to, timeout=args.timeout)
            stack.callback(http.close)
            transport = http
            where = f"to {args.to}"
        else:
            collector = Collector(clock, seed=args.seed)
            transport = MemoryTransport(collector)
            where = "in memory (built-in collector)"
        if args.record:
            try:
                recorder = Recorder(args.record)
            except OSError as exc:
                return _fail(prog, f"--record: cannot write {args.record!r}: {exc.strerror or exc}")
            stack.enter_context(recorder)
            transport = RecordingTransport(transport, recorder)

        engine = Engine(clock, transport)
        _add_sessions(engine, profiles, sessions=args.sessions, seed=args.seed, start=args.start)
        began = time.perf_counter()
        aborted: str | None = None
        try:
            engine.run()
        except EndpointUnreachableError as exc:
            aborted = str(exc)
        elapsed = time.perf_counter() - began

    conformance: Counter[str] | None = None
    if collector is not None:
        # Let the back end's timeouts run out, so sessions left open are judged as closed.
        clock.advance(STALL_TIMEOUT_MS / 1000)
        collector.expire()
        conformance = Counter(problem.rule.value for _, problem in collector.problems())
    title = (
        f"playersim run: {args.sessions:,} sessions of {', '.join(p.name for p in profiles)}, "
        f"seed {args.seed}, {where}, {elapsed:.2f} s"
    )
    print(format_summary(engine.stats, title=title, conformance=conformance))
    if args.record:
        print(f"  recording      {args.record}")
    if aborted:
        print(f"{prog}: error: {aborted}", file=sys.stderr)
        return 1
    if engine.stats.failed or engine.stats.dropped:
        print(f"{prog}: {engine.stats.failed:,} requests were not accepted", file=sys.stderr)
        return 1
    return 0


def _add_sessions(
    engine: Engine, profiles: list[Profile], *, sessions: int, seed: str, start: int
) -> None:
    arrivals = random.Random(f"{seed}:arrivals")
    pools = [MetadataPool.build(profile, seed) for profile in profiles]
    at = float(start)
    for index in range(sessions):
        which = arrivals.randrange(len(profiles))
        engine.add(
            Player(
                profiles[which], seed=seed, index=index, start_at=round(at), metadata=pools[which]
            )
        )
        at += arrivals.expovariate(1 / MEAN_ARRIVAL_GAP_S) * 1000


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2
