"""`playersim replay`: a recording sent again, with new sids, in order, paced or fast."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from playersim import (
    Collector,
    MemoryTransport,
    ReplayLine,
    SystemClock,
    VirtualClock,
    read_replay,
    replay,
)
from playersim.cli.app import main
from playersim.engines.summary import RunStats
from playersim.errors import TransportError
from playersim.mca.api import Request, Response
from playersim.server import Faults, create_app
from playersim.transports.base import AsyncTransport, Transport
from playersim.transports.recording import read_recording
from tests.test_server import running
from tests.waiting import BOUND_S, interrupted_when

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
        timeout=BOUND_S,
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


@pytest.fixture(scope="module")
def live_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording of 12 live sessions with ad breaks: hundreds of requests, many in flight."""
    path = tmp_path_factory.mktemp("live") / "live.ndjson"
    record(path, "--profile", "live-news", "--sessions", "12", "--rate", "2/s", "--seed", "3")
    return path


@pytest.fixture(scope="module")
def live_lines(live_recording: Path) -> list[ReplayLine]:
    return list(read_replay(live_recording))


class OnCue(AsyncTransport):
    """An asyncio transport in front of a collector that interrupts the replay on cue: it
    cancels the replay's task (what asyncio.run does on Ctrl-C) at the first ping from the
    `cue`th request on,
    then, if told, cuts the wind-down short (a second Ctrl-C) at its first sessionEnd, or
    loses the answer to the request that came with the cue (taken all the same)."""

    def __init__(
        self, collector: Collector, cue: int, *, twice: bool = False, lose: bool = False
    ) -> None:
        self.collector = collector
        self.cue, self.twice, self.lose = cue, twice, lose
        self.seen = 0
        self.replaying: asyncio.Task[object] | None = None
        self.interrupted = False

    async def send(self, request: Request) -> Response:
        assert self.replaying is not None
        self.seen += 1
        if self.interrupted and self.twice and request.event_type == "sessionEnd":
            self.replaying.cancel()  # the second Ctrl-C, during the wind-down
            await asyncio.Event().wait()  # (this answer never comes)
        # (At a ping: an event in the middle of a session.)
        cue = self.seen >= self.cue and not self.interrupted and request.event_type == "ping"
        if cue:
            self.replaying.cancel()
            self.interrupted = True
        await asyncio.sleep(0)  # an answer takes a turn of the loop, as over a socket
        response = self.collector.handle("POST", request.path, request.body)
        if cue and self.lose:
            raise TransportError("POST", request.path, "timed out waiting for the answer")
        return response

    def interrupt(self, lines: list[ReplayLine], clock: VirtualClock, stats: RunStats) -> None:
        async def replaying() -> None:
            self.replaying = asyncio.current_task()
            await replay(iter(lines), self, speed=None, clock=clock, stats=stats)

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(replaying())


def test_an_interrupted_replay_ends_every_session_it_opened(live_lines: list[ReplayLine]) -> None:
    """Ctrl-C mid-replay: the rest of the recording is not sent, and every session open on
    the endpoint gets a sessionEnd after its request in flight, in order, so none waits for
    the idle timeout."""
    clock = VirtualClock(start=live_lines[0].ts)
    collector, stats = Collector(clock), RunStats()
    OnCue(collector, 150).interrupt(live_lines, clock, stats)

    counts = collector.counts()
    assert counts.open == 0
    assert counts.complete == 0
    assert counts.closed == {"sessionEnd": counts.opened}
    assert stats.ending is not None
    assert stats.ending.ended == stats.ending.open > 0
    assert stats.dropped_by == {"not yet sent when the run was stopped": stats.dropped}
    assert stats.dropped > 0
    assert collector.problems() == []  # each sessionEnd in order after its session's last


def test_a_sessionend_on_stop_follows_a_request_whose_answer_was_lost(
    live_lines: list[ReplayLine],
) -> None:
    """The request in flight at the Ctrl-C reached the endpoint, but its answer was lost: the
    wind-down's sessionEnd still goes after it, never before (no `ts-order` problem)."""
    clock = VirtualClock(start=live_lines[0].ts)
    collector, stats = Collector(clock), RunStats()
    OnCue(collector, 150, lose=True).interrupt(live_lines, clock, stats)

    assert stats.answer_lost == 1
    assert collector.counts().open == 0
    assert collector.problems() == []


def test_a_second_interruption_says_which_sessions_it_left_open(
    live_lines: list[ReplayLine],
) -> None:
    """A second Ctrl-C during the wind-down leaves the sessions not yet ended open, and the
    account says so, rather than "no session was open"."""
    clock = VirtualClock(start=live_lines[0].ts)
    collector, stats = Collector(clock), RunStats()
    OnCue(collector, 150, twice=True).interrupt(live_lines, clock, stats)

    left_open = collector.counts().open
    assert left_open > 0
    assert stats.ending is not None
    assert stats.ending.ended == 0
    assert stats.ending.not_ended == {"the wind-down was cut short (interrupted again)": left_open}


def test_an_in_memory_replay_takes_a_signal_while_it_sends(live_lines: list[ReplayLine]) -> None:
    """A replay in memory sends inline, yet the loop still gets turns to act on a signal:
    its task cancelled once three sessions are open, it stops long before the end."""
    clock = VirtualClock(start=live_lines[0].ts)
    collector, stats = Collector(clock), RunStats()
    replaying: list[asyncio.Task[object]] = []

    class Blocking(Transport):  # as MemoryTransport: answers at once, never awaits
        def send(self, request: Request) -> Response:
            if collector.counts().opened == 3 and not replaying[0].cancelling():
                replaying[0].cancel()
            return collector.handle("POST", request.path, request.body)

    async def interrupted() -> None:
        replaying.append(asyncio.current_task())  # type: ignore[arg-type]
        await replay(iter(live_lines), Blocking(), speed=None, clock=clock, stats=stats)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(interrupted())
    assert sum(stats.sent.values()) < len(live_lines) / 2
    assert stats.ending is not None
    assert stats.ending.ended == stats.ending.open
    assert collector.counts().open == 0


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_during_a_replay_ends_its_sessions_and_says_so(
    live_recording: Path, sig: signal.Signals, status: int
) -> None:
    """`playersim replay --to URL` interrupted by Ctrl-C or SIGTERM, against a collector
    50-600 ms slow: the summary is printed, the last line says how many open sessions were
    ended, and none is left open at the collector."""
    collector = Collector(SystemClock(), seed="1")
    app = create_app(collector, faults=Faults(latency_ms=(50, 600), seed="slow"))
    for url in running(app):
        returned, out, err = interrupted_when(
            [sys.executable, "-m", "playersim", "replay", str(live_recording), "--to", url,
             "--speed", "20"],
            lambda: collector.counts().open >= 3, "three sessions open at the collector", sig,
        )  # fmt: skip
        counts = collector.counts()
    assert returned == status, err
    assert "Traceback" not in err
    assert "requests by event" in out
    said = re.search(
        r"interrupted \((Ctrl-C|SIGTERM)\): (\d+) of (\d+) open sessions were ended", err
    )
    assert said is not None, err
    assert said[2] == said[3] != "0"
    assert "error:" not in err
    assert counts.open == 0
    assert counts.complete == 0
    assert counts.problems == {}


def test_a_recorded_session_start_posted_to_an_events_path_is_not_sent_as_a_new_session() -> None:
    """A hostile client's line (a sessionStart body posted to a session's events path), for a
    session that is not open on replay, goes where it was sent or nowhere: never to
    /api/v1/sessions, where it would open a session the recording never had."""
    clock = VirtualClock("2026-01-01T12:00:00Z")
    collector = Collector(clock)
    start = {"eventType": "sessionStart", "playerTime": {"playhead": 0, "ts": clock.now()}}
    play = {"eventType": "play", "playerTime": {"playhead": 0, "ts": clock.now() + 1}}
    lines = iter([ReplayLine("x" * 64, False, start), ReplayLine("x" * 64, False, play)])
    stats, _ = asyncio.run(replay(lines, MemoryTransport(collector), speed=None, clock=clock))
    assert collector.sessions == []
    assert stats.requests == 0
    assert stats.dropped == 2
