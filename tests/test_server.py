"""`playersim serve`: the collector behind uvicorn on 127.0.0.1, and what it answers to anyone."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from playersim import Collector, SystemClock
from playersim.cli.app import build_parser, main
from playersim.mca.api import Request as McaRequest
from playersim.mca.api import Response as McaResponse
from playersim.mca.wire import EventType, make_body
from playersim.server import MAX_BODY_BYTES, Faults, Limits, create_app, uvicorn_config
from playersim.server.limits import DEFAULT_LIMITS
from playersim.transports.recording import Recorder, read_recording
from tests.waiting import BOUND_S, wait_until

JSON = {"Content-Type": "application/json"}


class Served:
    def __init__(self, url: str, collector: Collector) -> None:
        self.url = url
        self.collector = collector


def running(app: ASGIApp, limits: Limits = DEFAULT_LIMITS) -> Iterator[str]:
    """`app` on uvicorn under `limits`, on a free loopback port, in a thread: yields its URL,
    then stops it."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn_config(app, limits, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn started")
    assert server.started, "uvicorn did not start"
    host, port = listener.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        # Stopped when this returns: uvicorn has finished every request it took, so a test
        # may judge its collector after the loop.
        thread.join(timeout=BOUND_S)
        listener.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    collector = Collector(SystemClock(), seed="1", keep_events=False)
    with Recorder(tmp_path / "served.ndjson", flush_each=True) as recorder:
        for url in running(create_app(collector, recorder=recorder)):
            yield Served(url, collector)


def test_a_run_through_the_server_records_what_an_in_memory_run_records(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    over_http, in_memory = tmp_path / "http.ndjson", tmp_path / "memory.ndjson"
    args = ["run", "--sessions", "15", "--seed", "1", "--profile", "ugc-clip", "--profile",
            "vod-episode"]  # fmt: skip
    assert main([*args, "--to", served.url, "--record", str(over_http)]) == 0
    assert main([*args, "--record", str(in_memory)]) == 0
    capsys.readouterr()
    assert over_http.read_bytes() == in_memory.read_bytes()
    # The server's own recording, written as requests arrived (sessions sending at once),
    # holds the same requests, each session's in the same order.
    assert by_session(read_recording(tmp_path / "served.ndjson")) == by_session(
        read_recording(in_memory)
    )


def by_session(lines: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    sessions: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        sessions.setdefault(line["session"], []).append(line)
    return sessions


@pytest.mark.parametrize("event_type", [event.value for event in EventType])
def test_every_event_type_has_its_schema(served: Served, event_type: str) -> None:
    answer = httpx.get(f"{served.url}/api/v1/schemas/{event_type}")
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["properties"]["eventType"]["const"] == event_type
    assert {"eventType", "playerTime"} <= set(schema["required"])
    assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("content", "headers", "status", "fragment"),
    [
        (b"{bad", JSON, 400, "not valid JSON"),
        (b"[" * 50_000, JSON, 400, ""),
        (b"{}", {"Content-Type": "text/plain"}, 415, "application/json"),
        (b"{}", {}, 415, "got none"),
        (b"x" * (MAX_BODY_BYTES + 1), JSON, 413, "larger than"),
        (b'{"eventType": "ping"}', JSON, 400, "playerTime: required"),
    ],
)
def test_hostile_bodies_get_a_4xx_and_a_message(
    served: Served, content: bytes, headers: dict[str, str], status: int, fragment: str
) -> None:
    answer = httpx.post(f"{served.url}/api/v1/sessions", content=content, headers=headers)
    assert answer.status_code == status
    assert fragment in answer.json()["message"]
    assert answer.headers["access-control-allow-origin"] == "*"


def test_unknown_paths_methods_and_preflights(served: Served) -> None:
    assert httpx.post(f"{served.url}/nowhere", content=b"{}", headers=JSON).status_code == 404
    assert httpx.get(f"{served.url}/api/v1/schemas/nothing").status_code == 404
    assert httpx.delete(f"{served.url}/api/v1/sessions").status_code == 405
    # What Starlette refuses itself gets JSON and CORS too (found by fuzzing): a method no
    # route takes (it said so in plain text), a path no route matches (it redirected).
    for method in ("TRACE", "BREW"):
        answer = httpx.request(method, f"{served.url}/api/v1/sessions")
        assert answer.status_code == 405
        assert answer.json()["message"].startswith(f"{method} is not allowed on /api/v1/")
        assert answer.headers["access-control-allow-origin"] == "*"
    answer = httpx.post(f"{served.url}/api/v1/%0A/", content=b"{}", headers=JSON)
    assert answer.status_code == 404
    assert answer.json()["message"].startswith("no such endpoint: /api/v1/")
    assert answer.headers["access-control-allow-origin"] == "*"
    # Each says the one method its path takes, whichever layer refused it (found by trying).
    for method, path, allowed in [("PUT", "/stats", "GET"), ("DELETE", "/api/v1/sessions", "POST"),
                                  ("FOO", "/api/v1/sessions", "POST")]:  # fmt: skip
        answer = httpx.request(method, f"{served.url}{path}")
        assert answer.status_code == 405
        assert answer.json()["message"] == f"{method} is not allowed on {path}: use {allowed}"
    # A request line naming the whole URL (a client behind a proxy) is served by its path.
    with connect(served.url) as sock:
        sock.sendall(b"GET http://elsewhere/stats?format=json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert one_answer(sock).startswith(b"HTTP/1.1 200 ")
    preflight = httpx.options(f"{served.url}/api/v1/sessions")
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-expose-headers"] == "Location"


def strict_json(line: bytes) -> Any:
    """A line decoded as RFC 8259 reads it (what jq or a pipeline's parser takes): UTF-8, no
    NaN or Infinity, no half of a surrogate pair. AssertionError otherwise."""

    def no_constant(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    value = json.loads(line.decode("utf-8"), parse_constant=no_constant)
    strings: list[object] = [value]
    while strings:
        item = strings.pop()
        if isinstance(item, dict):
            strings.extend(item.keys())
            strings.extend(item.values())
        elif isinstance(item, list):
            strings.extend(item)
        elif isinstance(item, str):
            assert not any("\ud800" <= c <= "\udfff" for c in item), ascii(item)
    return value


HOSTILE_STARTS = [
    # A lone surrogate as a JSON escape, and as raw bytes (was a 500: the sid is derived from
    # the body, and UTF-8 cannot encode it).
    (b'{"eventType":"sessionStart","playerTime":{"playhead":0,"ts":1},'
     b'"params":{"media.name":"\\ud800"}}', "params.media.name: holds \\ud800"),
    (b'{"eventType":"sessionStart","playerTime":{"playhead":0,"ts":1},'
     b'"params":{"media.name":"\xed\xa0\x80"}}', "the body is not UTF-8 text"),
    # NaN and Infinity, which Python reads and RFC 8259 has no word for.
    (b'{"eventType":"ping","playerTime":{"playhead":NaN,"ts":1}}', "NaN is not a JSON number"),
    (b'{"eventType":"ping","playerTime":{"playhead":Infinity,"ts":1}}', "Infinity is not"),
    ('{"eventType":"ping","playerTime":{"playhead":0,"ts":1}}'.encode("utf-16"), "UTF-16"),
    # JSON that Python reads, but cannot write again as it came: kept as the bytes sent.
    (b'{"eventType":"ping","playerTime":{"playhead":1e400,"ts":1}}', "must be a finite number"),
    (b'{"eventType":"ping","playerTime":{"playhead":' + b"1" * 5_000 + b',"ts":1}}',
     "playerTime.playhead: a number may have at most 64 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("sent", "said"), HOSTILE_STARTS)
def test_what_is_not_strict_json_gets_a_400_and_a_strict_line_in_the_recording(
    served: Served, tmp_path: Path, sent: bytes, said: str
) -> None:
    """Never a 500, and the recording stays JSON that any reader takes: the refused body is
    kept as its bytes, written as text in `raw`."""
    answer = httpx.post(f"{served.url}/api/v1/sessions", content=sent, headers=JSON)
    assert answer.status_code == 400
    assert said in answer.json()["message"]
    [raw_line] = (tmp_path / "served.ndjson").read_bytes().splitlines()
    line = strict_json(raw_line)
    assert (line["status"], line["body"]) == (400, None)
    assert line["raw"] == sent.decode("utf-8", "backslashreplace")
    assert said in line["message"]


def test_bodies_nested_as_deep_as_the_stack_allows_get_a_400(served: Served) -> None:
    """Near the recursion limit json.loads just copes, and quoting the value in the message or
    recording it did not: some depths gave a 500 (fuzzing). All are refused alike now."""
    shapes: list[Callable[[int], str]] = [
        lambda n: '{"k":' * n + "1" + "}" * n,  # a deep object, which the recorder would write
        # a deep value in a ping, which the message would quote
        lambda n: (
            '{"eventType":"ping","playerTime":{"playhead":0,"ts":1},"customMetadata":'
            '{"k":' + "[" * n + "]" * n + "}}"
        ),
    ]
    with httpx.Client(base_url=served.url, headers=JSON) as client:
        for depth in range(sys.getrecursionlimit() - 300, sys.getrecursionlimit() + 10):
            for shape in shapes:
                answer = client.post("/api/v1/sessions", content=shape(depth))
                assert answer.status_code == 400, depth
                assert "nested too deeply" in answer.json()["message"]


def test_answers_are_not_held_back_by_nagles_algorithm() -> None:
    """With Nagle's algorithm on, each answer's body waited for the client's delayed ACK, some
    40 ms on every answer of a kept-alive connection: the server turns it off on every socket
    it serves (asyncio does only for sockets it made itself)."""
    app = create_app(Collector(SystemClock(), keep_events=False))
    config = uvicorn_config(app, DEFAULT_LIMITS, log_level="warning")
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the server started")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}") as client:
            assert client.get("/stats?format=json").status_code == 200
            served = list(config.http.served)  # type: ignore[union-attr]
            assert served
            for connection in served:
                sock = connection.transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        server.should_exit = True
        thread.join(timeout=BOUND_S)
        listener.close()


def test_stats_for_people_and_machines(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--sessions", "3", "--profile", "ugc-clip", "--to", served.url]) == 0
    capsys.readouterr()
    figures = httpx.get(f"{served.url}/stats?format=json").json()
    # Sessions that sent sessionComplete are open to the API, but not viewers watching.
    sessions = figures["sessions"]
    assert sessions["opened"] == 3
    assert sessions["open"] + sessions["complete"] + sessions["closed"] == 3
    assert sessions["closed"] == sum(sessions["closed_by"].values())
    assert set(sessions["closed_by"]) <= {"sessionEnd"}
    assert figures["by_status"]["201"] == 3
    assert figures["by_event_type"]["sessionStart"] == 3
    assert figures["conformance_problems"] == {}
    assert httpx.get(served.url, headers={"Accept": "application/json"}).json()["requests"] > 3
    page = httpx.get(f"{served.url}/")
    assert page.headers["content-type"].startswith("text/html")
    assert "Requests by event type" in page.text
    assert "complete (awaiting sessionEnd or the idle timeout)" in page.text


def test_a_recorder_appends_and_sets_a_line_torn_by_a_crash_aside(tmp_path: Path) -> None:
    """A collector restarted on its recording adds to it: nothing recorded before is lost,
    and a last line a crash cut short is moved to FILE.partial rather than joined to the next
    line (every line stays JSON)."""
    path = tmp_path / "serve.ndjson"
    path.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    request = McaRequest("/api/v1/sessions", make_body("sessionStart", 0, 1, params={}))
    with Recorder(path, append=True) as recorder:
        assert recorder.kept == len(b'{"a":1}\n{"b":2}\n')  # the bytes kept
        recorder.write(request, McaResponse(400, message="no"), sid=None)
    lines = path.read_bytes().splitlines()
    assert lines[:2] == [b'{"a":1}', b'{"b":2}']
    assert strict_json(lines[2])["status"] == 400
    assert len(lines) == 3
    assert (tmp_path / "serve.ndjson.partial").read_bytes() == b'{"c":\n'


@pytest.mark.slow
def test_playersim_serve_appends_to_its_recording_when_restarted(tmp_path: Path) -> None:
    record = tmp_path / "serve.ndjson"
    start = {"eventType": "sessionStart", "playerTime": {"playhead": 0, "ts": 1}}
    for run in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "playersim", "serve", "--port", "0", "--record", str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            httpx.post(f"{url}/api/v1/sessions", content=json.dumps(start), headers=JSON)
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=BOUND_S)
        if run == 1:
            assert "--record" in err
            assert re.search(r"appending to the \d+ bytes it holds", err), err
    assert len(record.read_bytes().splitlines()) == 2


@pytest.mark.slow
def test_playersim_serve_records_to_a_pipe(tmp_path: Path) -> None:
    """`--record /dev/stdout | ...`: a pipe has nothing to mend or count, and is written to."""
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0", "--record", "/dev/stderr"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=BOUND_S)
    assert '"status":400' in err


@pytest.mark.slow
def test_playersim_serve_listens_records_and_stops_on_sigterm(tmp_path: Path) -> None:
    record = tmp_path / "serve.ndjson"
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0", "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("playersim serve: listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        start = {"eventType": "sessionStart", "playerTime": {"playhead": 0, "ts": 1}}
        answer = httpx.post(f"{url}/api/v1/sessions", content=json.dumps(start), headers=JSON)
        assert answer.status_code == 400  # no params: the message says which are missing
        # Written and flushed as it was answered, while the server still runs.
        assert json.loads(record.read_text())["status"] == 400
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=BOUND_S)
    # A graceful shutdown, then the signal's own status (143 in a shell), as uvicorn does.
    assert process.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--port", "70000"], "is not a port"), (["--port", "x"], "is not a port number")],
)
def test_bad_serve_flags_exit_2(args: list[str], fragment: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "playersim", "serve", *args],
        capture_output=True,
        text=True,
        timeout=BOUND_S,
        check=False,
    )
    assert result.returncode == 2
    assert fragment in result.stderr


def test_a_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def accounted_for(counts: dict[str, Any]) -> int:
    """The requests a `--json` summary says went somewhere: accepted, rejected (by status),
    unanswered or dropped. Every generated request must be one of these."""
    where = [counts["accepted"], *counts["rejected"].values(), counts["unanswered"]]
    return sum(int(n) for n in [*where, counts["dropped"]])


def served_with(faults: Faults) -> Iterator[str]:
    return running(create_app(Collector(SystemClock(), keep_events=False), faults=faults))


def test_injected_failures_answer_500() -> None:
    for url in served_with(Faults(fail_rate=1.0)):
        answer = httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON)
        assert answer.status_code == 500
        assert "injected" in answer.json()["message"]
        # Only the API is faulty: schemas and stats still answer.
        assert httpx.get(f"{url}/stats?format=json").status_code == 200


def test_injected_drops_cut_the_connection() -> None:
    for url in served_with(Faults(drop_rate=1.0)):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON)


def test_injected_latency_delays_each_answer() -> None:
    for url in served_with(Faults(latency_ms=(300, 300))):
        began = time.perf_counter()
        assert httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON).status_code == 400
        assert time.perf_counter() - began >= 0.3


@pytest.mark.slow
def test_a_share_of_faults_is_about_that_share(capsys: pytest.CaptureFixture[str]) -> None:
    for url in served_with(Faults(fail_rate=0.3, seed="x")):
        statuses = [
            httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON).status_code
            for _ in range(200)
        ]
        assert 40 <= statuses.count(500) <= 80
        assert set(statuses) == {400, 500}
        # /stats says how many answers were injected faults rather than the collector's.
        figures = httpx.get(f"{url}/stats?format=json").json()
        assert figures["injected_faults"] == {"500": statuses.count(500)}
        assert figures["by_status"] == {"400": statuses.count(400)}


@pytest.mark.slow
def test_serve_drops_without_a_traceback(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0", "--drop", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        for _ in range(3):
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.post(f"{url}/api/v1/sessions", content=b"{}", headers=JSON)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=BOUND_S)
    assert "Traceback" not in err
    assert "Exception" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--fail-rate", "2"], "must be from 0 to 1"), (["--drop", "x"], "is not a number"),
     (["--latency", "fast"], "is not a latency"), (["--latency", "2s:1s"], "LOW <= HIGH")],
)  # fmt: skip
def test_bad_fault_flags_exit_2(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", *args])
    assert exit_.value.code == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("retries", ["0", "3"])
def test_accounting_adds_up_under_faults(retries: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every generated request is accepted, rejected with its status, unanswered or dropped."""
    for url in served_with(Faults(fail_rate=0.1, drop_rate=0.03, seed="acct")):
        args = ["run", "--profile", "ugc-clip", "--sessions", "20", "--to", url, "--json",
                "--retries", retries]  # fmt: skip
        status = main(args)
        report = json.loads(capsys.readouterr().out)
    counts = report["requests"]
    assert counts["generated"] == accounted_for(counts)
    if retries == "0":
        assert status == 1  # not everything was accepted, and the exit status says so
        assert counts["rejected"].get("500", 0) > 0
        assert counts["retried"] == 0
    else:
        assert counts["retried"] > 0
        assert counts["rejected"].get("500", 0) < counts["retried"]


# --- slow, idle and many clients -------------------------------------------------------------

# Short limits, so that each case ends in well under a second; BOUND_S (tests/waiting.py) is
# how long a socket waits for the server before the test calls it a hang (never a measure).
QUICK = Limits(header_timeout=0.5, body_timeout=0.5, send_timeout=0.5, keep_alive=0.5)
HEAD = b"POST /api/v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


def served_under(limits: Limits) -> Iterator[str]:
    app = create_app(Collector(SystemClock(), keep_events=False), limits=limits)
    return running(app, limits)


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def connect(url: str) -> socket.socket:
    return socket.create_connection(address(url), timeout=BOUND_S)


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends on `sock` until it closes it; fails if it never does."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the server held the connection open for {BOUND_S:g} s")
    except ConnectionResetError:
        pass  # closed with bytes of ours unread: a reset, after what it had sent
    return received


def one_answer(sock: socket.socket) -> bytes:
    """One whole answer on a connection kept open (its head, and its body by Content-Length)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += sock.recv(65536)
    return answer


def status_and_message(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    message = json.loads(body)["message"]
    assert isinstance(message, str)
    return int(head.split(b" ", 2)[1]), message


@contextlib.contextmanager
def trickling(sock: socket.socket, data: bytes) -> Iterator[None]:
    """Send `data` a byte every 50 ms from a thread: each byte well inside any deadline."""
    stop = threading.Event()

    def trickle() -> None:
        for byte in data:
            if stop.wait(0.05):
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return  # the server closed it: what the test is waiting for

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def still_serving(url: str) -> None:
    assert httpx.get(f"{url}/stats?format=json").json()["uptime_seconds"] >= 0


def test_a_connection_that_never_sends_is_closed_without_an_answer() -> None:
    for url in served_under(QUICK):
        with connect(url) as idle:
            still_serving(url)
            assert until_closed(idle) == b""


def test_a_head_sent_a_byte_at_a_time_gets_408() -> None:
    """Slowloris: every byte comes in time, but the head as a whole does not."""
    for url in served_under(QUICK):
        with connect(url) as slow, trickling(slow, HEAD + b"X-Slow: " + b"a" * 200):
            still_serving(url)
            status, message = status_and_message(until_closed(slow))
        assert status == 408
        assert "--header-timeout" in message


def test_a_body_sent_a_byte_at_a_time_gets_408() -> None:
    for url in served_under(QUICK):
        with connect(url) as slow:
            slow.sendall(HEAD + b"Content-Length: 300\r\n\r\n")
            with trickling(slow, b"{" + b" " * 299):
                still_serving(url)
                status, message = status_and_message(until_closed(slow))
        assert status == 408
        assert "--body-timeout" in message


def test_a_body_trickled_after_an_early_answer_does_not_hold_the_connection() -> None:
    """Answered 415 at once, the client trickles on: the rest is waited for only so long."""
    for url in served_under(QUICK):
        with connect(url) as slow:
            slow.sendall(HEAD.replace(b"json", b"plain") + b"Transfer-Encoding: chunked\r\n\r\n")
            with trickling(slow, b"1\r\nx\r\n" * 100):
                status, message = status_and_message(until_closed(slow))
        assert status == 415
        assert "application/json" in message


def test_a_connection_idle_after_an_early_answer_is_still_closed() -> None:
    """uvicorn forgets its keep-alive once the body of an early answer has arrived."""
    for url in served_under(QUICK):
        with connect(url) as client:
            client.sendall(HEAD.replace(b"json", b"plain") + b"Content-Length: 2\r\n\r\n")
            assert one_answer(client).startswith(b"HTTP/1.1 415 ")
            client.sendall(b"{}")  # the rest of the body, then nothing more
            assert until_closed(client) == b""


def test_a_kept_alive_connection_is_served_however_long_it_was_idle_between_requests() -> None:
    """The head deadline starts at each request's first byte, not when the connection went
    idle: idle longer than it between requests, a kept-alive connection is still served."""
    limits = dataclasses.replace(QUICK, header_timeout=0.2, keep_alive=600)
    for url in served_under(limits):
        with connect(url) as client:
            for _ in range(3):
                client.sendall(b"GET /stats?format=json HTTP/1.1\r\nHost: test\r\n\r\n")
                assert one_answer(client).startswith(b"HTTP/1.1 200 ")
                time.sleep(0.3)  # idle past the head deadline (however long: within 600 s)


def test_a_kept_alive_connection_is_closed_when_idle() -> None:
    for url in served_under(QUICK):
        with connect(url) as client:
            client.sendall(b"GET /stats?format=json HTTP/1.1\r\nHost: test\r\n\r\n")
            assert one_answer(client).startswith(b"HTTP/1.1 200 ")
            assert until_closed(client) == b""  # after the keep-alive (QUICK: 0.5 s)


def test_what_is_not_http_gets_a_400_with_a_message() -> None:
    for url in served_under(QUICK):
        with connect(url) as client:
            client.sendall(b"\x16\x03\x01 not HTTP at all\r\n\r\n")
            status, message = status_and_message(until_closed(client))
        assert status == 400
        assert "not an HTTP/1.1 request" in message
        with connect(url) as client:  # a broken chunk while the app reads the body
            client.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
            assert status_and_message(until_closed(client))[0] == 400
        still_serving(url)


def test_a_client_that_reads_none_of_its_answer_is_cut_off() -> None:
    """The answer stops being sent, so the task answering it ends, and others are served."""
    gave_up = threading.Event()

    async def endless(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                for _ in range(4096):  # 256 MiB: far more than the socket buffers hold
                    yield b"x" * 65536
            finally:
                gave_up.set()

        return StreamingResponse(chunks())

    async def small(request: Request) -> Response:
        return PlainTextResponse("small")

    app = Starlette(routes=[Route("/endless", endless), Route("/small", small)])
    for url in running(app, QUICK):
        with socket.socket() as greedy:
            greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            greedy.settimeout(BOUND_S)
            greedy.connect(address(url))
            greedy.sendall(b"GET /endless HTTP/1.1\r\nHost: test\r\n\r\n")
            assert httpx.get(f"{url}/small").text == "small"
            assert gave_up.wait(BOUND_S)
            assert len(until_closed(greedy)) < 4096 * 65536


def begun(url: str) -> socket.socket:
    """A connection with a request begun (part of its head sent): busy, not idle."""
    sock = connect(url)
    sock.sendall(b"GET /stats HTTP/1.1\r\n")
    return sock


def test_idle_connections_give_way_to_a_client_with_a_request() -> None:
    """Sockets held open that send nothing (an attack, or a browser's preconnections) fill
    every place: a client with a request in hand still gets its answer, and the socket idle
    longest is the one closed for it."""
    for url in served_under(Limits(max_connections=5)):
        with contextlib.ExitStack() as held:
            idle = [held.enter_context(connect(url)) for _ in range(5)]
            still_serving(url)  # served: the first idle socket made room
            assert until_closed(idle[0]) == b""
            for _ in range(3):
                still_serving(url)  # kept-alive by nobody: each newcomer takes a place
            # The newest idle sockets are the last to go.
            idle[-1].sendall(b"GET /stats?format=json HTTP/1.1\r\nHost: t\r\n\r\n")
            assert one_answer(idle[-1]).startswith(b"HTTP/1.1 200 ")


def test_with_every_place_busy_a_newcomer_gets_503_and_a_flood_is_cut_at_once() -> None:
    for url in served_under(Limits(max_connections=3)):
        with contextlib.ExitStack() as held:
            busy = [held.enter_context(begun(url)) for _ in range(3)]  # the limit, all busy
            waiting = [held.enter_context(connect(url)) for _ in range(3)]  # up to twice it
            flood = [held.enter_context(connect(url)) for _ in range(5)]
            for sock in flood:
                assert until_closed(sock) == b""  # at once, before sending anything
            waiting[0].sendall(b"GET /stats HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = until_closed(waiting[0])
            status, message = status_and_message(answer)
            assert status == 503
            assert "--max-connections 3" in message
            assert b"\r\nretry-after: 1\r\n" in answer.lower()
            # Those served before the flood are served still.
            busy[0].sendall(b"Host: test\r\n\r\n")
            assert one_answer(busy[0]).startswith(b"HTTP/1.1 200 ")
        # Once the flood lets go, newcomers are served again (as soon as the server has seen
        # the sockets close).
        deadline = time.monotonic() + BOUND_S
        while httpx.get(f"{url}/stats").status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_content_length_and_transfer_encoding_together_get_400_and_a_closed_connection() -> None:
    """RFC 9112 section 6.3: such a request may be smuggling another; answer it as an error
    and close the connection, so nothing after it on that connection is read as a request."""
    for url in served_under(QUICK):
        with connect(url) as sock:
            body = b'{"eventType":"ping"}'
            sock.sendall(
                b"POST /api/v1/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"%x\r\n%s\r\n0\r\n\r\n"
                b"GET /stats HTTP/1.1\r\nHost: t\r\n\r\n" % (len(body), len(body), body)
            )
            answer = until_closed(sock)
        status, message = status_and_message(answer)
        assert status == 400
        assert "not both (RFC 9112 section 6.3)" in message
        # One answer, then closed: the request behind it was never served.
        assert answer.lower().count(b"\r\ncontent-length:") == 1


@pytest.mark.parametrize("reads", [1, 2])
def test_a_head_over_16_kib_is_refused_however_it_arrives(reads: int) -> None:
    """h11 bounds a head only while it is still arriving: 10,000 headers sent at once were
    parsed and answered 200. Whole or in parts, a head over 16 KiB gets 431 and a close."""
    head = (
        b"GET /stats HTTP/1.1\r\nHost: t\r\n"
        + b"".join(b"X-%d: v\r\n" % n for n in range(10_000))
        + b"\r\n"
    )
    for url in served_under(QUICK):
        with connect(url) as sock:
            cut = len(head) // reads
            for part in (head[:cut], head[cut:]) if reads == 2 else (head,):
                sock.sendall(part)
            answer = until_closed(sock)
        status, message = status_and_message(answer)
        assert status in (431, 400)  # 400: h11's own limit, on a head still arriving
        assert answer.lower().count(b"\r\ncontent-length:") == 1  # one answer, then closed
        assert "16 KiB" in message
        still_serving(url)


@pytest.mark.slow
def test_playersim_serve_takes_its_limits_from_flags() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0",
         "--header-timeout", "0.5", "--max-connections", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        with begun(url) as busy:
            answer = httpx.get(f"{url}/stats")
            assert answer.status_code == 503
            assert "--max-connections 1" in answer.json()["message"]
            assert until_closed(busy).startswith(b"HTTP/1.1 408 ")  # --header-timeout 0.5
        with connect(url) as idle:
            assert httpx.get(f"{url}/stats").status_code == 200  # the idle one made room
            assert until_closed(idle) == b""
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=BOUND_S)
    assert "Traceback" not in err


def test_serve_flags_default_to_the_librarys_limits() -> None:
    args = build_parser().parse_args(["serve"])
    for field in dataclasses.fields(Limits):
        assert getattr(args, field.name) == getattr(DEFAULT_LIMITS, field.name), field.name


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [("--header-timeout", "0", "must be above 0"), ("--body-timeout", "soon", "is not a number"),
     ("--send-timeout", "-1", "must be above 0"), ("--keep-alive", "nan", "must be above 0"),
     ("--header-timeout", "1e9", "at most 3600"), ("--max-connections", "0", "at least 1"),
     ("--max-connections", "1.5", "is not a whole number")],
)  # fmt: skip
def test_bad_limit_flags_exit_2_naming_the_flag_and_value(
    flag: str, value: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", flag, value])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert f"argument {flag}: {value!r} " in line
    assert fragment in line
