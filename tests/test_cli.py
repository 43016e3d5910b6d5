"""The command line: `playersim run` in memory, recordings, and clear errors for bad input."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from playersim.cli.app import main
from playersim.cli.progress import Progress
from playersim.runner import Run, RunOptions
from playersim.transports.recording import read_recording
from tests.waiting import BOUND_S, wait_until


def figure(out: str, label: str) -> int:
    """The number in the row `label` (a regex) of a summary's table; 0 if there is no row."""
    found = re.search(rf"^  {label} +([\d,]+)$", out, re.M)
    return int(found[1].replace(",", "")) if found else 0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playersim", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_with_no_arguments_simulates_and_summarises() -> None:
    """`playersim run` alone: sessions on the in-memory collector and a summary, exit 0."""
    result = run_cli("run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "100 arrivals of linear-channel, live-news, live-sports, podcast-audio" in out
    assert "in memory" in out
    for needle in ("sessionStart", "ping", "play", "requests accepted", "errors: none"):
        assert needle in out
    assert figure(out, "  arrivals") == 100
    assert figure(out, "viewings") == 100 + figure(out, "  next episode \\(binge\\)")
    started = figure(out, "sessions started \\(sessionStart\\)")
    assert started == figure(out, "  201")
    # More than the viewings when a viewing opened a session anew: the rows say how many.
    resumed = figure(out, "  resumed \\(media.resume\\)")
    assert started == figure(out, "viewings") + resumed
    assert re.search(r"^  conformance problems +0$", out, re.M)
    assert "conformance: no problems" in out
    assert result.stderr == ""


@pytest.mark.slow
def test_the_same_seed_records_identical_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--record` twice with the same seed gives byte-identical NDJSON; another seed differs."""
    paths = [tmp_path / name for name in ("a.ndjson", "b.ndjson", "c.ndjson")]
    for path, seed in zip(paths, ("1", "1", "2"), strict=True):
        assert main(["run", "--sessions", "200", "--seed", seed, "--record", str(path)]) == 0
    capsys.readouterr()
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_every_recorded_request_was_accepted_and_has_the_contract_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each line has session, path, status and body; statuses are 201 for starts, 204 otherwise."""
    path = tmp_path / "run.ndjson"
    assert main(["run", "--sessions", "30", "--record", str(path)]) == 0
    capsys.readouterr()
    lines = list(read_recording(path))
    assert lines
    for line in lines:
        assert {"session", "path", "status", "body"} <= set(line)
        assert len(line["session"]) == 64
        if line["body"]["eventType"] == "sessionStart":
            assert (line["path"], line["status"]) == ("/api/v1/sessions", 201)
        else:
            assert line["path"] == f"/api/v1/sessions/{line['session']}/events"
            assert line["status"] == 204
    starts = [line for line in lines if line["body"]["eventType"] == "sessionStart"]
    # 30 arrivals, and the next episodes some of them rolled on into.
    assert len({line["session"] for line in lines}) == len(starts) >= 30


def test_start_moves_the_whole_run_in_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--start sets the virtual instant the run's arrivals begin (backfill or future)."""
    path = tmp_path / "run.ndjson"
    assert (
        main(["run", "--sessions", "3", "--start", "2030-06-01T00:00:00Z", "--record", str(path)])
        == 0
    )
    capsys.readouterr()
    first = next(read_recording(path))
    assert 1_906_502_400_000 <= first["body"]["playerTime"]["ts"] < 1_906_502_400_000 + 600_000


def test_profile_flag_accepts_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--profile takes a path to a .toml file as well as a bundled name."""
    source = Path(__file__).parent.parent / "profiles" / "live-news.toml"
    mine = tmp_path / "my-news.toml"
    mine.write_text(source.read_text().replace('name = "live-news"', 'name = "my-news"'))
    assert main(["run", "--sessions", "5", "--profile", str(mine)]) == 0
    assert "5 arrivals of my-news" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--sessions", "zero"], "argument --sessions: 'zero' is not a whole number"),
        (["run", "--sessions", "0"], "argument --sessions: '0' must be at least 1"),
        (["run", "--to", "ftp://example"], "argument --to: 'ftp://example' is not an http"),
        (["run", "--start", "yesterday"], "argument --start: not an ISO-8601 instant"),
        (["run", "--bogus"], "playersim run: error: unrecognized arguments: --bogus"),
        (["replay", "x.ndjson", "--bogus"], "playersim replay: error: unrecognized arguments"),
        (["profiles", "--all"], "playersim profiles: error: unrecognized arguments: --all"),
        (
            ["run", "--flat", "--timezone", "UTC"],
            "playersim run: error: --flat and --hourly/--weekly/--timezone do not go",
        ),
        (["run", "--profile", "nope"], "--profile: nope: no bundled profile of that name"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(args: list[str], fragment: str) -> None:
    """A bad flag or value: status 2, a single line on stderr naming it, no traceback."""
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_a_broken_profile_file_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    """A profile with a bad value: exit 2, the message names the file, the field and the value."""
    path = tmp_path / "bad.toml"
    source = Path(__file__).parent.parent / "profiles" / "vod-movie.toml"
    path.write_text(source.read_text().replace("completion_rate = 0.35", "completion_rate = 7"))
    result = run_cli("run", "--profile", str(path))
    assert result.returncode == 2
    assert (
        f"{path}: viewing.completion_rate: Input should be less than or equal to 1 (got 7)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_unwritable_recording_exits_2(tmp_path: Path) -> None:
    """--record into a missing directory: exit 2 with the path and the reason."""
    target = tmp_path / "missing" / "out.ndjson"
    result = run_cli("run", "--sessions", "1", "--record", str(target))
    assert result.returncode == 2
    assert f"--record: cannot write '{target}': No such file or directory" in result.stderr


def test_help_is_available_for_every_command() -> None:
    """`--help` works at the top and for each command, and lists the run flags."""
    top = run_cli("--help")
    assert top.returncode == 0
    assert "run" in top.stdout
    run = run_cli("run", "--help")
    for flag in ("--profile", "--sessions", "--seed", "--to", "--record", "--start"):
        assert flag in run.stdout


def test_profiles_lists_the_bundled_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    """`playersim profiles` names each bundled profile with its content type."""
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert "vod-movie" in out
    assert "live" in out


@pytest.mark.slow
def test_the_console_script_is_installed() -> None:
    """The `playersim` command exists beside the interpreter and runs."""
    script = Path(sys.executable).parent / "playersim"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("playersim ")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--timeout", "inf"], "argument --timeout: 'inf' must be above 0 and at most 3600"),
        (
            ["run", "--start", "9999-12-31T23:00:00Z"],
            "argument --start: '9999-12-31T23:00:00Z' is outside",
        ),
        (["run", "--start", "1969-12-31T23:59:59Z"], "is outside 1970-01-01 .. 9000-01-01"),
    ],
)
def test_out_of_range_values_exit_2(args: list[str], fragment: str) -> None:
    """Values that parse but make no sense for a run are refused like any bad flag."""
    result = run_cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_recordings_do_not_depend_on_the_process(tmp_path: Path) -> None:
    """Separate processes with different hash seeds write the same bytes for the same seed."""
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run-{hash_seed}.ndjson"
        subprocess.run(
            [sys.executable, "-m", "playersim", "run", "--sessions", "40", "--record", str(out)],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
            timeout=120,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0]


@pytest.mark.slow
def test_a_closed_pipe_is_not_an_error() -> None:
    """`playersim profiles | head -1` ends quietly, without a traceback."""
    result = subprocess.run(
        f"{sys.executable} -m playersim profiles | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--duration", "soon"], "argument --duration: 'soon' is not a duration"),
        (["--duration", "400d"], "must be above 0 and at most 366 days"),
        (["--rate", "0"], "argument --rate: '0' must be a rate above 0"),
        (["--rate", "5/week"], "the unit after / must be s, min, h or d"),
        (["--ramp", "x"], "argument --ramp: 'x' is not a ramp (e.g. 10m"),
        (["--ramp", "1m:1m"], "--ramp: a ramp down needs a duration to end at"),
        (["--ramp", "2h", "--duration", "1h"], "the ramps are longer than the duration"),
        (["--hourly", "1,2,3"], "argument --hourly: needs 24 numbers"),
        (["--weekly", "0,0,0,0,0,0,0"], "at least one above 0"),
        (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--speed", "0"], "argument --speed: '0' must be above 0"),
        (["--concurrency", "-3"], "argument --concurrency: '-3' must be at least 1"),
        (["--profile", "ugc-clip:-1"], "the weight must be a number >= 0"),
        (["--profile", "ugc-clip:0"], "every weight is 0"),
        (["--profile", "ugc-clip:abc"], "the weight 'abc' is not a number"),
        (["--profile", "ugc-clip", "--profile", "ugc-clip:2"], "'ugc-clip' is given twice"),
        (["--flat", "--hourly", ",".join(["1"] * 24)], "--flat and --hourly/--weekly"),
        (["--arrivals", "bursty"], "invalid choice: 'bursty'"),
        (["--script", "examples/section6.toml", "--duration", "1h"], "--duration does not apply"),
        (["--script", "examples/section6.toml", "--ramp", "1m"], "--ramp does not apply"),
        (["--ramp", "400d"], "a ramp is at most 366 days"),
        (["--concurrency", "50"], "give --sessions or --duration to say when to stop"),
        (["--rate", "1e-300"], "is less than one session a year"),
        (["--flat", "--timezone", "UTC"], "--flat and --hourly/--weekly/--timezone"),
        (["--concurrency", "3", "--duration", "1h", "--ramp", "1m:1m"], "only ramps up"),
        (
            [
                "--hourly",
                ",".join(["0"] * 23 + ["1"]),
                "--timezone",
                "UTC",
                "--duration",
                "30m",
                "--sessions",
                "3",
                "--start",
                "2026-01-01T12:00:00Z",
            ],
            "--duration: the arrival curve of",
        ),
    ],
)
def test_bad_arrival_flags_exit_2_naming_the_flag(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(["run", *args])
    except SystemExit as exit_:  # argparse's own refusals
        status = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_day_of_sessions_starts_along_the_daily_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--duration 1d --sessions N`: N arrivals in the day, most in the evening hours."""
    path = tmp_path / "day.ndjson"
    args = ["run", "--profile", "ugc-clip", "--sessions", "1500", "--duration", "24h",
            "--start", "2026-01-05T05:00:00Z", "--record", str(path)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    starts = [
        line["body"]["playerTime"]["ts"]
        for line in read_recording(path)
        if line["body"]["eventType"] == "sessionStart"
    ]
    day_start = 1_767_589_200_000  # 2026-01-05T05:00:00Z: midnight in New York
    assert len(starts) >= 1500
    assert all(day_start <= ts for ts in starts)
    in_day = [ts for ts in starts if ts < day_start + 86_400_000]
    assert len(in_day) >= 1500
    by_hour = [0] * 24
    for ts in in_day:
        by_hour[(ts - day_start) // 3_600_000] += 1
    # ugc-clip's New York curve: 04:00 is its quietest hour, 20:00-21:00 its busiest.
    assert by_hour[20] + by_hour[21] > 4 * (by_hour[3] + by_hour[4])
    assert "starts per hour from 2026-01-05T05:00Z" in out
    # The bars come with what they stand for: from none to the busiest hour's count.
    legend = out.split("starts per hour from")[1].splitlines()[2]
    assert re.fullmatch(r'  \(a character an hour: " " none, "\." up to \d+, .*, "%" \d+ '
                        r"sessions started\)", legend), legend  # fmt: skip


def test_weighted_profiles_share_the_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mix.ndjson"
    args = ["run", "--profile", "ugc-clip:3", "--profile", "live-news:1", "--sessions", "200",
            "--duration", "2h", "--record", str(path)]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    kinds = Counter(
        line["body"]["params"]["media.contentType"]
        for line in read_recording(path)
        if line["body"]["eventType"] == "sessionStart"
    )
    assert kinds["ugc"] == 150
    assert kinds["live"] >= 50  # and the sessions it re-opened after 24 h, if any


def test_real_time_records_what_virtual_time_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--realtime --speed changes when requests go out, never what they say."""
    virtual, paced = tmp_path / "virtual.ndjson", tmp_path / "paced.ndjson"
    common = ["run", "--profile", "ugc-clip", "--sessions", "8", "--rate", "1/s",
              "--start", "2026-03-01T10:00:00Z"]  # fmt: skip
    assert main([*common, "--record", str(virtual)]) == 0
    assert main([*common, "--speed", "500", "--record", str(paced)]) == 0
    out = capsys.readouterr().out
    assert "real time x500" in out
    assert "ping lateness p99" in out
    assert paced.read_bytes() == virtual.read_bytes()


def test_progress_is_drawn_on_request_and_cleared(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "ugc-clip", "--sessions", "5", "--progress"]) == 0
    err = capsys.readouterr().err
    assert "\r" in err
    assert "requests" in err
    assert err.endswith("\r\x1b[K")


def test_a_closed_workload_runs_its_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    """--concurrency alone: N viewers at a time, replaced as they finish, --sessions in all."""
    assert main(["run", "--profile", "ugc-clip", "--concurrency", "4", "--sessions", "20"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  viewings +20$", out, re.M)


def test_a_rate_alone_stops_after_the_default_hundred(capsys: pytest.CaptureFixture[str]) -> None:
    """No --sessions and no --duration: 100 arrivals, whatever the rate."""
    assert main(["run", "--profile", "ugc-clip", "--rate", "10/s"]) == 0
    out = capsys.readouterr().out
    assert "100 arrivals of ugc-clip" in out


def test_a_time_zone_alone_moves_the_profiles_curves(capsys: pytest.CaptureFixture[str]) -> None:
    """--timezone keeps each profile's hourly curve, read in another zone; --flat drops it."""
    common = ["run", "--profile", "ugc-clip", "--sessions", "400", "--duration", "24h",
              "--start", "2026-01-05T00:00:00Z"]  # fmt: skip
    lines = {}
    for extra in (["--timezone", "Asia/Tokyo"], ["--flat"], []):
        assert main([*common, *extra]) == 0
        out = capsys.readouterr().out
        lines[" ".join(extra)] = out.split("starts per hour from")[1].splitlines()[1]
    assert len(set(lines.values())) == 3


def test_a_run_with_no_session_is_not_a_success(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--profile", "ugc-clip", "--rate", "1/d", "--duration", "1m", "--flat"]
    assert main(args) == 1
    assert "no session arrived" in capsys.readouterr().err


def test_no_conformance_skips_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "ugc-clip", "--sessions", "5", "--no-conformance"]) == 0
    out = capsys.readouterr().out
    assert "conformance" not in out
    assert "requests accepted" in out


def test_a_full_service_turns_arrivals_away_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--rate with --concurrency: who finds every place taken is counted, not lost in silence."""

    common = ["run", "--profile", "ugc-clip", "--rate", "1", "--duration", "10m", "--flat"]
    assert main(common) == 0
    everyone = figure(capsys.readouterr().out, "viewings")
    assert main([*common, "--concurrency", "5"]) == 0
    out = capsys.readouterr().out
    assert figure(out, "arrivals turned away") > 100
    binges = figure(out, "  next episode \\(binge\\)")
    assert figure(out, "viewings") - binges + figure(out, "arrivals turned away") == everyone


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status", "name", "mode"),
    [
        (signal.SIGINT, 130, "Ctrl-C", ["--speed", "60"]),
        (signal.SIGTERM, 143, "SIGTERM", ["--speed", "60"]),
        (signal.SIGTERM, 143, "SIGTERM", ["--sessions", "200000", "--processes", "1"]),
        # Shared between processes: each ends its own sessions, and the parts are merged.
        (signal.SIGTERM, 143, "SIGTERM", ["--sessions", "200000", "--processes", "2"]),
        (signal.SIGINT, 130, "Ctrl-C", ["--sessions", "200000", "--processes", "2"]),
    ],
)
def test_an_interrupted_run_ends_its_sessions_and_still_reports(
    tmp_path: Path, sig: signal.Signals, status: int, name: str, mode: list[str]
) -> None:
    """Ctrl-C or SIGTERM: every open session gets its sessionEnd, the summary is printed, and
    the exit status says which (130, 143); in real time and in a long virtual run."""
    record = tmp_path / "cut.ndjson"
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "run", "--profile", "live-news", "--flat",
         "--start", "2026-01-01T12:00:00Z", "--record", str(record), *mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    # In the thick of it: requests have been recorded (the first block of them written out;
    # shared between processes, into this process's part, merged into `record` at the end).
    wait_until(
        lambda: any(path.stat().st_size for path in tmp_path.rglob("*.ndjson")),
        "the recording begun",
    )
    if sig == signal.SIGINT and "--processes" in mode:
        os.killpg(process.pid, sig)  # Ctrl-C at a terminal: the whole process group has it
    else:
        process.send_signal(sig)
    out, err = process.communicate(timeout=BOUND_S)
    assert process.returncode == status, err
    said = re.search(rf"interrupted \({name}\): (\d+) of (\d+) open sessions were ended", err)
    assert said is not None, err
    assert said[1] == said[2]
    assert "Traceback" not in err
    assert "requests sent" in out
    lines = list(read_recording(record))
    assert lines
    last: dict[str, str] = {}
    for line in lines:
        if line["status"] in (201, 204):
            last[line["session"]] = line["body"]["eventType"]
    assert last
    assert set(last.values()) <= {"sessionEnd", "sessionComplete"}


def test_a_json_summary_for_machines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "vod-episode", "--sessions", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["arrivals"] == 30
    assert report["viewings"] == 30 + report["next_episode"]
    counts = report["requests"]
    # A downloaded session is one request carrying its events: `batched` are the rest.
    assert counts["generated"] == counts["accepted"] + counts.get("batched", 0) > 0
    assert sum(report["by_event_type"].values()) == counts["accepted"]
    assert report["conformance_problems"] == {}
    assert sum(report["outcomes"].values()) == report["viewings"]
    sent = report["by_event_type"]
    assert report["sessions_started"] == sent["sessionStart"] + sent.get("downloaded", 0)
    assert report["downloaded_sessions"] == sent.get("downloaded", 0)
    assert report["sessions_started"] == report["viewings"] + report["resumed_sessions"]


def test_run_and_replay_name_the_same_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The header's arrivals are the table's; viewings add arrivals and next episodes; the
    sessions started are what a replay of the recording counts, under the same name."""
    path = tmp_path / "run.ndjson"
    args = ["run", "--profile", "vod-episode", "--profile", "podcast-audio", "--sessions", "60",
            "--seed", "9", "--record", str(path)]  # fmt: skip
    assert main(args) == 0
    ran = capsys.readouterr().out
    assert main(["replay", str(path)]) == 0
    replayed = capsys.readouterr().out
    assert "60 arrivals of vod-episode, podcast-audio" in ran
    assert figure(ran, "  arrivals") == 60
    binges = figure(ran, "  next episode \\(binge\\)")
    assert binges > 0
    assert figure(ran, "viewings") == 60 + binges
    # A session watched offline is one line holding it whole (a JSON array, sessionStart first).
    starts = sum(
        1
        for line in read_recording(path)
        if isinstance(line["body"], list) or line["body"]["eventType"] == "sessionStart"
    )
    label = "sessions started \\(sessionStart\\)"
    assert figure(ran, label) == figure(replayed, label) == starts
    # A recording holds sessions, not viewings: a replay does not pretend to count those.
    assert not re.search(r"^  viewings", replayed, re.M)


def test_progress_says_how_far_how_long_and_when_it_ends() -> None:
    """With a window: the share of it simulated, the time left at the pace so far, and the
    wall-clock time the run gets there; paced, the time left is the clock's own."""
    options = RunOptions(profiles=["ugc-clip"], duration=timedelta(hours=2), rate=1 / 60,
                         flat=True)  # fmt: skip
    wall = 1_000_000.0
    with Run(options) as prepared:
        now = [100.0]
        progress = Progress(prepared, io.StringIO(), monotonic=lambda: now[0], wall=lambda: wall)
        assert "ETA" not in progress.line()  # nothing done yet: no telling
        prepared.engine.run(until=prepared.start + 30 * 60_000)  # a quarter of the window
        now[0] = 130.0  # in 30 wall seconds
        ends = time.strftime("%H:%M:%S", time.localtime(wall + 90))
        assert f"  25% ETA 1m30s, ends {ends}  active " in progress.line()
        prepared.engine.run(until=prepared.start + 2 * 3_600_000)
        assert "arrivals over, open sessions playing out" in progress.line()
    with Run(options.replace(speed=60)) as paced:
        progress = Progress(paced, io.StringIO(), wall=lambda: wall)
        ends = time.strftime("%H:%M:%S", time.localtime(wall + 120))
        assert f"  0% ETA 2m00s, ends {ends}  " in progress.line()  # 2 h at x60
    with Run(RunOptions(profiles=["ugc-clip"], sessions=10)) as counted:
        progress = Progress(counted, io.StringIO())
        counted.engine.run()
        assert "  100% ETA 0s" in progress.line()  # every viewing finished


def test_a_second_ctrl_c_that_lands_in_a_delivery_task_prints_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A second Ctrl-C raises KeyboardInterrupt wherever the loop is: inside a delivery task,
    that task dies with it, and asyncio would print its traceback on the way out."""
    import asyncio
    import gc

    from playersim.cli.interrupts import interruptible

    async def work() -> None:
        async def delivery() -> None:
            raise KeyboardInterrupt  # as the signal handler raises it, inside the task

        delivering = asyncio.ensure_future(delivery())
        await asyncio.Event().wait()  # the run, waiting on its deliveries
        del delivering

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(interruptible(work()))
    gc.collect()  # the dead task's "exception was never retrieved" is said as it is collected
    # (asyncio says it through logging, which prints to stderr in a command.)
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
