"""Scale out on Locust: simulated viewers as Locust users, their MCA requests in Locust's stats.

`pip install "playersim[locust]"`, then a locustfile as small as::

    from playersim.contrib.locust import PlayerUser

    class Viewers(PlayerUser):
        profiles = {"vod-episode": 3, "live-news": 1}

and `locust -f locustfile.py --host http://127.0.0.1:8080 --headless -u 100 -r 10 -t 5m`, or
the same with `--master` and `--worker` processes (see the README).

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
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import gevent
from locust import HttpUser, events
from locust.argument_parser import LocustArgumentParser
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.exception import StopUser

from playersim.clock import SleepingClock, SystemClock
from playersim.engine import Engine
from playersim.errors import ProfileError, TransportError
from playersim.http_transport import (
    DEFAULT_TIMEOUT,
    HEADERS,
    NO_RETRIES,
    Retries,
    RetryingTransport,
    answer_of,
    body_bytes,
)
from playersim.profiles import Profile, bundled_profiles, load_profile, parse_weighted
from playersim.realtime import WIND_DOWN_S
from playersim.summary import RunStats
from playersim.transport import Request, Response
from playersim.viewings import Seat, Seats

__all__ = ["FastPlayerUser", "LocustTransport", "PlayerUser"]

logger = logging.getLogger("playersim")

# A session id in an error message: one failure row per kind of error, not one per session.
_SID = re.compile(r"\b[0-9a-f]{64}\b")


class LocustTransport(RetryingTransport):
    """A playersim `Transport` over a Locust user's client (`HttpUser`'s or `FastHttpUser`'s).

    Each request is reported to Locust under its event type. An answer the MCA accepts (204, or
    201 with a session id) is a success; any other is a failure carrying its status and the
    error's `message`. A request with no answer is Locust's own failure, and `TransportError`
    for the engine. With `retries`, each try is a request of its own in Locust's statistics.
    """

    def __init__(
        self,
        client: Any,  # HttpSession or FastHttpSession: both post(path, data=, name=, ...)
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self.client = client
        # requests (under HttpUser) waits for ever without a timeout; FastHttpUser has its own
        # (`network_timeout`), set by `FastPlayerUser`.
        self._options = {"timeout": timeout} if isinstance(client, HttpSession) else {}

    def _post(self, request: Request) -> Response:
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
                text = (answer.text or "") if status >= 400 else ""
                response = answer_of(status, location, text, _phrase(status))
                if response.accepted:
                    answer.success()
                else:
                    answer.failure(_failure(response))
            error = getattr(answer, "error", None)
        if response is None:
            target = f"{getattr(self.client, 'base_url', '')}{request.path}"
            raise TransportError("POST", target, str(error) or "no answer")
        return response


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
    _engine: Engine
    _seat: Seat

    def on_start(self) -> None:
        seats = _seats_of(type(self), self.environment)
        if seats is None:
            raise StopUser  # the reason is logged once, by _seats_of
        runner = self.environment.runner
        worker = getattr(runner, "worker_index", 0) if runner is not None else 0
        self._seat = seats.seat(f"{max(worker, 0)}.{next(_numbers[type(self)])}")
        self._clock = SystemClock()
        transport = LocustTransport(self.client, timeout=self.timeout, retries=self.retries)
        # Locust counts and shows every failure; a dead endpoint is not a reason to stop.
        self._engine = Engine(
            self._clock, transport, follow_up=seats.follow_up, give_up_after=sys.maxsize
        )
        self._engine.add(self._seat.next_viewing(self._clock.now()))

    def watch(self) -> None:
        """Locust's task: send what the viewing has due now, and queue the next viewing when
        this one is over."""
        engine = self._engine
        engine.step()
        if engine.next_wakeup is None:
            engine.add(self._seat.next_viewing(self._clock.now()))

    def wait_time(self) -> float:
        """Locust's wait between tasks: the time until the player's next event."""
        wake = self._engine.next_wakeup
        return 0.0 if wake is None else max(0.0, (wake - self._clock.now()) / 1000)

    def on_stop(self) -> None:
        engine: Engine | None = getattr(self, "_engine", None)
        if engine is None:
            return
        # A sessionEnd for the session in progress, as a closed player sends; bounded, so a
        # collector that no longer answers cannot hold up Locust's shutdown.
        with gevent.Timeout(WIND_DOWN_S, False):
            engine.stop()
        _tally.add(engine.stats)


def _watch(user: _Viewers) -> None:
    user.watch()


class PlayerUser(_Viewers, HttpUser):
    """Simulated viewers on Locust's `HttpUser` (requests). Subclass it in a locustfile."""

    abstract = True
    tasks = [_watch]  # noqa: RUF012 - Locust's own attribute, a list by its API


class FastPlayerUser(_Viewers, FastHttpUser):
    """`PlayerUser` on Locust's `FastHttpUser` (geventhttpclient): several times the requests
    per second of a worker, for many viewers per worker."""

    abstract = True
    tasks = [_watch]  # noqa: RUF012
    network_timeout = DEFAULT_TIMEOUT
    connection_timeout = DEFAULT_TIMEOUT


# --- one run's seats, per process -------------------------------------------------------------

_seats: dict[type, Seats | None] = {}
_numbers: dict[type, Iterator[int]] = {}


class _Tally:
    """What this process's users did, logged when the test stops."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.requests = 0
        self.dropped = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def add(self, stats: RunStats) -> None:
        self.outcomes.update(stats.outcomes)
        self.requests += stats.requests
        self.dropped += stats.dropped

    def report(self) -> str | None:
        viewings = sum(self.outcomes.values())
        if not viewings:
            return None
        outcomes = ", ".join(f"{n:,} {what}" for what, n in self.outcomes.most_common())
        return (
            f"playersim: {viewings:,} viewings ({outcomes}); {self.requests:,} requests sent, "
            f"{self.dropped:,} dropped (their session lost)"
        )


_tally = _Tally()


def _seats_of(cls: type[_Viewers], environment: Environment) -> Seats | None:
    """This run's seats for a user class (built at its first user); None, logged once, if the
    profiles or the seed are wrong."""
    if cls not in _seats:
        _numbers[cls] = itertools.count()
        try:
            _seats[cls] = _build_seats(cls, environment)
        except ValueError as exc:
            logger.error("playersim: %s", exc)
            _seats[cls] = None
    return _seats[cls]


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
    try:
        return Seats(profiles, weights, seed=seed, between_s=(low, high))
    except ValueError as exc:  # a profile given twice
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


def _add_options(parser: LocustArgumentParser, **_: Any) -> None:
    group = parser.add_argument_group("playersim")
    group.add_argument(
        "--playersim-profiles",
        metavar="NAME_OR_PATH[:WEIGHT],...",
        env_var="LOCUST_PLAYERSIM_PROFILES",
        default="",
        help="the profiles playersim's users play, comma-separated, each with an optional "
        "weight (default: the user class's `profiles`, or every bundled profile)",
    )
    group.add_argument(
        "--playersim-seed",
        metavar="SEED",
        env_var="LOCUST_PLAYERSIM_SEED",
        default="",
        help="the run seed (default: the user class's `seed`, 1): same seed, same viewings",
    )


def _check(environment: Environment, **_: Any) -> None:
    """Refuse bad profiles and seeds before anything starts, with a message, not a traceback.
    (A worker checks what its own command line says; the master's options reach it later, and
    are checked again when the test starts.)"""
    for cls in environment.user_classes:
        if issubclass(cls, _Viewers) and not getattr(cls, "abstract", False):
            try:
                _build_seats(cls, environment)
            except ValueError as exc:
                logger.error("playersim: %s", exc)
                sys.exit(2)


def _fresh_run(**_: Any) -> None:
    """Each test run starts its seats and user numbers afresh: the same seed gives the same
    viewings in every run of one Locust process (the web UI's Start, Stop, Start)."""
    _seats.clear()
    _numbers.clear()
    _tally.reset()


def _report(**_: Any) -> None:
    report = _tally.report()
    if report is not None:
        logger.info(report)


# Locust's EventHook.add_listener has no annotations.
events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_check)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_fresh_run)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_report)  # type: ignore[no-untyped-call]
