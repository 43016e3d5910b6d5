"""Recordings compressed by their name: `--record day.ndjson.gz` (gzip) or `.zst` (Zstandard)
holds exactly the bytes `--record day.ndjson` does, and everything that reads a recording reads
them, whatever their name; one cut short or damaged is said in a line naming the file, after
the lines before the damage."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import zstandard

from playersim.cli.app import main
from playersim.compression import CompressionError, RecordingFile
from playersim.mca.api import Request, Response
from playersim.mca.wire import make_body
from playersim.transports.recording import Recorder, read_recording
from tests.waiting import BOUND_S, wait_until

SUFFIXES = [".gz", ".zst"]
RUN = ["run", "--sessions", "12", "--seed", "3", "--api", "mca"]


def decompress(data: bytes) -> bytes:
    """A compressed file's bytes, read by the format's own library (every stream of it)."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data)
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    return bytes(reader.read())


def compressor(suffix: str) -> Callable[[bytes], bytes]:
    """An independent writer of the format: what other tools write."""
    if suffix == ".gz":
        return gzip.compress
    return zstandard.ZstdCompressor().compress


def cut_short(suffix: str, text: bytes) -> bytes:
    """`text` compressed by a writer killed after it flushed: every byte readable, no end."""
    if suffix == ".gz":
        gz = zlib.compressobj(6, zlib.DEFLATED, 31)
        return gz.compress(text) + gz.flush(zlib.Z_SYNC_FLUSH)
    zst = zstandard.ZstdCompressor().compressobj()
    return zst.compress(text) + zst.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


def damaged(suffix: str, text: bytes) -> bytes:
    """`text` compressed, then a block no decoder takes (a reserved block type) in the same
    stream: a file damaged just after `text`."""
    return cut_short(suffix, text) + (b"\x07" if suffix == ".gz" else b"\x07\x00\x00") + b"?" * 64


def lines_of(count: int) -> bytes:
    return b"".join(b'{"session":"s%d","status":204}\n' % n for n in range(count))


def request(n: int) -> tuple[Request, Response]:
    body = make_body("ping", n * 10_000, 1_000 + n * 10_000)
    return Request("/api/v1/sessions/s/events", body), Response(204)


def recorded_until_damage(path: Path) -> tuple[list[dict[str, object]], CompressionError]:
    """The lines `read_recording` gives, and the error it raises after them."""
    lines: list[dict[str, object]] = []
    with pytest.raises(CompressionError) as raised:
        lines.extend(read_recording(path))
    return lines, raised.value


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same run recorded plain, gzip and Zstandard, by the command line."""
    folder = tmp_path_factory.mktemp("recordings")
    paths = {suffix: folder / f"run.ndjson{suffix}" for suffix in ["", *SUFFIXES]}
    for path in paths.values():
        assert main([*RUN, "--record", str(path)]) == 0
    return paths


def test_a_compressed_recording_holds_the_plain_recordings_bytes(
    recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Decompressed by gzip's or zstd's own library, `--record x.ndjson.gz` and `.zst` are
    byte for byte `--record x.ndjson` of the same run, and smaller; the same run compresses
    to the same bytes again."""
    plain = recordings[""].read_bytes()
    for suffix in SUFFIXES:
        packed = recordings[suffix].read_bytes()
        assert decompress(packed) == plain
        assert len(packed) < len(plain) / 5
    again = tmp_path / "again.ndjson.gz"
    assert main([*RUN, "--record", str(again)]) == 0
    capsys.readouterr()
    assert again.read_bytes() == recordings[".gz"].read_bytes()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_report_and_replay_of_a_compressed_recording_say_what_the_plain_ones_do(
    recordings: dict[str, Path], suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    said = {}
    for name in ("", suffix):
        path = str(recordings[name])
        assert main(["report", path, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert main(["replay", path]) == 0
        # (The title names the file and the time taken; the summary below it is the replay's.)
        replayed = capsys.readouterr().out.split("\n", 1)[1]
        said[name] = (report, replayed)
        assert list(read_recording(path)) == list(read_recording(recordings[""]))
    assert said[suffix] == said[""]
    assert said[""][0]["sessions"] > 0


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_misnamed_recording_is_read_by_what_it_holds(
    recordings: dict[str, Path], suffix: str, tmp_path: Path
) -> None:
    """A compressed file without its suffix, and a plain one with one, read as they are."""
    plain_named = tmp_path / "compressed.ndjson"
    shutil.copy(recordings[suffix], plain_named)
    suffix_named = tmp_path / f"plain.ndjson{suffix}"
    shutil.copy(recordings[""], suffix_named)
    expected = list(read_recording(recordings[""]))
    assert list(read_recording(plain_named)) == expected
    assert list(read_recording(suffix_named)) == expected


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("command", ["report", "replay"])
def test_a_recording_cut_short_exits_2_naming_the_file_and_the_last_whole_line(
    suffix: str, command: str, recordings: dict[str, Path], tmp_path: Path
) -> None:
    """A compressed recording a writer left without its end (killed, a copy cut off): one
    line on stderr, the file and how many lines were whole before it, exit 2, no traceback."""
    whole = recordings[""].read_bytes().splitlines(keepends=True)
    path = tmp_path / f"cut.ndjson{suffix}"
    path.write_bytes(cut_short(suffix, b"".join(whole[:40]) + whole[40][:25]))
    result = subprocess.run(
        [sys.executable, "-m", "playersim", command, str(path)],
        capture_output=True, text=True, timeout=BOUND_S, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{path}: cut short after line 40: " in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_reading_a_damaged_recording_gives_every_line_before_the_damage(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lines before damage inside a compressed stream come out, all of them, then an
    error naming the file and where; `playersim report` says it in one line, exit 2."""
    path = tmp_path / f"damaged.ndjson{suffix}"
    path.write_bytes(damaged(suffix, lines_of(1_000)))
    lines, error = recorded_until_damage(path)
    assert len(lines) == error.lines == 1_000
    assert str(error).startswith(f"{path}: not valid ")
    assert "after line 1,000" in str(error)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"playersim report: error: {path}: not valid ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_bytes_after_a_compressed_recording_are_damage(suffix: str, tmp_path: Path) -> None:
    """Bytes after the last stream that are not another (a copy gone wrong): every line,
    then an error, never the bytes read as something."""
    path = tmp_path / f"tail.ndjson{suffix}"
    path.write_bytes(compressor(suffix)(lines_of(5)) + b"not compressed\n")
    lines, error = recorded_until_damage(path)
    assert len(lines) == 5
    assert "not valid" in str(error)
    assert "after line 5" in str(error)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_flushed_line_is_readable_while_the_recording_is_written(
    suffix: str, tmp_path: Path
) -> None:
    """`flush_each` (what `playersim serve` records with) pushes each line through the
    compressor: a reader sees it at once, and a writer killed then loses no whole line."""
    path = tmp_path / f"live.ndjson{suffix}"
    recorder = Recorder(path, flush_each=True)
    try:
        for n in range(3):
            recorder.write(*request(n), sid="s")
            lines, error = recorded_until_damage(path)
            assert [line["body"] for line in lines] == [request(i)[0].body for i in range(n + 1)]
            assert "cut short after line" in str(error)
    finally:
        recorder.close()
    assert len(list(read_recording(path))) == 3


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_appending_to_a_compressed_recording_adds_a_stream(suffix: str, tmp_path: Path) -> None:
    """Appended to (a restarted `serve --record`), a compressed recording that ends cleanly
    is kept byte for byte and gets a new gzip member or Zstandard frame: every reader reads
    the old lines, then the new."""
    path = tmp_path / f"kept.ndjson{suffix}"
    before = compressor(suffix)(lines_of(3))
    path.write_bytes(before)
    with Recorder(path, append=True) as recorder:
        assert recorder.kept == len(before)
        recorder.write(*request(0), sid="s")
    assert path.read_bytes().startswith(before)
    lines = decompress(path.read_bytes()).splitlines()
    assert lines[:3] == lines_of(3).splitlines()
    assert json.loads(lines[3])["body"] == request(0)[0].body
    assert len(list(read_recording(path))) == 4


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_appending_to_a_recording_a_crash_cut_short_keeps_every_whole_line(
    suffix: str, tmp_path: Path
) -> None:
    """A recording whose writer was killed (no end to its stream, a line half written) is
    made whole before it is appended to: its whole lines kept, the torn one moved to
    FILE.partial as a plain recording's is, and the file reads to its end again."""
    path = tmp_path / f"crashed.ndjson{suffix}"
    path.write_bytes(cut_short(suffix, lines_of(3) + b'{"c":'))
    with Recorder(path, append=True) as recorder:
        assert recorder.kept == path.stat().st_size
        recorder.write(*request(0), sid="s")
    lines = decompress(path.read_bytes()).splitlines()
    assert lines[:3] == lines_of(3).splitlines()
    assert json.loads(lines[3])["body"] == request(0)[0].body
    assert len(lines) == 4
    assert (tmp_path / f"crashed.ndjson{suffix}.partial").read_bytes() == b'{"c":\n'
    assert not list(tmp_path.glob("*.mending"))


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    ("holds", "says"),
    [
        (lambda suffix: damaged(suffix, lines_of(3)), "cannot append to it: not valid"),
        (lambda suffix: lines_of(3), "holds plain text, not"),
        (lambda suffix: compressor(".zst" if suffix == ".gz" else ".gz")(b"{}\n"), "data, not"),
    ],
    ids=["damaged", "plain", "other-format"],
)
def test_a_compressed_recording_that_cannot_be_appended_to_is_left_alone(
    suffix: str, holds: Callable[[str], bytes], says: str, tmp_path: Path
) -> None:
    """Damaged inside, or not in the format its name says: appending would make a file no
    reader reads to the end, so it is refused, naming the file, and left as it was."""
    path = tmp_path / f"bad.ndjson{suffix}"
    path.write_bytes(holds(suffix))
    before = path.read_bytes()
    with pytest.raises(CompressionError, match=says) as raised:
        Recorder(path, append=True)
    assert str(raised.value).startswith(f"{path}: ")
    assert path.read_bytes() == before


def test_without_zstandard_a_zst_name_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the zstd extra, `--record x.zst` exits 2 before the run, naming the file and
    the install, and makes no file; reading a Zstandard recording says the same."""
    packed = tmp_path / "given.ndjson.zst"
    packed.write_bytes(compressor(".zst")(lines_of(2)))
    monkeypatch.setitem(sys.modules, "zstandard", None)  # (what an import finds uninstalled)
    target = tmp_path / "run.ndjson.zst"
    assert main(["run", "--sessions", "1", "--record", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"playersim run: error: --record: {target}: writing Zstandard needs the zstandard "
        "package: pip install 'playersim[zstd]' (from a clone: pip install '.[zstd]')\n"
    )
    assert not target.exists()
    for command in ("report", "replay"):
        assert main([command, str(packed)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"{packed}: reading Zstandard needs the zstandard package" in err


@pytest.mark.slow
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_playersim_serve_killed_and_restarted_keeps_its_compressed_recording(
    suffix: str, recordings: dict[str, Path], tmp_path: Path
) -> None:
    """`serve --record in.ndjson.gz` killed outright (SIGKILL: no chance to end the stream)
    and started again on the file: each request recorded before the kill is still there,
    readable while the server ran, and the file reads to its end once the second stops."""
    record = tmp_path / f"in.ndjson{suffix}"
    start = next(read_recording(recordings[""]))["body"]
    for run, stop in enumerate([signal.SIGKILL, signal.SIGTERM]):
        process = subprocess.Popen(
            [sys.executable, "-m", "playersim", "serve", "--port", "0", "--record", str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            answer = httpx.post(f"{url}/api/v1/sessions", json=start, timeout=BOUND_S)
            assert answer.status_code == 201

            def seen(count: int = run + 1) -> bool:
                try:
                    return len(list(read_recording(record))) == count
                except CompressionError as exc:  # (cut short: the stream is still open)
                    return exc.lines == count

            wait_until(seen, "the request's line, readable in the recording")
        finally:
            process.send_signal(stop)
            _, err = process.communicate(timeout=BOUND_S)
        if run == 1:
            assert "appending to the" in err, err
    assert [line["status"] for line in read_recording(record)] == [201, 201]


@pytest.mark.parametrize("suffix", ["", *SUFFIXES])
@pytest.mark.parametrize(
    ("text", "last"),
    [
        (lines_of(3), b'{"session":"s2","status":204}'),
        (lines_of(3) + b"\n\n", b'{"session":"s2","status":204}'),  # blank lines after it
        (b'{"only":1}', b'{"only":1}'),  # no newline at the end
        (b"", b""),
    ],
)
def test_the_last_line_of_a_recording_is_read_plain_or_compressed(
    suffix: str, text: bytes, last: bytes, tmp_path: Path
) -> None:
    """`RecordingFile.last_line`, which `playersim merge` reads a part's summary line with,
    gives the last line that has anything on it, whether the file is plain (read from its end)
    or compressed (read through); a plain file longer than the megabyte it reads from its end
    gives its last line all the same."""
    path = tmp_path / f"r.ndjson{suffix}"
    path.write_bytes(compressor(suffix)(text) if suffix else text)
    with RecordingFile(path) as stream:
        assert stream.last_line() == last
    if not suffix:
        long = tmp_path / "long.ndjson"
        long.write_bytes(lines_of(60_000) + b'{"part":{}}\n')  # about 2 MB
        with RecordingFile(long) as stream:
            assert stream.last_line() == b'{"part":{}}'
