"""Runs from Python: `run()` and `arun()` do what `playersim run` does, and return its `RunStats`.

`RunOptions` holds everything `playersim run` takes, each field checked as the options are made,
with a message naming the field and the value (`OptionError`). The command line builds one from
its flags and hands it to the same `Run` as `run()` does, so a run from Python and the same run
from the command line send the same bytes, write the same recording and add up to the same
`RunStats`; only the printing (the summary, the progress line) is the command line's.

>>> stats = run(profiles=["ugc-clip"], sessions=3, seed=7)
>>> stats.arrivals, stats.failed, stats.conformance
(3, 0, Counter())
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import inspect
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final, cast, get_args

from playersim.audience.arrivals import FLAT, Process, Shape
from playersim.audience.metadata import DEFAULT_CATALOG_SEED
from playersim.audience.profiles import Profile, bundled_profiles, load_profile, parse_weighted
from playersim.clock import SystemClock, VirtualClock, format_instant, parse_instant
from playersim.compression import CompressionError
from playersim.edge.dialect import EdgeDialect
from playersim.edge.front import speak_edge
from playersim.engines.delivery import DEFAULT_GIVE_UP_S, Dialect, GiveUp
from playersim.engines.engine import Engine
from playersim.engines.realtime import DEFAULT_IN_FLIGHT, RealtimeEngine
from playersim.engines.shares import MAX_PARTS, Share, parse_share
from playersim.engines.summary import RunStats
from playersim.errors import (
    EndpointUnreachableError,
    PlayerProtocolError,
    PlayersimError,
    ProfileError,
    ScriptError,
)
from playersim.mca.api import Request, Response
from playersim.mca.collector import Collector
from playersim.mca.dialect import MCA
from playersim.mca.spec import STALL_TIMEOUT_MS
from playersim.reporting.page import render
from playersim.reporting.record import SessionRecord
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import Report, build_report, write_report
from playersim.settings import AdobeSettings, Api, is_loopback
from playersim.sim.script import Script, ScriptedBehaviour, load_script
from playersim.sim.viewings import DEFAULT_RATE, Workload
from playersim.transports.base import AsyncTransport, MemoryTransport, Transport
from playersim.transports.clients import CLIENTS, Client, async_http_transport
from playersim.transports.http import (
    DEFAULT_TIMEOUT,
    Retries,
    RetryingAsyncTransport,
    check_base_url,
)
from playersim.transports.rate import RateLimitedTransport
from playersim.transports.recording import PartError, Recorder, merge_parts, read_part

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SHOWN",
    "DEFAULT_START",
    "MAX_IN_FLIGHT",
    "MAX_REQUEST_RATE",
    "MAX_RETRIES",
    "MAX_SPAN",
    "MAX_SPEED",
    "MAX_TIMEOUT_S",
    "RETENTION_S",
    "DryRun",
    "OptionError",
    "Run",
    "RunOptions",
    "arun",
    "check_start",
    "curve_problem",
    "dry_run",
    "http_transport",
    "merge",
    "number_problem",
    "rate_problem",
    "run",
    "span_problem",
]

# A fixed default start keeps a run reproducible byte for byte; "now" asks for the present
# instead (what a live report suite wants), and is the default of a run paced in real time.
DEFAULT_START: Final = "2026-01-01T12:00:00Z"
DEFAULT_SEED: Final = "1"
# A run's collector forgets sessions closed this long ago (their problems stay in the report),
# so a day of a million sessions holds only those open or lately closed.
RETENTION_S: Final = 3600.0
# Bounds on the options: past them a value is a typo, not a plan (a timeout of a week, a run
# of a thousand years), and refused before anything starts.
MAX_TIMEOUT_S: Final = 3600.0
MAX_SPAN: Final = timedelta(days=366)
MAX_SPEED: Final = 1_000_000.0
MIN_RATE: Final = 1 / (366 * 86_400)  # per second: one session a year
MAX_RETRIES: Final = 10
MAX_REQUEST_RATE: Final = 1_000_000.0  # requests per second (`max_rate`)
MAX_IN_FLIGHT: Final = 10_000
EARLIEST_START: Final = 0  # 1970-01-01: MCA timestamps are positive milliseconds
# Room for sessions of days after the start, well inside what an instant can be written as.
LATEST_START: Final = parse_instant("9000-01-01T00:00:00Z")
# A paced run to an endpoint beyond this machine may start at most this long before now (ms):
# past it, its live traffic would be stamped that late (see `RunOptions`, `start`).
PACED_START_SLACK_MS: Final = 60_000
# The requests a dry run shows.
DEFAULT_SHOWN: Final = 3
# `processes` unset: a run in memory of at least this many viewings uses every core. Below it
# the start of the other processes (each loads the profiles and builds the catalogues, about
# two seconds) costs more than they save.
PARALLEL_FROM: Final = 2_000
MAX_PROCESSES: Final = 256
# An in-memory run in virtual time, awaited with `arun()`, lets the event loop run this often
# (in wake-ups served): its other tasks wait a few milliseconds at most.
_YIELD_EVERY: Final = 2048


def _default(cls: Any, name: str) -> Any:
    """The default of a dataclass's field: the option that sets it defaults to the same."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


# The defaults of the options that their owners set.
_ARRIVALS: Final[Process] = _default(Workload, "process")
_RAMP_UP: Final = timedelta(milliseconds=_default(Workload, "ramp_up_ms"))
_RAMP_DOWN: Final = timedelta(milliseconds=_default(Workload, "ramp_down_ms"))
_RETRIES: Final[int] = _default(Retries, "attempts")
_GIVE_UP_AFTER: Final = timedelta(seconds=DEFAULT_GIVE_UP_S)
_HTTP_CLIENT: Final[Client] = inspect.signature(async_http_transport).parameters["client"].default


class OptionError(PlayersimError, ValueError):
    """An option `run()` cannot use: the message names the field and the value.

    `field` is the option at fault. The message names other fields as `{name}` in
    `template`, so that a front end can say them its own way (`says()`; the command line says
    `--name`); `str()` says the field names as they are.

    >>> RunOptions(sessions=0)
    Traceback (most recent call last):
    ...
    playersim.runner.OptionError: sessions must be at least 1, got 0
    """

    def __init__(self, field: str, template: str) -> None:
        self.field = field
        self.template = template
        super().__init__(self.says(str))

    def says(self, name: Callable[[str], str]) -> str:
        """The message, each field named by `name(field)`."""
        text = self.template
        for option in _FIELDS:
            text = text.replace("{" + option + "}", name(option))
        return text


def _shown(value: object) -> str:
    """A value as a message shows it: a span as `1:30:00`, text quoted, numbers as they are."""
    return str(value) if isinstance(value, timedelta) else repr(value)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything `playersim run` takes, as a Python value: what is watched, who arrives and
    when, time, and where the traffic goes. Made once, checked once: a field that cannot be
    used raises `OptionError` naming it. Every field has the command line's default.

    `profiles` are bundled names or `.toml` paths, each with an optional `:WEIGHT`
    (`"vod-episode:3"`), or `Profile` objects, or `(profile, weight)` pairs; none means every
    bundled profile, equally. A `script` (a TOML file or a `Script`) plays instead of profiles.
    Spans are `timedelta`s; `rate` is sessions per second (`parse_rate("600/min")`);
    `timeout` is seconds. `speed=None` is virtual time (as fast as possible); a number paces
    the run to the wall clock, sped up that many times (1: real time). `start` is an instant
    (ISO-8601 text, epoch ms or a `datetime`) or `"now"`; by default a fixed instant
    (`DEFAULT_START`), or now when paced. `record` is a path, or a text stream. `report`
    computes the answer key, what Adobe will report for the traffic (`RunStats.answer_key`),
    and writes its files into the directory it names (True: computed only).

    `adobe` (`AdobeSettings`: tracking server, report suite, org id, SSL; the api, and for
    Adobe's Edge Network the datastream and edge host) routes every profile's sessions, and the
    script's, in place of each profile's own `[analytics]`; its `to` is the endpoint when `to`
    is not given. `api` says which API the run speaks (`"mca"` unless `adobe` says `"edge"`).
    `max_rate` caps the requests sent to `to`, per second, whatever the arrivals.

    >>> RunOptions(profiles=["vod-episode:3", "live-news"], sessions=50).sessions
    50
    >>> RunOptions(flat=True, timezone="UTC")
    Traceback (most recent call last):
    ...
    playersim.runner.OptionError: flat and hourly/weekly/timezone do not go together
    """

    # What is watched.
    profiles: Sequence[str | Profile | tuple[str | Profile, float]] = ()
    script: str | os.PathLike[str] | Script | None = None
    # Who arrives, and when.
    sessions: int | None = None
    duration: timedelta | None = None
    rate: float | None = None
    arrivals: Process = _ARRIVALS
    ramp_up: timedelta = _RAMP_UP
    ramp_down: timedelta = _RAMP_DOWN
    concurrency: int | None = None
    hourly: Sequence[float] | None = None
    weekly: Sequence[float] | None = None
    timezone: str | None = None
    flat: bool = False
    # Time.
    start: str | int | datetime | None = None
    speed: float | None = None
    # Where it goes.
    seed: str | int = DEFAULT_SEED
    catalog_seed: str | int = DEFAULT_CATALOG_SEED
    to: str | None = None
    adobe: AdobeSettings | None = None
    max_rate: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = _RETRIES
    give_up_after: timedelta = _GIVE_UP_AFTER
    in_flight: int = DEFAULT_IN_FLIGHT
    http_client: Client = _HTTP_CLIENT
    record: str | os.PathLike[str] | IO[str] | None = None
    conformance: bool = True
    # The answer key: what Adobe will report for the traffic (`RunStats.answer_key`), written
    # into this directory too when it is a path (True: computed, not written).
    report: str | os.PathLike[str] | bool | None = None
    # Scale (`playersim.engines.shares`): the audience shared between this many processes
    # (None: every core, for a run in memory big enough to gain); and this run's share when
    # several machines make it, `"K/N"` (part K of N, from 1), its recording a part for
    # `playersim merge`.
    processes: int | None = None
    shard: str | Share | None = None

    def __post_init__(self) -> None:
        # Sequences are kept as tuples: the options stay frozen whatever was passed in.
        object.__setattr__(self, "profiles", tuple(self.profiles))
        if self.adobe is not None and not isinstance(self.adobe, AdobeSettings):
            raise OptionError(
                "adobe", f"{{adobe}} must be an AdobeSettings or None, got {self.adobe!r}"
            )
        if self.to is None and self.adobe is not None and self.adobe.to is not None:
            # The settings' endpoint, unless `to` says another (as a flag beats a file).
            object.__setattr__(self, "to", self.adobe.to)
        elif (
            self.to is None
            and self.adobe is not None
            and self.adobe.api == "edge"
            and "edge_host" in self.adobe.model_fields_set
        ):
            # An edge host given is where the Media Edge API is: Adobe's Edge Network, or a
            # first-party domain in front of it. (Not given: in memory, as any run.)
            object.__setattr__(self, "to", f"https://{self.adobe.edge_host}")
        for name in ("hourly", "weekly"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.shard, str):
            try:
                object.__setattr__(self, "shard", parse_share(self.shard))
            except ValueError as exc:
                raise OptionError("shard", f"{{shard}}: {exc}") from None
        elif self.shard is not None and not isinstance(self.shard, Share):
            raise OptionError("shard", f"{{shard}} must be 'K/N' or a Share, got {self.shard!r}")
        self._check_values()
        self._check_together()

    def _check_values(self) -> None:
        """Each field on its own: its type and its range."""
        for name in ("sessions", "concurrency"):
            _check(name, getattr(self, name), whole=True, least=1)
        _check("retries", self.retries, whole=True, least=0, most=MAX_RETRIES)
        _check("in_flight", self.in_flight, whole=True, least=1, most=MAX_IN_FLIGHT)
        _check("processes", self.processes, whole=True, least=1, most=MAX_PROCESSES)
        _check("timeout", self.timeout, above=0, most=MAX_TIMEOUT_S)
        _check("speed", self.speed, above=0, most=MAX_SPEED)
        _check("rate", self.rate, rule=rate_problem)
        _check("max_rate", self.max_rate, above=0, most=MAX_REQUEST_RATE)
        for name in ("duration", "give_up_after"):
            _check_span(name, getattr(self, name))
        for name in ("ramp_up", "ramp_down"):
            _check_span(name, getattr(self, name), zero=True)
        _check_curve("hourly", self.hourly, 24)
        _check_curve("weekly", self.weekly, 7)
        _one_of("arrivals", self.arrivals, get_args(Process))
        _one_of("http_client", self.http_client, CLIENTS)
        for name in ("flat", "conformance"):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(
                    name, f"{{{name}}} must be True or False, got {_shown(getattr(self, name))}"
                )
        for name in ("seed", "catalog_seed"):
            value = getattr(self, name)
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise OptionError(name, f"{{{name}}} must be text or a whole number, got {value!r}")
        if self.timezone is not None:
            try:
                Shape(timezone=self.timezone)
            except (ValueError, TypeError) as exc:
                raise OptionError("timezone", f"{{timezone}}: {exc}") from None
        if self.to is not None:
            try:
                check_base_url(self.to)
            except (ValueError, TypeError) as exc:
                raise OptionError("to", f"{{to}}: {exc}") from None
        if self.start is not None and self.start != "now":
            try:
                check_start(self.start)
            except ValueError as exc:
                raise OptionError("start", f"{{start}}: {exc}") from None
        for given in self.profiles:
            _weighted(given)
        if self.script is not None and not isinstance(self.script, str | os.PathLike | Script):
            raise OptionError(
                "script", f"{{script}} must be a path or a Script, got {self.script!r}"
            )
        record = self.record
        if record is not None and not (
            isinstance(record, str | os.PathLike) or callable(getattr(record, "write", None))
        ):
            raise OptionError(
                "record", f"{{record}} must be a path or a text stream, got {record!r}"
            )
        report = self.report
        if report is not None and not isinstance(report, bool | str | os.PathLike):
            raise OptionError(
                "report", f"{{report}} must be a directory's path, True or None, got {report!r}"
            )
        if isinstance(report, str | os.PathLike) and not os.fspath(report):
            # (An unset shell variable: `--report $KEY`.) Not the current directory, unasked.
            raise OptionError("report", "{report} is empty: give the directory to write into")

    def _check_together(self) -> None:
        """Fields that do not go together, or need another."""
        if self.script is not None:
            if self.profiles:
                raise OptionError(
                    "script", "{script} and {profiles} do not go together: a script names its "
                    "profile"
                )  # fmt: skip
            for name in _ARRIVAL_FIELDS:
                if getattr(self, name) != _default(RunOptions, name):
                    raise OptionError(
                        name, f"{{script}} plays its own timeline: {{{name}}} does not apply"
                    )
        if self.flat and (self.hourly or self.weekly or self.timezone):
            raise OptionError("flat", "{flat} and {hourly}/{weekly}/{timezone} do not go together")
        if self.concurrency and self.rate is None and not (self.sessions or self.duration):
            raise OptionError(
                "concurrency",
                "{concurrency} without {rate} keeps viewers coming: give {sessions} or "
                "{duration} to say when to stop",
            )
        self._check_max_rate()
        self._check_paced_start()
        self._check_scale()

    def _check_scale(self) -> None:
        shared = self.shard is not None or (self.processes or 1) > 1
        if shared and self.script is not None:
            # Its sessions start as copies of one another, and the collector tells copies
            # apart by the order they come in: only one process sees that order.
            raise OptionError(
                "processes" if self.shard is None else "shard",
                "{script} plays a few copies of one session: {processes} and {shard} are for "
                "an audience's sessions",
            )
        if self.shard is not None and self.report not in (None, False):
            raise OptionError(
                "report",
                "{report} and {shard} do not go together: a share holds part of each day's "
                "sessions; run `playersim report` on the merged recording",
            )
        if isinstance(self.shard, Share) and self.shard.parts * (self.processes or 1) > MAX_PARTS:
            raise OptionError(
                "processes", f"{{shard}} times {{processes}} is more than {MAX_PARTS:,} parts"
            )

    def _check_max_rate(self) -> None:
        if self.max_rate is None:
            return
        if self.to is None:
            raise OptionError(
                "max_rate", "{max_rate} applies to {to}: a run in memory sends to no one"
            )
        # The run gives up on an endpoint that answers nothing for `give_up_after`: a request
        # waiting its turn longer than half of that could be taken for an endpoint gone.
        turn = 1 / self.max_rate
        allowed = self.give_up_after.total_seconds() / 2
        if turn > allowed:
            raise OptionError(
                "max_rate",
                f"{{max_rate}} {self.max_rate:g}/s spaces requests {turn:g} s apart, more than "
                f"half of {{give_up_after}} ({allowed * 2:g} s): the run would give up on an "
                "endpoint that is only waiting its turn; raise one or the other",
            )

    def _check_paced_start(self) -> None:
        """A paced run to a back end beyond this machine cannot start in the past."""
        if not (self.realtime and self.to and self.start not in (None, "now")):
            return
        if is_loopback(self.to):
            return  # a rehearsal against a local collector: its timeouts are the test's
        assert self.start is not None
        late_ms = SystemClock().now() - check_start(self.start)
        if late_ms <= PACED_START_SLACK_MS:
            return
        raise OptionError(
            "start",
            f"{{start}} {_shown(self.start)} is {timedelta(seconds=late_ms // 1000)} in the "
            "past, and the run is paced ({speed}): a paced run sends each event as it happens, "
            "stamped with its simulated instant, so this live traffic would arrive that late, "
            "and the back end's session timeouts, measured on arrival, would make it "
            "meaningless. To backfill, leave {speed} out: an unpaced run sends a past day as "
            "fast as the endpoint takes it, into a report suite with Timestamps optional",
        )

    @property
    def realtime(self) -> bool:
        """Whether the run is paced to the wall clock (`speed` is set)."""
        return self.speed is not None

    @property
    def api(self) -> Api:
        """The API the run speaks: `"mca"` (the Media Collection API), unless `adobe` says
        `"edge"` (Adobe's Media Edge API)."""
        return self.adobe.api if self.adobe is not None else "mca"

    def replace(self, **fields: Any) -> RunOptions:
        """These options with some fields changed (checked again)."""
        return dataclasses.replace(self, **fields)


_FIELDS: Final = tuple(f.name for f in dataclasses.fields(RunOptions))
# The fields a script's own timeline replaces.
_ARRIVAL_FIELDS: Final = (
    "duration", "rate", "concurrency", "hourly", "weekly", "timezone", "ramp_up", "ramp_down",
    "flat", "arrivals",
)  # fmt: skip


def _check(
    name: str,
    value: object,
    *,
    whole: bool = False,
    least: float | None = None,
    above: float | None = None,
    most: float = math.inf,
    rule: Callable[[float], str | None] | None = None,
) -> None:
    """A number within bounds, or that `rule` has no problem with (None passes: the option
    is not set)."""
    if value is None:
        return
    kind = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        noun = "a whole number" if whole else "a number"
        raise OptionError(name, f"{{{name}}} must be {noun}, got {_shown(value)}")
    number = cast("float", value)
    if rule is not None:
        problem = rule(number)
    else:
        problem = number_problem(number, least=least, above=above, most=most)
    if problem:
        raise OptionError(name, f"{{{name}}} {problem}, got {_shown(value)}")


def number_problem(
    value: float, *, least: float | None = None, above: float | None = None, most: float = math.inf
) -> str | None:
    """What is wrong with `value` against its bounds (`least` <= value, or `above` < value;
    and value <= `most`), as the end of a sentence, or None. One wording for the command
    line's flags and the options' fields.

    >>> number_problem(0, least=1)
    'must be at least 1'
    >>> number_problem(float("nan"), above=0, most=3600)
    'must be above 0 and at most 3600'
    """
    high = "" if math.isinf(most) else f" and at most {most:g}"
    if least is not None and not least <= value <= most:
        return f"must be from {least:g} to {most:g}" if high else f"must be at least {least:g}"
    if above is not None and not above < value <= most:
        return f"must be above {above:g}{high}"
    return None


def _check_span(name: str, value: object, *, zero: bool = False) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        raise OptionError(name, f"{{{name}}} must be a timedelta, got {_shown(value)}")
    problem = span_problem(value, zero=zero)
    if problem:
        raise OptionError(name, f"{{{name}}} {problem}, got {value}")


def _check_curve(name: str, value: Sequence[float] | None, size: int) -> None:
    """Multipliers of a curve: `size` numbers, none below 0, one at least above it."""
    if value is None:
        return
    problem = curve_problem(value, size)
    if problem:
        raise OptionError(name, f"{{{name}}} {problem}")


def curve_problem(values: Sequence[object], size: int) -> str | None:
    """What is wrong with a curve's multipliers, or None.

    >>> curve_problem((1, 2, 3), 24)
    'needs 24 numbers, got 3'
    """
    if isinstance(values, str) or len(values) != size:
        return f"needs {size} numbers, got {len(values)}"
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return "must be numbers"
    numbers = cast("Sequence[float]", values)
    if any(not math.isfinite(v) or v < 0 for v in numbers) or not any(numbers):
        return "numbers must be >= 0, with at least one above 0"
    return None


def _one_of(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise OptionError(
            name, f"{{{name}}} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )


def check_start(instant: str | int | datetime) -> int:
    """The instant a run starts at, in epoch ms, if a run can start then; ValueError saying
    why not otherwise.

    >>> check_start("9999-12-31T23:00:00Z")
    Traceback (most recent call last):
    ...
    ValueError: '9999-12-31T23:00:00Z' is outside 1970-01-01 .. 9000-01-01
    """
    try:
        at = parse_instant(instant)
    except (TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None
    if not EARLIEST_START <= at <= LATEST_START:
        raise ValueError(
            f"{_shown(instant)} is outside {format_instant(EARLIEST_START)[:10]} .. "
            f"{format_instant(LATEST_START)[:10]}"
        )
    return at


def span_problem(span: timedelta, *, zero: bool = False) -> str | None:
    """What is wrong with a span for a run (above 0, or 0 too; at most 366 days), or None."""
    least = timedelta(0) if zero else timedelta(milliseconds=1)
    if least <= span <= MAX_SPAN:
        return None
    return f"must be {'0' if zero else 'above 0'} and at most 366 days"


def rate_problem(rate: float) -> str | None:
    """What is wrong with an arrival rate (sessions per second), or None."""
    problem = number_problem(rate, above=0)
    if problem is None and rate < MIN_RATE:
        return "is less than one session a year"
    return problem


def _weighted(given: object) -> tuple[str | Profile, float]:
    """A `profiles` item as (name, path or profile; weight)."""
    if isinstance(given, Profile):
        return given, 1.0
    if isinstance(given, str):
        try:
            return parse_weighted(given)
        except ValueError as exc:
            raise OptionError("profiles", f"{{profiles}} {exc}") from None
    if (
        isinstance(given, tuple)
        and len(given) == 2
        and isinstance(given[0], str | Profile)
        and isinstance(given[1], int | float)
        and not isinstance(given[1], bool)
    ):
        weight = float(given[1])
        if not (math.isfinite(weight) and weight >= 0):
            raise OptionError("profiles", f"{{profiles}} {given!r}: the weight must be >= 0")
        return given[0], weight
    raise OptionError(
        "profiles",
        f"{{profiles}}: {given!r} is not a profile name, path, Profile or (profile, weight)",
    )


def http_transport(
    to: str,
    *,
    client: Client,
    timeout: float,
    retries: int,
    seed: str,
    in_flight: int,
) -> RetryingAsyncTransport:
    """The asyncio HTTP transport a run (or a replay) sends with: the client asked for, its
    retries seeded by `seed`, at most `in_flight` connections. OptionError (`http_client`)
    when that client is not installed."""
    try:
        return async_http_transport(
            to,
            client=client,
            timeout=timeout,
            retries=Retries(attempts=retries, seed=seed),
            connections=in_flight,
        )
    except ValueError as exc:  # the client asked for is not installed
        raise OptionError("http_client", f"{{http_client}} {client}: {exc}") from None


class Run:
    """A run made ready from its options: what is watched, where the traffic goes, the engine
    that sends it. `run()` and `arun()` are made of it; the command line drives it itself (for
    its progress line, and its own handling of Ctrl-C and SIGTERM).

    Made: profiles and script loaded, the recording opened, viewers added, or `OptionError`
    naming the option. Then `go()` (virtual time in memory) or `go_async()` (the rest), then
    `finish()` for the account. It is a context manager: leaving it closes the recording.

    `dry_run=True` makes the same run on the in-memory collector, in virtual time, recording
    nothing and sending nothing, to see what it would send first (`first_requests`).
    """

    def __init__(
        self,
        options: RunOptions,
        *,
        dry_run: bool = False,
        _part: bool = False,
        _report: bool = False,
    ) -> None:
        self.options = options
        self.dry_run = dry_run
        self._stack = ExitStack()
        self._finished: RunStats | None = None
        self._captured: list[Request] = []  # a dry run's requests, as they were generated
        # One of the processes of a run shared between them, started by the first (`_part`):
        # it hands its account and answer-key records back rather than adding them up.
        self._part = _part
        self._records: list[SessionRecord] = []
        self._others: list[_OtherPart] = []  # the run's other processes, once started
        self._went = False  # whether the run went to its end (or was stopped on the way)
        self._merged: list[RunStats] = []  # their accounts, once they are over
        try:
            self.script, self.profiles, weights = _what_is_watched(options)
            if options.timezone is not None:
                # The audience lives there: its arrivals, and what its clocks say (day parts).
                self.profiles = [_moved_to(p, options.timezone) for p in self.profiles]
            if options.adobe is not None:
                # The run's own Adobe settings, over each profile's `[analytics]`.
                self.profiles = [options.adobe.apply(p) for p in self.profiles]
            self.start = _start_instant(options)
            self.workload = (
                None
                if self.script is not None
                else _workload(options, self.profiles, weights, self.start)
            )
            self.clock = VirtualClock(start=self.start)
            # The API the sessions travel over: the MCA's paths and bodies, or Media Edge's.
            adobe = options.adobe
            self.dialect: Dialect = (
                EdgeDialect(adobe.datastream, tenant=adobe.tenant)
                if adobe is not None and adobe.api == "edge" and adobe.datastream
                else MCA
            )
            # The built-in collector reads customMetadata names back without the tenant.
            self.tenant = adobe.tenant if adobe is not None else None
            self.seed = str(options.seed)
            self.catalog_seed = str(options.catalog_seed)
            self.http: RetryingAsyncTransport | None = None
            self.collector: Collector | None = None
            # The behaviours of a script's sessions: what they have played, for messages.
            self.scripted: list[ScriptedBehaviour] = []
            # The audience shared between processes, and this process's share of it.
            self.processes = self._processes()
            base = options.shard if isinstance(options.shard, Share) else Share(1, 1)
            self.shares = [
                Share(base.part + base.parts * j, base.parts * self.processes)
                for j in range(self.processes)
            ]
            self.share = self.shares[0] if options.shard is not None or self.processes > 1 else None
            self._given = options  # (as asked: what the shares of one run have in common)
            if self.processes > 1 and options.to:
                # The run's connections and its cap on requests are the run's, not each
                # process's: shared between them.
                self.options = options = options.replace(
                    in_flight=-(-options.in_flight // self.processes),
                    max_rate=None
                    if options.max_rate is None
                    else options.max_rate / self.processes,
                )
            self._parts_dir: Path | None = None
            self.recorder = self._recorder()  # where the run's recording goes
            recorder = self._own = self._own_recorder()  # where this process writes its lines
            self.engine = self._engine(self._transport(), recorder)
            # The answer key meters every request the back end takes, as it settles.
            self.reporter: Reporter | None = None
            if (options.report not in (None, False) or _report) and not dry_run:
                self._ready_to_write(options.report)
                self.reporter = Reporter(tenant=self.tenant)
                self.reporter.follow(self.engine)
            self._add_viewers()
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the recording (what was written stays). A share's recording (`shard`), once
        the run went, ends with its part line, which takes the run's account (`finish()`)."""
        try:
            if self._went and self.options.shard is not None and self.recorder is not None:
                self.finish()
        finally:
            self._stack.close()

    # --- what the run is, in words -------------------------------------------------------------

    @property
    def what(self) -> str:
        """What is watched: `script FILE`, or the profiles' names."""
        if self.script is not None:
            return f"script {_source(self.options.script)}"
        return ", ".join(profile.name for profile in self.profiles)

    @property
    def where(self) -> str:
        """Where the traffic goes."""
        if not self.options.to:
            return "in memory (built-in collector)"
        cap = self.options.max_rate
        return f"to {self.options.to}" + (f" (at most {cap:g} requests/s)" if cap else "")

    @property
    def base_url(self) -> str | None:
        """The base URL requests go to (`to`), or None: in memory."""
        return self.options.to or None

    @property
    def amount(self) -> str:
        """How many sessions, over what window: `500 sessions over 4:00:00`."""
        workload = self.workload
        if workload is None:  # a script: its sessions all start at once
            return _sessions(self.options.sessions or 1)
        span = None if workload.end is None else timedelta(milliseconds=workload.end - self.start)
        if workload.count is not None:
            text = _sessions(workload.count)
        elif workload.closed:
            text = f"{workload.concurrency:,} viewers at a time"
        else:
            assert span is not None  # no count: a window says when arrivals stop
            rate = workload.rate if workload.rate is not None else DEFAULT_RATE
            text = f"about {_sessions(round(rate * span.total_seconds()))}"
        return text if span is None else f"{text} over {_span(span)}"

    @property
    def routing(self) -> str:
        """Whose Adobe setup the sessions are routed to: the report suite and tracking server
        (several, if the profiles differ), or for api "edge" the datastream."""
        adobe = self.options.adobe
        if adobe is not None and adobe.api == "edge":
            return f"datastream {adobe.datastream}"
        suites = dict.fromkeys(
            (p.analytics.report_suite, p.analytics.tracking_server) for p in self.profiles
        )
        said = ", ".join(f"{suite} on {server}" for suite, server in suites)
        return f"report suite{'s' if len(suites) > 1 else ''} {said}"

    @property
    def orgs(self) -> str:
        """The Experience Cloud org id(s) the sessions carry."""
        return ", ".join(dict.fromkeys(p.analytics.org_id for p in self.profiles))

    @property
    def backfill(self) -> bool:
        """Whether the run's events are stamped in the past (more than a minute before now)."""
        return self.start < SystemClock().now() - PACED_START_SLACK_MS

    @property
    def notice(self) -> str | None:
        """One line to say before sending to an endpoint beyond this machine: what, where, how
        many, for whom (and, stamped in the past, what the report suite must allow); None
        for a run in memory or to this machine (loopback)."""
        to = self.options.to
        if not to or is_loopback(to) or self.dry_run:
            return None
        text = f"sending {self.amount} ({self._short_what}) to {to} for {self.routing}"
        timestamps = (
            "the report suite must have Timestamps optional (Admin > Report suites > General "
            "> Timestamp configuration)"
        )
        if self.backfill:
            text += (
                f"; the events are stamped from {format_instant(self.start)}, in the past: "
                + timestamps
            )
        elif self.downloads:
            text += (
                "; viewings watched offline send their sessions later, stamped when they were "
                "watched: " + timestamps
            )
        return text

    @property
    def downloads(self) -> bool:
        """Whether some viewings may be watched offline, their sessions sent later, whole."""
        if self.script is not None:
            return self.script.session.downloaded_after is not None
        return any(profile.offline.share for profile in self.profiles)

    @property
    def _short_what(self) -> str:
        if self.script is not None:
            return self.what
        names = [profile.name for profile in self.profiles]
        return ", ".join(names) if len(names) <= 4 else ", ".join(names[:3]) + ", ..."

    @property
    def dry_summary(self) -> str:
        """The line a dry run ends with: how many sessions, from when, what is watched, whose
        Adobe setup, and where it would go."""
        base = self.base_url
        where = f"to {base}" if base else "in memory (no endpoint given)"
        org = "" if self.options.api == "edge" else f", org {self.orgs}"
        return (
            f"dry run: {self.amount} from {format_instant(self.start)} ({self.what}) for "
            f"{self.routing}{org}, {where}, {self.pace}: nothing was sent"
        )

    @property
    def pace(self) -> str:
        """`virtual time`, `real time` or `real time xN`."""
        speed = self.options.speed
        if speed is None:
            return "virtual time"
        return "real time" if speed == 1 else f"real time x{speed:g}"

    # --- building ------------------------------------------------------------------------------

    def _transport(self) -> Transport | AsyncTransport:
        """Where the traffic goes: the built-in collector, or the endpoint at `to`."""
        options = self.options
        if self.dry_run:
            self.collector = speak_edge(
                Collector(self.clock, seed=self.seed, keep_events=False, conformance=False),
                tenant=self.tenant,
            )
            return _Capturing(self.collector, self._captured)
        if options.to:
            # Over HTTP each session sends from its own task, so one slow answer holds back
            # that session only.
            self.http = http_transport(
                options.to,
                client=options.http_client,
                timeout=options.timeout,
                retries=options.retries,
                seed=self.seed,
                in_flight=options.in_flight,
            )
            if options.max_rate is not None:
                # Every request waits its turn, whichever session sends it (the wall clock).
                return RateLimitedTransport(self.http, options.max_rate)
            return self.http
        # The summary needs counters and the conformance report, not every body: keeping none
        # holds memory flat however long the run.
        # It answers the Media Edge API as well as the MCA (`api`).
        self.collector = speak_edge(
            Collector(
                self.clock,
                seed=self.seed,
                keep_events=False,
                retention_s=RETENTION_S,
                conformance=options.conformance,
            ),
            tenant=self.tenant,
        )
        return MemoryTransport(self.collector)

    def _processes(self) -> int:
        """How many processes share the run: `processes`, or every core for a run in memory of
        at least `PARALLEL_FROM` viewings."""
        options = self.options
        if self.dry_run or self._part:
            return 1
        if options.processes is not None:
            return options.processes
        workload = self.workload
        if workload is None or options.realtime or options.to:
            return 1  # a script's few sessions; or paced, or over HTTP: one process
        count = workload.count
        if count is None and workload.end is not None:
            rate = workload.rate if workload.rate is not None else DEFAULT_RATE
            count = round(rate * (workload.end - workload.start) / 1000)
        if count is None or count < PARALLEL_FROM:
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return max(1, min(cores or os.cpu_count() or 1, MAX_PROCESSES))

    def _own_recorder(self) -> Recorder | None:
        """Where this process writes its recording lines: the run's recording, or, shared
        between processes, a part to merge into it once all are done."""
        if self.recorder is None or self.processes == 1:
            return self.recorder
        target = self.options.record
        near = Path(target).parent if isinstance(target, str | os.PathLike) else None
        try:
            self._parts_dir = Path(tempfile.mkdtemp(prefix=".playersim-parts-", dir=near))
        except OSError as exc:
            raise OptionError(
                "record", f"{{record}}: cannot make room for its parts: {exc.strerror or exc}"
            ) from None
        self._stack.callback(shutil.rmtree, self._parts_dir, ignore_errors=True)
        return self._stack.enter_context(Recorder(self._part_path(0)))

    def _part_path(self, j: int) -> Path:
        assert self._parts_dir is not None
        return self._parts_dir / f"part-{j + 1}.ndjson"

    def _recorder(self) -> Recorder | None:
        """The recording of every request (`record`), written by the engine in the order the
        requests were generated, whatever order their answers come in."""
        target = self.options.record
        if target is None or self.dry_run:
            return None
        try:
            recorder = Recorder(Path(target) if isinstance(target, os.PathLike) else target)
        except OSError as exc:
            raise OptionError(
                "record", f"{{record}}: cannot write {_source(target)!r}: {exc.strerror or exc}"
            ) from None
        except CompressionError as exc:  # a .zst name without the zstd extra
            raise OptionError("record", f"{{record}}: {exc}") from None
        return self._stack.enter_context(recorder)

    def _engine(self, transport: Transport | AsyncTransport, recorder: Recorder | None) -> Engine:
        options, workload = self.options, self.workload
        follow_up = (
            workload.follow_up(self.seed, self.catalog_seed) if workload is not None else None
        )
        # An open workload (a rate) over a concurrency limit turns away who finds no place; a
        # closed one's viewers wait for a place, which is what makes them a closed workload.
        turn_away = workload is not None and not workload.closed
        # Seconds without any answer, however many tries each request was allowed meanwhile.
        give_up = GiveUp(options.give_up_after.total_seconds())
        if (options.realtime or options.to) and not self.dry_run:
            # Over HTTP in virtual time: not paced, as many sessions sending at once as
            # `in_flight`.
            return RealtimeEngine(
                self.clock,
                transport,
                speed=options.speed if options.speed is not None else math.inf,
                concurrency=options.concurrency,
                follow_up=follow_up,
                recorder=recorder,
                turn_away=turn_away,
                give_up=give_up,
                in_flight=None if options.realtime else options.in_flight,
                dialect=self.dialect,
                share=self.share,
            )
        # Virtual time in memory sends inline: `_transport` gave a synchronous transport.
        return Engine(
            self.clock,
            cast("Transport", transport),
            concurrency=options.concurrency,
            follow_up=follow_up,
            turn_away=turn_away,
            give_up=give_up,
            recorder=recorder,
            dialect=self.dialect,
            share=self.share,
        )

    def _add_viewers(self) -> None:
        """The run's players: the script's sessions, or the workload's arrivals."""
        if self.script is not None:
            for index in range(self.options.sessions or 1):
                with self._script_errors():
                    player = self.script.player(seed=self.seed, index=index, start_at=self.start)
                if self.options.adobe is not None:
                    # The script loads its profile itself: route it as the run's profiles
                    # are. (The profile's `analytics` is read only for the sessionStart.)
                    player.profile = self.options.adobe.apply(player.profile)
                assert isinstance(player.behaviour, ScriptedBehaviour)
                self.scripted.append(player.behaviour)
                self.engine.add(player)
        else:
            assert self.workload is not None
            self.engine.add_arrivals(
                self.workload.players(self.seed, self.catalog_seed),
                until=self.workload.end,
                places=self.workload.places,
            )

    @contextmanager
    def _script_errors(self) -> Iterator[None]:
        """A script that cannot be played is the bad option (`script`), not a crash."""
        try:
            yield
        except ScriptError as exc:
            raise OptionError("script", f"{{script}}: {exc}") from None
        except PlayerProtocolError as exc:
            # A script step the state machine refuses: the script is the bad input.
            if not self.scripted:
                raise
            step = self.scripted[0].current()
            source = _source(self.options.script)
            raise OptionError("script", f"{{script}}: {source}: {step}: {exc}") from None

    # --- running -------------------------------------------------------------------------------

    def first_requests(self, count: int) -> list[Request]:
        """A dry run's first `count` requests (fewer if the run sends fewer), in the order they
        were generated: the run goes only as far as it takes to make them."""
        if not self.dry_run:
            raise TypeError("first_requests() is for a dry run: Run(options, dry_run=True)")
        engine = self.engine
        with self._script_errors():
            while len(self._captured) < count and (wake := engine.next_wakeup) is not None:
                engine.advance_to(wake)
        return self._captured[:count]

    @property
    def is_async(self) -> bool:
        """Whether the run must be driven on asyncio (`go_async`): paced, or over HTTP."""
        return isinstance(self.engine, RealtimeEngine)

    def go(self, tick: Callable[[], None] | None = None) -> None:
        """Run a virtual in-memory run to its end (`tick`, if given, is called every few
        thousand wake-ups). Interrupted (KeyboardInterrupt), it ends the sessions in progress,
        each with a sessionEnd, and lets the interruption go on."""
        if self.is_async:
            raise TypeError("this run is paced or goes over HTTP: await go_async()")
        self._start_others()
        with self._script_errors():
            try:
                self.engine.run(tick=tick)
            except KeyboardInterrupt:
                self.engine.stop()
                raise
        if self.engine.stopping and self._others:
            # Asked to stop (a signal): this process's sessions end before the parts are
            # merged. (The command line's own stop() after this one finds nothing more to do.)
            self.engine.stop()
        self._join_others()
        self._went = True

    async def go_async(self, *, tick: Callable[[], None] | None = None) -> None:
        """Run on the running event loop to the end. A virtual in-memory run lets the loop run
        every few thousand wake-ups (and calls `tick` then). Cancelled, the run ends the
        sessions in progress, each with a sessionEnd (waiting a while for their answers over
        HTTP), and the cancellation goes on."""
        engine = self.engine
        with self._script_errors():
            self._start_others()
            if not isinstance(engine, RealtimeEngine):
                try:
                    await self._virtual_async(tick)
                except asyncio.CancelledError:
                    await asyncio.to_thread(self._join_others, stop=True)
                    raise
                if engine.stopping and self._others:
                    engine.stop()  # (as in `go()`: before the parts are merged)
                await asyncio.to_thread(self._join_others)
                self._went = True
                return
            try:
                await engine.run_async()
            except asyncio.CancelledError:
                engine.stop()  # (over HTTP the engine has ended its sessions already)
                # The other processes end theirs too, and say what they did.
                await asyncio.to_thread(self._join_others, stop=True)
                self._went = True
                raise
            finally:
                await engine.aclose()
            await asyncio.to_thread(self._join_others)
            self._went = True

    async def _virtual_async(self, tick: Callable[[], None] | None) -> None:
        # What `Engine.run()` does, one wake-up at a time, with a turn of the loop now and then.
        engine, served = self.engine, 0
        try:
            while not engine.stopping and (wake := engine.next_wakeup) is not None:
                engine.advance_to(wake)
                served += 1
                if not served % _YIELD_EVERY:
                    if tick is not None:
                        tick()
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            engine.stop()
            raise

    def finish(self) -> RunStats:
        """The account of the run, once it is over: `RunStats`, with the conformance report
        (in memory; the sessions left open are judged as the back end's timeouts would close
        them), the lateness (paced) and the HTTP client's retries. OptionError (`script`) if
        the script's session ended before all of its steps could run."""
        if self._finished is not None:
            return self._finished
        if self.scripted and (unplayed := self.scripted[0].unplayed()):
            raise OptionError(
                "script",
                f"{{script}}: {_source(self.options.script)}: the session ended before "
                f"{', '.join(unplayed[:3])}{' ...' if len(unplayed) > 3 else ''} could run",
            )
        stats = self.engine.stats
        if self.collector is not None and self.collector.conformance:
            # Let the back end's timeouts run out, so sessions left open are judged as closed.
            self.clock.advance(STALL_TIMEOUT_MS / 1000)
            stats.conformance = self.collector.counts().problems
        if isinstance(self.engine, RealtimeEngine) and self.engine.paced:
            stats.lateness = self.engine.lateness
        if self.http is not None:
            stats.retried = self.http.retried
            stats.sent_again_after_lost_answer = self.http.sent_again_after_lost_answer
        if self._merged:
            stats = RunStats.merged([stats, *self._merged])
        if self.reporter is not None:
            self._records.extend(self.reporter.finish())
            if not self._part:
                records = sorted(self._records, key=lambda r: (r.start_ms, r.sid))
                stats.answer_key = build_report(records, timezone=self.timezone)
                self._write_answer_key(stats.answer_key)
        if self.recorder is not None and self.options.shard is not None:
            # A part's last line says what it is: for the merge (`playersim merge`).
            about: dict[str, Any] = {"share": str(self.options.shard)}
            if not self._part:
                about |= {
                    "run": self._fingerprint(),
                    # Stopped (Ctrl-C, SIGTERM) at an instant of its own: the merge keeps the
                    # lines the shares' stops numbered alike.
                    "stopped": stats.ending is not None,
                    "stats": stats.as_part(),
                }
            self.recorder.write_part(about)
        self._finished = stats
        return stats

    def _fingerprint(self) -> str:
        """What the shares of one run have in common, and another run's do not: its options
        but where each share goes, and its start."""
        same = self._given.replace(record=None, processes=None, shard=None)
        return hashlib.sha256(f"{same!r}{self.start}".encode()).hexdigest()[:16]

    # --- the run's other processes --------------------------------------------------------------

    def _start_others(self) -> None:
        """Start the processes of the run's other shares (when shared between processes)."""
        if self.processes == 1 or self._others:
            return
        # Started afresh ("spawn"), not forked: a fork would inherit this process's open
        # recording, signal handlers and any threads of the program that called `run()`.
        # Started afresh (a new interpreter running `_part_child`), neither forked (a fork would
        # inherit this process's open recording, signal handlers and any threads of the program
        # that called `run()`) nor by multiprocessing's spawn (which imports the caller's
        # `__main__` again in each: a script without a main guard, or one fed on stdin, fails).
        # Started with Ctrl-C ignored (a process inherits that): one that has not yet set up
        # its own handling is not killed mid-start by the Ctrl-C meant for the run, with a
        # traceback on the terminal; it is told to stop by SIGTERM, as it is once running.
        ignoring = _ignoring_ctrl_c()
        try:
            for j in range(1, self.processes):
                self._start(j)
        finally:
            if ignoring is not None:
                signal.signal(signal.SIGINT, ignoring)
        self._stack.callback(self._end_others)

    def _start(self, j: int) -> None:
        path = self._part_path(j) if self._parts_dir is not None else None
        options = self.options.replace(
            shard=self.shares[j],
            processes=1,
            record=path,
            report=None,  # (its records come back to this process, which writes the key)
        )
        receive, send = os.pipe()
        # Where this playersim is, for the new interpreter (a checkout not installed, say).
        here = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (here, env.get("PYTHONPATH"))))
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _PART_CHILD, str(send)],
                stdin=subprocess.PIPE,
                pass_fds=(send,),
                env=env,
            )
        finally:
            os.close(send)
        other = _OtherPart(self.shares[j], process, os.fdopen(receive, "rb"), path)
        self._others.append(other)
        assert process.stdin is not None
        with process.stdin:
            pickle.dump((options, self.reporter is not None), process.stdin)

    def _join_others(self, *, stop: bool = False) -> None:
        """Wait for the other processes' accounts (told to stop first if this one was), and
        merge their recordings into the run's."""
        if not self._others or self._merged:
            return
        stopped = stop or self.engine.stopping
        if stopped:
            for other in self._others:
                if other.process.poll() is None:
                    other.process.terminate()  # (SIGTERM: it ends its sessions, then reports)
        for other in self._others:
            try:
                said = pickle.load(other.receive)
            except EOFError:
                other.process.wait()
                if stopped and other.process.returncode == -signal.SIGTERM:
                    # Stopped before it had set up its own handling of the stop: it had sent
                    # nothing, and has nothing to say.
                    other.path = None
                    continue
                raise RuntimeError(
                    f"the process of share {other.share} ended (exit code "
                    f"{other.process.returncode}) before it reported: the run is incomplete"
                ) from None
            other.process.wait()
            if said[0] == "error":
                raise said[1]
            self._merged.append(said[1])
            self._records.extend(said[2])
        if self.recorder is not None and self._parts_dir is not None:
            own = self._own
            assert own is not None
            own.write_part({"share": str(self.shares[0])})
            own.close()
            parts = [self._part_path(0), *(o.path for o in self._others if o.path is not None)]
            shard = self.options.shard is not None
            self.recorder.write_lines(merge_parts(parts, keep_seq=shard, stopped=stopped))

    def _end_others(self) -> None:
        """The run is left early (an error, Ctrl-C in `run()`): its other processes go too."""
        for other in self._others:
            if other.process.poll() is None:
                other.process.terminate()
            other.process.wait()
            other.receive.close()

    @property
    def timezone(self) -> str:
        """The audience's time zone, for the answer key's days and hours: `timezone`, else
        the profiles' own if they share one, else UTC."""
        if self.options.timezone is not None:
            return self.options.timezone
        zones = {profile.arrivals.timezone for profile in self.profiles}
        return zones.pop() if len(zones) == 1 else "UTC"

    @staticmethod
    def _ready_to_write(target: object) -> None:
        """The answer key's directory, made and written to once before the run: a run of hours
        is not to find out at its end that its answer key has nowhere to go."""
        if not isinstance(target, str | os.PathLike):
            return
        try:
            Path(target).mkdir(parents=True, exist_ok=True)
            probe = Path(target) / ".playersim-write-check"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OptionError(
                "report", f"{{report}}: cannot write {_source(target)!r}: {exc.strerror or exc}"
            ) from None

    def _write_answer_key(self, report: Report) -> None:
        target = self.options.report
        if not isinstance(target, str | os.PathLike):
            return
        try:
            write_report(report, target, html=render)
        except OSError as exc:
            raise OptionError(
                "report", f"{{report}}: cannot write {_source(target)!r}: {exc.strerror or exc}"
            ) from None


def _ignoring_ctrl_c() -> Any:
    """Ignore SIGINT; the handler it had (None: not the main thread, where signals are set)."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        return None  # (a handler set outside Python: left as it is)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        return None
    return previous


@dataclass(slots=True)
class _OtherPart:
    """One of the other processes of a run shared between processes."""

    share: Share
    process: subprocess.Popen[bytes]
    receive: IO[bytes]  # the pipe its account comes back on, pickled
    path: Path | None  # where it records its lines (None: the run records nothing)


# What the interpreter of another share runs: `_part_child`, with the pipe to report on.
_PART_CHILD: Final = "import playersim.runner as r; r._part_child()"


def _part_child() -> None:
    """The body of another share's interpreter: its options come pickled on stdin, and its
    account goes back pickled on the pipe whose descriptor is its argument."""
    options, report = pickle.load(sys.stdin.buffer)
    with os.fdopen(int(sys.argv[1]), "wb") as pipe:
        _part_main(options, _Pickled(pipe), report)


class _Pickled:
    """A pipe that takes Python objects (pickled)."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.pipe = pipe

    def send(self, value: object) -> None:
        pickle.dump(value, self.pipe)
        self.pipe.flush()

    def close(self) -> None:
        self.pipe.close()


def _part_main(options: RunOptions, send: Any, report: bool) -> None:
    """A process of a shared run: its share played, its account (and, with `report`, its
    sessions' answer-key records) sent back on `send`."""
    stopping: list[int] = []
    engine: Engine | None = None

    def stop(signum: int, frame: object) -> None:
        stopping.append(signum)
        if engine is not None:
            engine.stopping = True

    # Ctrl-C (the whole process group has it) or SIGTERM (from the first process): the share
    # ends its sessions between two wake-ups and reports what it did, as a run does.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    try:
        with Run(options, _part=True, _report=report) as prepared:
            engine = prepared.engine
            engine.stopping = bool(stopping)
            if prepared.is_async:
                asyncio.run(_part_async(prepared, bool(stopping)))
            else:
                prepared.go()
                if engine.stopping:
                    engine.stop()
            stats = prepared.finish()
            send.send(("ok", stats, prepared._records))
    except BaseException as exc:  # handed to the first process, which raises it
        try:
            send.send(("error", exc))
        except Exception:  # (an exception that does not pickle: its words, then)
            send.send(("error", RuntimeError(f"share {options.shard}: {exc!r}")))
    finally:
        send.close()


async def _part_async(prepared: Run, stopping: bool) -> None:
    """A paced (or over HTTP) process of a shared run: a signal cancels it, and the run then
    ends its sessions as `playersim run` does on Ctrl-C."""
    task = asyncio.current_task()
    assert task is not None
    if stopping:
        return  # told to stop before it began: nothing was sent
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await prepared.go_async()
    except asyncio.CancelledError:
        task.uncancel()  # stopped as asked: its sessions were ended; its account is sent


class _Capturing(MemoryTransport):
    """The in-memory collector, keeping each request handed to it (a dry run's)."""

    def __init__(self, collector: Collector, into: list[Request]) -> None:
        super().__init__(collector)
        self.into = into

    def send(self, request: Request) -> Response:
        self.into.append(request)
        return super().send(request)


def _sessions(count: int) -> str:
    return f"{count:,} session{'' if count == 1 else 's'}"


def _span(span: timedelta) -> str:
    """A window as a person says it: `4:00:00`, `1 day`, `7 days`, `2 days, 6:00:00`.

    >>> _span(timedelta(hours=4)), _span(timedelta(hours=24)), _span(timedelta(days=7))
    ('4:00:00', '1 day', '7 days')
    """
    if span >= timedelta(days=1) and not span % timedelta(days=1):
        return f"{span.days} day{'' if span.days == 1 else 's'}"
    return str(span)


def _source(target: object) -> str:
    """A script or recording target as its messages name it."""
    if isinstance(target, Script):
        return target.source
    if isinstance(target, str | os.PathLike):
        return os.fspath(target)
    return repr(target)


def _what_is_watched(options: RunOptions) -> tuple[Script | None, list[Profile], list[float]]:
    """The script, or the profiles the run plays and their weights."""
    if options.script is not None:
        try:
            script = (
                options.script
                if isinstance(options.script, Script)
                else load_script(os.fspath(options.script))
            )
            return script, [script.profile()], [1.0]
        except ScriptError as exc:
            raise OptionError("script", f"{{script}}: {exc}") from None
    profiles: list[Profile] = []
    weights: list[float] = []
    for given in options.profiles or list(bundled_profiles()):
        which, weight = _weighted(given)
        if isinstance(which, Profile):
            profiles.append(which)
        else:
            try:
                profiles.append(load_profile(which))
            except ProfileError as exc:
                raise OptionError("profiles", f"{{profiles}}: {exc}") from None
        weights.append(weight)
    if not profiles:
        raise OptionError("profiles", "no profiles: none bundled and none given as {profiles}")
    if not any(weights):
        raise OptionError(
            "profiles", "{profiles}: every weight is 0: give at least one profile a weight"
        )
    return None, profiles, weights


def _start_instant(options: RunOptions) -> int:
    if options.start == "now" or (options.start is None and options.realtime):
        return SystemClock().now()
    return check_start(options.start if options.start is not None else DEFAULT_START)


def _moved_to(profile: Profile, timezone: str) -> Profile:
    """The profile with its audience in another time zone: its arrivals and its clocks."""
    # One zone for the whole audience: its regions, if it had any, are replaced by it.
    arrivals = profile.arrivals.model_copy(update={"timezone": timezone, "regions": {}})
    return profile.model_copy(update={"arrivals": arrivals})


def _workload(
    options: RunOptions, profiles: list[Profile], weights: list[float], start: int
) -> Workload:
    """The run's workload, or the option that makes it impossible."""
    shapes: list[Shape] | None = None
    if options.flat:
        shapes = [FLAT] * len(profiles)
    elif options.hourly or options.weekly:
        # Each given override replaces that part of every profile's curve; the rest stays.
        # (A --timezone has moved the profiles themselves: see `_moved_to`.)
        shapes = [
            Shape(
                hourly=tuple(options.hourly or p.arrivals.hourly),
                weekly=tuple(options.weekly or p.arrivals.weekly),
                timezone=p.arrivals.timezone,
            )
            for p in profiles
        ]
    try:
        return Workload(
            profiles,
            start=start,
            weights=weights,
            sessions=options.sessions,
            duration_ms=None if options.duration is None else _ms(options.duration),
            rate=options.rate,
            process=options.arrivals,
            ramp_up_ms=_ms(options.ramp_up),
            ramp_down_ms=_ms(options.ramp_down),
            concurrency=options.concurrency,
            shapes=shapes,
        )
    except ValueError as exc:
        message = str(exc)
        field = "profiles"
        if "curve" in message:
            field = "duration"
        elif "ramp" in message:
            field = "ramp_up" if options.ramp_up else "ramp_down"
        raise OptionError(field, f"{{{field}}}: {message}") from None


def _ms(span: timedelta) -> int:
    return span // timedelta(milliseconds=1)


def _options(options: RunOptions | None, fields: dict[str, Any]) -> RunOptions:
    if options is None:
        return RunOptions(**fields)
    return options.replace(**fields) if fields else options


def run(options: RunOptions | None = None, /, **fields: Any) -> RunStats:
    """Do what `playersim run` does, and return its `RunStats`, printing nothing.

    `options` (default: `RunOptions()`), with `fields` changed, say what to run: the same
    options send the same bytes and record the same file as the command line with the same
    flags. It blocks until the run is over: inside a running event loop, a paced run or one
    over HTTP needs `await arun(...)` (a virtual run in memory needs no loop, and runs here).

    Raises `OptionError` for an option that cannot be used (naming it); and
    `EndpointUnreachableError` when the run gave up on its endpoint, with the account of the
    run so far in its `stats`. Interrupted (Ctrl-C), it ends the sessions in progress with a
    sessionEnd each, and raises KeyboardInterrupt.

    >>> stats = run(profiles=["vod-episode"], sessions=5, seed=3)
    >>> stats.viewings == stats.arrivals + stats.follow_ups
    True
    """
    with Run(_options(options, fields)) as prepared:
        if not prepared.is_async:
            prepared.go()
            return prepared.finish()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop running: the usual case
        else:
            raise RuntimeError(
                "run() cannot pace a run, or send over HTTP, inside a running event loop: "
                "await arun(...) instead"
            )
        try:
            asyncio.run(_go(prepared))
        except KeyboardInterrupt:
            # The loop is gone: account for what it left in flight, then let Ctrl-C go on.
            cast("RealtimeEngine", prepared.engine).settle_interrupted()
            raise
        return prepared.finish()


async def arun(options: RunOptions | None = None, /, **fields: Any) -> RunStats:
    """`run()` for asyncio: the same run, on the running event loop, returning `RunStats`.

    Cancelled, the run ends the sessions in progress with a sessionEnd each (over HTTP,
    waiting a while for their answers), and the cancellation goes on.

    >>> stats = asyncio.run(arun(profiles=["ugc-clip"], sessions=2))
    >>> stats.arrivals
    2
    """
    with Run(_options(options, fields)) as prepared:
        await _go(prepared)
        return prepared.finish()


async def _go(prepared: Run) -> None:
    try:
        await prepared.go_async()
    except EndpointUnreachableError as exc:
        exc.stats = prepared.finish()
        raise


def merge(
    parts: Sequence[str | os.PathLike[str]], record: str | os.PathLike[str] | IO[str]
) -> RunStats:
    """Join the parts of a run made in shares (`run(shard="K/N", record=...)` on each of N
    machines, or `playersim run --shard K/N --record`) into the recording one machine would
    have written, byte for byte, in `record`; returns the run's account, as `run()` would
    have (its answer key aside). PartError, naming the file, for a file that is not a whole
    part, parts of different runs, or a share missing or given twice.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for k in (1, 2):
    ...     part = folder / f"{k}.ndjson"
    ...     _ = run(profiles=["ugc-clip"], sessions=6, shard=f"{k}/2", record=part)
    >>> stats = merge([folder / "1.ndjson", folder / "2.ndjson"], folder / "all.ndjson")
    >>> whole = run(profiles=["ugc-clip"], sessions=6, record=folder / "one.ndjson")
    >>> (folder / "all.ndjson").read_bytes() == (folder / "one.ndjson").read_bytes()
    True
    >>> stats.requests == whole.requests
    True
    """
    if not parts:
        raise PartError("no parts to merge")
    named = [os.fspath(part) for part in parts]
    if twice := next((path for path in named if named.count(path) > 1), None):
        raise PartError(f"{twice} is given twice")
    about = {os.fspath(part): read_part(os.fspath(part)) for part in parts}
    shares: dict[Share, str] = {}
    run_of: tuple[str, str] | None = None
    for path, said in about.items():
        try:
            share = parse_share(str(said["share"]))
            fingerprint = str(said["run"])
            said["stats"]
        except (KeyError, ValueError) as exc:
            raise PartError(f"{path}: its part line is not a share's: {exc}") from None
        if share in shares:
            raise PartError(f"{path} and {shares[share]} are both share {share}")
        if run_of is not None and fingerprint != run_of[0]:
            raise PartError(
                f"{path} and {run_of[1]} are parts of different runs (other options, seed or "
                "start): each share must be run with the same flags but --shard"
            )
        shares[share] = path
        run_of = run_of or (fingerprint, path)
    count = next(iter(shares)).parts
    missing = [f"{k}/{count}" for k in range(1, count + 1) if Share(k, count) not in shares]
    if missing or len(shares) != count:
        other = [str(share) for share in shares if share.parts != count]
        raise PartError(
            f"the parts are not one run's every share: {', '.join(missing or other)} "
            f"{'missing' if missing else 'of another split'}"
        )
    ordered = [shares[Share(k, count)] for k in range(1, count + 1)]
    try:
        stats = RunStats.merged([RunStats.from_part(about[path]["stats"]) for path in ordered])
    except (KeyError, TypeError, ValueError) as exc:
        raise PartError(f"a part's account cannot be read: {exc!r}") from None
    try:
        recorder = Recorder(Path(record) if isinstance(record, os.PathLike) else record)
    except OSError as exc:
        raise PartError(f"{_source(record)}: cannot write it: {exc.strerror or exc}") from None
    with recorder:
        stopped = any(about[path].get("stopped") for path in ordered)
        recorder.write_lines(merge_parts(ordered, stopped=stopped))
    return stats


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a run would send first and where, with nothing sent: `dry_run()`'s answer.

    `requests` are the first requests, byte for byte what the run sends (their session ids
    are the in-memory collector's: an endpoint gives its own); `url(request)` is where each
    would go; `summary` says the run in one line.
    """

    requests: tuple[Request, ...]
    base_url: str | None
    summary: str

    def url(self, request: Request) -> str:
        """The full URL a request would be posted to (its path alone when in memory)."""
        if self.base_url is None:
            return request.path
        return str(check_base_url(self.base_url)).rstrip("/") + request.path


def dry_run(
    options: RunOptions | None = None, /, *, show: int = DEFAULT_SHOWN, **fields: Any
) -> DryRun:
    """The first `show` requests a run would send, and where, sending nothing: the run is
    made as `run()` makes it (the same options, the same bytes), then played on the
    in-memory collector in virtual time only as far as those requests, so it is quick however
    long the run. Nothing is recorded. OptionError as `run()`.

    >>> shown = dry_run(profiles=["ugc-clip"], sessions=20, to="https://mca.example", show=2)
    >>> [shown.url(request) for request in shown.requests]  # doctest: +ELLIPSIS
    ['https://mca.example/api/v1/sessions', 'https://mca.example/api/v1/sessions/.../events']
    >>> print(shown.summary)  # doctest: +ELLIPSIS
    dry run: 20 sessions from 2026-01-01T12:00:00.000Z (ugc-clip) for report suite ...
    """
    if isinstance(show, bool) or not isinstance(show, int) or show < 1:
        raise ValueError(f"show must be a whole number, at least 1, got {show!r}")
    with Run(_options(options, fields), dry_run=True) as prepared:
        requests = prepared.first_requests(show)
        return DryRun(tuple(requests), prepared.base_url, prepared.dry_summary)
