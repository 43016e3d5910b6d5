"""Compressed recordings: gzip or Zstandard, chosen by the file's name when one is written
(`day.ndjson.gz`, `day.ndjson.zst`) and by its first bytes when one is read, so a misnamed file
still reads.

What is compressed is exactly the bytes a plain recording holds: decompressed, `day.ndjson.gz`
is byte for byte `day.ndjson` of the same run.

gzip is the standard library's; Zstandard needs the `zstandard` package (the `zstd` extra),
imported only when a `.zst` file is written or a Zstandard one read, and said in one line
(`CompressionError`) when it is not installed.

Both formats allow a file to be several compressed streams one after the other (gzip members,
Zstandard frames), which every reader (`gzip -dc`, `zstd -dc`, Python's `gzip`) reads as one:
appending to a compressed recording adds a stream. `flush()` makes everything written so far
readable by a reader that follows the file (a sync flush, a Zstandard block flush) at a cost
in size; a writer killed before `close()` leaves its stream without its end, which readers
report as cut short, after the lines it holds.
"""

from __future__ import annotations

import os
import shutil
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, Literal, Protocol

from playersim.errors import PlayersimError

if TYPE_CHECKING:
    from types import ModuleType, TracebackType

__all__ = [
    "GZIP_LEVEL",
    "ZSTD_LEVEL",
    "Codec",
    "CompressedWriter",
    "CompressionError",
    "RecordingFile",
    "codec_of_name",
    "mend_for_append",
    "open_compressed",
]

Codec = Literal["gzip", "zstd"]

# Measured on a recording of 300 sessions (18 MB) and a slice of a 20,000-viewer day
# (docs/pipelines.md): levels 1 to 5 write a file 14 to 52% larger than 6 for at most a third
# less time, 9 saves 1 to 5% more for 40% more time. Beside the run that makes the lines (11 s
# for those 18 MB), level 6 costs under 2%.
GZIP_LEVEL: Final = 6
# Zstandard's own default: as small as levels 2 and 4, at 400 MB/s (6: 10 to 12% smaller, at
# a third to a fifth of the speed).
ZSTD_LEVEL: Final = 3

_SUFFIXES: Final[dict[str, Codec]] = {".gz": "gzip", ".zst": "zstd"}
_MAGIC: Final[dict[Codec, bytes]] = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}
_NAMES: Final[dict[Codec, str]] = {"gzip": "gzip", "zstd": "Zstandard"}
_INSTALL: Final = "pip install 'playersim[zstd]' (from a clone: pip install '.[zstd]')"
# Compressed bytes read (and plain bytes compressed) at a time: large enough that a line costs
# no call into the compressor of its own, small enough to bound what one call decompresses.
_CHUNK: Final = 1 << 16
# Bytes fed at a time to find how far damaged data still decodes (`_salvaged`): one, so that
# the bytes just before the damage are not lost with the call that meets it.
_SALVAGE: Final = 1


class CompressionError(PlayersimError):
    """A compressed recording that cannot be read or written: cut short, damaged, in another
    format than its name says (to append to), or Zstandard without the `zstandard` package.

    `path` is the file, `reason` what is wrong with it (the message is both), `lines` how many
    whole lines were read before the damage (None: not a damage found while reading)."""

    def __init__(self, path: str, reason: str, *, lines: int | None = None) -> None:
        self.path, self.reason, self.lines = path, reason, lines
        super().__init__(f"{path}: {reason}")


def codec_of_name(path: str | os.PathLike[str]) -> Codec | None:
    """The compression a recording's name asks for (`.gz`, `.zst`), or None: plain NDJSON."""
    return _SUFFIXES.get(Path(path).suffix.lower())


def _codec_of_bytes(head: bytes) -> Codec | None:
    """The compression a file's first bytes say (a recording's plain text never starts so)."""
    for codec, magic in _MAGIC.items():
        if head.startswith(magic):
            return codec
    return None


def _zstandard(path: str, doing: str) -> ModuleType:
    """The `zstandard` module, or a CompressionError saying how to install it."""
    try:
        import zstandard  # noqa: PLC0415 - the zstd extra, only for .zst files
    except ImportError:
        raise CompressionError(
            path, f"{doing} Zstandard needs the zstandard package: {_INSTALL}"
        ) from None
    return zstandard


# --- writing --------------------------------------------------------------------------------


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def sync(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    def __init__(self) -> None:
        # wbits 31: a gzip member, its header with no name and no time, so the same lines give
        # the same file.
        self._zlib = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def compress(self, data: bytes) -> bytes:
        return self._zlib.compress(data)

    def sync(self) -> bytes:
        return self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._zlib.flush(zlib.Z_FINISH)


class _Zstd:
    def __init__(self, path: str) -> None:
        self._module = _zstandard(path, "writing")
        # With a checksum of the content, so damage inside the frame is found when it is read.
        compressor = self._module.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True)
        self._stream = compressor.compressobj()

    def compress(self, data: bytes) -> bytes:
        return bytes(self._stream.compress(data))

    def sync(self) -> bytes:
        return bytes(self._stream.flush(self._module.COMPRESSOBJ_FLUSH_BLOCK))

    def finish(self) -> bytes:
        return bytes(self._stream.flush(self._module.COMPRESSOBJ_FLUSH_FINISH))


def _compressor(codec: Codec, path: str) -> _Compressor:
    return _Gzip() if codec == "gzip" else _Zstd(path)


class CompressedWriter:
    """Bytes written to a file compressed, as one gzip member or Zstandard frame, ended by
    `close()`. `flush()` makes what was written so far readable at once."""

    def __init__(self, file: IO[bytes], codec: Codec, *, name: str = "") -> None:
        # The compressor first: a missing zstandard is said before anything is written.
        self._compressor = _compressor(codec, name or str(getattr(file, "name", "")))
        self._file = file
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= _CHUNK:
            self._push()
        return len(data)

    def flush(self) -> None:
        self._push()
        self._file.write(self._compressor.sync())
        self._file.flush()

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            self._push()
            self._file.write(self._compressor.finish())
        finally:
            self._file.close()

    def _push(self) -> None:
        if self._pending:
            self._file.write(self._compressor.compress(bytes(self._pending)))
            self._pending.clear()


def open_compressed(
    path: str | Path, codec: Codec, *, append: bool = False
) -> tuple[CompressedWriter, int]:
    """A recording file to write compressed, and how many bytes it already held (appended to:
    see `mend_for_append`; else it is written afresh)."""
    name = os.fspath(path)
    if codec == "zstd":
        _zstandard(name, "writing")  # before the file is made, or emptied
    kept = mend_for_append(Path(path), codec) if append else 0
    file = open(path, "ab" if append else "wb")  # noqa: SIM115 - the writer closes it
    return CompressedWriter(file, codec, name=name), kept


def mend_for_append(path: Path, codec: Codec) -> int:
    """Make a compressed recording ready to have a stream appended to it; how many bytes it
    holds then.

    The file is read through, once. One that ends cleanly (every stream whole, its text ending
    in a newline) is kept as it is. One whose last stream is cut short (a writer killed before
    it closed it: what `flush()` made readable is there) is written again, whole, with every
    whole line it holds, and the torn last line, if any, moved to `FILE.partial` as a plain
    recording's is; the new file replaces the old only once it is complete. One damaged
    inside, or in another format than its name says, is refused (CompressionError): appending
    to it would make a file no reader reads to the end. A pipe or a FIFO is appended to as it
    is.
    """
    name = os.fspath(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return 0
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return 0
    with open(path, "rb") as stream:
        found = _codec_of_bytes(stream.read(4))
        if found != codec:
            what = f"{_NAMES[found]} data" if found else "plain text"
            raise CompressionError(
                name,
                f"holds {what}, not {_NAMES[codec]}: appending to it would leave a file no "
                "reader reads to the end (record to another name)",
            )
        stream.seek(0)
        last = b"\n"
        lines = 0
        try:
            for chunk in _decoded(stream, codec, name):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        except _CutShortError:
            pass
        except _DamagedError as damage:
            raise CompressionError(
                name, f"cannot append to it: {damage.says(codec, lines)}", lines=lines
            ) from None
        else:
            if last == b"\n":
                return info.st_size
    _rewrite_whole(path, codec)
    return path.stat().st_size


def _rewrite_whole(path: Path, codec: Codec) -> None:
    """`path` compressed again with its whole lines, its torn last line to `path.partial`."""
    name = os.fspath(path)
    mending = path.with_name(path.name + ".mending")
    rest = b""
    try:
        with open(path, "rb") as source, open(mending, "wb") as target:
            writer = CompressedWriter(target, codec, name=name)
            try:
                for chunk in _decoded(source, codec, name):
                    text = rest + chunk
                    cut = text.rfind(b"\n") + 1
                    writer.write(text[:cut])
                    rest = text[cut:]
            except _CutShortError:
                pass
            writer.close()
    except _DamagedError as damage:  # (changed since it was read through: another writer?)
        mending.unlink(missing_ok=True)
        raise CompressionError(name, f"cannot append to it: {damage.detail}") from None
    except BaseException:
        mending.unlink(missing_ok=True)
        raise
    if rest:
        with open(path.with_name(path.name + ".partial"), "ab") as partial:
            partial.write(rest + b"\n")
    shutil.copymode(path, mending)
    # Only now, the file whole: a crash before this leaves the old file as it was.
    os.replace(mending, path)


# --- reading --------------------------------------------------------------------------------


# How much of a plain file's end `RecordingFile.last_line` reads.
_TAIL_BYTES: Final = 1 << 20


class RecordingFile:
    """A recording opened to read, plain or compressed (told by its first bytes): iterate it
    for its lines, as bytes with their newline (the last may have none), and close it (it is
    a context manager).

    Opening raises OSError for a file that cannot be read, CompressionError for a Zstandard
    one without the `zstandard` package. Reading a compressed file that is cut short or
    damaged gives every whole line before the damage, then raises CompressionError saying
    where (`lines`: how many came).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self.codec = _codec_of_bytes(self._file.peek(4)[:4])
            if self.codec == "zstd":
                _zstandard(self.path, "reading")
        except BaseException:
            self._file.close()
            raise

    def __iter__(self) -> Iterator[bytes]:
        if self.codec is None:
            return iter(self._file)
        return self._lines(self.codec)

    def _lines(self, codec: Codec) -> Iterator[bytes]:
        rest = b""
        count = 0
        try:
            for chunk in _decoded(self._file, codec, self.path):
                *whole, rest = (rest + chunk).split(b"\n")
                for line in whole:
                    yield line + b"\n"
                count += len(whole)
        except _DamagedError as damage:
            raise CompressionError(self.path, damage.says(codec, count), lines=count) from None
        if rest:
            yield rest

    def last_line(self) -> bytes:
        """The file's last non-empty line, without its newline (b"" if it has none).

        A plain file is read from its end, a megabyte at most (a part's last line is short,
        and a recording can be gigabytes); a compressed one has no end to seek to, so it is
        read through. Call it on a file just opened: it moves the reading position.
        """
        if self.codec is not None:
            last = b""
            for line in self:
                last = line.rstrip(b"\n") or last
            return last
        size = self._file.seek(0, os.SEEK_END)
        self._file.seek(max(0, size - _TAIL_BYTES))
        tail = self._file.read().rstrip(b"\n")
        return tail.rsplit(b"\n", 1)[-1]

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _DamagedError(Exception):
    """Compressed data that does not decode: `detail` is the decompressor's word."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)

    def says(self, codec: Codec, lines: int) -> str:
        where = f"after line {lines:,}" if lines else "before its first line"
        return f"not valid {_NAMES[codec]} data {where} ({self.detail})"


class _CutShortError(_DamagedError):
    """Compressed data that stops before the end of its stream."""

    def says(self, codec: Codec, lines: int) -> str:
        where = f"after line {lines:,}" if lines else "before its first line"
        tool = "gzip -dc" if codec == "gzip" else "zstd -dc"
        return (
            f"cut short {where}: the {_NAMES[codec]} data stops before its end (its writer "
            f"stopped before closing it?); `{tool}` recovers the lines before"
        )


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes) -> bytes: ...


def _decompressor(codec: Codec, path: str) -> tuple[Callable[[], _Decompressor], type[Exception]]:
    """How to start decompressing one stream of `codec`, and the error its decompressor raises."""
    if codec == "gzip":
        return (lambda: zlib.decompressobj(31)), zlib.error
    zstandard = _zstandard(path, "reading")
    decompressor = zstandard.ZstdDecompressor()
    error: type[Exception] = zstandard.ZstdError
    return decompressor.decompressobj, error


def _decoded(stream: IO[bytes], codec: Codec, path: str) -> Iterator[bytes]:
    """The decompressed bytes of every stream in `stream`, one after the other; _CutShortError if
    the last stops before its end, _DamagedError at data that does not decode (after what came
    before it: see `_salvaged`)."""
    start, error = _decompressor(codec, path)
    decompressor = start()
    try:
        begun = stream.tell()  # where the stream being decoded began in the file
    except OSError:  # a pipe: nothing to salvage damage with, but nothing else changes
        begun = -1
    at = begun  # where `data` begins in the file
    fed = False  # whether the stream being decoded has had any of its bytes
    data = b""
    while True:
        if not data:
            data = stream.read(_CHUNK)
            if not data:
                break
        try:
            out = decompressor.decompress(data)
        except error as exc:
            yield _salvaged(stream, start=start, error=error, begun=begun, at=at, data=data)
            raise _DamagedError(_plain(exc)) from None
        fed = True
        if out:
            yield out
        if decompressor.eof:
            # A stream ended: what follows in the file must be another (or nothing).
            rest = decompressor.unused_data
            at += len(data) - len(rest)
            begun, data, fed = at, rest, False
            decompressor = start()
        else:
            at += len(data)
            data = b""
    if fed:
        raise _CutShortError("the data stops")


def _salvaged(
    stream: IO[bytes],
    *,
    start: Callable[[], _Decompressor],
    error: type[Exception],
    begun: int,
    at: int,
    data: bytes,
) -> bytes:
    """What `data` (at `at` in the file) decodes to up to its damage, the stream it is part of
    begun at `begun`: its whole chunk's output was lost with the error, and with it lines
    before the damage. The stream is decoded again to `at`, then `data` a few bytes at a time
    until the error. (Seekable files only; a pipe gives nothing more.)"""
    if begun < 0:
        return b""
    try:
        resume = stream.tell()
        stream.seek(begun)
    except OSError:
        return b""
    decompressor = start()
    out: list[bytes] = []
    try:
        todo = at - begun
        while todo > 0:
            block = stream.read(min(_CHUNK, todo))
            if not block:
                return b""
            todo -= len(block)
            decompressor.decompress(block)  # decoded once already: its output is out
        for offset in range(0, len(data), _SALVAGE):
            out.append(decompressor.decompress(data[offset : offset + _SALVAGE]))
    except error:
        pass
    finally:
        stream.seek(resume)
    return b"".join(out)


def _plain(exc: Exception) -> str:
    """A decompressor's message without its prefix ("Error -3 while decompressing data: ",
    "zstd decompressor error: ")."""
    text = str(exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text
