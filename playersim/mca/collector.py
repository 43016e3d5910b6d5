"""The collector: judges MCA requests exactly as MCA-SPEC.md says, and remembers what it accepted.

It is the other half of the wire model: the in-memory transport hands it requests directly, and
the HTTP server (later) puts it behind a socket. It answers like the API:

- `201` with `Location: /api/v1/sessions/<64 hex>` for a valid sessionStart;
- `204` for a valid event of an open session;
- `400` with `{"message": ...}` naming what failed, for a body the API would refuse;
- `404` for an unknown session id (or path), `405` for a method other than POST;
- `410` for a session closed by `sessionEnd`, by 10 minutes without an event, or by 30 minutes
  without a playhead change, all measured on the collector's own clock.

It keeps every session's accepted events for inspection, and a conformance report of the
session-level rules the real API cannot check (`playersim.mca.conformance`).

A long-lived collector (`playersim serve`) holds bounded state: open sessions, and closed ones
for `retention_s`; figures (`counts()`) are kept as requests arrive, so reading them costs the
same however many sessions came. Sessions are kept in the order of their last event and of
their last playhead change, so the ones whose timeouts ran out are found at the front, without
looking at the others.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic_core import PydanticSerializationError

from playersim.clock import Clock
from playersim.errors import WireError
from playersim.mca.api import (
    DOWNLOADED,
    DOWNLOADED_PATH,
    SESSIONS_PATH,
    Response,
    events_path,
    sid_from_events_path,
)
from playersim.mca.conformance import Problem, SessionChecker
from playersim.mca.spec import IDLE_TIMEOUT_MS, STALL_TIMEOUT_MS
from playersim.mca.wire import (
    BodyModel,
    EventType,
    SessionStart,
    check_unicode,
    decode_json,
    params_of,
    parse_body,
    plain_ping,
    validate_body,
)

__all__ = ["CollectedEvent", "CollectedSession", "Collector", "Counts"]

# How often the collector looks for sessions whose timeouts ran out (and, with a retention, for
# closed ones to forget), in its clock's ms: the work is only at the front of two queues.
_SWEEP_MS = 1_000
# Problems of forgotten sessions kept as examples (their counts are all kept, by rule).
FORGOTTEN_PROBLEMS_KEPT: Final = 1_000

_SESSION_START: Final = EventType.SESSION_START.value
_SESSION_COMPLETE: Final = EventType.SESSION_COMPLETE.value
_SESSION_END: Final = EventType.SESSION_END.value
_PING: Final = EventType.PING.value
# Responses are immutable, and nearly every answer is this one.
_NO_CONTENT: Final = Response(204)


@dataclass(frozen=True, slots=True)
class CollectedEvent:
    """One accepted request: its validated body and the instant it arrived (collector clock)."""

    body: BodyModel
    received_at: int

    @property
    def event_type(self) -> str:
        return self.body.event_type

    @property
    def playhead(self) -> float:
        return self.body.player_time.playhead

    @property
    def ts(self) -> int:
        return self.body.player_time.ts

    @property
    def params(self) -> dict[str, Any]:
        """The event's params as sent on the wire (dotted keys), or {}."""
        return params_of(self.body)


class CollectedSession:
    """A session as the collector saw it: its accepted events, its state and its problems."""

    # Slots, not a __dict__: a collector keeps one for every session open or lately closed.
    __slots__ = (
        "_checker",
        "_clock",
        "_idle_ms",
        "_keep",
        "_last_event_at",
        "_last_playhead",
        "_on_close",
        "_playhead_changed_at",
        "_start",
        "close_reason",
        "closed_at",
        "completed",
        "downloaded",
        "event_count",
        "events",
        "opened_at",
        "sid",
    )

    def __init__(
        self,
        sid: str,
        clock: Clock,
        opened_at: int,
        *,
        keep_events: bool,
        check: bool = True,
        idle_timeout_ms: int = IDLE_TIMEOUT_MS,
        on_problem: Callable[[Problem], None] | None = None,
        whole_seconds: bool = False,
    ) -> None:
        self.sid = sid
        self.opened_at = opened_at
        self.closed_at: int | None = None
        self.close_reason: str | None = None  # "sessionEnd", "idle timeout", "playhead stalled"
        self.events: list[CollectedEvent] = []  # empty when the collector keeps no events
        self.event_count = 0
        self.completed = False  # sessionComplete was received
        self.downloaded = False  # it came whole, in one request, after the viewing
        self._clock = clock
        self._keep = keep_events
        self._start: SessionStart | None = None
        self._checker = SessionChecker(on_problem, whole_seconds=whole_seconds) if check else None
        self._last_event_at = opened_at
        self._last_playhead: float = -1.0
        self._playhead_changed_at = opened_at
        self._idle_ms = idle_timeout_ms
        # The collector's, told when the session closes (however that is found out).
        self._on_close: Callable[[CollectedSession], None] | None = None

    @property
    def open(self) -> bool:
        """Whether the session still takes events, as of the collector's clock now."""
        self._expire(self._clock.now())
        return self.closed_at is None

    @property
    def start(self) -> SessionStart:
        """The sessionStart body that opened the session (kept with its events: a collector
        made with `keep_events=False` keeps no bodies)."""
        if self._start is None:
            raise LookupError(
                f"session {self.sid} kept no sessionStart body: its collector keeps no events "
                "(keep_events=False)"
            )
        return self._start

    @property
    def event_types(self) -> list[str]:
        return [event.event_type for event in self.events]

    @property
    def problems(self) -> list[Problem]:
        """Conformance problems in what was received so far (MCA-SPEC.md sections 4 and 5)."""
        self._expire(self._clock.now())
        return list(self._checker.problems) if self._checker is not None else []

    def _accept(self, body: BodyModel, now: int) -> bool:
        """Take an event; whether it moved the playhead."""
        if self._keep:
            # (Without events, no body is kept: a sessionStart model is several KB, and a long
            # run's collector holds every session open or lately closed.)
            if self._start is None and isinstance(body, SessionStart):
                self._start = body
            self.events.append(CollectedEvent(body, now))
        self.event_count += 1
        self.completed = self.completed or body.event_type == _SESSION_COMPLETE
        if self._checker is not None:
            self._checker.feed(body)
        self._last_event_at = now
        playhead = body.player_time.playhead
        if playhead != self._last_playhead:
            self._last_playhead = playhead
            self._playhead_changed_at = now
            return True
        return False

    def _accept_ping(self, playhead: float, ts: int, now: int) -> bool:
        """`_accept` of a plain ping (`plain_ping`), by its playhead and ts, in a session that
        keeps no events: what `_accept` does with one, without its body."""
        self.event_count += 1
        if self._checker is not None:
            self._checker.feed_ping(playhead, ts)
        self._last_event_at = now
        if playhead != self._last_playhead:
            self._last_playhead = playhead
            self._playhead_changed_at = now
            return True
        return False

    def _close(self, at: int, reason: str) -> None:
        self.closed_at = at
        self.close_reason = reason
        if self._checker is not None:
            self._checker.close(reason)
        if self._on_close is not None:
            self._on_close(self)

    @property
    def _idle_deadline(self) -> int:
        return self._last_event_at + self._idle_ms

    @property
    def _stall_deadline(self) -> int:
        return self._playhead_changed_at + STALL_TIMEOUT_MS

    def _expire(self, now: int) -> None:
        """Close the session if the back end's timeouts have run out by `now`."""
        if self.closed_at is not None:
            return
        idle_deadline = self._last_event_at + self._idle_ms
        stall_deadline = self._playhead_changed_at + STALL_TIMEOUT_MS
        if now > idle_deadline and idle_deadline <= stall_deadline:
            self._close(idle_deadline, "idle timeout")
        elif now > stall_deadline:
            self._close(stall_deadline, "playhead stalled")

    def __repr__(self) -> str:
        state = "open" if self.closed_at is None else f"closed ({self.close_reason})"
        return f"<CollectedSession {self.sid[:12]}… {self.event_count} events, {state}>"


@dataclass
class Counts:
    """What a collector has seen, as of its clock's now (`Collector.counts()`).

    Sessions are `open` (taking events), `complete` (sent sessionComplete, open until a
    sessionEnd or the idle timeout closes them) or closed, by reason.
    """

    opened: int = 0
    open: int = 0
    complete: int = 0
    closed: Counter[str] = field(default_factory=Counter)  # by reason: sessionEnd, idle timeout
    forgotten: int = 0  # closed sessions let go after the retention
    problems: Counter[str] = field(default_factory=Counter)  # conformance problems, by rule


class Collector:
    """An in-process MCA endpoint with validation, session ids, timeouts and a memory.

    >>> from playersim.clock import VirtualClock
    >>> collector = Collector(clock=VirtualClock("2026-11-27T12:00:00Z"))
    >>> collector.handle("POST", "/api/v1/sessions", b"{}").status
    400
    """

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int | str = 0,
        keep_events: bool = True,
        retention_s: float | None = None,
        conformance: bool = True,
        idle_timeout_s: float = IDLE_TIMEOUT_MS / 1000,
    ) -> None:
        if not idle_timeout_s > 0:
            raise ValueError(f"idle_timeout_s must be above 0, got {idle_timeout_s}")
        if retention_s is not None and not retention_s >= 0:
            raise ValueError(f"retention_s must be 0 or more, got {retention_s}")
        self.clock = clock
        # The session-level conformance report is beyond what the API checks; every body is
        # validated either way. Without it a run goes about a fifth faster.
        self.conformance = conformance
        self._seed = str(seed)
        # Keeping every event is what a test wants; a long run wants counters and the
        # conformance report only, so its memory does not grow with every request.
        self.keep_events = keep_events
        # No event for this long closes a session (the API's 10 minutes, unless told).
        self.idle_timeout_ms = round(idle_timeout_s * 1000)
        # With a retention, a session closed that long ago (collector clock) is forgotten: its
        # problems stay in the counts, the session itself goes, and a late event for it gets a
        # 404. A day of a million sessions then holds only those open or lately closed.
        self.retention_ms = None if retention_s is None else round(retention_s * 1000)
        self._sessions: dict[str, CollectedSession] = {}
        # Open sessions, oldest last event first, and oldest playhead change first: whose
        # timeout runs out next is at the front of one or the other.
        self._by_event: OrderedDict[str, CollectedSession] = OrderedDict()
        self._by_motion: OrderedDict[str, CollectedSession] = OrderedDict()
        # Closed sessions kept for the retention, in the order they closed.
        self._closed: OrderedDict[str, CollectedSession] = OrderedDict()
        self._counts = Counts()
        self._forgotten_problems: deque[tuple[str, Problem]] = deque(maxlen=FORGOTTEN_PROBLEMS_KEPT)
        self._next_sweep = 0
        # The events path of each session opened, taken apart once: every event of a session is
        # posted to the same path. Only paths naming a session of ours are kept.
        self._sid_by_path: dict[str, str] = {}
        self.statuses: Counter[int] = Counter()
        self.requests_by_event: Counter[str] = Counter()
        # Other dialects' endpoints, by path prefix (`add_front`).
        self._fronts: dict[str, Callable[[str, str, object], Response]] = {}
        self.downloaded = 0  # downloaded (offline) sessions taken, each in one request
        # Told of each session as it closes, however that is found out (a sessionEnd, or a
        # timeout noticed by a later request or a look at the figures).
        self.on_close: list[Callable[[CollectedSession], None]] = []
        # Plain pings (nearly every request) judged without a model, where no event is kept
        # (`_take_ping`); False judges them as any other body (the tests compare the two).
        self._fast_pings = True

    # --- inspection ----------------------------------------------------------------------------

    @property
    def sessions(self) -> list[CollectedSession]:
        """Every session opened so far (and not yet forgotten), in the order they were opened."""
        return list(self._sessions.values())

    @property
    def opened(self) -> int:
        """How many sessions the collector has opened, forgotten ones included."""
        return self._counts.opened

    @property
    def forgotten(self) -> int:
        """Sessions let go after the retention."""
        return self._counts.forgotten

    def session(self, sid: str) -> CollectedSession:
        """The session with this id (KeyError if the collector never opened it)."""
        return self._sessions[sid]

    def counts(self) -> Counts:
        """Sessions open, complete and closed, and problems by rule, as of the clock's now.

        Kept as requests arrive: the cost of a call does not grow with the sessions seen.
        """
        self._expire_due(self.clock.now())
        counts = self._counts
        return Counts(
            opened=counts.opened,
            open=len(self._by_event) - counts.complete,
            complete=counts.complete,
            closed=Counter(counts.closed),
            forgotten=counts.forgotten,
            problems=Counter(counts.problems),
        )

    def expire(self) -> None:
        """Apply the idle and stall timeouts to every session, as of the clock's now."""
        self._expire_due(self.clock.now())

    def problems(self) -> list[tuple[str, Problem]]:
        """Every conformance problem of every session kept, with its sid, after the last
        `FORGOTTEN_PROBLEMS_KEPT` of sessions forgotten (`counts().problems` counts them all)."""
        kept = [(s.sid, p) for s in self._sessions.values() for p in s.problems]
        return list(self._forgotten_problems) + kept

    # --- timeouts and retention ------------------------------------------------------------------

    def _expire_due(self, now: int) -> None:
        """Close every session whose timeout ran out by `now`, and forget those closed longer
        than the retention: only the fronts of the queues are looked at."""
        self._next_sweep = now + _SWEEP_MS
        for queue in (self._by_event, self._by_motion):
            while queue:
                session = queue[next(iter(queue))]
                if min(session._idle_deadline, session._stall_deadline) >= now:
                    break
                session._expire(now)  # closes it: `_closing` takes it off both queues
        retention = self.retention_ms
        if retention is None:
            return
        closed = self._closed
        while closed:
            sid = next(iter(closed))
            if now - (closed[sid].closed_at or now) < retention:
                break
            self._forget(closed.pop(sid))

    def _closing(self, session: CollectedSession) -> None:
        """A session closed (a sessionEnd, or a timeout found out by anyone): count it."""
        sid = session.sid
        self._by_event.pop(sid, None)
        self._by_motion.pop(sid, None)
        self._counts.closed[session.close_reason or ""] += 1
        if session.completed:
            self._counts.complete -= 1
        if self.retention_ms is not None:
            self._closed[sid] = session
        for hook in self.on_close:
            hook(session)

    def _problem_found(self, problem: Problem) -> None:
        self._counts.problems[problem.rule.value] += 1

    def _forget(self, session: CollectedSession) -> None:
        sid = session.sid
        del self._sessions[sid]
        if session._checker is not None:
            self._forgotten_problems.extend((sid, p) for p in session._checker.problems)
        self._sid_by_path.pop(events_path(sid), None)
        self._counts.forgotten += 1

    # --- the API -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: object) -> Response:
        """Answer one request as the MCA would. `body` is raw JSON or an already decoded value."""
        sid = self._sid_by_path.get(path)
        if sid is not None and method == "POST":  # an event of a known session: nearly all
            response = self._event(sid, body)
        else:
            response = self._answer(method, path, body)
        self.statuses[response.status] += 1
        return response

    def add_front(self, prefix: str, front: Callable[[str, str, object], Response]) -> None:
        """Let `front` answer every request whose path starts with `prefix`: another dialect's
        endpoint (Media Edge's `/ee/va/v1/`, playersim.edge.front). It reads its own bodies and
        hands the collector MCA ones (`open_session`, `take_event`, `take_downloaded`), so one
        set of session rules, one conformance report and one set of counters serve both."""
        self._fronts[prefix] = front

    def _answer(self, method: str, path: str, raw: object) -> Response:
        for prefix, front in self._fronts.items():
            if path.startswith(prefix):
                return front(method, path, raw)
        bare = path.split("?", 1)[0]
        if bare.rstrip("/") == SESSIONS_PATH:
            if method != "POST":
                return _error(405, f"{method} is not allowed on {SESSIONS_PATH}: use POST")
            return self._start(raw)
        if bare.rstrip("/") == DOWNLOADED_PATH:
            if method != "POST":
                return _error(405, f"{method} is not allowed on {DOWNLOADED_PATH}: use POST")
            return self._downloaded(raw)
        sid = sid_from_events_path(bare)
        if sid is None:
            return _error(404, f"no such endpoint: {bare}")
        if method != "POST":
            return _error(405, f"{method} is not allowed on {bare}: use POST")
        if sid in self._sessions and path == events_path(sid):
            # Only the path players use: every other spelling of it (a trailing slash, a query)
            # would be one more entry, and the retention forgets this one only.
            self._sid_by_path[path] = sid
        return self._event(sid, raw)

    def _start(self, raw: object) -> Response:
        try:
            body = _decode(raw)
        except WireError as exc:
            return _error(400, exc.message)
        self.requests_by_event[body.event_type] += 1
        if not isinstance(body, SessionStart):
            return _error(
                400,
                f"{SESSIONS_PATH} opens a session and takes a sessionStart body, "
                f"not {body.event_type}; send other events to {SESSIONS_PATH}/<sid>/events",
            )
        return self.open_session(body, raw)

    def open_session(
        self, body: SessionStart, raw: object = None, *, whole_seconds: bool = False
    ) -> Response:
        """Open a session with a validated sessionStart: 201 naming it (its `sid`), or a 400.
        `raw` is what the body came as, for the message of a body that cannot be encoded;
        `whole_seconds`: its playheads come as whole seconds (the Media Edge API's)."""
        now = self.clock.now()
        if now >= self._next_sweep:
            self._expire_due(now)
        try:
            sid = self._new_sid(body)
        except PydanticSerializationError:
            # A str that UTF-8 cannot encode: only a body handed over in memory can hold one
            # (over HTTP, `decode_json` refuses it), and the API would refuse it alike.
            try:
                check_unicode(raw)
            except WireError as exc:
                return _error(400, exc.message)
            raise
        session = CollectedSession(
            sid,
            self.clock,
            now,
            keep_events=self.keep_events,
            check=self.conformance,
            idle_timeout_ms=self.idle_timeout_ms,
            on_problem=self._problem_found,
            whole_seconds=whole_seconds,
        )
        session._on_close = self._closing
        session._accept(body, now)
        self._sessions[sid] = session
        self._by_event[sid] = session
        self._by_motion[sid] = session
        self._counts.opened += 1
        return Response(201, location=f"{SESSIONS_PATH}/{sid}")

    def _event(self, sid: str, raw: object) -> Response:
        now = self.clock.now()  # one instant for the whole request
        session = self._taking(sid, now)
        if isinstance(session, Response):
            return session
        if not session._keep and self._fast_pings:
            # A plain ping, handed over in memory: judged by its playhead and ts alone. The
            # body is validated from the dict, not from its JSON bytes: validate_json took as
            # long as validate_python for a ping (8 us) and longer for a sessionStart (60 us
            # against 52), so the bytes, where a request has them, are not parsed again.
            player_time = plain_ping(raw)
            if player_time is not None:
                return self._take_ping(session, player_time["playhead"], player_time["ts"], now)
        try:
            body = _decode(raw)
        except WireError as exc:
            return _error(400, exc.message)
        return self._take(session, body, now)

    def _take_ping(self, session: CollectedSession, playhead: float, ts: int, now: int) -> Response:
        """`_take` of a plain ping (`plain_ping`), by its playhead and ts: counted, checked and
        taken as `_take` takes its body, with none of the questions a ping answers no."""
        self.requests_by_event[_PING] += 1
        sid = session.sid
        if session._accept_ping(playhead, ts, now):
            self._by_motion.move_to_end(sid)
        self._by_event.move_to_end(sid)
        return _NO_CONTENT

    def take_event(self, sid: str, body: BodyModel) -> Response:
        """An event of session `sid`, validated already (by another dialect's front): 204, or
        404 (no such session), 410 (closed) or 400 (a sessionStart, which opens one)."""
        now = self.clock.now()
        session = self._taking(sid, now)
        if isinstance(session, Response):
            return session
        return self._take(session, body, now)

    def _taking(self, sid: str, now: int) -> CollectedSession | Response:
        """The open session `sid`, as of `now`, or the answer saying why there is none."""
        if now >= self._next_sweep:
            self._expire_due(now)
        session = self._sessions.get(sid)
        if session is None:
            return _error(404, f"unknown session id {sid!r}")
        session._expire(now)  # one instant for the whole request: the timeouts, then `now`
        if session.closed_at is not None:
            return _error(410, f"session {sid} is closed ({session.close_reason})")
        return session

    def _take(
        self, session: CollectedSession, body: BodyModel, now: int, *, counted: bool = True
    ) -> Response:
        sid = session.sid
        event_type = body.event_type
        if counted:  # (a downloaded session's events came in one request, counted as such)
            self.requests_by_event[event_type] += 1
        if event_type == _SESSION_START:
            return _error(400, f"sessionStart opens a session: POST it to {SESSIONS_PATH}")
        if event_type == _SESSION_COMPLETE and not session.completed:
            self._counts.complete += 1
        if session._accept(body, now):
            self._by_motion.move_to_end(sid)
        self._by_event.move_to_end(sid)
        if event_type == _SESSION_END:
            session._close(now, "sessionEnd")
        return _NO_CONTENT

    def _downloaded(self, raw: object) -> Response:
        """`POST /api/v1/downloaded`: a JSON array, one session's events, sessionStart first."""
        try:
            data = decode_json(raw) if isinstance(raw, bytes | bytearray | str) else raw
        except WireError as exc:
            return _error(400, exc.message)
        if not isinstance(data, list) or not data:
            return _error(
                400,
                f"{DOWNLOADED_PATH} takes a JSON array: the events of one session, "
                "sessionStart first",
            )
        bodies: list[BodyModel] = []
        for index, item in enumerate(data):
            try:
                bodies.append(validate_body(item))
            except WireError as exc:
                return _error(400, f"[{index}]: {exc.message}")
        return self.take_downloaded(bodies)

    def take_downloaded(
        self,
        bodies: Sequence[BodyModel],
        *,
        whole_seconds: bool = False,
        complete_missing: bool = False,
    ) -> Response:
        """A downloaded (offline) session, whole, validated already: sessionStart first and
        only there, nothing after a sessionEnd. Opened, given its events in order, and closed
        (by its own sessionEnd, or as the batch ends): 201 naming it, or 400 saying what is
        wrong with the batch (and nothing of it kept). `complete_missing`: a session that
        neither completed nor ended gets the sessionComplete it lacks, at its last event, and
        counts as not completed (the Media Edge API's rule)."""
        # One request, counted once, refused or not: as what it is, not the events it carries.
        self.requests_by_event[DOWNLOADED] += 1
        for index, body in enumerate(bodies):
            if (index == 0) != isinstance(body, SessionStart):
                where = "the first event" if index == 0 else f"event {index}"
                return _error(
                    400,
                    f"a downloaded session is one session, sessionStart first and only there: "
                    f"{where} is {body.event_type}",
                )
            if index and bodies[index - 1].event_type == _SESSION_END:
                return _error(
                    400,
                    f"a downloaded session ends with its sessionEnd: event {index} "
                    f"({body.event_type}) comes after it",
                )
        first = bodies[0]
        assert isinstance(first, SessionStart)
        opened = self.open_session(first, whole_seconds=whole_seconds)
        sid = opened.sid
        if sid is None:
            return opened
        session = self._sessions[sid]
        session.downloaded = True
        now = self.clock.now()
        for body in bodies[1:]:
            self._take(session, body, now, counted=False)
        added = complete_missing and not any(
            body.event_type in (_SESSION_COMPLETE, _SESSION_END) for body in bodies
        )
        if added:
            last = bodies[-1].player_time
            complete = validate_body(
                {
                    "playerTime": {"playhead": last.playhead, "ts": last.ts},
                    "eventType": _SESSION_COMPLETE,
                }
            )
            self._take(session, complete, now, counted=False)
        if session.closed_at is None:
            session._close(now, "downloaded")
        if added:
            session.completed = False  # added by the back end: not a completion (Adobe)
        self.downloaded += 1
        return opened

    def _new_sid(self, body: SessionStart) -> str:
        # Derived from the collector's seed and the sessionStart itself, not random and not a
        # counter: the same run gives the same sids in whatever order concurrent sessions
        # arrive, so recordings are byte-identical. 64 lowercase hex, like the real API's.
        material = f"playersim:{self._seed}:{body.model_dump_json(by_alias=True)}".encode()
        # Interned: a player in the same process reads it back from the Location header
        # (`sid_from_location` interns too), and then holds this very string, not a copy.
        sid = sys.intern(hashlib.sha256(material).hexdigest())
        if sid in self._sessions:
            # The very same sessionStart again: a new session all the same (its player knows
            # only this one's sid). If the first has had no event since, it is a player's retry
            # whose first try was accepted but whose answer was lost: the first is left without
            # events, and says why. (One that played on is another run sending the same
            # traffic again: the same seed twice.)
            first = self._sessions[sid]
            retried = first.event_count == 1 and first.closed_at is None
            while sid in self._sessions:
                sid = sys.intern(hashlib.sha256(sid.encode()).hexdigest())
            if retried and first._checker is not None:
                first._checker.duplicated(sid)
        return sid


def _decode(raw: object) -> BodyModel:
    if type(raw) is dict:  # the in-memory transport's case: no JSON to parse
        return validate_body(raw)
    if isinstance(raw, bytes | bytearray | str):
        return parse_body(raw)
    return validate_body(raw)


def _error(status: int, message: str) -> Response:
    return Response(status, message=message)


def error_body(message: str) -> bytes:
    """The JSON body of an error answer: `{"message": ...}`."""
    return json.dumps({"message": message}).encode()
