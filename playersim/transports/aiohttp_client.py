"""The fast asyncio HTTP transport: `AsyncHttpTransport`'s behaviour over aiohttp.

httpx spends about 80 microseconds of Python per request before a byte reaches the socket, and
its connection pool slows further with many requests in flight: a run with hundreds of sessions
sending at once tops out near 2,500 requests/s on a core. aiohttp's client does the same work in
a fraction of that (its HTTP parser is C), so a run that must go as fast as the endpoint answers
uses it when the `aiohttp` extra is installed. The requests, answers, retries and errors are
the same as `AsyncHttpTransport`'s: the same body bytes, the same `Response`, the same
`TransportError` naming the URL when a request gets no answer. `bench/http_client.py` measures both
against a plain aiohttp loop.
"""

from __future__ import annotations

import os

import aiohttp

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
    body_bytes,
    no_answer_within,
    no_connection_within,
    os_words,
    proxy_from_environment,
    reads_body,
)

__all__ = ["DEFAULT_CONNECTIONS", "AiohttpTransport"]


class AiohttpTransport(RetryingAsyncTransport):
    """Sends requests to an MCA endpoint with an `aiohttp.ClientSession`.

    The session is made on first use, on the running loop (aiohttp sessions belong to one
    loop), unless one is passed in; a session passed in is the caller's to close, as a client
    passed to the httpx transports is. Proxies come from the environment, redirects are
    answers (never followed), and `timeout` bounds each wait, as httpx's does: for a
    connection, and for each read of the answer.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session: aiohttp.ClientSession | None = None,
        connections: int = DEFAULT_CONNECTIONS,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self._endpoint(base_url, timeout, connections)
        self._prefix = str(self.base_url).rstrip("/")
        self._session = session
        self._owned = session is None
        # HTTP(S)_PROXY and NO_PROXY, as httpx honours them: read once, here. (aiohttp's own
        # `trust_env` reads the environment again for every request, a quarter of its time.)
        self._proxy = proxy_from_environment(self.base_url)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.connections, keepalive_timeout=IDLE_CONNECTION_S
                ),
                # As httpx reads `timeout`: each wait bounded by it, the connection (from the
                # pool) and every read, so that a connection never made says so (nothing was
                # sent); twice it bounds the whole.
                timeout=aiohttp.ClientTimeout(
                    total=2 * self.timeout, connect=self.timeout, sock_read=self.timeout
                ),
                # The MCA has no cookies; not keeping a jar saves work on every answer.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def _post(self, request: Request) -> Response:
        url = self._prefix + request.path
        try:
            # A redirect is an answer, as with httpx: following it would turn the POST into a
            # GET without its body.
            async with self._client().post(
                url,
                data=body_bytes(request),
                headers=HEADERS,
                allow_redirects=False,
                proxy=self._proxy,
            ) as answer:
                status = answer.status
                # Read the body to the end either way, so the connection goes back to the pool.
                content = await answer.read()
                text = content.decode("utf-8", "replace") if reads_body(status) else ""
                return answer_of(status, answer.headers.get("Location"), text, answer.reason or "")
        except aiohttp.ConnectionTimeoutError as exc:
            reason = no_connection_within(self.timeout)
            raise TransportError("POST", url, reason, maybe_delivered=False) from exc
        except TimeoutError as exc:
            raise TransportError("POST", url, no_answer_within(self.timeout)) from exc
        except aiohttp.ClientConnectorError as exc:
            # aiohttp's own text names the host twice and says "ssl:default" even for http.
            error = exc.os_error
            raise TransportError(
                "POST", url, f"cannot connect: {os_words(error) or error}", maybe_delivered=False
            ) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise TransportError("POST", url, CLOSED_BEFORE_ANSWER) from exc
        except aiohttp.ClientPayloadError as exc:
            # ContentLengthError and its kind: their text reads like an HTTP status ("400").
            raise TransportError("POST", url, CLOSED_MID_ANSWER) from exc
        except aiohttp.ClientResponseError as exc:
            raise TransportError("POST", url, f"the answer was not HTTP: {exc.message}") from exc
        except aiohttp.ClientOSError as exc:
            words = os.strerror(exc.errno) if isinstance(exc.errno, int) and exc.errno > 0 else ""
            raise TransportError("POST", url, f"connection error: {words or exc}") from exc
        except aiohttp.ClientError as exc:
            raise TransportError("POST", url, str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._session is not None and self._owned:
            await self._session.close()
        self._session = None if self._owned else self._session
