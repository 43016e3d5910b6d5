"""The wire model: which request bodies the MCA accepts, and what it says about the others.

Every expectation here is read off MCA-SPEC.md sections 2 and 3, not off playersim.mca.wire.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import Player, WireError, load_profile
from playersim.mca.spec import MAX_INTEGER, MAX_TS
from playersim.mca.wire import (
    EVENT_TYPES,
    WireBody,
    body_adapter,
    json_schema,
    make_body,
    parse_body,
    validate_body,
)

TS = 1_795_780_800_000  # 2026-11-27T12:00:00Z in epoch milliseconds
ORG = "0123456789ABCDEF01234567@AdobeOrg"

# MCA-SPEC.md section 2, in the order the spec lists them.
SPEC_EVENT_TYPES = (
    "sessionStart", "play", "ping", "pauseStart", "bufferStart", "bitrateChange", "error",
    "adBreakStart", "adStart", "adComplete", "adSkip", "adBreakComplete", "chapterStart",
    "chapterComplete", "chapterSkip", "stateStart", "stateEnd", "statesUpdate", "sessionComplete",
    "sessionEnd",
)  # fmt: skip

# The smallest valid params of each event that has documented params (MCA-SPEC.md section 3).
MINIMAL_PARAMS: dict[str, dict[str, Any]] = {
    "sessionStart": {
        "analytics.trackingServer": "example.sc.omtrdc.net",
        "analytics.reportSuite": "example-rsid",
        "visitor.marketingCloudOrgId": ORG,
        "media.id": "movie-1",
        "media.length": 60,
        "media.contentType": "vod",
        "media.playerName": "html5",
        "media.channel": "movies",
    },
    "adBreakStart": {"media.ad.podIndex": 0, "media.ad.podSecond": 0},
    "adStart": {
        "media.ad.id": "ad-1",
        "media.ad.length": 15,
        "media.ad.podPosition": 1,
        "media.ad.playerName": "html5",
    },
    "chapterStart": {
        "media.chapter.index": 1,
        "media.chapter.offset": 0,
        "media.chapter.length": 30.5,
    },
    "stateStart": {"media.state.name": "fullscreen"},
    "stateEnd": {"media.state.name": "fullscreen"},
    "statesUpdate": {"statesStart": [{"media.state.name": "mute"}]},
}
PLAIN_EVENT_TYPES = tuple(e for e in SPEC_EVENT_TYPES if e not in MINIMAL_PARAMS)
REQUIRED_PARAMS = [
    ("sessionStart", "analytics.trackingServer"),
    ("sessionStart", "analytics.reportSuite"),
    ("sessionStart", "visitor.marketingCloudOrgId"),
    ("sessionStart", "media.id"),
    ("sessionStart", "media.length"),
    ("sessionStart", "media.contentType"),
    ("sessionStart", "media.playerName"),
    ("sessionStart", "media.channel"),
    ("adBreakStart", "media.ad.podIndex"),
    ("adBreakStart", "media.ad.podSecond"),
    ("adStart", "media.ad.id"),
    ("adStart", "media.ad.length"),
    ("adStart", "media.ad.podPosition"),
    ("adStart", "media.ad.playerName"),
    ("chapterStart", "media.chapter.index"),
    ("chapterStart", "media.chapter.offset"),
    ("chapterStart", "media.chapter.length"),
    ("stateStart", "media.state.name"),
    ("stateEnd", "media.state.name"),
]


def body(event_type: str, *, playhead: float = 12, ts: int = TS, **extra: Any) -> WireBody:
    """A minimal valid body of `event_type` (its minimal params, if any), plus `extra` keys."""
    data: WireBody = {"playerTime": {"playhead": playhead, "ts": ts}, "eventType": event_type}
    if event_type in MINIMAL_PARAMS:
        data["params"] = copy.deepcopy(MINIMAL_PARAMS[event_type])
    data.update(extra)
    return data


def changed(data: WireBody, path: tuple[str, ...], value: object) -> WireBody:
    """A copy of `data` with the value at `path` (keys, dotted MCA keys kept whole) replaced."""
    result = copy.deepcopy(data)
    target = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return result


def without(data: WireBody, path: tuple[str, ...]) -> WireBody:
    """A copy of `data` without the key at `path`."""
    result = copy.deepcopy(data)
    target = result
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return result


def refusal(data: object) -> str:
    """The message of the WireError that validating `data` must raise."""
    with pytest.raises(WireError) as info:
        validate_body(data)
    return info.value.message


def sent(data: WireBody) -> bytes:
    """The bytes a player puts on the wire for `data` (compact JSON, as the HTTP transport)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def reserialised(data: WireBody) -> bytes:
    """The bytes of `data` after validation, dumped back by the wire model."""
    return body_adapter.dump_json(validate_body(data), by_alias=True, exclude_none=True)


def session_start_with(**params: Any) -> WireBody:
    """A valid sessionStart with its params updated by `params` (keyword = dotted key)."""
    data = body("sessionStart")
    data["params"].update(params)
    return data


# --- event types ---------------------------------------------------------------------------------


def test_the_wire_model_knows_exactly_the_spec_event_types() -> None:
    """EVENT_TYPES lists the 20 event types of MCA-SPEC.md section 2, in the spec's order."""
    assert EVENT_TYPES == SPEC_EVENT_TYPES


@pytest.mark.parametrize("event_type", SPEC_EVENT_TYPES)
def test_a_minimal_body_of_every_event_type_validates(event_type: str) -> None:
    """A body with playerTime, eventType and only the required params validates."""
    validated = validate_body(body(event_type))
    assert validated.event_type == event_type
    assert validated.player_time.playhead == 12
    assert validated.player_time.ts == TS


@pytest.mark.parametrize("event_type", ["pause", "resume", "bufferEnd", "seek", "Play", ""])
def test_an_unknown_event_type_is_refused_listing_the_valid_ones(event_type: str) -> None:
    """An eventType the MCA does not know is refused, and the message lists all 20 valid ones."""
    message = refusal(body("play", eventType=event_type))
    # Quoted as JSON, as the client wrote it.
    assert f"eventType: {json.dumps(event_type)} is not an MCA event type" in message
    assert "expected one of: " + ", ".join(SPEC_EVENT_TYPES) in message


def test_a_body_without_event_type_is_refused() -> None:
    """A body without eventType is refused with 'eventType: required'."""
    assert refusal(without(body("play"), ("eventType",))) == "eventType: required"


# --- required keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(("event_type", "key"), REQUIRED_PARAMS)
def test_a_missing_required_param_is_named_by_its_dotted_key(event_type: str, key: str) -> None:
    """Each REQUIRED param of section 3, left out, gives '<event>: params.<key>: required'."""
    message = refusal(without(body(event_type), ("params", key)))
    assert message == f"{event_type}: params.{key}: required"


@pytest.mark.parametrize("event_type", sorted(MINIMAL_PARAMS))
def test_an_event_with_documented_params_needs_params(event_type: str) -> None:
    """sessionStart (and events with required params) without a params object are refused."""
    assert refusal(without(body(event_type), ("params",))) == f"{event_type}: params: required"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("playerTime",), "play: playerTime: required"),
        (("playerTime", "playhead"), "play: playerTime.playhead: required"),
        (("playerTime", "ts"), "play: playerTime.ts: required"),
    ],
)
def test_player_time_and_both_its_keys_are_required(path: tuple[str, ...], expected: str) -> None:
    """playerTime, playerTime.playhead and playerTime.ts are required on every event."""
    assert refusal(without(body("play"), path)) == expected


# --- JSON types ----------------------------------------------------------------------------------


NOT_INT = "Input should be a valid integer"
NOT_STR = "Input should be a valid string"
NOT_BOOL = "Input should be a valid boolean"
NUMBER_NOT_STR = "must be a number, not a string"
NUMBER_NOT_BOOL = "must be a number, not a boolean"
NOT_0_1_2 = "must be 0, 1 or 2"


@pytest.mark.parametrize(
    ("event_type", "path", "value", "detail"),
    [
        ("play", ("playerTime", "playhead"), "12", NUMBER_NOT_STR),
        ("play", ("playerTime", "playhead"), True, NUMBER_NOT_BOOL),
        ("play", ("playerTime", "playhead"), None, "must be a number, not null"),
        ("play", ("playerTime", "playhead"), [1], "must be a number, not an array"),
        ("play", ("playerTime", "ts"), 1.5, NOT_INT),
        ("play", ("playerTime", "ts"), float(TS), NOT_INT),
        ("play", ("playerTime", "ts"), str(TS), NOT_INT),
        ("play", ("playerTime", "ts"), True, NOT_INT),
        ("sessionStart", ("params", "media.length"), "60", NUMBER_NOT_STR),
        ("sessionStart", ("params", "media.length"), False, NUMBER_NOT_BOOL),
        ("sessionStart", ("params", "media.id"), 5, NOT_STR),
        ("sessionStart", ("params", "analytics.enableSSL"), 1, NOT_BOOL),
        ("sessionStart", ("params", "analytics.enableSSL"), "true", NOT_BOOL),
        ("sessionStart", ("params", "media.resume"), "true", NOT_BOOL),
        ("sessionStart", ("params", "visitor.aamLocationHint"), "9", NOT_INT),
        ("sessionStart", ("params", "visitor.aamLocationHint"), 9.0, NOT_INT),
        ("sessionStart", ("params", "media.showType"), 0, "Input should be '0', '1', '2' or '3'"),
        ("adBreakStart", ("params", "media.ad.podIndex"), "1", NOT_INT),
        ("adBreakStart", ("params", "media.ad.podIndex"), 1.0, NOT_INT),
        ("adBreakStart", ("params", "media.ad.podIndex"), True, NOT_INT),
        ("adBreakStart", ("params", "media.ad.podSecond"), "0", NUMBER_NOT_STR),
        ("adStart", ("params", "media.ad.podPosition"), "1", NOT_INT),
        ("adStart", ("params", "media.ad.length"), True, NUMBER_NOT_BOOL),
        ("chapterStart", ("params", "media.chapter.index"), 1.0, NOT_INT),
        ("chapterStart", ("params", "media.chapter.offset"), "0", NUMBER_NOT_STR),
        ("stateStart", ("params", "media.state.name"), 1, NOT_STR),
    ],
)
def test_a_wrong_json_type_is_refused_naming_the_field(
    event_type: str, path: tuple[str, ...], value: object, detail: str
) -> None:
    """Strings for numbers, floats or strings for integers, booleans for numbers: all refused."""
    message = refusal(changed(body(event_type), path, value))
    assert message.startswith(f"{event_type}: {'.'.join(path)}: {detail} (got ")


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("playerTime", "playhead"), -1, "playerTime.playhead: must be >= 0"),
        (("playerTime", "playhead"), float("nan"), "playerTime.playhead: must be a finite number"),
        (("playerTime", "playhead"), float("inf"), "playerTime.playhead: must be a finite number"),
        (("playerTime", "ts"), -1, "playerTime.ts: not an instant in epoch milliseconds"),
        (("playerTime", "ts"), 10**30, "playerTime.ts: not an instant in epoch milliseconds"),
        (("playerTime", "ts"), 2**63, "playerTime.ts: not an instant in epoch milliseconds"),
        (("playerTime", "playhead"), 2**53, "playerTime.playhead: must be at most"),
        (("playerTime", "playhead"), 1e300, "playerTime.playhead: must be at most"),
    ],
)
def test_a_negative_or_non_finite_player_time_is_refused(
    path: tuple[str, ...], value: float, fragment: str
) -> None:
    """A playhead below 0, NaN or infinite, and a negative ts, are refused naming the field."""
    assert fragment in refusal(changed(body("play"), path, value))


@pytest.mark.parametrize("playhead", [0, 8, 12.5, 60.33, 86399.999])
def test_a_playhead_may_be_an_integer_or_a_float(playhead: float) -> None:
    """playerTime.playhead is a number of seconds: integers and floats are both accepted."""
    assert validate_body(body("play", playhead=playhead)).player_time.playhead == playhead


# --- unknown keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (body("play", foo=1), "play: foo: unknown key, not allowed on play"),
        (body("play", sid="abc"), "play: sid: unknown key, not allowed on play"),
        (
            changed(body("play"), ("playerTime", "clock"), 1),
            "play: playerTime.clock: unknown key, not allowed on play",
        ),
    ],
)
def test_an_unknown_top_level_key_is_refused_naming_it(data: WireBody, expected: str) -> None:
    """Keys outside playerTime/eventType/params/qoeData/customMetadata are refused by name."""
    assert refusal(data) == expected


@pytest.mark.parametrize(
    ("event_type", "key"),
    [
        ("sessionStart", "media.lenght"),
        ("sessionStart", "media.qoe.bitrate"),
        ("adStart", "media.ad.podIndex"),
        ("adBreakStart", "media.ad.id"),
        ("chapterStart", "media.chapter.name"),
        ("stateStart", "media.state.value"),
        ("play", "media.id"),
        ("sessionEnd", "reason"),
    ],
)
def test_an_unknown_params_key_is_refused_naming_it(event_type: str, key: str) -> None:
    """A params key the event does not document (a typo, say) is refused by its dotted name."""
    data = body(event_type)
    data.setdefault("params", {})[key] = "x"
    assert refusal(data) == f"{event_type}: params.{key}: unknown key, not allowed on {event_type}"


PYTHON_NAMED_SESSION_START = {
    "tracking_server": "example.sc.omtrdc.net",
    "report_suite": "example-rsid",
    "org_id": ORG,
    "id": "movie-1",
    "length": 60,
    "content_type": "vod",
    "player_name": "html5",
    "channel": "movies",
}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"player_time": {"playhead": 0, "ts": TS}, "eventType": "play"},
            "play: playerTime: required",
        ),
        (body("play", qoe_data={"bitrate": 5}), "play: qoe_data: unknown key"),
        (body("stateStart", params={"name": "mute"}), "params.name: unknown key"),
        (
            body("statesUpdate", params={"statesEnd": [{"name": "mute"}]}),
            "params.statesEnd.0.name: unknown key",
        ),
        (body("sessionStart", params=PYTHON_NAMED_SESSION_START), "params.id: unknown key"),
        (
            body(
                "adStart",
                params={"id": "ad-1", "length": 15, "pod_position": 1, "player_name": "html5"},
            ),
            "params.pod_position: unknown key",
        ),
    ],
)
def test_python_field_names_are_not_wire_keys(data: WireBody, fragment: str) -> None:
    """Only the dotted MCA keys are accepted: the models' Python names are unknown keys."""
    assert fragment in refusal(data)


@pytest.mark.parametrize("params", [{}, {"media.id": "x"}])
def test_a_ping_with_params_is_refused(params: dict[str, Any]) -> None:
    """A ping carries only eventType and playerTime: any params, even {}, is refused."""
    assert refusal(body("ping", params=params)) == "ping: params: unknown key, not allowed on ping"


# --- customMetadata ------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["sessionStart", "adStart", "chapterStart"])
def test_custom_metadata_of_string_values_validates(event_type: str) -> None:
    """A flat object of string values, with keys of letters, digits, '_' and '.', is accepted."""
    custom = {"myKey": "a string", "show_2.part": "", "A.b": "x", "x1": "1"}
    validated = validate_body(body(event_type, customMetadata=custom))
    assert validated.custom_metadata == custom


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (1, "customMetadata.k: Input should be a valid string (got 1)"),
        (1.5, "customMetadata.k: Input should be a valid string (got 1.5)"),
        (True, "customMetadata.k: Input should be a valid string (got true)"),
        (None, "customMetadata.k: Input should be a valid string (got null)"),
        ({"nested": "x"}, 'customMetadata.k: Input should be a valid string (got {"nested": "x"})'),
        (["x"], 'customMetadata.k: Input should be a valid string (got ["x"])'),
    ],
)
def test_custom_metadata_values_must_be_strings(value: object, fragment: str) -> None:
    """Every customMetadata value is a string: numbers, booleans, null and nesting are refused."""
    message = refusal(body("sessionStart", customMetadata={"k": value}))
    assert message == f"sessionStart: {fragment}"


@pytest.mark.parametrize("key", ["my-key", "my key", "", "clé", "a/b", "k$"])
def test_custom_metadata_keys_are_letters_digits_underscore_and_dot(key: str) -> None:
    """A customMetadata key with any character outside [a-zA-Z0-9_.] is refused, naming the key."""
    message = refusal(body("sessionStart", customMetadata={key: "v"}))
    quoted = json.dumps(key, ensure_ascii=False)
    assert f"customMetadata: key {quoted} may contain only letters, digits, '_' and '.'" in message


@pytest.mark.parametrize("key", ["a.", "a.visitor", "a.media.view"])
def test_custom_metadata_keys_must_not_start_with_a_dot(key: str) -> None:
    """Keys starting with 'a.' are reserved by Analytics and refused, naming the key."""
    message = refusal(body("adStart", customMetadata={key: "v"}))
    assert f"customMetadata: key {json.dumps(key)} must not start with 'a.'" in message


def test_custom_metadata_must_be_an_object() -> None:
    """customMetadata is a flat object: an array is refused."""
    message = refusal(body("sessionStart", customMetadata=["myKey"]))
    assert "sessionStart: customMetadata: Input should be a valid dictionary" in message


# --- qoeData -------------------------------------------------------------------------------------


def test_a_full_qoe_data_validates() -> None:
    """All six qoeData keys, with integer and string values of the right kinds, are accepted."""
    qoe = {
        "media.qoe.bitrate": 3_500_000,
        "media.qoe.droppedFrames": 12,
        "media.qoe.framesPerSecond": 30,
        "media.qoe.timeToStart": 1_850,
        "media.qoe.errorID": "MEDIA_ERR_NETWORK",
        "media.qoe.errorSource": "player",
    }
    validated = validate_body(body("error", qoeData=qoe))
    assert validated.qoe_data is not None
    assert validated.qoe_data.model_dump(by_alias=True, exclude_none=True) == qoe


@pytest.mark.parametrize("source", ["player", "external"])
def test_error_source_player_or_external_validates(source: str) -> None:
    """media.qoe.errorSource accepts 'player' and 'external'."""
    qoe = {"media.qoe.errorID": "E1", "media.qoe.errorSource": source}
    assert validate_body(body("error", qoeData=qoe)).event_type == "error"


@pytest.mark.parametrize(
    ("key", "value", "detail"),
    [
        ("media.qoe.bitrate", 3.5e6, NOT_INT),
        ("media.qoe.bitrate", "3500000", NOT_INT),
        ("media.qoe.droppedFrames", True, NOT_INT),
        ("media.qoe.framesPerSecond", 29.97, NOT_INT),
        ("media.qoe.timeToStart", "1850", NOT_INT),
        ("media.qoe.errorID", 500, NOT_STR),
        ("media.qoe.errorSource", "server", "Input should be 'player' or 'external'"),
        ("media.qoe.errorSource", "Player", "Input should be 'player' or 'external'"),
        ("media.qoe.latency", 5, "unknown key, not allowed on play"),
    ],
)
def test_a_bad_qoe_value_is_refused_naming_the_key(key: str, value: object, detail: str) -> None:
    """qoeData figures are integers, errorID a string, errorSource player/external; no other key."""
    message = refusal(body("play", qoeData={key: value}))
    assert message.startswith(f"play: qoeData.{key}: {detail}")


# --- statesUpdate and player states --------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"statesStart": [{"media.state.name": "mute"}]},
        {"statesEnd": [{"media.state.name": "fullscreen"}]},
        {
            "statesStart": [{"media.state.name": "mute"}, {"media.state.name": "pictureInPicture"}],
            "statesEnd": [{"media.state.name": "inFocus"}],
        },
    ],
)
def test_states_update_with_states_start_and_or_end_validates(params: dict[str, Any]) -> None:
    """statesUpdate takes statesStart and/or statesEnd, each a list of {media.state.name}."""
    validated = validate_body(body("statesUpdate", params=params))
    assert validated.event_type == "statesUpdate"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (
            {"statesStart": {"media.state.name": "mute"}},
            "params.statesStart: Input should be a valid list",
        ),
        ({"statesEnd": [{}]}, "params.statesEnd.0.media.state.name: required"),
        (
            {"statesStart": [{"media.state.name": "mute", "on": True}]},
            "params.statesStart.0.on: unknown key",
        ),
        (
            {"statesStart": [{"media.state.name": "mute"}, {"media.state.name": "not ok"}]},
            "params.statesStart.1.media.state.name: String should match pattern",
        ),
        ({"states": []}, "params.states: unknown key"),
    ],
)
def test_a_malformed_states_update_is_refused_naming_the_entry(
    params: dict[str, Any], fragment: str
) -> None:
    """A statesUpdate list that is not a list of {media.state.name: s} is refused, naming where."""
    message = refusal(body("statesUpdate", params=params))
    assert message.startswith("statesUpdate: ")
    assert fragment in message


def test_a_states_update_naming_no_state_is_refused() -> None:
    """A statesUpdate with neither statesStart nor statesEnd is refused: it needs at least one."""
    message = refusal(body("statesUpdate", params={}))
    assert message.startswith("statesUpdate: params")


@pytest.mark.parametrize(
    "name", ["fullscreen", "mute", "closedCaptioning", "pictureInPicture", "inFocus", "x" * 64]
)
def test_standard_and_custom_state_names_validate(name: str) -> None:
    """The five standard state names and custom names of [a-zA-Z0-9_.]{1,64} are accepted."""
    for event_type in ("stateStart", "stateEnd"):
        validate_body(body(event_type, params={"media.state.name": name}))


@pytest.mark.parametrize("name", ["", "x" * 65, "closed captioning", "mute!"])
def test_a_malformed_state_name_is_refused(name: str) -> None:
    """A state name that is empty, longer than 64 or has other characters is refused."""
    message = refusal(body("stateStart", params={"media.state.name": name}))
    assert "stateStart: params.media.state.name: String should match pattern" in message


# --- visitor -------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth_state", [0, 1, 2])
def test_customer_ids_of_the_documented_shape_validate(auth_state: int) -> None:
    """visitor.customerIDs maps names to {id: string, authState: 0|1|2}."""
    ids = {"userId": {"id": "u-1", "authState": auth_state}, "crm": {"id": "c", "authState": 0}}
    validated = validate_body(session_start_with(**{"visitor.customerIDs": ids}))
    assert validated.model_dump(by_alias=True)["params"]["visitor.customerIDs"] == ids


@pytest.mark.parametrize(
    ("ids", "where", "detail"),
    [
        (["u-1"], "", "Input should be a valid dictionary"),
        ({"userId": "u-1"}, ".userId", "Input should be a valid dictionary"),
        ({"userId": {"id": "u-1"}}, ".userId.authState", "required"),
        ({"userId": {"authState": 1}}, ".userId.id", "required"),
        ({"userId": {"id": 7, "authState": 1}}, ".userId.id", NOT_STR),
        ({"userId": {"id": "u", "authState": 3}}, ".userId.authState", NOT_0_1_2),
        ({"userId": {"id": "u", "authState": "1"}}, ".userId.authState", NOT_0_1_2),
        ({"userId": {"id": "u", "authState": 1, "type": "x"}}, ".userId.type", "unknown key"),
    ],
)
def test_malformed_customer_ids_are_refused_naming_the_entry(
    ids: object, where: str, detail: str
) -> None:
    """customerIDs that are not {name: {id: s, authState: 0|1|2}} are refused, naming the entry."""
    message = refusal(session_start_with(**{"visitor.customerIDs": ids}))
    assert message.startswith(f"sessionStart: params.visitor.customerIDs{where}: {detail}")


@pytest.mark.parametrize("auth_state", [True, 1.0])
def test_customer_id_auth_state_must_be_an_integer(auth_state: object) -> None:
    """authState is the integer 0, 1 or 2: true and 1.0 are refused like any other wrong type."""
    ids = {"userId": {"id": "u-1", "authState": auth_state}}
    message = refusal(session_start_with(**{"visitor.customerIDs": ids}))
    assert "params.visitor.customerIDs.userId.authState" in message


@pytest.mark.parametrize(
    "org_id",
    [
        "0123456789abcdef01234567@AdobeOrg",  # lower-case hex
        "0123456789ABCDEF0123456@AdobeOrg",  # 23 characters
        "0123456789ABCDEF012345678@AdobeOrg",  # 25 characters
        "0123456789ABCDEF01234567@adobeorg",
        "0123456789ABCDEF01234567",
        "0123456789ABCDEFGHIJKLMN@AdobeOrg",
        "",
    ],
)
def test_a_malformed_marketing_cloud_org_id_is_refused(org_id: str) -> None:
    """visitor.marketingCloudOrgId must have the form 24 upper-case hex digits + '@AdobeOrg'."""
    message = refusal(session_start_with(**{"visitor.marketingCloudOrgId": org_id}))
    assert message.startswith("sessionStart: params.visitor.marketingCloudOrgId: ")
    assert "String should match pattern" in message


def test_the_documented_org_id_form_validates() -> None:
    """An org id of 24 upper-case hex digits then '@AdobeOrg' is accepted."""
    org_id = "ABCDEF0123456789ABCDEF01@AdobeOrg"
    data = session_start_with(**{"visitor.marketingCloudOrgId": org_id})
    assert validate_body(data).event_type == "sessionStart"


def test_a_full_session_start_validates() -> None:
    """A sessionStart using every optional param of section 3 with the right types validates."""
    data = session_start_with(
        **{
            "analytics.visitorId": "62DD67B25A71212B-C89AC01F7A835A56",
            "analytics.aid": "aid-1",
            "analytics.enableSSL": True,
            "visitor.marketingCloudUserId": "87993446560000111269535641148996039970",
            "visitor.aamLocationHint": 9,
            "visitor.customerIDs": {"userId": {"id": "u-1", "authState": 1}},
            "appInstallationId": "1726c4d4-4c60-4824-bc85-03e4235e6ee2",
            "analytics.optOutServerSideForwarding": False,
            "analytics.optOutShare": False,
            "media.name": "A Movie",
            "media.streamType": "video",
            "media.resume": True,
            "media.sdkVersion": "js-3.0",
            "media.libraryVersion": "js-3.0",
            "media.downloaded": False,
            "media.publisher": "ACME",
            "media.show": "Show",
            "media.season": "1",
            "media.episode": "2",
            "media.assetId": "asset-1",
            "media.genre": "Drama",
            "media.firstAirDate": "2020-01-31",
            "media.firstDigitalDate": "2020-02-01",
            "media.rating": "TV-PG",
            "media.originator": "ACME Studios",
            "media.network": "ACME TV",
            "media.showType": "0",
            "media.streamFormat": "HLS",
            "media.adLoad": "1",
            "media.pass.mvpd": "mvpd",
            "media.pass.auth": "true",
            "media.dayPart": "Primetime",
            "media.feed": "East HD",
            "media.artist": "Artist",
            "media.album": "Album",
            "media.label": "Label",
            "media.author": "Author",
            "media.station": "Station",
        }
    )
    dumped = validate_body(data).model_dump(by_alias=True, exclude_none=True)
    assert dumped["params"] == data["params"]


# --- raw bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b"", b"play", b'{"eventType": "play",}'])
def test_a_body_that_is_not_json_is_refused(raw: bytes) -> None:
    """Bytes that are not JSON are refused as 'not valid JSON'."""
    with pytest.raises(WireError, match=r"^the body is not valid JSON: "):
        parse_body(raw)


PING = b'{"eventType":"ping","playerTime":{"playhead":%s,"ts":1795780800000}%s}'


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # Python's json module takes each of these; RFC 8259 and the API do not.
        (PING % (b"NaN", b""), "the body is not valid JSON: NaN is not a JSON number"),
        # Python keeps the last of a key given twice, other readers the first: refused.
        (
            b'{"eventType":"ping","eventType":"play","playerTime":{"playhead":0,"ts":1}}',
            'the key "eventType" is given twice in one object',
        ),
        (PING % (b"-Infinity", b""), "the body is not valid JSON: -Infinity is not a JSON number"),
        (
            PING % (b"0", b',"customMetadata":{"k":"\\ud800"}'),
            "customMetadata.k: holds \\ud800, half of a UTF-16 surrogate pair: not Unicode text",
        ),
        (
            PING % (b"0", b',"customMetadata":{"\\udfff":"v"}'),
            "customMetadata: the key '\\udfff': holds \\udfff, half of a UTF-16 surrogate pair",
        ),
        (
            PING % (b"0", b',"customMetadata":{"k":"\xed\xa0\x80"}'),
            "the body is not UTF-8 text (byte 90 is 0xed, invalid continuation byte)",
        ),
        (
            (PING % (b"0", b"")).decode().encode("utf-16"),
            "the body is not UTF-8 text (it looks like UTF-16 or UTF-32)",
        ),
        (
            (PING % (b"0", b"")).decode().encode("utf-16-le"),
            "the body is not UTF-8 text (it looks like UTF-16 or UTF-32)",
        ),
        (
            PING % (b"1." + b"0" * 60_000, b""),
            "ping: playerTime.playhead: a number may have at most 64 characters "
            "(got a number of 60,002 characters)",
        ),
        (
            PING % (b"1" * 5_000, b""),  # (Python alone would not read it, nor say where it is)
            "ping: playerTime.playhead: a number may have at most 64 characters "
            "(got a number of 5,000 characters)",
        ),
    ],
)
def test_what_python_reads_but_json_is_not_is_refused_naming_what(raw: bytes, message: str) -> None:
    """Strict JSON in UTF-8, as the API reads it: anything else is a 400 saying what it is."""
    with pytest.raises(WireError) as refused:
        parse_body(raw)
    assert str(refused.value).startswith(message)


def test_a_body_of_thousands_of_mistakes_gets_a_message_of_a_few_lines() -> None:
    """A 400's message lists the first twenty problems and counts the rest: an answer (and a
    recording line) is not made larger than the body it refuses."""
    data = body("ping", **{f"k{n}": 1 for n in range(3_000)})
    with pytest.raises(WireError) as refused:
        validate_body(data)
    message = str(refused.value)
    assert message.endswith("; and 2,980 more")
    assert message.count("unknown key") == 20


def test_a_surrogate_pair_spelt_as_escapes_is_text() -> None:
    """Two halves of a pair make one character (an emoji): that is Unicode, and taken."""
    raw = PING % (b"0", b',"customMetadata":{"k":"\\ud83d\\ude00"}')
    assert parse_body(raw).custom_metadata == {"k": "\U0001f600"}


@pytest.mark.parametrize(
    "where",
    [
        ("qoeData",),
        ("qoeData", "media.qoe.bitrate"),
        ("customMetadata",),
        ("params", "media.show"),
        ("params", "visitor.customerIDs"),
    ],
)
def test_null_in_an_optional_key_is_refused(where: tuple[str, ...]) -> None:
    """Adobe's schemas type every optional key and allow no null: leave the key out instead."""
    data = body("sessionStart", qoeData={"media.qoe.bitrate": 1})
    data["params"]["visitor.customerIDs"] = {"crm": {"id": "1", "authState": 1}}
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = None
    with pytest.raises(WireError) as refused:
        validate_body(data)
    dotted = ".".join(where)
    assert f"{dotted}: null is not a value the API takes (leave the key out)" in str(refused.value)


def test_no_optional_key_is_nullable_in_the_schemas() -> None:
    """The published schemas agree: no optional key takes null, and none says null is its
    default."""
    for event_type in EVENT_TYPES:
        text = json.dumps(json_schema(event_type))
        assert '"null"' not in text, event_type
        assert '"default": null' not in text, event_type


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("[]", "an array"),
        ('"play"', "a string"),
        ("null", "null"),
        ("12", ""),  # the wording for numbers is not pinned down
        ("true", "a boolean"),
    ],
)
def test_a_json_body_that_is_not_an_object_is_refused(raw: str, kind: str) -> None:
    """A JSON array, string, null, number or boolean body is refused: it must be an object."""
    with pytest.raises(WireError) as info:
        parse_body(raw)
    assert info.value.message.startswith(f"the body must be a JSON object, got {kind}")


@pytest.mark.parametrize("opener", ["[", '{"k":'])
def test_a_body_nested_past_32_levels_is_refused_whatever_the_stack(opener: str) -> None:
    """33 levels are refused as too deep, at once and alike, 32 get the usual field errors."""
    closer = "]" if opener == "[" else "}"
    for levels in (33, 500, 100_000):
        with pytest.raises(WireError, match=r"^the body is nested too deeply \(more than 32 "):
            parse_body(opener * levels + "1" + closer * levels)
    with pytest.raises(WireError) as info:
        parse_body(opener * 32 + "1" + closer * 32)
    assert "nested" not in info.value.message


def test_parse_body_validates_what_it_decodes() -> None:
    """parse_body of compact JSON bytes gives the same model as validate_body of the dict."""
    data = body("adStart", customMetadata={"k": "v"})
    assert parse_body(sent(data)) == validate_body(data)
    with pytest.raises(WireError, match=r"^adStart: params\.media\.ad\.id: required$"):
        parse_body(sent(without(data, ("params", "media.ad.id"))))


# --- make_body and round trips -------------------------------------------------------------------


def test_make_body_writes_keys_in_the_order_of_the_spec() -> None:
    """make_body orders keys playerTime, eventType, params, qoeData, customMetadata (section 2)."""
    made = make_body(
        "adStart",
        0,
        TS,
        params=MINIMAL_PARAMS["adStart"],
        qoe={"media.qoe.bitrate": 1},
        custom={"k": "v"},
    )
    assert list(made) == ["playerTime", "eventType", "params", "qoeData", "customMetadata"]
    assert list(made["playerTime"]) == ["playhead", "ts"]


def test_make_body_leaves_out_empty_parts() -> None:
    """make_body sends no params, qoeData or customMetadata when they are None or empty."""
    assert make_body("ping", 5_000, TS, params={}, qoe={}, custom={}) == {
        "playerTime": {"playhead": 5, "ts": TS},
        "eventType": "ping",
    }
    assert list(make_body("play", 0, TS)) == ["playerTime", "eventType"]


@pytest.mark.parametrize(
    ("playhead_ms", "expected"), [(0, 0), (8_000, 8), (12_500, 12.5), (60_330, 60.33), (1, 0.001)]
)
def test_make_body_sends_whole_second_playheads_as_integers(
    playhead_ms: int, expected: float
) -> None:
    """A playhead of whole seconds is the JSON integer; a fraction is a float of seconds."""
    playhead = make_body("play", playhead_ms, TS)["playerTime"]["playhead"]
    assert playhead == expected
    assert type(playhead) is type(expected)


@pytest.mark.parametrize("event_type", SPEC_EVENT_TYPES)
def test_make_body_output_validates_and_round_trips_byte_identically(event_type: str) -> None:
    """A make_body body (params in model order) re-serialises to the exact bytes sent."""
    made = make_body(event_type, 12_000, TS, params=MINIMAL_PARAMS.get(event_type))
    assert validate_body(made).event_type == event_type
    assert reserialised(made) == sent(made)


def test_integers_stay_integers_through_validation() -> None:
    """Integers sent (playhead 12, media.length 60, podIndex 0) come back as integers, not 12.0."""
    made = make_body("sessionStart", 12_000, TS, params=MINIMAL_PARAMS["sessionStart"])
    out = reserialised(made)
    assert b'"playhead":12,' in out
    assert b'"media.length":60,' in out
    ad_break = reserialised(make_body("adBreakStart", 0, TS, params=MINIMAL_PARAMS["adBreakStart"]))
    assert b'"media.ad.podIndex":0,"media.ad.podSecond":0' in ad_break


def player_session_start() -> WireBody:
    """The first body a real Player sends: a sessionStart with full metadata."""
    player = Player(load_profile("live-news"), seed=2, start_at=TS)
    wake = player.next_wakeup
    assert wake is not None
    return player.due(wake)[0]


def bodies_with_every_part() -> list[WireBody]:
    """make_body bodies using qoeData and customMetadata, and a Player's sessionStart."""
    return [
        make_body("play", 12_500, TS, qoe={"media.qoe.bitrate": 3_500_000}),
        make_body(
            "adStart", 0, TS, params=MINIMAL_PARAMS["adStart"], custom={"campaign": "spring"}
        ),
        make_body(
            "error",
            1_000,
            TS,
            qoe={"media.qoe.errorID": "E1", "media.qoe.errorSource": "external"},
        ),
        player_session_start(),
    ]


@pytest.mark.parametrize("index", range(4))
def test_make_body_output_round_trips_to_the_same_json_value(index: int) -> None:
    """Bodies with qoeData, customMetadata or full metadata come back as the same JSON value."""
    made = bodies_with_every_part()[index]
    assert json.loads(reserialised(made)) == made


@pytest.mark.parametrize("index", range(4))
def test_make_body_output_with_every_part_round_trips_byte_identically(index: int) -> None:
    """Bodies with qoeData, customMetadata or full metadata re-serialise to the exact bytes sent."""
    made = bodies_with_every_part()[index]
    assert reserialised(made) == sent(made)


@settings(max_examples=300, deadline=None)
@given(
    event_type=st.sampled_from(PLAIN_EVENT_TYPES),
    playhead_ms=st.integers(min_value=0, max_value=10**15),
    ts=st.integers(min_value=0, max_value=MAX_TS),
)
def test_make_body_of_any_plain_event_round_trips_byte_identically(
    event_type: str, playhead_ms: int, ts: int
) -> None:
    """For any playhead and ts, make_body of a params-free event validates and re-serialises."""
    made = make_body(event_type, playhead_ms, ts)
    validated = validate_body(made)
    assert validated.player_time.ts == ts
    assert reserialised(made) == sent(made)


@settings(max_examples=300, deadline=None)
@given(
    event_type=st.sampled_from(PLAIN_EVENT_TYPES),
    playhead=st.one_of(
        st.integers(min_value=0, max_value=10**12),
        st.floats(min_value=0, max_value=MAX_INTEGER, allow_nan=False, allow_infinity=False),
    ),
    ts=st.integers(min_value=0, max_value=MAX_TS),
)
def test_any_non_negative_playhead_validates_and_keeps_its_json_type(
    event_type: str, playhead: float, ts: int
) -> None:
    """Any non-negative int or finite float playhead validates and comes back equal, same type."""
    data = body(event_type, playhead=playhead, ts=ts)
    back = json.loads(reserialised(data))
    assert back == data
    assert type(back["playerTime"]["playhead"]) is type(playhead)
    assert type(back["playerTime"]["ts"]) is int
