"""Fuzzing `playersim serve`: whatever a client sends, the server answers and says why it refused.

One server on uvicorn, under its limits and with a recorder, as `playersim serve` runs it, takes
generated input: any JSON value and deep nesting as a body; bodies real players make with
fields dropped, mistyped or out of range; random bytes as a body and as the whole request;
random paths under /api/v1/, methods and content types. For every answer: never a 5xx (no
faults are injected here), and every 4xx is JSON with a string `message`. After each test the
server still answers, /stats still serves JSON, and nothing went to its error log; at the end,
every line of its recording is strict JSON.

Each test draws 150 examples; `PLAYERSIM_FUZZ_EXAMPLES=100000 pytest tests/test_server_fuzz.py`
draws that many instead (docs/benchmarks.md gives the figure of such a run).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import string
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    SystemClock,
    VirtualClock,
    bundled_profiles,
    load_profile,
)
from playersim.mca.wire import EVENT_TYPES, to_wire
from playersim.server import MAX_BODY_BYTES, Limits, create_app
from playersim.transports.http import IDLE_CONNECTION_S
from playersim.transports.recording import Recorder
from tests.test_server import running, strict_json


def _examples() -> int:
    given = os.environ.get("PLAYERSIM_FUZZ_EXAMPLES", "150")
    if not given.isdigit() or int(given) < 1:
        raise pytest.UsageError(f"PLAYERSIM_FUZZ_EXAMPLES={given!r}: a whole number, 1 or more")
    return int(given)


FUZZ = settings(
    max_examples=_examples(),
    deadline=None,
    # Each example is a round trip on a real socket, and some draw a body thousands deep.
    suppress_health_check=[HealthCheck.too_slow],
)
# Long enough never to cut off a request that httpx sends whole; short enough that a raw
# request left incomplete costs an example a second at most. The client retires a connection
# idle for `IDLE_CONNECTION_S` long before the server would close it: otherwise, over a long
# run on a busy machine, a request sent as the server closes its idle connection gets no
# answer (the keep-alive race), which is the client's doing, not the server's.
LIMITS = Limits(header_timeout=1, body_timeout=1, keep_alive=10 * IDLE_CONNECTION_S)
JSON = "application/json"


def real_bodies() -> list[dict[str, Any]]:
    """Bodies real players send: half an hour of a session of each bundled profile, a few of
    each event type they sent."""
    start = 1_780_000_000_000
    clock = VirtualClock(start=start)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    for index, name in enumerate(sorted(bundled_profiles())):
        engine.add(Player(load_profile(name), seed=7, index=index, start_at=start))
    engine.run(until=start + 1_800_000)
    bodies = [to_wire(event.body) for s in collector.sessions for event in s.events]
    # Pings would be most of them otherwise.
    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        by_type.setdefault(body["eventType"], []).append(body)
    return [body for same in by_type.values() for body in same[:: max(1, len(same) // 5)]]


REAL = real_bodies()
STARTS = [body for body in REAL if body["eventType"] == "sessionStart"]


class Fuzzed:
    """The server under fuzz: its URL, one client kept alive, and its error log."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(
            base_url=url, timeout=30, limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_S)
        )
        self.errors: list[logging.LogRecord] = []

    def open_session(self) -> str:
        """The events path of a session just opened with a real sessionStart."""
        answer = self.client.post("/api/v1/sessions", content=json.dumps(STARTS[0]),
                                  headers={"Content-Type": JSON})  # fmt: skip
        assert answer.status_code == 201
        return f"{answer.headers['location']}/events"

    def send(
        self,
        method: str,
        path: str,
        content: bytes,
        content_type: str | None,
        chunked: bool = False,
    ) -> None:
        headers = {} if content_type is None else {"Content-Type": content_type}
        # An iterator is sent chunked, with no Content-Length for the server to go by.
        body = iter([content]) if chunked else content
        answer = self.client.request(method, path, content=body, headers=headers)
        assert answer.status_code < 500, answer.text
        assert answer.headers["access-control-allow-origin"] == "*"
        if 400 <= answer.status_code < 500 and method != "HEAD":
            assert answer.headers["content-type"] == JSON, answer.text
            assert isinstance(answer.json()["message"], str)

    def post(self, path: str, body: object) -> None:
        self.send("POST", path, json.dumps(body).encode(), JSON)

    def check_still_serving(self) -> None:
        figures = httpx.get(f"{self.url}/stats?format=json").json()
        assert figures["requests"] > 0
        assert all(int(status) < 500 for status in figures["by_status"])
        assert not self.errors, [record.getMessage() for record in self.errors]


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture
def fuzzed(server: Fuzzed) -> Fuzzed:
    """The module's server, its error log emptied for the test at hand."""
    server.errors.clear()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    collector = Collector(SystemClock(), keep_events=False, retention_s=3600)
    recording = tmp_path_factory.mktemp("fuzz") / "fuzz.ndjson"
    with Recorder(recording, flush_each=True) as recorder:
        for url in running(create_app(collector, recorder=recorder, limits=LIMITS), LIMITS):
            server = Fuzzed(url)
            # After uvicorn configured its logging, which would have dropped the handler.
            handler = _Collect(server.errors)
            for name in ("uvicorn.error", "asyncio"):
                logging.getLogger(name).addHandler(handler)
            try:
                yield server
            finally:
                for name in ("uvicorn.error", "asyncio"):
                    logging.getLogger(name).removeHandler(handler)
                server.client.close()
    # The recording is strict JSON lines (jq reads them), however odd the bodies it holds.
    # Some nest as deeply as the server could decode them, on a shallower stack than this
    # test's: decode with room to.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 2000)
    try:
        for raw in recording.read_bytes().splitlines():
            line = strict_json(raw)
            assert {"session", "path", "status", "body"} <= line.keys()
    finally:
        sys.setrecursionlimit(limit)


# --- strategies -------------------------------------------------------------------------------

TEXT = st.text(max_size=20)  # any code point, lone surrogates included
NUMBERS = st.one_of(
    st.integers(),
    st.floats(),  # nan and infinities too: Python's json writes and reads them
    st.sampled_from([-1, -0.0, 0.5, 1e-300, 1e308, 2**53 + 1, 2**63, 2**64, 10**30, -(10**30)]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=100_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inside = draw(st.sampled_from(["", "1", '"x"', "[]"]))
    if opener == '{"a":' and not inside:
        inside = "1"
    return (opener * depth + inside + closer * depth).encode()


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The key paths in a body, of its objects and of the values within them."""
    if isinstance(value, dict):
        if path:
            yield path
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    else:
        yield path


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        body = body[key]
    body[path[-1]] = value


def _drop(body: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        body = body[key]
    del body[path[-1]]


OUT_OF_RANGE: st.SearchStrategy[Any] = st.sampled_from(
    [-1, -0.001, 2**63, 2**64, 10**30, 1e308, -1e308, math.nan, math.inf, 0.5, "", "x" * 5000,
     "\ud800", "1", True, None, [], {}]
)  # fmt: skip


@st.composite
def broken_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A real body with one to three keys dropped, mistyped, out of range, or added."""
    body: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(REAL))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_leaves(body))
        path = draw(st.sampled_from(paths)) if paths else ()
        how = draw(st.sampled_from(["drop", "retype", "range", "add", "event"]))
        if how == "drop" and path:
            _drop(body, path)
        elif how == "retype" and path:
            _set(body, path, draw(JSON_VALUES))
        elif how == "range" and path:
            _set(body, path, draw(OUT_OF_RANGE))
        elif how == "add":
            where = path[:-1] if path and isinstance(body.get(path[0]), dict) else ()
            _set(body, (*where, draw(TEXT)), draw(JSON_VALUES))
        else:
            body["eventType"] = draw(st.sampled_from(EVENT_TYPES) | TEXT)
    return body


SEGMENTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["sessions", "events", "schemas", "sessionStart", "ping", "", ".", "..",
                     "%", "%zz", "%2F", "%3F", "%00", "a" * 64, "0" * 64]),
)  # fmt: skip
PATHS = st.builds(
    lambda segments, query: "/api/v1/" + quote("/".join(segments), safe="/%") + query,
    st.lists(SEGMENTS, max_size=5),
    st.sampled_from(["", "?format=json", "?", "?a=%zz&b", "#frag"]),
)
METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]
) | st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=10)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from([JSON, "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain",
                     "application/json-patch+json", "multipart/form-data; boundary=x", ";", ""]),
    st.text(alphabet=string.printable.strip(), max_size=40),
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.sampled_from(REAL).map(lambda body: json.dumps(body).encode()),
    st.integers(MAX_BODY_BYTES - 2, MAX_BODY_BYTES + 2).map(lambda size: b" " * size),
)


# --- the properties ---------------------------------------------------------------------------


def test_any_json_value_or_deep_nesting_as_a_body(fuzzed: Fuzzed) -> None:
    events = fuzzed.open_session()

    @FUZZ
    @given(body=st.one_of(JSON_VALUES.map(lambda v: json.dumps(v).encode()), deep_nesting()),
           to_events=st.booleans())  # fmt: skip
    def example(body: bytes, to_events: bool) -> None:
        fuzzed.send("POST", events if to_events else "/api/v1/sessions", body, JSON)

    example()
    fuzzed.check_still_serving()


def test_real_bodies_with_fields_dropped_mistyped_or_out_of_range(fuzzed: Fuzzed) -> None:
    @FUZZ
    @given(body=broken_bodies(), to_its_endpoint=st.booleans())
    def example(body: dict[str, Any], to_its_endpoint: bool) -> None:
        starts = body.get("eventType") == "sessionStart"
        if starts == to_its_endpoint:
            fuzzed.post("/api/v1/sessions", body)
        else:
            fuzzed.post(fuzzed.open_session(), body)

    example()
    fuzzed.check_still_serving()


def test_random_bytes_as_a_body(fuzzed: Fuzzed) -> None:
    events = fuzzed.open_session()

    @FUZZ
    @given(body=st.binary(max_size=2000), to_events=st.booleans())
    def example(body: bytes, to_events: bool) -> None:
        fuzzed.send("POST", events if to_events else "/api/v1/sessions", body, JSON)

    example()
    fuzzed.check_still_serving()


def test_random_paths_methods_and_content_types(fuzzed: Fuzzed) -> None:
    @FUZZ
    @given(method=METHODS, path=PATHS, body=BODIES, content_type=CONTENT_TYPES,
           chunked=st.booleans())  # fmt: skip
    def example(
        method: str, path: str, body: bytes, content_type: str | None, chunked: bool
    ) -> None:
        fuzzed.send(method, path, body, content_type, chunked)

    example()
    fuzzed.check_still_serving()


REQUEST_LINES = st.sampled_from(
    [b"", b"GET / HTTP/1.1\r\n", b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n",
     b"GET /stats HTTP/1.0\r\n", b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n"
     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"]
)  # fmt: skip


def test_random_bytes_as_the_whole_request(fuzzed: Fuzzed) -> None:
    """Whatever bytes arrive, any answer is a 4xx with a message or a success, never a 5xx."""
    host, port = fuzzed.url.removeprefix("http://").split(":")

    @FUZZ
    @given(start=REQUEST_LINES, rest=st.binary(max_size=300))
    def example(start: bytes, rest: bytes) -> None:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(start + rest + b"\r\n\r\n")
            # The end of what we send: the server answers what it can, then closes.
            sock.shutdown(socket.SHUT_WR)
            received = b""
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except ConnectionResetError:
                pass
        if received:
            head, _, body = received.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            assert status < 500, received
            if status >= 400:
                length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n")[0])
                assert isinstance(json.loads(body[:length])["message"], str)

    example()
    fuzzed.check_still_serving()
