"""The MCA's HTTP API as playersim sees it: the paths, one request, one answer.

A `Request` is `POST path` with a JSON body; a `Response` is the status, the `Location` of a new
session and the `message` of a 4xx. Players, collectors, transports and engines all speak these
two types; the paths are taken apart in one place, here.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from playersim.mca.wire import WireBody, encode_body

__all__ = [
    "DOWNLOADED",
    "DOWNLOADED_PATH",
    "EDGE_PATH",
    "GONE_STATUSES",
    "OPENED_STATUSES",
    "SESSIONS_PATH",
    "Request",
    "Response",
    "accepted",
    "batch_size",
    "edge_event_of",
    "edge_session_id",
    "events_path",
    "sid_from_events_path",
    "sid_from_location",
]

SESSIONS_PATH: Final = "/api/v1/sessions"
# A downloaded (offline) session: one request, the whole session (MCA-SPEC.md section 1).
DOWNLOADED_PATH: Final = "/api/v1/downloaded"
# The event type such a request is counted as (its body holds the session's events).
DOWNLOADED: Final = "downloaded"
# Adobe's Media Edge API: `POST /ee/va/v1/{event}?configId=...` (playersim.edge).
EDGE_PATH: Final = "/ee/va/v1/"
# The answers that open a session: the MCA's 201, the Media Edge API's 200.
OPENED_STATUSES: Final = frozenset({200, 201})
# A 404 or 410 on an event: the back end no longer knows the session (MCA-SPEC.md section 5).
GONE_STATUSES: Final = frozenset({404, 410})
# MCA-SPEC.md section 1: the sid is what follows "sessions/" in the Location header. Proxies
# may make it absolute or add a slash; the sid is the one path segment either way.
_LOCATION = re.compile(r"^/api/[^/]+/sessions/([^/?#]+)/?$")


# POST {base}/api/v1/sessions/{sid}/events: the one place this path is taken apart.
_EVENTS_PATH = re.compile(r"^/api/v1/sessions/([^/]+)/events/?$")


def edge_event_of(path: str) -> str | None:
    """The Media Edge event a path names (`/ee/va/v1/<event>?configId=...`: its `<event>`,
    without the query or a trailing slash), or None for a path that is not the Media Edge
    API's: the one place such a path is taken apart."""
    if not path.startswith(EDGE_PATH):
        return None
    return path.partition("?")[0][len(EDGE_PATH) :].rstrip("/")


def sid_from_events_path(path: str) -> str | None:
    """The sid in an events path (`/api/v1/sessions/<sid>/events`), or None for any other."""
    match = _EVENTS_PATH.match(path.split("?", 1)[0])
    return sys.intern(match.group(1)) if match else None


def events_path(sid: str) -> str:
    """The path that a session's events are posted to."""
    return f"{SESSIONS_PATH}/{sid}/events"


def sid_from_location(location: str | None) -> str | None:
    """The session id in a `Location` header (`/api/v1/sessions/<sid>`), or None."""
    if not location:
        return None
    match = _LOCATION.match(urlsplit(location.strip()).path)
    # Interned: a session's player, its outbox and its requests each ask, and an in-memory
    # collector interns the sids it makes, so one string serves them all (64 hex: 113 bytes).
    return sys.intern(match.group(1)) if match else None


_set: Final = object.__setattr__  # how a frozen class sets its own fields


class _Unknown:
    """A request's session, not worked out yet."""


_UNKNOWN: Final = _Unknown()


@dataclass(frozen=True, slots=True, init=False)
class Request:
    """One MCA call: `POST path` with a JSON body.

    `event_type` is the body's `eventType` (or ""), the MCA's name for it. It is worked out
    once, here, because the engine, the outbox and the run's counters each ask for it on every
    request; a caller that already knows it (the outbox, a dialect) may pass it.

    The body's bytes (`content`) are made once, when first asked for, and the same bytes go
    everywhere: HTTP sends them, and the recording writes them in its line.
    """

    path: str
    body: WireBody
    event_type: str = field(default="", compare=False, repr=False)
    # The MCA body the request carries: `body` itself, or what a body in another dialect's
    # form (Media Edge's) was made from. Counters, pacing and replay read its playerTime.
    event: WireBody = field(default_factory=dict, compare=False, repr=False)
    # Made when first asked for (`content`, `strict_content`), then kept: the body's bytes,
    # whether they are strict JSON that `encode_body` made, and the session the path names.
    _content: bytes | None = field(default=None, init=False, compare=False, repr=False)
    _strict: bool = field(default=False, init=False, compare=False, repr=False)
    _sid: str | _Unknown | None = field(default=_UNKNOWN, init=False, compare=False, repr=False)

    def __init__(
        self,
        path: str,
        body: WireBody,
        event_type: str = "",
        event: WireBody | None = None,
        *,
        sid: str | _Unknown | None = _UNKNOWN,
    ) -> None:
        # Written out rather than generated: one is made for every request a run sends, and
        # the generated `__init__` of a frozen class plus a `__post_init__` costs twice this.
        # (`sid`: what `self.sid` says, worked out by a caller that makes many requests to one
        # path, the MCA dialect; left out, it is worked out from the path when asked.)
        _set(self, "path", path)
        _set(self, "body", body)
        _set(self, "event_type", event_type or str(body.get("eventType", "")))
        _set(self, "event", body if event is None else event)
        _set(self, "_content", None)
        _set(self, "_strict", False)
        _set(self, "_sid", sid)

    @property
    def sid(self) -> str | None:
        """The session this request belongs to (None for a sessionStart, before it is known):
        named by the MCA's events path, or by a Media Edge event's `sessionID`."""
        sid = self._sid
        if isinstance(sid, _Unknown):
            sid = sid_from_events_path(self.path)
            if sid is None and self.path.startswith(EDGE_PATH):
                sid = edge_session_id(self.body)
            _set(self, "_sid", sid)
        return sid

    @property
    def content(self) -> bytes:
        """The body as sent: compact JSON in UTF-8, `json.dumps(body, ensure_ascii=False,
        separators=(",", ":")).encode()`, made once (the first time it is asked for) and kept.

        >>> Request("/api/v1/sessions", {"eventType": "ping", "playerTime": {"playhead": 1.5,
        ...     "ts": 7}}).content
        b'{"eventType":"ping","playerTime":{"playhead":1.5,"ts":7}}'
        """
        content = self._content
        if content is None:
            content = encode_body(self.body)
            strict = content is not None
            if content is None:
                # A body `encode_body` does not vouch for (NaN, say): as json writes it, or
                # its error (a value JSON has no form for, a lone surrogate), as always.
                content = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
            _set(self, "_content", content)
            _set(self, "_strict", strict)
        return content

    @property
    def strict_content(self) -> bytes | None:
        """`content`, if it is known to be strict JSON (RFC 8259: no NaN, no lone surrogate,
        only JSON's types), as the recording writes it; None if not (the recording then works
        out what to write on its own)."""
        content = self._content
        if content is None:
            content = encode_body(self.body)
            if content is None:
                return None
            _set(self, "_content", content)
            _set(self, "_strict", True)
            return content
        return content if self._strict else None


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer, as the MCA (or the Media Edge API) gives it."""

    status: int
    location: str | None = None  # the Location header of a 201
    message: str | None = None  # the `message` of a 4xx/5xx JSON body (Edge: its `detail`)
    # The session a Media Edge sessionStart opened: its answer's body names it, as the
    # `sessionId` of the `media-analytics:new-session` handle.
    session: str | None = None
    # What was wrong, each as (where, why): a Media Edge answer's `report.details`.
    details: tuple[tuple[str, str], ...] = ()

    @property
    def sid(self) -> str | None:
        # Asked after every answer; most (the 204s) have no Location to parse.
        if self.location is None:
            return self.session
        return sid_from_location(self.location)

    @property
    def accepted(self) -> bool:
        """The collector took the request: 204, or a 201 (MCA) or 200 (Media Edge) naming the
        session to send events to.

        A 201 whose Location names no session loses the session as surely as a 400.
        """
        return self.status == 204 or (self.status in OPENED_STATUSES and self.sid is not None)


def accepted(request: Request, response: Response) -> bool:
    """Whether the endpoint took the request: `response.accepted`, or, for a downloaded
    session, any 200 or 201 (Adobe's answers to one need name no session)."""
    if request.event_type == DOWNLOADED:
        return response.status in OPENED_STATUSES
    return response.accepted


def batch_size(request: Request) -> int:
    """How many events a downloaded session's request carries (1 for any other request)."""
    if request.event_type != DOWNLOADED:
        return 1
    body: object = request.body
    if isinstance(body, list):
        return len(body)
    try:
        return len(request.body["events"][0]["xdm"]["mediaDownloadedEvents"])
    except (KeyError, IndexError, TypeError):
        return 1


def edge_session_id(body: WireBody) -> str | None:
    """The `sessionID` a Media Edge event body names, or None."""
    try:
        sid = body["events"][0]["xdm"]["mediaCollection"]["sessionID"]
    except (KeyError, IndexError, TypeError):
        return None
    return sid if isinstance(sid, str) else None
