"""What one client, or many, may cost `playersim serve`: deadlines and a cap on connections.

uvicorn (0.54, on h11) bounds a request's head in size (16 KiB, then a 400) but not in time. On
its own it never closes a connection that sends nothing, nor one that sends its head a byte at a
time (slowloris), nor one whose body trickles in; it closes an idle connection after an answer
(keep-alive), but any byte resets that timer, so a body trickled after an early answer (413,
415) holds the connection forever, and when that body does end it arms no keep-alive again. A
client that takes none of its answers stalls the answering task for good. And it accepts every
connection it is offered, until the process runs out of sockets.

`protocol(limits, headers)` is uvicorn's h11 protocol with what is missing. At any moment a
connection waits for at most one thing from its client, and that wait has a deadline:

- a request's line and headers: `header_timeout`, from the connection's opening or from the
  first byte of a later request (the gap between requests is uvicorn's keep-alive). Past it, a
  connection that sent part of a head gets 408, one that sent nothing is closed;
- its body: `body_timeout`, kept by the app (`playersim.server.app`), which answers 408; after an
  early answer the rest of the body must still arrive within `body_timeout`, or the connection
  is closed;
- the client taking its answer: a write held up for `send_timeout` cuts the connection.

Connections are counted from their opening. The first `max_connections` are served. A
connection opened past them takes the place of the connection that has been idle longest (one
waiting for its first request, or kept alive between two), which is closed: a client that holds
sockets open and sends nothing cannot lock out one with a request in hand. With none idle, a new
connection gets 503 with `Retry-After` once its head arrives, and is closed; past twice
`max_connections` a new connection is closed at once, unread, so a flood costs a socket for an
instant. A connection in the middle of a request is never refused because others came later.

The keep-alive (the idle time between two requests before the server closes a connection) is
two minutes by default: longer than common clients keep an idle connection (httpx 5 s, aiohttp
15 s, Go 90 s), so it is the client that retires it. A server that closes first races the
client's next request on that connection, which then fails with no answer.

It must never cut off or refuse a client that keeps within the limits. Every answer it writes
itself (408, 503, and the 400 for a request that is not HTTP) is JSON with a `message`, like the
app's.
"""

from __future__ import annotations

import asyncio
import json
import math
import select
import socket
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol
from uvicorn.server import ServerState

__all__ = ["DEFAULT_LIMITS", "Limits", "protocol"]

# What this module relies on in uvicorn beyond its documented API (uvicorn.Config, uvicorn.Server),
# and in h11 through uvicorn's protocol: (where, name, how). A name with parentheses is a method
# whose parameters we rely on: for "overrides", exactly those after self, in order. It is the list
# tests/test_pinned_internals.py checks against the installed releases, naming the one an upgrade
# no longer has; the pin on uvicorn in pyproject.toml is the releases it passes on. (A literal, so
# the test can read it without importing this module, which would fail on the first one missing.)
_REACHES_INTO: Final[tuple[tuple[str, str, str], ...]] = (
    # The protocol class `Config(http=...)` takes; ours is a subclass of uvicorn's h11 one.
    ("uvicorn.protocols.http.h11_impl", "H11Protocol", "subclasses"),
    # The reason phrases uvicorn writes, so our own answers' status lines are the same.
    ("uvicorn.protocols.http.h11_impl", "STATUS_PHRASES", "imports"),
    # The types of H11Protocol.__init__'s parameters, which our __init__ passes on.
    ("uvicorn.config", "Config", "imports"),
    ("uvicorn.server", "ServerState", "imports"),
    # Overridden: our __init__ adds the deadlines' state; connection_made counts and caps
    # connections; connection_lost forgets one; data_received and on_response_complete move the
    # deadline to what the client owes next; pause_writing and resume_writing time a client that
    # takes no answer; send_400_response answers in JSON, not uvicorn's plain text.
    (
        "uvicorn.protocols.http.h11_impl.H11Protocol",
        "__init__(config, server_state, app_state, _loop)",
        "overrides",
    ),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "connection_made(transport)", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "connection_lost(exc)", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "data_received(data)", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "on_response_complete()", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "pause_writing()", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "resume_writing()", "overrides"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "send_400_response(msg)", "overrides"),
    # The protocol's per-connection state. `app` is replaced by the 503 for a connection past
    # the cap; `connections` (the server's, shared) tells a flood; `transport`, `loop` and
    # `conn` (its h11.Connection) are how a deadline closes, is scheduled, and sees what the
    # client owes; `cycle` is the request being answered; `server_state` has the Server and
    # Date headers of uvicorn's answers, which ours carry too.
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "app", "sets"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "connections", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "transport", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "loop", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "conn", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "cycle", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "server_state", "reads"),
    ("uvicorn.server.ServerState", "default_headers", "reads"),
    # uvicorn's keep-alive, armed again after the body of an early answer has arrived (uvicorn
    # forgets to): its timer, its length, and what it calls.
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "timeout_keep_alive_task", "sets"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "timeout_keep_alive", "reads"),
    ("uvicorn.protocols.http.h11_impl.H11Protocol", "timeout_keep_alive_handler()", "calls"),
    # The request being answered: whether its answer is complete (an early one leaves the rest
    # of the body owed), and how the app reading its body is told the client is gone.
    ("uvicorn.protocols.http.h11_impl.RequestResponseCycle", "response_complete", "reads"),
    ("uvicorn.protocols.http.h11_impl.RequestResponseCycle", "disconnected", "sets"),
    ("uvicorn.protocols.http.h11_impl.RequestResponseCycle", "message_event", "reads"),
    # h11's Connection, as uvicorn's `conn`: whose turn it is, the bytes of a request begun
    # (a head part-sent gets a 408, no byte at all a close), and writing our own answers.
    ("h11.Connection", "their_state", "reads"),
    ("h11.Connection", "our_state", "reads"),
    ("h11.Connection", "trailing_data", "reads"),
    ("h11.Connection", "send(event)", "calls"),
)

_Header = tuple[bytes, bytes]
# What a connection is waiting for from its client (None: nothing; the app is at work).
_Wait = Literal["head", "rest of body", "next request"]


@dataclass(frozen=True)
class Limits:
    """How long the server waits on a client (seconds), and how many connections it serves.

    >>> Limits(header_timeout=0)
    Traceback (most recent call last):
    ...
    ValueError: header_timeout must be a number of seconds above 0, got 0
    """

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    send_timeout: float = 10.0
    keep_alive: float = 120.0
    max_connections: int = 1000

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "send_timeout", "keep_alive"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a number of seconds above 0, got {value}")
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {self.max_connections}")


DEFAULT_LIMITS: Final = Limits()


def protocol(limits: Limits, headers: Mapping[str, str]) -> type[H11Protocol]:
    """uvicorn's h11 protocol under `limits`, for `uvicorn.Config(http=...)`, one per server.

    `headers` go on every answer the protocol writes itself (the app's CORS headers, so a
    browser player can read a 408 or a 503 too).
    """
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    class LimitedH11Protocol(_LimitedH11Protocol):
        pass

    LimitedH11Protocol.limits = limits
    LimitedH11Protocol.extra_headers = encoded
    LimitedH11Protocol.served = set()
    LimitedH11Protocol.idle = OrderedDict()
    return LimitedH11Protocol


def _no_delay(transport: asyncio.Transport) -> None:
    # asyncio turns Nagle's algorithm off only on sockets whose proto is IPPROTO_TCP, and a
    # listener from socket.create_server (what `playersim serve` and the tests hand uvicorn) has
    # proto 0. With Nagle on, an answer's body, written after its head, waited for the client's
    # delayed ACK: some 40 ms on every answer of a kept-alive connection.
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _has_unread(transport: asyncio.Transport) -> bool:
    """Whether bytes (or the client's close) wait in the socket, not yet read by the loop."""
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(select, "poll"):  # (Windows has no poll: not idle, then)
        return False
    try:
        # poll, not select: a busy server's sockets number past select's 1,024.
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return False


def _json_message(message: str) -> bytes:
    # Written as Starlette writes the app's own answers, byte for byte.
    return json.dumps({"message": message}, ensure_ascii=False, separators=(",", ":")).encode()


class _LimitedH11Protocol(H11Protocol):
    limits: ClassVar[Limits]
    extra_headers: ClassVar[list[_Header]]
    # The connections being served, of this server (each server has its own subclass), and
    # those of them idle (waiting for a request to begin), longest idle first.
    served: ClassVar[set[_LimitedH11Protocol]]
    idle: ClassVar[OrderedDict[_LimitedH11Protocol, None]]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._waiting_for: _Wait | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._stalled: asyncio.TimerHandle | None = None
        self._fresh = True  # no request has begun on this connection yet

    # --- the connection cap -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        most = self.limits.max_connections
        if len(self.served) >= most:
            self._make_room()
        if len(self.served) < most:
            self.served.add(self)
        elif len(self.connections) > 2 * most:
            transport.close()
            return
        else:
            # Past the cap but not flooding: read its head, then tell it why (a reset says
            # nothing to the person debugging their player).
            self.app = self._busy
        self._watch()

    def _make_room(self) -> None:
        """Close the connection idle longest, if one is: it makes room for a newcomer."""
        while self.idle:
            oldest, _ = self.idle.popitem(last=False)
            if _has_unread(oldest.transport):
                continue  # its request has arrived and is about to be read: it is not idle
            self.served.discard(oldest)
            oldest.transport.close()
            return

    async def _busy(self, scope: Any, receive: Any, send: Any) -> None:
        most = self.limits.max_connections
        message = (
            f"the server is at its limit of connections (playersim serve --max-connections "
            f"{most}): try again shortly"
        )
        body = _json_message(message)
        headers = [*self._json_headers(body), (b"retry-after", b"1")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def connection_lost(self, exc: Exception | None) -> None:
        self.served.discard(self)
        self.idle.pop(self, None)
        self._wait(None)
        self._unstall()
        super().connection_lost(exc)

    # --- deadlines on what the client owes -----------------------------------------------------

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def _watch(self) -> None:
        """Keep the one deadline that fits what the connection now waits for from its client."""
        self._wait(None if self.transport.is_closing() else self._owed())

    def _owed(self) -> _Wait | None:
        client = self.conn.their_state
        if client is h11.IDLE:
            if self._waiting_for == "head" or self._fresh or self.conn.trailing_data[0]:
                return "head"
            return "next request"
        self._fresh = False
        if client is h11.SEND_BODY and self.cycle is not None and self.cycle.response_complete:
            # Answered early (413, 415, a GET with a body): uvicorn reads the rest and drops it.
            return "rest of body"
        # The app is reading the body under its own deadline, or answering.
        return None

    def _wait(self, what: _Wait | None) -> None:
        self._mark_idle(what)
        if what == self._waiting_for:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._waiting_for = what
        if what == "head":
            self._deadline = self.loop.call_later(self.limits.header_timeout, self._head_late)
        elif what == "rest of body":
            self._deadline = self.loop.call_later(self.limits.body_timeout, self.transport.close)
        elif what == "next request" and self.timeout_keep_alive_task is None:
            # uvicorn's keep-alive, which it forgets to arm again when the body of an early
            # answer finished arriving after it.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def _mark_idle(self, what: _Wait | None) -> None:
        """Idle: served, waiting for a request that has not begun (not a byte of it yet)."""
        idle = what in ("head", "next request") and not self.conn.trailing_data[0]
        if idle and self in self.served:
            if self not in self.idle:
                self.idle[self] = None
        else:
            self.idle.pop(self, None)

    def _head_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if not self.conn.trailing_data[0]:
            # It never began a request: there is nobody to answer (a browser's preconnection,
            # or an idle socket held on purpose).
            self.transport.close()
            return
        seconds = self.limits.header_timeout
        self._answer_and_close(
            408,
            f"the request line and headers did not arrive within {seconds:g} s "
            "(playersim serve --header-timeout)",
        )

    # --- a client that takes none of its answer ------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            # close() would wait for the unsent answer forever: abort drops it.
            self._stalled = self.loop.call_later(self.limits.send_timeout, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._unstall()

    def _unstall(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    # --- answers written here, not by the app ---------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answers in plain text; a client of this server always gets JSON.
        self._answer_and_close(
            400,
            "not an HTTP/1.1 request this server can read (a malformed request line, header or "
            "chunk, or headers over 16 KiB)",
        )

    def _answer_and_close(self, status: int, message: str) -> None:
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            # It already has an answer to this request; the connection just ends.
            self.transport.close()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The app is still reading this request's body: it sees the client gone, so its
            # own answer goes nowhere instead of failing on a finished response.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        body = _json_message(message)
        headers = [*self.server_state.default_headers, *self._json_headers(body)]
        events = (
            h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status]),
            h11.Data(data=body),
            h11.EndOfMessage(),
        )
        self.transport.write(b"".join(self.conn.send(event) or b"" for event in events))
        self.transport.close()

    def _json_headers(self, body: bytes) -> list[_Header]:
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *self.extra_headers,
        ]
