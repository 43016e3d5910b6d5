"""The collector's Media Edge endpoint: `/ee/va/v1/{event}`, answered as Adobe's Edge Network does.

Attached to a `Collector` (`speak_edge`), it validates each request against the Edge model
(playersim.edge.wire), reads the event back into the MCA body it stands for
(playersim.edge.mapping), and hands that to the collector: one set of session rules (10 minutes
without an event, 30 without playhead movement, sessionEnd), one conformance report, one set of
counters and one recording for both dialects. Its answers are shaped as Adobe's:

- `200` for a sessionStart, its body naming the session (`handle[]` of type
  `media-analytics:new-session`, `payload[].sessionId`); `207` for a sessionStart whose event is
  invalid (the errors listed, no session);
- `204` for any other event of an open session;
- `400` for a body the contract refuses, `404` for a session that does not exist, or no longer
  (Edge has no 410), as RFC 7807 problem details typed `https://ns.adobe.com/aep/errors/va-edge-0400-400`
  and so on (`problem_body`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final
from urllib.parse import parse_qs

from pydantic import Field, StrictBool, StrictStr, ValidationError

from playersim.edge.wire import (
    DOWNLOADED,
    EDGE_EVENTS,
    EdgeProblem,
    EdgeWireError,
    read_downloaded,
    read_event,
)
from playersim.errors import WireError
from playersim.mca.api import EDGE_PATH, Response, edge_event_of
from playersim.mca.collector import Collector
from playersim.mca.wire import (
    BodyModel,
    Opt,
    SessionStart,
    SessionStartParams,
    decode_json,
    validate_body,
)

__all__ = ["MAX_REQUEST_BYTES", "EdgeFront", "answer_body", "problem_body", "speak_edge"]

# The most a JSON request to Adobe's Edge Network may hold (its guardrails: "JSON plain-text,
# 64 KB").
MAX_REQUEST_BYTES: Final = 64 * 1024

_TITLES: Final = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _RoutedByDatastream(SessionStartParams):
    """sessionStart params as a Media Edge sessionStart gives them: its datastream routes the
    data, so the MCA's routing keys are not there."""

    tracking_server: Opt[StrictStr] = Field(  # type: ignore[assignment]
        default=None, alias="analytics.trackingServer"
    )
    report_suite: Opt[StrictStr] = Field(  # type: ignore[assignment]
        default=None, alias="analytics.reportSuite"
    )
    org_id: Opt[StrictStr] = Field(  # type: ignore[assignment]
        default=None, alias="visitor.marketingCloudOrgId"
    )
    enable_ssl: Opt[StrictBool] = Field(default=None, alias="analytics.enableSSL")


class EdgeSessionStart(SessionStart):
    """The MCA sessionStart a Media Edge one stands for."""

    params: _RoutedByDatastream


class EdgeFront:
    """Answers `/ee/va/v1/...` for `collector` (see the module's docstring).

    `tenant`: the XDM tenant namespace the players put before customMetadata names, taken off
    again so the collector sees the MCA's keys.
    """

    def __init__(self, collector: Collector, *, tenant: str | None = None) -> None:
        self.collector = collector
        self.tenant = tenant

    def __call__(self, method: str, path: str, raw: object) -> Response:
        bare, _, query = path.partition("?")
        name = edge_event_of(path) or ""
        if name not in EDGE_EVENTS and name != DOWNLOADED:
            return _problem(404, f"no such Media Edge endpoint: {bare}")
        if method != "POST":
            return _problem(405, f"{method} is not allowed on {bare}: use POST")
        config_ids = parse_qs(query).get("configId") or []
        if name in ("sessionStart", DOWNLOADED) and not any(config_ids):
            return _problem(
                400,
                "configId: required: the datastream id, as ?configId=... on the URL",
                [("configId", "Missing required query parameter")],
            )
        try:
            data = decode_json(raw) if isinstance(raw, bytes | bytearray | str) else raw
        except WireError as exc:
            return _problem(400, exc.message, [("$", exc.message)])
        if name == DOWNLOADED:
            # A whole session in one body, the only large request: held to the Edge Network's
            # limit in memory too, as `playersim serve` holds every request to it.
            size = len(raw) if isinstance(raw, bytes | bytearray | str) else _json_size(data)
            if size > MAX_REQUEST_BYTES:
                return _problem(
                    413,
                    f"the body is {size:,} bytes: the Edge Network takes at most "
                    f"{MAX_REQUEST_BYTES:,} a request",
                )
            return self._downloaded(data)
        try:
            body, sid = read_event(name, data, tenant=self.tenant)
        except EdgeWireError as exc:
            return _refused(name, exc.problems)
        if name == "sessionStart":
            self.collector.requests_by_event[name] += 1  # (as the MCA's sessions path counts)
            try:
                start = EdgeSessionStart.model_validate(body)
            except ValidationError as exc:
                return _refused(name, [EdgeProblem(name="$.events[0].xdm", reason=_why(exc))])
            opened = self.collector.open_session(start, raw, whole_seconds=True)
            if opened.sid is None:
                return opened
            return Response(200, session=opened.sid)
        try:
            model = validate_body(body)
        except WireError as exc:
            return _problem(400, exc.message, [("$.events[0].xdm", exc.message)])
        assert sid is not None, "read_event requires it on every event but sessionStart"
        answer = self.collector.take_event(sid, model)
        if answer.status in (404, 410):
            # Edge has no 410: an ended or expired session is one that is not found.
            return _problem(404, answer.message or "no such session")
        if answer.status >= 400:
            return _problem(answer.status, answer.message or "")
        return answer

    def _downloaded(self, data: object) -> Response:
        try:
            read = read_downloaded(data, tenant=self.tenant)
        except EdgeWireError as exc:
            return _refused(DOWNLOADED, exc.problems)
        bodies: list[BodyModel] = []
        for index, body in enumerate(read):
            try:
                if index == 0:
                    bodies.append(EdgeSessionStart.model_validate(body))
                else:
                    bodies.append(validate_body(body))
            except (ValidationError, WireError) as exc:
                why = exc.message if isinstance(exc, WireError) else _why(exc)
                where = f"$.events[0].xdm.mediaDownloadedEvents[{index}]"
                return _refused(DOWNLOADED, [EdgeProblem(name=where, reason=why)])
        # Adobe adds the sessionComplete a downloaded session lacks (and reports the session
        # as not completed): so does the collector.
        answer = self.collector.take_downloaded(bodies, whole_seconds=True, complete_missing=True)
        if answer.sid is None:
            return _problem(answer.status, answer.message or "")
        return Response(200, session=answer.sid)


def _json_size(data: object) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def speak_edge(collector: Collector, *, tenant: str | None = None) -> Collector:
    """Make `collector` answer the Media Edge API too (`/ee/va/v1/...`); returns it."""
    collector.add_front(EDGE_PATH, EdgeFront(collector, tenant=tenant))
    return collector


def _why(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
        for error in exc.errors(include_url=False)[:5]
    )


def _refused(event: str, problems: list[EdgeProblem]) -> Response:
    """A request the contract refuses: 207 with the errors for a sessionStart or a downloaded
    session (as Adobe answers those), 400 for any other event."""
    status = 207 if event in ("sessionStart", DOWNLOADED) else 400
    message = "; ".join(f"{p.name}: {p.reason}" for p in problems)
    return Response(status, message=message, details=tuple((p.name, p.reason) for p in problems))


def _problem(status: int, detail: str, details: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, message=detail, details=tuple(details or ()))


def _request_id(seed: str) -> str:
    # Derived, not random: the same run gets the same answers, byte for byte.
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def problem_body(response: Response, *, path: str = "") -> dict[str, Any]:
    """An Edge error answer (status 400 and up) as RFC 7807 problem details, as Adobe's."""
    status = response.status
    details = [{"name": name, "reason": reason} for name, reason in response.details]
    report: dict[str, Any] = {"requestId": _request_id(f"{path}:{status}:{response.message}")}
    if details:
        report["details"] = details
    return {
        "type": f"https://ns.adobe.com/aep/errors/va-edge-{status:04d}-{status}",
        "status": status,
        "title": _TITLES.get(status, "Error"),
        "detail": response.message or _TITLES.get(status, "Error"),
        "report": report,
    }


def answer_body(response: Response, *, path: str = "") -> bytes | None:
    """The JSON body of an Edge answer (None for a 204): the new session's handle for a 200,
    the errors of a 207, problem details for a 4xx or 5xx."""
    status = response.status
    request_id = _request_id(f"{path}:{status}:{response.session}:{response.message}")
    if status == 204:
        return None
    if status == 200:
        handle = []
        if response.session is not None:
            handle.append(
                {
                    "payload": [{"sessionId": response.session}],
                    "type": "media-analytics:new-session",
                    "eventIndex": 0,
                }
            )
        return _json({"requestId": request_id, "handle": handle})
    if status == 207:
        return _json(
            {
                "requestId": request_id,
                "handle": [],
                "errors": [
                    {
                        "type": "https://ns.adobe.com/aep/errors/va-edge-0400-400",
                        "status": 400,
                        "title": "Invalid request",
                        "report": {
                            "eventIndex": 0,
                            "details": [
                                {"name": name, "reason": reason}
                                for name, reason in response.details
                            ],
                        },
                    }
                ],
            }
        )
    return _json(problem_body(response, path=path))


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
