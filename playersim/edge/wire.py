"""The Media Edge request model: what the collector accepts on `/ee/va/v1/{event}`.

Built from Adobe's published contract (`static/media-edge.yaml` in AdobeDocs/data-collection-
apis, commit 1968dcf, and the endpoint pages beside it), types included: playheads, lengths,
offsets and positions are JSON integers, QoE figures 32-bit integers, `timestamp` an RFC 3339
date-time. As on the MCA, keys the contract does not name are refused (a typo such as
`sesionID` is a 400 naming the key, not a field silently lost), and `null` is no value.

Each endpoint takes one event (`events` holds one), of its own `eventType` (`media.` and the
path's name), with the details objects the contract requires there and no others (Adobe:
"The advertisingDetails object is not allowed when using this endpoint").
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from playersim.edge.mapping import MCA_EVENT, mca_body, parse_timestamp
from playersim.mca.spec import MAX_INTEGER
from playersim.mca.wire import Opt

__all__ = [
    "DOWNLOADED",
    "EDGE_EVENTS",
    "EdgeBody",
    "EdgeProblem",
    "EdgeWireError",
    "read_downloaded",
    "read_event",
    "validate_downloaded",
    "validate_event",
]

Whole = Annotated[StrictInt, Field(ge=0, le=MAX_INTEGER)]
Int32 = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Text = Annotated[StrictStr, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QoeDataDetails(_Strict):
    bitrate: Opt[Int32] = None
    droppedFrames: Opt[Int32] = None  # noqa: N815 - the contract's names
    framesPerSecond: Opt[Int32] = None  # noqa: N815
    timeToStart: Opt[Int32] = None  # noqa: N815


class SessionDetails(_Strict):
    name: Text
    playerName: Text  # noqa: N815
    length: Whole
    channel: Text
    contentType: Text  # noqa: N815
    friendlyName: Opt[StrictStr] = None  # noqa: N815
    streamType: Opt[Literal["audio", "video"]] = None  # noqa: N815
    hasResume: Opt[StrictBool] = None  # noqa: N815
    isDownloaded: Opt[StrictBool] = None  # noqa: N815
    appVersion: Opt[StrictStr] = None  # noqa: N815
    adLoad: Opt[StrictStr] = None  # noqa: N815
    artist: Opt[StrictStr] = None
    rating: Opt[StrictStr] = None
    show: Opt[StrictStr] = None
    episode: Opt[StrictStr] = None
    originator: Opt[StrictStr] = None
    firstAirDate: Opt[StrictStr] = None  # noqa: N815
    authorized: Opt[StrictStr] = None
    streamFormat: Opt[StrictStr] = None  # noqa: N815
    station: Opt[StrictStr] = None
    genre: Opt[StrictStr] = None
    season: Opt[StrictStr] = None
    showType: Opt[StrictStr] = None  # noqa: N815
    author: Opt[StrictStr] = None
    album: Opt[StrictStr] = None
    dayPart: Opt[StrictStr] = None  # noqa: N815
    label: Opt[StrictStr] = None
    mvpd: Opt[StrictStr] = None
    feed: Opt[StrictStr] = None
    assetID: Opt[StrictStr] = None  # noqa: N815
    publisher: Opt[StrictStr] = None
    firstDigitalDate: Opt[StrictStr] = None  # noqa: N815
    network: Opt[StrictStr] = None


class AdvertisingPodDetails(_Strict):
    index: Whole
    offset: Whole
    friendlyName: Opt[StrictStr] = None  # noqa: N815


class AdvertisingDetails(_Strict):
    name: Text
    length: Whole
    playerName: Text  # noqa: N815
    podPosition: Whole  # noqa: N815
    friendlyName: Opt[StrictStr] = None  # noqa: N815
    advertiser: Opt[StrictStr] = None
    campaignID: Opt[StrictStr] = None  # noqa: N815
    creativeID: Opt[StrictStr] = None  # noqa: N815
    creativeURL: Opt[StrictStr] = None  # noqa: N815
    placementID: Opt[StrictStr] = None  # noqa: N815
    siteID: Opt[StrictStr] = None  # noqa: N815


class ChapterDetails(_Strict):
    index: Whole
    offset: Whole
    length: Whole
    friendlyName: Opt[StrictStr] = None  # noqa: N815


class ErrorDetails(_Strict):
    name: Text
    source: Literal["player", "external"]


class StateName(_Strict):
    name: Annotated[StrictStr, Field(pattern=r"^[a-zA-Z0-9_.]{1,64}$")]


class CustomField(_Strict):
    name: Annotated[StrictStr, Field(pattern=r"^[a-zA-Z0-9_.]+$")]
    value: StrictStr


class MediaCollection(_Strict):
    playhead: Whole
    sessionID: Opt[Text] = None  # noqa: N815
    sessionDetails: Opt[SessionDetails] = None  # noqa: N815
    advertisingPodDetails: Opt[AdvertisingPodDetails] = None  # noqa: N815
    advertisingDetails: Opt[AdvertisingDetails] = None  # noqa: N815
    chapterDetails: Opt[ChapterDetails] = None  # noqa: N815
    errorDetails: Opt[ErrorDetails] = None  # noqa: N815
    qoeDataDetails: Opt[QoeDataDetails] = None  # noqa: N815
    customMetadata: Opt[list[CustomField]] = None  # noqa: N815
    statesStart: Opt[list[StateName]] = None  # noqa: N815
    statesEnd: Opt[list[StateName]] = None  # noqa: N815


class Identity(_Strict):
    id: Text
    authenticatedState: Literal["ambiguous", "authenticated", "loggedOut"] = "ambiguous"  # noqa: N815
    primary: Opt[StrictBool] = None


class Xdm(_Strict):
    eventType: Text  # noqa: N815
    mediaCollection: MediaCollection  # noqa: N815
    timestamp: StrictStr
    identityMap: Opt[dict[str, list[Identity]]] = None  # noqa: N815


class Event(_Strict):
    xdm: Xdm


class EdgeBody(_Strict):
    """A request body of an event endpoint: one event."""

    events: Annotated[list[Event], Field(min_length=1, max_length=1)]


class DownloadedEvent(_Strict):
    mediaEventType: Text  # noqa: N815
    mediaEventTimestamp: StrictStr  # noqa: N815
    mediaCollection: MediaCollection  # noqa: N815


class ImplementationDetails(_Strict):
    version: Opt[StrictStr] = None
    name: Opt[StrictStr] = None
    environment: Opt[Literal["browser", "app", "device", "server", "iot"]] = None


class _Nothing(_Strict):
    """An object with nothing in it: all a downloaded request's own mediaCollection holds."""


class DownloadedXdm(_Strict):
    eventType: Literal["media.downloaded"]  # noqa: N815
    # Required by Adobe's OpenAPI (and left out by its examples): each event has its own.
    mediaCollection: Opt[_Nothing] = None  # noqa: N815
    mediaDownloadedEvents: Annotated[list[DownloadedEvent], Field(min_length=1)]  # noqa: N815
    identityMap: dict[str, list[Identity]]  # noqa: N815
    implementationDetails: Opt[ImplementationDetails] = None  # noqa: N815


class DownloadedBody(_Strict):
    events: Annotated[list[DownloadedEventWrap], Field(min_length=1, max_length=1)]


class DownloadedEventWrap(_Strict):
    xdm: DownloadedXdm


DownloadedBody.model_rebuild()

DOWNLOADED: Final = "downloaded"
# The event endpoints (`/ee/va/v1/{name}`), each the MCA event of the same name.
EDGE_EVENTS: Final = frozenset(MCA_EVENT)
# What each endpoint's mediaCollection must hold (besides the playhead), and what only it may.
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "sessionStart": ("sessionDetails",),
    "adBreakStart": ("advertisingPodDetails",),
    "adStart": ("advertisingDetails",),
    "chapterStart": ("chapterDetails",),
    "error": ("errorDetails",),
    "bitrateChange": ("qoeDataDetails",),
}
_ONLY_ON: Final = {
    "sessionDetails": {"sessionStart"},
    "advertisingPodDetails": {"adBreakStart"},
    "advertisingDetails": {"adStart"},
    "chapterDetails": {"chapterStart"},
    "errorDetails": {"error"},
    "statesStart": {"statesUpdate"},
    "statesEnd": {"statesUpdate"},
    "customMetadata": {"sessionStart", "adStart", "chapterStart"},
}


class EdgeProblem(BaseModel):
    """One thing wrong with a request, as Adobe's answers name it: a JSON path and a reason."""

    model_config = ConfigDict(frozen=True)

    name: str
    reason: str


class EdgeWireError(ValueError):
    """A body the Edge API refuses, with each problem named by its JSON path."""

    def __init__(self, problems: list[EdgeProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.name}: {p.reason}" for p in problems))


def _path(loc: tuple[int | str, ...], root: str) -> str:
    text = root
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _problems(exc: ValidationError, root: str = "$") -> list[EdgeProblem]:
    problems = []
    for error in exc.errors(include_url=False)[:20]:
        kind = error["type"]
        if kind == "missing":
            reason = "Missing required field"
        elif kind == "extra_forbidden":
            reason = "Unknown field, not in the contract"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            if not isinstance(given, dict | list):
                reason += f" (got {given!r})"[:120]
        problems.append(EdgeProblem(name=_path(tuple(error["loc"]), root), reason=reason))
    return problems


def _check_parts(event: str, media: MediaCollection, where: str) -> list[EdgeProblem]:
    problems = [
        EdgeProblem(name=f"{where}.{part}", reason="Missing required field")
        for part in _REQUIRED.get(event, ())
        if getattr(media, part) is None
    ]
    for part, allowed in _ONLY_ON.items():
        if getattr(media, part) is not None and event not in allowed:
            problems.append(
                EdgeProblem(name=f"{where}.{part}", reason=f"Not allowed on media.{event}")
            )
    if event == "statesUpdate" and not (media.statesStart or media.statesEnd):
        problems.append(
            EdgeProblem(name=f"{where}.statesStart", reason="statesStart and/or statesEnd needed")
        )
    return problems


def validate_event(event: str, data: object) -> tuple[Xdm, int]:
    """The one event of a request to `/ee/va/v1/{event}`, validated, and its instant in epoch
    ms; EdgeWireError naming every problem by its JSON path."""
    if not isinstance(data, dict):
        raise EdgeWireError([EdgeProblem(name="$", reason="The body must be a JSON object")])
    try:
        body = EdgeBody.model_validate(data)
    except ValidationError as exc:
        raise EdgeWireError(_problems(exc)) from None
    xdm = body.events[0].xdm
    where = "$.events[0].xdm"
    problems = []
    if xdm.eventType != f"media.{event}":
        problems.append(
            EdgeProblem(
                name=f"{where}.eventType",
                reason=f"must be media.{event} on this endpoint (got {xdm.eventType!r})",
            )
        )
    media = xdm.mediaCollection
    problems += _check_parts(event, media, f"{where}.mediaCollection")
    if event == "sessionStart" and media.sessionID is not None:
        problems.append(
            EdgeProblem(
                name=f"{where}.mediaCollection.sessionID",
                reason="Not allowed on media.sessionStart: the answer gives the session its id",
            )
        )
    elif event != "sessionStart" and media.sessionID is None:
        problems.append(
            EdgeProblem(name=f"{where}.mediaCollection.sessionID", reason="Missing required field")
        )
    ts = 0
    try:
        ts = parse_timestamp(xdm.timestamp)
    except ValueError as exc:
        problems.append(EdgeProblem(name=f"{where}.timestamp", reason=str(exc)))
    if problems:
        raise EdgeWireError(problems)
    return xdm, ts


def validate_downloaded(data: object) -> tuple[DownloadedXdm, list[int]]:
    """A `/ee/va/v1/downloaded` body, validated: a whole session, sessionStart first, with no
    session id; and each of its events' instants."""
    if not isinstance(data, dict):
        raise EdgeWireError([EdgeProblem(name="$", reason="The body must be a JSON object")])
    try:
        body = DownloadedBody.model_validate(data)
    except ValidationError as exc:
        raise EdgeWireError(_problems(exc)) from None
    xdm = body.events[0].xdm
    problems: list[EdgeProblem] = []
    instants: list[int] = []
    for index, event in enumerate(xdm.mediaDownloadedEvents):
        where = f"$.events[0].xdm.mediaDownloadedEvents[{index}]"
        name = event.mediaEventType.removeprefix("media.")
        if not event.mediaEventType.startswith("media.") or name not in EDGE_EVENTS:
            problems.append(
                EdgeProblem(
                    name=f"{where}.mediaEventType",
                    reason=f"not a media event type (got {event.mediaEventType!r})",
                )
            )
            continue
        if index == 0 and name != "sessionStart":
            problems.append(
                EdgeProblem(
                    name=f"{where}.mediaEventType",
                    reason="A downloaded session starts with media.sessionStart",
                )
            )
        if index > 0 and name == "sessionStart":
            problems.append(
                EdgeProblem(
                    name=f"{where}.mediaEventType",
                    reason="One session per payload: media.sessionStart comes first and once",
                )
            )
        media = event.mediaCollection
        problems += _check_parts(name, media, f"{where}.mediaCollection")
        if media.sessionID is not None:
            problems.append(
                EdgeProblem(
                    name=f"{where}.mediaCollection.sessionID",
                    reason="Not allowed: Adobe gives a downloaded session its id",
                )
            )
        try:
            instants.append(parse_timestamp(event.mediaEventTimestamp))
        except ValueError as exc:
            problems.append(EdgeProblem(name=f"{where}.mediaEventTimestamp", reason=str(exc)))
    if problems:
        raise EdgeWireError(problems[:20])
    return xdm, instants


def read_event(
    event: str, data: object, *, tenant: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """A request to `/ee/va/v1/{event}`, validated, as the MCA body it stands for, and the
    session it names (None for a sessionStart); EdgeWireError naming every problem."""
    xdm, ts = validate_event(event, data)
    return mca_body(as_dict(xdm), event, ts, tenant=tenant), xdm.mediaCollection.sessionID


def read_downloaded(data: object, *, tenant: str | None = None) -> list[dict[str, Any]]:
    """A `/ee/va/v1/downloaded` body, validated, as the MCA bodies of its session, in order;
    EdgeWireError naming every problem."""
    xdm, instants = validate_downloaded(data)
    return [
        mca_body(
            {"mediaCollection": as_dict(item.mediaCollection)},
            item.mediaEventType.removeprefix("media."),
            ts,
            tenant=tenant,
        )
        for item, ts in zip(xdm.mediaDownloadedEvents, instants, strict=True)
    ]


def as_dict(model: BaseModel) -> dict[str, Any]:
    """A validated part as plain JSON values, without the keys that were not sent."""
    dumped: dict[str, Any] = model.model_dump(exclude_none=True)
    return dumped
