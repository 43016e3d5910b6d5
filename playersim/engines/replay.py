"""Replay: send a recording to an endpoint again, with its original pacing or as fast as it goes.

A recording (`playersim.transports.recording`) holds each request's path, session id and exact
body. Replay
sends the same bodies in the same order per session, to a new endpoint that hands out new
session ids: each recorded sid is mapped to the one the endpoint answers with, and each event
goes to its session's new events path. Sessions are independent, so each has its own outbox and
one request in flight; a slow session never holds up another. Requests go out through the same
`Delivery` the engines use.

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
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

from playersim.clock import ManualClock, Pacer
from playersim.compression import CompressionError, RecordingFile
from playersim.edge.dialect import EdgeDialect
from playersim.edge.wire import (
    EDGE_EVENTS,
    EdgeWireError,
    read_downloaded,
    read_event,
)
from playersim.engines.delivery import (
    NO_ANSWER_TO_END,
    Delivery,
    Dialect,
    GiveUp,
    Outbox,
    Senders,
    Settled,
    end_refused,
    is_async,
)
from playersim.engines.realtime import CUT_SHORT
from playersim.engines.summary import GAVE_UP, NOT_OPEN, STOPPED, Ending, Lateness, RunStats
from playersim.errors import EndpointUnreachableError, PlayersimError, TransportError, WireError
from playersim.mca.api import (
    DOWNLOADED,
    DOWNLOADED_PATH,
    EDGE_PATH,
    SESSIONS_PATH,
    edge_event_of,
    sid_from_events_path,
)
from playersim.mca.dialect import MCA
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
_SESSION_START: Final = EventType.SESSION_START.value
_END: Final = EventType.SESSION_END.value


class RecordingError(PlayersimError):
    """A recording line replay cannot use: names the file, the line and what is wrong."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class ReplayLine:
    """One recorded request: which recorded session it belongs to, and its body (an MCA body:
    a Media Edge request is read back into the one it was made from)."""

    session: str  # the recorded sid (or a stand-in for a sessionStart that got none)
    start: bool  # a sessionStart (POST /api/v1/sessions)
    body: dict[str, Any]
    # Sent over the Media Edge API, to this datastream (None: over the MCA).
    config_id: str | None = None
    # A downloaded session: every event of it, in one request (`body` is the first).
    batch: tuple[dict[str, Any], ...] | None = None

    @property
    def ts(self) -> int:
        # A downloaded session went once it was over: it is due at its last event.
        last = self.body if self.batch is None else self.batch[-1]
        return int(last["playerTime"]["ts"])


def read_replay(
    path: str | Path, *, skipped: list[RecordingError] | None = None
) -> Iterator[ReplayLine]:
    """The requests of a recording, checked line by line (RecordingError on the first bad one).
    A compressed recording (gzip, Zstandard: told by its first bytes) is read as it is
    decompressed; one cut short or damaged gives its requests up to the damage, then a
    RecordingError naming the file and where.

    With a `skipped` list, a line the recording's collector refused with a 4xx and that cannot
    be sent again (a malformed body, as `playersim serve` records from a hostile client) is
    left out and its error appended there, instead of ending the replay.
    """
    name = str(path)
    try:
        stream = RecordingFile(path)
    except OSError as exc:
        raise RecordingError(name, 0, f"cannot read the file: {exc.strerror or exc}") from None
    except CompressionError as exc:
        raise RecordingError(name, 0, exc.reason) from None
    with stream:
        try:
            yield from _read_lines(stream, name, skipped)
        except CompressionError as exc:
            # (Cut short or damaged: the lines before it were read, and are sent.)
            raise RecordingError(name, 0, exc.reason) from None


def _read_lines(
    stream: RecordingFile, name: str, skipped: list[RecordingError] | None
) -> Iterator[ReplayLine]:
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
    """Whether a recorded line says its request was refused as bad (a 4xx, or Edge's 207)."""
    status = line.get("status") if isinstance(line, dict) else None
    # (207: a Media Edge sessionStart or downloaded session the contract refused.)
    return isinstance(status, int) and (400 <= status < 500 or status == 207)


def _checked(line: object, name: str, number: int, serial: int) -> ReplayLine:
    if not isinstance(line, dict):
        raise RecordingError(name, number, "not a JSON object")
    request_path, body = line.get("path"), line.get("body")
    session = line.get("session")
    if session is not None and not isinstance(session, str):
        raise RecordingError(name, number, f"session: not a string or null (got {session!r})")
    key = session if isinstance(session, str) and session else f"unnamed:{serial}"
    if isinstance(request_path, str) and request_path.startswith(EDGE_PATH):
        try:
            return _edge_line(request_path, body, key)
        except (EdgeWireError, WireError, ValueError) as exc:
            raise RecordingError(name, number, f"body: {exc}") from None
    bare = request_path.split("?", 1)[0].rstrip("/") if isinstance(request_path, str) else ""
    if bare == DOWNLOADED_PATH and isinstance(body, list) and body:
        bodies = tuple(_mca_checked(item, name, number) for item in body)
        return ReplayLine(key, True, bodies[0], batch=bodies)
    body = _mca_checked(body, name, number)
    # As the collector reads a path: a trailing slash or a query still names the endpoint.
    if bare == SESSIONS_PATH:
        # A sessionStart that got no sid still opens a session of its own on replay.
        return ReplayLine(key, True, body)
    if not isinstance(request_path, str) or (sid := sid_from_events_path(request_path)) is None:
        raise RecordingError(
            name, number, f"path: {request_path!r} is neither {SESSIONS_PATH} nor an events path"
        )
    return ReplayLine(sid, False, body)


def _edge_line(path: str, body: object, key: str) -> ReplayLine:
    """A recorded Media Edge request, read back into the MCA body (or session) it was made
    from: replayed over the Media Edge API, to the same datastream."""
    bare, _, query = path.partition("?")
    event = edge_event_of(path) or ""
    config_id = next(iter(parse_qs(query).get("configId") or []), None)
    if not config_id:
        raise ValueError(f"{path}: no configId (the datastream) to replay it to")
    if event == "downloaded":
        bodies = tuple(read_downloaded(body))
        return ReplayLine(key, True, bodies[0], config_id, bodies)
    if event not in EDGE_EVENTS:
        raise ValueError(f"{bare} is not a Media Edge endpoint")
    mca, _ = read_event(event, body)
    return ReplayLine(key, event == _SESSION_START, mca, config_id)


def _mca_checked(body: object, name: str, number: int) -> dict[str, Any]:
    """An MCA body as replay needs it: an object with an instant."""
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
    return body


class _Session:
    """A recorded session, replayed: its outbox (the new sid, its queue, its last body sent)."""

    __slots__ = ("busy", "key", "outbox", "start_lost")

    def __init__(self, key: str, dialect: Dialect = MCA) -> None:
        self.key = key  # the recorded sid
        self.outbox = Outbox(dialect)
        self.busy = False  # its outbox is being sent, or waits for a sender
        self.start_lost = False  # its sessionStart's answer was lost: it may be open, unknown sid

    def on_response(self, event_type: str, status: int | None, *, sid: str | None = None) -> None:
        """Nothing to do: its outbox keeps the new sid, and drops what cannot go."""

    @property
    def open(self) -> bool:
        """Whether it is open on the endpoint, as far as its answers tell."""
        last = self.outbox.last_sent
        return (
            self.outbox.sid is not None
            and not self.outbox.offline  # a downloaded session went whole, ended
            and last is not None
            and str(last.get("eventType")) not in _SESSION_END
        )


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
        self.clock = clock
        self.pacer = pacer
        self.stats = stats if stats is not None else RunStats()
        self.lateness = lateness if lateness is not None else Lateness()
        self.sessions: dict[str, _Session] = {}
        # When to stop trying an endpoint that answers nothing: the rule `playersim run` uses.
        self.give_up = give_up if give_up is not None else GiveUp()
        self.delivery = Delivery(self.stats, self.give_up, pacer=pacer, lateness=self.lateness)
        self.delivery.abandoned = ABANDONED
        self.delivery.hooks.append(self._settled)
        self.delivery.on_failure = self._give_up
        self.freed: asyncio.Future[None] | None = None  # settled as a session's queue is sent
        self.busy = 0  # sessions with requests queued or in flight
        # With an in-flight limit, that many workers take busy sessions in turn (as a plain
        # client loop does: no task per session); without one, each busy session has a task.
        self.senders: Senders[_Session] = Senders(self._drain, in_flight)
        self.stopping = False  # interrupted: no more requests but the sessionEnds
        self.answered: asyncio.Future[None] | None = None  # settled as a request is answered

    @property
    def failure(self) -> EndpointUnreachableError | None:
        return self.delivery.failure

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
                session = self.sessions.get(line.session)
                if session is None:
                    dialect = MCA if line.config_id is None else EdgeDialect(line.config_id)
                    session = self.sessions[line.session] = _Session(line.session, dialect)
                while self.busy and self._full(session):
                    # As many sessions sending as allowed, or this one far behind: wait for
                    # answers rather than read the recording ahead into memory.
                    self.freed = asyncio.get_running_loop().create_future()
                    await self.freed
                if line.batch is not None:
                    # A downloaded session: whole, in one request, as it was sent.
                    session.outbox.offline = True
                    session.outbox.release()
                    session.outbox.push(list(line.batch))
                elif line.start == (line.body.get("eventType") == _SESSION_START):
                    session.outbox.push([line.body])
                else:
                    # (A recorded body is what a client sent: its eventType may be anything.)
                    # It goes where it was sent, and is refused again there, as it was.
                    session.outbox.push_to([line.body], start=line.start)
                self.stats.generated += 1 if line.batch is None else len(line.batch)
                blocking = not is_async(self.transport)
                if blocking and self.stats.generated % _YIELD_EVERY == 0:
                    # Sent inline, a fast replay would never let the loop act on a signal.
                    await asyncio.sleep(0)
                if not session.busy:
                    await self._hand_over(session, blocking=blocking)
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
            await self.senders.cancel()
            # Lines read and never sent (the replay gave up, or was interrupted): accounted for.
            left = sum(len(session.outbox) for session in self.sessions.values())
            self.stats.drop(left, GAVE_UP if self.failure is not None else STOPPED)
            self.stats.drop(sum(s.outbox.dropped for s in self.sessions.values()), NOT_OPEN)

    async def _hand_over(self, session: _Session, *, blocking: bool) -> None:
        """A session with something to send and no sender: sent now (a blocking transport), by
        a task of its own, or by the next free worker (an in-flight limit)."""
        session.busy = True
        self.busy += 1
        if blocking:
            await self._drain(session)
        else:
            self.senders.put(session)

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
            return session.outbox.backlog >= _MAX_QUEUED
        return self.in_flight is not None and self.busy >= self.in_flight

    async def _drain(self, session: _Session) -> None:
        """Send a session's outbox through the run's `Delivery` until it is empty (or the
        replay stops or gives up: what is queued then stays there, counted as not sent)."""
        try:
            if self.stopping or self.failure is not None:
                return
            transport = self.transport
            if is_async(transport):
                await self.delivery.adrain(session, session.outbox, transport)
            else:
                try:
                    self.delivery.drain(session, session.outbox, transport)
                except EndpointUnreachableError as exc:
                    self.delivery.failure = exc
                    self._give_up()
        finally:
            session.busy = False
            self._sent()

    def _settled(self, settled: Settled) -> None:
        """Every replayed request, once its fate is known."""
        session = settled.listener
        assert isinstance(session, _Session)
        request = settled.request
        if settled.response is None and session.outbox.dialect.is_start(request):
            session.start_lost = settled.maybe_delivered
        if self.stopping:
            # Interrupted: nothing more of the recording goes; what waits is counted.
            self.delivery.halted = True
        # (A recorded body is what a client sent: its eventType may be anything.)
        cancelled = settled.error == self.delivery.abandoned  # still out when the run ended
        over = request.event_type in _SESSION_END or request.event_type == DOWNLOADED
        if over and not len(session.outbox) and not cancelled:
            # Over: let it go, so a long recording's replay holds only open sessions.
            self.stats.drop(session.outbox.dropped, NOT_OPEN)
            session.outbox.dropped = 0
            self.sessions.pop(session.key, None)
        if self.answered is not None and not self.answered.done():
            self.answered.set_result(None)

    async def stop(self, grace_s: float = WIND_DOWN_S) -> None:
        """Wind down an interrupted replay: send nothing more of the recording, wait (at most
        `grace_s` in all) for the requests in flight, then end each session left open on the
        endpoint with a `sessionEnd` and wait for their answers. Counted in `stats.ending`,
        also when a second interruption cuts the wind-down short."""
        self.stopping = self.delivery.halted = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        late: set[int] = set()  # sessions with a request still out when the wait ran out
        sends: dict[int, asyncio.Future[str | None]] = {}
        cut = False
        try:
            # (`asyncio.wait` with a timeout, never `asyncio.timeout`: this task is being
            # cancelled.)
            while (
                any(s.outbox.in_flight for s in self.sessions.values()) and loop.time() < deadline
            ):
                self.answered = loop.create_future()
                await asyncio.wait([self.answered], timeout=deadline - loop.time())
            late = {id(s) for s in self.sessions.values() if s.outbox.in_flight}
            await self.senders.cancel()
            sends = {
                id(session): asyncio.ensure_future(self._end(session))
                for session in self.sessions.values()
                if id(session) not in late and session.open
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
            elif send is not None or id(session) in late or session.outbox.in_flight:
                ending.not_ended[unanswered] += 1
            elif session.outbox.sid is None and session.start_lost:
                ending.not_ended[NO_ANSWER_TO_START] += 1
            elif session.open:
                ending.not_ended[unanswered] += 1
        return ending

    async def _end(self, session: _Session) -> str | None:
        """Send one wind-down sessionEnd; None once accepted, else why not (in the words
        `playersim run` uses)."""
        sid, last = session.outbox.sid, session.outbox.last_sent
        assert sid is not None
        assert last is not None
        request = session.outbox.dialect.events(sid)(_session_end(last), _END)
        try:
            response = await self.delivery.exchange(request, self.transport)
        except TransportError:
            return NO_ANSWER_TO_END
        return None if response.accepted else end_refused(response.status)

    def _give_up(self) -> None:
        if self.freed is not None and not self.freed.done():
            self.freed.set_result(None)


def _session_end(last: dict[str, Any]) -> dict[str, Any]:
    """The sessionEnd that ends a session whose last event was `last`: at its playhead, 1 ms
    later (the session's events stay in order)."""
    player_time = last["playerTime"]
    return {
        "playerTime": {"playhead": player_time["playhead"], "ts": int(player_time["ts"]) + 1},
        "eventType": _END,
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
