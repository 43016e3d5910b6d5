"""`playersim replay`: a recording sent again, with new sids, in order, paced or fast."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from playersim import Collector, SystemClock, VirtualClock, read_replay, replay
from playersim.cli import main
from playersim.recording import read_recording
from playersim.server import Faults, create_app
from playersim.summary import RunStats
from playersim.transport import Request, Response
from tests.test_server import running

from .mca_server import serve


def record(path: Path, *args: str) -> list[dict[str, Any]]:
    assert main(["run", "--record", str(path), *args]) == 0
    return list(read_recording(path))


def bodies_by_session(collector: Collector) -> list[list[dict[str, Any]]]:
    sessions = [
        [event.body.model_dump(by_alias=True, exclude_none=True) for event in session.events]
        for session in collector.sessions
    ]
    return sorted(sessions, key=_first_key)


def recorded_by_session(lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        sessions[line["session"]].append(line["body"])
    return sorted(sessions.values(), key=_first_key)


def _first_key(bodies: list[dict[str, Any]]) -> str:
    return json.dumps(bodies[0], sort_keys=True)


def test_replay_in_memory_checks_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.ndjson"
    lines = record(path, "--sessions", "25", "--profile", "ugc-clip", "--profile", "live-news")
    capsys.readouterr()
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "in memory" in out
    assert "as fast as possible" in out
    assert f"requests accepted  {len(lines):>9,}".replace(" ", "") in out.replace(" ", "")
    assert "conformance: no problems" in out


def test_replay_to_a_server_sends_every_body_in_order_with_new_sids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each recorded session arrives whole and in order, under the sid the server gave it."""
    path = tmp_path / "run.ndjson"
    lines = record(path, "--sessions", "12", "--profile", "ugc-clip", "--seed", "4")
    capsys.readouterr()
    collector = Collector(SystemClock(), seed="another server")
    with serve(collector) as url:
        assert main(["replay", str(path), "--to", url, "--fast"]) == 0
    out = capsys.readouterr().out
    assert f"to {url}" in out
    assert bodies_by_session(collector) == recorded_by_session(lines)
    recorded_sids = {line["session"] for line in lines}
    assert not recorded_sids & {session.sid for session in collector.sessions}


def test_replay_keeps_the_recorded_pace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """At --speed X a recording spanning T simulated seconds takes at least T/X seconds."""
    path = tmp_path / "run.ndjson"
    lines = record(path, "--sessions", "2", "--profile", "ugc-clip")
    capsys.readouterr()
    stamps = [line["body"]["playerTime"]["ts"] for line in lines]
    span_s = (max(stamps) - min(stamps)) / 1000
    speed = span_s / 1.0  # one second of wall time
    collector = Collector(SystemClock())
    with serve(collector) as url:
        began = time.perf_counter()
        assert main(["replay", str(path), "--to", url, "--speed", f"{speed:.3f}"]) == 0
        took = time.perf_counter() - began
    assert took >= 0.95
    assert "ping lateness p99" in capsys.readouterr().out


def replay_cli(path: Path) -> subprocess.CompletedProcess[str]:
    """`playersim replay PATH` in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "playersim", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json\n", ":1: not JSON"),
        ('{"path": "/api/v1/sessions", "body": {"playerTime": {"ts": "x"}}}\n', "ts: not an int"),
        ('{"path": "/elsewhere", "body": {"playerTime": {"ts": 1}}}\n', "path: '/elsewhere'"),
        ("[1, 2]\n", "not a JSON object"),
        ('{"path": "/api/v1/sessions"}\n', "body: missing"),
        ("", "holds no requests"),
        (
            '{"path": "/api/v1/sessions", "body": {"playerTime": {"ts": 1' + "0" * 30 + "}}}\n",
            "is not an instant in epoch milliseconds (0 to 253402300799999",
        ),
        ("[" * 100_000 + "\n", ":1: nested too deeply"),
        (
            '{"session": 5, "path": "/api/v1/sessions", "body": {"playerTime": {"ts": 1}}}\n',
            "session: not a string or null",
        ),
    ],
)
@pytest.mark.slow
def test_a_bad_recording_exits_2_naming_file_and_line(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text(content)
    result = replay_cli(path)
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_recording_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nowhere.ndjson")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


@pytest.mark.slow
def test_a_recording_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.ndjson"
    good = '{"path": "/api/v1/sessions", "session": null, "body": {"playerTime": {"ts": 1}}}\n'
    path.write_bytes(good.encode() + b"\xff\xfe\n")
    result = replay_cli(path)
    assert result.returncode == 2
    assert f"{path}:2: not UTF-8 text" in result.stderr


def test_a_served_recording_with_hostile_lines_still_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`playersim serve --record` also records what it refused; lines refused as malformed are
    skipped on replay, and said so, while everything else is sent."""
    path = tmp_path / "served.ndjson"
    lines = record(path, "--sessions", "5", "--profile", "ugc-clip")
    hostile: dict[str, Any] = {
        "session": None,
        "path": "/api/v1/sessions",
        "status": 400,
        "body": {},
        "message": "playerTime: required",
    }
    # What a client may send, and serve records (refused): replayed as it came (refused again,
    # and said so), never a crash, and nothing of it printed raw to the terminal.
    odd_types: list[object] = [["x"], "\u001b[2J\u001b[31mPWNED"]
    odd = [
        {"session": None, "path": "/api/v1/sessions", "status": 400,
         "body": {"eventType": kind, "playerTime": {"playhead": 0, "ts": 1}}}
        for kind in odd_types
    ]  # fmt: skip
    with path.open("a", encoding="utf-8") as stream:
        for line in [hostile, *odd]:
            stream.write(json.dumps(line) + "\n")
    capsys.readouterr()
    assert main(["replay", str(path)]) == 1  # the odd ones are refused again: not accepted
    out = capsys.readouterr().out
    assert f"requests accepted  {len(lines):>9,}".replace(" ", "") in out.replace(" ", "")
    assert "skipped 1 line refused when recorded and too malformed to send again" in out
    assert f"{path}:{len(lines) + 1}: body.playerTime" in out
    assert "\x1b" not in out
    assert "\\x1b[2J" in out


def test_a_malformed_line_that_was_not_refused_still_stops_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.ndjson"
    record(path, "--sessions", "2", "--profile", "ugc-clip")
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps({"session": "x", "path": "/api/v1/sessions", "status": 201,
                                 "body": {}}) + "\n")  # fmt: skip
    capsys.readouterr()
    assert main(["replay", str(path)]) == 2
    assert "body.playerTime" in capsys.readouterr().err


@pytest.mark.slow
def test_a_replay_that_cannot_keep_pace_says_how_far_behind_it_fell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pace no endpoint can meet (a recording's minutes in a few milliseconds, one request
    at a time, each answered in 5 ms): the replay still delivers everything, and says on
    stderr that it fell behind, and by how much (it said nothing)."""
    path = tmp_path / "run.ndjson"
    lines = record(path, "--sessions", "20", "--profile", "ugc-clip")  # some 400 requests
    capsys.readouterr()
    collector = Collector(SystemClock())
    app = create_app(collector, faults=Faults(latency_ms=(5, 5)))
    for url in running(app):
        status = main(["replay", str(path), "--to", url, "--speed", "100000", "--in-flight", "1"])
    err = capsys.readouterr().err
    assert status == 0
    assert sum(collector.statuses.values()) == len(lines)
    said = re.search(r"fell behind the recording's pace: 1% of requests went out more than "
                     r"([\d.]+) s late, the latest ([\d.]+) s", err)  # fmt: skip
    assert said is not None, err
    assert float(said[2]) >= float(said[1]) >= 1.0


def test_what_the_collector_took_replay_takes_too(tmp_path: Path) -> None:
    """A sessions path with a trailing slash or a query, and a `ts` up to the end of the year
    9999, are what the collector accepts: a recording of them replays (it refused them)."""
    path = tmp_path / "served.ndjson"
    bodies = [
        {"path": "/api/v1/sessions/", "body": {"playerTime": {"ts": 253_402_300_799_999}}},
        {"path": "/api/v1/sessions?x=1", "body": {"playerTime": {"ts": 1}}},
    ]
    path.write_text("".join(json.dumps({"session": None, **line}) + "\n" for line in bodies))
    replayed = list(read_replay(path))
    assert [line.start for line in replayed] == [True, True]


def test_an_interrupted_replay_ends_every_session_it_opened(tmp_path: Path) -> None:
    """Ctrl-C mid-replay (the replay's task cancelled, here on cue after 150 requests): the
    rest of the recording is not sent, and every session open on the endpoint gets a
    sessionEnd after its request in flight, in order, so none waits for the idle timeout."""
    path = tmp_path / "live.ndjson"
    record(path, "--profile", "live-news", "--sessions", "12", "--rate", "2/s", "--seed", "3")
    lines = list(read_replay(path))
    clock = VirtualClock(start=lines[0].ts)
    collector = Collector(clock)
    stats = RunStats()

    class CancelsOnCue:
        def __init__(self) -> None:
            self.seen = 0
            self.replaying: asyncio.Task[object] | None = None

        async def send(self, request: Request) -> Response:
            self.seen += 1
            if self.seen == 150 and self.replaying is not None:
                self.replaying.cancel()  # what asyncio.run does on Ctrl-C
            await asyncio.sleep(0)  # an answer takes a turn of the loop, as over a socket
            return collector.handle("POST", request.path, request.body)

    transport = CancelsOnCue()

    async def interrupted() -> None:
        transport.replaying = asyncio.current_task()
        await replay(iter(lines), transport, speed=None, clock=clock, stats=stats)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(interrupted())

    counts = collector.counts()
    assert counts.open == 0
    assert counts.complete == 0
    assert counts.closed == {"sessionEnd": counts.opened}
    assert stats.ending is not None
    assert stats.ending.ended == stats.ending.open > 0
    assert stats.dropped_by == {"not yet sent when the run was stopped": stats.dropped}
    assert stats.dropped > 0
    assert collector.problems() == []  # each sessionEnd in order after its session's last
