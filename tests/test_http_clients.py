"""Both asyncio HTTP clients (httpx, and aiohttp from the `aiohttp` extra) behave as one, and
runs over HTTP send many sessions at once without changing what a virtual run sends."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playersim import Collector, Outbox, Request, SystemClock, TransportError
from playersim.aiohttp_transport import AiohttpTransport
from playersim.cli import main
from playersim.http_transport import (
    Client,
    Retries,
    RetryingAsyncTransport,
    async_http_transport,
)
from playersim.recording import read_recording
from playersim.server import Faults, create_app
from playersim.wire import make_body
from tests.mca_server import serve
from tests.test_http import FakeSleep, flaky_server, free_port, session_bodies
from tests.test_server import accounted_for, running

CLIENTS: list[Client] = ["httpx", "aiohttp"]


@pytest.fixture
def server() -> Iterator[tuple[str, Collector]]:
    collector = Collector(clock=SystemClock(), seed="1")
    with serve(collector) as url:
        yield url, collector


@contextlib.contextmanager
def handled_by(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A stdlib server with `handler` on a free loopback port: yields its URL, then stops."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_all(transport: RetryingAsyncTransport, requests: list[Request]) -> list[object]:
    """Each request's Response, or the TransportError it raised."""

    async def go() -> list[object]:
        answers: list[object] = []
        try:
            for request in requests:
                try:
                    answers.append(await transport.send(request))
                except TransportError as exc:
                    answers.append(exc)
        finally:
            await transport.aclose()
        return answers

    return asyncio.run(go())


@pytest.mark.parametrize("client", CLIENTS)
def test_each_client_delivers_a_session_in_order(
    server: tuple[str, Collector], client: Client
) -> None:
    url, collector = server
    bodies = session_bodies(60)

    async def deliver() -> None:
        outbox = Outbox()
        outbox.push(bodies)
        transport = async_http_transport(url, client=client)
        try:
            while (request := outbox.next_request()) is not None:
                outbox.settle(request, await transport.send(request))
        finally:
            await transport.aclose()

    asyncio.run(deliver())
    assert collector.sessions[0].event_types == [b["eventType"] for b in bodies]
    assert collector.sessions[0].problems == []


@pytest.mark.parametrize("client", CLIENTS)
def test_each_client_gives_4xx_as_results_with_the_message(
    server: tuple[str, Collector], client: Client
) -> None:
    url, _ = server
    unknown = "/api/v1/sessions/" + "0" * 64 + "/events"
    bad, gone = send_all(
        async_http_transport(url, client=client),
        [
            Request("/api/v1/sessions", {"eventType": "sessionStart"}),
            Request(unknown, make_body("ping", 0, 1)),
        ],
    )
    assert getattr(bad, "status", None) == 400
    assert "playerTime: required" in str(getattr(bad, "message", ""))
    assert getattr(gone, "status", None) == 404
    assert getattr(gone, "message", None)


@pytest.mark.parametrize("client", CLIENTS)
def test_no_answer_is_a_transport_error_naming_the_url(client: Client) -> None:
    port = free_port()
    (refused,) = send_all(
        async_http_transport(f"http://127.0.0.1:{port}", client=client, timeout=2),
        [Request("/api/v1/sessions", session_bodies()[0])],
    )
    assert isinstance(refused, TransportError)
    assert str(refused).startswith(f"POST http://127.0.0.1:{port}/api/v1/sessions: ")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_silent_server_times_out(client: Client) -> None:
    """Connected, but never answered: a TransportError after the timeout, not a hang."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        began = time.monotonic()
        (timed_out,) = send_all(
            async_http_transport(f"http://127.0.0.1:{port}", client=client, timeout=0.5),
            [Request("/api/v1/sessions", session_bodies()[0])],
        )
    assert isinstance(timed_out, TransportError)
    assert "no answer within 0.5 s" in str(timed_out)
    assert time.monotonic() - began < 10


@pytest.mark.parametrize("client", CLIENTS)
def test_each_client_retries_5xx_but_not_4xx(client: Client) -> None:
    serving, seen = flaky_server([503, 500, 400])
    sleeper = FakeSleep()
    for url in serving:
        transport = async_http_transport(
            url, client=client, retries=Retries(attempts=5), clock=sleeper
        )
        (answer,) = send_all(transport, [Request("/api/v1/sessions", START)])
    assert getattr(answer, "status", None) == 400
    assert seen == [503, 500, 400]
    assert transport.retried == 2
    assert len(sleeper.waits) == 2


START = make_body("sessionStart", 0, 1, params={"media.id": "é"})


def test_both_clients_send_the_same_bytes() -> None:
    """The body on the wire is the same compact UTF-8 JSON, whichever client sends it."""
    bodies: list[bytes] = []
    types: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            types.append(self.headers["content-type"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with handled_by(Handler) as url:
        for client in CLIENTS:
            send_all(async_http_transport(url, client=client), [Request("/api/v1/sessions", START)])
    wire = json.dumps(START, ensure_ascii=False, separators=(",", ":")).encode()
    assert bodies[0] == bodies[1] == wire
    assert types == ["application/json", "application/json"]


def test_auto_picks_aiohttp_when_installed() -> None:
    transport = async_http_transport("http://127.0.0.1:1")
    assert isinstance(transport, AiohttpTransport)
    asyncio.run(transport.aclose())


@pytest.mark.parametrize("client", ["httpx", "aiohttp"])
def test_a_run_over_http_records_what_a_run_in_memory_records(
    server: tuple[str, Collector],
    tmp_path: Path,
    client: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Many sessions at once (--in-flight 8), either client: the same bytes as in memory."""
    url, collector = server
    over_http, in_memory = tmp_path / "http.ndjson", tmp_path / "memory.ndjson"
    args = ["run", "--sessions", "30", "--seed", "1", "--profile", "ugc-clip", "--profile",
            "live-news", "--duration", "20m"]  # fmt: skip
    http = ["--to", url, "--http-client", client, "--in-flight", "8"]
    assert main([*args, *http, "--record", str(over_http)]) == 0
    assert main([*args, "--record", str(in_memory)]) == 0
    capsys.readouterr()
    assert over_http.read_bytes() == in_memory.read_bytes()
    assert all(session.problems == [] for session in collector.sessions)


def test_a_refused_session_start_ends_the_viewing_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A player hears each answer before it moves on, as in virtual time: a sessionStart
    refused with 400 ends that viewing, rather than hours of events generated to be dropped."""
    serving, seen = flaky_server([400] * 1000)
    for url in serving:
        status = main(["run", "--sessions", "10", "--profile", "vod-movie", "--to", url,
                       "--retries", "0", "--json"])  # fmt: skip
    assert status == 1
    report = json.loads(capsys.readouterr().out)
    counts = report["requests"]
    assert counts["rejected"] == {"400": len(seen)}
    assert counts["dropped"] == 0
    assert counts["generated"] == len(seen)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--in-flight", "0"], "--in-flight: '0' must be from 1 to 10000"),
        (["--in-flight", "many"], "--in-flight: 'many' is not a whole number"),
        (["--http-client", "curl"], "--http-client: invalid choice: 'curl'"),
        (["--to", "http://127.0.0.1:99999"], "the port 99999 is not one (1 to 65535)"),
    ],
)
def test_bad_http_flags_exit_2(
    flags: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--to", "http://127.0.0.1:1", *flags])
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_asking_for_aiohttp_without_the_extra_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("playersim.http_transport.aiohttp_installed", lambda: False)
    status = main(["run", "--to", "http://127.0.0.1:1", "--http-client", "aiohttp"])
    assert status == 2
    err = capsys.readouterr().err
    assert "pip install 'playersim[aiohttp]' (from a clone: pip install '.[aiohttp]')" in err


@pytest.mark.parametrize(
    ("sig", "status", "mode"),
    [
        (signal.SIGTERM, 143, ["--speed", "60", "--profile", "live-news", "--flat"]),
        (signal.SIGINT, 130, ["--sessions", "100000", "--profile", "live-news", "--flat"]),
    ],
)
def test_an_interrupted_run_over_http_ends_every_session_it_opened(
    server: tuple[str, Collector],
    tmp_path: Path,
    sig: signal.Signals,
    status: int,
    mode: list[str],
) -> None:
    """Ctrl-C or SIGTERM over HTTP, in real time or virtual: each session the collector saw
    open gets its sessionEnd, the recording says so, and nothing is unaccounted for."""
    url, collector = server
    record = tmp_path / "cut.ndjson"
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "run", "--to", url, "--json", "--record",
         str(record), "--start", "2026-01-01T12:00:00Z", *mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(4)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    assert "Traceback" not in err
    assert "the open sessions were ended" in err
    report = json.loads(out)
    counts = report["requests"]
    assert counts["generated"] == accounted_for(counts) > 0
    assert collector.sessions
    for session in collector.sessions:
        assert session.event_types[-1] in ("sessionEnd", "sessionComplete"), session.sid
    recorded = [line for line in read_recording(record) if line["status"] in (201, 204)]
    assert len(recorded) == counts["accepted"]


def test_run_and_replay_name_the_client_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "replay"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert re.search(r"--http-client \{auto,aiohttp,httpx\}", capsys.readouterr().out)


def start_serve(port: int, record: Path) -> subprocess.Popen[str]:
    """`playersim serve` on `port`, once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", str(port), "--record",
         str(record), "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert "listening on" in process.stdout.readline()
    return process


def test_a_server_killed_and_restarted_mid_run_loses_nothing_from_the_accounting(
    tmp_path: Path,
) -> None:
    """The collector dies (SIGKILL) and comes back on the same port: requests meanwhile are
    sent again until it answers; sessions it no longer knows get a 404 and go on in a new
    session with media.resume; every request generated is accounted for."""
    port = free_port()
    before, after = tmp_path / "before.ndjson", tmp_path / "after.ndjson"
    server = start_serve(port, before)
    run = subprocess.Popen(
        [sys.executable, "-m", "playersim", "run", "--to", f"http://127.0.0.1:{port}",
         "--profile", "live-news", "--flat", "--sessions", "30", "--duration", "20m",
         "--speed", "300", "--retries", "10", "--json", "--start", "2026-01-01T12:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.5)
        server.kill()
        server.communicate(timeout=10)  # and its pipes closed
        time.sleep(0.5)
        server = start_serve(port, after)
        out, err = run.communicate(timeout=120)
    finally:
        run.kill()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=15)
    assert "Traceback" not in err
    report = json.loads(out)
    counts = report["requests"]
    assert counts["generated"] == accounted_for(counts)
    assert counts["retried"] > 0  # sent again while nobody listened
    assert counts["unanswered"] == 0  # ... until the new server answered
    assert set(counts["rejected"]) <= {"404"}  # the sessions the new server never knew
    resumed = [
        line
        for line in read_recording(after)
        if line["body"]["eventType"] == "sessionStart"
        and line["body"]["params"].get("media.resume") is True
    ]
    assert resumed, "the lost sessions went on in new ones, with media.resume: true"
    assert all(line["status"] == 201 for line in resumed)
    assert list(read_recording(before))
    assert list(read_recording(after))


@pytest.mark.parametrize("client", CLIENTS)
def test_each_session_stays_in_order_across_retries(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """A collector failing a third of requests (500s and cut connections) with 30 sessions
    sending at once: retried requests arrive in their session's order, so the collector finds
    no ordering problem, and everything generated is accepted in the end."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(fail_rate=0.25, drop_rate=0.08, seed="order"))
    for url in running(app):
        status = main(["run", "--profile", "ugc-clip", "--sessions", "30", "--duration", "5m",
                       "--to", url, "--retries", "10", "--http-client", client,
                       "--in-flight", "30", "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    counts = report["requests"]
    assert status == 0, counts
    assert counts["retried"] > 0
    assert counts["accepted"] == counts["generated"]
    assert collector.sessions
    for session in collector.sessions:
        rules = {problem.rule.value for problem in session.problems}
        assert not rules & {"order", "ts-order"}, (session.sid, session.problems)
        stamps = [event.ts for event in session.events]
        assert stamps == sorted(stamps)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_redirect_is_an_answer_not_followed(client: Client) -> None:
    """Following a 301 would turn the POST into a GET without its body: both clients give the
    301 back as it is."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(301)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST  # noqa: N815 - the stdlib handler's own name

        def log_message(self, format: str, *args: object) -> None:
            pass

    with handled_by(Handler) as url:
        (answer,) = send_all(
            async_http_transport(url, client=client), [Request("/api/v1/sessions", START)]
        )
    assert getattr(answer, "status", None) == 301
    assert seen == ["/api/v1/sessions"]
