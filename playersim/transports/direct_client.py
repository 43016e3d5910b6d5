"""The lean asyncio HTTP transport: HTTP/1.1 keep-alive spoken directly on asyncio.

aiohttp's client spends about 58 microseconds of Python on each request (its request and
response objects, its connector, its timers and tracing hooks), which is most of a run's time
when the endpoint answers at once: `run --to` over it sent 0.69x a plain aiohttp loop. An MCA
request is always the same shape (a POST of a small JSON body, to one origin, whose answer is a
status, perhaps a `Location`, perhaps a short body), so this transport does only that: an
`asyncio.Protocol` per connection, a pool of idle connections capped at `connections`, each
request written as ready-made bytes, and each answer parsed by httptools (the C binding of
llhttp, Node's HTTP parser, which uvicorn uses). The requests, answers, retries and errors are
AiohttpTransport's: the same body bytes, the same `Response`, the same `TransportError` wording
and `maybe_delivered`. `bench/http_client.py` measures it against a plain aiohttp loop.

What it leaves to the full clients: proxies (`async_http_transport` picks aiohttp or httpx
when the environment names one for the URL), cookies (the MCA sets none), compressed answers
(it asks for none), and HTTP/2.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import re
import ssl
from typing import Final
from urllib.parse import quote

import httptools

from playersim.clock import SleepingClock
from playersim.errors import TransportError
from playersim.mca.api import Request, Response
from playersim.transports.http import (
    CLOSED_BEFORE_ANSWER,
    CLOSED_MID_ANSWER,
    DEFAULT_CONNECTIONS,
    DEFAULT_TIMEOUT,
    HEADERS,
    IDLE_CONNECTION_S,
    NO_RETRIES,
    Retries,
    RetryingAsyncTransport,
    answer_of,
    no_answer_within,
    no_connection_within,
    os_words,
    reads_body,
)
from playersim.version import __version__

__all__ = ["DEFAULT_CONNECTIONS", "DirectTransport"]
# A path that can go on the request line as it is: what RFC 3986 allows in a path and a query.
# Anything else (a space, a non-ASCII sid from a Location) is percent-encoded, as aiohttp does.
_PLAIN_PATH: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_PATH_SAFE: Final = "/?=&%:@!$'()*+,;~-._"
# Statuses whose answers have no body, whatever their headers say (RFC 9112, 6.3).
_NO_BODY: Final = frozenset({204, 304})


class _NoAnswerError(Exception):
    """One exchange got no whole answer: `reason` says why, in TransportError's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: one request at a time, its answer parsed as it
    arrives. The pool (`DirectTransport`) hands it out and takes it back."""

    def __init__(self, pool: DirectTransport, loop: asyncio.AbstractEventLoop) -> None:
        self._pool = pool
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._timeout = pool.timeout
        self.closed = False
        self.idle_since = 0.0
        # The exchange under way: its future, and what its answer said so far.
        self._waiter: asyncio.Future[tuple[int, bytes | None, bytes, bytes]] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._read_at = 0.0
        self._deadline = 0.0
        self._begun = False  # a byte of the answer came
        self._headed = False  # its headers came whole
        self._framed = False  # it says where its body ends (Content-Length, chunked)
        self._keep_alive = False  # it leaves the connection open (no `Connection: close`)
        self._complete = False
        self._status = 0
        self._reason = b""
        self._location: bytes | None = None
        self._body: list[bytes] = []
        self._gone: asyncio.Future[None] | None = None

    # asyncio's side.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Bytes nobody asked for (an answer to no request): the connection's framing can
            # no longer be trusted.
            self.close()
            return
        self._read_at = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(_NoAnswerError("the answer was not HTTP: an upgrade to another protocol"))
            return
        except httptools.HttpParserError as exc:
            if self._complete:
                # More came after the whole answer (see on_message_begin): the answer
                # stands, the connection does not.
                self._finish(keep_alive=False)
                return
            said = str(exc) or type(exc).__name__
            self._fail(_NoAnswerError(f"the answer was not HTTP: {said}"))
            return
        if self._complete:
            self._finish(self._keep_alive)

    def eof_received(self) -> bool:
        # The server is done sending: close our side too (an answer still expected is judged
        # in connection_lost, which follows), and, idle, it is out of the pool at once.
        self.closed = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._transport = None
        if self._gone is not None and not self._gone.done():
            self._gone.set_result(None)
        self._pool._forget(self)
        if self._waiter is None:
            return
        if self._headed and not self._framed and self._status not in _NO_BODY:
            # An answer with neither a length nor chunks ends where the connection does.
            self._complete = True
            self._finish(keep_alive=False)
        elif self._headed:
            self._fail(_NoAnswerError(CLOSED_MID_ANSWER))
        elif isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
            # As aiohttp says it ("connection error: Connection reset by peer").
            self._fail(_NoAnswerError(f"connection error: {os.strerror(exc.errno)}"))
        else:
            self._fail(_NoAnswerError(CLOSED_BEFORE_ANSWER))

    # httptools' side: called from feed_data.

    def on_message_begin(self) -> None:
        if self._complete:
            # A second answer to one request: stop parsing here, before it overwrites the
            # first (feed_data raises HttpParserCallbackError, handled in data_received).
            raise _NoAnswerError("an answer nobody asked for")
        self._begun = True

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"location":
            self._location = value
        elif lowered in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headed = True
        self._status = self._parser.get_status_code()
        # Asked here, as uvicorn does: once the message is complete, llhttp has moved on.
        self._keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the real one follows.
            self._begin()
            return
        self._complete = True

    # The pool's side.

    def send(self, wire: bytes) -> asyncio.Future[tuple[int, bytes | None, bytes, bytes]]:
        """Write one request; the future is its answer: (status, Location, body, reason)."""
        waiter = self._waiter = self._loop.create_future()
        self._begin()
        self._complete = False
        transport = self._transport
        if transport is None or transport.is_closing():
            self._fail(_NoAnswerError(CLOSED_BEFORE_ANSWER))
            return waiter
        transport.write(wire)
        # `timeout` bounds each read (the wait for the next bytes), and twice it the whole
        # answer, as AiohttpTransport's sock_read and total do.
        now = self._read_at = self._loop.time()
        self._deadline = now + 2 * self._timeout
        self._timer = self._loop.call_at(now + self._timeout, self._time_is_up)
        return waiter

    def gone(self) -> asyncio.Future[None]:
        """Done once the connection is closed (connection_lost)."""
        if self._gone is None:
            self._gone = self._loop.create_future()
            if self.closed and self._transport is None:
                self._gone.set_result(None)
        return self._gone

    def close(self) -> None:
        """Close the connection, failing an exchange still under way."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()
        if self._waiter is not None:
            self._fail(
                _NoAnswerError(CLOSED_BEFORE_ANSWER if not self._headed else CLOSED_MID_ANSWER)
            )

    def abort(self) -> None:
        """Drop the connection at once: its exchange was given up (cancelled)."""
        self.closed = True
        self._cancel_timer()
        self._waiter = None
        if self._transport is not None:
            self._transport.abort()

    def _begin(self) -> None:
        self._begun = self._headed = self._framed = False
        self._status = 0
        self._reason = b""
        self._location = None
        self._body = []

    def _time_is_up(self) -> None:
        self._timer = None
        if self._waiter is None:
            return
        now = self._loop.time()
        next_read = self._read_at + self._timeout
        if now < next_read and now < self._deadline:
            # Bytes came since the timer was set: the wait for the next ones starts then.
            self._timer = self._loop.call_at(min(next_read, self._deadline), self._time_is_up)
            return
        self._fail(_NoAnswerError(no_answer_within(self._timeout)))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, keep_alive: bool) -> None:
        waiter, self._waiter = self._waiter, None
        self._cancel_timer()
        self._complete = False
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, self._location, b"".join(self._body), self._reason))
        self._body = []
        if keep_alive and not self.closed:
            self.idle_since = self._read_at
            self._pool._release(self)
        elif not self.closed:
            self.closed = True
            if self._transport is not None:
                self._transport.close()

    def _fail(self, error: _NoAnswerError) -> None:
        """The exchange under way ends with no answer: the connection is done with too."""
        waiter, self._waiter = self._waiter, None
        self._cancel_timer()
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class DirectTransport(RetryingAsyncTransport):
    """Sends requests to an MCA endpoint over its own keep-alive HTTP/1.1 connections.

    At most `connections` are open at once; a request finding none idle and the cap reached
    waits its turn (within `timeout`, as a connection that cannot be made). Redirects are
    answers (never followed); a connection whose answer says `Connection: close` is not used
    again, nor one idle longer than `IDLE_CONNECTION_S`. https uses the system's certificate
    store and checks the host name, as httpx and aiohttp do. It reads no proxy settings:
    `async_http_transport` does not choose it when the environment names a proxy.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = DEFAULT_CONNECTIONS,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self._endpoint(base_url, timeout, connections)
        self._prefix = str(self.base_url).rstrip("/")
        url = self.base_url
        self._host = url.raw_host.decode("ascii")
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = None
        if url.scheme == "https":
            self._ssl = ssl.create_default_context()
        # Everything on the wire but the path and the body, made once: the headers aiohttp
        # sends that say something about the request (Host, Content-Type, Content-Length),
        # the credentials a URL carries, and who is asking.
        host = url.netloc.decode("ascii").rpartition("@")[2]
        headers = [f"Host: {host}"]
        headers += [f"{name}: {value}" for name, value in HEADERS.items()]
        if url.userinfo:
            credentials = base64.b64encode(url.userinfo).decode("ascii")
            headers.append(f"Authorization: Basic {credentials}")
        headers += ["Accept: */*", f"User-Agent: playersim/{__version__}"]
        self._base_path = url.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")
        self._head = ("\r\n".join(["", *headers, "Content-Length: "])).encode("ascii")
        # The pool: idle connections (the last one back is the first out: the warmest), every
        # open one, and the requests waiting for one to be free.
        self._idle: collections.deque[_Connection] = collections.deque()
        self._open: set[_Connection] = set()
        self._waiting: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._sweep: asyncio.TimerHandle | None = None

    def wire(self, request: Request) -> bytes:
        """The request's bytes on the wire: request line, headers and body."""
        path = self._base_path + request.path
        if _PLAIN_PATH.fullmatch(path) is None:
            path = quote(path, safe=_PATH_SAFE)
        content = request.content
        return b"POST %s HTTP/1.1%s%d\r\n\r\n%s" % (
            path.encode("ascii"),
            self._head,
            len(content),
            content,
        )

    async def _post(self, request: Request) -> Response:
        wire = self.wire(request)
        connection = self._take()
        if connection is None:
            connection = await self._connection(request)
        answer = connection.send(wire)
        try:
            status, location, body, reason = await answer
        except _NoAnswerError as exc:
            raise TransportError("POST", self._prefix + request.path, exc.reason) from None
        except asyncio.CancelledError:
            # Given up mid-exchange: its answer may still come, so the connection is spent.
            connection.abort()
            raise
        text = body.decode("utf-8", "replace") if reads_body(status) else ""
        return answer_of(
            status,
            None if location is None else location.decode("utf-8", "surrogateescape"),
            text,
            reason.decode("utf-8", "surrogateescape"),
        )

    def _take(self) -> _Connection | None:
        """An idle connection still fit to use, if there is one."""
        idle = self._idle
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            if now - connection.idle_since < IDLE_CONNECTION_S:
                return connection
            # The warmest is stale, so all the others are: retire them all.
            connection.close()
            while idle:
                idle.pop().close()
        return None

    async def _connection(self, request: Request) -> _Connection:
        """A connection for one request: a new one if the cap allows, else the next one
        free, within `timeout`. TransportError (nothing was sent) if there is none."""
        url = self._prefix + request.path
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    if len(self._open) < self.connections:
                        return await self._connect()
                    turn: asyncio.Future[_Connection | None]
                    turn = asyncio.get_running_loop().create_future()
                    self._waiting.append(turn)
                    try:
                        connection = await turn
                    except asyncio.CancelledError:
                        if turn.done() and not turn.cancelled():
                            # Handed a turn as the wait ended: pass it on.
                            given = turn.result()
                            if given is not None:
                                self._release(given)
                            else:
                                self._next_turn()
                        raise
                    if connection is not None and not connection.closed:
                        return connection
        except TimeoutError:
            reason = no_connection_within(self.timeout)
            raise TransportError("POST", url, reason, maybe_delivered=False) from None
        except ssl.SSLError as exc:
            # A certificate refused says why ("certificate has expired"); other TLS errors
            # their reason ("WRONG_VERSION_NUMBER": an http server on an https URL).
            said = getattr(exc, "verify_message", None) or exc.reason
            detail = said if isinstance(said, str) and said else str(exc)
            raise TransportError(
                "POST", url, f"cannot connect: {detail}", maybe_delivered=False
            ) from exc
        except OSError as exc:
            raise TransportError(
                "POST", url, f"cannot connect: {os_words(exc) or exc}", maybe_delivered=False
            ) from exc

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = _Connection(self, loop)
        self._open.add(connection)
        try:
            await loop.create_connection(
                lambda: connection,
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
            )
        except BaseException:
            self._forget(connection)
            raise
        return connection

    def _release(self, connection: _Connection) -> None:
        """A connection free again: to the first request waiting for one, else to the pool."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(connection)
                return
        self._idle.append(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(IDLE_CONNECTION_S, self._retire)

    def _forget(self, connection: _Connection) -> None:
        """A connection closed: its place under the cap goes to the next request waiting."""
        if connection in self._open:
            self._open.discard(connection)
            self._next_turn()

    def _next_turn(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def _retire(self) -> None:
        """Close the connections idle for `IDLE_CONNECTION_S`, before any server would."""
        self._sweep = None
        if not self._idle:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        idle = self._idle
        # The oldest are at the left.
        while idle and (idle[0].closed or now - idle[0].idle_since >= IDLE_CONNECTION_S):
            idle.popleft().close()
        if idle:
            wait = idle[0].idle_since + IDLE_CONNECTION_S - now
            self._sweep = loop.call_later(wait, self._retire)

    async def aclose(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self._idle.clear()
        for turn in self._waiting:
            turn.cancel()
        self._waiting.clear()
        connections = list(self._open)
        self._open.clear()
        gone = [connection.gone() for connection in connections]
        for connection in connections:
            connection.close()
        if gone:
            # Until each is closed (a TLS connection says goodbye first), so that none is
            # left for the loop's own shutdown to find open; within `timeout`, then cut.
            await asyncio.wait(gone, timeout=self.timeout)
            for connection in connections:
                connection.abort()
