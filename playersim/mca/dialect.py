"""The MCA as a wire dialect: where a session's events are posted, and what its answers mean.

Players speak one event vocabulary: a body with an `eventType`, a `playerTime` and the event's
`params`, `customMetadata` and `qoeData`, as the MCA defines them (playersim.mca.wire). A dialect
says how such a body travels: the request that opens a session, the request that carries one of
its events, how an answer names the new session, and which answers say it is gone. Delivery
(playersim.engines.delivery) asks its dialect these four questions and nothing else, so a second
dialect (Adobe's Media Edge API: `POST /ee/va/v1/{eventType}` with XDM bodies, the session id in
the answer's body) goes in a package beside this one, and players stay as they are.

>>> MCA.start({"eventType": "sessionStart", "playerTime": {"playhead": 0, "ts": 1}}).path
'/api/v1/sessions'
>>> MCA.event("abc", {"eventType": "play", "playerTime": {"playhead": 0, "ts": 2}}).path
'/api/v1/sessions/abc/events'
>>> MCA.opened(Response(201, location="/api/v1/sessions/abc")), MCA.gone(410)
('abc', True)
"""

from __future__ import annotations

from typing import Final

from playersim.mca.api import GONE_STATUSES, SESSIONS_PATH, Request, Response, events_path
from playersim.mca.wire import WireBody

__all__ = ["MCA", "McaDialect"]

# Events paths kept at once: more than the sessions a run has open together, few enough to be
# a few MB at most.
_PATHS_KEPT: Final = 20_000


class McaDialect:
    """The Streaming Media Collection API (MCA-SPEC.md sections 1 to 5)."""

    name: Final = "mca"

    __slots__ = ("_events_paths",)

    def __init__(self) -> None:
        # Each open session's events path, built once: every event of a session goes there.
        self._events_paths: dict[str, str] = {}

    def start(self, body: WireBody, event_type: str = "") -> Request:
        """The request that opens a session: `POST /api/v1/sessions`."""
        return Request(SESSIONS_PATH, body, event_type)

    def event(self, sid: str, body: WireBody, event_type: str = "") -> Request:
        """The request that carries one of session `sid`'s events."""
        path = self._events_paths.get(sid)
        if path is None:
            if len(self._events_paths) >= _PATHS_KEPT:
                self._events_paths.clear()  # the sessions of long ago: built again if needed
            path = self._events_paths[sid] = events_path(sid)
        return Request(path, body, event_type)

    def is_start(self, request: Request) -> bool:
        """Whether `request` opens a session."""
        return request.path == SESSIONS_PATH

    def opened(self, response: Response | None) -> str | None:
        """The session an answer to a start opened (its `Location`), or None: not opened."""
        return response.sid if response is not None and response.status == 201 else None

    def gone(self, status: int | None) -> bool:
        """Whether an answer to an event says the session no longer exists (404, 410)."""
        return status in GONE_STATUSES


MCA: Final = McaDialect()
