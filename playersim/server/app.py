"""`playersim serve`: the built-in collector behind a real HTTP server.

The same `Collector` the in-memory transport uses (the same validation, sids, 201/204/400/404/
405/410 and timeouts, here on the system clock) is served by Starlette on uvicorn (the `server`
extra). Around it, the server does what only a server must:

- bodies are read as a stream and refused with 413 past `max_body` bytes, before they are held,
  and with 408 if they take longer than `limits.body_timeout` to arrive;
- a POST must say `Content-Type: application/json` (415 otherwise); JSON the collector cannot
  parse, or nests too deeply, is a 400 with a message, never a 500;
- every answer carries CORS headers, and `OPTIONS` preflights are answered, so a browser
  player can post straight to it;
- `GET /api/v1/schemas/{eventType}` gives the JSON Schema of that event's body, from the wire
  model; `GET /` and `GET /stats` show sessions, requests by event type and status, conformance
  problems by rule and the request rate (HTML for a person, JSON for `Accept: application/json`
  or `?format=json`);
- `GET /report` shows what Adobe's reporting would make of the sessions received so far (the
  answer key, `playersim.reporting`), a page that updates itself; `?format=json` gives
  `report.json`'s content. A `Reporter` is fed every request the collector took, in either of
  Adobe's dialects;
- with a recorder, each request is written as it is answered, flushed, so a crash or a kill
  loses at most the request in progress, and every line is strict JSON
  (`playersim.transports.recording`);
- `uvicorn_config` runs it under `playersim.server.limits`: deadlines on slow and idle clients and a
  cap on connections, which uvicorn does not have on its own.

The collector is single-threaded: the handlers are coroutines on one event loop and call it
directly, so no request ever sees another half-done.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import unquote, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from playersim.edge.front import answer_body, speak_edge
from playersim.errors import WireError
from playersim.mca.api import DOWNLOADED, DOWNLOADED_PATH, EDGE_PATH
from playersim.mca.api import Request as McaRequest
from playersim.mca.api import Response as McaResponse
from playersim.mca.collector import CollectedSession, Collector
from playersim.mca.wire import decode_json, json_schema
from playersim.reporting.page import fragment, render
from playersim.reporting.record import SessionRecord
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import build_report
from playersim.server.limits import DEFAULT_LIMITS, Limits, protocol
from playersim.transports.recording import Recorder

__all__ = ["MAX_BODY_BYTES", "MAX_HEAD_BYTES", "Faults", "Limits", "create_app", "uvicorn_config"]

# MCA bodies are small (a sessionStart with rich metadata is a few kB); anything far larger is a
# mistake or an attack, refused before it is read whole.
MAX_BODY_BYTES: Final = 64 * 1024
# A request's line and headers, at most: what uvicorn's parser (h11) holds back while a head is
# still arriving. A head that arrives whole in one read is parsed whatever its size, so the
# same limit is kept here on every request (an MCA request's head is a few hundred bytes).
MAX_HEAD_BYTES: Final = 16 * 1024
_CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Expose-Headers": "Location",
    "Access-Control-Max-Age": "600",
}


class _Json(JSONResponse):
    """Starlette's JSON answer, but one that can quote a lone surrogate back to its sender.

    A client may send one in a JSON string (the escape "\\ud800"), and a 400's message quotes
    the value it refuses; UTF-8 has no bytes for it, so Starlette's render raised (a 500).
    Surrogates only occur inside JSON strings, where backslashreplace writes each as the JSON
    escape of the very same value.
    """

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


class _TooLargeError(Exception):
    pass


class _TooSlowError(Exception):
    pass


@dataclass(frozen=True)
class Faults:
    """Faults to inject into the API's answers, for users testing their own clients.

    Each POST to the API first waits a latency drawn between `latency_ms` (low, high); then,
    with probability `drop_rate`, the connection is cut in the middle of the answer (the client
    sees no answer), or with probability `fail_rate` it gets a 500; otherwise the collector
    answers. Draws come from an RNG seeded by `seed`, so a fault sequence can be repeated.
    """

    fail_rate: float = 0.0
    drop_rate: float = 0.0
    latency_ms: tuple[int, int] = (0, 0)
    seed: str = "faults"

    def __post_init__(self) -> None:
        for name in ("fail_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be from 0 to 1, got {value}")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(f"latency must be 0 <= low <= high, got {low}:{high}")


class _CutError(ConnectionAbortedError):
    """Raised mid-answer to cut the connection: the client gets no complete answer."""


class _Cut(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 200,
                 "headers": [(b"content-length", b"64")]}  # fmt: skip
        await send(start)
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise _CutError("connection cut on purpose (playersim serve --drop)")


class _Quiet(logging.Filter):
    # A cut is what was asked for: no error and no traceback in the server's log for it. And a
    # client asking for a WebSocket gets an ordinary answer here (the server has none, on
    # purpose): uvicorn's advice to install a WebSocket library is not for this server.
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], _CutError):
            return False
        message = record.getMessage()
        return "WebSocket library" not in message and "Unsupported upgrade" not in message


_log = logging.getLogger("uvicorn.error")
_log.addFilter(_Quiet())

# The paths the server answers itself, each taking GET only (the rest is the collector's API).
_PAGES: Final = ("/", "/stats", "/report")
# What `GET /report` takes in its query: a parameter and its values.
_REPORT_QUERY: Final = {"format": ("html", "json"), "fragment": ("0", "1")}


def create_app(
    collector: Collector,
    *,
    recorder: Recorder | None = None,
    max_body: int = MAX_BODY_BYTES,
    faults: Faults | None = None,
    limits: Limits = DEFAULT_LIMITS,
    reporter: Reporter | None = None,
    timezone: str = "UTC",
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The ASGI app serving `collector`: run it with `uvicorn_config(app, limits)`.

    Any ASGI server will do, but only `uvicorn_config` adds the deadlines and the connection cap
    of `limits` that the app cannot keep itself; the app keeps `limits.body_timeout`.

    `reporter` is fed every request the collector takes (a new one if None) and drawn at
    `/report`, days and hours in `timezone`. `on_shutdown` runs when the server stops
    gracefully (`playersim serve --report` writes the report then): the app's lifespan ends
    before uvicorn re-raises the SIGTERM or Ctrl-C that stopped it, code after `run()` does not.
    """
    started = time.monotonic()
    live = _LiveReport(
        reporter if reporter is not None else Reporter(idle_timeout_ms=collector.idle_timeout_ms),
        timezone,
        collector,
    )
    # The Media Edge API beside the MCA: `/ee/va/v1/...`, into the same sessions and figures.
    speak_edge(collector)
    injected: Counter[str] = Counter()  # faults answered instead of the collector
    fault_rng = random.Random(faults.seed) if faults is not None else None

    async def api(request: Request) -> Response:
        path = request.url.path
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_CORS)
        if path in _PAGES:  # (their GET has a route of its own)
            return _not_allowed(request.method, path)
        if request.method == "GET" and path.startswith("/api/v1/schemas/"):
            return _schema(path.removeprefix("/api/v1/schemas/"))
        if request.method != "POST":
            return _answer(collector.handle(request.method, path, b""), path)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            shown = media_type or "none"
            return _error(
                415, f"send the body as Content-Type: application/json (got {shown})", path=path
            )
        try:
            raw = await _read(request, max_body, limits.body_timeout)
        except _TooLargeError:
            return _error(413, f"the body is larger than {max_body:,} bytes", path=path)
        except _TooSlowError:
            message = (
                f"the body did not arrive within {limits.body_timeout:g} s "
                "(playersim serve --body-timeout)"
            )
            # The rest of a body this slow is not worth waiting for, nor the connection keeping.
            return _error(408, message, headers={"Connection": "close"}, path=path)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        if faults is not None and fault_rng is not None:
            low, high = faults.latency_ms
            if high:
                await asyncio.sleep(fault_rng.uniform(low, high) / 1000)
            draw = fault_rng.random()
            if draw < faults.drop_rate:
                injected["dropped"] += 1
                return _Cut()
            if draw < faults.drop_rate + faults.fail_rate:
                injected["500"] += 1
                return _error(500, "an injected fault (playersim serve --fail-rate)", path=path)
        query = request.url.query
        # A Media Edge request names its datastream in the query (`?configId=...`).
        target = f"{path}?{query}" if query and path.startswith(EDGE_PATH) else path
        answer = collector.handle("POST", target, raw)
        # Read again only where it is used: the reporter takes what the collector took, the
        # recorder every request.
        body = _body(raw) if answer.status < 300 or recorder is not None else None
        if recorder is not None:
            # The path as it came, not as decoded: a byte that is not UTF-8 is kept, escaped;
            # with its query (a Media Edge request's configId). Recorded first: nothing the
            # report does can lose a request's line.
            raw_target = request.scope["raw_path"] + (
                b"?" + request.scope["query_string"] if request.scope.get("query_string") else b""
            )
            _record(recorder, raw_target.decode("utf-8", "backslashreplace"), raw, body, answer)
        live.take(target, body, answer)
        return _answer(answer, path)

    async def stats(request: Request) -> Response:
        figures = _stats(collector, time.monotonic() - started, injected)
        wants_json = "application/json" in request.headers.get("accept", "")
        if wants_json or request.query_params.get("format") == "json":
            return _Json(figures, headers=_CORS)
        return HTMLResponse(_page(figures), headers=_CORS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    app = Starlette(
        routes=[
            Route("/", stats, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
            Route("/report", live.page, methods=["GET"]),
            Route("/{path:path}", api, methods=methods),
        ],
        exception_handlers={HTTPException: _refused_by_starlette},
        middleware=[Middleware(_Framing)],
        lifespan=lifespan,
    )
    # Starlette would answer a path no route matches (one with a line break in it: a route's
    # pattern stops at one) by redirecting it without its trailing slash, if that matches: an
    # API does not redirect, it says what is wrong.
    app.router.redirect_slashes = False
    return app


class _Framing:
    """Refuses, and closes the connection of, a request whose framing HTTP/1.1 calls an attack:
    both Content-Length and Transfer-Encoding (RFC 9112 section 6.3: request smuggling; the
    server must close the connection after answering), or a line and headers over
    `MAX_HEAD_BYTES` (431)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _origin_form(scope)
            refusal = _framing_refusal(scope)
            if refusal is not None:
                status, message = refusal
                answer = _error(status, message, headers={"Connection": "close"})
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _origin_form(scope: Scope) -> None:
    """A request line may name the whole URL (`POST http://host/api/v1/sessions`, RFC 9112
    section 3.2.2, as a client behind a proxy sends it): routed by its path, as any other."""
    raw: bytes = scope["raw_path"]
    if not raw.lower().startswith((b"http://", b"https://")):
        return
    parts = urlsplit(raw.decode("latin-1"))
    path = parts.path or "/"
    scope["raw_path"] = path.encode("latin-1")
    scope["path"] = unquote(path)
    if parts.query:
        scope["query_string"] = parts.query.encode("latin-1")


def _framing_refusal(scope: Scope) -> tuple[int, str] | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    names = {name for name, _ in headers}
    if b"content-length" in names and b"transfer-encoding" in names:
        return 400, (
            "a request may carry Content-Length or Transfer-Encoding, not both "
            "(RFC 9112 section 6.3): the connection is closed"
        )
    size = len(scope["method"]) + len(scope["raw_path"]) + len(scope["query_string"]) + 12
    size += sum(len(name) + len(value) + 4 for name, value in headers)
    if size > MAX_HEAD_BYTES:
        return 431, (
            f"the request line and headers are {size:,} bytes, more than the "
            f"{MAX_HEAD_BYTES // 1024} KiB this server reads"
        )
    return None


def uvicorn_config(app: ASGIApp, limits: Limits = DEFAULT_LIMITS, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration to serve `app` under `limits` (pass create_app the same ones).

    `options` go to `uvicorn.Config` as they are (`log_level`, `access_log`, ...).
    """
    return uvicorn.Config(
        app,
        http=protocol(limits, _CORS),
        # uvicorn's hint says int, but it only hands the value to loop.call_later, which takes
        # fractions of a second (and the tests want short ones).
        timeout_keep_alive=cast(int, limits.keep_alive),
        ws="none",  # no websockets here: an Upgrade is an ordinary request
        **options,
    )


async def _read(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    body = bytearray()
    try:
        # One deadline for the whole body, not one per chunk: a body trickled a byte at a time
        # would otherwise hold the request for as long as its sender liked.
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise _TooLargeError
    except TimeoutError:
        raise _TooSlowError from None
    return bytes(body)


def _answer(answer: McaResponse, path: str) -> Response:
    headers = dict(_CORS)
    if path.startswith(EDGE_PATH):
        # Shaped as the Edge Network answers: a session's handle, a 207's errors, problem details.
        content = answer_body(answer, path=path)
        if content is None:
            return Response(status_code=answer.status, headers=headers)
        kind = "application/problem+json" if answer.status >= 400 else "application/json"
        return Response(content, status_code=answer.status, headers=headers, media_type=kind)
    if answer.location is not None:
        headers["Location"] = answer.location
    if answer.message is not None:
        return _Json({"message": answer.message}, answer.status, headers=headers)
    return Response(status_code=answer.status, headers=headers)


def _error(
    status: int, message: str, headers: dict[str, str] | None = None, *, path: str = ""
) -> Response:
    if path.startswith(EDGE_PATH):
        answer = _answer(McaResponse(status, message=message), path)
        answer.headers.update(headers or {})
        return answer
    return _Json({"message": message}, status, headers={**_CORS, **(headers or {})})


def _refused_by_starlette(request: Request, exc: Exception) -> Response:
    # What Starlette refuses before the app sees it (a method no route takes, such as TRACE,
    # or a path none matches) is answered like every other refusal here: JSON with a message,
    # and CORS.
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    message = exc.detail
    if exc.status_code == 405:
        return _not_allowed(request.method, request.url.path)
    if exc.status_code == 404:
        message = f"no such endpoint: {request.url.path}"
    return _error(exc.status_code, message, headers=headers)


def _not_allowed(method: str, path: str) -> Response:
    """405, saying the one method the path takes (as the collector says it of its own)."""
    allowed = "GET" if path in _PAGES or path.startswith("/api/v1/schemas/") else "POST"
    return _error(
        405, f"{method} is not allowed on {path}: use {allowed}", headers={"Allow": allowed}
    )


def _schema(event_type: str) -> Response:
    schema = json_schema(event_type)
    if schema is None:
        return _error(404, f"no event type {event_type!r}")
    return _Json(schema, headers=_CORS)


class _LiveReport:
    """`/report`: a `Reporter` fed every request the collector takes, drawn when asked."""

    def __init__(self, reporter: Reporter, timezone: str, collector: Collector) -> None:
        self.reporter = reporter
        self.timezone = timezone
        self.collector = collector
        # Requests fed so far, and what was last drawn of each kind at which count: a page
        # polled every few seconds by several people is drawn once per change, not per poll.
        self.fed = 0
        self.drawn: dict[str, tuple[int, str | bytes]] = {}
        # A session the collector closes by a timeout is closed in the report too: a viewer
        # who walked away leaves no meter open for ever.
        collector.on_close.append(self._closed)

    def _closed(self, session: CollectedSession) -> None:
        if session.close_reason != "sessionEnd" and self.reporter.timed_out(session.sid):
            self.fed += 1

    def take(self, path: str, body: object, answer: McaResponse) -> None:
        if answer.status < 300 and _report(self.reporter, path, body, answer):
            self.fed += 1

    async def page(self, request: Request) -> Response:
        asked, problem = _report_query(request)
        if problem is not None:
            return _error(400, problem)
        self.collector.expire()  # the timeouts that ran out meanwhile close their sessions
        if asked == "html" and "application/json" in request.headers.get("accept", ""):
            asked = "json"
        cached = self.drawn.get(asked)
        if cached is None or cached[0] != self.fed:
            # The records are taken here, on the event loop, so that no session is half-fed;
            # the roll-ups and the page are drawn in a thread, so that a large report does
            # not hold up the requests arriving meanwhile.
            version, records = self.fed, self.reporter.snapshot()
            content = await asyncio.to_thread(_draw, records, self.timezone, asked)
            cached = self.drawn[asked] = (version, content)
        if asked == "json":
            return Response(cached[1], headers=_CORS, media_type="application/json")
        return HTMLResponse(cached[1], headers={**_CORS, "Cache-Control": "no-store"})


def _body(raw: bytes) -> object:
    """A request's body as JSON, or None if it is not JSON the API reads."""
    try:
        return decode_json(raw)
    except WireError:
        return None


def _report(reporter: Reporter, path: str, body: object, answer: McaResponse) -> bool:
    """Feed a request the collector took to the reporter; whether it was fed. A body the
    reporter cannot read is left out of the report and logged: the sender already has its
    answer, and the collector's figures stay right."""
    bare = path.split("?", 1)[0]
    try:
        if bare.startswith(EDGE_PATH):
            # Its body read back into the MCA body it stands for (Reporter.take_line).
            reporter.take_line({"session": answer.sid, "path": path, "status": answer.status,
                                "body": body})  # fmt: skip
        elif isinstance(body, dict):
            request = McaRequest(path, body)
            reporter.take(request, answer, sid=request.sid or answer.sid)
        elif isinstance(body, list) and bare.rstrip("/") == DOWNLOADED_PATH:
            request = McaRequest(path, cast("dict[str, Any]", body), DOWNLOADED)
            reporter.take(request, answer, sid=answer.sid)
        else:
            return False
    except Exception as exc:  # the sender has its answer: never a 500 for the report's sake
        _log.warning("/report leaves out a request to %s it cannot read: %s", bare, exc)
        return False
    return True


def _report_query(request: Request) -> tuple[str, str | None]:
    """What `/report` is asked for (html, fragment or json), or a 400's message."""
    pairs = request.query_params.multi_items()
    for name, value in pairs:
        allowed = _REPORT_QUERY.get(name)
        if allowed is None:
            return "", f"/report takes format=html|json and fragment=0|1, not {name!r}"
        if value not in allowed:
            return "", f"/report: {name} must be {' or '.join(allowed)}, not {value!r}"
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        return "", "/report: give each parameter once"
    asked = dict(pairs)
    if asked.get("fragment") == "1":
        if asked.get("format") == "json":
            return "", "/report: fragment=1 is a part of the HTML page, not of format=json"
        return "fragment", None
    return asked.get("format", "html"), None


def _draw(records: list[SessionRecord], timezone: str, asked: str) -> str | bytes:
    report = build_report(records, timezone=timezone)
    if asked == "json":
        # The bytes `write_report` writes to report.json.
        return (json.dumps(report.to_json(), indent=1) + "\n").encode("utf-8")
    if asked == "fragment":
        return fragment(report)
    return render(report, live=True)


def _record(recorder: Recorder, path: str, raw: bytes, body: object, answer: McaResponse) -> None:
    # Every POST the collector answered is a line. A body that is not a JSON object the API
    # takes (bytes that are not UTF-8, NaN, a lone surrogate, an array) was refused: its line
    # holds the bytes as text in `raw`, so the recording stays strict JSON and loses nothing.
    if isinstance(body, dict):
        request = McaRequest(path, body)
        recorder.write(request, answer, sid=request.sid or answer.sid, raw=raw)
    elif isinstance(body, list) and path.split("?", 1)[0].rstrip("/") == DOWNLOADED_PATH:
        # A downloaded session: the MCA takes it as a JSON array, one line for the whole.
        request = McaRequest(path, cast("dict[str, Any]", body), "downloaded")
        recorder.write(request, answer, sid=answer.sid, raw=raw)
    else:
        recorder.write_refused(path, raw, answer)


def _stats(collector: Collector, uptime_s: float, injected: Counter[str]) -> dict[str, Any]:
    # Counted as requests arrive (`Collector.counts`): as cheap with a million sessions seen as
    # with one, so a dashboard polling it never holds up the requests.
    counts = collector.counts()
    requests = sum(collector.statuses.values())
    return {
        "sessions": {
            "opened": counts.opened,
            # Taking events, and not yet complete.
            "open": counts.open,
            # Sent sessionComplete: open until a sessionEnd, or the idle timeout, closes them.
            "complete": counts.complete,
            "closed": sum(counts.closed.values()),
            "closed_by": dict(sorted(counts.closed.items())),
            # Of the closed: closed longer ago than the retention, and let go (`--retention`).
            "forgotten": counts.forgotten,
        },
        "requests": requests,
        "requests_per_second": round(requests / uptime_s, 2) if uptime_s > 0 else 0.0,
        "by_event_type": dict(sorted(collector.requests_by_event.items())),
        "by_status": {str(code): n for code, n in sorted(collector.statuses.items())},
        "conformance_problems": dict(sorted(counts.problems.items())),
        # Faults answered instead of the collector (--fail-rate, --drop): not in the figures
        # above, nor in --record, which hold what the collector itself handled.
        "injected_faults": dict(sorted(injected.items())),
        "uptime_seconds": round(uptime_s, 1),
    }


def _page(figures: dict[str, Any]) -> str:
    def table(title: str, rows: dict[str, Any]) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows.items()
        )
        return f"<h2>{title}</h2><table>{cells or '<tr><td>none</td></tr>'}</table>"

    sessions = figures["sessions"]
    summary = {
        "opened": sessions["opened"],
        "open": sessions["open"],
        "complete (awaiting sessionEnd or the idle timeout)": sessions["complete"],
        **{f"closed by {reason}": n for reason, n in sessions["closed_by"].items()},
        "of the closed, forgotten (past the retention)": sessions["forgotten"],
        "requests": figures["requests"],
        "requests per second": figures["requests_per_second"],
        "uptime (s)": figures["uptime_seconds"],
    }
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'><title>playersim collector</title>"
        "<style>body{font-family:sans-serif}td{padding:2px 12px}</style></head><body>"
        "<h1>playersim collector</h1>"
        + table("Sessions and requests", summary)
        + table("Requests by event type", figures["by_event_type"])
        + table("Requests by status", figures["by_status"])
        + table("Conformance problems by rule", figures["conformance_problems"])
        + table("Injected faults (not handled by the collector)", figures["injected_faults"])
        + "<p>JSON: <a href='/stats?format=json'>/stats?format=json</a></p>"
        + "<p>What Adobe's reporting would show for these sessions: "
        "<a href='/report'>/report</a></p></body></html>"
    )
