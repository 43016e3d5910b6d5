"""The MCA's names and the Media Edge API's, one table used both ways.

Players speak one event vocabulary, the MCA's (playersim.mca.wire). A run on the Media Edge API
sends each MCA body as the Edge event Adobe's contract describes (`static/media-edge.yaml` in
AdobeDocs/data-collection-apis, commit 1968dcf): `{"events": [{"xdm": {"eventType": "media.play",
"mediaCollection": {...}, "timestamp": "..."}}]}`. The collector reads an Edge event back into
the MCA body it stands for, so one set of session rules and one conformance report judge both.

What does not carry over, and why (docs/media-edge.md has the whole table):
- Routing (`analytics.trackingServer`, `analytics.reportSuite`, `visitor.marketingCloudOrgId`,
  `analytics.enableSSL`): an Edge request names its datastream (`configId`), which routes it.
- Visitor ids (`analytics.visitorId`, `analytics.aid`, `visitor.marketingCloudUserId`,
  `visitor.aamLocationHint`, `visitor.customerIDs`, the opt-outs): Adobe's contract has one
  identity, `identityMap.FPID`, the device's first-party id. playersim sends the app's
  installation id there (a browser's visitor id when there is no app).
- `media.libraryVersion`, and a QoE `errorID`/`errorSource` on anything but an error: no field.
- Numbers the contract says are integers (playheads, lengths, offsets) are sent as whole
  seconds: a playhead as the second it has reached (floored), the content's length up to the
  next second (so every playhead stays inside it), other lengths to the nearest second.
- `media.ad.podPosition` counts from 1 on the MCA (MCA-SPEC.md) and from 0 on Edge (Adobe's Edge
  pages and examples): the first ad of a pod is 0 there.
- QoE units: the MCA's bitrate is bits per second and its timeToStart milliseconds; Edge's are
  kbps and seconds.
- `stateStart` and `stateEnd` have no endpoint: Edge sends both as `statesUpdate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from playersim.clock import format_instant
from playersim.mca.spec import MAX_TS
from playersim.mca.wire import WireBody

__all__ = [
    "AD_DETAILS",
    "CHAPTER_DETAILS",
    "EDGE_EVENT",
    "MCA_EVENT",
    "NO_EDGE_FIELD",
    "POD_DETAILS",
    "QOE_DETAILS",
    "QOE_UNITS",
    "SESSION_DETAILS",
    "edge_event",
    "edge_path_event",
    "mca_body",
    "parse_timestamp",
]

# sessionStart params -> mediaCollection.sessionDetails.
SESSION_DETAILS: Final = {
    "media.id": "name",
    "media.name": "friendlyName",
    "media.length": "length",
    "media.contentType": "contentType",
    "media.playerName": "playerName",
    "media.channel": "channel",
    "media.streamType": "streamType",
    "media.resume": "hasResume",
    "media.sdkVersion": "appVersion",
    "media.downloaded": "isDownloaded",
    "media.publisher": "publisher",
    "media.show": "show",
    "media.season": "season",
    "media.episode": "episode",
    "media.assetId": "assetID",
    "media.genre": "genre",
    "media.firstAirDate": "firstAirDate",
    "media.firstDigitalDate": "firstDigitalDate",
    "media.rating": "rating",
    "media.originator": "originator",
    "media.network": "network",
    "media.showType": "showType",
    "media.streamFormat": "streamFormat",
    "media.adLoad": "adLoad",
    "media.pass.mvpd": "mvpd",
    "media.pass.auth": "authorized",
    "media.dayPart": "dayPart",
    "media.feed": "feed",
    "media.artist": "artist",
    "media.album": "album",
    "media.label": "label",
    "media.author": "author",
    "media.station": "station",
}
# adBreakStart params -> mediaCollection.advertisingPodDetails.
POD_DETAILS: Final = {
    "media.ad.podIndex": "index",
    "media.ad.podSecond": "offset",
    "media.ad.podFriendlyName": "friendlyName",
}
# adStart params -> mediaCollection.advertisingDetails.
AD_DETAILS: Final = {
    "media.ad.id": "name",
    "media.ad.name": "friendlyName",
    "media.ad.length": "length",
    "media.ad.podPosition": "podPosition",
    "media.ad.playerName": "playerName",
    "media.ad.advertiser": "advertiser",
    "media.ad.campaignId": "campaignID",
    "media.ad.creativeId": "creativeID",
    "media.ad.siteId": "siteID",
    "media.ad.creativeURL": "creativeURL",
    "media.ad.placementId": "placementID",
}
# chapterStart params -> mediaCollection.chapterDetails.
CHAPTER_DETAILS: Final = {
    "media.chapter.index": "index",
    "media.chapter.offset": "offset",
    "media.chapter.length": "length",
    "media.chapter.friendlyName": "friendlyName",
}
# The MCA counts these in smaller units than Edge does: bits per second against Edge's kbps,
# milliseconds against Edge's seconds (Adobe's contract, `qoeDataDetails`).
QOE_UNITS: Final = {"bitrate": 1000, "timeToStart": 1000}
# qoeData -> mediaCollection.qoeDataDetails (errorID and errorSource go to errorDetails).
QOE_DETAILS: Final = {
    "media.qoe.bitrate": "bitrate",
    "media.qoe.droppedFrames": "droppedFrames",
    "media.qoe.framesPerSecond": "framesPerSecond",
    "media.qoe.timeToStart": "timeToStart",
}
# MCA keys the Edge contract has no field for, and why (the docs' table is checked against it).
NO_EDGE_FIELD: Final = {
    "analytics.trackingServer": "the datastream (configId) routes the data",
    "analytics.reportSuite": "the datastream (configId) routes the data",
    "visitor.marketingCloudOrgId": "the datastream (configId) belongs to the organization",
    "analytics.enableSSL": "the Edge Network takes HTTPS only",
    "analytics.visitorId": "identityMap.FPID when there is no appInstallationId",
    "analytics.aid": "no field in the contract",
    "visitor.marketingCloudUserId": "no field in the contract (the Edge Network sets the ECID)",
    "visitor.aamLocationHint": "no field in the contract (the answer's locationHint is its own)",
    "visitor.customerIDs": "no field in the contract (identityMap lists FPID only)",
    "appInstallationId": "identityMap.FPID, the device's first-party id",
    "analytics.optOutServerSideForwarding": "no field in the contract",
    "analytics.optOutShare": "no field in the contract",
    "media.libraryVersion": "no field in the contract (appVersion takes media.sdkVersion)",
}
# Details objects whose numbers the contract types as integers, and how a number is made whole.
_WHOLE: Final[dict[str, Callable[[float], int]]] = {
    "length": round,
    "offset": math.floor,
    "podPosition": int,
    "index": int,
}
# The MCA event each Edge path stands for; stateStart/stateEnd have none of their own.
EDGE_EVENT: Final = {
    "stateStart": "statesUpdate",
    "stateEnd": "statesUpdate",
}
MCA_EVENT: Final = {
    name: name
    for name in (
        "sessionStart", "play", "ping", "pauseStart", "bufferStart", "bitrateChange", "error",
        "adBreakStart", "adStart", "adComplete", "adSkip", "adBreakComplete", "chapterStart",
        "chapterComplete", "chapterSkip", "statesUpdate", "sessionComplete", "sessionEnd",
    )
}  # fmt: skip
# Who a viewer is on Edge: the identity namespace Adobe's contract documents.
FPID: Final = "FPID"


def edge_path_event(event_type: str) -> str:
    """The Edge endpoint (and `media.` event) an MCA event type is sent as."""
    return EDGE_EVENT.get(event_type, event_type)


def _details(params: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for key, value in params.items():
        name = names.get(key)
        if name is None:
            continue
        whole = _WHOLE.get(name)
        details[name] = whole(value) if whole is not None else value
    return details


def _custom(custom: dict[str, str] | None, tenant: str | None) -> list[dict[str, str]]:
    prefix = f"{tenant}." if tenant else ""
    return [{"name": prefix + key, "value": value} for key, value in (custom or {}).items()]


def edge_event(
    body: WireBody, *, session_id: str | None = None, tenant: str | None = None
) -> dict[str, Any]:
    """The Edge event (`{"xdm": {...}}`) for one MCA body; `session_id` for every event but a
    sessionStart. `tenant`: the organization's XDM tenant namespace (`_acme`), put before
    each customMetadata name, as Adobe's contract asks; None sends the names as they are.

    >>> event = edge_event({"playerTime": {"playhead": 12.7, "ts": 1767268812700},
    ...                     "eventType": "play"}, session_id="abc")
    >>> event["xdm"]["eventType"], event["xdm"]["timestamp"]
    ('media.play', '2026-01-01T12:00:12.700Z')
    >>> event["xdm"]["mediaCollection"]  # the playhead the second it has reached
    {'playhead': 12, 'sessionID': 'abc'}
    """
    event_type = body["eventType"]
    player_time = body["playerTime"]
    params: dict[str, Any] = body.get("params") or {}
    qoe: dict[str, Any] = body.get("qoeData") or {}
    media: dict[str, Any] = {"playhead": math.floor(player_time["playhead"])}
    if session_id is not None:
        media["sessionID"] = session_id
    xdm: dict[str, Any] = {"eventType": "media." + edge_path_event(event_type)}
    if event_type == "sessionStart":
        details = _details(params, SESSION_DETAILS)
        if "media.length" in params:
            # Up to the next second: a floored playhead then stays inside [0, length).
            details["length"] = math.ceil(params["media.length"])
        media["sessionDetails"] = details
        device = params.get("appInstallationId") or params.get("analytics.visitorId")
        if device:
            xdm["identityMap"] = {
                FPID: [{"id": device, "authenticatedState": "ambiguous", "primary": True}]
            }
    elif event_type == "adBreakStart":
        media["advertisingPodDetails"] = _details(params, POD_DETAILS)
    elif event_type == "adStart":
        details = _details(params, AD_DETAILS)
        details["podPosition"] -= 1  # Edge counts the ads of a pod from 0, the MCA from 1
        media["advertisingDetails"] = details
    elif event_type == "chapterStart":
        media["chapterDetails"] = _details(params, CHAPTER_DETAILS)
    elif event_type in ("stateStart", "stateEnd"):
        which = "statesStart" if event_type == "stateStart" else "statesEnd"
        media[which] = [{"name": params["media.state.name"]}]
    elif event_type == "statesUpdate":
        for which in ("statesStart", "statesEnd"):
            if params.get(which):
                media[which] = [{"name": s["media.state.name"]} for s in params[which]]
    elif event_type == "error":
        media["errorDetails"] = {
            "name": qoe.get("media.qoe.errorID") or "unknown",
            "source": qoe.get("media.qoe.errorSource", "player"),
        }
    if custom := body.get("customMetadata"):
        media["customMetadata"] = _custom(custom, tenant)
    if qoe and (details := _details(qoe, QOE_DETAILS)):
        for name, unit in QOE_UNITS.items():
            if name in details:
                details[name] = round(details[name] / unit)  # kbps, seconds
        media["qoeDataDetails"] = details
    xdm["mediaCollection"] = media
    xdm["timestamp"] = format_instant(player_time["ts"])
    return {"xdm": xdm}


def parse_timestamp(text: str) -> int:
    """An RFC 3339 date-time with its offset (`Z` or `+hh:mm`) as epoch milliseconds, from 1970
    to the end of 9999 (the MCA's `ts`); ValueError for anything else (a date-time without an
    offset is no instant)."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-01-01T12:00:00.000Z")
    spelled = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(spelled)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-01-01T12:00:00.000Z") from None
    if moment.tzinfo is None:
        raise ValueError("needs its offset from UTC (Z, or +hh:mm)")
    try:
        ms = round(moment.astimezone(UTC).timestamp() * 1000)
    except (OverflowError, ValueError):
        ms = -1  # (year 1 with an offset east of UTC: before any instant Python holds)
    if not 0 <= ms <= MAX_TS:
        raise ValueError(f"{text!r} is not an instant from 1970 to the end of 9999")
    return ms


def _back(details: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    keys = {edge: mca for mca, edge in names.items()}
    return {keys[name]: value for name, value in details.items() if name in keys}


def mca_body(
    xdm: dict[str, Any], event_type: str, ts: int, *, tenant: str | None = None
) -> WireBody:
    """The MCA body an Edge event stands for (already valid by the Edge model): what the
    collector's session rules and conformance report read. `event_type` is the MCA's."""
    media: dict[str, Any] = xdm["mediaCollection"]
    body: WireBody = {"playerTime": {"playhead": media["playhead"], "ts": ts}}
    params: dict[str, Any] = {}
    given = dict(media.get("qoeDataDetails") or {})
    for name, unit in QOE_UNITS.items():
        if name in given:
            given[name] *= unit  # back to bits per second and milliseconds
    qoe: dict[str, Any] = _back(given, QOE_DETAILS)
    if event_type == "sessionStart":
        # (The identity stays behind: which MCA id an FPID was, Edge does not say.)
        params = _back(media["sessionDetails"], SESSION_DETAILS)
    elif event_type == "adBreakStart":
        params = _back(media["advertisingPodDetails"], POD_DETAILS)
    elif event_type == "adStart":
        params = _back(media["advertisingDetails"], AD_DETAILS)
        params["media.ad.podPosition"] += 1
    elif event_type == "chapterStart":
        params = _back(media["chapterDetails"], CHAPTER_DETAILS)
    elif event_type == "statesUpdate":
        for which in ("statesStart", "statesEnd"):
            if media.get(which) is not None:
                params[which] = [{"media.state.name": s["name"]} for s in media[which]]
    elif event_type == "error":
        details = media["errorDetails"]
        qoe["media.qoe.errorID"] = details["name"]
        qoe["media.qoe.errorSource"] = details["source"]
    body["eventType"] = event_type
    if params:
        body["params"] = params
    if qoe:
        body["qoeData"] = qoe
    if custom := media.get("customMetadata"):
        prefix = f"{tenant}." if tenant else ""
        body["customMetadata"] = {
            entry["name"].removeprefix(prefix): entry["value"] for entry in custom
        }
    return body
