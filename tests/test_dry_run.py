"""Safe use against a real back end: a dry run sends nothing, a notice says where traffic goes
and for whom, and a paced run cannot stamp live traffic in the past."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import playersim
from playersim import AdobeSettings, RunOptions, dry_run
from playersim.cli.app import main
from playersim.runner import OptionError, Run
from tests.mca_server import serve

# Each test in an empty directory, with no PLAYERSIM_ setting around (an autouse fixture).
from tests.test_settings import DATASTREAM, _no_settings_around  # noqa: F401

EXAMPLES = Path(__file__).parent.parent / "examples"
PAST = "2020-03-06T23:00:00Z"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A socket listening on a free loopback port (that answers nothing), and its URL."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}"


def shown_requests(out: str) -> list[tuple[str, dict[str, object]]]:
    """The `POST URL` lines of a dry run and the JSON body under each."""
    blocks = out.split("\n\n")
    requests = []
    for block in blocks[:-1]:
        line, _, body = block.partition("\n")
        requests.append((line, json.loads(body)))
    return requests


def test_a_dry_run_prints_the_first_requests_and_sends_nothing(
    listener: tuple[socket.socket, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, url = listener
    flags = ["--profile", "vod-movie", "--sessions", "20", "--to", url, "--report-suite", "acme"]
    assert main(["run", *flags, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    requests = shown_requests(out)
    assert [line.split("/api/")[0] for line, _ in requests] == [f"POST {url}"] * 3
    assert requests[0][0] == f"POST {url}/api/v1/sessions"
    assert requests[0][1]["eventType"] == "sessionStart"
    assert requests[0][1]["params"]["analytics.reportSuite"] == "acme"  # type: ignore[index]
    summary = out.splitlines()[-1]
    assert summary.startswith("playersim run: dry run: 20 sessions from 2026-01-01T12:00:00")
    assert "(vod-movie) for report suite acme on northlightmedia.sc.omtrdc.net" in summary
    assert f"to {url}, virtual time: nothing was sent" in summary
    with pytest.raises(BlockingIOError):
        server.accept()  # nobody connected


def test_a_dry_run_to_a_port_nobody_listens_on_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    assert main(["run", "--to", f"http://127.0.0.1:{port}", "--dry-run", "2"]) == 0
    assert len(shown_requests(capsys.readouterr().out)) == 2


def test_a_dry_run_shows_what_the_run_sends_byte_for_byte(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same seed and flags: the dry run's bodies are the run's first requests."""
    flags = ["--profile", "live-sports", "--profile", "ugc-clip", "--sessions", "40", "--seed", "5"]
    record = tmp_path / "run.ndjson"
    assert main(["run", *flags, "--record", str(record)]) == 0
    capsys.readouterr()
    assert main(["run", *flags, "--dry-run", "6", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    sent = [json.loads(line) for line in record.read_text().splitlines()[:6]]
    assert [r["body"] for r in shown["requests"]] == [line["body"] for line in sent]
    assert [r["url"] for r in shown["requests"]] == [line["path"] for line in sent]


def test_a_dry_run_of_a_day_stops_after_its_first_requests() -> None:
    """However long the run, a dry run plays it only as far as the requests it shows."""
    options = RunOptions(sessions=20_000, duration=timedelta(hours=24))
    with Run(options, dry_run=True) as prepared:
        assert len(prepared.first_requests(3)) == 3
        assert prepared.engine.stats.generated < 100
        assert prepared.engine.clock.now() - prepared.start < 3_600_000
        assert prepared.http is None


def test_a_dry_run_records_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "kept.ndjson"
    record.write_text("what was there\n")
    assert main(["run", "--dry-run", "1", "--record", str(record)]) == 0
    assert record.read_text() == "what was there\n"


def test_a_dry_run_plays_a_script(capsys: pytest.CaptureFixture[str]) -> None:
    script = str(EXAMPLES / "section6.toml")
    assert main(["run", "--script", script, "--dry-run", "2", "--to", "https://mca.example"]) == 0
    out = capsys.readouterr().out
    (first, _), _second = shown_requests(out)
    assert first == "POST https://mca.example/api/v1/sessions"
    assert f"dry run: 1 session from 2026-01-01T12:00:00.000Z (script {script})" in out


def test_a_dry_run_for_the_edge_shows_the_edge_host_and_datastream() -> None:
    adobe = AdobeSettings(api="edge", datastream=DATASTREAM, edge_host="edge.acme.com")
    shown = dry_run(profiles=["ugc-clip"], adobe=adobe, show=1)
    assert shown.url(shown.requests[0]).startswith("https://edge.acme.com/")
    assert f"for datastream {DATASTREAM}, to https://edge.acme.com" in shown.summary


def test_a_dry_run_says_it_wrongly_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--dry-run", "0"])
    assert exited.value.code == 2
    assert "argument --dry-run: '0' must be at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="show must be a whole number"):
        dry_run(show=0)


def test_the_notice_says_what_where_how_many_and_for_whom() -> None:
    options = RunOptions(
        profiles=["vod-movie", "vod-episode", "live-news", "ugc-clip", "podcast-audio"],
        sessions=500,
        duration=timedelta(hours=4),
        start="2099-01-01T00:00:00Z",
        to="https://acme.hb-api.omtrdc.net",
        adobe=AdobeSettings(report_suite="acme-demo", tracking_server="acme.sc.omtrdc.net"),
    )
    with Run(options) as prepared:
        assert prepared.notice == (
            "sending 500 sessions over 4:00:00 (vod-movie, vod-episode, live-news, ...) to "
            "https://acme.hb-api.omtrdc.net for report suite acme-demo on acme.sc.omtrdc.net; "
            "viewings watched offline send their sessions later, stamped when they were "
            "watched: the report suite must have Timestamps optional (Admin > Report suites > "
            "General > Timestamp configuration)"
        )
    # Nothing watched offline (news and clips stream): nothing stamped late, nothing to ask.
    with Run(options.replace(profiles=["live-news", "ugc-clip"])) as prepared:
        assert prepared.notice == (
            "sending 500 sessions over 4:00:00 (live-news, ugc-clip) to "
            "https://acme.hb-api.omtrdc.net for report suite acme-demo on acme.sc.omtrdc.net"
        )
    with Run(options.replace(start=PAST)) as prepared:
        assert prepared.notice is not None
        assert "the events are stamped from 2020-03-06T23:00:00.000Z, in the past: the " in (
            prepared.notice
        )
        assert "Timestamps optional" in prepared.notice
    for quiet in (options.replace(to=None, adobe=None), options.replace(to="http://127.0.0.1:1")):
        with Run(quiet) as prepared:
            assert prepared.notice is None


def test_the_command_line_says_the_notice_before_sending(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sent beyond this machine (here, a local collector taken for a remote one), the run
    says so on stderr first, once."""
    monkeypatch.setattr("playersim.runner.is_loopback", lambda url: False)
    with serve(playersim.Collector(playersim.SystemClock())) as url:
        code = main(["run", "--profile", "ugc-clip", "--sessions", "2", "--to", url, "--start",
                     PAST, "--report-suite", "acme-demo"])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert err.count("playersim: sending") == 1
    assert err.startswith(
        f"playersim: sending 2 sessions (ugc-clip) to {url} for report suite acme-demo on "
        "northlightmedia.sc.omtrdc.net; the events are stamped from 2020-03-06T23:00:00.000Z"
    )


def test_a_paced_run_to_a_back_end_cannot_start_in_the_past(
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote = ["--to", "https://mca.example", "--start", PAST]
    assert main(["run", "--realtime", *remote]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "error: --start '2020-03-06T23:00:00Z' is " in err
    assert "in the past, and the run is paced (--realtime/--speed)" in err
    assert "To backfill, leave --realtime/--speed out" in err
    with pytest.raises(OptionError) as raised:
        RunOptions(speed=60, to="https://mca.example", start=PAST)
    assert raised.value.field == "start"
    # Unpaced it is a backfill; paced to this machine or in memory, a rehearsal; a start to
    # come, or now, is live traffic.
    RunOptions(to="https://mca.example", start=PAST)
    RunOptions(speed=1, to="http://127.0.0.1:8080", start=PAST)
    RunOptions(speed=1, to="http://localhost:8080", start=PAST)
    RunOptions(speed=1, start=PAST)
    RunOptions(speed=1, to="https://mca.example", start="2099-01-01T00:00:00Z")
    RunOptions(speed=1, to="https://mca.example", start="now")


def test_max_rate_applies_to_a_run_over_http_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(OptionError, match="max_rate applies to to: a run in memory"):
        RunOptions(max_rate=5)
    with pytest.raises(OptionError, match=r"spaces requests 60 s apart, more than half of"):
        RunOptions(max_rate=1 / 60, to="http://127.0.0.1:8080")
    assert RunOptions(max_rate=5, to="http://127.0.0.1:8080").max_rate == 5
    assert main(["run", "--max-rate", "5"]) == 2
    assert "error: --max-rate applies to --to" in capsys.readouterr().err
