"""Recordings: every request of a run as NDJSON, one line per request, in the order received.

The format is a contract other code relies on (ARCHITECTURE.md): each line is a JSON object with
at least `session` (the sid, or null for a sessionStart that got none), `path`, `status` (null
when the request got no answer) and `body` (the exact JSON body sent). Non-2xx lines add
`message`; unanswered ones add `error`. Keys keep their meaning as more are added.

Every line is strict JSON (RFC 8259: no NaN, no lone surrogate), which any reader takes (jq, a
pipeline's parser). A body that cannot be written so (a refused one: bytes that are not UTF-8,
or JSON that Python reads but RFC 8259 does not) is recorded with `"body": null` and the bytes
as they came in `raw`, as text with each byte that is not UTF-8 written `\\xNN`.

Lines are written compactly with keys in a fixed order, so the same run gives the same bytes.
A line is put together from the bytes of the request's body as it was sent (`Request.content`,
made once per request), not encoded again; only a body that is not strict JSON (or a line
whose other values are not plain strings and numbers) is worked out the slow way, as a whole.

A file named `*.gz` or `*.zst` is written compressed (gzip, Zstandard: `playersim.compression`),
the same bytes inside; `read_recording` reads either, whatever the name.
"""

from __future__ import annotations

import heapq
import json
import stat
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Final, Protocol

from playersim.compression import (
    CompressionError,
    RecordingFile,
    codec_of_name,
    open_compressed,
)
from playersim.mca.api import Request, Response

__all__ = ["PartError", "Recorder", "merge_parts", "read_part", "read_recording"]


class _File(Protocol):
    """A file recording lines: plain (a buffered file) or compressed (a `CompressedWriter`)."""

    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class Recorder:
    """Writes recording lines to a text stream (or a file it opens and owns).

    A file is written afresh, or with `append=True` added to: what a collector that restarts
    wants, so that a crash and a restart lose nothing recorded before. A file that a crash left
    ending in part of a line gets that part moved to `FILE.partial`, so every line stays JSON.

    A file named `*.gz` or `*.zst` is compressed (gzip, Zstandard). Appended to, it gets a new
    gzip member or Zstandard frame, once it is found to end cleanly; one a crash cut short is
    first written again with its whole lines (`playersim.compression.mend_for_append`), and one
    damaged, or in another format, is refused with a `CompressionError`. With `flush_each`,
    each line is flushed through the compressor, so a reader following the file sees it at
    once (and a kill loses no whole line), at a cost in size (docs/command-line.md).
    """

    def __init__(
        self, target: str | Path | IO[str], *, flush_each: bool = False, append: bool = False
    ) -> None:
        self.kept = 0  # bytes the file already held when it was opened to append
        # A file is written as bytes, each line encoded once (strictly, by `_strict`); a text
        # stream handed in (a test's StringIO, say) takes the same lines as text.
        self._file: _File | None = None
        self._text: IO[str] | None = None
        if isinstance(target, str | Path):
            if (codec := codec_of_name(target)) is not None:
                self._file, self.kept = open_compressed(target, codec, append=append)
            else:
                if append:
                    self.kept = _mend_for_append(Path(target))
                self._file = open(target, "ab" if append else "wb")  # noqa: SIM115
        else:
            self._text = target
        self._flush_each = flush_each
        self.lines = 0
        # The start of a line, `{"session":...,"path":...`, by session and path: the same for
        # every event of a session (`_head`).
        self._heads: dict[tuple[str | None, str], bytes] = {}

    def write(
        self,
        request: Request,
        response: Response | None,
        *,
        sid: str | None,
        error: str | None = None,
        raw: bytes | None = None,
        seq: int | None = None,
    ) -> None:
        """One request and its answer. `raw`: the bytes the body came as, if they are known
        (a server's): written instead of the body if the body cannot be strict JSON. `seq`:
        the line's number in a shared run's whole recording (a part's line, for the merge:
        written first, as `"seq"`)."""
        body = request.strict_content
        if body is not None:
            # Nearly every line: the body's bytes as sent, the rest around them.
            try:
                text = _line(self._head(sid, request.path), response, body, error)
            except (ValueError, TypeError):
                pass  # a value that is not a plain str or int, or a lone surrogate: below
            else:
                self._emit(text, seq)
                return
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
        try:
            text = _strict(line)
        except (ValueError, TypeError):
            # NaN, a lone surrogate, a number read as infinite, or a value JSON has no form
            # for: the body as it came (or, handed over in memory, as Python sees it).
            if raw is None:
                raw = json.dumps(request.body, allow_nan=True, default=repr).encode()
            text = _strict(_with_raw(line, raw))
        self._emit(text, seq)

    def _emit(self, text: bytes, seq: int | None) -> None:
        """A request's line written (numbered `seq`, a part's line, if given)."""
        if seq is not None:
            text = b'{"seq":%d,%s' % (seq, text[1:])
        if self._file is not None and not self._flush_each:
            # A run's every request comes this way: the line's bytes straight to the buffer.
            self._file.write(text)
            self.lines += 1
        else:
            self._put(text)

    def write_lines(self, lines: Iterator[bytes]) -> None:
        """Lines as they are (each a recording line's bytes, newline included): a merge's."""
        for line in lines:
            self._put(line)

    def write_part(self, about: dict[str, Any]) -> None:
        """A part's last line: what `merge_parts` needs to know of the part (`read_part`)."""
        self._put(_strict({"part": about}))

    def _head(self, sid: str | None, path: str) -> bytes:
        """`{"session":<sid>,"path":<path>` as JSON (TypeError, ValueError: not plain str)."""
        if type(path) is not str or not (sid is None or type(sid) is str):
            return _head(sid, path)  # (raises: the line is worked out the slow way)
        key = (sid, path)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _HEADS_KEPT:
                self._heads.clear()  # sessions long over, mostly: made again if asked
            head = self._heads[key] = _head(sid, path)
        return head

    def write_refused(self, path: str, raw: bytes, response: Response) -> None:
        """A request whose body is not a JSON object (refused with a 4xx): its bytes as `raw`."""
        line: dict[str, Any] = {"session": None, "path": path, "status": response.status}
        if response.message is not None:
            line["message"] = response.message
        self._put(_strict(_with_raw(line, raw)))

    def _put(self, line: bytes) -> None:
        if self._file is not None:
            self._file.write(line)
            if self._flush_each:
                self._file.flush()
        elif self._text is not None:
            self._text.write(line.decode())
            if self._flush_each:
                self._text.flush()
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        elif self._text is not None:
            self._text.flush()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# JSON's string for a str, as `json.dumps(ensure_ascii=False)` writes it (C, where there is C).
_quote: Final = encode_basestring
_STATUSES: Final = {status: b',"status":%d,"body":' % status for status in (200, 201, 204)}


def _text(value: object) -> bytes:
    """A str as JSON in UTF-8 (TypeError for anything else, UnicodeEncodeError, a ValueError,
    for a lone surrogate): what the line dict would have held, as json writes it."""
    if type(value) is not str:
        raise TypeError(f"not a str: {type(value).__name__}")
    return _quote(value).encode("utf-8")


# Line starts kept by a recorder: more than the sessions a run has open at once, as a rule.
_HEADS_KEPT: Final = 1 << 16


def _head(sid: str | None, path: str) -> bytes:
    return b'{"session":' + (b"null" if sid is None else _text(sid)) + b',"path":' + _text(path)


def _line(head: bytes, response: Response | None, body: bytes, error: str | None) -> bytes:
    """The bytes `_strict` makes of the line dict `Recorder.write` would build, put together
    from its start (`_head`) and the body's bytes as sent: the same keys, in the same order,
    written the same way."""
    if response is None:
        status = b',"status":null,"body":'
        message = None
    else:
        code = response.status
        if type(code) is not int:
            raise TypeError(f"not an int: {type(code).__name__}")
        status = _STATUSES.get(code) or b',"status":%d,"body":' % code
        message = response.message
    if message is None and error is None:
        return head + status + body + b"}\n"  # nearly every line
    parts = [head, status, body]
    if message is not None:
        parts += (b',"message":', _text(message))
    if error is not None:
        parts += (b',"error":', _text(error))
    parts.append(b"}\n")
    return b"".join(parts)


def _with_raw(line: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """`line` with `"body": null` and the bytes in `raw`, as text (a byte that is not UTF-8
    written `\\xNN`), keys in the recording's order."""
    keys = ("session", "path", "status")
    return {
        **{key: line[key] for key in keys},
        "body": None,
        "raw": raw.decode("utf-8", "backslashreplace"),
        **{key: value for key, value in line.items() if key not in (*keys, "body")},
    }


_STRICT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _strict(line: dict[str, Any]) -> bytes:
    """The line as strict JSON in UTF-8, newline included (ValueError if it cannot be: NaN,
    a lone surrogate)."""
    # ensure_ascii=False leaves a lone surrogate in the str as it is, and UTF-8 has no bytes
    # for it: the strict encoding is the check (UnicodeEncodeError is a ValueError).
    return (_STRICT.encode(line) + "\n").encode("utf-8")


def _mend_for_append(path: Path) -> int:
    """Make `path` ready to append lines to; returns how many bytes it holds. A last line cut
    short (its writer was killed mid-line) is moved to `path.partial`, rather than left to run
    into the next line written. Only a regular file is looked at: a pipe or a FIFO (`--record
    /dev/stdout`) is simply appended to."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return 0
    if not stat.S_ISREG(info.st_mode):
        return 0
    size = info.st_size
    with open(path, "rb+") as stream:
        tail = b""
        end = size
        # Back from the end, a block at a time, to the last newline: a recording can be GBs.
        while end > 0 and b"\n" not in tail:
            start = max(0, end - (1 << 16))
            stream.seek(start)
            tail = stream.read(end - start) + tail
            end = start
        if tail and not tail.endswith(b"\n"):
            torn = tail[tail.rfind(b"\n") + 1 :]
            with open(path.with_name(path.name + ".partial"), "ab") as partial:
                partial.write(torn + b"\n")
            stream.truncate(size - len(torn))
            size -= len(torn)
    return size


def read_recording(path: str | Path) -> Iterator[dict[str, Any]]:
    """The lines of a recording, decoded: plain, gzip or Zstandard, told by its first bytes
    (a compressed one cut short or damaged gives its lines before the damage, then raises
    `playersim.compression.CompressionError`)."""
    with RecordingFile(path) as stream:
        for line in stream:
            if line.strip():
                yield json.loads(line.decode("utf-8"))


# A part of a run made in shares (`playersim.engines.shares`): its lines are recording lines
# with `"seq"` first, their number in the whole run's recording, and its last line says
# what the part is (`{"part": {...}}`, `Recorder.write_part`).
_SEQ: Final = b'{"seq":'
_PART: Final = b'{"part":'


class PartError(ValueError):
    """A file that is not a part `merge_parts` can join, or parts that do not go together: the
    message names the file and what is wrong."""


def read_part(path: str | Path) -> dict[str, Any]:
    """What a part's last line says of it (PartError if the file is not a whole part)."""
    try:
        with RecordingFile(path) as stream:
            last = stream.last_line()
    except OSError as exc:
        raise PartError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except CompressionError as exc:
        raise PartError(str(exc)) from None
    if not last.startswith(_PART):
        raise PartError(
            f"{path}: not a whole part of a shared run: its last line is not its "
            '{"part": ...} line (a recording made without --shard, or a part cut short)'
        )
    try:
        about = json.loads(last)["part"]
    except (ValueError, KeyError) as exc:
        raise PartError(f"{path}: its part line is not JSON: {exc}") from None
    if not isinstance(about, dict):
        raise PartError(f"{path}: its part line says {about!r}, not an object")
    return about


def merge_parts(
    parts: Sequence[str | Path], *, keep_seq: bool = False, stopped: bool = False
) -> Iterator[bytes]:
    """The lines of the parts of a shared run, in the order of the whole run's recording: each
    line as one process would have written it (or, `keep_seq`, still numbered, for a part made
    of parts). A part's own last line (`read_part`) is not among them. PartError if a line is
    not a numbered recording line, or two parts hold the same line.

    `stopped`: the run was stopped (Ctrl-C, SIGTERM), each process at its own instant, so the
    parts' numbers part ways after the first stop: lines with the same number are kept, in the
    order of the parts. Each session's lines are still in their order."""
    streams = [_numbered(Path(part)) for part in parts]
    last = -1
    where = ""
    for seq, line, source in heapq.merge(*streams, key=lambda item: item[0]):
        if seq <= last and not stopped:
            raise PartError(
                f"{source}: line {seq:,} of the run is in {where} too: the parts overlap "
                "(the same share given twice, or parts of different runs)"
            )
        last, where = seq, source
        yield line if keep_seq else b"{" + line[line.index(b",", 7) + 1 :]


def _numbered(path: Path) -> Iterator[tuple[int, bytes, str]]:
    source = str(path)
    try:
        stream = RecordingFile(path)
    except OSError as exc:
        raise PartError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    except CompressionError as exc:
        raise PartError(str(exc)) from None
    with stream:
        before = -1
        for number, line in _damage_said(enumerate(stream, 1)):
            if line.startswith(_SEQ):
                try:
                    seq = int(line[7 : line.index(b",", 7)])
                except ValueError:
                    seq = -1
                if seq > before:
                    before = seq
                    yield seq, line, source
                    continue
            elif line.startswith(_PART):
                return
            raise PartError(
                f"{source}: line {number:,} is not a numbered line of a part in order "
                f"({line[:60]!r}): a part is written by `playersim run --shard K/N --record`"
            )
    raise PartError(f"{source}: the part ends before its part line: it was cut short")


def _damage_said(lines: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """A compressed part's lines, its damage said as a PartError."""
    try:
        yield from lines
    except CompressionError as exc:
        raise PartError(str(exc)) from None
