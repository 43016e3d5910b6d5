"""Transports: the only I/O in playersim, behind one small interface.

A transport takes a `Request` (a path and a JSON body) and returns a `Response` (a status, the
`Location` of a new session, the `message` of a 4xx). Every HTTP answer is a `Response`, whatever
its status: 4xx and 5xx are results to count and act on, never swallowed and never raised. Only a
request that got no answer at all (refused, reset, timed out) raises `TransportError`.

Implementations: `MemoryTransport` (a `Collector` in-process, no sockets), `HttpTransport` and
`AsyncHttpTransport` (httpx, in `playersim.transports.http`), `AiohttpTransport` (a fast one,
`playersim.transports.aiohttp_client`), `DirectTransport` (the fastest, HTTP/1.1 on asyncio,
`playersim.transports.direct_client`). Recording is not a transport's business: an engine writes
each request to its `recorder` as the request settles, whatever the transport.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Self

from playersim.mca.api import Request, Response

if TYPE_CHECKING:
    from playersim.mca.collector import Collector

__all__ = [
    "AsyncMemoryTransport",
    "AsyncTransport",
    "MemoryTransport",
    "Transport",
]


class Transport(ABC):
    """Sends one request and returns the answer; raises `TransportError` only on no answer.

    The base of every blocking transport (as httpx's `BaseTransport` is of its own): implement
    `send`; override `close` if the transport holds something to release (connections). Used
    as a context manager, it is closed on the way out.
    """

    @abstractmethod
    def send(self, request: Request) -> Response:
        """Send one request; its answer, whatever its status."""

    def close(self) -> None:  # noqa: B027 - optional: most transports hold nothing
        """Release what the transport holds (nothing, unless a subclass says otherwise)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncTransport(ABC):
    """The asyncio flavour of `Transport`, with the same request and response types."""

    @abstractmethod
    async def send(self, request: Request) -> Response:
        """Send one request; its answer, whatever its status."""

    async def aclose(self) -> None:  # noqa: B027 - optional: most transports hold nothing
        """Release what the transport holds (nothing, unless a subclass says otherwise)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class MemoryTransport(Transport):
    """Hands each request straight to an in-process `Collector`: no sockets, no serialisation.

    The collector validates the body exactly as it validates JSON off the wire, so what it
    accepts here it would accept over HTTP.
    """

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def send(self, request: Request) -> Response:
        return self.collector.handle("POST", request.path, request.body)


class AsyncMemoryTransport(AsyncTransport):
    """`MemoryTransport` for asyncio code: the same collector, awaited."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    async def send(self, request: Request) -> Response:
        return self.collector.handle("POST", request.path, request.body)
