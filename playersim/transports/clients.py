"""Choosing an asyncio HTTP client: the direct one (the `direct` extra), aiohttp (the `aiohttp`
extra) or httpx.

The rule for "auto": direct when httptools is installed and no proxy applies to the URL, else
aiohttp when it is installed, else httpx. The direct client speaks to the endpoint itself and
reads no proxy settings, so when the environment names a proxy for the URL (`HTTP_PROXY`,
`HTTPS_PROXY`, `ALL_PROXY`, less `NO_PROXY`), a client that honours it is chosen instead.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Final, Literal

from playersim.clock import SleepingClock
from playersim.transports.http import (
    DEFAULT_CONNECTIONS,
    DEFAULT_TIMEOUT,
    NO_RETRIES,
    AsyncHttpTransport,
    Retries,
    RetryingAsyncTransport,
    check_base_url,
    proxy_from_environment,
)

if TYPE_CHECKING:
    from playersim.transports.aiohttp_client import AiohttpTransport
    from playersim.transports.direct_client import DirectTransport

__all__ = [
    "CLIENTS",
    "Client",
    "aiohttp_installed",
    "async_http_transport",
    "auto_client",
    "direct_installed",
]


Client = Literal["auto", "direct", "aiohttp", "httpx"]
CLIENTS: Final[tuple[Client, ...]] = ("auto", "direct", "aiohttp", "httpx")


def aiohttp_installed() -> bool:
    """Whether the `aiohttp` extra is installed."""
    return importlib.util.find_spec("aiohttp") is not None


def direct_installed() -> bool:
    """Whether the `direct` extra (httptools, the direct client's HTTP parser) is installed."""
    return importlib.util.find_spec("httptools") is not None


def auto_client(base_url: str) -> Client:
    """The client "auto" stands for, for `base_url`: direct when installed and no proxy
    applies, else aiohttp when installed, else httpx."""
    if direct_installed() and proxy_from_environment(check_base_url(base_url)) is None:
        return "direct"
    return "aiohttp" if aiohttp_installed() else "httpx"


def _missing(extra: str) -> ValueError:
    return ValueError(
        f"the {extra} client needs the {extra} extra: pip install 'playersim[{extra}]' "
        f"(from a clone: pip install '.[{extra}]')"
    )


def async_http_transport(
    base_url: str,
    *,
    client: Client = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    retries: Retries = NO_RETRIES,
    clock: SleepingClock | None = None,
    connections: int | None = None,
) -> RetryingAsyncTransport:
    """An asyncio HTTP transport on the client asked for: "direct" (the fastest, the `direct`
    extra; no proxies), "aiohttp" (the `aiohttp` extra), "httpx", or "auto" (`auto_client`).

    All send the same bytes and give the same answers; only the speed differs. `connections`
    caps the sockets held open (default: `DEFAULT_CONNECTIONS`, 100).
    """
    if client == "auto":
        client = auto_client(base_url)
    transport: type[DirectTransport | AiohttpTransport | AsyncHttpTransport]
    if client == "direct":
        if not direct_installed():
            raise _missing("direct")
        from playersim.transports import direct_client  # noqa: PLC0415 - an optional extra

        transport = direct_client.DirectTransport
    elif client == "aiohttp":
        if not aiohttp_installed():
            raise _missing("aiohttp")
        from playersim.transports import aiohttp_client  # noqa: PLC0415 - an optional extra

        transport = aiohttp_client.AiohttpTransport
    else:
        transport = AsyncHttpTransport
    return transport(
        base_url,
        timeout=timeout,
        retries=retries,
        clock=clock,
        connections=connections or DEFAULT_CONNECTIONS,
    )
