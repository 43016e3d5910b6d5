"""HTTP transports: MCA requests over the network with httpx, sync and async.

Both flavours post the body as compact JSON to `base_url + path`, read the session id from the
`Location` header of a 201, and turn every HTTP answer (4xx and 5xx included) into a `Response`
carrying the `message` of the error body. A request that gets no answer (connection refused,
reset, DNS failure, timeout) raises `TransportError` naming the URL and the reason, and saying
whether it may have been delivered all the same.

HTTP is at-least-once. A request whose answer is lost (a timeout after it was sent, a connection
closed under it) may have reached the server; sent again, it then arrives twice. The retry loop
counts such retries (`sent_again_after_lost_answer`), and the collector's conformance report
names what arrived twice (`duplicate`). A request that provably never reached the server (no
connection was made) is always safe to send again, and is, once, even without retries.

Idle connections are retired by the client after `IDLE_CONNECTION_S`, before any common server
closes them (uvicorn, Node and Apache after 5 s): a server that closes first races the client's
next request on that connection, which then fails with no answer.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import urllib.request
from dataclasses import dataclass
from typing import Final

import httpx

from playersim.clock import SleepingClock, SystemClock
from playersim.errors import TransportError
from playersim.mca.api import Request, Response
from playersim.transports.base import AsyncTransport, Transport

__all__ = [
    "AsyncHttpTransport",
    "HttpTransport",
    "Retries",
    "RetryingAsyncTransport",
    "RetryingTransport",
    "check_base_url",
    "proxy_from_environment",
]

DEFAULT_TIMEOUT: Final = 10.0
# Connections an asyncio transport keeps open at most, whichever client it is on. Each session
# has one request in flight, so this bounds how many sessions send at the same moment.
DEFAULT_CONNECTIONS: Final = 100
# Seconds a client keeps an idle connection for reuse: under the shortest common server
# keep-alive (5 s), so the client, never the server, closes an idle connection.
IDLE_CONNECTION_S: Final = 4.0
# What a client that lost its connection says, whichever library it is (their own words leak
# internals, such as aiohttp's "<ContentLengthError: 400, ...>", which reads like an HTTP 400).
CLOSED_BEFORE_ANSWER: Final = "the connection closed before an answer came"
CLOSED_MID_ANSWER: Final = "the connection closed before the answer was complete"
# Answers worth asking again: too many requests, and the server's own failures. Any other 4xx
# says the request itself is wrong: sending it again would get the same answer.
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Retries:
    """How a transport retries: `attempts` more tries after the first, with exponential
    back-off and full jitter (a wait drawn between 0 and `base_s` x 2^try, at most `cap_s`),
    on the transport's clock, for connection errors, timeouts and `RETRY_STATUSES`."""

    attempts: int = 3
    base_s: float = 0.1
    cap_s: float = 5.0
    seed: str = "retries"

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.base_s < 0 or self.cap_s < 0:
            raise ValueError("retries, base and cap must be >= 0")

    def done(self, answer: Response | None, attempt: int) -> bool:
        """Whether try number `attempt` (from 0), answered `answer` (None: no answer), is the
        last: a final answer, or no tries left."""
        final = answer is not None and answer.status not in RETRY_STATUSES
        return final or attempt >= self.attempts

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before retry number `attempt` (from 0)."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


NO_RETRIES: Final = Retries(attempts=0)
HEADERS: Final = {"Content-Type": "application/json"}
# httpx's pool does a scan of its connections for every request: past about ten requests in
# flight on one client it costs more than the request (bench/http_client.py).
CONNECTIONS_PER_CLIENT: Final = 10


def check_base_url(base_url: str) -> httpx.URL:
    """The URL, if it is an absolute http(s) URL; ValueError saying what is wrong otherwise."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{base_url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{base_url!r} is not an http:// or https:// URL with a host")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"{base_url!r}: the port {url.port} is not one (1 to 65535)")
    return url


def proxy_from_environment(url: httpx.URL) -> str | None:
    """The proxy the environment names for `url` (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`),
    unless `NO_PROXY` exempts its host."""
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass(url.host):
        return None
    return proxies.get(url.scheme) or proxies.get("all")


def _url(base_url: httpx.URL, request: Request) -> str:
    # Absolute, so that a client passed in (with or without a base_url of its own) posts here.
    return str(base_url).rstrip("/") + request.path


def body_bytes(request: Request) -> bytes:
    """The body as sent on the wire: compact JSON, UTF-8 (`Request.content`: made once per
    request, and the very bytes the recording writes)."""
    return request.content


def reads_body(status: int) -> bool:
    """Whether an answer's body says something: a 4xx or 5xx (why), a 200 (a Media Edge
    sessionStart's new session) or a 207 (what a Media Edge request got wrong)."""
    return status >= 400 or status in (200, 207)


def answer_of(status: int, location: str | None, text: str, reason: str) -> Response:
    """The `Response` for an HTTP answer, whichever client got it: a 4xx or 5xx carries the
    `message` of its JSON error body (the MCA's `message`, or the `detail` of the Media Edge
    API's problem details; else the start of its text, or the reason phrase), and a 200 the
    session a Media Edge sessionStart opened (its `media-analytics:new-session` handle)."""
    message = session = None
    payload: object = None
    if text:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
    if status == 200:
        session = _new_session(payload)
    elif status >= 400 or status == 207:
        said = None
        if isinstance(payload, dict):
            said = payload.get("message") or payload.get("detail")
        if status == 207 and isinstance(payload, dict):
            said = _errors_of(payload) or said
        if isinstance(said, str):
            message = said
        elif status >= 400:
            message = text.strip()[:200] or reason
    return Response(status, location=location, message=message, session=session)


def _new_session(payload: object) -> str | None:
    """The `sessionId` of a Media Edge answer's `media-analytics:new-session` handle."""
    handles = payload.get("handle") if isinstance(payload, dict) else None
    for handle in handles if isinstance(handles, list) else ():
        if isinstance(handle, dict) and handle.get("type") == "media-analytics:new-session":
            for item in handle.get("payload") or ():
                if isinstance(item, dict) and isinstance(item.get("sessionId"), str):
                    return str(item["sessionId"])
    return None


def _errors_of(payload: dict[str, object]) -> str | None:
    """What a Media Edge 207 lists as wrong, in one line."""
    said = []
    errors = payload.get("errors")
    for error in errors if isinstance(errors, list) else ():
        report = error.get("report") if isinstance(error, dict) else None
        details = report.get("details") if isinstance(report, dict) else None
        for item in details if isinstance(details, list) else ():
            if isinstance(item, dict):
                said.append(f"{item.get('name')}: {item.get('reason')}")
    return "; ".join(said)[:500] or None


def _response(answer: httpx.Response) -> Response:
    text = answer.text if reads_body(answer.status_code) else ""
    return answer_of(answer.status_code, answer.headers.get("location"), text, answer.reason_phrase)


_NEVER_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def _no_answer(
    request: Request, base_url: httpx.URL, exc: httpx.RequestError, timeout: float
) -> TransportError:
    # RequestError: no answer at all (refused, reset, timed out), or none that can be read (a
    # body that does not decode, too many redirects).
    target = _url(base_url, request)
    # No connection was made, or none was free: the request never left this machine.
    never_sent = isinstance(exc, _NEVER_SENT)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        reason = no_connection_within(timeout)
    elif isinstance(exc, httpx.TimeoutException):
        reason = no_answer_within(timeout)
    elif isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "without sending a response" in text or "Server disconnected" in text:
            reason = CLOSED_BEFORE_ANSWER
        elif "peer closed connection" in text or "incomplete" in text:
            reason = CLOSED_MID_ANSWER
        else:
            reason = f"the answer was not HTTP: {text}"
    elif isinstance(exc, httpx.ConnectError):
        reason = f"cannot connect: {os_words(exc) or exc}"
    else:
        reason = str(exc) or type(exc).__name__
    return TransportError("POST", target, reason, maybe_delivered=not never_sent)


def no_connection_within(timeout: float) -> str:
    """Why a request got no connection in time, in every client's words (nothing was sent)."""
    return f"no connection within {timeout:g} s (timeout)"


def no_answer_within(timeout: float) -> str:
    """Why a request got no answer in time, in every client's words."""
    return f"no answer within {timeout:g} s (timeout)"


def os_words(exc: BaseException) -> str:
    """The system's words for the OS error under `exc` ("Connection refused"; a resolver's
    own, "Name or service not known"), if any: a library's own text names the address."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            if isinstance(seen.errno, int) and seen.errno > 0:
                return os.strerror(seen.errno)  # asyncio's own text names the address instead
            if seen.strerror:
                return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return ""


class _Retrying:
    """What the blocking and the asyncio retry loops share: the terms, the clock they back off
    on, the counts of requests sent again, and the seeded jitter."""

    def __init__(self, retries: Retries, clock: SleepingClock | None) -> None:
        self.retries = retries
        self.clock: SleepingClock = clock or SystemClock()
        self.retried = 0  # requests sent again, in all
        # ... of them, after a try whose answer was lost: each may have arrived twice.
        self.sent_again_after_lost_answer = 0
        self._rng = random.Random(retries.seed)

    def _again(self, attempt: int, error: TransportError | None, lost: bool) -> float | None:
        """After try `attempt` failed (with `error`, or a retryable answer): the wait before
        the next try, or None if there is none. `lost`: an earlier try's answer was lost."""
        if not self.retries.done(None, attempt):
            self.retried += 1
            self.sent_again_after_lost_answer += lost
            return self.retries.delay(attempt, self._rng)
        if error is not None and not error.maybe_delivered and attempt == self.retries.attempts:
            # It never reached the server (no connection was made): one more try is safe,
            # whatever the retry budget, and costs at most a refused connection.
            self.retried += 1
            self.sent_again_after_lost_answer += lost
            return 0.0
        return None


class RetryingAsyncTransport(_Retrying, AsyncTransport):
    """The retry loop every asyncio HTTP transport shares: `post` one try, `send` until done.

    A subclass's `_post` returns the `Response` of one try, or raises `TransportError` when
    that try got no answer; `send` asks again on `retries`' terms, backing off on `clock`.
    A `TransportError` it raises says `maybe_delivered` if any try may have been delivered.
    """

    def _endpoint(self, base_url: str, timeout: float, connections: int) -> None:
        """Where this transport sends (`base_url`, checked), how long it waits (`timeout`),
        and over how many sockets at most (`connections`: ValueError below 1)."""
        if connections < 1:
            raise ValueError(f"connections must be at least 1, got {connections}")
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.connections = connections

    async def _post(self, request: Request) -> Response:
        raise NotImplementedError

    async def send(self, request: Request) -> Response:
        attempt = 0
        lost = False  # a try's answer was lost: the request may have been delivered
        while True:
            error: TransportError | None = None
            try:
                answer = await self._post(request)
            except TransportError as exc:
                error = exc
                lost = lost or exc.maybe_delivered
                exc.maybe_delivered = lost
            else:
                if self.retries.done(answer, attempt):
                    return answer
            wait = self._again(attempt, error, lost)
            if wait is None:
                assert error is not None, "a retryable answer is final once the tries are used"
                raise error
            await self.clock.asleep(wait)
            attempt += 1


class RetryingTransport(_Retrying, Transport):
    """The retry loop every blocking HTTP transport shares: `_post` one try, `send` until done.

    A subclass's `_post` returns the `Response` of one try, or raises `TransportError` when
    that try got no answer; `send` asks again on `retries`' terms, backing off on `clock`.
    (`RetryingAsyncTransport` is the same loop for asyncio.)
    """

    def _post(self, request: Request) -> Response:
        raise NotImplementedError

    def send(self, request: Request) -> Response:
        attempt = 0
        lost = False
        while True:
            error: TransportError | None = None
            try:
                answer = self._post(request)
            except TransportError as exc:
                error = exc
                lost = lost or exc.maybe_delivered
                exc.maybe_delivered = lost
            else:
                if self.retries.done(answer, attempt):
                    return answer
            wait = self._again(attempt, error, lost)
            if wait is None:
                assert error is not None, "a retryable answer is final once the tries are used"
                raise error
            self.clock.sleep(wait)
            attempt += 1


class HttpTransport(RetryingTransport):
    """Sends requests to an MCA endpoint over HTTP, one at a time, with a pooled httpx client."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.Client | None = None,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        # A client passed in is the caller's: `close()` leaves it open.
        self._owned = client is None
        self._client = client or httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=IDLE_CONNECTION_S),
        )

    def _post(self, request: Request) -> Response:
        try:
            answer = self._client.post(
                _url(self.base_url, request), content=body_bytes(request), headers=HEADERS
            )
        except httpx.RequestError as exc:
            raise _no_answer(request, self.base_url, exc, self.timeout) from exc
        return _response(answer)

    def close(self) -> None:
        if self._owned:
            self._client.close()


class AsyncHttpTransport(RetryingAsyncTransport):
    """`HttpTransport` for asyncio: the same requests and answers over `httpx.AsyncClient`.

    httpx is the default because it is the client most users already configure (proxies,
    certificates, event hooks: pass your own `client`). Its connection pool slows down with
    many requests in flight on one client, so without a client of your own, `connections`
    are spread over clients of at most `CONNECTIONS_PER_CLIENT` each, taken in turn. For many
    sessions in flight at once, `transports.aiohttp_client.AiohttpTransport` (the `aiohttp`
    extra) is several times faster again, and `transports.direct_client.DirectTransport` (the
    `direct` extra) faster still, with the same behaviour: see `bench/http_client.py`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
        connections: int = DEFAULT_CONNECTIONS,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        super().__init__(retries, clock)
        self._endpoint(base_url, timeout, connections)
        # A client passed in is the caller's: `aclose()` leaves it open.
        self._owned = client is None
        if client is not None:
            self._clients = [client]
        else:
            shards = -(-connections // CONNECTIONS_PER_CLIENT)
            limits = httpx.Limits(
                max_connections=-(-connections // shards), keepalive_expiry=IDLE_CONNECTION_S
            )
            self._clients = [
                httpx.AsyncClient(timeout=timeout, limits=limits) for _ in range(shards)
            ]
        # Any client may carry any request: a session's order is kept by its one request in
        # flight (`Outbox`), not by the connection it goes over.
        self._turns = itertools.cycle(self._clients)

    async def _post(self, request: Request) -> Response:
        try:
            answer = await next(self._turns).post(
                _url(self.base_url, request), content=body_bytes(request), headers=HEADERS
            )
        except httpx.RequestError as exc:
            raise _no_answer(request, self.base_url, exc, self.timeout) from exc
        return _response(answer)

    async def aclose(self) -> None:
        if self._owned:
            for client in self._clients:
                await client.aclose()
