"""The MCA wire model: one definition of the request body, shared by players and collectors.

Players build bodies with the key names and builders defined here, collectors validate incoming
JSON against these models, and (later) the `/api/v1/schemas/{eventType}` documents are generated
from them. A change to the contract (MCA-SPEC.md sections 2 and 3) is a change in this file only.

Two rules shape every model:
- JSON types are strict, as Adobe's draft-04 schemas are: `"12"` is not a number, `1.0` is not an
  integer, `true` is not a number. A lax model would accept traffic the real API rejects.
- Unknown keys are refused (`additionalProperties: false`), so a typo such as `media.lenght` is a
  400 naming the key, not a silently lost field.
"""

from __future__ import annotations

import json
import math
import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self, TypeAlias, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic_core import CoreSchema, to_json

from playersim.errors import WireError
from playersim.mca.spec import MAX_INTEGER, MAX_TS

__all__ = [
    "CUSTOM_METADATA_EVENTS",
    "EVENT_TYPES",
    "Body",
    "BodyModel",
    "EventType",
    "WireBody",
    "body_adapter",
    "check_unicode",
    "decode_json",
    "encode_body",
    "json_schema",
    "json_seconds",
    "make_body",
    "params_of",
    "parse_body",
    "ping_body",
    "plain_ping",
    "to_wire",
    "validate_body",
]

WireBody: TypeAlias = dict[str, Any]
"""A request body as it travels: the JSON object, with dotted keys and no nulls."""


class EventType(StrEnum):
    """Every `eventType` the MCA knows (MCA-SPEC.md section 2). There is no pause/resume/seek."""

    SESSION_START = "sessionStart"
    PLAY = "play"
    PING = "ping"
    PAUSE_START = "pauseStart"
    BUFFER_START = "bufferStart"
    BITRATE_CHANGE = "bitrateChange"
    ERROR = "error"
    AD_BREAK_START = "adBreakStart"
    AD_START = "adStart"
    AD_COMPLETE = "adComplete"
    AD_SKIP = "adSkip"
    AD_BREAK_COMPLETE = "adBreakComplete"
    CHAPTER_START = "chapterStart"
    CHAPTER_COMPLETE = "chapterComplete"
    CHAPTER_SKIP = "chapterSkip"
    STATE_START = "stateStart"
    STATE_END = "stateEnd"
    STATES_UPDATE = "statesUpdate"
    SESSION_COMPLETE = "sessionComplete"
    SESSION_END = "sessionEnd"


EVENT_TYPES: Final[tuple[str, ...]] = tuple(e.value for e in EventType)

# customMetadata is accepted on any event by the API, but only these three carry it into
# reports; elsewhere it is a conformance problem, not a 400 (MCA-SPEC.md section 2).
CUSTOM_METADATA_EVENTS: Final[frozenset[str]] = frozenset(
    {EventType.SESSION_START, EventType.AD_START, EventType.CHAPTER_START}
)


# --- JSON value types -------------------------------------------------------------------------


def _number_check(minimum: float | None) -> Any:
    """A validator for a JSON number (int or float, never bool or string), kept as it arrived.

    Pydantic's float would turn the playhead `8` into `8.0`; keeping ints as ints means a body
    validated and re-serialised is byte-identical to what was sent.
    """

    def check(value: object) -> int | float:
        if type(value) is int and (minimum is None or value >= minimum) and value <= MAX_INTEGER:
            return value  # the common case (a whole-second playhead), decided at once
        if (
            type(value) is float
            and math.isfinite(value)
            and (minimum is None or value >= minimum)
            and value <= MAX_INTEGER
        ):
            return value  # the next most common (a playhead between seconds)
        if isinstance(value, _Overlong):
            raise ValueError(f"a number may have at most {MAX_NUMBER_LENGTH} characters")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {_json_type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be >= {minimum:g}")
        if value > MAX_INTEGER:
            raise ValueError(f"must be at most {MAX_INTEGER} (2**53 - 1)")
        return value

    return PlainValidator(check)


def _as_is(value: int | float) -> int | float:
    return value


def _json_type(value: object) -> str:
    names = {str: "a string", bool: "a boolean", dict: "an object", list: "an array",
             int: "a number", float: "a number"}  # fmt: skip
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)


class _NotNull:
    """An optional key that may be left out, but never sent as `null`.

    Adobe's schemas give each optional key a type (a string, an integer) and no null, so the
    API refuses `"media.show": null`. Such a field is `T | None` to Python (None: the key was
    not sent), while its validator and its JSON Schema take `T` alone.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        while schema["type"] == "nullable":
            schema = schema["schema"]
        return schema


T = TypeVar("T")
Opt: TypeAlias = Annotated[T | None, _NotNull()]
"""An optional wire key: absent is None, `null` is refused."""

NonNegative = Annotated[
    float,
    _number_check(0),
    PlainSerializer(_as_is),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_INTEGER}),
]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=MAX_INTEGER)]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=MAX_INTEGER)]
AnyInt = Annotated[StrictInt, Field(ge=-MAX_INTEGER, le=MAX_INTEGER)]
EpochMs = Annotated[StrictInt, Field(ge=0, le=MAX_TS)]

_STATE_NAME = r"^[a-zA-Z0-9_.]{1,64}$"
_CUSTOM_KEY = re.compile(r"^[a-zA-Z0-9_.]+$")


def _check_custom_metadata(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if not _CUSTOM_KEY.match(key):
            raise ValueError(f"key {_short(key)} may contain only letters, digits, '_' and '.'")
        if key.startswith("a."):
            raise ValueError(f"key {_short(key)} must not start with 'a.' (reserved by Analytics)")
    return value


CustomMetadata = Annotated[dict[str, StrictStr], AfterValidator(_check_custom_metadata)]


def _wire(alias: str, *, required: bool = False, **constraints: Any) -> Any:
    """A field named on the wire by its dotted MCA key."""
    if required:
        return Field(alias=alias, **constraints)
    return Field(default=None, alias=alias, **constraints)


class _Strict(BaseModel):
    # Only the dotted wire names are accepted: a Python field name such as `player_time` or
    # `length` is an unknown key on the wire, as it is for Adobe's schemas.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_alias=True, validate_by_name=False
    )


# --- playerTime and qoeData -------------------------------------------------------------------


class PlayerTime(_Strict):
    """`playerTime`: the playhead in seconds and `ts` in integer UTC milliseconds."""

    playhead: NonNegative
    ts: EpochMs


class QoeData(_Strict):
    """`qoeData`: quality-of-experience figures, allowed on any event."""

    bitrate: Opt[NonNegativeInt] = _wire("media.qoe.bitrate")
    dropped_frames: Opt[NonNegativeInt] = _wire("media.qoe.droppedFrames")
    frames_per_second: Opt[NonNegativeInt] = _wire("media.qoe.framesPerSecond")
    time_to_start: Opt[NonNegativeInt] = _wire("media.qoe.timeToStart")
    error_id: Opt[StrictStr] = _wire("media.qoe.errorID")
    error_source: Opt[Literal["player", "external"]] = _wire("media.qoe.errorSource")


# --- params -----------------------------------------------------------------------------------


def _auth_state(value: object) -> int:
    # Strictly the integers 0 (unknown), 1 (authenticated), 2 (logged out): not true, not 1.0.
    if type(value) is not int or value not in (0, 1, 2):
        raise ValueError("must be 0, 1 or 2 (unknown, authenticated, logged out)")
    return value


class CustomerId(_Strict):
    """One entry of `visitor.customerIDs`."""

    id: StrictStr
    auth_state: Annotated[int, PlainValidator(_auth_state), WithJsonSchema({"enum": [0, 1, 2]})] = (
        Field(alias="authState")
    )


class SessionStartParams(_Strict):
    """`params` of `sessionStart`: routing, visitor, content and standard metadata."""

    # analytics and visitor
    tracking_server: StrictStr = _wire("analytics.trackingServer", required=True, min_length=1)
    report_suite: StrictStr = _wire("analytics.reportSuite", required=True, min_length=1)
    org_id: StrictStr = _wire(
        "visitor.marketingCloudOrgId", required=True, pattern=r"^[0-9A-F]{24}@AdobeOrg$"
    )
    visitor_id: Opt[StrictStr] = _wire("analytics.visitorId")
    aid: Opt[StrictStr] = _wire("analytics.aid")
    enable_ssl: Opt[StrictBool] = _wire("analytics.enableSSL")
    ecid: Opt[StrictStr] = _wire("visitor.marketingCloudUserId")
    aam_location_hint: Opt[AnyInt] = _wire("visitor.aamLocationHint")
    customer_ids: Opt[dict[str, CustomerId]] = _wire("visitor.customerIDs")
    app_installation_id: Opt[StrictStr] = _wire("appInstallationId")
    opt_out_server_side_forwarding: Opt[StrictBool] = _wire("analytics.optOutServerSideForwarding")
    opt_out_share: Opt[StrictBool] = _wire("analytics.optOutShare")
    # content
    id: StrictStr = _wire("media.id", required=True, min_length=1)
    length: NonNegative = _wire("media.length", required=True)
    content_type: StrictStr = _wire("media.contentType", required=True, min_length=1)
    player_name: StrictStr = _wire("media.playerName", required=True, min_length=1)
    channel: StrictStr = _wire("media.channel", required=True, min_length=1)
    name: Opt[StrictStr] = _wire("media.name")
    stream_type: Opt[Literal["video", "audio"]] = _wire("media.streamType")
    resume: Opt[StrictBool] = _wire("media.resume")
    sdk_version: Opt[StrictStr] = _wire("media.sdkVersion")
    library_version: Opt[StrictStr] = _wire("media.libraryVersion")
    downloaded: Opt[StrictBool] = _wire("media.downloaded")
    publisher: Opt[StrictStr] = _wire("media.publisher")
    # standard metadata
    show: Opt[StrictStr] = _wire("media.show")
    season: Opt[StrictStr] = _wire("media.season")
    episode: Opt[StrictStr] = _wire("media.episode")
    asset_id: Opt[StrictStr] = _wire("media.assetId")
    genre: Opt[StrictStr] = _wire("media.genre")
    first_air_date: Opt[StrictStr] = _wire("media.firstAirDate", pattern=r"^\d{4}-\d{2}-\d{2}$")
    first_digital_date: Opt[StrictStr] = _wire(
        "media.firstDigitalDate", pattern=r"^\d{4}-\d{2}-\d{2}$"
    )
    rating: Opt[StrictStr] = _wire("media.rating")
    originator: Opt[StrictStr] = _wire("media.originator")
    network: Opt[StrictStr] = _wire("media.network")
    show_type: Opt[Literal["0", "1", "2", "3"]] = _wire("media.showType")
    stream_format: Opt[StrictStr] = _wire("media.streamFormat")
    ad_load: Opt[StrictStr] = _wire("media.adLoad")
    mvpd: Opt[StrictStr] = _wire("media.pass.mvpd")
    auth: Opt[StrictStr] = _wire("media.pass.auth")
    day_part: Opt[StrictStr] = _wire("media.dayPart")
    feed: Opt[StrictStr] = _wire("media.feed")
    # audio
    artist: Opt[StrictStr] = _wire("media.artist")
    album: Opt[StrictStr] = _wire("media.album")
    label: Opt[StrictStr] = _wire("media.label")
    author: Opt[StrictStr] = _wire("media.author")
    station: Opt[StrictStr] = _wire("media.station")


SESSION_START_KEYS: Final[tuple[str, ...]] = tuple(
    str(info.alias) for info in SessionStartParams.model_fields.values()
)
"""Every sessionStart param, in the order the model declares (and dumps) them."""


class AdBreakStartParams(_Strict):
    """`params` of `adBreakStart`. playersim: podIndex 0 is the pre-roll, then 1, 2, ..."""

    pod_index: NonNegativeInt = _wire("media.ad.podIndex", required=True)
    pod_second: NonNegative = _wire("media.ad.podSecond", required=True)
    pod_friendly_name: Opt[StrictStr] = _wire("media.ad.podFriendlyName")


class AdStartParams(_Strict):
    """`params` of `adStart`."""

    id: StrictStr = _wire("media.ad.id", required=True, min_length=1)
    length: NonNegative = _wire("media.ad.length", required=True)
    pod_position: PositiveInt = _wire("media.ad.podPosition", required=True)
    player_name: StrictStr = _wire("media.ad.playerName", required=True, min_length=1)
    name: Opt[StrictStr] = _wire("media.ad.name")
    advertiser: Opt[StrictStr] = _wire("media.ad.advertiser")
    campaign_id: Opt[StrictStr] = _wire("media.ad.campaignId")
    creative_id: Opt[StrictStr] = _wire("media.ad.creativeId")
    site_id: Opt[StrictStr] = _wire("media.ad.siteId")
    creative_url: Opt[StrictStr] = _wire("media.ad.creativeURL")
    placement_id: Opt[StrictStr] = _wire("media.ad.placementId")


class ChapterStartParams(_Strict):
    """`params` of `chapterStart`."""

    index: PositiveInt = _wire("media.chapter.index", required=True)
    offset: NonNegative = _wire("media.chapter.offset", required=True)
    length: NonNegative = _wire("media.chapter.length", required=True)
    friendly_name: Opt[StrictStr] = _wire("media.chapter.friendlyName")


class StateParams(_Strict):
    """`params` of `stateStart` and `stateEnd`."""

    name: StrictStr = _wire("media.state.name", required=True, pattern=_STATE_NAME)


class StateRef(_Strict):
    """One entry of `statesStart` / `statesEnd` in `statesUpdate`."""

    name: StrictStr = _wire("media.state.name", required=True, pattern=_STATE_NAME)


class StatesUpdateParams(_Strict):
    """`params` of `statesUpdate`: states that started and/or ended at this instant."""

    states_start: Opt[list[StateRef]] = Field(default=None, alias="statesStart")
    states_end: Opt[list[StateRef]] = Field(default=None, alias="statesEnd")

    @model_validator(mode="after")
    def _names_a_state(self) -> Self:
        if not self.states_start and not self.states_end:
            raise ValueError("statesUpdate needs statesStart and/or statesEnd, naming a state")
        return self


class NoParams(_Strict):
    """`params` of events that document none: only `{}` is allowed."""


# --- bodies -----------------------------------------------------------------------------------


class _Body(_Strict):
    player_time: PlayerTime = Field(alias="playerTime")
    qoe_data: Opt[QoeData] = Field(default=None, alias="qoeData")
    custom_metadata: Opt[CustomMetadata] = Field(default=None, alias="customMetadata")

    @model_serializer(mode="wrap")
    def _in_wire_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Subclasses declare eventType and params after the common fields; put the keys back in
        # the order of MCA-SPEC.md section 2, which is the order players send them in.
        data: dict[str, Any] = handler(self)
        return {key: data[key] for key in _BODY_ORDER if key in data}


_BODY_ORDER: Final = (
    "playerTime", "player_time", "eventType", "event_type", "params",
    "qoeData", "qoe_data", "customMetadata", "custom_metadata",
)  # fmt: skip


def _event(name: str) -> Any:
    return Field(alias="eventType", json_schema_extra={"const": name})


class SessionStart(_Body):
    event_type: Literal["sessionStart"] = _event("sessionStart")
    params: SessionStartParams


class Ping(_Body):
    """A ping carries only `eventType` and `playerTime` (and optional qoeData): no params."""

    event_type: Literal["ping"] = _event("ping")


class AdBreakStart(_Body):
    event_type: Literal["adBreakStart"] = _event("adBreakStart")
    params: AdBreakStartParams


class AdStart(_Body):
    event_type: Literal["adStart"] = _event("adStart")
    params: AdStartParams


class ChapterStart(_Body):
    event_type: Literal["chapterStart"] = _event("chapterStart")
    params: ChapterStartParams


class StateStart(_Body):
    event_type: Literal["stateStart"] = _event("stateStart")
    params: StateParams


class StateEnd(_Body):
    event_type: Literal["stateEnd"] = _event("stateEnd")
    params: StateParams


class StatesUpdate(_Body):
    event_type: Literal["statesUpdate"] = _event("statesUpdate")
    params: StatesUpdateParams


class _Plain(_Body):
    params: Opt[NoParams] = None


class Play(_Plain):
    event_type: Literal["play"] = _event("play")


class PauseStart(_Plain):
    event_type: Literal["pauseStart"] = _event("pauseStart")


class BufferStart(_Plain):
    event_type: Literal["bufferStart"] = _event("bufferStart")


class BitrateChange(_Plain):
    event_type: Literal["bitrateChange"] = _event("bitrateChange")


class Error(_Plain):
    event_type: Literal["error"] = _event("error")


class AdComplete(_Plain):
    event_type: Literal["adComplete"] = _event("adComplete")


class AdSkip(_Plain):
    event_type: Literal["adSkip"] = _event("adSkip")


class AdBreakComplete(_Plain):
    event_type: Literal["adBreakComplete"] = _event("adBreakComplete")


class ChapterComplete(_Plain):
    event_type: Literal["chapterComplete"] = _event("chapterComplete")


class ChapterSkip(_Plain):
    event_type: Literal["chapterSkip"] = _event("chapterSkip")


class SessionComplete(_Plain):
    event_type: Literal["sessionComplete"] = _event("sessionComplete")


class SessionEnd(_Plain):
    event_type: Literal["sessionEnd"] = _event("sessionEnd")


BodyModel: TypeAlias = (
    SessionStart
    | Play
    | Ping
    | PauseStart
    | BufferStart
    | BitrateChange
    | Error
    | AdBreakStart
    | AdStart
    | AdComplete
    | AdSkip
    | AdBreakComplete
    | ChapterStart
    | ChapterComplete
    | ChapterSkip
    | StateStart
    | StateEnd
    | StatesUpdate
    | SessionComplete
    | SessionEnd
)
Body = Annotated[BodyModel, Field(discriminator="event_type")]
"""A validated request body: one model per event type, chosen by `eventType`."""

body_adapter: TypeAdapter[BodyModel] = TypeAdapter(Body)


def json_schema(event_type: str) -> dict[str, Any] | None:
    """The JSON Schema of one event type's body, from its model (None for an unknown type)."""
    model = _MODELS.get(event_type)
    return None if model is None else _without_null_defaults(model.model_json_schema(by_alias=True))


def _without_null_defaults(schema: Any) -> Any:
    # An optional key's default (None) is Python's way of saying "not sent"; on the wire null
    # is refused, so a schema saying `"default": null` would contradict its own type.
    if isinstance(schema, dict):
        return {
            key: _without_null_defaults(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    if isinstance(schema, list):
        return [_without_null_defaults(value) for value in schema]
    return schema


_MODELS: Final[dict[str, type[_Body]]] = {
    get_args(model.model_fields["event_type"].annotation)[0]: model for model in get_args(BodyModel)
}


def _optional_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The paths of every optional key of `model` and of the models inside it."""
    keys: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        path = (*prefix, str(info.alias or name))
        if not info.is_required():
            keys.add(path)
        for inner in _types_in(info.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                keys |= _optional_keys(inner, path)
    return keys


def _types_in(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    return [annotation] if not args else [t for arg in args for t in _types_in(arg)]


# Keys a body may leave out, by event type: a `null` there gets "leave the key out" as advice.
_OPTIONAL: Final = {name: _optional_keys(model) for name, model in _MODELS.items()}
# The adapter's compiled validator, called directly: the collector validates every request, and
# the adapter's Python wrapper around this call was a measurable share of a run.
_validate_python = body_adapter.validator.validate_python


# --- validation with messages a person can act on ---------------------------------------------


def validate_body(data: object) -> BodyModel:
    """Validate a decoded JSON body; raise `WireError` whose message names every failing field."""
    if not isinstance(data, dict):
        raise WireError(f"the body must be a JSON object, got {_json_type(data)}")
    try:
        return _validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise WireError(_describe(exc, data)) from None
    except RecursionError:
        raise WireError("the body is nested too deeply") from None


def plain_ping(data: object) -> dict[str, Any] | None:
    """The `playerTime` of `data` if it is a plain ping that `validate_body` accepts, with
    nothing but its playerTime (a number playhead, an integer ts) and eventType: nearly every
    request. None for any other body, which `validate_body` then judges (and may accept).

    What it accepts, `validate_body` accepts as `Ping(playerTime=PlayerTime(playhead, ts))`,
    the numbers as they are: the same types, exactly, and the same bounds (a property test
    holds the two to that over bodies valid and not). It asks less, in the order that turns
    down any other body soonest, and makes no model: the collector judges it with the playhead
    and ts alone (`SessionChecker.feed_ping`).

    >>> plain_ping({"playerTime": {"playhead": 8, "ts": 1}, "eventType": "ping"})
    {'playhead': 8, 'ts': 1}
    >>> plain_ping({"playerTime": {"playhead": "8", "ts": 1}, "eventType": "ping"}) is None
    True
    """
    if type(data) is not dict or len(data) != 2:
        return None
    event_type = data.get("eventType")
    player_time = data.get("playerTime")
    if event_type != "ping" or type(event_type) is not str or type(player_time) is not dict:
        return None
    if len(player_time) != 2:
        return None
    ts = player_time.get("ts")
    if type(ts) is not int or not 0 <= ts <= MAX_TS:
        return None
    playhead = player_time.get("playhead")
    kind = type(playhead)
    # (NaN fails `0 <=`, infinity `<= MAX_INTEGER`: a float in bounds is a finite one.)
    if (kind is int or kind is float) and 0 <= playhead <= MAX_INTEGER:  # type: ignore[operator]
        return player_time
    return None


def parse_body(raw: bytes | bytearray | str) -> BodyModel:
    """Decode and validate a JSON request body (see `decode_json` and `validate_body`)."""
    return validate_body(decode_json(raw))


def decode_json(raw: bytes | bytearray | str) -> object:
    """Decode a JSON request body; raise `WireError` if it is not strict JSON in UTF-8.

    Strict, as RFC 8259 and I-JSON (RFC 7493) read it: UTF-8 only (not UTF-16, not a byte that
    is not UTF-8), no `NaN` or `Infinity`, no string holding half of a UTF-16 surrogate pair,
    no key twice in one object, no number longer than `MAX_NUMBER_LENGTH` characters, and no
    deeper than `MAX_NESTING`.
    Python's `json.loads` takes all of these, and a recording of them would not be JSON that
    other readers (jq, a pipeline) accept.

    >>> decode_json("[" * 40 + "]" * 40)
    Traceback (most recent call last):
    ...
    playersim.errors.WireError: the body is nested too deeply (more than 32 levels)
    >>> decode_json('{"playhead": NaN}')
    Traceback (most recent call last):
    ...
    playersim.errors.WireError: the body is not valid JSON: NaN is not a JSON number
    """
    text = _utf8(raw) if isinstance(raw, bytes | bytearray) else raw
    try:
        data = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_float,
            parse_int=_int,
            object_pairs_hook=_unique_keys,
        )
    except _RepeatedKeyError as exc:
        raise WireError(str(exc)) from None
    except ValueError as exc:
        raise WireError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise WireError(_TOO_DEEP) from None
    if _nests_deeper_than(data, MAX_NESTING):
        raise WireError(_TOO_DEEP)
    # In a body that arrived as bytes a lone surrogate can only come from an escape (the bytes
    # are valid UTF-8), so only a body with such an escape is walked.
    if ("\\u" in text and _SURROGATE_ESCAPE.search(text)) or not isinstance(raw, bytes | bytearray):
        check_unicode(data)
    return data


def check_unicode(data: object) -> None:
    """Raise `WireError` naming the first key or string in `data` that holds a lone surrogate
    (half of a UTF-16 pair, which a JSON escape can spell but UTF-8 cannot encode)."""
    found = _lone_surrogate(data)
    if found is not None:
        where, char = found
        raise WireError(
            f"{where}: holds {ascii(char)[1:-1]}, half of a UTF-16 surrogate pair: not Unicode text"
        )


# A JSON number longer than this is not one any player sends (a double needs at most 24
# characters; ints are bounded by the models): refused by the field that holds it.
MAX_NUMBER_LENGTH: Final = 64
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


class _Overlong:
    """A JSON number written with more than `MAX_NUMBER_LENGTH` characters: held in place of
    its value, so that the field it was sent as refuses it by name."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length

    def __repr__(self) -> str:
        return f"a number of {self.length:,} characters"


def _float(literal: str) -> float | _Overlong:
    if len(literal) > MAX_NUMBER_LENGTH:
        return _Overlong(len(literal))
    return float(literal)


def _int(literal: str) -> int | _Overlong:
    # Past a few thousand digits Python refuses to read an int at all (quadratic time), with
    # no word of which field: held as _Overlong, the field says it instead.
    if len(literal) > MAX_NUMBER_LENGTH:
        return _Overlong(len(literal))
    return int(literal)


class _RepeatedKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of a key given twice, other readers the first, or refuse it:
    # I-JSON (RFC 7493) forbids it, and a body read two ways is refused here.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKeyError(
                    f"the key {_short(key)} is given twice in one object (RFC 7493: once)"
                )
            seen.add(key)
    return data


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _utf8(raw: bytes | bytearray) -> str:
    # JSON in UTF-8 has no NUL byte, and UTF-16 or UTF-32 has one in its first four bytes
    # (RFC 4627's way of telling them apart): Python's json.loads would take those too.
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4]:
        detail = "it looks like UTF-16 or UTF-32"
    else:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            detail = f"byte {exc.start} is 0x{raw[exc.start]:02x}, {exc.reason}"
    raise WireError(f"the body is not UTF-8 text ({detail}): send JSON as UTF-8")


def _lone_surrogate(data: object, path: str = "") -> tuple[str, str] | None:
    """Where the first lone surrogate is (a key or string), and which it is; None if none."""
    if isinstance(data, str):
        char = _surrogate_in(data)
        return None if char is None else (path or "body", char)
    if isinstance(data, dict):
        for key, value in data.items():
            if (char := _surrogate_in(key)) is not None:
                return (f"{path or 'body'}: the key {key!a}", char)
            found = _lone_surrogate(value, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if (found := _lone_surrogate(value, f"{path}[{index}]")) is not None:
                return found
    return None


def _surrogate_in(text: str) -> str | None:
    return next((char for char in text if "\ud800" <= char <= "\udfff"), None)


# An MCA body nests four levels deep (body, params, visitor.customerIDs, one id). How deep
# json.loads goes depends on how deep the stack already is, so a body it just managed could
# not be encoded again (in a message quoting it, or a recording) from deeper in the stack: a
# fixed limit far below the stack's makes every later step safe.
MAX_NESTING: Final = 32
_TOO_DEEP: Final = f"the body is nested too deeply (more than {MAX_NESTING} levels)"


def _nests_deeper_than(data: object, levels: int) -> bool:
    # Level by level, not recursively: this must not need the stack it protects.
    containers = [data] if isinstance(data, dict | list) else []
    for _ in range(levels):
        containers = [
            inner
            for outer in containers
            for inner in (outer.values() if isinstance(outer, dict) else outer)
            if isinstance(inner, dict | list)
        ]
        if not containers:
            return False
    return True


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    event = data.get("eventType")
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        if kind == "union_tag_not_found":
            problems.append("eventType: required")
            continue
        if kind == "union_tag_invalid":
            problems.append(
                f"eventType: {_short(event)} is not an MCA event type "
                f"(expected one of: {', '.join(EVENT_TYPES)})"
            )
            continue
        # The first element of the location is the union tag (the event type): drop it.
        loc = [str(part) for part in error["loc"][1:]]
        where = ".".join(loc) or "body"
        given = error.get("input")
        if isinstance(given, _Overlong):
            problems.append(
                f"{where}: a number may have at most {MAX_NUMBER_LENGTH} characters (got {given!r})"
            )
        elif kind == "missing":
            problems.append(f"{where}: required")
        elif kind == "extra_forbidden":
            problems.append(f"{where}: unknown key, not allowed on {event}")
        elif given is None and tuple(loc) in _OPTIONAL.get(str(event), ()):
            problems.append(f"{where}: null is not a value the API takes (leave the key out)")
        elif loc[-1:] == ["ts"] and kind in ("less_than_equal", "greater_than_equal"):
            problems.append(
                f"{where}: not an instant in epoch milliseconds, from 0 to {MAX_TS} "
                f"(the end of the year 9999) (got {_short(given)})"
            )
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message} (got {_short(given)})")
    if len(problems) > _MOST_PROBLEMS:
        # A body of thousands of bad keys gets a message of a few lines, not a larger body.
        more = len(problems) - _MOST_PROBLEMS
        problems = [*problems[:_MOST_PROBLEMS], f"and {more:,} more"]
    summary = "; ".join(problems)
    return f"{event}: {summary}" if isinstance(event, str) and event in EVENT_TYPES else summary


# Problems a 400's message lists, at most.
_MOST_PROBLEMS: Final = 20


def _short(value: object) -> str:
    if isinstance(value, _Overlong):
        return repr(value)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    except RecursionError:
        # validate_body takes values of any depth, and repr would recurse as deep.
        text = "a value nested too deeply to quote"
    return text if len(text) <= 60 else text[:57] + "..."


# --- building bodies --------------------------------------------------------------------------


def params_of(body: BodyModel) -> dict[str, Any]:
    """A validated body's params as sent on the wire (dotted keys), or {} if it has none."""
    params = body.__dict__.get("params")
    if params is None:
        return {}
    dumped: dict[str, Any] = params.model_dump(by_alias=True, exclude_none=True)
    return dumped


def to_wire(body: BodyModel) -> WireBody:
    """A validated body as its wire JSON object: dotted keys, no nulls, numbers as they came."""
    wire: WireBody = body.model_dump(by_alias=True, exclude_none=True)
    return wire


def json_seconds(ms: int) -> int | float:
    """Milliseconds as the JSON number of seconds sent: whole seconds stay integers."""
    seconds, rest = divmod(ms, 1000)
    return seconds if rest == 0 else ms / 1000


def make_body(
    event_type: str,
    playhead_ms: int,
    ts: int,
    *,
    params: dict[str, Any] | None = None,
    qoe: dict[str, Any] | None = None,
    custom: dict[str, str] | None = None,
) -> WireBody:
    """The wire JSON of one event, keys in the order of MCA-SPEC.md section 2.

    Players call this on their hot path, so it builds the dict directly; every body it makes is
    one the models above accept (the property tests and the collector both check that).
    """
    seconds, rest = divmod(playhead_ms, 1000)  # json_seconds, inline: this runs per event
    body: WireBody = {
        "playerTime": {"playhead": seconds if rest == 0 else playhead_ms / 1000, "ts": ts},
        "eventType": str(event_type),  # a plain str on the wire, even when given an EventType
    }
    if params:
        body["params"] = params
    if qoe:
        body["qoeData"] = qoe
    if custom:
        body["customMetadata"] = custom
    return body


def ping_body(playhead_ms: int, ts: int) -> WireBody:
    """`make_body(EventType.PING, playhead_ms, ts)`: the same dict, made without the questions
    no ping needs (nearly every body a player sends is one)."""
    seconds, rest = divmod(playhead_ms, 1000)
    return {
        "playerTime": {"playhead": seconds if rest == 0 else playhead_ms / 1000, "ts": ts},
        "eventType": "ping",
    }


# --- the bytes of a body ----------------------------------------------------------------------
#
# Every request's body is written once, as the bytes HTTP sends and the recording holds:
# `json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)` in UTF-8. The
# serialiser was chosen by measurement (bench/throughput.py, and 60,000 bodies of a run's
# recording, best of 5): json's encoder 16.5 us a body, pydantic_core.to_json 2.4 us, msgspec
# 1.3 us, orjson 1.2 us. All three fast ones wrote every one of those bodies byte for byte as
# json does. pydantic_core is here already (pydantic's core), and the microsecond more is a few
# per cent of a request's cost: no new dependency earns its place for it.
#
# Where to_json would write other bytes than json, the body is left to json (`None` below):
# - a value of any type but dict, list, str, int, float, bool and None, exactly (to_json writes
#   dates, bytes, sets, enums and models, which json refuses; a subclass may have a `__repr__`
#   of its own), and a key that is not exactly a str (json writes None as "null", to_json as
#   "None");
# - a float that Python writes with a one-digit negative exponent: between about 1e-10 and
#   1e-4 to_json writes "0.00003" and "1e-7" where `repr` writes "3e-05" and "1e-07" (above,
#   "1e+16" and "1.5e-10" alike; every int alike, however big);
# - NaN and the infinities, which to_json writes as `NaN` and `Infinity` and strict JSON has
#   not (json raises), and a lone surrogate, which UTF-8 has no bytes for (both raise).
# Those bytes are searched for in the output, strings included: a title that holds "NaN" only
# sends its body the slower way, to the same bytes.

_JSON_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_JSON_KEYS: Final = frozenset({str})
_SHORT_EXPONENT: Final = re.compile(rb"[0-9]e-[0-9](?![0-9])")


def encode_body(body: object) -> bytes | None:
    """`body` as strict JSON in UTF-8, compact, keys in their order, numbers as Python writes
    them: the bytes of `json.dumps(body, ensure_ascii=False, separators=(",", ":"),
    allow_nan=False).encode()`, made several times faster. None when they are not made this
    way (a body of other types than JSON's, NaN, a lone surrogate, a float such as 1e-05): the
    caller asks `json` then, which gives those bodies the bytes, or the error, they always got.

    >>> encode_body({"playerTime": {"playhead": 8.5, "ts": 1}, "eventType": "ping"})
    b'{"playerTime":{"playhead":8.5,"ts":1},"eventType":"ping"}'
    >>> encode_body({"playhead": float("nan")}) is None, encode_body({"x": 1e-05}) is None
    (True, True)
    """
    try:
        if type(body) is dict:
            if len(body) == 2 and body.get("eventType") == "ping":
                data = _ping_bytes(body)
                if data is not None:
                    return data
            if not _plain_dict(body):
                return None
        elif type(body) is not list or not _plain_list(body):
            return None
        data = to_json(body)
    except (ValueError, RecursionError):
        # A lone surrogate (PydanticSerializationError is a ValueError), or nested deeper
        # than either walk goes: json says what it makes of it.
        return None
    if (
        b"NaN" in data
        or b"Infinity" in data
        or b"0.0000" in data
        or (b"e-" in data and _SHORT_EXPONENT.search(data) is not None)
    ):
        return None
    return data


_PING_KEYS: Final = ("playerTime", "eventType")
_PLAYER_TIME_KEYS: Final = ("playhead", "ts")


def _ping_bytes(body: dict[Any, Any]) -> bytes | None:
    """A plain ping's bytes, written out here (nearly every body is one): `ping_body`'s dict,
    keys in its order, of exactly its types; None for any other body."""
    if tuple(body) != _PING_KEYS or type(body["eventType"]) is not str:
        return None
    player_time = body["playerTime"]
    if type(player_time) is not dict or tuple(player_time) != _PLAYER_TIME_KEYS:
        return None
    playhead = player_time["playhead"]
    ts = player_time["ts"]
    kind = type(playhead)
    if type(ts) is not int or not (kind is int or kind is float) or playhead - playhead != 0:
        return None  # (NaN and the infinities are not equal to 0 less themselves)
    # An int and a float as json writes them: `int.__repr__` and `float.__repr__` (%r), which
    # 1e-05 and 1e+16 included, so no float here is left to json.
    return b'{"playerTime":{"playhead":%r,"ts":%d},"eventType":"ping"}' % (playhead, ts)


def _plain_dict(value: dict[Any, Any]) -> bool:
    """Whether `value` holds only str keys and JSON values, of exactly those types."""
    return _JSON_KEYS.issuperset(map(type, value)) and _plain_items(value.values())


def _plain_list(value: list[Any]) -> bool:
    return _plain_items(value)


def _plain_items(values: Any) -> bool:
    """Whether each of `values` is a JSON value of exactly its type, containers all the way
    down (a dict's values or a list's items)."""
    if _JSON_SCALARS.issuperset(map(type, values)):
        return True  # (scalars only: playerTime, params, qoeData, customMetadata)
    for item in values:
        kind = type(item)
        if kind is dict:
            if not _plain_dict(item):
                return False
        elif kind is list:
            if not _plain_list(item):
                return False
        elif kind not in _JSON_SCALARS:
            return False
    return True
