"""Scale out on Locust: simulated viewers as Locust users, their MCA requests in Locust's stats.

`pip install "playersim[locust]"`, then a locustfile as small as::

    from playersim.contrib.locust import PlayerUser

    class Viewers(PlayerUser):
        profiles = {"vod-episode": 3, "live-news": 1}

and `locust -f locustfile.py --host http://127.0.0.1:8080 --headless -u 100 -r 10 -t 5m`, or
the same with `--master` and `--worker` processes (see docs/locust.md).

Each Locust user is a seat on the service (`playersim.Seats`): it plays one viewing after
another, each a simulated `Player` on the wall clock. Locust's `wait_time` is the time to the
player's next event, so the user sleeps on the player's own schedule. Its requests go through the
user's Locust client, named by event type, so Locust's statistics, charts and CSV files have a row
per event type (sessionStart, play, ping, ...). A user sends one request at a time, each only
after the one before is answered, so every session stays in order. A user Locust stops ends its
session with a sessionEnd, as a closed player would.

The seat of a user is named by the run seed, the worker's index (Locust numbers its workers from
0; a run without workers is worker 0) and the user's number on that worker. The same seed,
workers and user count give the same viewers, titles and behaviour; the timestamps are the wall
clock's.

Importing this module imports Locust, which patches the standard library for gevent: import it
from a locustfile (Locust patches before it imports one), not from other code.
"""

from __future__ import annotations

import http
import itertools
import logging
import math
import re
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final

import gevent
from locust import HttpUser, events
from locust.argument_parser import LocustArgumentParser
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import (
    STATE_CLEANUP,
    STATE_MISSING,
    STATE_STOPPED,
    STATE_STOPPING,
    WORKER_REPORT_INTERVAL,
    MasterRunner,
    Runner,
    WorkerRunner,
)
from locust.stats import CSV_STATS_INTERVAL_SEC

from playersim.audience.profiles import Profile, bundled_profiles, load_profile, parse_weighted
from playersim.clock import SleepingClock, SystemClock
from playersim.engines.delivery import GiveUp
from playersim.engines.engine import Engine
from playersim.engines.realtime import WIND_DOWN_S
from playersim.engines.summary import Lateness, RunStats
from playersim.errors import ProfileError, TransportError
from playersim.mca.api import DOWNLOADED, Request, Response, accepted
from playersim.sim.player import Player
from playersim.sim.viewings import Seat, Seats
from playersim.transports.http import (
    DEFAULT_TIMEOUT,
    HEADERS,
    IDLE_CONNECTION_S,
    NO_RETRIES,
    Retries,
    RetryingTransport,
    answer_of,
    body_bytes,
    check_base_url,
    reads_body,
)

__all__ = ["FastPlayerUser", "LocustTransport", "PlayerUser", "Tally", "tally"]

# What this module relies on in Locust: its modules and names imported above, the methods our
# users override, and what is read, set or called on its objects (some of it undocumented, some
# private): (where, name, how). A name with parentheses is a method whose parameters we rely on:
# for "overrides", exactly those after self, in order. It is the list
# tests/test_pinned_internals.py checks against the installed Locust, naming the one an upgrade
# no longer has; the pin on locust in pyproject.toml is the releases it passes on. (A literal: the
# test reads it without importing this module, as importing it imports Locust, which patches the
# standard library for gevent.)
_REACHES_INTO: Final[tuple[tuple[str, str, str], ...]] = (
    # Imported above. The runner's states and report interval, and the CSV writer's interval,
    # are module constants, not documented API: how long a stopping master or worker waits.
    ("locust", "HttpUser", "subclasses"),
    ("locust", "events", "imports"),
    ("locust.argument_parser", "LocustArgumentParser", "imports"),
    ("locust.clients", "HttpSession", "imports"),
    ("locust.contrib.fasthttp", "FastHttpUser", "subclasses"),
    ("locust.env", "Environment", "imports"),
    ("locust.exception", "StopUser", "imports"),
    ("locust.runners", "STATE_CLEANUP", "imports"),
    ("locust.runners", "STATE_MISSING", "imports"),
    ("locust.runners", "STATE_STOPPED", "imports"),
    ("locust.runners", "STATE_STOPPING", "imports"),
    ("locust.runners", "WORKER_REPORT_INTERVAL", "imports"),
    ("locust.runners", "MasterRunner", "imports"),
    ("locust.runners", "Runner", "imports"),
    ("locust.runners", "WorkerRunner", "imports"),
    ("locust.stats", "CSV_STATS_INTERVAL_SEC", "imports"),
    # Our users: a seat starts on on_start and ends its session on on_stop, wait_time is the
    # player's schedule; Locust runs `tasks`, skips an `abstract` class, and gives each user its
    # `environment` and `client`. FastPlayerUser's __init__ sets the timeouts FastHttpUser's
    # __init__ makes its client with.
    ("locust.User", "on_start()", "overrides"),
    ("locust.User", "on_stop()", "overrides"),
    ("locust.User", "wait_time()", "overrides"),
    ("locust.User", "tasks", "sets"),
    ("locust.User", "abstract", "sets"),
    ("locust.User", "environment", "reads"),
    ("locust.HttpUser", "client", "reads"),
    ("locust.contrib.fasthttp.FastHttpUser", "client", "reads"),
    ("locust.contrib.fasthttp.FastHttpUser", "__init__(environment)", "overrides"),
    ("locust.contrib.fasthttp.FastHttpUser", "network_timeout", "sets"),
    ("locust.contrib.fasthttp.FastHttpUser", "connection_timeout", "sets"),
    # The two clients: a request named by its event type and judged by us; the base URL, for
    # messages; closing idle connections (FastHttpSession's through its user agent, `client`).
    ("locust.clients.HttpSession", "request(name, catch_response, data)", "calls"),
    ("locust.clients.HttpSession", "post", "calls"),
    ("locust.clients.HttpSession", "base_url", "reads"),
    ("locust.clients.HttpSession", "close()", "calls"),
    (
        "locust.contrib.fasthttp.FastHttpSession",
        "request(name, data, catch_response, headers, allow_redirects)",
        "calls",
    ),
    ("locust.contrib.fasthttp.FastHttpSession", "post", "calls"),
    ("locust.contrib.fasthttp.FastHttpSession", "base_url", "reads"),
    ("locust.contrib.fasthttp.FastHttpSession", "client", "reads"),
    ("locust.contrib.fasthttp.LocustUserAgent", "close()", "calls"),
    # Their answers, as `catch_response` gives them: the error of a request with no answer.
    ("locust.clients.ResponseContextManager", "success()", "calls"),
    ("locust.clients.ResponseContextManager", "failure(exc)", "calls"),
    ("locust.clients.ResponseContextManager", "error", "reads"),
    ("locust.contrib.fasthttp.ResponseContextManager", "success()", "calls"),
    ("locust.contrib.fasthttp.ResponseContextManager", "failure(exc)", "calls"),
    ("locust.contrib.fasthttp.ErrorResponse", "error", "reads"),
    # The environment: the user classes and options to check, the runner, the events a master
    # and its workers are wired by; a stop timeout set so a user in mid-request finishes, and
    # the exit status of a run refused.
    ("locust.env.Environment", "user_classes", "reads"),
    ("locust.env.Environment", "parsed_options", "reads"),
    ("locust.env.Environment", "host", "reads"),
    ("locust.env.Environment", "runner", "reads"),
    ("locust.env.Environment", "events", "reads"),
    ("locust.env.Environment", "stop_timeout", "sets"),
    ("locust.env.Environment", "process_exit_code", "sets"),
    ("locust.argument_parser.default_args_dict()", "headless", "reads"),
    ("locust.argument_parser.default_args_dict()", "csv_prefix", "reads"),
    ("locust.argument_parser.LocustArgumentParser", "add_argument", "calls"),
    ("locust.events", "init_command_line_parser", "reads"),
    ("locust.events", "init", "reads"),
    ("locust.events", "test_start", "reads"),
    ("locust.events", "test_stopping", "reads"),
    ("locust.events", "test_stop", "reads"),
    ("locust.events", "quitting", "reads"),
    ("locust.event.EventHook", "add_listener(handler)", "calls"),
    # The runners: their state, to stop users and wait until they have; the messages between
    # a master and its workers; which workers a master has; a worker's index, its seats' key.
    ("locust.runners.Runner", "state", "reads"),
    ("locust.runners.Runner", "user_count", "reads"),
    ("locust.runners.Runner", "stop()", "calls"),
    ("locust.runners.Runner", "quit()", "calls"),
    ("locust.runners.Runner", "update_state(new_state)", "calls"),
    ("locust.runners.Runner", "register_message(msg_type, listener)", "calls"),
    ("locust.runners.Runner", "send_message(msg_type, data)", "calls"),
    ("locust.runners.MasterRunner", "clients", "reads"),
    ("locust.runners.WorkerNodes", "all", "reads"),
    ("locust.runners.WorkerNode", "id", "reads"),
    ("locust.runners.WorkerNode", "state", "reads"),
    ("locust.runners.WorkerRunner", "worker_index", "reads"),
    ("locust.runners.WorkerRunner", "send_message(msg_type, data)", "calls"),
    # What a worker's quit does to report its last figures now (private: without it, we wait
    # for its reporter).
    ("locust.runners.WorkerRunner", "_send_stats()", "calls"),
    ("locust.rpc.protocol.Message", "data", "reads"),
    ("locust.rpc.protocol.Message", "node_id", "reads"),
)

logger = logging.getLogger("playersim")

# A session id in an error message: one failure row per kind of error, not one per session.
_SID = re.compile(r"\b[0-9a-f]{64}\b")


class LocustTransport(RetryingTransport):
    """A playersim `Transport` over a Locust user's client (`HttpUser`'s or `FastHttpUser`'s).

    Each request is reported to Locust under its event type. An answer the MCA accepts (204, or
    201 with a session id) is a success; any other is a failure carrying its status and the
    error's `message`. A request with no answer is Locust's own failure, and `TransportError`
    for the engine. With `retries`, each try is a request of its own in Locust's statistics.

    Two things Locust does not do, done here:

    - a request in flight when Locust stops the user is finished, not killed. Locust stops a
      user it finds waiting by killing it, and the kill may land just after the user woke and
      sent its next request; that request then had no known fate, and its session's sessionEnd
      could overtake it. Each request runs in a greenlet of its own: a stop that lands while it
      is out waits for its answer, then `stopping` is set and the user ends its session;
    - a connection idle longer than `IDLE_CONNECTION_S` is not used again: Locust's clients
      keep idle connections for ever, and a server that closed one meanwhile races the next
      request on it, which then fails with no answer (the keep-alive race).
    """

    def __init__(
        self,
        client: Any,  # HttpSession or FastHttpSession: both post(path, data=, name=, ...)
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
        lateness: Lateness | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self.client = client
        # How late each request goes out against its timestamp (the instant it was due).
        self.lateness = lateness
        # requests (under HttpUser) waits for ever without a timeout; FastHttpUser has its own
        # (`network_timeout`), set by `FastPlayerUser`.
        self._options = {"timeout": timeout} if isinstance(client, HttpSession) else {}
        self.timeout = timeout
        self.stopping = False  # Locust stopped the user while a request was out
        self._last_used: float | None = None  # when the client last had an answer (monotonic)

    def send(self, request: Request) -> Response:
        # (A downloaded session goes when its device is back online, not when it was due.)
        if self.lateness is not None and request.event_type != DOWNLOADED:
            late_ms = self.clock.now() - request.event["playerTime"]["ts"]
            self.lateness.add(late_ms, ping=request.event_type == "ping")
        return super().send(request)

    def _post(self, request: Request) -> Response:
        self._retire_idle_connections()
        job = gevent.spawn(self._post_now, request)
        answer: Response
        try:
            answer = job.get()
        except gevent.GreenletExit:
            # Stopped mid-request: its answer is waited for (the request's own timeout bounds
            # it), so that its fate is known and the session's sessionEnd comes after it.
            self.stopping = True
            try:
                answer = job.get(timeout=self.timeout * 2 + 1)
            except gevent.Timeout:
                job.kill(block=False)  # not left to run on behind the sessionEnd
                target = f"{getattr(self.client, 'base_url', '')}{request.path}"
                raise TransportError("POST", target, "no answer as the user stopped") from None
        finally:
            self._last_used = time.monotonic()
        return answer

    def _retire_idle_connections(self) -> None:
        idle_since = self._last_used
        if idle_since is not None and time.monotonic() - idle_since > IDLE_CONNECTION_S:
            # HttpSession (requests) closes its pools; FastHttpSession's user agent its
            # clients. Both make new connections on the next request.
            closer = getattr(getattr(self.client, "client", None), "close", None)
            if not isinstance(self.client, HttpSession) and callable(closer):
                closer()
            elif isinstance(self.client, HttpSession):
                self.client.close()

    def _post_now(self, request: Request) -> Response:
        response: Response | None = None
        with self.client.post(
            request.path,
            data=body_bytes(request),
            headers=HEADERS,
            name=request.event_type,
            catch_response=True,
            allow_redirects=False,  # an MCA client posts where it is told; a 3xx is an error
            **self._options,
        ) as answer:
            status = answer.status_code or 0
            if status:  # 0: no answer (Locust reports its error as the failure)
                location = answer.headers.get("Location") if answer.headers else None
                text = (answer.text or "") if reads_body(status) else ""
                response = answer_of(status, location, text, _phrase(status))
                if accepted(request, response):
                    answer.success()
                else:
                    answer.failure(_failure(response))
            error = getattr(answer, "error", None)
        if response is None:
            target = f"{getattr(self.client, 'base_url', '')}{request.path}"
            raise TransportError(
                "POST", target, str(error) or "no answer", maybe_delivered=not _never_sent(error)
            )
        return response


def _never_sent(error: object) -> bool:
    """Whether a client's error says no connection was made (so the request never left):
    refused, no such host, no connection in time. Looked for down the error's causes, as
    requests and geventhttpclient each wrap the system's error their own way."""
    seen = error
    for _ in range(8):
        if seen is None:
            return False
        name = type(seen).__name__
        if isinstance(seen, ConnectionRefusedError | socket.gaierror) or name in _CONNECT_ERRORS:
            return True
        if isinstance(seen, BaseException):
            seen = (
                seen.__cause__
                or seen.__context__
                or next((arg for arg in seen.args if isinstance(arg, BaseException)), None)
            )
        else:
            return False
    return False


# The connect-phase errors of urllib3 (under requests) and of requests itself, by name: their
# modules are Locust's dependencies, not playersim's.
_CONNECT_ERRORS = frozenset({"NewConnectionError", "ConnectTimeoutError", "ConnectTimeout"})


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _failure(response: Response) -> str:
    """The failure as Locust lists it: the status and the collector's message, with no sid."""
    if response.status == 201:
        return "201 without a session id in its Location"
    message = _SID.sub("<sid>", response.message or "")
    return f"{response.status} {_phrase(response.status)}: {message}".rstrip(": ")


class _Viewers:
    """What `PlayerUser` and `FastPlayerUser` share: a seat, its engine, the player's schedule."""

    # The profiles the seats play: names or .toml paths, with weights (a mapping) or without
    # (a sequence of `NAME_OR_PATH[:WEIGHT]`). Empty: every bundled profile, equally.
    # `--playersim-profiles` on Locust's command line overrides it.
    profiles: ClassVar[Sequence[str] | Mapping[str, float]] = ()
    # The run seed (`--playersim-seed` overrides it): same seed, same viewings.
    seed: ClassVar[int | str] = 1
    # Seconds between one viewing on a seat and the next (the viewer browsing), drawn uniformly
    # between the two from the seat's RNG. It also paces a seat whose viewings are refused.
    between_viewings: ClassVar[tuple[float, float]] = (2.0, 10.0)
    # Retries for 429 and 5xx answers and for no answer, each try its own row entry.
    retries: ClassVar[Retries] = NO_RETRIES
    # Seconds to wait for an answer.
    timeout: ClassVar[float] = DEFAULT_TIMEOUT

    environment: Environment
    client: Any
    _clock: SystemClock
    _engine: Engine | None
    _transport: LocustTransport
    _seat: Seat
    _next: Player | None  # the seat's next viewing, waiting for its start (after a pause)

    def on_start(self) -> None:
        self._engine = self._next = None
        if _run.halted:
            return  # spawned as the test stopped: nothing to play; the task stops this user
        seats = _seats_of(type(self), self.environment)
        if seats is None:
            return  # the reason is logged once, by _seats_of; the task stops this user
        runner = self.environment.runner
        worker = max(0, getattr(runner, "worker_index", 0)) if runner is not None else 0
        # The class is in the key: two classes playing the same profiles play other viewers.
        number = next(_run.numbers[type(self)])
        self._seat = seats.seat(f"{type(self).__name__}:{worker}.{number}")
        self._clock = SystemClock()
        transport = self._transport = LocustTransport(
            self.client, timeout=self.timeout, retries=self.retries, lateness=_tally.lateness
        )
        # Locust counts and shows every failure; a dead endpoint is not a reason to stop.
        self._engine = Engine(
            self._clock, transport, follow_up=seats.follow_up, give_up=GiveUp(math.inf)
        )
        self._engine.add(self._seat.next_viewing(self._clock.now()))

    def watch(self) -> None:
        """Locust's task: send what the viewing has due now; when it is over, the seat's next
        viewing starts after its pause (held here until then, so a viewing that never began
        is not counted as one)."""
        engine = self._engine
        if engine is None:
            raise StopUser  # its seats could not be made: nothing to play (already logged)
        now = self._clock.now()
        if self._next is not None and (self._next.start_at or 0) <= now:
            engine.add(self._next)
            self._next = None
        engine.step()
        if self._transport.stopping:
            raise StopUser  # Locust stopped it mid-request: now the session ends (on_stop)
        # No viewing playing: the next one. (A downloaded one may still wait for its device to
        # be back online, to send its session whole: the viewer has moved on meanwhile.)
        if engine.active == 0 and self._next is None:
            self._next = self._seat.next_viewing(self._clock.now())

    def wait_time(self) -> float:
        """Locust's wait between tasks: the time until the player's next event."""
        if self._engine is None:
            return 0.0
        due = [self._engine.next_wakeup, None if self._next is None else self._next.start_at]
        wakes = [wake for wake in due if wake is not None]
        return 0.0 if not wakes else max(0.0, (min(wakes) - self._clock.now()) / 1000)

    def on_stop(self) -> None:
        engine: Engine | None = getattr(self, "_engine", None)
        if engine is None:
            return
        try:
            # A sessionEnd for the session in progress, as a closed player sends; bounded, so
            # a collector that no longer answers cannot hold up Locust's shutdown.
            with gevent.Timeout(WIND_DOWN_S, False):
                engine.stop()
        finally:
            _tally.add(engine.stats)


def _watch(user: _Viewers) -> None:
    user.watch()


class PlayerUser(_Viewers, HttpUser):
    """Simulated viewers on Locust's `HttpUser` (requests). Subclass it in a locustfile."""

    abstract = True
    tasks = [_watch]  # noqa: RUF012 - Locust's own attribute, a list by its API


class FastPlayerUser(_Viewers, FastHttpUser):
    """`PlayerUser` on Locust's `FastHttpUser` (geventhttpclient): about half the CPU per
    request (bench/locust_workers.py), for more viewers per worker."""

    abstract = True
    tasks = [_watch]  # noqa: RUF012

    def __init__(self, environment: Environment) -> None:
        # FastHttpUser makes its client with these: the class's `timeout` applies to both.
        self.network_timeout = self.connection_timeout = float(self.timeout)
        super().__init__(environment)


# --- one run's seats, per process -------------------------------------------------------------


class _Run:
    """This process's part in the current test (module state: Locust's users and event
    listeners have no other place to share it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seats: dict[type, Seats | None] = {}  # None: the class's settings cannot play
        self.numbers: dict[type, Iterator[int]] = {}  # the next user number, per class
        self.stopped: set[str] = set()  # on a master: workers that have stopped their users
        self.refused = False  # this process refused the test (its exit status is 2)
        # On a worker: the master has stopped the test. Its ramp may still be sending spawn
        # messages; users they bring start no viewing, until the master starts a new test.
        self.halted = False


_run = _Run()


class Tally:
    """What this process's playersim users did in the current test: their viewings' outcomes,
    requests and drops (added as each user stops), and how late requests went out against
    their timestamps (as they go). Logged when the test stops; `tally()` reads it sooner."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.requests = 0
        self.dropped_by: Counter[str] = Counter()  # bodies never sent, by reason
        self.lateness = Lateness()

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by.values())

    def reset(self) -> None:
        self.outcomes.clear()
        self.requests = 0
        self.dropped_by.clear()
        self.lateness.reset()

    def add(self, stats: RunStats) -> None:
        self.outcomes.update(stats.outcomes)
        self.requests += stats.requests
        self.dropped_by.update(stats.dropped_by)

    def report(self) -> str | None:
        viewings = sum(self.outcomes.values())
        if not viewings:
            return None
        outcomes = ", ".join(f"{n:,} {what}" for what, n in self.outcomes.most_common())
        p50 = Lateness.percentile(self.lateness.all, 0.5)
        p99 = Lateness.percentile(self.lateness.all, 0.99)
        late = "" if p50 is None else f"; sent p50 {p50:g} ms, p99 {p99:g} ms after their time"
        dropped = ", ".join(f"{n:,} {why}" for why, n in self.dropped_by.most_common())
        return (
            f"playersim: {viewings:,} viewings ({outcomes}); {self.requests:,} requests sent, "
            f"{self.dropped:,} not sent{f' ({dropped})' if dropped else ''}{late}"
        )


_tally = Tally()


def tally() -> Tally:
    """This process's tally of the current test."""
    return _tally


def _seats_of(cls: type[_Viewers], environment: Environment) -> Seats | None:
    """This run's seats for a user class (made as the test starts); None if its settings
    cannot be played (said once, then)."""
    if cls not in _run.seats:  # a user made without Locust's test_start (a test harness)
        _run.numbers[cls] = itertools.count()
        try:
            _run.seats[cls] = _build_seats(cls, environment)
        except ValueError as exc:
            logger.error("playersim: %s", exc)
            _run.seats[cls] = None
    return _run.seats[cls]


def _build_seats(cls: type[_Viewers], environment: Environment) -> Seats:
    profiles, weights, where = _mix(cls, environment)
    seed = getattr(environment.parsed_options, "playersim_seed", None) or cls.seed
    between = cls.between_viewings
    try:
        low, high = (float(bound) for bound in between)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
        raise ValueError(
            f"{cls.__name__}.between_viewings: two numbers of seconds, 0 <= low <= high, "
            f"got {between!r}"
        )
    if not isinstance(cls.retries, Retries):
        raise ValueError(
            f"{cls.__name__}.retries: a playersim.Retries (Retries(attempts=3), say), "
            f"got {cls.retries!r}"
        )
    timeout = cls.timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise ValueError(f"{cls.__name__}.timeout: a number of seconds above 0, got {timeout!r}")
    try:
        return Seats(profiles, weights, seed=seed, between_s=(low, high))
    except ValueError as exc:  # a profile given twice
        raise ValueError(f"{where}: {exc}") from None


def _check_host(environment: Environment, classes: list[type[_Viewers]]) -> None:
    """The host requests go to, where one is given: an absolute http(s) URL."""
    for cls in classes:
        host = environment.host or getattr(cls, "host", None)
        if host:
            try:
                check_base_url(host)
            except ValueError as exc:
                where = "--host" if environment.host else f"{cls.__name__}.host"
                raise ValueError(f"{where}: {exc}") from None


def _mix(cls: type[_Viewers], environment: Environment) -> tuple[list[Profile], list[float], str]:
    """The profiles and weights a user class plays (from the command line, else the class),
    and where they were given, for messages."""
    given = getattr(environment.parsed_options, "playersim_profiles", None)
    where = f"{cls.__name__}.profiles"
    pairs: list[tuple[str, float]]
    if given:
        where = "--playersim-profiles"
        items = [item.strip() for item in str(given).split(",") if item.strip()]
        if not items:
            raise ValueError(f"{where}: {given!r} names no profile")
    elif isinstance(cls.profiles, Mapping):
        items = [f"{name}:{weight}" for name, weight in cls.profiles.items()]
    elif isinstance(cls.profiles, str):
        raise ValueError(f"{where} must be a list or a mapping of profiles, not a string")
    else:
        items = [str(item) for item in cls.profiles]
    try:
        pairs = [parse_weighted(item) for item in items]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not pairs:
        pairs = [(name, 1.0) for name in bundled_profiles()]
    profiles: list[Profile] = []
    for name, _ in pairs:
        try:
            profiles.append(load_profile(name))
        except ProfileError as exc:
            raise ValueError(f"{where}: {exc}") from None
    weights = [weight for _, weight in pairs]
    if not any(weights):
        raise ValueError(f"{where}: every weight is 0: give at least one profile a weight")
    return profiles, weights, where


# --- Locust's events ----------------------------------------------------------------------------

# Seconds beyond the longest a request can take (its tries and back-offs) and the wind-down of
# `on_stop`, for a stopping user to finish, when Locust was given no stop timeout.
_STOP_GRACE_S = 5.0
_START_MESSAGE = "playersim-start"  # master to workers: a new test (before its spawn messages)
_STOP_MESSAGE = "playersim-stop"  # master to workers: stop your users now
_STOPPED_MESSAGE = "playersim-stopped"  # and back: done, every session ended
_ERROR_MESSAGE = "playersim-error"  # worker to master: this worker cannot play


def _stop_time(cls: type[_Viewers]) -> float:
    """The longest a user of `cls` can take to stop: its request in flight, with every try and
    back-off, then its sessionEnd (bounded by the wind-down)."""
    retries = cls.retries
    request_s = float(cls.timeout) * (retries.attempts + 1) + retries.cap_s * retries.attempts
    return request_s + WIND_DOWN_S + _STOP_GRACE_S


def _viewer_classes(environment: Environment) -> list[type[_Viewers]]:
    return [
        cls
        for cls in environment.user_classes
        if issubclass(cls, _Viewers) and not getattr(cls, "abstract", False)
    ]


def _add_options(parser: LocustArgumentParser, **_: Any) -> None:
    # On the parser itself, not a group of it: only its own add_argument puts an option in
    # the web UI's start form.
    parser.add_argument(
        "--playersim-profiles",
        metavar="NAME_OR_PATH[:WEIGHT],...",
        env_var="LOCUST_PLAYERSIM_PROFILES",
        default="",
        help="the profiles playersim's users play, comma-separated, each with an optional "
        "weight (default: the user class's `profiles`, or every bundled profile)",
    )
    parser.add_argument(
        "--playersim-seed",
        metavar="SEED",
        env_var="LOCUST_PLAYERSIM_SEED",
        default="",
        help="the run seed (default: the user class's `seed`, 1): same seed, same viewings",
    )


def _check(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    """Refuse bad settings before anything starts, with a message, not a traceback; give
    stopping users time to end their sessions; and, distributed, wire master and workers.
    (A worker checks what its own locustfile says; the master's options reach it later, and
    are checked when the test starts.)"""
    classes = _viewer_classes(environment)
    if not classes:
        return
    worker = isinstance(runner, WorkerRunner)
    try:
        for cls in classes:
            _build_seats(cls, environment)
        if not worker:
            _check_host(environment, classes)
    except ValueError as exc:
        logger.error("playersim: %s", exc)
        sys.exit(2)
    if not worker and not environment.stop_timeout:
        # Locust's default kills a user at once, even mid-request, and its sessionEnd could
        # overtake that request; given a stop timeout, it lets the request finish (a user that
        # is only waiting for its next event is still stopped at once).
        environment.stop_timeout = max(_stop_time(cls) for cls in classes)
    # Locust's EventHook.add_listener has no annotations.
    if isinstance(runner, MasterRunner):
        runner.register_message(_ERROR_MESSAGE, _worker_cannot_play)
        runner.register_message(_STOPPED_MESSAGE, _worker_stopped)
        environment.events.test_start.add_listener(_start_workers)  # type: ignore[no-untyped-call]
        environment.events.test_stopping.add_listener(_stop_workers_first)  # type: ignore[no-untyped-call]
    elif isinstance(runner, WorkerRunner):
        runner.register_message(_STOP_MESSAGE, _stop_this_worker)
        runner.register_message(_START_MESSAGE, _start_this_worker)
        environment.events.quitting.add_listener(_stop_worker_users_first)  # type: ignore[no-untyped-call]
    else:
        environment.events.quitting.add_listener(_stop_users_first)  # type: ignore[no-untyped-call]


def _fresh_run(environment: Environment, **_: Any) -> None:
    """Each test run starts its seats and user numbers afresh: the same seed gives the same
    viewings in every run of one Locust process (the web UI's Start, Stop, Start). Settings
    that reach this process only now (the web UI's form, the master's options on a worker)
    are checked here."""
    if _run.halted:
        return  # a spawn message still on its way as the master stopped: not a new test
    if _run.refused and environment.process_exit_code == 2:
        environment.process_exit_code = None  # a run refused earlier (the web UI's form) is over
    _run.reset()
    _tally.reset()
    classes = _viewer_classes(environment)
    try:
        for cls in classes:
            _run.numbers[cls] = itertools.count()
            _run.seats[cls] = _build_seats(cls, environment)
        if not isinstance(environment.runner, WorkerRunner):
            _check_host(environment, classes)
    except ValueError as exc:
        for cls in classes:
            _run.seats[cls] = None  # its users stop at their first task, with nothing sent
        _cannot_play(environment, str(exc))


def _cannot_play(environment: Environment, message: str) -> None:
    """Settings that cannot be played: say so, stop the test, and exit 2 in the end."""
    logger.error("playersim: %s", message)
    environment.process_exit_code = 2
    _run.refused = True
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(_ERROR_MESSAGE, {"message": message, "worker": runner.worker_index})
    elif runner is not None:
        gevent.spawn(_end_test, environment)


def _end_test(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    if getattr(environment.parsed_options, "headless", False):
        runner.quit()
    else:
        runner.stop()  # the web UI stays up, with the message in its log


def _worker_cannot_play(environment: Environment, msg: Any, **_: Any) -> None:
    """On the master: a worker could not make its seats (a profile file missing there)."""
    logger.error("playersim: worker %s: %s", msg.data["worker"], msg.data["message"])
    environment.process_exit_code = 2
    _run.refused = True
    gevent.spawn(_end_test, environment)


def _worker_stopped(environment: Environment, msg: Any, **_: Any) -> None:
    _run.stopped.add(msg.node_id)


def _start_workers(environment: Environment, **_: Any) -> None:
    """On a master, as a test starts (before its spawn messages): workers may play again."""
    runner = environment.runner
    assert runner is not None
    runner.send_message(_START_MESSAGE)


def _start_this_worker(environment: Environment, msg: Any, **_: Any) -> None:
    _run.halted = False


def _stop_this_worker(environment: Environment, msg: Any, **_: Any) -> None:
    """On a worker: stop every user now (each ends its session), then tell the master."""
    runner = environment.runner
    assert runner is not None
    _run.halted = True
    _stop_users(runner, float(environment.stop_timeout or 0))
    # Stopped already: Locust's own stop message, which may follow, need not wait again
    # before the worker is ready (a Start in the web UI would find no worker meanwhile). The
    # next test's spawn message sets the stop timeout again.
    environment.stop_timeout = 0
    runner.send_message(_STOPPED_MESSAGE)


def _stop_users(runner: Runner, stop_timeout: float) -> None:
    """Stop the runner's users, or, if it is stopping them already, wait until it has."""
    if runner.state not in (STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED):
        runner.stop()
        return
    deadline = time.monotonic() + stop_timeout + WIND_DOWN_S + 5
    while runner.state != STATE_STOPPED and time.monotonic() < deadline:
        gevent.sleep(0.1)


def _stop_worker_users_first(environment: Environment, **_: Any) -> None:
    """On a worker that quits by itself (Ctrl-C reaches every process of the terminal): stop
    its users, and let its stats reporter send the master their last requests and sessionEnds
    (Locust's own quit sends none). A worker the master told to quit has stopped already."""
    runner = environment.runner
    if runner is None or runner.state == STATE_STOPPED:
        return
    _stop_users(runner, float(environment.stop_timeout or 0))
    # What Locust's own quit message does: report now. (Its reporter would, within 3 s, but a
    # worker forked by --processes gets a second Ctrl-C from its parent after 3 s.)
    report_now = getattr(runner, "_send_stats", None)
    if callable(report_now):
        report_now()
    else:
        gevent.sleep(WORKER_REPORT_INTERVAL + 0.5)


def _stop_workers_first(environment: Environment, **_: Any) -> None:
    """On a master, as the test stops: have the workers stop their users, and wait for them
    and for their last figures.

    A master that quits (`-t` reached, Ctrl-C) tells its workers to quit and waits only half a
    second for their last report: the requests their users finish as they stop, and their
    sessionEnds, would be missing from its statistics and CSV files.
    """
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    # Locust says it is stopping only after this event: until then it would go on handing
    # out users (a ramp not finished, a worker gone), which would start sessions now.
    runner.update_state(STATE_STOPPING)
    _run.stopped.clear()
    runner.send_message(_STOP_MESSAGE)
    deadline = time.monotonic() + float(environment.stop_timeout or 0) + WIND_DOWN_S + 5
    waited = False
    while time.monotonic() < deadline:
        # Asked afresh each time: a worker that quits or goes missing is not waited for.
        present = {client.id for client in runner.clients.all if client.state != STATE_MISSING}
        if present <= _run.stopped:
            break
        waited = True
        gevent.sleep(0.1)
    if waited or _run.stopped:
        # Their figures come with their next report, and reach the CSV files at its next pass.
        gevent.sleep(WORKER_REPORT_INTERVAL + CSV_STATS_INTERVAL_SEC + 0.5)


def _stop_users_first(environment: Environment, **_: Any) -> None:
    """Without workers, as Locust quits: stop the users (each ends its session), and let the
    CSV writer, which writes once a second and not at the end, take their last requests."""
    runner = environment.runner
    if runner is not None and runner.user_count:
        runner.stop()
    if getattr(environment.parsed_options, "csv_prefix", None):
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.25)


def _report(**_: Any) -> None:
    report = _tally.report()
    if report is not None:
        logger.info(report)
        _tally.reset()  # said once: a worker's test can stop twice (its own stop, then quit)


events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_check)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_fresh_run)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_report)  # type: ignore[no-untyped-call]
