"""`playersim.run()` and `arun()`: what `playersim run` does, from Python, printing nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import playersim
from playersim import EndpointUnreachableError, Retries, RunOptions, RunStats, arun, run
from playersim.cli.app import build_parser, main, options_from_args
from playersim.engines.delivery import DEFAULT_GIVE_UP_S
from playersim.engines.realtime import DEFAULT_IN_FLIGHT
from playersim.runner import OptionError
from playersim.transports.http import DEFAULT_TIMEOUT
from tests.mca_server import serve

EXAMPLES = Path(__file__).parent.parent / "examples"

# The same runs, as flags and as options.
SAME_RUNS = [
    pytest.param(
        ["--profile", "ugc-clip", "--profile", "live-news:2", "--sessions", "20", "--seed", "4"],
        {"profiles": ["ugc-clip", "live-news:2"], "sessions": 20, "seed": 4},
        id="a mix",
    ),
    pytest.param(
        [
            "--profile",
            "vod-episode",
            "--duration",
            "2h",
            "--rate",
            "30/h",
            "--flat",
            "--ramp",
            "10m:10m",
            "--arrivals",
            "uniform",
            "--start",
            "2026-03-01T08:00:00Z",
        ],
        {
            "profiles": ["vod-episode"],
            "duration": timedelta(hours=2),
            "rate": 30 / 3600,
            "flat": True,
            "ramp_up": timedelta(minutes=10),
            "ramp_down": timedelta(minutes=10),
            "arrivals": "uniform",
            "start": "2026-03-01T08:00:00Z",
        },
        id="a window",
    ),
    pytest.param(
        ["--profile", "ugc-clip", "--concurrency", "3", "--sessions", "12"],
        {"profiles": ["ugc-clip"], "concurrency": 3, "sessions": 12},
        id="a closed workload",
    ),
    pytest.param(
        ["--script", str(EXAMPLES / "section6.toml")],
        {"script": EXAMPLES / "section6.toml"},
        id="a script",
    ),
    pytest.param(
        [
            "--profile",
            "ugc-clip",
            "--sessions",
            "6",
            "--speed",
            "100000",
            "--start",
            "2026-01-01T12:00:00Z",
        ],
        {"profiles": ["ugc-clip"], "sessions": 6, "speed": 100000, "start": "2026-01-01T12:00:00Z"},
        id="paced",
    ),
]


@pytest.mark.parametrize(("flags", "fields"), SAME_RUNS)
def test_run_records_what_the_command_line_records(
    flags: list[str], fields: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same options as the same flags: byte for byte the same recording, and the same
    counts as the command line's JSON summary; `run()` itself prints nothing."""
    by_cli, by_python = tmp_path / "cli.ndjson", tmp_path / "python.ndjson"
    assert main(["run", *flags, "--record", str(by_cli), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    stats = run(record=by_python, **fields)
    assert capsys.readouterr() == ("", "")
    assert by_python.read_bytes() == by_cli.read_bytes()
    assert by_cli.read_bytes().count(b"\n") == stats.requests > 0
    assert stats.arrivals == summary["arrivals"]
    assert stats.viewings == summary["viewings"]
    assert stats.sessions_started == summary["sessions_started"]
    assert dict(stats.outcomes) == summary["outcomes"]


def test_the_counts_add_up() -> None:
    """Arrivals and next episodes are the viewings; each viewing's first session and those
    resumed are the sessions started; every viewing ended somehow; all was accepted."""
    stats = run(profiles=["vod-episode", "podcast-audio"], sessions=60, seed=9)
    assert isinstance(stats, RunStats)
    assert stats.arrivals == 60
    assert stats.viewings == stats.arrivals + stats.follow_ups
    assert stats.follow_ups > 0  # vod-episode viewers binge
    assert stats.sessions_started == stats.viewings + stats.resumed
    assert sum(stats.outcomes.values()) == stats.viewings
    assert stats.failed == stats.dropped == 0
    assert stats.conformance == {}
    assert stats.lateness is None  # not paced


def test_options_and_fields_combine() -> None:
    """Fields given to `run()` change the options given: the rest stay."""
    base = RunOptions(profiles=["ugc-clip"], sessions=50, seed="x")
    assert run(base, sessions=4).arrivals == 4
    assert base.sessions == 50  # frozen: never changed
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.sessions = 3  # type: ignore[misc]


def test_a_record_can_be_a_text_stream() -> None:
    stream = io.StringIO()
    stats = run(profiles=["ugc-clip"], sessions=2, record=stream)
    assert stream.getvalue().count("\n") == stats.requests


def test_the_defaults_are_the_owners_and_the_command_lines() -> None:
    """Each default comes from the class or constant that owns it, and `playersim run` with
    no flags asks for exactly `RunOptions()`."""
    options = RunOptions()
    assert options.retries == Retries().attempts
    assert options.timeout == DEFAULT_TIMEOUT
    assert options.in_flight == DEFAULT_IN_FLIGHT
    assert options.give_up_after == timedelta(seconds=DEFAULT_GIVE_UP_S)
    assert options_from_args(build_parser().parse_args(["run"])) == options


def test_arun_runs_inside_a_running_loop_and_lets_it_run() -> None:
    """Awaited, a virtual run lets the loop's other tasks run as it goes; a paced one runs on
    the loop too; both send what `run()` sends. `run()` itself, asked to pace a run inside a
    loop, says to await `arun()`."""
    fields: dict[str, Any] = {"profiles": ["vod-episode"], "sessions": 30, "seed": 2}

    async def scenario() -> tuple[RunStats, list[str], RunStats]:
        others: list[str] = []

        async def other() -> None:
            others.append("ran")

        task = asyncio.get_running_loop().create_task(other())
        virtual = await arun(**fields)
        seen = list(others)  # before this coroutine awaits anything else
        await task
        paced = await arun(profiles=["ugc-clip"], sessions=3, speed=100000)
        with pytest.raises(RuntimeError, match="await arun"):
            run(profiles=["ugc-clip"], sessions=1, speed=100000)
        return virtual, seen, paced

    virtual, seen, paced = asyncio.run(scenario())
    assert seen == ["ran"]
    assert virtual.sent == run(**fields).sent
    assert paced.arrivals == 3
    assert paced.lateness is not None


def test_run_over_http_sends_what_the_command_line_sends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_cli, by_python = tmp_path / "cli.ndjson", tmp_path / "python.ndjson"
    common = ["--profile", "ugc-clip", "--sessions", "5", "--seed", "8", "--concurrency", "1"]
    with serve(playersim.Collector(playersim.SystemClock(), seed="s")) as url:
        assert main(["run", *common, "--to", url, "--record", str(by_cli)]) == 0
    capsys.readouterr()
    with serve(playersim.Collector(playersim.SystemClock(), seed="s")) as url:
        stats = run(profiles=["ugc-clip"], sessions=5, seed=8, concurrency=1, to=url,
                    record=by_python)  # fmt: skip
    assert by_python.read_bytes() == by_cli.read_bytes()
    assert stats.failed == 0
    assert stats.conformance is None  # the endpoint judges, not a built-in collector


def test_a_run_that_gives_up_on_its_endpoint_raises_with_its_account() -> None:
    """An endpoint that takes connections and never answers: the run gives up on it, and the
    error carries the account of what was sent until then."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never answers
        host, port = silent.getsockname()[:2]
        with pytest.raises(EndpointUnreachableError) as raised:
            run(profiles=["ugc-clip"], sessions=2, to=f"http://{host}:{port}", retries=0,
                timeout=60, give_up_after=timedelta(milliseconds=300))  # fmt: skip
    stats = raised.value.stats
    assert isinstance(stats, RunStats)
    assert stats.requests >= 1
    assert stats.accepted == 0
    assert "gave up" in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sessions": 0}, "sessions", "sessions must be at least 1, got 0"),
        ({"sessions": "5"}, "sessions", "sessions must be a whole number, got '5'"),
        ({"timeout": 0}, "timeout", "timeout must be above 0 and at most 3600, got 0"),
        ({"speed": -1.0}, "speed", "speed must be above 0 and at most 1e+06, got -1.0"),
        ({"in_flight": 0}, "in_flight", "in_flight must be from 1 to 10000, got 0"),
        ({"retries": 11}, "retries", "retries must be from 0 to 10, got 11"),
        ({"rate": 1e-300}, "rate", "rate is less than one session a year, got 1e-300"),
        ({"duration": timedelta(days=400)}, "duration",
         "duration must be above 0 and at most 366 days, got 400 days, 0:00:00"),
        ({"duration": 3600}, "duration", "duration must be a timedelta, got 3600"),
        ({"hourly": [1, 2, 3]}, "hourly", "hourly needs 24 numbers, got 3"),
        ({"weekly": [0] * 7}, "weekly", "weekly numbers must be >= 0, with at least one above"),
        ({"arrivals": "bursty"}, "arrivals",
         "arrivals must be one of 'poisson', 'uniform', got 'bursty'"),
        ({"http_client": "curl"}, "http_client", "http_client must be one of 'auto'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "timezone: unknown time zone 'Mars/Olympus'"),
        ({"to": "ftp://example"}, "to", "to: 'ftp://example' is not an http"),
        ({"start": "yesterday"}, "start", "start: not an ISO-8601 instant"),
        ({"start": "9999-12-31T23:00:00Z"}, "start", "is outside 1970-01-01 .. 9000-01-01"),
        ({"profiles": ["ugc-clip:-1"]}, "profiles", "the weight must be a number >= 0"),
        ({"profiles": [("ugc-clip", "heavy")]}, "profiles", "is not a profile name, path"),
        ({"flat": True, "hourly": [1] * 24}, "flat",
         "flat and hourly/weekly/timezone do not go together"),
        ({"script": "x.toml", "profiles": ["ugc-clip"]}, "script",
         "script and profiles do not go together"),
        ({"script": "x.toml", "rate": 1.0}, "rate", "script plays its own timeline: rate does"),
        ({"concurrency": 5}, "concurrency", "give sessions or duration to say when to stop"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_naming_the_field_and_value(
    fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(OptionError) as raised:
        RunOptions(**fields)
    assert raised.value.field == field
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"profiles": ["nope"]}, "profiles", "profiles: nope: no bundled profile of that name"),
        ({"profiles": ["ugc-clip", "ugc-clip:2"]}, "profiles", "'ugc-clip' is given twice"),
        ({"profiles": ["ugc-clip:0"]}, "profiles", "every weight is 0"),
        ({"script": "missing.toml"}, "script", "script: missing.toml: cannot read the file"),
        ({"ramp_up": timedelta(hours=2), "duration": timedelta(hours=1)}, "ramp_up",
         "ramp_up: the ramps are longer than the duration"),
        ({"record": "/no/such/dir/run.ndjson"}, "record",
         "record: cannot write '/no/such/dir/run.ndjson': No such file or directory"),
    ],
)  # fmt: skip
def test_options_only_a_run_can_check_are_refused_as_it_starts(
    fields: dict[str, Any], field: str, message: str
) -> None:
    """Files that do not load, profiles that do not mix: refused before anything is sent."""
    with pytest.raises(OptionError) as raised:
        run(**fields)
    assert raised.value.field == field
    assert message in str(raised.value)


class _Clock:
    """A clock that moves only when a request waits its turn: the waits are the test's time
    (or, `stopped`, a clock that never moves, noting each wait)."""

    def __init__(self, *, stopped: bool = False) -> None:
        self.ms = 0.0
        self.waits: list[float] = []
        self.stopped = stopped

    def now(self) -> int:
        return round(self.ms)

    def sleep(self, seconds: float) -> None:
        raise AssertionError("the limiter waits without blocking the loop")

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if not self.stopped:
            self.ms += seconds * 1000


class _Seen(playersim.AsyncTransport):
    """Answers 204 to everything, noting the clock's instant (ms) of each request."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.at: list[int] = []

    async def send(self, request: playersim.Request) -> playersim.Response:
        self.at.append(self.clock.now())
        return playersim.Response(204)


def _sends(transport: playersim.AsyncTransport, count: int) -> None:
    async def each() -> None:
        for _ in range(count):
            await transport.send(playersim.Request("/api/v1/sessions", {}))

    asyncio.run(each())


def test_max_rate_spaces_the_requests_on_its_clock() -> None:
    """10 requests at 2 a second take 4.5 s of the limiter's clock, evenly spaced."""
    clock = _Clock()
    seen = _Seen(clock)
    _sends(playersim.RateLimitedTransport(seen, 2, clock=clock), 10)
    assert seen.at == [i * 500 for i in range(10)]
    assert clock.ms == 4500


def test_max_rate_queues_requests_sent_at_once() -> None:
    """Ten sessions asking at the same instant each take the next slot: one every 0.5 s."""
    clock = _Clock(stopped=True)
    limited = playersim.RateLimitedTransport(_Seen(clock), 2, clock=clock)

    async def together() -> None:
        request = playersim.Request("/api/v1/sessions", {})
        await asyncio.gather(*(limited.send(request) for _ in range(10)))

    asyncio.run(together())
    assert sorted(clock.waits) == [i * 0.5 for i in range(1, 10)]


def test_max_rate_saves_no_burst_from_a_quiet_spell() -> None:
    """After an idle minute the next request goes at once, and the one after waits its turn
    (a burst of 1); `burst` allows more."""
    for burst, expected in ((1, [60_000, 60_500, 61_000]), (3, [60_000, 60_000, 60_000])):
        clock = _Clock()
        seen = _Seen(clock)
        limited = playersim.RateLimitedTransport(seen, 2, clock=clock, burst=burst)
        _sends(limited, 1)
        clock.ms = 60_000
        _sends(limited, 3)
        assert seen.at[1:] == expected


def test_a_run_with_max_rate_sends_the_same_through_the_limiter(tmp_path: Path) -> None:
    capped, free = tmp_path / "capped.ndjson", tmp_path / "free.ndjson"
    fields: dict[str, Any] = {"profiles": ["ugc-clip"], "sessions": 3, "seed": 2}
    with serve(playersim.Collector(playersim.SystemClock(), seed="s")) as url:
        options = RunOptions(to=url, max_rate=100_000, record=capped, **fields)
        with playersim.runner.Run(options) as prepared:
            assert isinstance(prepared.engine.transport, playersim.RateLimitedTransport)
        stats = run(options)
    with serve(playersim.Collector(playersim.SystemClock(), seed="s")) as url:
        run(to=url, record=free, **fields)
    assert stats.failed == 0
    assert capped.read_bytes() == free.read_bytes()


def test_a_closed_workload_replaces_who_leaves_during_its_ramp_at_once() -> None:
    # `--concurrency 200 --ramp 10m`: live viewers who leave during the ramp are replaced as
    # they go, not all at the ramp's end (which started hundreds of sessions in one
    # millisecond, and put a paced run seconds behind).
    record = io.StringIO()
    run(
        profiles=["live-news"],
        concurrency=200,
        sessions=500,
        ramp_up=timedelta(minutes=10),
        record=record,
    )
    starts: dict[int, int] = {}
    for line in record.getvalue().splitlines():
        body = json.loads(line)["body"]
        if body["eventType"] == "sessionStart":
            ts = body["playerTime"]["ts"]
            starts[ts] = starts.get(ts, 0) + 1
    ramp_end = min(starts) + 600_000
    assert sum(n for ts, n in starts.items() if ts < ramp_end) > 200  # replaced during the ramp
    assert max(starts.values()) <= 2
