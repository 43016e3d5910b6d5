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
session-level rules the real API cannot check (`playersim.conformance`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from playersim.clock import Clock
from playersim.conformance import Problem, SessionChecker
from playersim.errors import WireError
from playersim.spec import IDLE_TIMEOUT_MS, STALL_TIMEOUT_MS
from playersim.transport import SESSIONS_PATH, Response, events_path, sid_from_events_path
from playersim.wire import (
    BodyModel,
    EventType,
    SessionStart,
    params_of,
    parse_body,
    validate_body,
)

__all__ = ["CollectedEvent", "CollectedSession", "Collector"]

# How often a collector with a retention looks for sessions to forget, in its clock's ms.
_SWEEP_MS = 60_000
_NEVER = 1 << 62

_SESSION_START: Final = EventType.SESSION_START.value
_SESSION_COMPLETE: Final = EventType.SESSION_COMPLETE.value
_SESSION_END: Final = EventType.SESSION_END.value
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

    def __init__(
        self, sid: str, clock: Clock, opened_at: int, *, keep_events: bool, check: bool = True
    ) -> None:
        self.sid = sid
        self.opened_at = opened_at
        self.closed_at: int | None = None
        self.close_reason: str | None = None  # "sessionEnd", "idle timeout", "playhead stalled"
        self.events: list[CollectedEvent] = []  # empty when the collector keeps no events
        self.event_count = 0
        self.completed = False  # sessionComplete was received
        self._clock = clock
        self._keep = keep_events
        self._start: SessionStart | None = None
        self._checker = SessionChecker() if check else None
        self._last_event_at = opened_at
        self._last_playhead: float = -1.0
        self._playhead_changed_at = opened_at

    @property
    def open(self) -> bool:
        """Whether the session still takes events, as of the collector's clock now."""
        self._expire(self._clock.now())
        return self.closed_at is None

    @property
    def start(self) -> SessionStart:
        """The sessionStart body that opened the session."""
        assert self._start is not None
        return self._start

    @property
    def event_types(self) -> list[str]:
        return [event.event_type for event in self.events]

    @property
    def problems(self) -> list[Problem]:
        """Conformance problems in what was received so far (MCA-SPEC.md sections 4 and 5)."""
        self._expire(self._clock.now())
        return list(self._checker.problems) if self._checker is not None else []

    def _accept(self, body: BodyModel, now: int) -> None:
        if self._start is None and isinstance(body, SessionStart):
            self._start = body
        if self._keep:
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

    def _close(self, at: int, reason: str) -> None:
        self.closed_at = at
        self.close_reason = reason
        if self._checker is not None:
            self._checker.close(reason)

    def _expire(self, now: int) -> None:
        """Close the session if the back end's timeouts have run out by `now`."""
        if self.closed_at is not None:
            return
        idle_deadline = self._last_event_at + IDLE_TIMEOUT_MS
        stall_deadline = self._playhead_changed_at + STALL_TIMEOUT_MS
        if now > idle_deadline and idle_deadline <= stall_deadline:
            self._close(idle_deadline, "idle timeout")
        elif now > stall_deadline:
            self._close(stall_deadline, "playhead stalled")

    def __repr__(self) -> str:
        state = "open" if self.closed_at is None else f"closed ({self.close_reason})"
        return f"<CollectedSession {self.sid[:12]}… {self.event_count} events, {state}>"


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
    ) -> None:
        self.clock = clock
        # The session-level conformance report is beyond what the API checks; every body is
        # validated either way. Without it a run goes about a fifth faster.
        self.conformance = conformance
        self._seed = str(seed)
        # Keeping every event is what a test wants; a long run wants counters and the
        # conformance report only, so its memory does not grow with every request.
        self.keep_events = keep_events
        # With a retention, a session closed that long ago (collector clock) is forgotten: its
        # problems stay in the report, the session itself goes, and a late event for it gets a
        # 404. A day of a million sessions then holds only those open or lately closed.
        self.retention_ms = None if retention_s is None else round(retention_s * 1000)
        self.forgotten = 0  # sessions let go after the retention
        self._forgotten_problems: list[tuple[str, Problem]] = []
        # The next instant a sweep for sessions to forget is due: one comparison per request,
        # and never without a retention.
        self._next_sweep = _NEVER if self.retention_ms is None else 0
        self._sessions: dict[str, CollectedSession] = {}
        # The events path of each session opened, taken apart once: every event of a session is
        # posted to the same path. Only paths naming a session of ours are kept.
        self._sid_by_path: dict[str, str] = {}
        self.statuses: Counter[int] = Counter()
        self.requests_by_event: Counter[str] = Counter()

    # --- inspection ----------------------------------------------------------------------------

    @property
    def sessions(self) -> list[CollectedSession]:
        """Every session opened so far (and not yet forgotten), in the order they were opened."""
        return list(self._sessions.values())

    @property
    def opened(self) -> int:
        """How many sessions the collector has opened, forgotten ones included."""
        return len(self._sessions) + self.forgotten

    def session(self, sid: str) -> CollectedSession:
        """The session with this id (KeyError if the collector never opened it)."""
        return self._sessions[sid]

    def expire(self) -> None:
        """Apply the idle and stall timeouts to every session, as of the clock's now."""
        now = self.clock.now()
        for session in self._sessions.values():
            session._expire(now)

    def problems(self) -> list[tuple[str, Problem]]:
        """Every conformance problem of every session (forgotten ones too), with its sid."""
        kept = [(s.sid, p) for s in self._sessions.values() for p in s.problems]
        return self._forgotten_problems + kept

    def _sweep(self, now: int) -> None:
        """Forget sessions closed more than the retention ago (at most once a simulated minute)."""
        retention = self.retention_ms
        assert retention is not None, "only a collector with a retention sweeps"
        self._next_sweep = now + _SWEEP_MS
        gone = []
        for sid, session in self._sessions.items():
            session._expire(now)
            if session.closed_at is not None and now - session.closed_at >= retention:
                gone.append(sid)
        for sid in gone:
            session = self._sessions.pop(sid)
            self._forgotten_problems.extend((sid, problem) for problem in session.problems)
            self._sid_by_path.pop(events_path(sid), None)
            self.forgotten += 1

    # --- the API -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: object) -> Response:
        """Answer one request as the MCA would. `body` is raw JSON or an already decoded value."""
        response = self._answer(method, path, body)
        self.statuses[response.status] += 1
        return response

    def _answer(self, method: str, path: str, raw: object) -> Response:
        sid = self._sid_by_path.get(path)
        if sid is not None and method == "POST":
            return self._event(sid, raw)
        bare = path.split("?", 1)[0]
        if bare.rstrip("/") == SESSIONS_PATH:
            if method != "POST":
                return _error(405, f"{method} is not allowed on {SESSIONS_PATH}: use POST")
            return self._start(raw)
        sid = sid_from_events_path(bare)
        if sid is None:
            return _error(404, f"no such endpoint: {bare}")
        if method != "POST":
            return _error(405, f"{method} is not allowed on {bare}: use POST")
        if sid in self._sessions and path == events_path(sid):
            # Only the path players use: every other spelling of it (a trailing slash, a query)
            # would be one more entry, and the retention sweep forgets this one only.
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
        now = self.clock.now()
        if now >= self._next_sweep:
            self._sweep(now)
        sid = self._new_sid(body)
        session = CollectedSession(
            sid, self.clock, now, keep_events=self.keep_events, check=self.conformance
        )
        session._accept(body, now)
        self._sessions[sid] = session
        return Response(201, location=f"{SESSIONS_PATH}/{sid}")

    def _event(self, sid: str, raw: object) -> Response:
        now = self.clock.now()  # one instant for the whole request
        if now >= self._next_sweep:
            self._sweep(now)
        session = self._sessions.get(sid)
        if session is None:
            return _error(404, f"unknown session id {sid!r}")
        session._expire(now)  # one instant for the whole request: the timeouts, then `now`
        if session.closed_at is not None:
            return _error(410, f"session {sid} is closed ({session.close_reason})")
        try:
            body = _decode(raw)
        except WireError as exc:
            return _error(400, exc.message)
        event_type = body.event_type
        self.requests_by_event[event_type] += 1
        if event_type == _SESSION_START:
            return _error(400, f"sessionStart opens a session: POST it to {SESSIONS_PATH}")
        session._accept(body, now)
        if event_type == _SESSION_END:
            session._close(now, "sessionEnd")
        return _NO_CONTENT

    def _new_sid(self, body: SessionStart) -> str:
        # Derived from the collector's seed and the sessionStart itself, not random and not a
        # counter: the same run gives the same sids in whatever order concurrent sessions
        # arrive, so recordings are byte-identical. 64 lowercase hex, like the real API's.
        material = f"playersim:{self._seed}:{body.model_dump_json(by_alias=True)}".encode()
        sid = hashlib.sha256(material).hexdigest()
        while sid in self._sessions:  # the same sessionStart twice: still a new session
            sid = hashlib.sha256(sid.encode()).hexdigest()
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
