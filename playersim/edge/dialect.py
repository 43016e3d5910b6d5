"""The Media Edge API as a wire dialect: where a session's events go, and what answers mean.

The same players and outboxes as the MCA's (playersim.mca.dialect): each MCA body is sent as the
Edge event it maps to (playersim.edge.mapping), to `/ee/va/v1/{event}?configId={datastream}`.
A sessionStart is answered 200 with the session id in its body (the `media-analytics:new-session`
handle); every later event names it as `mediaCollection.sessionID`. A 404 says the session is
gone (Edge has no 410: an expired or ended session is not found).

>>> edge = EdgeDialect("2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c")
>>> start = edge.start({"playerTime": {"playhead": 0, "ts": 1767268800000},
...                     "eventType": "sessionStart", "params": {"media.id": "m1"}})
>>> start.path
'/ee/va/v1/sessionStart?configId=2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c'
>>> edge.events("abc")({"playerTime": {"playhead": 3, "ts": 1767268803000},
...                     "eventType": "stateEnd", "params": {"media.state.name": "mute"}},
...                    "stateEnd").path
'/ee/va/v1/statesUpdate?configId=2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c'
>>> edge.opened(Response(200, session="abc")), edge.gone(404)
('abc', True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from playersim.edge.mapping import edge_event, edge_path_event
from playersim.mca.api import DOWNLOADED, EDGE_PATH, GONE_STATUSES, Request, Response
from playersim.mca.wire import WireBody

__all__ = ["DEFAULT_EDGE_HOST", "EdgeDialect"]

# Adobe's Edge Network, where a Media Edge API request goes unless told otherwise.
DEFAULT_EDGE_HOST: Final = "edge.adobedc.net"


class EdgeDialect:
    """Adobe's Media Edge API, for one datastream (`config_id`).

    `tenant`: the organization's XDM tenant namespace (e.g. `_acme`), put before each
    customMetadata name as Adobe asks (`_acme.device.model`); None sends the names as they are.
    """

    name: Final = "edge"

    __slots__ = ("_query", "config_id", "tenant")

    def __init__(self, config_id: str, *, tenant: str | None = None) -> None:
        if not config_id:
            raise ValueError("the Media Edge API needs a datastream id (configId)")
        self.config_id = config_id
        self.tenant = tenant
        self._query = "?configId=" + quote(config_id, safe="")

    def path(self, event: str) -> str:
        """The path an Edge event (`sessionStart`, `play`, `downloaded`, ...) is posted to."""
        return f"{EDGE_PATH}{event}{self._query}"

    def start(self, body: WireBody, event_type: str = "") -> Request:
        """The request that opens a session: `POST /ee/va/v1/sessionStart?configId=...`."""
        edge = {"events": [edge_event(body, tenant=self.tenant)]}
        return Request(self.path("sessionStart"), edge, event_type or "sessionStart", body)

    def events(self, sid: str) -> Callable[[WireBody, str], Request]:
        """The maker of session `sid`'s event requests, each to its own event's path."""
        tenant, path = self.tenant, self.path

        def request(body: WireBody, event_type: str) -> Request:
            edge = {"events": [edge_event(body, session_id=sid, tenant=tenant)]}
            return Request(path(edge_path_event(event_type)), edge, event_type, body)

        return request

    def is_start(self, request: Request) -> bool:
        """Whether `request` opens a session."""
        return request.path.startswith(f"{EDGE_PATH}sessionStart")

    def opened(self, response: Response | None) -> str | None:
        """The session a 200 to a sessionStart names in its body, or None: not opened (a 207
        names what was wrong instead)."""
        return response.sid if response is not None and response.status == 200 else None

    def downloaded(self, bodies: list[WireBody]) -> Request:
        """A downloaded session, whole: `POST /ee/va/v1/downloaded?configId=...`, its events
        in `mediaDownloadedEvents`, sessionStart first and no session id (Adobe gives it one)."""
        events = [edge_event(body, tenant=self.tenant)["xdm"] for body in bodies]
        identity = events[0].get("identityMap") or {}
        xdm = {
            "eventType": "media.downloaded",
            # Adobe's OpenAPI requires an xdm.mediaCollection here (its examples leave it out):
            # an empty one satisfies both.
            "mediaCollection": {},
            "identityMap": identity,
            "mediaDownloadedEvents": [
                {
                    "mediaEventType": event["eventType"],
                    "mediaEventTimestamp": event["timestamp"],
                    "mediaCollection": event["mediaCollection"],
                }
                for event in events
            ],
        }
        return Request(self.path(DOWNLOADED), {"events": [{"xdm": xdm}]}, DOWNLOADED, bodies[0])

    def gone(self, status: int | None) -> bool:
        """Whether an answer to an event says its session no longer exists (404)."""
        return status in GONE_STATUSES
