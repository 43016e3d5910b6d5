"""Replay: send a recording to an endpoint again, with its original pacing or as fast as it goes.

A recording (`playersim.transports.recording`) holds each request's path, session id and exact
body. Replay
sends the same bodies in the same order per session, to a new endpoint that hands out new
session ids: each recorded sid is mapped to the one the endpoint answers with, and each event
goes to its session's new events path. Sessions are independent, so each has its own queue and
one request in flight; a slow session never holds up another.

Pacing follows the bodies' own `ts`: the first request goes out at once and each later one when
the wall clock has moved as far as its `ts` has (divided by `speed`). With `speed=None`,
requests go out as fast as the endpoint answers.

Interrupted (the task cancelled, as by Ctrl-C), a replay winds down as `playersim run` does:
what is not yet sent is dropped, each session waits for its request in flight, and every
session open on the endpoint is sent a `sessionEnd` 1 ms after its last event, so none is left
for the endpoint's idle timeout; `RunStats.ending` says how many were ended.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import deque
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from playersim.clock import ManualClock, Pacer
from playersim.engines.delivery import GiveUp, Turns
from playersim.engines.engine import NO_ANSWER_TO_END, end_refused
from playersim.engines.realtime import CUT_SHORT
from playersim.engines.summary import GAVE_UP, NOT_OPEN, STOPPED, Ending, Lateness, RunStats
from playersim.errors import EndpointUnreachableError, PlayersimError, TransportError
from playersim.mca.api import (
    GONE_STATUSES,
    SESSIONS_PATH,
    Request,
    Response,
    events_path,
    sid_from_events_path,
)
from playersim.mca.spec import MAX_TS
from playersim.mca.wire import EventType
from playersim.transports.base import AsyncTransport, Transport

__all__ = ["RecordingError", "ReplayLine", "read_replay", "replay"]

# Why a request in flight when the replay ended (it gave up, or was interrupted) has no answer.
ABANDONED: Final = "no answer before the replay ended"
# Why a session may be open and was not ended: its sessionStart may have opened it.
NO_ANSWER_TO_START: Final = "its sessionStart got no answer"
# How long an interrupted replay waits for the requests in flight, then for its sessionEnds.
WIND_DOWN_S: Final = 10.0
_SESSION_END = frozenset({EventType.SESSION_END.value, EventType.SESSION_COMPLETE.value})


class RecordingError(PlayersimError):
    """A recording line replay cannot use: names the file, the line and what is wrong."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class ReplayLine:
    """One recorded request: which recorded session it belongs to, and its body."""

    session: str  # the recorded sid (or a stand-in for a sessionStart that got none)
    start: bool  # a sessionStart (POST /api/v1/sessions)
    body: dict[str, Any]

    @property
    def ts(self) -> int:
        return int(self.body["playerTime"]["ts"])


def read_replay(
    path: str | Path, *, skipped: list[RecordingError] | None = None
) -> Iterator[ReplayLine]:
    """The requests of a recording, checked line by line (RecordingError on the first bad one).

    With a `skipped` list, a line the recording's collector refused with a 4xx and that cannot
    be sent again (a malformed body, as `playersim serve` records from a hostile client) is
    left out and its error appended there, instead of ending the replay.
    """
    name = str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise RecordingError(name, 0, f"cannot read the file: {exc.strerror or exc}") from None
    with stream:
        unnamed = 0
        # Read as bytes and decoded line by line, so a bad byte is reported at its own line.
        for number, raw in enumerate(stream, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordingError(name, number, f"not UTF-8 text: {exc.reason}") from None
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RecordingError(name, number, f"not JSON: {exc.msg}") from None
            except RecursionError:
                raise RecordingError(name, number, "nested too deeply") from None
            try:
                checked = _checked(line, name, number, unnamed)
            except RecordingError as exc:
                if skipped is None or not _refused(line):
                    raise
                skipped.append(exc)
                continue
            yield checked
            unnamed += 1


def _refused(line: object) -> bool:
    """Whether a recorded line says its request was refused as bad (a 4xx)."""
    status = line.get("status") if isinstance(line, dict) else None
    return isinstance(status, int) and 400 <= status < 500


def _checked(line: object, name: str, number: int, serial: int) -> ReplayLine:
    if not isinstance(line, dict):
        raise RecordingError(name, number, "not a JSON object")
    request_path, body = line.get("path"), line.get("body")
    if not isinstance(body, dict):
        raise RecordingError(name, number, "body: missing or not a JSON object")
    player_time = body.get("playerTime")
    ts = player_time.get("ts") if isinstance(player_time, dict) else None
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise RecordingError(name, number, f"body.playerTime.ts: not an integer (got {ts!r})")
    if not 0 <= ts <= MAX_TS:
        raise RecordingError(
            name,
            number,
            f"body.playerTime.ts: {ts} is not an instant in epoch milliseconds (0 to {MAX_TS}, "
            "the end of the year 9999)",
        )
    session = line.get("session")
    if session is not None and not isinstance(session, str):
        raise RecordingError(name, number, f"session: not a string or null (got {session!r})")
    # As the collector reads a path: a trailing slash or a query still names the endpoint.
    if isinstance(request_path, str) and request_path.split("?", 1)[0].rstrip("/") == SESSIONS_PATH:
        # A sessionStart that got no sid still opens a session of its own on replay.
        key = session if isinstance(session, str) and session else f"unnamed:{serial}"
        return ReplayLine(key, True, body)
    if not isinstance(request_path, str) or (sid := sid_from_events_path(request_path)) is None:
        raise RecordingError(
            name, number, f"path: {request_path!r} is neither {SESSIONS_PATH} nor an events path"
        )
    return ReplayLine(sid, False, body)


@dataclass
class _Session:
    queue: deque[ReplayLine] = field(default_factory=deque)
    sid: str | None = None  # the new sid, once the endpoint has given one
    lost: bool = False  # its sessionStart was refused on replay: its events cannot go
    busy: bool = False
    sending: bool = False  # a request of it is out, not yet answered
    # The last body sent for the new sid (taken, or maybe taken: its answer was lost): a
    # wind-down sessionEnd goes after it.
    last: dict[str, Any] | None = None
    start_lost: bool = False  # its sessionStart's answer was lost: it may be open, unknown sid


# Requests one session may have waiting behind a slow answer before reading stops.
_MAX_QUEUED: Final = 64
# Over a blocking transport, lines read between two turns of the event loop.
_YIELD_EVERY: Final = 256


class _Replayer:
    def __init__(
        self,
        transport: Transport | AsyncTransport,
        clock: ManualClock | None,
        pacer: Pacer | None,
        *,
        in_flight: int | None = None,
        give_up: GiveUp | None = None,
        stats: RunStats | None = None,
        lateness: Lateness | None = None,
    ) -> None:
        self.transport = transport
        self.in_flight = in_flight
        self.is_async = inspect.iscoroutinefunction(getattr(transport, "send", None))
        self.clock = clock
        self.pacer = pacer
        self.stats = stats if stats is not None else RunStats()
        self.lateness = lateness if lateness is not None else Lateness()
        self.sessions: dict[str, _Session] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        # When to stop trying an endpoint that answers nothing: the rule `playersim run` uses.
        self.give_up = give_up if give_up is not None else GiveUp()
        self.failure: EndpointUnreachableError | None = None
        self.freed: asyncio.Future[None] | None = None  # settled as a session's queue is sent
        self.busy = 0  # sessions with requests queued or in flight
        # With an in-flight limit, that many workers take busy sessions in turn (as a plain
        # client loop does: no task per session); without one, each busy session has a task.
        self.turns: Turns[_Session] = Turns()
        self.stopping = False  # interrupted: no more requests but the sessionEnds
        self.answered: asyncio.Future[None] | None = None  # settled as a request is answered

    async def run(self, lines: Iterator[ReplayLine]) -> None:
        try:
            for line in lines:
                if self.failure is not None:
                    self.failure.stats = self.stats
                    raise self.failure
                if self.pacer is not None:
                    await self.pacer.wait_until(line.ts)
                if self.clock is not None and line.ts > self.clock.now():
                    self.clock.advance_to(line.ts)  # an in-memory collector's clock follows
                session = self.sessions.setdefault(line.session, _Session())
                while self.busy and self._full(session):
                    # As many sessions sending as allowed, or this one far behind: wait for
                    # answers rather than read the recording ahead into memory.
                    self.freed = asyncio.get_running_loop().create_future()
                    await self.freed
                session.queue.append(line)
                self.stats.generated += 1
                if not self.is_async and self.stats.generated % _YIELD_EVERY == 0:
                    # Sent inline, a fast replay would never let the loop act on a signal.
                    await asyncio.sleep(0)
                if not session.busy:
                    session.busy = True
                    self.busy += 1
                    if not self.is_async:
                        await self._drain(session)
                    elif self.in_flight is None:
                        self._start(self._drain(session))
                    else:
                        if not self.tasks:
                            for _ in range(self.in_flight):
                                self._start(self._worker())
                        self.turns.put(session)
            while self.busy and self.failure is None:
                self.freed = asyncio.get_running_loop().create_future()
                await self.freed
            if self.failure is not None:
                self.failure.stats = self.stats  # the accounting, for the summary
                raise self.failure
        except asyncio.CancelledError:
            await self.stop()
            raise
        finally:
            self.give_up.unwatch()
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            # Lines read and never sent (the replay gave up, or was interrupted): accounted for.
            left = sum(len(session.queue) for session in self.sessions.values())
            self.stats.drop(left, GAVE_UP if self.failure is not None else STOPPED)

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _worker(self) -> None:
        while True:
            await self._drain(await self.turns.take())

    def _sent(self) -> None:
        """A session's queue is sent: wake the reader if it waits, for a tenth of the places
        at once rather than one at a time (or for the last, at the end)."""
        self.busy -= 1
        freed = self.freed
        if freed is None or freed.done():
            return
        if self.in_flight is not None and 0 < self.busy > self.in_flight - self.in_flight // 10:
            return
        freed.set_result(None)

    def _full(self, session: _Session) -> bool:
        if session.busy:
            return len(session.queue) >= _MAX_QUEUED
        return self.in_flight is not None and self.busy >= self.in_flight

    async def _drain(self, session: _Session) -> None:
        try:
            # Once the replay has given up, what is queued stays there, counted as not sent.
            while session.queue and self.failure is None and not self.stopping:
                line = session.queue.popleft()
                if line.start:
                    session.sid, session.lost = None, False
                    request = Request(SESSIONS_PATH, line.body)
                elif session.sid is None:
                    self.stats.drop(1, NOT_OPEN)  # its session did not open on replay
                    continue
                else:
                    request = Request(events_path(session.sid), line.body)
                session.sending = True
                try:
                    response = await self._send(request, line, session)
                finally:
                    session.sending = False
                    self._answered()
                if line.start:
                    accepted = response is not None and response.accepted
                    session.sid = response.sid if accepted and response is not None else None
                elif response is not None and response.status in GONE_STATUSES:
                    session.sid = None  # the endpoint lost it: the rest cannot be delivered
                if session.sid is not None:
                    session.last = line.body
                # (A recorded body is what a client sent: its eventType may be anything.)
                ended = str(line.body.get("eventType")) in _SESSION_END
                if ended and not session.queue:
                    # Over: let it go, so a long recording's replay holds only open sessions.
                    self.sessions.pop(line.session, None)
        finally:
            session.busy = False
            self._sent()

    def _answered(self) -> None:
        if self.answered is not None and not self.answered.done():
            self.answered.set_result(None)

    async def stop(self, grace_s: float = WIND_DOWN_S) -> None:
        """Wind down an interrupted replay: send nothing more of the recording, wait (at most
        `grace_s` in all) for the requests in flight, then end each session left open on the
        endpoint with a `sessionEnd` and wait for their answers. Counted in `stats.ending`,
        also when a second interruption cuts the wind-down short."""
        self.stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        late: set[int] = set()  # sessions with a request still out when the wait ran out
        sends: dict[int, asyncio.Future[str | None]] = {}
        cut = False
        try:
            # (`asyncio.wait` with a timeout, never `asyncio.timeout`: this task is being
            # cancelled.)
            while any(s.sending for s in self.sessions.values()) and loop.time() < deadline:
                self.answered = loop.create_future()
                await asyncio.wait([self.answered], timeout=deadline - loop.time())
            late = {id(s) for s in self.sessions.values() if s.sending}
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            sends = {
                id(session): asyncio.ensure_future(self._end(session, _session_end(session.last)))
                for session in self.sessions.values()
                if id(session) not in late and _open(session) and session.last is not None
            }
            if sends:
                await asyncio.wait(sends.values(), timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:
            cut = True  # interrupted again: what is not ended yet stays open
            raise
        finally:
            for send in sends.values():
                send.cancel()
            unanswered = CUT_SHORT if cut else f"no answer within the {grace_s:g} s wind-down"
            self.stats.ending = self._ending(sends, late, unanswered)

    def _ending(
        self, sends: dict[int, asyncio.Future[str | None]], late: set[int], unanswered: str
    ) -> Ending:
        """What the wind-down did to each session that was, or may have been, open."""
        ending = Ending()
        for session in self.sessions.values():
            send = sends.get(id(session))
            if send is not None and send.done() and not send.cancelled():
                reason = send.result()
                if reason is None:
                    ending.ended += 1
                else:
                    ending.not_ended[reason] += 1
            elif send is not None or id(session) in late or session.sending:
                ending.not_ended[unanswered] += 1
            elif session.sid is None and session.start_lost:
                ending.not_ended[NO_ANSWER_TO_START] += 1
            elif _open(session):
                ending.not_ended[unanswered] += 1
        return ending

    async def _end(self, session: _Session, body: dict[str, Any]) -> str | None:
        """Send one wind-down sessionEnd; None once accepted, else why not (in the words
        `playersim run` uses)."""
        assert session.sid is not None
        try:
            response = await self._exchange(Request(events_path(session.sid), body))
        except TransportError:
            return NO_ANSWER_TO_END
        return None if response.accepted else end_refused(response.status)

    async def _exchange(self, request: Request) -> Response:
        """Send one request and count what became of it (an error raised as it came)."""
        try:
            if self.is_async:
                response: Response = await self.transport.send(request)  # type: ignore[misc]
            else:
                response = self.transport.send(request)  # type: ignore[assignment]
        except asyncio.CancelledError:
            self.stats.record(request, None, ABANDONED, maybe_delivered=True)
            raise
        except TransportError as exc:
            self.stats.record(request, None, exc.reason, maybe_delivered=exc.maybe_delivered)
            raise
        self.stats.record(request, response)
        return response

    async def _send(self, request: Request, line: ReplayLine, session: _Session) -> Response | None:
        if self.pacer is not None:
            self.lateness.sent(self.pacer, line.body)
        give_up = self.give_up
        give_up.sent()
        give_up.watch(self._give_up)
        try:
            response = await self._exchange(request)
        except asyncio.CancelledError:
            give_up.abandoned()
            raise
        except TransportError as exc:
            give_up.unanswered(exc)
            session.start_lost = line.start and exc.maybe_delivered
            if give_up.expired:
                self._give_up()
            return None
        give_up.answered()
        return response

    def _give_up(self) -> None:
        if self.failure is None:
            self.failure = self.give_up.error()
        if self.freed is not None and not self.freed.done():
            self.freed.set_result(None)


def _open(session: _Session) -> bool:
    """Whether a session is open on the endpoint, as far as its answers tell."""
    return (
        session.sid is not None
        and session.last is not None
        and str(session.last.get("eventType")) not in _SESSION_END
    )


def _session_end(last: dict[str, Any]) -> dict[str, Any]:
    """The sessionEnd that ends a session whose last event was `last`: at its playhead, 1 ms
    later (the session's events stay in order)."""
    player_time = last["playerTime"]
    return {
        "playerTime": {"playhead": player_time["playhead"], "ts": int(player_time["ts"]) + 1},
        "eventType": EventType.SESSION_END.value,
    }


async def replay(
    lines: Iterator[ReplayLine],
    transport: Transport | AsyncTransport,
    *,
    speed: float | None = 1.0,
    clock: ManualClock | None = None,
    in_flight: int | None = None,
    give_up: GiveUp | None = None,
    stats: RunStats | None = None,
    lateness: Lateness | None = None,
) -> tuple[RunStats, Lateness | None]:
    """Send recorded requests through `transport`; returns the accounting (and lateness).

    `speed` paces the requests by their `ts` (1: as recorded; None: as fast as possible).
    Over an asyncio transport each session sends from a task of its own, in order; at most
    `in_flight` sessions send at once (None: no limit but the pacing), and the recording is
    read no further ahead than that.
    `clock`, if given, is moved to each request's `ts` before it is sent: the clock of an
    in-memory collector, so its timeouts see the recording's own time.
    `give_up`: when to stop trying an endpoint that answers nothing (default: 30 s without an
    answer, as `playersim run`).
    `stats` and `lateness`: the accounting and the lateness to fill in (new ones if not
    given), so that a caller whose replay was interrupted still has them.
    """
    stats = stats if stats is not None else RunStats()
    first = next(lines, None)
    if first is None:
        return stats, None
    pacer = Pacer(first.ts, speed) if speed is not None else None
    if clock is not None and first.ts > clock.now():
        clock.advance_to(first.ts)
    replayer = _Replayer(
        transport,
        clock,
        pacer,
        in_flight=in_flight,
        give_up=give_up,
        stats=stats,
        lateness=lateness,
    )

    def chained() -> Iterator[ReplayLine]:
        yield first
        yield from lines

    try:
        await replayer.run(chained())
    finally:
        replayer.stats.sessions = replayer.stats.sent[EventType.SESSION_START.value]
    return replayer.stats, (replayer.lateness if pacer is not None else None)
