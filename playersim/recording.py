"""Recordings: every request of a run as NDJSON, one line per request, in the order received.

The format is a contract other code relies on (ARCHITECTURE.md): each line is a JSON object with
at least `session` (the sid, or null for a sessionStart that got none), `path`, `status` (null
when the request got no answer) and `body` (the exact JSON body sent). Non-2xx lines add
`message`; unanswered ones add `error`. Keys keep their meaning as more are added.

Lines are written compactly with keys in a fixed order, so the same run gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from playersim.errors import TransportError
from playersim.transport import Request, Response, Transport

__all__ = ["Recorder", "RecordingTransport", "read_recording"]


class Recorder:
    """Writes recording lines to a text stream (or a file it opens and owns)."""

    def __init__(self, target: str | Path | IO[str], *, flush_each: bool = False) -> None:
        if isinstance(target, str | Path):
            # A body may hold a lone surrogate (sent as the JSON escape "\ud800"): UTF-8 has no
            # bytes for it, and backslashreplace writes it back as that same escape.
            self._stream: IO[str] = open(  # noqa: SIM115
                target, "w", encoding="utf-8", newline="\n", errors="backslashreplace"
            )
            self._owned = True
        else:
            self._stream = target
            self._owned = False
        self._flush_each = flush_each
        self.lines = 0

    def write(
        self,
        request: Request,
        response: Response | None,
        *,
        sid: str | None,
        error: str | None = None,
    ) -> None:
        line: dict[str, Any] = {
            "session": sid,
            "path": request.path,
            "status": response.status if response is not None else None,
            "body": request.body,
        }
        if response is not None and response.message is not None:
            line["message"] = response.message
        if error is not None:
            line["error"] = error
        self._stream.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.lines += 1
        if self._flush_each:
            self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()
        else:
            self._stream.flush()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingTransport:
    """Wraps a transport and records each request with its answer, then passes the answer on."""

    def __init__(self, inner: Transport, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder

    def send(self, request: Request) -> Response:
        try:
            response = self.inner.send(request)
        except TransportError as exc:
            self.recorder.write(request, None, sid=request.sid, error=exc.reason)
            raise
        self.recorder.write(request, response, sid=request.sid or response.sid)
        return response


def read_recording(path: str | Path) -> Iterator[dict[str, Any]]:
    """The lines of a recording, decoded."""
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                yield json.loads(line)
