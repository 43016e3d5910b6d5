"""Each request's bytes are made once: the same bytes go over HTTP and into the recording, and
they are the bytes json would have made, special cases and all.

(The bytes sent over HTTP are the bytes recorded: tests/test_http.py.)
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim.mca.api import Request, Response
from playersim.mca.wire import encode_body, make_body, ping_body
from playersim.transports.recording import Recorder

_STRICT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_bytes(value: object) -> bytes | None:
    """What the recording wrote for a body before: strict json, or None if it could not."""
    try:
        return _STRICT.encode(value).encode("utf-8")
    except (ValueError, TypeError):
        return None


# Floats of every kind (the ones to_json writes otherwise than repr: 3e-05, 1e-07), ints of any
# size, text with any code point (lone surrogates too), and a few values JSON has no form for.
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-05, 3e-05, 1e-07, 9.99e-10, 1.5e-10, 1e16, 1e22, -0.0, 0.0001, 5e-324]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | floats
    | st.text()
    | st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0xFFFF))
)
odd = st.sampled_from([(1, 2), {1, 2}, b"x", frozenset(), 1 + 2j])
values = st.recursive(
    scalars | odd,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers() | st.none() | st.booleans(), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(values)
def test_encode_body_writes_what_json_writes_or_leaves_it_to_json(value: object) -> None:
    made = encode_body(value)
    if made is not None:
        assert made == json_bytes(value)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(scalars, st.integers(min_value=0, max_value=2**53), floats, odd),
    st.one_of(scalars, st.integers(min_value=0, max_value=2**45), odd),
    st.sampled_from(["ping", "play", "Ping"]) | scalars,
    st.booleans(),
    st.booleans(),
)
def test_a_ping_is_written_as_json_writes_it(
    playhead: object, ts: object, event: object, swap: bool, swap_time: bool
) -> None:
    """A body of a ping's shape, with any values, in either order: json's bytes, or json's."""
    player_time = (
        {"ts": ts, "playhead": playhead} if swap_time else {"playhead": playhead, "ts": ts}
    )
    body = {"eventType": event, "playerTime": player_time}
    if not swap:
        body = {"playerTime": player_time, "eventType": event}
    made = encode_body(body)
    if made is not None:
        assert made == json_bytes(body)
    in_order = not swap and not swap_time  # (in another order, a float such as 1e-05 is json's)
    if in_order and event == "ping" and type(ts) is int and type(playhead) in (int, float):
        assert (made is not None) == math.isfinite(playhead)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**53),
    st.integers(min_value=0, max_value=2**45),
    st.sampled_from(["ping", "play", "sessionStart", "ad\u00e9\U0001f600"]),
    st.dictionaries(st.text(), st.text() | st.integers() | floats | st.booleans(), max_size=5),
)
def test_a_players_bodies_are_made_the_fast_way(
    playhead_ms: int, ts: int, event: str, params: dict[str, Any]
) -> None:
    """Bodies of JSON's own types, NaN-free and without floats such as 1e-05, are never left to
    json: the fast way is the way a run's bodies go."""
    body = make_body(event, playhead_ms, ts, params=params)
    strict = json_bytes(body)
    awkward = any(
        isinstance(v, float) and (not math.isfinite(v) or (v != 0 and abs(v) < 1e-4))
        for v in params.values()
    )
    surrogate = any("\ud800" <= c <= "\udfff" for text in [*params, *params.values()]
                    if isinstance(text, str) for c in text)  # fmt: skip
    if not awkward and not surrogate and "NaN" not in str(params) and "Inf" not in str(params):
        assert encode_body(body) == strict
    assert ping_body(playhead_ms, ts) == make_body("ping", playhead_ms, ts)
    assert encode_body(ping_body(playhead_ms, ts)) == json_bytes(make_body("ping", playhead_ms, ts))


@settings(max_examples=200, deadline=None)
@given(values.filter(lambda v: isinstance(v, dict)))
def test_request_content_is_what_http_sent_made_once(body: dict[str, Any]) -> None:
    request = Request("/api/v1/sessions", body)
    try:
        expected: bytes | BaseException = json.dumps(
            body, ensure_ascii=False, separators=(",", ":")
        ).encode()
    except (ValueError, TypeError) as exc:
        expected = exc
    if isinstance(expected, BaseException):
        with pytest.raises(type(expected)):
            _ = request.content
        return
    assert request.content == expected
    assert request.content is request.content  # made once
    assert request.strict_content in (None, expected)
    if request.strict_content is not None:
        assert request.strict_content == json_bytes(body)


def old_line(
    request: Request, response: Response | None, sid: str | None, error: str | None
) -> bytes:
    """The line `Recorder.write` wrote before it was put together from the body's bytes."""
    line: dict[str, Any] = {
        "session": sid,
        "path": request.path,
        "status": response.status if response is not None else None,
        "body": request.body,
    }
    if response is not None and response.message is not None:
        line["message"] = response.message
    if error is not None:
        line["error"] = error
    try:
        return (_STRICT.encode(line) + "\n").encode("utf-8")
    except (ValueError, TypeError):
        raw = json.dumps(request.body, allow_nan=True, default=repr)
        keep = {k: line[k] for k in ("session", "path", "status")}
        rest = {k: v for k, v in line.items() if k not in (*keep, "body")}
        return (_STRICT.encode({**keep, "body": None, "raw": raw, **rest}) + "\n").encode()


texts = st.text(alphabet=st.characters(codec="utf-8"))


@settings(max_examples=150, deadline=None)
@given(
    values.filter(lambda v: isinstance(v, dict)),
    st.none() | texts,
    texts,
    st.none() | st.sampled_from([200, 201, 204, 400, 404, 410, 429, 500, 207]),
    st.none() | texts,
    st.none() | texts,
)
def test_a_recording_line_is_the_line_it_always_was(  # noqa: PLR0917 - hypothesis's arguments
    body: dict[str, Any],
    sid: str | None,
    path: str,
    status: int | None,
    message: str | None,
    error: str | None,
) -> None:
    request = Request(path, body)
    response = None if status is None else Response(status, message=message)
    for ask_first in (False, True):
        if ask_first:
            request = Request(path, body)
            try:
                _ = request.content  # made for HTTP first, as a run --to does
            except (ValueError, TypeError):
                continue
        into = io.StringIO()
        with Recorder(into) as recorder:
            recorder.write(request, response, sid=sid, error=error)
            recorder.write(request, response, sid=sid, error=error)  # (its start known now)
        assert into.getvalue().encode() == old_line(request, response, sid, error) * 2


def test_special_bodies_are_recorded_with_their_raw_form(tmp_path: Path) -> None:
    """NaN, a lone surrogate and a value JSON has no form for: `"body": null` and `raw`."""
    target = tmp_path / "r.ndjson"
    bodies: list[dict[str, Any]] = [
        {"playerTime": {"playhead": math.nan, "ts": 1}, "eventType": "ping"},
        {"eventType": "play\ud800"},
        {"eventType": "play", "when": b"x"},
        ping_body(1500, 2),
    ]
    with Recorder(target) as recorder:
        for body in bodies:
            recorder.write(Request("/p", body), Response(204), sid="s")
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["body"] for line in lines[:3]] == [None, None, None]
    assert lines[0]["raw"] == '{"playerTime": {"playhead": NaN, "ts": 1}, "eventType": "ping"}'
    assert lines[1]["raw"] == '{"eventType": "play\\ud800"}'
    assert lines[2]["raw"] == '{"eventType": "play", "when": "b\'x\'"}'
    assert lines[3]["body"] == ping_body(1500, 2)
    assert target.read_bytes().splitlines()[3] == (
        b'{"session":"s","path":"/p","status":204,'
        b'"body":{"playerTime":{"playhead":1.5,"ts":2},"eventType":"ping"}}'
    )
