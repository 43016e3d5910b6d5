"""The HTTP transports against a real server on 127.0.0.1, and `playersim run --to`."""

from __future__ import annotations

import asyncio
import http.server
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from playersim import (
    AsyncHttpTransport,
    Collector,
    HttpTransport,
    Outbox,
    Player,
    Request,
    SystemClock,
    TransportError,
    load_profile,
    parse_instant,
    run,
)
from playersim.mca.api import Response
from playersim.mca.wire import make_body
from playersim.transports.http import Retries
from playersim.transports.recording import read_recording
from tests.mca_server import serve
from tests.test_server import accounted_for

T0 = parse_instant("2026-11-27T12:00:00Z")


@pytest.fixture
def server() -> Iterator[tuple[str, Collector]]:
    collector = Collector(clock=SystemClock(), seed="1")
    with serve(collector) as url:
        yield url, collector


def session_bodies(seconds: int = 40) -> list[dict[str, object]]:
    player = Player(load_profile("vod-movie"), seed=3, start_at=T0)
    return player.due(T0 + seconds * 1000)


def test_sync_transport_opens_a_session_and_sends_events(server: tuple[str, Collector]) -> None:
    """201 with the sid parsed from Location, then 204s for events on that sid."""
    url, collector = server
    with HttpTransport(url) as transport:
        bodies = session_bodies()
        opened = transport.send(Request("/api/v1/sessions", bodies[0]))
        assert opened.status == 201
        assert opened.sid is not None
        assert len(opened.sid) == 64
        for body in bodies[1:]:
            answer = transport.send(Request(f"/api/v1/sessions/{opened.sid}/events", body))
            assert answer.status == 204
    assert collector.session(opened.sid).event_types == [b["eventType"] for b in bodies]


def test_4xx_answers_are_results_with_the_server_message(server: tuple[str, Collector]) -> None:
    """400, 404 and 410 come back as Responses carrying the message, never as exceptions."""
    url, _ = server
    with HttpTransport(url) as transport:
        bad = transport.send(Request("/api/v1/sessions", {"eventType": "sessionStart"}))
        assert bad.status == 400
        assert bad.message is not None
        assert "playerTime: required" in bad.message
        unknown = transport.send(
            Request("/api/v1/sessions/" + "0" * 64 + "/events", make_body("ping", 0, 1))
        )
        assert unknown.status == 404
        opened = transport.send(Request("/api/v1/sessions", session_bodies()[0]))
        path = f"/api/v1/sessions/{opened.sid}/events"
        assert transport.send(Request(path, make_body("sessionEnd", 0, T0 + 1))).status == 204
        gone = transport.send(Request(path, make_body("ping", 0, T0 + 2)))
        assert gone.status == 410
        assert gone.message is not None
        assert "closed (sessionEnd)" in gone.message


def test_no_answer_raises_a_transport_error_naming_the_url(port: int) -> None:
    """Connection refused is a TransportError with the full URL, quickly."""
    expected = rf"POST http://127.0.0.1:{port}/api/v1/sessions"
    with (
        HttpTransport(f"http://127.0.0.1:{port}", timeout=2) as transport,
        pytest.raises(TransportError, match=expected),
    ):
        transport.send(Request("/api/v1/sessions", session_bodies()[0]))


def test_async_transport_delivers_a_session_in_order(server: tuple[str, Collector]) -> None:
    """The asyncio transport, driven through an Outbox, delivers one session in order."""
    url, collector = server
    bodies = session_bodies(60)

    async def deliver() -> None:
        outbox = Outbox()
        outbox.push(bodies)
        async with AsyncHttpTransport(url) as transport:
            while (request := outbox.next_request()) is not None:
                outbox.settle(request, await transport.send(request))

    asyncio.run(deliver())
    assert collector.sessions[0].event_types == [b["eventType"] for b in bodies]
    assert collector.sessions[0].problems == []


@pytest.mark.slow
def test_run_to_a_real_endpoint_sends_the_same_traffic_as_in_memory(
    server: tuple[str, Collector], tmp_path: Path
) -> None:
    """`playersim run --to URL --sessions 20` records exactly what the in-memory run records."""
    url, collector = server
    over_http = tmp_path / "http.ndjson"
    in_memory = tmp_path / "memory.ndjson"
    base = [sys.executable, "-m", "playersim", "run", "--sessions", "20", "--seed", "1"]
    sent = subprocess.run(
        [*base, "--to", url, "--record", str(over_http)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    assert f"to {url}" in sent.stdout
    local = subprocess.run(
        [*base, "--record", str(in_memory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert local.returncode == 0, local.stderr
    assert over_http.read_bytes() == in_memory.read_bytes()
    # A session watched offline came whole, in one request to /api/v1/downloaded.
    opening = ("/api/v1/sessions", "/api/v1/downloaded")
    starts = [line for line in read_recording(in_memory) if line["path"] in opening]
    assert len(collector.sessions) == len(starts) >= 20
    assert all(session.problems == [] for session in collector.sessions)


@pytest.mark.slow
def test_run_to_a_dead_endpoint_ends_at_the_give_up_time_with_a_clear_message(port: int) -> None:
    """Nobody listening: after --give-up-after without an answer, exit 1 with the reason, no
    traceback, no hang; every request generated is accounted for."""
    result = subprocess.run(
        [sys.executable, "-m", "playersim", "run", "--to", f"http://127.0.0.1:{port}",
         "--give-up-after", "2s", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "gave up: no answer from the endpoint for 2 s" in result.stderr
    assert "cannot connect: Connection refused" in result.stderr
    assert "Traceback" not in result.stderr
    counts = json.loads(result.stdout)["requests"]
    assert counts["generated"] == accounted_for(counts)
    assert counts["unanswered"] >= 1
    # Refused connections never reached anyone; only a request cut off mid-flight when the
    # run gave up may have (nobody can tell).
    assert counts["unanswered_maybe_delivered"] < counts["unanswered"]
    assert counts["retried"] >= counts["unanswered"]
    # Nobody watched anything: each viewing either had its sessionStart go unanswered or was
    # still trying when the run gave up (which, depends on how busy the machine is).
    outcomes = json.loads(result.stdout)["outcomes"]
    assert outcomes
    assert set(outcomes) <= {"unreachable", "cut off"}


class FakeSleep:
    """A clock for back-off that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def now(self) -> int:
        return 0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def flaky_server(statuses: list[int]) -> tuple[Iterator[str], list[int]]:
    """A loopback server answering the given statuses in turn (then 201), counting requests."""
    seen: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            status = statuses[len(seen)] if len(seen) < len(statuses) else 201
            seen.append(status)
            self.send_response(status)
            if status == 201:
                self.send_header("Location", "/api/v1/sessions/" + "ab" * 32)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    def serving() -> Iterator[str]:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    return serving(), seen


START = make_body("sessionStart", 0, 1, params={})


@pytest.mark.parametrize(
    ("statuses", "final", "tries"),
    [([503, 500, 429], 201, 4), ([502, 504, 503, 500], 500, 4), ([400], 400, 1), ([404], 404, 1)],
)
def test_retries_back_off_on_5xx_and_429_only(statuses: list[int], final: int, tries: int) -> None:
    """Server trouble is asked again (3 times, with growing jittered waits); a 4xx is not."""
    serving, seen = flaky_server(statuses)
    sleeper = FakeSleep()
    for url in serving:
        transport = HttpTransport(url, retries=Retries(attempts=3, base_s=0.1), clock=sleeper)
        assert transport.send(Request("/api/v1/sessions", START)).status == final
        transport.close()
    assert len(seen) == tries
    assert transport.retried == tries - 1
    assert len(sleeper.waits) == tries - 1
    for attempt, wait in enumerate(sleeper.waits):
        assert 0 <= wait <= 0.1 * 2**attempt


def test_async_retries_back_off_too() -> None:
    serving, seen = flaky_server([503, 503])
    sleeper = FakeSleep()

    async def go(url: str) -> int:
        async with AsyncHttpTransport(url, retries=Retries(attempts=3), clock=sleeper) as http:
            return (await http.send(Request("/api/v1/sessions", START))).status

    for url in serving:
        assert asyncio.run(go(url)) == 201
    assert len(seen) == 3
    assert len(sleeper.waits) == 2


@pytest.mark.parametrize("attempts", [0, 2])
def test_retries_on_a_dead_endpoint_end_in_no_answer(attempts: int, port: int) -> None:
    """A refused connection never reached the server: it is tried once more than the retries
    (safe: nothing can arrive twice), then given up as not delivered."""
    sleeper = FakeSleep()
    transport = HttpTransport(
        f"http://127.0.0.1:{port}", retries=Retries(attempts=attempts), clock=sleeper
    )
    with pytest.raises(TransportError) as refused:
        transport.send(Request("/api/v1/sessions", START))
    assert refused.value.maybe_delivered is False
    assert refused.value.reason == "cannot connect: Connection refused"
    assert transport.retried == attempts + 1
    assert transport.sent_again_after_lost_answer == 0
    transport.close()


@pytest.mark.parametrize(
    "location",
    [
        "/api/v1/sessions/" + "ab" * 32,
        "/api/v1/sessions/" + "ab" * 32 + "/",
        "https://edge.example.com/api/v1/sessions/" + "ab" * 32,
    ],
)
def test_the_sid_is_read_from_any_usual_location(location: str) -> None:
    """Relative, trailing-slash and absolute Location headers all give the 64-hex sid."""
    from playersim import Response

    assert Response(201, location=location).sid == "ab" * 32


def test_a_client_of_ones_own_posts_to_the_base_url(server: tuple[str, Collector]) -> None:
    """HttpTransport(base_url, client=httpx.Client()) still sends to base_url."""
    import httpx

    url, collector = server
    with httpx.Client() as client:
        transport = HttpTransport(url, client=client)
        assert transport.send(Request("/api/v1/sessions", session_bodies()[0])).status == 201
    assert len(collector.sessions) == 1


@pytest.mark.slow
def test_real_time_over_http_records_what_virtual_time_records(
    server: tuple[str, Collector], tmp_path: Path
) -> None:
    """Sessions send concurrently from their own tasks; the recording keeps the virtual order."""
    url, collector = server
    over_http, in_memory = tmp_path / "http.ndjson", tmp_path / "memory.ndjson"
    base = [sys.executable, "-m", "playersim", "run", "--sessions", "12", "--seed", "1",
            "--profile", "ugc-clip", "--rate", "5/s",
            "--start", "2026-01-01T12:00:00Z"]  # fmt: skip
    sent = subprocess.run(
        [*base, "--speed", "100", "--to", url, "--record", str(over_http)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    assert "real time x100" in sent.stdout
    local = subprocess.run(
        [*base, "--record", str(in_memory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert local.returncode == 0, local.stderr
    assert over_http.read_bytes() == in_memory.read_bytes()
    assert all(session.problems == [] for session in collector.sessions)


class _Capturing(Collector):
    """A collector that keeps the bytes of every request body it is sent."""

    def __init__(self) -> None:
        super().__init__(clock=SystemClock(), seed="1", keep_events=False)
        self.received: list[bytes] = []

    def handle(self, method: str, path: str, body: object) -> Response:
        assert isinstance(body, bytes)
        self.received.append(body)
        return super().handle(method, path, body)


@pytest.mark.parametrize("client", ["httpx", "aiohttp", "direct"])
def test_the_bytes_sent_over_http_are_the_bytes_recorded(client: str, tmp_path: Path) -> None:
    """Each request's body is made once: the bytes on the wire are the bytes in its line."""
    collector = _Capturing()
    target = tmp_path / "run.ndjson"
    with serve(collector) as url:
        stats = run(to=url, record=target, sessions=4, seed=2, http_client=client)
    assert stats.accepted == stats.requests == len(collector.received) > 20
    recorded = []
    for line in target.read_bytes().splitlines():
        assert line.endswith(b"}")  # accepted: nothing follows the body in its line
        recorded.append(line[line.index(b',"body":') + len(b',"body":') : -1])
    assert Counter(recorded) == Counter(collector.received)
