"""The direct client's own ways (the `direct` extra): its pool, its idle connections, a
request given up, its closing, and when "auto" chooses it. What it shares with the other
clients is tested over all of them, in tests/test_http_clients.py."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from playersim import Request, TransportError
from playersim.cli.app import main
from playersim.transports import direct_client
from playersim.transports.aiohttp_client import AiohttpTransport
from playersim.transports.clients import async_http_transport, auto_client
from playersim.transports.direct_client import DirectTransport
from playersim.transports.http import AsyncHttpTransport
from tests.test_http_clients import NO_CONTENT, START, Peer, answers_to, raw_server, send_all
from tests.waiting import BOUND_S


def test_auto_picks_the_direct_client_when_installed_and_no_proxy_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    transport = async_http_transport("http://127.0.0.1:1")
    assert isinstance(transport, DirectTransport)
    asyncio.run(transport.aclose())


def test_auto_leaves_a_proxied_url_to_a_client_that_honours_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The direct client reads no proxy settings: a URL the environment proxies goes over
    aiohttp (or httpx), one that NO_PROXY exempts still over the direct client."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "collector.internal")
    assert auto_client("https://edge.example.com") == "aiohttp"
    assert auto_client("https://collector.internal") == "direct"
    assert auto_client("http://edge.example.com") == "direct"  # HTTPS_PROXY is for https only
    transport = async_http_transport("https://edge.example.com")
    assert isinstance(transport, AiohttpTransport)
    asyncio.run(transport.aclose())
    monkeypatch.setattr("playersim.transports.clients.aiohttp_installed", lambda: False)
    assert isinstance(async_http_transport("https://edge.example.com"), AsyncHttpTransport)


def test_auto_without_the_extra_is_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("playersim.transports.clients.direct_installed", lambda: False)
    assert auto_client("http://127.0.0.1:1") == "aiohttp"


def test_asking_for_the_direct_client_without_the_extra_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("playersim.transports.clients.direct_installed", lambda: False)
    status = main(["run", "--to", "http://127.0.0.1:1", "--http-client", "direct"])
    assert status == 2
    err = capsys.readouterr().err
    assert "pip install 'playersim[direct]' (from a clone: pip install '.[direct]')" in err


def test_connections_are_kept_alive_and_capped() -> None:
    """Twelve requests at once with two connections allowed: two connections carry all of
    them, each kept for the next request."""
    connections: list[int] = []

    def handle(peer: Peer) -> None:
        connections.append(peer.n)
        peer.answer_each(NO_CONTENT)

    async def go(url: str) -> list[int]:
        transport = DirectTransport(url, connections=2)
        try:
            requests = [transport.send(Request("/api/v1/sessions", START)) for _ in range(12)]
            return [answer.status for answer in await asyncio.gather(*requests)]
        finally:
            await transport.aclose()

    with raw_server(handle) as (url, seen):
        statuses = asyncio.run(go(url))
    assert statuses == [204] * 12
    assert len(seen) == 12
    assert sorted(connections) == [0, 1]


def test_an_idle_connection_is_retired_before_a_server_would_close_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection idle `IDLE_CONNECTION_S` is not used again (here 0 s: never reused)."""
    monkeypatch.setattr(direct_client, "IDLE_CONNECTION_S", 0.0)
    answers, seen = answers_to(lambda peer: peer.answer_each(NO_CONTENT), 3, "direct")
    assert [getattr(answer, "status", answer) for answer in answers] == [204] * 3
    assert len(seen) == 3


def test_a_connection_the_server_closed_while_idle_is_not_used_again() -> None:
    """The server closes a kept-alive connection (its own keep-alive ran out) before the next
    request: that request goes over a new connection, and is answered."""

    def handle(peer: Peer) -> None:
        if peer.n == 0:
            peer.read()
            peer.connection.sendall(NO_CONTENT)
            return  # and closed, idle, by the server
        peer.answer_each(NO_CONTENT)

    async def go(url: str) -> list[int]:
        transport = DirectTransport(url)
        try:
            first = await transport.send(Request("/api/v1/sessions", START))
            # Until the client has seen the close (an event, not a pace).
            while not all(connection.closed for connection in transport._idle):
                await asyncio.sleep(0)
            second = await transport.send(Request("/api/v1/sessions", START))
            return [first.status, second.status]
        finally:
            await transport.aclose()

    with raw_server(handle) as (url, seen):
        assert asyncio.run(go(url)) == [204, 204]
    assert len(seen) == 2


def test_a_request_given_up_spends_its_connection_not_the_next_ones() -> None:
    """A request cancelled while its answer is awaited (a run stopped): its answer, if it
    comes, must not be taken for the next request's, so that connection is dropped."""
    release = threading.Event()

    def handle(peer: Peer) -> None:
        if peer.n == 0:
            peer.read()
            release.wait(BOUND_S)
            peer.connection.sendall(
                b"HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/stale\r\nContent-Length: 0"
                b"\r\n\r\n"
            )
            return
        peer.answer_each(NO_CONTENT)

    async def go(url: str) -> int:
        transport = DirectTransport(url, connections=1)
        try:
            waiting = asyncio.ensure_future(transport.send(Request("/api/v1/sessions", START)))
            while not transport._open or not all(c._waiter for c in transport._open):
                await asyncio.sleep(0)  # until the request is out
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            release.set()
            answer = await transport.send(Request("/api/v1/sessions", START))
            return answer.status
        finally:
            await transport.aclose()

    with raw_server(handle) as (url, seen):
        assert asyncio.run(go(url)) == 204
    assert len(seen) == 2


def test_aclose_closes_every_connection() -> None:
    ended: list[int] = []
    all_ended = threading.Event()

    def handle(peer: Peer) -> None:
        peer.answer_each(NO_CONTENT)  # until the client closes the connection
        ended.append(peer.n)
        if len(ended) == 3:
            all_ended.set()

    async def go(url: str) -> None:
        transport = DirectTransport(url, connections=3)
        requests = [transport.send(Request("/api/v1/sessions", START)) for _ in range(3)]
        await asyncio.gather(*requests)
        await transport.aclose()

    with raw_server(handle) as (url, _):
        asyncio.run(go(url))
        assert all_ended.wait(BOUND_S)
    assert sorted(ended) == [0, 1, 2]


def test_a_timeout_waiting_for_a_connection_says_nothing_was_sent() -> None:
    """One connection allowed, held by a request the server never answers: the next request
    waits its turn within `timeout`, then says it never left."""
    hold = threading.Event()

    def handle(peer: Peer) -> None:
        peer.read()
        hold.wait(BOUND_S)

    async def go(url: str) -> TransportError:
        transport = DirectTransport(url, connections=1, timeout=60)
        try:
            held = asyncio.ensure_future(transport.send(Request("/api/v1/sessions", START)))
            while not transport._open or not all(c._waiter for c in transport._open):
                await asyncio.sleep(0)
            transport.timeout = 0.05  # the second request's wait for a turn
            with pytest.raises(TransportError) as raised:
                await transport.send(Request("/api/v1/sessions", START))
            held.cancel()
            return raised.value
        finally:
            hold.set()
            await transport.aclose()

    with raw_server(handle) as (url, _):
        error = asyncio.run(go(url))
    assert error.reason == "no connection within 0.05 s (timeout)"
    assert not error.maybe_delivered


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_https_is_checked_against_the_systems_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https with the system's default verification, as httpx and aiohttp: a certificate no
    trusted authority signed is refused (nothing was sent); trusted (SSL_CERT_FILE, which
    OpenSSL reads for the system's store), the same server is answered."""
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
         "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)
    with raw_server(lambda peer: peer.answer_each(NO_CONTENT), tls) as (url, seen):
        (refused,) = send_all(DirectTransport(url), [Request("/api/v1/sessions", START)])
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        answers = send_all(DirectTransport(url), [Request("/api/v1/sessions", START)] * 2)
    assert isinstance(refused, TransportError)
    assert refused.reason.startswith("cannot connect: "), refused.reason
    assert "certificate" in refused.reason
    assert not refused.maybe_delivered
    assert [getattr(answer, "status", answer) for answer in answers] == [204, 204]
    assert len(seen) == 2


def test_bytes_after_the_answer_close_the_connection_not_the_answer() -> None:
    """A server that sends a second answer to one request: the first is the answer, and the
    connection, whose framing can no longer be trusted, is not used again."""

    connections: list[int] = []

    def handle(peer: Peer) -> None:
        connections.append(peer.n)
        if peer.n == 0:
            peer.read()
            peer.connection.sendall(
                b"HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/first\r\n"
                b"Content-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\n"
                b"Location: /api/v1/sessions/stray\r\nContent-Length: 0\r\n\r\n"
            )
        peer.answer_each(NO_CONTENT)

    answers, seen = answers_to(handle, 2, "direct")
    assert [getattr(answer, "sid", answer) for answer in answers] == ["first", None]
    assert [getattr(answer, "status", answer) for answer in answers] == [201, 204]
    assert len(seen) == 2
    assert connections == [0, 1]
