"""Choosing an asyncio HTTP client: aiohttp (the fast one, an extra) or httpx."""

from __future__ import annotations

import importlib.util
from typing import Final, Literal

from playersim.clock import SleepingClock
from playersim.transports.http import (
    DEFAULT_TIMEOUT,
    NO_RETRIES,
    AsyncHttpTransport,
    Retries,
    RetryingAsyncTransport,
)

__all__ = ["CLIENTS", "Client", "aiohttp_installed", "async_http_transport"]


Client = Literal["auto", "aiohttp", "httpx"]
CLIENTS: Final[tuple[Client, ...]] = ("auto", "aiohttp", "httpx")


def aiohttp_installed() -> bool:
    """Whether the `aiohttp` extra is installed."""
    return importlib.util.find_spec("aiohttp") is not None


def async_http_transport(
    base_url: str,
    *,
    client: Client = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    retries: Retries = NO_RETRIES,
    clock: SleepingClock | None = None,
    connections: int | None = None,
) -> RetryingAsyncTransport:
    """An asyncio HTTP transport on the client asked for: "aiohttp" (the fast one, the
    `aiohttp` extra), "httpx", or "auto": aiohttp when it is installed, httpx otherwise.

    Both send the same bytes and give the same answers; only the speed differs. `connections`
    caps the sockets held open (default: each client's own, 100 for both).
    """
    if client == "auto":
        client = "aiohttp" if aiohttp_installed() else "httpx"
    if client == "aiohttp":
        if not aiohttp_installed():
            raise ValueError(
                "the aiohttp client needs the aiohttp extra: pip install 'playersim[aiohttp]' "
                "(from a clone: pip install '.[aiohttp]')"
            )
        from playersim.transports.aiohttp_client import (  # noqa: PLC0415 - an optional extra
            DEFAULT_CONNECTIONS,
            AiohttpTransport,
        )

        return AiohttpTransport(
            base_url,
            timeout=timeout,
            retries=retries,
            clock=clock,
            connections=connections or DEFAULT_CONNECTIONS,
        )
    return AsyncHttpTransport(
        base_url, timeout=timeout, retries=retries, clock=clock, connections=connections or 100
    )
