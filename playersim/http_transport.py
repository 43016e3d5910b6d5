"""HTTP transports: MCA requests over the network with httpx, sync and async.

Both flavours post the body as compact JSON to `base_url + path`, read the session id from the
`Location` header of a 201, and turn every HTTP answer (4xx and 5xx included) into a `Response`
carrying the `message` of the error body. A request that gets no answer (connection refused,
reset, DNS failure, timeout) raises `TransportError` naming the URL and the reason.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Final

import httpx

from playersim.clock import SleepingClock, SystemClock
from playersim.errors import TransportError
from playersim.transport import Request, Response

__all__ = ["AsyncHttpTransport", "HttpTransport", "Retries", "check_base_url"]

DEFAULT_TIMEOUT: Final = 10.0
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
_HEADERS: Final = {"Content-Type": "application/json"}


def check_base_url(base_url: str) -> httpx.URL:
    """The URL, if it is an absolute http(s) URL; ValueError saying what is wrong otherwise."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{base_url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{base_url!r} is not an http:// or https:// URL with a host")
    return url


def _url(base_url: httpx.URL, request: Request) -> str:
    # Absolute, so that a client passed in (with or without a base_url of its own) posts here.
    return str(base_url).rstrip("/") + request.path


def _encode(request: Request) -> bytes:
    return json.dumps(request.body, ensure_ascii=False, separators=(",", ":")).encode()


def _response(answer: httpx.Response) -> Response:
    message = None
    if answer.status_code >= 400:
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = payload["message"]
        else:
            message = answer.text.strip()[:200] or answer.reason_phrase
    return Response(answer.status_code, location=answer.headers.get("location"), message=message)


def _no_answer(
    request: Request, base_url: httpx.URL, exc: httpx.TransportError, timeout: float
) -> TransportError:
    target = _url(base_url, request)
    if isinstance(exc, httpx.TimeoutException):
        reason = f"no answer within {timeout:g} s ({type(exc).__name__})"
    else:
        reason = str(exc) or type(exc).__name__
    return TransportError("POST", target, reason)


class HttpTransport:
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
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self._client = client or httpx.Client(base_url=self.base_url, timeout=timeout)
        self.retries = retries
        self.clock: SleepingClock = clock or SystemClock()
        self.retried = 0  # requests sent again, in all
        self._rng = random.Random(retries.seed)

    def send(self, request: Request) -> Response:
        attempt = 0
        while True:
            answer: Response | None = None
            try:
                answer = _response(
                    self._client.post(
                        _url(self.base_url, request), content=_encode(request), headers=_HEADERS
                    )
                )
            except httpx.TransportError as exc:
                if self.retries.done(None, attempt):
                    raise _no_answer(request, self.base_url, exc, self.timeout) from exc
            if answer is not None and self.retries.done(answer, attempt):
                return answer
            self.clock.sleep(self.retries.delay(attempt, self._rng))
            attempt += 1
            self.retried += 1

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncHttpTransport:
    """`HttpTransport` for asyncio: the same requests and answers over `httpx.AsyncClient`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
        retries: Retries = NO_RETRIES,
        clock: SleepingClock | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self._client = client or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self.retries = retries
        self.clock: SleepingClock = clock or SystemClock()
        self.retried = 0  # requests sent again, in all
        self._rng = random.Random(retries.seed)

    async def send(self, request: Request) -> Response:
        attempt = 0
        while True:
            answer: Response | None = None
            try:
                answer = _response(
                    await self._client.post(
                        request.path, content=_encode(request), headers=_HEADERS
                    )
                )
            except httpx.TransportError as exc:
                if self.retries.done(None, attempt):
                    raise _no_answer(request, self.base_url, exc, self.timeout) from exc
            if answer is not None and self.retries.done(answer, attempt):
                return answer
            await self.clock.asleep(self.retries.delay(attempt, self._rng))
            attempt += 1
            self.retried += 1

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
