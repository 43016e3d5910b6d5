"""Transports: the only I/O in playersim, behind one small interface.

A transport takes a `Request` (a path and a JSON body) and returns a `Response` (a status, the
`Location` of a new session, the `message` of a 4xx). Every HTTP answer is a `Response`, whatever
its status: 4xx and 5xx are results to count and act on, never swallowed and never raised. Only a
request that got no answer at all (refused, reset, timed out) raises `TransportError`.

Implementations: `MemoryTransport` (a `Collector` in-process, no sockets), `HttpTransport` and
`AsyncHttpTransport` (httpx, in `playersim.http_transport`), and wrappers such as
`RecordingTransport` (`playersim.recording`) that add behaviour around another transport.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

from playersim.wire import WireBody

if TYPE_CHECKING:
    from playersim.collector import Collector

__all__ = [
    "GONE_STATUSES",
    "SESSIONS_PATH",
    "AsyncMemoryTransport",
    "AsyncTransport",
    "MemoryTransport",
    "Request",
    "Response",
    "Transport",
    "events_path",
    "sid_from_events_path",
    "sid_from_location",
]

SESSIONS_PATH: Final = "/api/v1/sessions"
# A 404 or 410 on an event: the back end no longer knows the session (MCA-SPEC.md section 5).
GONE_STATUSES: Final = frozenset({404, 410})
# MCA-SPEC.md section 1: the sid is what follows "sessions/" in the Location header. Proxies
# may make it absolute or add a slash; the sid is the one path segment either way.
_LOCATION = re.compile(r"^/api/[^/]+/sessions/([^/?#]+)/?$")


# POST {base}/api/v1/sessions/{sid}/events: the one place this path is taken apart.
_EVENTS_PATH = re.compile(r"^/api/v1/sessions/([^/]+)/events/?$")


def sid_from_events_path(path: str) -> str | None:
    """The sid in an events path (`/api/v1/sessions/<sid>/events`), or None for any other."""
    match = _EVENTS_PATH.match(path.split("?", 1)[0])
    return match.group(1) if match else None


def events_path(sid: str) -> str:
    """The path that a session's events are posted to."""
    return f"{SESSIONS_PATH}/{sid}/events"


def sid_from_location(location: str | None) -> str | None:
    """The session id in a `Location` header (`/api/v1/sessions/<sid>`), or None."""
    if not location:
        return None
    match = _LOCATION.match(urlsplit(location.strip()).path)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Request:
    """One MCA call: `POST path` with a JSON body.

    `event_type` is the body's `eventType` (or ""). It is worked out once, here, because the
    engine, the outbox and the run's counters each ask for it on every request; a caller that
    already knows it (the outbox) may pass it.
    """

    path: str
    body: WireBody
    event_type: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.event_type:
            object.__setattr__(self, "event_type", str(self.body.get("eventType", "")))

    @property
    def sid(self) -> str | None:
        """The session this request belongs to (None for a sessionStart, before it is known)."""
        return sid_from_events_path(self.path)


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer, as the MCA gives it."""

    status: int
    location: str | None = None  # the Location header of a 201
    message: str | None = None  # the `message` of a 4xx/5xx JSON body

    @property
    def sid(self) -> str | None:
        # Asked after every answer; most (the 204s) have no Location to parse.
        return None if self.location is None else sid_from_location(self.location)

    @property
    def accepted(self) -> bool:
        """The collector took the request: 204, or 201 with a session id to send events to.

        A 201 whose Location names no session loses the session as surely as a 400.
        """
        return self.status == 204 or (self.status == 201 and self.sid is not None)


class Transport(Protocol):
    """Sends one request and returns the answer; raises `TransportError` only on no answer."""

    def send(self, request: Request) -> Response: ...


class AsyncTransport(Protocol):
    """The asyncio flavour of `Transport`, with the same request and response types."""

    async def send(self, request: Request) -> Response: ...


class MemoryTransport:
    """Hands each request straight to an in-process `Collector`: no sockets, no serialisation.

    The collector validates the body exactly as it validates JSON off the wire, so what it
    accepts here it would accept over HTTP.
    """

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def send(self, request: Request) -> Response:
        return self.collector.handle("POST", request.path, request.body)


class AsyncMemoryTransport:
    """`MemoryTransport` for asyncio code: the same collector, awaited."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    async def send(self, request: Request) -> Response:
        return self.collector.handle("POST", request.path, request.body)
