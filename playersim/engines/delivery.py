"""Delivery: one session's requests leave in order, one at a time, and only once they can.

A player produces bodies; an `Outbox` turns them into requests. Nothing but the sessionStart can
go out before its 201 names the session id, and the MCA back end orders events by arrival beyond
a small window, so each session has exactly one request in flight and a FIFO behind it
(MCA-SPEC.md sections 4 and 5). The outbox does no I/O itself.

`Delivery` is the one place requests go out: the virtual engine, the real-time engine and replay
all send a session's outbox through it, with its blocking driver (`drain`, for a `Transport`) or
its asyncio driver (`adrain`, for an `AsyncTransport`). Either way each request is counted sent,
sent, settled in its outbox, counted in the run's statistics, handed to the hooks that want
every settled request (the recording), and its answer told to whoever listens for the session
(the player). The rule for an endpoint that stops answering (`GiveUp`) is kept there too.

When a run stops, a session's unsent backlog goes and its sessionEnd goes right behind the
request in flight (`Outbox.cut`). When the endpoint stops answering altogether, every engine
and replay gives up by the same rule (`GiveUp`): so long without any answer.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar

from typing_extensions import TypeIs

from playersim.errors import EndpointUnreachableError, TransportError
from playersim.mca.api import DOWNLOADED, GONE_STATUSES, Request, Response
from playersim.mca.dialect import MCA, EventRequests
from playersim.mca.wire import EventType, WireBody, make_body
from playersim.transports.base import AsyncTransport, Transport

if TYPE_CHECKING:
    from playersim.clock import Pacer
    from playersim.engines.summary import Lateness, RunStats

__all__ = [
    "ABANDONED",
    "DEFAULT_GIVE_UP_S",
    "INTERRUPTED",
    "Delivery",
    "Dialect",
    "GiveUp",
    "Listener",
    "Outbox",
    "Senders",
    "Settled",
    "Turns",
    "end_refused",
    "is_async",
]

_SESSION_START: Final = EventType.SESSION_START.value
_SESSION_END: Final = EventType.SESSION_END.value
_ENDINGS: Final = frozenset({EventType.SESSION_END.value, EventType.SESSION_COMPLETE.value})
T = TypeVar("T")
# Why a request has no answer when a blocking send was cut short (Ctrl-C, a Locust user
# stopped), and when an asyncio one was cancelled as the run ended.
INTERRUPTED: Final = "interrupted"
ABANDONED: Final = "no answer before the run ended"
# Why a sessionEnd sent on stop did not end its session, when it got no answer at all.
NO_ANSWER_TO_END: Final = "its sessionEnd got no answer"


def end_refused(status: int) -> str:
    """Why a sessionEnd sent on stop that got `status` (not 204) did not end its session."""
    if status in GONE_STATUSES:
        # Closed already: by a timeout, or by a try of this very sessionEnd whose answer was
        # lost. Not open, then, though this request did not close it.
        return f"its session was closed already ({status})"
    return f"its sessionEnd got {status}"


# Seconds without any answer before a run gives up on its endpoint: longer than a collector
# takes to restart, or a load balancer to fail over, so that those are ridden out (sessions it
# lost come back with media.resume), and short enough that a dead endpoint ends a run promptly.
DEFAULT_GIVE_UP_S: Final = 30.0


class GiveUp:
    """The one rule for when a run stops trying its endpoint: `after_s` seconds of waiting,
    with requests out, and not one answer (of any status).

    Counted in time, not in requests: a collector that restarts in a few seconds fails a burst
    of requests, and is ridden out; one that is gone is given up on `after_s` after its last
    answer, however many retries each request was allowed. Only time spent waiting counts: a
    run with nothing to send (a quiet hour, a paced pause) is not waiting on anyone. Time is
    read from `now` (seconds, monotonic; `time.monotonic` unless told), at most once a request.

    >>> now = [0.0]
    >>> rule = GiveUp(30, now=lambda: now[0])
    >>> rule.sent(); now[0] = 20.0
    >>> rule.unanswered(TransportError("POST", "http://x", "refused")); rule.expired
    False
    >>> now[0] = 100.0  # nothing out meanwhile: nobody was waited for
    >>> rule.sent(); now[0] = 110.0
    >>> rule.unanswered(TransportError("POST", "http://x", "refused")); rule.expired
    True
    >>> print(rule.error())  # doctest: +ELLIPSIS
    gave up: no answer from the endpoint for 30 s (2 requests in a row got none; the last: ...)
    """

    def __init__(
        self, after_s: float = DEFAULT_GIVE_UP_S, *, now: Callable[[], float] | None = None
    ):
        if not after_s > 0:
            raise ValueError(f"give up after must be above 0 seconds, got {after_s}")
        self.after_s = after_s
        self.now = now or time.monotonic
        self._out = 0  # requests sent and not yet settled
        # Waiting since the last answer: seconds of it before the requests now out went out,
        # and since when these have been out (None: none is).
        self._waited = 0.0
        self._out_since: float | None = None
        self._in_a_row = 0  # requests in a row with no answer
        self._last: TransportError | None = None
        self._timer: asyncio.TimerHandle | None = None  # `watch`'s, while one is armed

    @property
    def never(self) -> bool:
        """Whether the rule never gives up (`after_s` is infinite)."""
        return math.isinf(self.after_s)

    def sent(self) -> None:
        """A request goes out."""
        if not self._out:
            self._out_since = self.now()
        self._out += 1

    def answered(self) -> None:
        """A request got an answer (any status): the endpoint is there; waiting starts over."""
        self._out -= 1
        self._in_a_row = 0
        self._waited = 0.0
        self._out_since = self.now() if self._out else None

    def unanswered(self, error: TransportError) -> None:
        """A request got no answer: the waiting goes on."""
        self._in_a_row += 1
        self._last = error
        self._settled()

    def abandoned(self) -> None:
        """A request was cut short (the run is ending): neither heard nor failed."""
        self._settled()

    def _settled(self) -> None:
        self._out -= 1
        if not self._out and self._out_since is not None:
            self._waited += self.now() - self._out_since
            self._out_since = None

    @property
    def waited(self) -> float:
        """Seconds spent waiting, with requests out, since the last answer."""
        out_since = self._out_since
        return self._waited + (0.0 if out_since is None else self.now() - out_since)

    @property
    def deadline(self) -> float | None:
        """When, on the `now` clock, the run gives up if nothing is heard by then (None: no
        request is out, so nothing is awaited)."""
        out_since = self._out_since
        return None if out_since is None else out_since + self.after_s - self._waited

    @property
    def expired(self) -> bool:
        """Whether `after_s` have been spent waiting without an answer."""
        return bool(self._out or self._in_a_row) and self.waited >= self.after_s

    def watch(self, on_expired: Callable[[], None]) -> None:
        """For asyncio code, after `sent()`: call `on_expired` once the waiting runs out,
        even while every request is still out (a timeout, or retries, that outlast it). One
        timer, on the running loop, armed again while answers come."""
        deadline = self.deadline
        if self._timer is None and deadline is not None and not self.never:
            # A delay, not a loop instant: `now` may be a clock of the caller's (a test's).
            delay = max(0.0, deadline - self.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._check, on_expired)

    def unwatch(self) -> None:
        """Disarm `watch`'s timer (the run is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self, on_expired: Callable[[], None]) -> None:
        self._timer = None
        if self.expired:
            on_expired()
        else:
            self.watch(on_expired)  # heard from meanwhile, or idle: watch again, if waiting

    def error(self) -> EndpointUnreachableError:
        """What a run that gives up says: the same words in every engine and in replay."""
        if self._in_a_row:
            many = f"{self._in_a_row:,} request{'s' if self._in_a_row != 1 else ''}"
            told = f"{many} in a row got none"
        else:
            # Every request still out, none failed yet: a black hole, or long retries.
            many = f"{self._out:,} request{'s' if self._out != 1 else ''}"
            told = f"{many} still out, none answered"
        last = f"; the last: {self._last}" if self._last is not None else ""
        return EndpointUnreachableError(
            f"gave up: no answer from the endpoint for {self.after_s:g} s ({told}{last})"
        )


class Outbox:
    """The ordered queue of one session's requests."""

    __slots__ = (
        "_batch",
        "_events",
        "_in_flight",
        "_opening",
        "_queue",
        "_starts",
        "dialect",
        "dropped",
        "last_sent",
        "offline",
        "released",
        "sid",
        "start_lost",
    )

    def __init__(self, dialect: Dialect = MCA) -> None:
        # How the session's requests travel: where they go, what the answers mean.
        self.dialect = dialect
        self.sid: str | None = None
        # The open session's event requests, made as its dialect says (None: no session open).
        self._events: EventRequests | None = None
        self._opening = False  # the request in flight opens a session
        # A list, not a deque: a deque is over 600 bytes even empty, and an outbox (one per
        # session in progress) is nearly always empty between wake-ups, or holds a few bodies.
        self._queue: list[WireBody] = []
        self._in_flight: Request | None = None
        self.dropped = 0  # bodies that could never be sent: their session did not open, or closed
        # The body of the last request handed out in the current session (None: none yet).
        self.last_sent: WireBody | None = None
        # Bodies (by id) that go where their eventType does not say: to the sessions path
        # (True) or to the events path (False). Only replay of a hostile recording needs it.
        self._starts: dict[int, bool] | None = None
        # A downloaded viewing's: its bodies wait, unsent, until the device is back online
        # (`released`), then go as one request per session (the dialect's `downloaded`).
        self.offline = False
        self.released = False
        self._batch = 0  # bodies the downloaded request in flight carries
        # The last sessionStart got no answer and may have arrived all the same: its session
        # may be open on the endpoint, under an id nobody heard.
        self.start_lost = False

    def push(self, bodies: list[WireBody]) -> None:
        self._queue.extend(bodies)

    def push_to(self, bodies: list[WireBody], *, start: bool) -> None:
        """Queue bodies to go to the sessions path (`start`) or the events path, whatever their
        eventType says: a recording's requests replayed as they were sent."""
        if self._starts is None:
            self._starts = {}
        self._starts.update((id(body), start) for body in bodies)
        self._queue.extend(bodies)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def in_flight(self) -> bool:
        """Whether a request is out, waiting for its answer."""
        return self._in_flight is not None

    @property
    def backlog(self) -> int:
        """Bodies waiting behind the request in flight (or to go, if none is out)."""
        return len(self._queue) - (self._in_flight is not None)

    def cut(self) -> tuple[int, WireBody | None]:
        """The run stops: drop every body not yet sent, and say what ends the session instead.

        Returns how many bodies were dropped, and a sessionEnd to queue if the session is open
        on the endpoint (or is being opened by the request in flight). It comes 1 ms after the
        last request handed out, at its playhead, so the session stays in order and the
        sessionEnd leaves right after the answer in flight.
        """
        keep = 1 if self._in_flight is not None else 0
        dropped = len(self._queue) - keep
        while len(self._queue) > keep:
            cut = self._queue.pop()
            if self._starts is not None:
                self._starts.pop(id(cut), None)
        last = self.last_sent
        if last is None or last["eventType"] in _ENDINGS:
            return dropped, None  # nothing of this session went out, or it is already over
        if self._in_flight is None and self.sid is None:
            return dropped, None  # its session was refused or lost: nothing to end
        player_time = last["playerTime"]
        playhead_ms = round(player_time["playhead"] * 1000)
        return dropped, make_body(EventType.SESSION_END, playhead_ms, player_time["ts"] + 1)

    def queued(self) -> list[WireBody]:
        """Every body waiting (the one in flight first, if any)."""
        return list(self._queue)

    def peek(self) -> WireBody | None:
        """The body at the head of the queue (in flight, or next to go), if any."""
        return self._queue[0] if self._queue else None

    def release(self) -> None:
        """A downloaded viewing's device is back online: its sessions may go."""
        self.released = True

    def next_request(self) -> Request | None:
        """The next request to send, or None if nothing may go out now."""
        if self._in_flight is not None or not self._queue:
            return None
        if self.offline:
            return self._next_downloaded()
        body = self._queue[0]
        event_type = body.get("eventType", "")
        if type(event_type) is not str:
            event_type = str(event_type)  # what `Request` itself would make of it
        start = event_type == _SESSION_START
        if self._starts is not None:
            # (Forgotten once the body goes out, or is dropped: an id may be reused after.)
            start = self._starts.get(id(body), start)
        if start:
            request = self.dialect.start(body, event_type)
        elif self._events is None:
            # Its session was refused or lost before this body was queued (a recording
            # replayed goes on reading it): it can never be delivered.
            self._drop_until_next_start()
            return self.next_request() if self._queue else None
        else:
            request = self._events(body, event_type)
        if self._starts is not None:
            self._starts.pop(id(body), None)
        self._opening = start
        self._in_flight = request
        self.last_sent = body
        return request

    def _next_downloaded(self) -> Request | None:
        """A downloaded viewing's next session, whole, once its device is back online."""
        if not self.released:
            return None
        queue = self._queue
        bodies = [queue[0]]
        for body in itertools.islice(queue, 1, None):
            if body.get("eventType") == _SESSION_START:
                break  # one session per request: a long pause's new session goes next
            bodies.append(body)
        request = self.dialect.downloaded(bodies)
        self._batch = len(bodies)
        self._in_flight = request
        self.last_sent = bodies[-1]
        return request

    def settle(
        self, request: Request, response: Response | None, *, maybe_delivered: bool = False
    ) -> None:
        """Record the answer to the request in flight (None: it got no answer, and
        `maybe_delivered` says whether it may have arrived all the same)."""
        assert request is self._in_flight, "settle() takes the request in flight"
        self._in_flight = None
        if self._opening:
            self.start_lost = response is None and maybe_delivered
        if self.offline:
            # The whole session went (or did not) in this one request: nothing follows it.
            del self._queue[: self._batch]
            self.sid = self.dialect.opened(response)
            return
        self._queue.pop(0)
        if self._opening:
            self.sid = sid = self.dialect.opened(response)
            if sid is None:
                self._events = None
                self._drop_until_next_start()
            else:
                self._events = self.dialect.events(sid)
        elif response is not None and response.status >= 400 and self.dialect.gone(response.status):
            # (An answer that succeeded never says the session is gone: spare the question.)
            self.sid = self._events = None
            self._drop_until_next_start()

    def _drop_until_next_start(self) -> None:
        # Events of a session that does not exist can never be delivered; a later sessionStart
        # (a resumed session) starts a fresh run of the queue.
        self.last_sent = None
        while self._queue and not self._starts_session(self._queue[0]):
            dropped = self._queue.pop(0)
            self.dropped += 1
            if self._starts is not None:
                self._starts.pop(id(dropped), None)  # (an id may be reused once it is gone)

    def _starts_session(self, body: WireBody) -> bool:
        if self._starts is not None and id(body) in self._starts:
            return self._starts[id(body)]
        return body.get("eventType") == _SESSION_START


class Turns(Generic[T]):
    """Busy sessions waiting for a sender, handed to long-lived worker tasks in turn.

    The way a plain client loop sends: a fixed set of workers each `take()` the next session and
    send its queue, rather than a task made for every session that becomes busy. `put()` wakes
    one waiting worker, if any.
    """

    __slots__ = ("_idle", "_ready")

    def __init__(self) -> None:
        self._ready: deque[T] = deque()
        self._idle: deque[asyncio.Future[None]] = deque()  # workers waiting for one

    def put(self, item: T) -> None:
        self._ready.append(item)
        while self._idle:
            idle = self._idle.popleft()
            if not idle.done():
                idle.set_result(None)
                break

    async def take(self) -> T:
        while not self._ready:
            idle: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle.append(idle)
            await idle
        return self._ready.popleft()

    def clear(self) -> None:
        """Forget what waits and who waits (the workers are being cancelled)."""
        self._ready.clear()
        self._idle.clear()


class Dialect(Protocol):
    """How a session's requests travel on the wire: the questions delivery asks, and all it
    knows of a wire format (`playersim.mca.dialect.MCA` answers them for the MCA)."""

    def start(self, body: WireBody, event_type: str = "") -> Request:
        """The request that opens a session."""
        ...

    def events(self, sid: str) -> EventRequests:
        """The maker of session `sid`'s event requests, asked once per session."""
        ...

    def is_start(self, request: Request) -> bool:
        """Whether `request` opens a session."""
        ...

    def opened(self, response: Response | None) -> str | None:
        """The session an answer to a start opened, or None."""
        ...

    def gone(self, status: int | None) -> bool:
        """Whether an answer to an event says its session no longer exists."""
        ...

    def downloaded(self, bodies: list[WireBody]) -> Request:
        """The request that carries a downloaded session whole (sessionStart first)."""
        ...


class Listener(Protocol):
    """Who hears how a session's requests fared: the player (a 404 re-opens its session, a
    refused sessionStart ends its viewing), or a replayed session."""

    def on_response(self, event_type: str, status: int | None, *, sid: str | None = None) -> None:
        """`status` None: the request got no answer."""


@dataclass(frozen=True, slots=True)
class Settled:
    """A request whose fate is known, as `Delivery` hands it to its hooks."""

    listener: Listener
    outbox: Outbox
    request: Request
    response: Response | None
    error: str | None  # why it has no answer (None: it has one)
    maybe_delivered: bool  # without an answer: it may have arrived all the same
    removed: int  # bodies the outbox let go in settling it (the request's own included)

    @property
    def sid(self) -> str | None:
        """The session the request belongs to: its path's, or the one its 201 names."""
        if (sid := self.request.sid) is not None:
            return sid
        return self.response.sid if self.response is not None else None


class Delivery:
    """Sends sessions' requests, one in flight per session, and settles each one the same way
    wherever it was sent from: the virtual engine, the real-time engine, replay.

    `drain` sends an outbox through a blocking `Transport` until nothing more may go; `adrain`
    does so through an `AsyncTransport`. Each request is counted sent (`give_up`), measured
    against the pacer if the run is paced (`lateness`), settled in its outbox, counted in
    `stats`, passed to every hook (`hooks`: the recording is one), and its answer told to the
    session's listener. A run's stop registers the sessionEnds it sends (`expect_end`): their
    answers are counted in `stats.ending`.

    When the endpoint has answered nothing for `give_up.after_s`, `drain` raises
    `EndpointUnreachableError`; `adrain` sets `failure`, calls `on_failure`, and sends nothing
    more (the asyncio scheduler decides what the run does next).
    """

    def __init__(
        self,
        stats: RunStats,
        give_up: GiveUp,
        *,
        pacer: Pacer | None = None,
        lateness: Lateness | None = None,
    ) -> None:
        self.stats = stats
        self.give_up = give_up
        # Paced runs measure how late each request goes out against its own instant.
        self.paced = (pacer, lateness) if pacer is not None and lateness is not None else None
        self.hooks: list[Callable[[Settled], None]] = []
        self.failure: EndpointUnreachableError | None = None
        self.on_failure: Callable[[], None] | None = None
        # Set to send nothing more (an interrupted replay: only its sessionEnds go, apart).
        self.halted = False
        # Why a request cancelled mid-send has no answer, in the words of whoever runs it.
        self.abandoned = ABANDONED
        # The sessionEnds a stop sent, by listener, until their answers come.
        self._ends: dict[Listener, Outbox] = {}

    # --- the drivers ---------------------------------------------------------------------------

    def drain(self, listener: Listener, outbox: Outbox, transport: Transport) -> None:
        """Send `outbox` through a blocking transport until nothing more may go out."""
        send = transport.send  # looked up once: this loop runs for every request
        next_request = outbox.next_request
        give_up = self.give_up
        paced = self.paced
        record = self.stats.record
        hooks = self.hooks
        while not self.halted and (request := next_request()) is not None:
            if paced is not None and request.event_type != DOWNLOADED:
                # (A downloaded session goes when its device is back online, not when due.)
                paced[1].sent(paced[0], request.event)
            give_up.sent()
            try:
                response = send(request)
            except TransportError as exc:
                give_up.unanswered(exc)
                self._settle(
                    listener, outbox, request, None, exc.reason, maybe_delivered=exc.maybe_delivered
                )
                if give_up.expired:
                    raise give_up.error() from exc
                continue
            except BaseException:
                # Cut short mid-send: Ctrl-C, or a Locust user stopped (its greenlet killed).
                # Whether it arrived is unknown: it is settled as unanswered, so the session
                # is not left with a request in flight for ever, and a stop can still end it.
                give_up.abandoned()
                self._settle(
                    listener, outbox, request, None, INTERRUPTED, maybe_delivered=True, ending=False
                )
                raise
            give_up.answered()
            if self._ends:
                self._settle(listener, outbox, request, response)
                continue
            # Nearly every request: `_settle`'s work, inline, for its most common case.
            if hooks:  # (the recording's)
                before = len(outbox)
                outbox.settle(request, response)
                record(request, response)
                settled = Settled(
                    listener, outbox, request, response, None, False, before - len(outbox)
                )
                for hook in hooks:
                    hook(settled)
            else:
                outbox.settle(request, response)
                record(request, response)
            if response.status != 204:  # a 204 changes nothing for the player: spare the call
                listener.on_response(request.event_type, response.status, sid=response.sid)

    async def adrain(self, listener: Listener, outbox: Outbox, transport: AsyncTransport) -> None:
        """Send `outbox` through an asyncio transport until nothing more may go out (or the
        run has given up on its endpoint)."""
        give_up = self.give_up
        paced = self.paced
        while (
            self.failure is None
            and not self.halted
            and (request := outbox.next_request()) is not None
        ):
            if paced is not None and request.event_type != DOWNLOADED:
                # (A downloaded session goes when its device is back online, not when due.)
                paced[1].sent(paced[0], request.event)
            give_up.sent()
            give_up.watch(self._expired)
            try:
                response = await transport.send(request)
            except asyncio.CancelledError:
                # The run ends with this request unanswered: it is counted as such.
                give_up.abandoned()
                self._settle(
                    listener,
                    outbox,
                    request,
                    None,
                    self.abandoned,
                    maybe_delivered=True,
                    tell=False,
                )
                raise
            except TransportError as exc:
                give_up.unanswered(exc)
                self._settle(
                    listener, outbox, request, None, exc.reason, maybe_delivered=exc.maybe_delivered
                )
                if give_up.expired:
                    self._expired()
                continue
            give_up.answered()
            self._settle(listener, outbox, request, response)

    async def exchange(self, request: Request, transport: Transport | AsyncTransport) -> Response:
        """Send one request outside any outbox (replay's wind-down sessionEnds) and count what
        became of it; a `TransportError` is raised as it came."""
        try:
            if is_async(transport):
                response = await transport.send(request)
            else:
                response = transport.send(request)
        except asyncio.CancelledError:
            self.stats.record(request, None, self.abandoned, maybe_delivered=True)
            raise
        except TransportError as exc:
            self.stats.record(request, None, exc.reason, maybe_delivered=exc.maybe_delivered)
            raise
        self.stats.record(request, response)
        return response

    def _expired(self) -> None:
        if self.failure is None:
            self.failure = self.give_up.error()
        if self.on_failure is not None:
            self.on_failure()

    def _settle(
        self,
        listener: Listener,
        outbox: Outbox,
        request: Request,
        response: Response | None,
        error: str | None = None,
        *,
        maybe_delivered: bool = False,
        tell: bool = True,
        ending: bool = True,
    ) -> None:
        before = len(outbox)
        outbox.settle(request, response, maybe_delivered=maybe_delivered)
        self.stats.record(request, response, error, maybe_delivered=maybe_delivered)
        if self.hooks:
            settled = Settled(
                listener, outbox, request, response, error, maybe_delivered, before - len(outbox)
            )
            for hook in self.hooks:
                hook(settled)
        if not tell:
            return
        if response is None:
            listener.on_response(request.event_type, None)
        elif response.status != 204:  # a 204 changes nothing for the player: spare the call
            listener.on_response(request.event_type, response.status, sid=response.sid)
        if ending and self._ends and request.event_type == _SESSION_END:
            self._ended(listener, response)

    # --- a stop's sessionEnds ------------------------------------------------------------------

    def expect_end(self, listener: Listener, outbox: Outbox) -> None:
        """A stop queued a sessionEnd for this session: count what its answer says."""
        self._ends[listener] = outbox

    def _ended(self, listener: Listener, response: Response | None) -> None:
        if self._ends.pop(listener, None) is None:
            return
        ending = self.stats.ending
        assert ending is not None, "a stop sessionEnd belongs to a stop"
        if response is not None and response.status == 204:
            ending.ended += 1
        elif response is None:
            ending.not_ended[NO_ANSWER_TO_END] += 1
        else:
            ending.not_ended[end_refused(response.status)] += 1

    def unended(self, reason: str) -> None:
        """The stop's sessionEnds that will not be answered now: their sessions stay open on
        the endpoint (`reason`), unless they never opened (a sessionStart refused)."""
        ending = self.stats.ending
        counts: Counter[str] = Counter()
        for outbox in self._ends.values():
            if outbox.sid is not None or outbox.in_flight or outbox.start_lost:
                counts[reason] += 1
        if ending is not None:
            ending.not_ended.update(counts)
        self._ends.clear()


def is_async(transport: Transport | AsyncTransport) -> TypeIs[AsyncTransport]:
    """Whether a transport is an asyncio one (sent to from tasks) rather than a blocking one.

    An asyncio transport says so by deriving from `AsyncTransport`; one whose `send` is a
    coroutine function and does not is refused with a TypeError saying so, rather than taken
    for a blocking one whose answers would be coroutines.
    """
    if isinstance(transport, AsyncTransport):
        return True
    if inspect.iscoroutinefunction(getattr(transport, "send", None)):
        raise TypeError(
            f"{type(transport).__name__}.send is a coroutine function: an asyncio transport "
            "derives from playersim.AsyncTransport (a blocking one from playersim.Transport)"
        )
    return False


class Senders(Generic[T]):
    """The asyncio tasks that send busy sessions' outboxes, for the real-time engine and replay.

    With `workers=None`, each busy session gets a task of its own (a paced run: few are busy at
    once, and none waits for another). With a number, that many long-lived workers take busy
    sessions in turn, as a plain client loop does, so no task is made per session (an unpaced
    run, or an in-flight limit). `drain` sends one session's outbox until it is empty.
    """

    __slots__ = ("_drain", "_tasks", "_turns", "_up", "workers")

    def __init__(
        self, drain: Callable[[T], Coroutine[Any, Any, None]], workers: int | None
    ) -> None:
        self._drain = drain
        self.workers = workers
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns: Turns[T] = Turns()  # busy sessions no worker has taken yet
        self._up = False

    def put(self, item: T) -> None:
        """A session has something to send and no sender: give it one."""
        if self.workers is None:
            self._spawn(self._drain(item))
        else:
            self.start()
            self._turns.put(item)

    def start(self) -> None:
        """The workers, if there are to be some and they are not running."""
        if self.workers is not None and not self._up:
            self._up = True
            for _ in range(self.workers):
                self._spawn(self._work())

    async def cancel(self) -> None:
        """Cancel every task and wait for them: what they had out is settled as abandoned."""
        tasks = list(self._tasks)
        self._up = False
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._turns.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        while True:
            await self._drain(await self._turns.take())
