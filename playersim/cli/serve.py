"""`playersim serve`: the built-in collector behind an HTTP server (the server extra).

Its limits and faults are `playersim.server`'s `Limits` and `Faults`, built once from the flags;
the flags' defaults are those classes' own. The server extra is imported only when `serve` is
the command: every other command starts without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playersim.cli import flags
from playersim.cli.report import fail
from playersim.clock import SystemClock
from playersim.compression import CompressionError
from playersim.mca.collector import Collector
from playersim.mca.spec import IDLE_TIMEOUT_MS
from playersim.reporting.page import render
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import build_report, write_report
from playersim.runner import DEFAULT_SEED, MAX_TIMEOUT_S
from playersim.transports.recording import Recorder

if TYPE_CHECKING:
    from playersim.server.app import Faults, Limits

__all__ = ["NEEDS_THE_EXTRA", "ServeOptions", "add_serve", "serve_command", "server_classes"]

PROG = "playersim serve"
# Without --report, /report draws the latest this many closed sessions (and every open one):
# about 130 MB of records at most, however long the server runs.
LIVE_SESSIONS_KEPT = 20_000
NEEDS_THE_EXTRA = (
    "needs the server extra: pip install 'playersim[server]' (from a clone: pip install "
    "'.[server]')"
)
# `playersim serve` remembers a closed session this long (wall time): long enough for a late
# event to get its 410, short enough that a server running for days holds minutes of sessions.
SERVE_RETENTION = timedelta(minutes=10)
# The flags of `Faults`, by field.
_FAULT_FLAGS = {"fail_rate": "fail_rate", "drop_rate": "drop", "latency_ms": "latency"}


def server_classes() -> tuple[type[Limits], type[Faults]] | None:
    """`Limits` and `Faults`, or None without the server extra."""
    try:
        from playersim.server.app import Faults, Limits  # noqa: PLC0415 - the server extra
    except ImportError:
        return None
    return Limits, Faults


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `playersim serve` was asked: where to listen, what to record, how long sessions
    are kept, and the server's limits and faults (None: no faults)."""

    limits: Limits
    faults: Faults | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    record: str | None = None
    seed: str = DEFAULT_SEED
    idle_timeout: timedelta = timedelta(milliseconds=IDLE_TIMEOUT_MS)
    retention: timedelta = SERVE_RETENTION
    report: str | None = None  # the directory the report is written to when the server stops
    timezone: str = "UTC"  # of the report's days and hours

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServeOptions:
        """The options, with `Limits` and `Faults` built from their flags (the server extra
        must be installed: `server_classes()`)."""
        classes = server_classes()
        assert classes is not None, "serve's flags are read only with the server extra"
        limits_class, faults_class = classes
        limits = limits_class(
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            send_timeout=args.send_timeout,
            keep_alive=args.keep_alive,
            max_connections=args.max_connections,
        )
        faults = None
        if args.fail_rate or args.drop or args.latency[1]:
            faults = faults_class(
                args.fail_rate, args.drop, args.latency, seed=f"{args.seed}:faults"
            )
        return cls(
            limits=limits,
            faults=faults,
            host=args.host,
            port=args.port,
            record=args.record,
            seed=args.seed,
            idle_timeout=args.idle_timeout,
            retention=args.retention,
            report=args.report,
            timezone=args.timezone,
        )


def _library_defaults() -> dict[str, Any]:
    """The defaults of serve's limits and faults: those of `Limits` and `Faults` (none without
    the server extra: `serve` then says what to install)."""
    classes = server_classes()
    if classes is None:
        return {}
    limits_class, faults_class = classes
    defaults = {field.name: field.default for field in dataclasses.fields(limits_class)}
    for field in dataclasses.fields(faults_class):
        if field.name in _FAULT_FLAGS:
            defaults[_FAULT_FLAGS[field.name]] = field.default
    return defaults


def add_serve(commands: argparse._SubParsersAction[flags.Parser]) -> None:
    """`playersim serve` and its flags."""
    serve = commands.add_parser(
        "serve",
        help="run the built-in collector as an HTTP server",
        description="Serve the built-in collector over HTTP: the MCA API (validation, sids, "
        "201/204/400/404/410, timeouts on the system clock) and, on the same port, the Media "
        "Edge API (/ee/va/v1/...), downloaded sessions on both, CORS, JSON Schemas of the "
        "MCA bodies at /api/v1/schemas/{eventType}, live figures at / and /stats, and at "
        "/report what Adobe's reporting would show for the sessions received. Needs the "
        "server extra: pip install 'playersim[server]'.",
    )
    # Read when `serve` is the command: other commands start without the server extra.
    serve.late_defaults = _library_defaults
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port",
        type=flags.port,
        default=8080,
        help="port to listen on (default 8080; 0: any free)",
    )
    serve.add_argument(
        "--record",
        metavar="FILE",
        help="append each request as NDJSON to FILE as it is answered, flushed; a name ending "
        ".gz or .zst is compressed (gzip, Zstandard with the zstd extra), each line flushed "
        "through the compressor so a reader sees it at once",
    )
    serve.add_argument(
        "--seed", default=DEFAULT_SEED, metavar="SEED",
        help=f"seed of the session ids and faults ({DEFAULT_SEED})",
    )  # fmt: skip
    serve.add_argument(
        "--report",
        metavar="DIR",
        help="when the server stops (Ctrl-C, SIGTERM), write the report of every session it "
        "received to DIR: CSV files, report.json, schema.json and report.html (the live view "
        "of it is at /report all along)",
    )
    serve.add_argument(
        "--timezone",
        type=flags.timezone,
        default="UTC",
        metavar="TZ",
        help="the time zone of the report's days and hours, e.g. Europe/Berlin (default UTC)",
    )
    kept = serve.add_argument_group("sessions, and how long they are kept")
    kept.add_argument(
        "--idle-timeout",
        type=flags.span(),
        default=timedelta(milliseconds=IDLE_TIMEOUT_MS),
        metavar="DURATION",
        help="close a session that sends no event for this long, as the API does after 10 "
        "minutes (default 10m); later events for it get 410",
    )
    kept.add_argument(
        "--retention",
        type=flags.span(zero=True),
        default=SERVE_RETENTION,
        metavar="DURATION",
        help="remember a closed session this long, for its 410s and /stats (default 10m); "
        "then it is forgotten (its problems stay counted) and its events get 404, so a "
        "server that runs for days holds only the sessions of the last minutes",
    )
    _add_limits(serve)
    faults = serve.add_argument_group("faults to inject, for testing clients")
    faults.add_argument(
        "--fail-rate", type=flags.share, metavar="R", help="answer 500 to a share R"
    )
    faults.add_argument(
        "--drop", type=flags.share, metavar="R", help="cut the connection for a share R"
    )
    faults.add_argument(
        "--latency",
        type=flags.latency,
        metavar="LOW[:HIGH]",
        help="wait before each answer, e.g. 50ms, or 20ms:200ms for a uniform draw",
    )


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """`Limits`, a flag for each of its fields (of the same name)."""
    limits = parser.add_argument_group("limits on slow, idle and many clients")
    timeout = flags.above_zero(MAX_TIMEOUT_S)
    limits.add_argument(
        "--header-timeout",
        type=timeout,
        metavar="SECONDS",
        help="time a client has to send a request's line and headers, from connecting or from "
        "its first byte; past it, 408, or the connection is closed if nothing came",
    )
    limits.add_argument(
        "--body-timeout",
        type=timeout,
        metavar="SECONDS",
        help="time a client has to send a request's body once its headers are in; past it, "
        "408 and the connection is closed",
    )
    limits.add_argument(
        "--send-timeout",
        type=timeout,
        metavar="SECONDS",
        help="cut off a client that stops reading its answer for SECONDS",
    )
    limits.add_argument(
        "--keep-alive",
        type=timeout,
        metavar="SECONDS",
        help="close a connection idle this long between two requests (longer than clients "
        "keep idle connections, so that they close them first)",
    )
    limits.add_argument(
        "--max-connections",
        type=flags.whole(1),
        metavar="N",
        help="serve N connections at once; one opened past N takes the place of the "
        "connection idle longest, or, with none idle, gets 503 with Retry-After to its "
        "request; one past twice N is closed at once",
    )


def serve_command(options: ServeOptions) -> int:
    import uvicorn  # noqa: PLC0415 - the server extra is only needed here

    from playersim.server.app import create_app, uvicorn_config  # noqa: PLC0415

    try:
        listener = socket.create_server((options.host, options.port))
    except OSError as exc:
        return fail(PROG, f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}")
    with ExitStack() as stack:
        stack.callback(listener.close)
        recorder = None
        if options.record:
            # Appended to, never truncated: a collector restarted after a crash keeps what it
            # recorded before.
            try:
                recorder = stack.enter_context(
                    Recorder(options.record, flush_each=True, append=True)
                )
            except OSError as exc:
                return fail(
                    PROG, f"--record: cannot write {options.record!r}: {exc.strerror or exc}"
                )
            except CompressionError as exc:  # damaged, misnamed, or .zst without the extra
                return fail(PROG, f"--record: {exc}")
            if recorder.kept:
                print(
                    f"{PROG}: --record {options.record}: appending to the "
                    f"{_size(recorder.kept)} it holds",
                    file=sys.stderr,
                )
        if options.report:
            # Made now, so that a directory that cannot be written is said before serving, not
            # found out when the server stops with the day's sessions in memory.
            try:
                Path(options.report).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return fail(
                    PROG, f"--report: cannot write to {options.report!r}: {exc.strerror or exc}"
                )
        collector = Collector(
            SystemClock(),
            seed=options.seed,
            keep_events=False,
            retention_s=options.retention.total_seconds(),
            idle_timeout_s=options.idle_timeout.total_seconds(),
        )
        # The live page's memory is bounded unless every session is to be written at the end.
        reporter = Reporter(
            keep=None if options.report else LIVE_SESSIONS_KEPT,
            idle_timeout_ms=collector.idle_timeout_ms,
        )
        app = create_app(
            collector,
            recorder=recorder,
            faults=options.faults,
            limits=options.limits,
            reporter=reporter,
            timezone=options.timezone,
            on_shutdown=lambda: _stopping(reporter, recorder, options),
        )
        host, port = listener.getsockname()[:2]
        print(f"{PROG}: listening on http://{host}:{port}", flush=True)
        config = uvicorn_config(app, options.limits, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[listener])
    return 0


def _stopping(reporter: Reporter, recorder: Recorder | None, options: ServeOptions) -> None:
    """What the server does as it stops, gracefully: uvicorn re-raises the SIGTERM that stopped
    it once the app's lifespan is over, so what comes after its `run()` never does."""
    if options.report:
        _write_report(reporter, options)
    if recorder is not None:
        # Every request has been answered: a compressed recording gets its stream's end here
        # (closing it twice, as the ExitStack does after Ctrl-C, is harmless).
        recorder.close()


def _write_report(reporter: Reporter, options: ServeOptions) -> None:
    """The report of every session received, the open ones closed as the timeouts would close
    them, written when the server stops."""
    assert options.report is not None
    records = reporter.finish()
    try:
        write_report(build_report(records, timezone=options.timezone), options.report, html=render)
    except OSError as exc:
        print(f"{PROG}: --report: cannot write {options.report!r}: {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
        return
    print(
        f"{PROG}: --report: the report of {len(records):,} session"
        f"{'s' if len(records) != 1 else ''} is in {options.report}",
        file=sys.stderr,
        flush=True,
    )


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
