"""Delivery: one session's requests leave in order, one at a time, and only once they can.

A player produces bodies; an `Outbox` turns them into requests. Nothing but the sessionStart can
go out before its 201 names the session id, and the MCA back end orders events by arrival beyond
a small window, so each session has exactly one request in flight and a FIFO behind it
(MCA-SPEC.md sections 4 and 5). The outbox does no I/O itself: engines, sync or async, ask it for
the next request, send it however they send, and report the answer back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final, Generic, TypeVar

from playersim.transport import GONE_STATUSES, SESSIONS_PATH, Request, Response, events_path
from playersim.wire import EventType, WireBody

__all__ = ["Outbox", "Turns"]

_SESSION_START: Final = EventType.SESSION_START.value
T = TypeVar("T")


class Outbox:
    """The ordered queue of one session's requests."""

    __slots__ = ("_events_path", "_in_flight", "_queue", "dropped", "sid")

    def __init__(self) -> None:
        self.sid: str | None = None
        self._queue: deque[WireBody] = deque()
        self._in_flight: Request | None = None
        self.dropped = 0  # bodies that could never be sent: their session did not open, or closed
        self._events_path: tuple[str, str] | None = None  # (sid, its events path), built once

    def push(self, bodies: list[WireBody]) -> None:
        self._queue.extend(bodies)

    def __len__(self) -> int:
        return len(self._queue)

    def peek(self) -> WireBody | None:
        """The body at the head of the queue (in flight, or next to go), if any."""
        return self._queue[0] if self._queue else None

    def next_request(self) -> Request | None:
        """The next request to send, or None if nothing may go out now."""
        if self._in_flight is not None or not self._queue:
            return None
        body = self._queue[0]
        event_type = str(body["eventType"])  # what `Request` itself would make of it
        if event_type == _SESSION_START:
            request = Request(SESSIONS_PATH, body, event_type)
        elif self.sid is None:
            return None  # waiting for the sessionStart's 201
        else:
            request = Request(self._path_of(self.sid), body, event_type)
        self._in_flight = request
        return request

    def _path_of(self, sid: str) -> str:
        # Every event of a session goes to the same path: build it once per sid (`sid` is a
        # public attribute, so the cache is keyed by it rather than trusted blindly).
        cached = self._events_path
        if cached is None or cached[0] != sid:
            cached = self._events_path = (sid, events_path(sid))
        return cached[1]

    def settle(self, request: Request, response: Response | None) -> None:
        """Record the answer to the request in flight (None: it got no answer)."""
        assert request is self._in_flight, "settle() takes the request in flight"
        self._in_flight = None
        self._queue.popleft()
        status = response.status if response is not None else None
        if request.event_type == _SESSION_START:
            self.sid = response.sid if response is not None and status == 201 else None
            if self.sid is None:
                self._drop_until_next_start()
        elif status in GONE_STATUSES:
            self.sid = None
            self._drop_until_next_start()

    def _drop_until_next_start(self) -> None:
        # Events of a session that does not exist can never be delivered; a later sessionStart
        # (a resumed session) starts a fresh run of the queue.
        while self._queue and self._queue[0]["eventType"] != _SESSION_START:
            self._queue.popleft()
            self.dropped += 1


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
