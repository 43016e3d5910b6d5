"""Both asyncio HTTP clients (httpx, and aiohttp from the `aiohttp` extra) behave as one, and
runs over HTTP send many sessions at once without changing what a virtual run sends."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import itertools
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from playersim import Collector, Outbox, Request, SystemClock, TransportError
from playersim.cli.app import main
from playersim.mca.wire import make_body
from playersim.server import Faults, create_app
from playersim.transports.clients import Client, async_http_transport
from playersim.transports.http import Retries, RetryingAsyncTransport
from tests.mca_server import serve
from tests.test_http import FakeSleep, flaky_server, session_bodies
from tests.test_server import accounted_for, by_session, running
from tests.waiting import BOUND_S, interrupted_when, wait_until

CLIENTS: list[Client] = ["httpx", "aiohttp", "direct"]


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
def test_no_answer_is_a_transport_error_naming_the_url(client: Client, port: int) -> None:
    (refused,) = send_all(
        async_http_transport(f"http://127.0.0.1:{port}", client=client, timeout=2),
        [Request("/api/v1/sessions", session_bodies()[0])],
    )
    assert isinstance(refused, TransportError)
    assert str(refused).startswith(f"POST http://127.0.0.1:{port}/api/v1/sessions: ")
    assert refused.reason == "cannot connect: Connection refused"
    assert not refused.maybe_delivered  # no connection: it never left


@pytest.mark.parametrize("client", CLIENTS)
def test_a_connection_cut_mid_answer_is_said_in_words_not_a_librarys_internals(
    client: Client,
) -> None:
    """aiohttp said `<ContentLengthError: 400, message=...>`, which reads like an HTTP 400:
    both clients say what happened, and that the request may have been delivered."""
    collector = Collector(SystemClock())
    for url in running(create_app(collector, faults=Faults(drop_rate=1.0))):
        (cut,) = send_all(
            async_http_transport(url, client=client),
            [Request("/api/v1/sessions", session_bodies()[0])],
        )
    assert isinstance(cut, TransportError)
    assert cut.reason == "the connection closed before the answer was complete"
    assert cut.maybe_delivered


@pytest.mark.parametrize("client", CLIENTS)
def test_a_silent_server_times_out(client: Client) -> None:
    """Connected, but never answered: a TransportError after the timeout, not a hang."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        (timed_out,) = send_all(
            async_http_transport(f"http://127.0.0.1:{port}", client=client, timeout=0.5),
            [Request("/api/v1/sessions", session_bodies()[0])],
        )
    assert isinstance(timed_out, TransportError)
    assert "no answer within 0.5 s" in str(timed_out)
    # Connected, then sent: it may have arrived. (A refused connection could not have.)
    assert timed_out.maybe_delivered


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


def head_and_body(request: bytes) -> tuple[str, dict[str, str], bytes]:
    """A request's line, its headers (by lower-case name) and its body."""
    head, _, body = request.partition(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line, headers, body


@pytest.mark.parametrize(
    ("base", "path"),
    [("", "/api/v1/sessions"), ("/collect/", "/api/v1/sessions/" + "a1" * 32 + "/events")],
)
def test_every_client_sends_the_same_request_on_the_wire(base: str, path: str) -> None:
    """The request line, the headers that say something about the request, and the body (the
    same compact UTF-8 JSON) are byte for byte aiohttp's, whichever client sends them."""
    with raw_server(lambda peer: peer.answer_each(NO_CONTENT)) as (url, seen):
        for client in CLIENTS:
            send_all(async_http_transport(url + base, client=client), [Request(path, START)])
    sent = {client: head_and_body(request) for client, request in zip(CLIENTS, seen, strict=True)}
    line, headers, body = sent["aiohttp"]
    assert line == f"POST {base.rstrip('/')}{path} HTTP/1.1"
    assert body == json.dumps(START, ensure_ascii=False, separators=(",", ":")).encode()
    for client, (its_line, its_headers, its_body) in sent.items():
        assert (its_line, its_body) == (line, body), client
        for name in ("host", "content-type", "content-length"):
            assert its_headers[name] == headers[name], (client, name)
    # The direct client asks for no compressed answer (it would not undo one), and frames its
    # body by length, never in chunks.
    assert "accept-encoding" not in sent["direct"][1]
    assert "transfer-encoding" not in sent["direct"][1]


NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


class Peer:
    """A server's end of one connection, speaking HTTP by hand: the `n`-th the server took."""

    def __init__(self, connection: socket.socket, n: int, seen: list[bytes]) -> None:
        self.connection, self.n, self._seen = connection, n, seen

    def read(self) -> bytes:
        """One whole request (its head, and its body by Content-Length), or b"" if the
        client closed the connection first."""
        data = b""
        while b"\r\n\r\n" not in data:
            more = self.connection.recv(65536)
            if not more:
                return b""
            data += more
        _, headers, body = head_and_body(data)
        while len(body) < int(headers.get("content-length", "0")):
            more = self.connection.recv(65536)
            if not more:
                return b""
            body += more
            data += more
        self._seen.append(data)
        return data

    def answer_each(self, answer: bytes) -> None:
        """Give `answer` to each request, until the client closes the connection."""
        while self.read():
            self.connection.sendall(answer)


@contextlib.contextmanager
def raw_server(
    handle: Callable[[Peer], object], tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, list[bytes]]]:
    """A server on a free loopback port: `handle(peer)` for each connection, on a thread of
    its own, the connection closed when it returns (over TLS with `tls`). Yields its URL and
    each request it read; stops when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []
    threads: list[threading.Thread] = []

    def serve_one(connection: socket.socket, n: int) -> None:
        with connection, contextlib.suppress(OSError):
            if tls is None:
                handle(Peer(connection, n, seen))
                return
            with tls.wrap_socket(connection, server_side=True) as private:
                handle(Peer(private, n, seen))

    def accept() -> None:
        with contextlib.suppress(OSError):
            for n in itertools.count():
                connection, _ = listener.accept()
                thread = threading.Thread(target=serve_one, args=(connection, n), daemon=True)
                thread.start()
                threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        scheme = "http" if tls is None else "https"
        yield f"{scheme}://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        # (shutdown wakes the accept under way; close alone may not, on Linux.)
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(timeout=BOUND_S)
        for thread in threads:
            thread.join(timeout=BOUND_S)


def answers_to(
    handle: Callable[[Peer], object], requests: int, client: Client, **options: Any
) -> tuple[list[object], list[bytes]]:
    """What `client` makes of `requests` sessionStarts to a server `handle`-ing each
    connection: each Response or TransportError, and the requests the server read."""
    with raw_server(handle) as (url, seen):
        transport = async_http_transport(url, client=client, **options)
        answers = send_all(transport, [Request("/api/v1/sessions", START)] * requests)
    return answers, seen


@pytest.mark.parametrize("client", CLIENTS)
def test_an_answer_that_is_not_http_is_said_so(client: Client) -> None:
    def handle(peer: Peer) -> None:
        peer.read()
        peer.connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    (answer,), _ = answers_to(handle, 1, client)
    assert isinstance(answer, TransportError)
    assert answer.reason.startswith("the answer was not HTTP: "), answer.reason
    assert answer.maybe_delivered


@pytest.mark.parametrize("client", CLIENTS)
def test_connection_close_is_honoured(client: Client) -> None:
    """An answer saying `Connection: close` ends its connection: the next request goes over
    a new one, and is answered."""

    def handle(peer: Peer) -> None:
        if peer.read():
            peer.connection.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    answers, seen = answers_to(handle, 3, client)
    assert [getattr(answer, "status", answer) for answer in answers] == [204, 204, 204]
    assert len(seen) == 3


@pytest.mark.parametrize("client", CLIENTS)
def test_an_answer_that_ends_with_its_connection_is_whole(client: Client) -> None:
    """No Content-Length, no chunks: the body ends where the connection does."""

    def handle(peer: Peer) -> None:
        peer.read()
        peer.connection.sendall(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
            b'{"message": "playerTime: required"}'
        )

    (answer,), _ = answers_to(handle, 1, client)
    assert getattr(answer, "status", answer) == 400
    assert getattr(answer, "message", None) == "playerTime: required"


@pytest.mark.parametrize("client", CLIENTS)
def test_a_chunked_answer_is_read_whole(client: Client) -> None:
    def handle(peer: Peer) -> None:
        chunks = b'10\r\n{"message": "no \r\n9\r\nsuch sid"\r\n1\r\n}\r\n0\r\n\r\n'
        peer.answer_each(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)

    answers, _ = answers_to(handle, 2, client)
    assert [(getattr(a, "status", a), getattr(a, "message", a)) for a in answers] == [
        (404, "no such sid")
    ] * 2


@pytest.mark.parametrize("client", CLIENTS)
def test_an_interim_answer_is_passed_over(client: Client) -> None:
    def handle(peer: Peer) -> None:
        peer.answer_each(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/abc\r\nContent-Length: 0\r\n\r\n"
        )

    answers, _ = answers_to(handle, 2, client)
    assert [getattr(answer, "sid", answer) for answer in answers] == ["abc", "abc"]


# (httpx's pool sends such a request again on a new connection, of its own accord.)
@pytest.mark.parametrize("client", ["aiohttp", "direct"])
def test_a_reused_connection_closed_before_its_answer_is_no_answer(client: Client) -> None:
    """The keep-alive race lost: a request on a connection kept open from the last one
    reaches the server, which closes the connection without a byte of answer. It may have
    been delivered, so it is not sent again on its own (POST is not idempotent): said as no
    answer, maybe delivered, as aiohttp says it."""

    def handle(peer: Peer) -> None:
        peer.read()
        peer.connection.sendall(NO_CONTENT)
        peer.read()  # and closed, unanswered

    (first, second), seen = answers_to(handle, 2, client)
    assert getattr(first, "status", first) == 204
    assert isinstance(second, TransportError)
    assert second.reason == "the connection closed before an answer came"
    assert second.maybe_delivered
    assert len(seen) == 2


@pytest.mark.slow
@pytest.mark.parametrize("client", CLIENTS)
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
    monkeypatch.setattr("playersim.transports.clients.aiohttp_installed", lambda: False)
    status = main(["run", "--to", "http://127.0.0.1:1", "--http-client", "aiohttp"])
    assert status == 2
    err = capsys.readouterr().err
    assert "pip install 'playersim[aiohttp]' (from a clone: pip install '.[aiohttp]')" in err


def recorded(path: Path) -> list[dict[str, Any]]:
    """The whole lines of a recording being written (a last line half-written is left out)."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")[:-1]
    return [json.loads(line) for line in lines if line]


def open_sessions(lines: list[dict[str, Any]]) -> int:
    """Sessions a recording shows opened (201) and not yet ended or completed."""
    started = sum(1 for line in lines if line["status"] == 201)
    ended = sum(
        1
        for line in lines
        if line["status"] == 204 and line["body"]["eventType"] in ("sessionEnd", "sessionComplete")
    )
    return started - ended


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status", "mode"),
    [
        (signal.SIGTERM, 143, ["--speed", "60", "--profile", "live-news", "--flat"]),
        (signal.SIGINT, 130, ["--sessions", "100000", "--profile", "live-news", "--flat"]),
        # The reproduction of issue 12: unpaced, behind a slow collector, thousands of events
        # queued ahead of their answers. Each open session must still be ended at once.
        (signal.SIGINT, 130, ["--profile", "live-news", "--sessions", "40", "--rate", "10/s"]),
        (signal.SIGTERM, 143, ["--profile", "live-news", "--sessions", "40", "--rate", "10/s"]),
    ],
)
def test_an_interrupted_run_over_http_ends_every_session_it_opened(
    tmp_path: Path, sig: signal.Signals, status: int, mode: list[str]
) -> None:
    """Ctrl-C or SIGTERM over HTTP, in real time or virtual, to a collector 50-600 ms slow:
    what was not yet sent is dropped, each session the collector opened gets its sessionEnd
    right after its request in flight, the message and the summary say so, the recording stays
    in order, and nothing is unaccounted for."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(latency_ms=(50, 600), seed="slow"))
    record = tmp_path / "cut.ndjson"
    for url in running(app):
        # Interrupted in the thick of it: sessions open, requests on their way.
        returned, out, err = interrupted_when(
            [sys.executable, "-m", "playersim", "run", "--to", url, "--json", "--record",
             str(record), "--start", "2026-01-01T12:00:00Z", *mode],
            lambda: collector.counts().open >= 3, "three sessions open at the collector", sig,
        )  # fmt: skip
        counts = collector.counts()
    assert returned == status, err
    assert "Traceback" not in err
    report = json.loads(out)
    stopped = report["stopped"]
    assert stopped["open"] == stopped["ended"] > 0
    assert f"{stopped['ended']:,} of {stopped['ended']:,} open sessions were ended" in err
    assert (counts.open, counts.complete) == (0, 0)
    assert counts.problems == {}
    assert report["outcomes"]["stopped"] == stopped["ended"]
    numbers = report["requests"]
    assert numbers["generated"] == accounted_for(numbers) > 0
    assert set(numbers["dropped_by"]) <= {"not yet sent when the run was stopped"}
    # What the stop left unsent is counted (above), and not called an error: it was asked for.
    assert "error:" not in err
    lines = recorded(record)
    assert len([line for line in lines if line["status"] in (201, 204)]) == numbers["accepted"]
    for lines_of_one in by_session(lines).values():
        stamps = [line["body"]["playerTime"]["ts"] for line in lines_of_one]
        assert stamps == sorted(stamps)


def test_run_and_replay_name_the_client_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "replay"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert re.search(r"--http-client \{auto,direct,aiohttp,httpx\}", capsys.readouterr().out)


def all_day(bundled: str, tmp_path: Path) -> Path:
    """A bundled profile whose viewings each last a day, never paused, never failing to start:
    no session ends of itself while a test watches a run, however slowly the machine goes."""
    text = (Path(__file__).parent.parent / "profiles" / f"{bundled}.toml").read_text()
    for setting, value in {
        "name": f'"all-day-{bundled}"',
        "watch_seconds": '{ distribution = "fixed", value = 86400 }',
        "pauses_per_hour": "0",
        "start_failure_rate": "0",
    }.items():
        text, found = re.subn(rf"(?m)^{setting} = .*$", f"{setting} = {value}", text)
        assert found == 1, setting
    path = tmp_path / f"all-day-{bundled}.toml"
    path.write_text(text, encoding="utf-8")
    return path


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


def resumed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sessionStarts of sessions that went on from a lost one (media.resume: true)."""
    return [
        line
        for line in lines
        if line["body"]["eventType"] == "sessionStart"
        and line["body"]["params"].get("media.resume") is True
    ]


@pytest.mark.slow
def test_a_server_killed_and_restarted_mid_run_loses_nothing_from_the_accounting(
    tmp_path: Path, port: int
) -> None:
    """The collector dies (SIGKILL) with sessions open, and comes back on the same port: the
    run rides it out (requests meanwhile are sent again until it answers; the give-up time is
    not reached); sessions it no longer knows get a 404 and go on in new sessions with
    media.resume; every request generated is accounted for. (`port` is the test's own
    throughout, tests/ports.py: while the collector is down, its connections are refused and
    no other process, another test or another suite, can take the port from its restart.)"""
    # A lost session is resumed only if its viewing is still on when the new collector says
    # 404, and a restart on a busy machine takes many seconds, hours of a run sped up: so
    # every viewing lasts a day (and none pauses, so every resume is the restart's), longer
    # than any restart, at whatever pace the machine goes.
    profile = all_day("linear-channel", tmp_path)
    before, after = tmp_path / "before.ndjson", tmp_path / "after.ndjson"
    server = start_serve(port, before)
    run = subprocess.Popen(
        [sys.executable, "-m", "playersim", "run", "--to", f"http://127.0.0.1:{port}",
         "--profile", str(profile), "--flat", "--sessions", "20", "--duration", "2m",
         "--speed", "60", "--retries", "10", "--give-up-after", "10m", "--json",
         "--start", "2026-01-01T12:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: open_sessions(recorded(before)) >= 5, "five sessions open")
        server.kill()
        server.communicate(timeout=BOUND_S)  # and its pipes closed
        # (However long the restart takes on a busy machine, the run waits for it: it gives
        # up only after ten minutes of silence, not the default thirty seconds.)
        server = start_serve(port, after)
        wait_until(lambda: bool(resumed(recorded(after))), "a lost session resumed")
        run.send_signal(signal.SIGINT)  # seen what it was for: the rest would take a day
        out, err = run.communicate(timeout=BOUND_S)
    finally:
        run.kill()
        run.communicate(timeout=BOUND_S)  # its pipes closed, whatever happened
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=BOUND_S)
    assert run.returncode == 130, err
    assert "Traceback" not in err
    assert "gave up" not in err
    report = json.loads(out)
    counts = report["requests"]
    assert counts["generated"] == accounted_for(counts)
    assert counts["retried"] > 0  # sent again while nobody listened
    assert set(counts["rejected"]) <= {"404"}  # the sessions the new server never knew
    assert "cut off" not in report["outcomes"]
    assert report["stopped"]["open"] == report["stopped"]["ended"]
    assert all(line["status"] == 201 for line in resumed(recorded(after)))


@pytest.mark.slow
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


@pytest.mark.parametrize("client", CLIENTS)
def test_a_retry_after_a_lost_answer_is_counted_and_the_collector_names_the_duplicate(
    client: Client,
) -> None:
    """HTTP is at-least-once: a collector slower than the client's timeout takes each try,
    but its answers are lost. The client says each may have been delivered, counts the
    retry as one that may arrive twice, and the collector's report names what arrived twice:
    the sessionStart, whose first session is left without events."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(latency_ms=(400, 400), seed="slow"))
    for url in running(app):
        transport = async_http_transport(
            url, client=client, timeout=0.1, retries=Retries(attempts=1), clock=FakeSleep()
        )
        (lost,) = send_all(transport, [Request("/api/v1/sessions", session_bodies()[0])])
        wait_until(lambda: collector.counts().opened == 2, "both tries taken")
    assert isinstance(lost, TransportError)
    assert lost.maybe_delivered
    assert (transport.retried, transport.sent_again_after_lost_answer) == (1, 1)
    assert collector.counts().problems == {"duplicate": 1}
    first = collector.sessions[0]
    assert [p.rule.value for p in first.problems] == ["duplicate"]


@pytest.mark.slow
def test_a_run_through_lost_answers_says_what_may_have_arrived_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run --to` against a collector slower than `--timeout` half the time: the accounting
    still adds up; what got no answer is all "may have been delivered", the retries after a
    lost answer are counted, and the collector finds the duplicates they made."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(latency_ms=(50, 400), seed="timeouts"))
    for url in running(app):
        main(["run", "--to", url, "--profile", "ugc-clip", "--sessions", "20", "--timeout",
              "0.25", "--retries", "2", "--json"])  # fmt: skip
        # The collector takes the last tries after the run: their answers were the lost ones.
        wait_until(lambda: "duplicate" in collector.counts().problems, "a duplicate reported")
    counts = json.loads(capsys.readouterr().out)["requests"]
    assert counts["generated"] == accounted_for(counts)
    assert counts["unanswered_maybe_delivered"] == counts["unanswered"]
    assert counts["sent_again_after_lost_answer"] > 0


@pytest.mark.slow
def test_a_second_ctrl_c_cuts_the_wind_down_short_and_says_what_it_left_open(
    tmp_path: Path,
) -> None:
    """Ctrl-C twice in a row, against a slow collector: the run ends at once, and instead of
    claiming the sessions were ended (or that none was open) it counts those it could not
    end; everything generated is still accounted for."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(latency_ms=(50, 600), seed="slow"))
    record = tmp_path / "run.ndjson"
    for url in running(app):
        process = subprocess.Popen(
            [sys.executable, "-m", "playersim", "run", "--to", url, "--json", "--profile",
             str(all_day("live-news", tmp_path)), "--sessions", "40", "--rate", "10/s",
             "--record", str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_until(lambda: collector.counts().open >= 5, "five sessions open at the collector")
        process.send_signal(signal.SIGINT)
        # The second once the first is seen to wind the run down (its sessionEnds arrive; no
        # viewing ends of itself): two sent at once may arrive as one, and nothing is cut.
        ended = lambda: sum(collector.counts().closed.values()) > 0  # noqa: E731
        wait_until(ended, "the first Ctrl-C's first sessionEnd at the collector")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=BOUND_S)
    # The collector is judged once its server has stopped: uvicorn finishes every request it
    # took first, so the requests the cut left in flight have all arrived, or never will.
    report = json.loads(out)
    left = sum(report["stopped"]["not_ended"].values())
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "no session was open" not in err
    said = re.search(r"(\d+) of (\d+) open sessions were ended", err)
    assert said is not None, err
    assert int(said[2]) == report["stopped"]["open"] >= left
    still_open = {session.sid for session in collector.sessions if session.close_reason is None}
    known = {line["session"] for line in recorded(record) if line["status"] == 201}
    # Each session it knew open and left open, it says so (some it says of ended late).
    assert len(still_open & known) <= left
    # The others opened as the cut lost their sessionStart's answer: each is one of the
    # requests the run counts as unanswered, maybe delivered.
    assert len(still_open - known) <= report["requests"]["unanswered_maybe_delivered"]
    numbers = report["requests"]
    assert numbers["generated"] == accounted_for(numbers)
