"""The MCA as a wire dialect: where a session's events are posted, and what its answers mean.

Players speak one event vocabulary: a body with an `eventType`, a `playerTime` and the event's
`params`, `customMetadata` and `qoeData`, as the MCA defines them (playersim.mca.wire). A dialect
says how such a body travels: the request that opens a session, the requests that carry one
session's events, whether a request opens a session, how an answer names the new session, and
which answers say it is gone. Delivery (playersim.engines.delivery) asks its dialect these
questions and nothing else, so a second
dialect (Adobe's Media Edge API: `POST /ee/va/v1/{eventType}` with XDM bodies, the session id in
the answer's body) goes in a package beside this one, and players stay as they are.

>>> MCA.start({"eventType": "sessionStart", "playerTime": {"playhead": 0, "ts": 1}}).path
'/api/v1/sessions'
>>> events = MCA.events("abc")  # once per session: its events all go to one place
>>> events({"eventType": "play", "playerTime": {"playhead": 0, "ts": 2}}, "play").path
'/api/v1/sessions/abc/events'
>>> MCA.opened(Response(201, location="/api/v1/sessions/abc")), MCA.gone(410)
('abc', True)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final, TypeAlias, cast

from playersim.mca.api import (
    DOWNLOADED,
    DOWNLOADED_PATH,
    GONE_STATUSES,
    SESSIONS_PATH,
    Request,
    Response,
    events_path,
    sid_from_events_path,
)
from playersim.mca.wire import WireBody

__all__ = ["MCA", "EventRequests", "McaDialect"]

EventRequests: TypeAlias = Callable[[WireBody, str], Request]
"""Makes the request that carries one event of a session: `(body, its eventType) -> Request`."""


class McaDialect:
    """The Streaming Media Collection API (MCA-SPEC.md sections 1 to 5)."""

    name: Final = "mca"

    __slots__ = ()

    def start(self, body: WireBody, event_type: str = "") -> Request:
        """The request that opens a session: `POST /api/v1/sessions`."""
        return Request(SESSIONS_PATH, body, event_type)

    def events(self, sid: str) -> EventRequests:
        """The maker of session `sid`'s event requests: `POST /api/v1/sessions/{sid}/events`.

        Asked once per session (an outbox keeps it while the session lasts): a session's events
        all go to one path, so it is built once, not once per event.
        """
        path = events_path(sid)
        # What each request's `sid` says, worked out once for them all.
        return partial(Request, path, sid=sid_from_events_path(path))

    def is_start(self, request: Request) -> bool:
        """Whether `request` opens a session."""
        return request.path == SESSIONS_PATH

    def opened(self, response: Response | None) -> str | None:
        """The session an answer to a start opened (its `Location`), or None: not opened."""
        return response.sid if response is not None and response.status == 201 else None

    def gone(self, status: int | None) -> bool:
        """Whether an answer to an event says the session no longer exists (404, 410)."""
        return status in GONE_STATUSES

    def downloaded(self, bodies: list[WireBody]) -> Request:
        """A downloaded session, whole: `POST /api/v1/downloaded` with its events as a JSON
        array, sessionStart first (MCA-SPEC.md section 1). Answered 201, naming the session."""
        # The body is the array itself; the request is counted by its sessionStart.
        return Request(DOWNLOADED_PATH, cast("WireBody", bodies), DOWNLOADED, bodies[0])


MCA: Final = McaDialect()
