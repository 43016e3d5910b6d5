"""The `playersim` command line: the parser, and `main`.

`playersim run` simulates a batch of viewing sessions on a virtual clock and sends their traffic
to the built-in in-memory collector (default) or to an HTTP endpoint (`--to`), optionally
recording every request (`--record`), and prints a summary. `playersim profiles` lists the
bundled profiles; `replay` and `serve` live in modules of their own.

The command line only reads flags and prints: its flags become a `RunOptions` once
(`options_from_args`), and the run is `playersim.runner`'s, the same as `playersim.run()`'s.
Bad input exits with status 2 and one line naming the flag (or file, field and value); a run
whose traffic was not all accepted exits with status 1. Never a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from playersim.audience.metadata import DEFAULT_CATALOG_SEED
from playersim.audience.profiles import bundled_profiles, load_profile
from playersim.cli import flags
from playersim.cli.interrupts import TerminatedError, interruptible
from playersim.cli.merge import MergeCommand, add_merge, merge_command
from playersim.cli.progress import PROGRESS_EVERY_S, Progress
from playersim.cli.replay import ReplayOptions, add_http_options, add_replay, replay_command
from playersim.cli.report import fail, interrupted, say_if_behind, status
from playersim.cli.reporting import ReportCommand, add_report, answer_key_lines, report_command
from playersim.cli.serve import (
    NEEDS_THE_EXTRA,
    ServeOptions,
    add_serve,
    serve_command,
    server_classes,
)
from playersim.engines.realtime import RealtimeEngine
from playersim.engines.summary import format_summary, summary_json
from playersim.errors import EndpointUnreachableError
from playersim.runner import (
    DEFAULT_SEED,
    DEFAULT_SHOWN,
    DEFAULT_START,
    MAX_PROCESSES,
    MAX_SPEED,
    PARALLEL_FROM,
    OptionError,
    Run,
    RunOptions,
    dry_run,
)
from playersim.settings import DEFAULT_EDGE_HOST, AdobeSettings, SettingsError
from playersim.version import __version__

__all__ = ["RunCommand", "build_parser", "main", "options_from_args", "parse"]

PROG = "playersim run"
_DEFAULTS = RunOptions()
# The flag of each `RunOptions` field whose flag is not its name with dashes.
_FLAGS = {
    "profiles": "--profile",
    "ramp_up": "--ramp",
    "ramp_down": "--ramp",
    "conformance": "--no-conformance",
    # A paced run is asked for with either.
    "speed": "--realtime/--speed",
}


def flag_of(field: str) -> str:
    """The `playersim run` flag that sets a `RunOptions` field."""
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


@dataclass(frozen=True, slots=True)
class RunCommand:
    """`playersim run`, as asked: the run's options, and how to show it (a JSON summary; the
    progress line, None: when stderr is a terminal); `dry_run`: show that many of its first
    requests instead, and send nothing."""

    options: RunOptions
    json: bool = False
    progress: bool | None = None
    dry_run: int | None = None


@dataclass(frozen=True, slots=True)
class ProfilesCommand:
    """`playersim profiles`."""


class _MissingExtraError(Exception):
    """A command that needs an extra that is not installed: exit 2 with this message."""

    def __init__(self, prog: str, message: str) -> None:
        self.prog = prog
        super().__init__(message)


Command = RunCommand | ReplayOptions | ServeOptions | ReportCommand | MergeCommand | ProfilesCommand


def build_parser() -> argparse.ArgumentParser:
    parser = flags.Parser(
        prog="playersim",
        description="Simulated media players that emit traffic to Adobe's streaming media "
        "APIs: the Media Collection API and the Media Edge API.",
    )
    parser.add_argument("--version", action="version", version=f"playersim {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=flags.Parser
    )
    _add_run(commands)
    add_replay(commands)
    add_serve(commands)
    add_report(commands)
    add_merge(commands)
    commands.add_parser(
        "profiles", help="list the bundled profiles", description="List the bundled profiles."
    )
    # Each command refuses the arguments it does not take itself (see `flags.Parser`).
    parser.commands = commands.choices
    return parser


def _add_run(commands: argparse._SubParsersAction[flags.Parser]) -> None:
    """`playersim run` and its flags: one for each `RunOptions` field, with its default."""
    run = commands.add_parser(
        "run",
        help="simulate viewing sessions and send their traffic",
        description="Simulate viewing sessions, on a virtual clock (as fast as possible) or in "
        "real time, and send their traffic (the MCA's, or with --api edge the Media Edge "
        "API's) to the built-in in-memory collector, or to an HTTP endpoint with --to.",
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
        type=flags.whole(1),
        metavar="N",
        help="sessions that arrive (default 100 without --duration; 1 with --script); with "
        "--duration and no --rate, exactly N spread along the daily curve",
    )
    when.add_argument(
        "--duration",
        type=flags.span(),
        metavar="DURATION",
        help="the window sessions arrive in, e.g. 90m, 24h, 7d (sessions started in it play out)",
    )
    when.add_argument(
        "--rate",
        type=flags.rate,
        metavar="RATE",
        help="average arrivals, e.g. 2, 10/s, 600/min, 20000/d (default one per 5 s)",
    )
    when.add_argument(
        "--arrivals",
        choices=("poisson", "uniform"),
        default=_DEFAULTS.arrivals,
        help=f"random (poisson) or evenly spaced (uniform) arrivals (default {_DEFAULTS.arrivals})",
    )
    when.add_argument(
        "--ramp",
        type=flags.ramp,
        default=(_DEFAULTS.ramp_up, _DEFAULTS.ramp_down),
        metavar="UP[:DOWN]",
        help="fade arrivals in over UP (and out over DOWN before the end of --duration)",
    )
    when.add_argument(
        "--concurrency",
        type=flags.whole(1),
        metavar="N",
        help="at most N sessions at once (with --rate, an arrival that finds none free is "
        "turned away); with no --rate, N viewers each replaced when done, until --sessions or "
        "--duration",
    )
    when.add_argument(
        "--hourly",
        type=flags.multipliers(24),
        metavar="M0,...,M23",
        help="hour-of-day multipliers (local midnight first), for every profile",
    )
    when.add_argument(
        "--weekly",
        type=flags.multipliers(7),
        metavar="MON,...,SUN",
        help="day-of-week multipliers (Monday first), for every profile",
    )
    when.add_argument(
        "--timezone",
        type=flags.timezone,
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
        type=flags.instant,
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
        type=flags.above_zero(MAX_SPEED),
        metavar="X",
        help="real time sped up X times, e.g. 60 for a minute per second (implies --realtime)",
    )
    out = run.add_argument_group("where it goes")
    out.add_argument(
        "--seed",
        default=DEFAULT_SEED,
        metavar="SEED",
        help=f"run seed: same seed, same traffic (default {DEFAULT_SEED})",
    )
    out.add_argument(
        "--catalog-seed",
        default=DEFAULT_CATALOG_SEED,
        metavar="SEED",
        help="seed of the titles, ads and people, the same whatever --seed says unless given "
        f"(default {DEFAULT_CATALOG_SEED})",
    )
    out.add_argument(
        "--to",
        type=flags.url,
        metavar="URL",
        help="send to this MCA endpoint (e.g. http://127.0.0.1:8080) instead of in memory",
    )
    add_http_options(out)
    out.add_argument(
        "--max-rate",
        type=flags.request_rate,
        metavar="RATE",
        help="send at most RATE requests to --to, e.g. 20, 20/s, 600/min: a polite cap for a "
        "paid, shared back end (default: as fast as it answers)",
    )
    out.add_argument(
        "--dry-run",
        type=flags.whole(1),
        nargs="?",
        const=DEFAULT_SHOWN,
        metavar="N",
        help=f"send nothing: print the first N requests (default {DEFAULT_SHOWN}) with the "
        "URL each would go to, and a line saying the run (how many sessions, whose report "
        "suite, which endpoint); nothing is recorded",
    )
    out.add_argument(
        "--record",
        metavar="FILE",
        help="write every request as NDJSON to FILE; a name ending .gz is written with gzip "
        "(6 to 19%% of the size), .zst with Zstandard (5%%; the zstd extra): the same lines",
    )
    out.add_argument(
        "--report",
        metavar="DIR",
        help="the answer key: write what Adobe will report for the traffic into DIR (one "
        "record per session, ad, chapter and player state as CSV and NDJSON, roll-ups by hour, "
        "day, content, device and more, report.json, schema.json, report.html with charts)",
    )
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
    _add_adobe(run)
    scale = run.add_argument_group(
        "scale",
        "every viewing is played in each process (viewers share devices and hours), each "
        "sends and records its share; the recording and summary are those of one process",
    )
    scale.add_argument(
        "--processes",
        type=flags.whole(1, MAX_PROCESSES),
        metavar="N",
        help="share the run between N processes (default: every core, for a run in memory of "
        f"{PARALLEL_FROM:,} viewings or more; else 1)",
    )
    scale.add_argument(
        "--shard",
        type=flags.shard_of,
        metavar="K/N",
        help="run share K of N (from 1) of the audience, for N machines each running one; "
        "--record writes a part, and `playersim merge` joins the N parts into the recording "
        "one machine would have written",
    )
    out.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show live progress on stderr: where the run is, and, when its span or number "
        "of sessions is known, how far along, the time left and when it ends (default: only "
        "when stderr is a terminal)",
    )


def _add_adobe(run: argparse.ArgumentParser) -> None:
    """The run's own Adobe settings: over each profile's `[analytics]`, for every profile."""
    adobe = run.add_argument_group(
        "your Adobe settings",
        "each from the first that says it: these flags, then the environment (PLAYERSIM_ and "
        "the setting in capitals: PLAYERSIM_REPORT_SUITE, ...), then playersim.toml in the "
        "current directory (or [tool.playersim] in its pyproject.toml, or --config FILE), then "
        "each profile's [analytics]",
    )
    adobe.add_argument(
        "--config",
        metavar="FILE",
        help="read the settings file FILE instead of ./playersim.toml (a pyproject.toml: its "
        "[tool.playersim] table)",
    )
    adobe.add_argument(
        "--tracking-server",
        metavar="HOST",
        help="analytics.trackingServer, a host name (e.g. acme.sc.omtrdc.net)",
    )
    adobe.add_argument(
        "--report-suite", metavar="RSID", help="analytics.reportSuite: the report suite ID"
    )
    adobe.add_argument(
        "--org-id",
        metavar="ORG",
        help="visitor.marketingCloudOrgId: the Experience Cloud org id "
        "(24 upper-case hex digits then @AdobeOrg)",
    )
    adobe.add_argument(
        "--ssl",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="analytics.enableSSL (default: each profile's own, true in the bundled ones)",
    )
    adobe.add_argument(
        "--api",
        choices=("mca", "edge"),
        help="the Media Collection API (mca, the default) or Adobe's Media Edge API (edge, "
        "which needs --datastream)",
    )
    adobe.add_argument(
        "--datastream", metavar="UUID", help="the datastream ID (configId) for --api edge"
    )
    adobe.add_argument(
        "--edge-host",
        metavar="HOST",
        help=f"for --api edge: send to https://HOST ({DEFAULT_EDGE_HOST}, Adobe's Edge "
        "Network, or your first-party domain) when --to is not given",
    )
    adobe.add_argument(
        "--tenant",
        metavar="_TENANT",
        help="for --api edge: your organization's XDM tenant namespace (e.g. _acme), put "
        "before each customMetadata name",
    )


def options_from_args(
    args: argparse.Namespace,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> RunOptions:
    """`playersim run`'s flags as the run's options (OptionError naming the field when they
    do not go together), with the Adobe settings of the environment (`environ`, default
    `os.environ`) and of the settings file (found in `cwd`, default the current directory)
    under them (SettingsError naming the source, the key and the value)."""
    settings = AdobeSettings.load(
        flags={
            "tracking_server": args.tracking_server,
            "report_suite": args.report_suite,
            "org_id": args.org_id,
            "ssl": args.ssl,
            "api": args.api,
            "to": args.to,
            "datastream": args.datastream,
            "edge_host": args.edge_host,
            "tenant": args.tenant,
        },
        environ=environ,
        config=args.config,
        cwd=Path.cwd() if cwd is None else cwd,
    )
    # Only an endpoint given (a plain --to): no settings, the profiles route themselves.
    adobe = settings if settings.model_fields_set - {"to"} else None
    ramp_up, ramp_down = args.ramp
    return RunOptions(
        profiles=tuple(args.profile or ()),
        script=args.script,
        sessions=args.sessions,
        duration=args.duration,
        rate=args.rate,
        arrivals=args.arrivals,
        ramp_up=ramp_up,
        ramp_down=ramp_down,
        concurrency=args.concurrency,
        hourly=args.hourly,
        weekly=args.weekly,
        timezone=args.timezone,
        flat=args.flat,
        start=args.start,
        # --speed implies --realtime; --realtime alone is real time itself.
        speed=args.speed if args.speed is not None else (1.0 if args.realtime else None),
        seed=args.seed,
        catalog_seed=args.catalog_seed,
        to=settings.to,
        adobe=adobe,
        max_rate=args.max_rate,
        timeout=args.timeout,
        retries=args.retries,
        give_up_after=args.give_up_after,
        in_flight=args.in_flight,
        http_client=args.http_client,
        record=args.record,
        conformance=args.conformance,
        report=args.report,
        processes=args.processes,
        shard=args.shard,
    )


def parse(argv: Sequence[str] | None = None) -> Command:
    """The command line as the command it asks for, with its options built once. argparse's
    refusals exit (status 2); options that do not go together raise OptionError."""
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return RunCommand(
            options_from_args(args), json=args.json, progress=args.progress, dry_run=args.dry_run
        )
    if args.command == "replay":
        return ReplayOptions.from_args(args)
    if args.command == "report":
        return ReportCommand.from_args(args)
    if args.command == "merge":
        return MergeCommand.from_args(args)
    if args.command == "serve":
        if server_classes() is None:
            raise _MissingExtraError("playersim serve", NEEDS_THE_EXTRA)
        return ServeOptions.from_args(args)
    return ProfilesCommand()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        command = parse(argv)
    except OptionError as exc:
        return fail(PROG, exc.says(flag_of))
    except SettingsError as exc:
        return fail(PROG, str(exc))
    except _MissingExtraError as exc:
        return fail(exc.prog, str(exc))
    try:
        if isinstance(command, RunCommand):
            return run_command(command)
        if isinstance(command, ReplayOptions):
            return replay_command(command)
        if isinstance(command, ServeOptions):
            return serve_command(command)
        if isinstance(command, ReportCommand):
            return report_command(command)
        if isinstance(command, MergeCommand):
            return merge_command(command)
        return _list_profiles()
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


def run_command(command: RunCommand) -> int:
    """Run, then print the summary; the exit status says whether everything was accepted."""
    options = command.options
    if command.dry_run is not None:
        if options.report is not None:
            return fail(PROG, "--report does not go with --dry-run: a dry run sends nothing")
        return _dry_run(command, command.dry_run)
    aborted: str | None = None
    stopped: int | None = None
    try:
        with Run(options) as prepared:
            if prepared.notice:
                # Before anything goes beyond this machine: what, where, for whom.
                print(f"playersim: {prepared.notice}", file=sys.stderr, flush=True)
            show = command.progress if command.progress is not None else sys.stderr.isatty()
            progress = Progress(prepared, sys.stderr) if show else None
            began = time.perf_counter()
            try:
                stopped = _drive(prepared, progress)
            except EndpointUnreachableError as exc:
                aborted = str(exc)
            finally:
                if progress is not None:
                    progress.clear()
            elapsed = time.perf_counter() - began
        stats = prepared.finish()
    except OptionError as exc:
        return fail(PROG, exc.says(flag_of))

    arrivals = stats.arrivals
    title = (
        f"{PROG}: {arrivals:,} arrival{'s' if arrivals != 1 else ''} of {prepared.what}, "
        f"seed {options.seed}, {prepared.where}, {prepared.pace}, {elapsed:.2f} s"
    )
    problems = sum(stats.conformance.values()) if stats.conformance else 0
    if stats.lateness is not None and aborted is None:  # (gave up: the endpoint, not the pace)
        say_if_behind(PROG, stats.lateness, "the wall clock")
    if command.json:
        report = summary_json(stats, conformance=stats.conformance, lateness=stats.lateness)
        if stats.answer_key is not None:
            report["answer_key"] = stats.answer_key.totals
        print(json.dumps({"title": title, "record": options.record, **report}, indent=2))
    else:
        summary = format_summary(
            stats, title=title, conformance=stats.conformance, lateness=stats.lateness
        )
        print(summary)
        if options.record:
            print(f"  recording: {options.record}")
        if stats.answer_key is not None:
            print("\n".join(answer_key_lines(stats.answer_key)))
            print(f"  files: {options.report} (open {Path(str(options.report)) / 'report.html'})")
    code = status(PROG, stats, aborted, problems)
    if stopped is None:
        return code
    return interrupted(PROG, stopped, stats.ending)


def _dry_run(command: RunCommand, show: int) -> int:
    """Print the run's first requests, each with the URL it would go to, and the line that
    says the run; send nothing (exit 0)."""
    try:
        shown = dry_run(command.options, show=show)
    except OptionError as exc:
        return fail(PROG, exc.says(flag_of))
    summary = f"{PROG}: {shown.summary}"
    if command.json:
        requests = [{"method": "POST", "url": shown.url(r), "body": r.body} for r in shown.requests]
        print(json.dumps({"dry_run": True, "summary": summary, "requests": requests}, indent=2))
        return 0
    for request in shown.requests:
        print(f"POST {shown.url(request)}")
        print(json.dumps(request.body, indent=2, ensure_ascii=False))
        print()
    print(summary)
    return 0


def _drive(prepared: Run, progress: Progress | None) -> int | None:
    """Run to the end; on Ctrl-C or SIGTERM end the open sessions and say which (130, 143)."""
    if progress is not None:
        progress.draw()  # at once: a long run shows it is alive before the first tick
    engine = prepared.engine
    if isinstance(engine, RealtimeEngine):
        try:
            asyncio.run(_paced(prepared, progress))
        except KeyboardInterrupt:
            # A second Ctrl-C ends the loop at once, maybe before the sessions were ended or
            # their answers came: the account says what was left open.
            engine.settle_interrupted()
            return 130
        except TerminatedError:
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
        prepared.go(tick=progress.tick if progress else None)
        if received:
            engine.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not received:
        return None
    return 143 if received[0] == signal.SIGTERM else 130


async def _paced(prepared: Run, progress: Progress | None) -> None:
    ticker = asyncio.ensure_future(progress.every(PROGRESS_EVERY_S)) if progress else None
    try:
        # Ctrl-C (asyncio cancels the run) or SIGTERM: the run ends its open sessions, then goes.
        await interruptible(prepared.go_async())
    finally:
        if ticker is not None:
            ticker.cancel()
