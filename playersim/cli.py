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
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import NoReturn

from playersim import __version__
from playersim.clock import SystemClock, VirtualClock, format_instant, parse_instant
from playersim.collector import Collector
from playersim.engine import Engine
from playersim.errors import (
    EndpointUnreachableError,
    PlayerProtocolError,
    ProfileError,
    ScriptError,
)
from playersim.http_transport import DEFAULT_TIMEOUT, HttpTransport, check_base_url
from playersim.metadata import MetadataPool
from playersim.player import Player
from playersim.profiles import Profile, bundled_profiles, load_profile
from playersim.recording import Recorder, RecordingTransport
from playersim.script import Script, ScriptedBehaviour, load_script
from playersim.spec import STALL_TIMEOUT_MS
from playersim.summary import RunStats, format_summary
from playersim.transport import MemoryTransport, Transport

__all__ = ["main"]

# A fixed default start keeps `playersim run` reproducible byte for byte; `--start now` asks for
# the present instead (what a live report suite wants).
DEFAULT_START = "2026-01-01T12:00:00Z"
# Sessions arrive as a Poisson process with this mean gap.
MEAN_ARRIVAL_GAP_S = 5.0
MAX_TIMEOUT_S = 3600
EARLIEST_START = 0  # 1970-01-01
LATEST_START = parse_instant("9000-01-01T00:00:00Z")


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


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be more than 0 and at most {MAX_TIMEOUT_S}"
        )
    return value


def _instant(text: str) -> int:
    if text == "now":
        return SystemClock().now()
    try:
        instant = parse_instant(text)
    except (ValueError, OverflowError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    # MCA timestamps are positive milliseconds; leave room for sessions of days after the start.
    if not EARLIEST_START <= instant <= LATEST_START:
        raise argparse.ArgumentTypeError(
            f"{text!r} is outside {format_instant(EARLIEST_START)[:10]} .. "
            f"{format_instant(LATEST_START)[:10]}"
        )
    return instant


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
        default=None,
        metavar="N",
        help="sessions to simulate (default 100; 1 with --script)",
    )
    run.add_argument(
        "--script",
        metavar="FILE",
        help="play the scripted session in this TOML file (see the README) instead of profiles",
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
        type=_timeout,
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
    try:
        if args.command == "profiles":
            return _list_profiles()
        return _run(args)
    except KeyboardInterrupt:
        print("playersim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`playersim profiles | head -1`): not an error of ours. Point
        # stdout at devnull so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _list_profiles() -> int:
    for name, path in bundled_profiles().items():
        profile = load_profile(path)
        print(f"{name:<16} {profile.content.content_type:<8} {profile.description}")
    return 0


class _BadInputError(Exception):
    """A flag, profile or script the run cannot use: exit status 2 with this message."""


def _run(args: argparse.Namespace) -> int:
    prog = "playersim run"
    try:
        script, profiles = _workload(args)
        sessions = args.sessions or (1 if script else 100)
        clock = VirtualClock(start=args.start)
        with ExitStack() as stack:
            transport, collector, where = _transport(args, clock, stack)
            engine = Engine(clock, transport)
            scripted: list[ScriptedBehaviour] = []
            if script is not None:
                for index in range(sessions):
                    try:
                        player = script.player(seed=args.seed, index=index, start_at=args.start)
                    except ScriptError as exc:
                        raise _BadInputError(f"--script: {exc}") from None
                    assert isinstance(player.behaviour, ScriptedBehaviour)
                    scripted.append(player.behaviour)
                    engine.add(player)
            else:
                engine.add_arrivals(
                    arrivals(profiles, sessions=sessions, seed=args.seed, start=args.start)
                )
            began = time.perf_counter()
            aborted: str | None = None
            try:
                engine.run()
            except EndpointUnreachableError as exc:
                aborted = str(exc)
            except ScriptError as exc:
                raise _BadInputError(f"--script: {exc}") from None
            except PlayerProtocolError as exc:
                # A script step the state machine refuses: the script is the bad input.
                if not scripted:
                    raise
                step = scripted[0].current()
                raise _BadInputError(f"--script: {args.script}: {step}: {exc}") from None
            elapsed = time.perf_counter() - began
        if scripted and (unplayed := scripted[0].unplayed()):
            raise _BadInputError(
                f"--script: {args.script}: the session ended before "
                f"{', '.join(unplayed[:3])}{' ...' if len(unplayed) > 3 else ''} could run"
            )
    except _BadInputError as exc:
        return _fail(prog, str(exc))

    problems = 0
    conformance: Counter[str] | None = None
    if collector is not None:
        # Let the back end's timeouts run out, so sessions left open are judged as closed.
        clock.advance(STALL_TIMEOUT_MS / 1000)
        collector.expire()
        conformance = Counter(problem.rule.value for _, problem in collector.problems())
        problems = sum(conformance.values())
    what = f"script {args.script}" if script else ", ".join(p.name for p in profiles)
    title = (
        f"playersim run: {sessions:,} session{'s' if sessions != 1 else ''} of {what}, "
        f"seed {args.seed}, {where}, {elapsed:.2f} s"
    )
    print(format_summary(engine.stats, title=title, conformance=conformance))
    if args.record:
        print(f"  recording      {args.record}")
    return _status(prog, engine.stats, aborted, problems)


def _status(prog: str, stats: RunStats, aborted: str | None, problems: int) -> int:
    """Exit status 1, with a line saying why, when anything was lost, refused or non-conformant."""
    reasons = []
    if aborted:
        reasons.append(aborted)
    if stats.failed:
        reasons.append(f"{stats.failed:,} requests were not accepted")
    if stats.dropped:
        reasons.append(f"{stats.dropped:,} events were dropped (their session was not open)")
    if problems:
        reasons.append(f"{problems:,} conformance problems in the traffic")
    if reasons:
        print(f"{prog}: error: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


def _workload(args: argparse.Namespace) -> tuple[Script | None, list[Profile]]:
    """The script or profiles the run plays."""
    if args.script is not None:
        if args.profile:
            raise _BadInputError(
                "--script and --profile do not go together: a script names its profile"
            )
        try:
            script = load_script(args.script)
            return script, [script.profile()]
        except ScriptError as exc:
            raise _BadInputError(f"--script: {exc}") from None
    try:
        names = args.profile or list(bundled_profiles())
        profiles = [load_profile(name) for name in names]
    except ProfileError as exc:
        raise _BadInputError(f"--profile: {exc}") from None
    if not profiles:
        raise _BadInputError("no profiles: none bundled and none given with --profile")
    return None, profiles


def _transport(
    args: argparse.Namespace, clock: VirtualClock, stack: ExitStack
) -> tuple[Transport, Collector | None, str]:
    """Where the traffic goes (in memory or --to), recorded with --record."""
    transport: Transport
    collector: Collector | None = None
    if args.to:
        http = HttpTransport(args.to, timeout=args.timeout)
        stack.callback(http.close)
        transport, where = http, f"to {args.to}"
    else:
        # The summary needs counters and the conformance report, not every body: keeping none
        # holds memory flat however long the run.
        collector = Collector(clock, seed=args.seed, keep_events=False)
        transport, where = MemoryTransport(collector), "in memory (built-in collector)"
    if args.record:
        try:
            recorder = Recorder(args.record)
        except OSError as exc:
            message = f"--record: cannot write {args.record!r}: {exc.strerror or exc}"
            raise _BadInputError(message) from None
        stack.enter_context(recorder)
        transport = RecordingTransport(transport, recorder)
    return transport, collector, where


def arrivals(profiles: list[Profile], *, sessions: int, seed: str, start: int) -> Iterator[Player]:
    """The run's players, in order of arrival (built one at a time, as the engine needs them)."""
    rng = random.Random(f"{seed}:arrivals")
    pools = [MetadataPool.build(profile, seed) for profile in profiles]
    at = float(start)
    for index in range(sessions):
        which = rng.randrange(len(profiles))
        yield Player(
            profiles[which], seed=seed, index=index, start_at=round(at), metadata=pools[which]
        )
        at += rng.expovariate(1 / MEAN_ARRIVAL_GAP_S) * 1000


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2
