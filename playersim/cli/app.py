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
import asyncio
import contextlib
import itertools
import json
import math
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import ExitStack
from typing import Any, NoReturn, TextIO, TypeVar, cast

from playersim.audience.arrivals import FLAT, Shape, parse_duration, parse_rate
from playersim.audience.profiles import Profile, bundled_profiles, load_profile, parse_weighted
from playersim.clock import SystemClock, VirtualClock, format_instant, parse_instant
from playersim.engines.delivery import DEFAULT_GIVE_UP_S, GiveUp
from playersim.engines.engine import Engine
from playersim.engines.realtime import RealtimeEngine
from playersim.engines.replay import RecordingError, ReplayLine, read_replay, replay
from playersim.engines.summary import (
    STOPPED,
    Ending,
    Lateness,
    RunStats,
    format_summary,
    summary_json,
)
from playersim.errors import (
    EndpointUnreachableError,
    PlayerProtocolError,
    ProfileError,
    ScriptError,
)
from playersim.mca.collector import Collector
from playersim.mca.spec import IDLE_TIMEOUT_MS, STALL_TIMEOUT_MS
from playersim.sim.script import Script, ScriptedBehaviour, load_script
from playersim.sim.viewings import Workload
from playersim.transports.base import AsyncTransport, MemoryTransport, Transport
from playersim.transports.clients import CLIENTS, async_http_transport
from playersim.transports.http import (
    DEFAULT_TIMEOUT,
    Retries,
    RetryingAsyncTransport,
    check_base_url,
)
from playersim.transports.recording import Recorder, RecordingTransport
from playersim.version import __version__

__all__ = ["main"]

# A fixed default start keeps `playersim run` reproducible byte for byte; `--start now` asks for
# the present instead (what a live report suite wants).
DEFAULT_START = "2026-01-01T12:00:00Z"
MAX_TIMEOUT_S = 3600
MAX_DURATION_MS = 366 * 86_400_000
MAX_SPEED = 1_000_000.0
MIN_RATE = 1 / (366 * 86_400)  # per second: one session a year
MAX_LATENCY_MS = 60_000
DEFAULT_RETRIES = 3
MAX_RETRIES = 10
# Requests out at once with --to: enough to keep a loopback or LAN collector busy, few enough
# not to look like an attack to a shared one.
DEFAULT_IN_FLIGHT = 100
MAX_IN_FLIGHT = 10_000
# A run's collector forgets sessions closed this long ago (their problems stay in the report),
# so a day of a million sessions holds only those open or lately closed.
RETENTION_S = 3600.0
# `playersim serve` remembers a closed session this long (wall time): long enough for a late
# event to get its 410, short enough that a server running for days holds minutes of sessions.
SERVE_RETENTION_MS = 10 * 60_000
# How often a run on a terminal redraws its progress line, in wall seconds.
PROGRESS_EVERY_S = 0.5
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


def _above_zero(most: float) -> Callable[[str], float]:
    """A flag's number: above 0 and at most `most` (inf and nan are neither)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not 0 < value <= most:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most {most:g}")
        return value

    return parse


_timeout = _above_zero(MAX_TIMEOUT_S)
_speed = _above_zero(MAX_SPEED)


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


def _duration(text: str) -> int:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0 or value > MAX_DURATION_MS:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most 366 days")
    return value


def _rate(text: str) -> float:
    try:
        rate = parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if rate < MIN_RATE:
        raise argparse.ArgumentTypeError(f"{text!r} is less than one session a year")
    return rate


def _ramp(text: str) -> tuple[int, int]:
    up, _, down = text.partition(":")
    try:
        ramps = parse_duration(up or "0"), parse_duration(down or "0")
    except ValueError:
        message = f"{text!r} is not a ramp (e.g. 10m, or 10m:5m to ramp down too)"
        raise argparse.ArgumentTypeError(message) from None
    if max(ramps) > MAX_DURATION_MS:
        raise argparse.ArgumentTypeError(f"{text!r}: a ramp is at most 366 days")
    return ramps


def _multipliers(size: int) -> Callable[[str], tuple[float, ...]]:
    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(part) for part in text.replace(",", " ").split())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None
        if len(values) != size:
            raise argparse.ArgumentTypeError(
                f"needs {size} numbers separated by commas, got {len(values)}"
            )
        if any(not math.isfinite(v) or v < 0 for v in values) or not any(values):
            raise argparse.ArgumentTypeError("numbers must be >= 0, with at least one above 0")
        return values

    return parse


def _timezone(text: str) -> str:
    try:
        Shape(timezone=text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _url(text: str) -> str:
    try:
        check_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_http_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"HTTP timeout per request with --to (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--retries",
        type=_retries,
        default=DEFAULT_RETRIES,
        metavar="N",
        help="with --to, send a request again up to N times after a connection error, a "
        f"timeout, 429 or 5xx, with exponential back-off and jitter (default {DEFAULT_RETRIES})",
    )

    parser.add_argument(
        "--give-up-after",
        type=_span("--give-up-after"),
        default=round(DEFAULT_GIVE_UP_S * 1000),
        metavar="DURATION",
        help="with --to, end the run when the endpoint has answered nothing for this long, "
        "however many requests were tried meanwhile (default 30s): a collector that restarts "
        "in a few seconds is ridden out, its lost sessions resumed; a dead one ends the run",
    )
    parser.add_argument(
        "--in-flight",
        type=_in_flight,
        default=DEFAULT_IN_FLIGHT,
        metavar="N",
        help="with --to, at most N requests out at once, each from a different session, over "
        f"at most N connections (default {DEFAULT_IN_FLIGHT})",
    )
    parser.add_argument(
        "--http-client",
        choices=CLIENTS,
        default="auto",
        help="with --to, the HTTP client: aiohttp (fast; the aiohttp extra), httpx, or auto: "
        "aiohttp when installed (default)",
    )


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be from {low} to {high}")
        return value

    return parse


_retries = _whole(0, MAX_RETRIES)
_in_flight = _whole(1, MAX_IN_FLIGHT)


def _http_transport(args: argparse.Namespace) -> RetryingAsyncTransport:
    """The asyncio HTTP transport the HTTP flags ask for."""
    seed = getattr(args, "seed", "replay")
    try:
        return async_http_transport(
            args.to,
            client=args.http_client,
            timeout=args.timeout,
            retries=Retries(attempts=args.retries, seed=seed),
            connections=args.in_flight,
        )
    except ValueError as exc:  # the client asked for is not installed
        raise _BadInputError(f"--http-client {args.http_client}: {exc}") from None


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
        description="Simulate viewing sessions, on a virtual clock (as fast as possible) or in "
        "real time, and send their MCA traffic to the built-in in-memory collector, or to an "
        "HTTP endpoint with --to.",
    )
    what = run.add_argument_group("what is watched")
    what.add_argument(
        "--profile",
        action="append",
        metavar="NAME_OR_PATH[:WEIGHT]",
        help="a bundled profile name or a .toml file, with an optional weight; repeat to mix "
        "(default: every bundled profile, equally)",
    )
    what.add_argument(
        "--script",
        metavar="FILE",
        help="play the scripted session in this TOML file (docs/testing.md) instead of profiles",
    )
    when = run.add_argument_group("who arrives, and when")
    when.add_argument(
        "--sessions",
        type=_positive_int,
        default=None,
        metavar="N",
        help="sessions that arrive (default 100 without --duration; 1 with --script); with "
        "--duration and no --rate, exactly N spread along the daily curve",
    )
    when.add_argument(
        "--duration",
        type=_duration,
        metavar="DURATION",
        help="the window sessions arrive in, e.g. 90m, 24h, 7d (sessions started in it play out)",
    )
    when.add_argument(
        "--rate",
        type=_rate,
        metavar="RATE",
        help="average arrivals, e.g. 2, 10/s, 600/min, 20000/d (default one per 5 s)",
    )
    when.add_argument(
        "--arrivals",
        choices=("poisson", "uniform"),
        default="poisson",
        help="random (poisson, default) or evenly spaced (uniform) arrivals",
    )
    when.add_argument(
        "--ramp",
        type=_ramp,
        default=(0, 0),
        metavar="UP[:DOWN]",
        help="fade arrivals in over UP (and out over DOWN before the end of --duration)",
    )
    when.add_argument(
        "--concurrency",
        type=_positive_int,
        metavar="N",
        help="at most N sessions at once (with --rate, an arrival that finds none free is "
        "turned away); with no --rate, N viewers each replaced when done, until --sessions or "
        "--duration",
    )
    when.add_argument(
        "--hourly",
        type=_multipliers(24),
        metavar="M0,...,M23",
        help="hour-of-day multipliers (local midnight first), for every profile",
    )
    when.add_argument(
        "--weekly",
        type=_multipliers(7),
        metavar="MON,...,SUN",
        help="day-of-week multipliers (Monday first), for every profile",
    )
    when.add_argument(
        "--timezone",
        type=_timezone,
        metavar="TZ",
        help="the audience's time zone for every profile's curve, e.g. Europe/Berlin "
        "(default: each profile's own)",
    )
    when.add_argument(
        "--flat",
        action="store_true",
        help="ignore the profiles' daily and weekly curves: the same rate at every hour",
    )
    clock = run.add_argument_group("time")
    clock.add_argument(
        "--start",
        type=_instant,
        default=None,
        metavar="INSTANT",
        help=f"simulated time of the start, ISO-8601 UTC or 'now' (default {DEFAULT_START}; "
        "'now' with --realtime)",
    )
    clock.add_argument(
        "--realtime",
        action="store_true",
        help="pace the run to the wall clock (default: virtual time, as fast as possible)",
    )
    clock.add_argument(
        "--speed",
        type=_speed,
        metavar="X",
        help="real time sped up X times, e.g. 60 for a minute per second (implies --realtime)",
    )
    out = run.add_argument_group("where it goes")
    out.add_argument(
        "--seed", default="1", metavar="SEED", help="run seed: same seed, same traffic (default 1)"
    )
    out.add_argument(
        "--to",
        type=_url,
        metavar="URL",
        help="send to this MCA endpoint (e.g. http://127.0.0.1:8080) instead of in memory",
    )
    _add_http_options(out)
    out.add_argument("--record", metavar="FILE", help="write every request as NDJSON to FILE")
    out.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (one object, for machines) instead of tables",
    )
    out.add_argument(
        "--no-conformance",
        dest="conformance",
        action="store_false",
        help="skip the built-in collector's conformance report (every request is still "
        "validated as the API does); a run goes about a fifth faster",
    )
    out.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show live progress on stderr (default: only when stderr is a terminal)",
    )

    again = commands.add_parser(
        "replay",
        help="send a recording to an endpoint again",
        description="Send the requests of a recording (from `playersim run --record`) to an "
        "endpoint, with new session ids, with the recording's own pacing (or --speed, --fast). "
        "Without --to, check it against the built-in collector, as fast as possible.",
    )
    again.add_argument("file", metavar="FILE", help="an NDJSON recording")
    again.add_argument(
        "--to",
        type=_url,
        metavar="URL",
        help="the MCA endpoint to send to (default: the built-in in-memory collector)",
    )
    pacing = again.add_mutually_exclusive_group()
    pacing.add_argument(
        "--speed",
        type=_speed,
        metavar="X",
        help="X times the recording's pace (default 1 with --to: as recorded)",
    )
    pacing.add_argument("--fast", action="store_true", help="as fast as the endpoint answers")
    _add_http_options(again)

    _add_serve(commands)

    commands.add_parser(
        "profiles", help="list the bundled profiles", description="List the bundled profiles."
    )
    return parser


def _add_serve(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`playersim serve` and its flags."""
    serve = commands.add_parser(
        "serve",
        help="run the built-in collector as an HTTP server",
        description="Serve the built-in collector over HTTP: the MCA API (validation, sids, "
        "201/204/400/404/410, timeouts on the system clock), CORS, JSON Schemas of the "
        "bodies at /api/v1/schemas/{eventType}, and live figures at / and /stats. Needs the "
        "server extra: pip install 'playersim[server]'.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8080, help="port to listen on (default 8080; 0: any free)"
    )
    serve.add_argument(
        "--record", metavar="FILE", help="write each request as NDJSON to FILE as it is answered"
    )
    serve.add_argument(
        "--seed", default="1", metavar="SEED", help="seed of the session ids and faults (1)"
    )
    kept = serve.add_argument_group("sessions, and how long they are kept")
    kept.add_argument(
        "--idle-timeout",
        type=_span("--idle-timeout"),
        default=IDLE_TIMEOUT_MS,
        metavar="DURATION",
        help="close a session that sends no event for this long, as the API does after 10 "
        "minutes (default 10m); later events for it get 410",
    )
    kept.add_argument(
        "--retention",
        type=_span("--retention", zero=True),
        default=SERVE_RETENTION_MS,
        metavar="DURATION",
        help="remember a closed session this long, for its 410s and /stats (default 10m); "
        "then it is forgotten (its problems stay counted) and its events get 404, so a "
        "server that runs for days holds only the sessions of the last minutes",
    )
    _add_limits(serve)
    faults = serve.add_argument_group("faults to inject, for testing clients")
    faults.add_argument(
        "--fail-rate", type=_share, default=0.0, metavar="R", help="answer 500 to a share R"
    )
    faults.add_argument(
        "--drop", type=_share, default=0.0, metavar="R", help="cut the connection for a share R"
    )
    faults.add_argument(
        "--latency",
        type=_latency,
        default=(0, 0),
        metavar="LOW[:HIGH]",
        help="wait before each answer, e.g. 50ms, or 20ms:200ms for a uniform draw",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "profiles":
            return _list_profiles()
        if args.command == "replay":
            return _replay(args)
        if args.command == "serve":
            return _serve(args)
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
    realtime = args.realtime or args.speed is not None
    try:
        script, profiles, weights = _workload(args)
        if args.start is not None:
            start = args.start
        else:
            start = SystemClock().now() if realtime else parse_instant(DEFAULT_START)
        workload = None if script is not None else _arrivals(args, profiles, weights, start)
        clock = VirtualClock(start=start)
        with ExitStack() as stack:
            transport, collector, where, recorder = _transport(args, clock, stack)
            engine = _engine(args, clock, transport, workload, realtime=realtime, recorder=recorder)
            scripted = _add_viewers(args, engine, script, workload, start)
            show = args.progress if args.progress is not None else sys.stderr.isatty()
            progress = Progress(engine, sys.stderr) if show else None
            began = time.perf_counter()
            aborted: str | None = None
            interrupted: int | None = None
            try:
                interrupted = _drive(engine, progress)
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
            finally:
                if progress is not None:
                    progress.clear()
            elapsed = time.perf_counter() - began
        if scripted and (unplayed := scripted[0].unplayed()):
            raise _BadInputError(
                f"--script: {args.script}: the session ended before "
                f"{', '.join(unplayed[:3])}{' ...' if len(unplayed) > 3 else ''} could run"
            )
    except _BadInputError as exc:
        return _fail(prog, str(exc))

    what = f"script {args.script}" if script else ", ".join(p.name for p in profiles)
    status = _report(args, engine, collector, clock, what=what, where=where, elapsed=elapsed,
                     aborted=aborted)  # fmt: skip
    if interrupted is None:
        return status
    return _interrupted(prog, interrupted, engine.stats.ending)


def _add_viewers(
    args: argparse.Namespace,
    engine: Engine,
    script: Script | None,
    workload: Workload | None,
    start: int,
) -> list[ScriptedBehaviour]:
    """The run's players: the script's sessions, or the workload's arrivals."""
    scripted: list[ScriptedBehaviour] = []
    if script is not None:
        for index in range(args.sessions or 1):
            try:
                player = script.player(seed=args.seed, index=index, start_at=start)
            except ScriptError as exc:
                raise _BadInputError(f"--script: {exc}") from None
            assert isinstance(player.behaviour, ScriptedBehaviour)
            scripted.append(player.behaviour)
            engine.add(player)
    else:
        assert workload is not None
        engine.add_arrivals(workload.players(args.seed), until=workload.end)
    return scripted


def _interrupted(prog: str, status: int, ending: Ending | None) -> int:
    name = "SIGTERM" if status == 143 else "Ctrl-C"
    said = ending.said() if ending is not None else "no session was open"
    print(f"{prog}: interrupted ({name}): {said}", file=sys.stderr)
    return status


def _report(
    args: argparse.Namespace,
    engine: Engine,
    collector: Collector | None,
    clock: VirtualClock,
    *,
    what: str,
    where: str,
    elapsed: float,
    aborted: str | None,
) -> int:
    """Print the summary; the exit status says whether everything was accepted."""
    problems = 0
    conformance: Counter[str] | None = None
    if collector is not None and collector.conformance:
        # Let the back end's timeouts run out, so sessions left open are judged as closed.
        clock.advance(STALL_TIMEOUT_MS / 1000)
        conformance = collector.counts().problems
        problems = sum(conformance.values())
    pace = "virtual time"
    lateness = None
    if isinstance(engine, RealtimeEngine) and engine.paced:
        pace = "real time" if engine.pacer.speed == 1 else f"real time x{engine.pacer.speed:g}"
        lateness = engine.lateness
    sessions = engine.stats.sessions - engine.stats.follow_ups  # arrivals; binges are extra
    title = (
        f"playersim run: {sessions:,} session{'s' if sessions != 1 else ''} of {what}, "
        f"seed {args.seed}, {where}, {pace}, {elapsed:.2f} s"
    )
    http: RetryingAsyncTransport | None = getattr(args, "http_transport", None)
    if http is not None:
        engine.stats.retried = http.retried
        engine.stats.sent_again_after_lost_answer = http.sent_again_after_lost_answer
    if lateness is not None and aborted is None:  # (a run that gave up: the endpoint, not pace)
        _say_if_behind("playersim run", lateness, "the wall clock")
    if args.json:
        report = summary_json(engine.stats, conformance=conformance, lateness=lateness)
        print(json.dumps({"title": title, "record": args.record, **report}, indent=2))
        return _status("playersim run", engine.stats, aborted, problems)
    print(format_summary(engine.stats, title=title, conformance=conformance, lateness=lateness))
    if args.record:
        print(f"  recording: {args.record}")
    return _status("playersim run", engine.stats, aborted, problems)


def _engine(
    args: argparse.Namespace,
    clock: VirtualClock,
    transport: Transport | AsyncTransport,
    workload: Workload | None,
    *,
    realtime: bool,
    recorder: Recorder | None,
) -> Engine:
    follow_up = workload.follow_up(args.seed) if workload is not None else None
    # An open workload (a rate) over a concurrency limit turns away who finds no place; a
    # closed one's viewers wait for a place, which is what makes them a closed workload.
    turn_away = workload is not None and not workload.closed
    # Seconds without any answer, however many tries each request was allowed meanwhile.
    give_up = GiveUp(args.give_up_after / 1000)
    if realtime or args.to:
        # Over HTTP in virtual time: not paced, as many sessions sending at once as --in-flight.
        return RealtimeEngine(
            clock,
            transport,
            speed=(args.speed or 1.0) if realtime else math.inf,
            concurrency=args.concurrency,
            follow_up=follow_up,
            recorder=recorder,
            turn_away=turn_away,
            give_up=give_up,
            in_flight=None if realtime else args.in_flight,
        )
    # Virtual time in memory sends inline: `_transport` gives it a synchronous transport.
    sync = cast("Transport", transport)
    return Engine(
        clock,
        sync,
        concurrency=args.concurrency,
        follow_up=follow_up,
        turn_away=turn_away,
        give_up=give_up,
    )


class _TerminatedError(Exception):
    """SIGTERM arrived during real time: the run winds down like on Ctrl-C, status 143."""


def _drive(engine: Engine, progress: Progress | None) -> int | None:
    """Run the engine; on Ctrl-C or SIGTERM end the open sessions and say which (130, 143)."""
    if progress is not None:
        progress.draw()  # at once: a long run shows it is alive before the first tick
    if isinstance(engine, RealtimeEngine):
        try:
            asyncio.run(_paced(engine, progress))
        except KeyboardInterrupt:
            # A second Ctrl-C ends the loop at once, maybe before the sessions were ended or
            # their answers came: the account says what was left open.
            engine.settle_interrupted()
            return 130
        except _TerminatedError:
            engine.settle_interrupted()
            return 143
        return None
    # Virtual time: a signal only asks the engine to stop between two wake-ups, where every
    # player is in a state to send its sessionEnd.
    received: list[int] = []

    def ask_to_stop(signum: int, frame: object) -> None:
        received.append(signum)
        engine.stopping = True

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine.run(tick=progress.tick if progress else None)
        if received:
            engine.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not received:
        return None
    return 143 if received[0] == signal.SIGTERM else 130


async def _paced(engine: RealtimeEngine, progress: Progress | None) -> None:
    ticker = asyncio.ensure_future(progress.every(PROGRESS_EVERY_S)) if progress else None
    try:
        # Ctrl-C (asyncio cancels the run) or SIGTERM: end the open sessions, then go.
        await _interruptible(engine.run_async(), on_cancel=engine.stop)
    finally:
        if ticker is not None:
            ticker.cancel()
        await engine.aclose()


def _arrivals(
    args: argparse.Namespace, profiles: list[Profile], weights: list[float], start: int
) -> Workload:
    """The run's workload from the arrival flags, or a clear complaint about them."""
    shapes: list[Shape] | None = None
    if args.flat:
        if args.hourly or args.weekly or args.timezone:
            raise _BadInputError("--flat and --hourly/--weekly/--timezone do not go together")
        shapes = [FLAT] * len(profiles)
    elif args.hourly or args.weekly or args.timezone:
        # Each given override replaces that part of every profile's curve; the rest stays.
        shapes = [
            Shape(
                hourly=args.hourly or tuple(p.arrivals.hourly),
                weekly=args.weekly or tuple(p.arrivals.weekly),
                timezone=args.timezone or p.arrivals.timezone,
            )
            for p in profiles
        ]
    if args.concurrency and args.rate is None and not (args.sessions or args.duration):
        raise _BadInputError(
            "--concurrency without --rate keeps viewers coming: give --sessions or --duration "
            "to say when to stop"
        )
    up, down = args.ramp
    try:
        return Workload(
            profiles,
            start=start,
            weights=weights,
            sessions=args.sessions,
            duration_ms=args.duration,
            rate=args.rate,
            process=args.arrivals,
            ramp_up_ms=up,
            ramp_down_ms=down,
            concurrency=args.concurrency,
            shapes=shapes,
        )
    except ValueError as exc:
        message = str(exc)
        flag = "--profile"
        if "curve" in message:
            flag = "--duration"
        elif "ramp" in message:
            flag = "--ramp"
        raise _BadInputError(f"{flag}: {message}") from None


def _status(
    prog: str,
    stats: RunStats,
    aborted: str | None,
    problems: int,
    *,
    no_sessions: str = "no session arrived (a rate too low for the window?)",
) -> int:
    """Exit status 1, with a line saying why, when anything was lost, refused or non-conformant."""
    reasons = []
    if aborted:
        reasons.append(aborted)
    if not stats.sessions:
        reasons.append(no_sessions)
    if stats.failed:
        reasons.append(f"{stats.failed:,} requests were not accepted")
    # Events a stop (Ctrl-C, SIGTERM) left unsent are what was asked for: the summary counts
    # them, and the interruption is said on a line of its own.
    lost = [(reason, n) for reason, n in stats.dropped_by.most_common() if reason != STOPPED]
    if lost:
        why = ", ".join(f"{n:,} {reason}" for reason, n in lost)
        reasons.append(f"{sum(n for _, n in lost):,} events were not sent ({why})")
    if problems:
        reasons.append(f"{problems:,} conformance problems in the traffic")
    if reasons:
        print(f"{prog}: error: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


def _workload(args: argparse.Namespace) -> tuple[Script | None, list[Profile], list[float]]:
    """The script, or the profiles the run plays and their weights."""
    if args.script is not None:
        if args.profile:
            raise _BadInputError(
                "--script and --profile do not go together: a script names its profile"
            )
        given = [flag for flag in ("duration", "rate", "concurrency", "hourly", "weekly",
                                   "timezone") if getattr(args, flag) is not None]  # fmt: skip
        given += [f for f, on in (("ramp", args.ramp != (0, 0)), ("flat", args.flat),
                                  ("arrivals", args.arrivals != "poisson")) if on]  # fmt: skip
        if given:
            raise _BadInputError(f"--script plays its own timeline: --{given[0]} does not apply")
        try:
            script = load_script(args.script)
            return script, [script.profile()], [1.0]
        except ScriptError as exc:
            raise _BadInputError(f"--script: {exc}") from None
    profiles: list[Profile] = []
    weights: list[float] = []
    for given in args.profile or list(bundled_profiles()):
        name, weight = _weighted(given)
        try:
            profiles.append(load_profile(name))
        except ProfileError as exc:
            raise _BadInputError(f"--profile: {exc}") from None
        weights.append(weight)
    if not profiles:
        raise _BadInputError("no profiles: none bundled and none given with --profile")
    if not any(weights):
        raise _BadInputError("--profile: every weight is 0: give at least one profile a weight")
    return None, profiles, weights


def _weighted(given: str) -> tuple[str, float]:
    try:
        return parse_weighted(given)
    except ValueError as exc:
        raise _BadInputError(f"--profile {exc}") from None


def _transport(
    args: argparse.Namespace, clock: VirtualClock, stack: ExitStack
) -> tuple[Transport | AsyncTransport, Collector | None, str, Recorder | None]:
    """Where the traffic goes (in memory or --to), recorded with --record.

    The recorder comes back on its own when the engine must do the recording (over HTTP, where
    answers come back in any order); otherwise the transport records.
    """
    collector: Collector | None = None
    recorder: Recorder | None = None
    if args.record:
        try:
            recorder = Recorder(args.record)
        except OSError as exc:
            message = f"--record: cannot write {args.record!r}: {exc.strerror or exc}"
            raise _BadInputError(message) from None
        stack.enter_context(recorder)
    if args.to:
        # Over HTTP each session sends from its own task, so one slow answer holds back that
        # session only; the engine records in the order requests were generated.
        http = _http_transport(args)
        args.http_transport = http
        return http, None, f"to {args.to}", recorder
    # The summary needs counters and the conformance report, not every body: keeping none
    # holds memory flat however long the run.
    collector = Collector(
        clock,
        seed=args.seed,
        keep_events=False,
        retention_s=RETENTION_S,
        conformance=args.conformance,
    )
    transport: Transport = MemoryTransport(collector)
    where = "in memory (built-in collector)"
    if recorder is not None:
        transport = RecordingTransport(transport, recorder)
    return transport, collector, where, None


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """`playersim serve`'s limits on slow, idle and many clients (`server.limits.Limits`)."""
    limits = parser.add_argument_group("limits on slow, idle and many clients")
    limits.add_argument(
        "--header-timeout",
        type=_timeout,
        default=10.0,
        metavar="SECONDS",
        help="time a client has to send a request's line and headers, from connecting or from "
        "its first byte (default %(default)g); past it, 408, or the connection is closed if "
        "nothing came",
    )
    limits.add_argument(
        "--body-timeout",
        type=_timeout,
        default=10.0,
        metavar="SECONDS",
        help="time a client has to send a request's body once its headers are in (default "
        "%(default)g); past it, 408 and the connection is closed",
    )
    limits.add_argument(
        "--send-timeout",
        type=_timeout,
        default=10.0,
        metavar="SECONDS",
        help="cut off a client that stops reading its answer for SECONDS (default %(default)g)",
    )
    limits.add_argument(
        "--keep-alive",
        type=_timeout,
        default=120.0,
        metavar="SECONDS",
        help="close a connection idle this long between two requests (default %(default)g: "
        "longer than clients keep idle connections, so that they close them first)",
    )
    limits.add_argument(
        "--max-connections",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="serve N connections at once (default %(default)d); one opened past N takes the "
        "place of the connection idle longest, or, with none idle, gets 503 with Retry-After "
        "to its request; one past twice N is closed at once",
    )


def _serve(args: argparse.Namespace) -> int:
    prog = "playersim serve"
    try:
        import uvicorn  # noqa: PLC0415 - the server extra is only needed here

        from playersim.server.app import Faults, Limits, create_app, uvicorn_config  # noqa: PLC0415
    except ImportError:
        return _fail(
            prog,
            "needs the server extra: pip install 'playersim[server]' "
            "(from a clone: pip install '.[server]')",
        )
    try:
        listener = socket.create_server((args.host, args.port))
    except OSError as exc:
        return _fail(prog, f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    with ExitStack() as stack:
        stack.callback(listener.close)
        recorder = None
        if args.record:
            # Appended to, never truncated: a collector restarted after a crash keeps what it
            # recorded before.
            try:
                recorder = stack.enter_context(Recorder(args.record, flush_each=True, append=True))
            except OSError as exc:
                return _fail(prog, f"--record: cannot write {args.record!r}: {exc.strerror or exc}")
            if recorder.kept:
                print(
                    f"{prog}: --record {args.record}: appending to the {_size(recorder.kept)} "
                    "it holds",
                    file=sys.stderr,
                )
        collector = Collector(
            SystemClock(),
            seed=args.seed,
            keep_events=False,
            retention_s=args.retention / 1000,
            idle_timeout_s=args.idle_timeout / 1000,
        )
        faults = None
        if args.fail_rate or args.drop or args.latency[1]:
            faults = Faults(args.fail_rate, args.drop, args.latency, seed=f"{args.seed}:faults")
        limits = Limits(
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            send_timeout=args.send_timeout,
            keep_alive=args.keep_alive,
            max_connections=args.max_connections,
        )
        app = create_app(collector, recorder=recorder, faults=faults, limits=limits)
        host, port = listener.getsockname()[:2]
        print(f"playersim serve: listening on http://{host}:{port}", flush=True)
        config = uvicorn_config(app, limits, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[listener])
    return 0


def _span(flag: str, *, zero: bool = False) -> Callable[[str], int]:
    """A flag's duration in ms (`10m`, `90s`, `1h`): above 0 (or 0 too), at most 366 days."""

    def parse(text: str) -> int:
        try:
            value = parse_duration(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if value < 0 or (value == 0 and not zero) or value > MAX_DURATION_MS:
            least = "0" if zero else "above 0"
            raise argparse.ArgumentTypeError(f"{text!r} must be {least} and at most 366 days")
        return value

    return parse


def _size(count: int) -> str:
    """A byte count as a person reads it: 900 bytes, 1.2 MB, 3.4 GB."""
    if count < 1000:
        return f"{count} byte{'s' if count != 1 else ''}"
    value, unit = float(count), "bytes"
    for unit in ("kB", "MB", "GB"):  # noqa: B007 - the unit the loop stops at is the one
        value /= 1000
        if value < 1000:
            break
    return f"{value:,.1f} {unit}"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 0 to 1")
    return value


def _latency(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    try:
        bounds = parse_duration(low), parse_duration(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency (e.g. 50ms, 20ms:200ms)"
        ) from None
    if bounds[0] > bounds[1] or bounds[1] > MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"{text!r}: LOW <= HIGH, at most 60 s")
    return bounds


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return value


def _replay(args: argparse.Namespace) -> int:
    prog = "playersim replay"
    skipped: list[RecordingError] = []
    lines = read_replay(args.file, skipped=skipped)
    try:
        first = next(lines, None)
    except RecordingError as exc:
        return _fail(prog, str(exc))
    if first is None:
        return _fail(prog, f"{args.file}: the recording holds no requests")
    speed = None if args.fast or (args.to is None and args.speed is None) else (args.speed or 1.0)
    clock = VirtualClock(start=first.ts)
    collector: Collector | None = None
    began = time.perf_counter()
    aborted: str | None = None
    interrupted: int | None = None
    lateness: Lateness | None = None
    # Filled in as the replay goes, so an interrupted one can still be summed up.
    stats, paced = RunStats(), Lateness()
    if speed is not None:
        lateness = paced
    try:
        if args.to:
            where = f"to {args.to}"
            send = _replay_http(args, itertools.chain([first], lines), speed, stats, paced)
        else:
            where = "in memory (built-in collector)"
            collector = Collector(clock, keep_events=False, retention_s=RETENTION_S)
            send = replay(itertools.chain([first], lines), MemoryTransport(collector),
                          speed=speed, clock=clock, stats=stats, lateness=paced)  # fmt: skip
        asyncio.run(_interruptible(send))
    except (RecordingError, _BadInputError) as exc:
        return _fail(prog, str(exc))
    except EndpointUnreachableError as exc:
        if not isinstance(exc.stats, RunStats):
            return _fail(prog, str(exc), status=1)
        stats, aborted = exc.stats, str(exc)
    except KeyboardInterrupt:
        interrupted = 130
    except _TerminatedError:
        interrupted = 143
    elapsed = time.perf_counter() - began
    conformance: Counter[str] | None = None
    if collector is not None:
        clock.advance(STALL_TIMEOUT_MS / 1000)
        conformance = collector.counts().problems
    pace = "as fast as possible" if speed is None else f"at x{speed:g} the recorded pace"
    title = f"playersim replay: {args.file}, {where}, {pace}, {elapsed:.2f} s"
    print(format_summary(stats, title=title, conformance=conformance, lateness=lateness))
    if skipped:
        print(
            f"  skipped {len(skipped):,} line{'s' if len(skipped) != 1 else ''} refused when "
            f"recorded and too malformed to send again (first: {skipped[0]})"
        )
    if lateness is not None and aborted is None:
        _say_if_behind(prog, lateness, "the recording's pace")
    problems = sum(conformance.values()) if conformance else 0
    status = _status(
        prog, stats, aborted, problems, no_sessions="no sessionStart of the recording was sent"
    )
    if interrupted is None:
        return status
    return _interrupted(prog, interrupted, stats.ending)


_T = TypeVar("_T")


async def _interruptible(
    work: Coroutine[Any, Any, _T], on_cancel: Callable[[], None] | None = None
) -> _T:
    """Await `work`; SIGTERM cancels it as Ctrl-C does (its wind-down runs, then
    `on_cancel`), and then raises `_TerminatedError`."""
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated: list[bool] = []

    def on_sigterm() -> None:
        terminated.append(True)
        if main_task is not None:
            main_task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await work
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        if terminated:
            raise _TerminatedError from None
        raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


# Past this lateness (p99, wall ms) a paced run or replay says it could not keep pace: a ping a
# second late is already beyond the slack the conformance report allows a real player.
BEHIND_MS = 1_000.0


def _say_if_behind(prog: str, lateness: Lateness, pace: str) -> None:
    """A warning on stderr when requests went out well after their time: the traffic is still
    as recorded (the timestamps are), but its pace on the wire was not."""
    figures = lateness.summary()
    p99, worst = figures["p99_ms"], figures["max_ms"]
    if p99 is None or worst is None or p99 <= BEHIND_MS:
        return
    print(
        f"{prog}: warning: fell behind {pace}: 1% of requests went out more than "
        f"{p99 / 1000:,.1f} s late, the latest {worst / 1000:,.1f} s (the machine, or the "
        "endpoint, was too slow for this pace)",
        file=sys.stderr,
    )


async def _replay_http(
    args: argparse.Namespace,
    lines: Iterator[ReplayLine],
    speed: float | None,
    stats: RunStats,
    lateness: Lateness,
) -> tuple[RunStats, Lateness | None]:
    transport = _http_transport(args)
    give_up = GiveUp(args.give_up_after / 1000)
    try:
        return await replay(
            lines,
            transport,
            speed=speed,
            in_flight=args.in_flight,
            give_up=give_up,
            stats=stats,
            lateness=lateness,
        )
    finally:
        # However it ended (given up, interrupted), the transport's share of the accounting.
        stats.retried = transport.retried
        stats.sent_again_after_lost_answer = transport.sent_again_after_lost_answer
        await transport.aclose()


class Progress:
    """One line on a terminal, redrawn as the run goes: where it is, and how fast."""

    def __init__(self, engine: Engine, stream: TextIO) -> None:
        self.engine = engine
        self.stream = stream
        self._began = time.perf_counter()
        self._last = 0.0

    def tick(self) -> None:
        """Redraw, if it has been a while (cheap to call often)."""
        now = time.perf_counter()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.draw()

    async def every(self, seconds: float) -> None:
        while True:
            self.draw()
            await asyncio.sleep(seconds)

    def draw(self) -> None:
        stats = self.engine.stats
        finished = sum(stats.outcomes.values())
        wall = max(1e-9, time.perf_counter() - self._began)
        line = (
            f"{format_instant(self.engine.clock.now())[:19]}Z  "
            f"active {self.engine.active:,}  finished {finished:,}  "
            f"requests {stats.requests:,} ({stats.requests / wall:,.0f}/s)  "
            f"not accepted {stats.failed:,}"
        )
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _fail(prog: str, message: str, *, status: int = 2) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status
