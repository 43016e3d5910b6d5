"""`playersim serve`'s report: `/report` (live page, fragment, JSON) is what the run that sent
the traffic meters itself, in either of Adobe's dialects; bad queries get a 4xx; `--report DIR`
writes the whole report when the server stops."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from playersim import Collector, RunOptions, SystemClock, run
from playersim.cli.app import main
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import build_report
from playersim.runner import Run
from playersim.server import create_app
from playersim.settings import AdobeSettings
from tests.test_server import running
from tests.waiting import BOUND_S

DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"


@pytest.fixture
def url() -> Iterator[str]:
    yield from running(create_app(Collector(SystemClock(), keep_events=False),
                                  timezone="Europe/Berlin"))  # fmt: skip


@pytest.mark.parametrize("api", ["mca", "edge"])
def test_the_servers_report_is_what_the_run_sent(url: str, api: str, tmp_path: Path) -> None:
    adobe = AdobeSettings(api="edge", datastream=DATASTREAM) if api == "edge" else None
    record = tmp_path / "run.ndjson"
    options = RunOptions(profiles=["ugc-clip", "vod-episode"], sessions=5, seed=4, to=url,
                         adobe=adobe, record=str(record))  # fmt: skip
    with Run(options) as prepared:
        own = Reporter()
        own.follow(prepared.engine)
        asyncio.run(prepared.go_async())
        stats = prepared.finish()
    answer = httpx.get(f"{url}/report?format=json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    served = answer.json()
    assert served["totals"]["sessions"] == stats.sessions_started > 0
    assert served["timezone"] == "Europe/Berlin"
    # The server read what the run sent: the same figures as the run's recording gives, hour
    # by hour and device by device.
    sent = Reporter.from_recording(record).finish()
    expected = build_report(sent, timezone="Europe/Berlin").to_json()
    assert served["totals"] == expected["totals"]
    for name in ("hour", "device", "content_type", "pod_position", "ad_break", "chapter"):
        assert served["rollups"][name] == expected["rollups"][name], name
    assert served["concurrency"] == expected["concurrency"]
    if api == "mca":
        # And as the run metered itself (the profile is the run's own knowledge, not on the
        # wire). Not so for Media Edge: there the run meters its MCA bodies before they are
        # written in Edge's form (whole-second playheads), which the back end reads.
        metered = build_report(own.finish(), timezone="Europe/Berlin").to_json()
        assert served["totals"] == metered["totals"]


def test_the_report_page_its_fragment_and_its_json(url: str) -> None:
    run(to=url, profiles=["ugc-clip"], sessions=2, seed=1)
    page = httpx.get(f"{url}/report")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.text.startswith("<!doctype html>")
    assert "window.setTimeout(refresh" in page.text  # the live page
    part = httpx.get(f"{url}/report?fragment=1")
    assert part.status_code == 200
    assert "<html" not in part.text
    assert f'<main id="report">{part.text}</main>' in page.text
    as_json = httpx.get(f"{url}/report", headers={"Accept": "application/json"})
    assert as_json.json()["totals"]["sessions"] == 2
    assert httpx.get(f"{url}/report?format=html&fragment=0").text == page.text
    # /stats says where the report is.
    assert "href='/report'" in httpx.get(f"{url}/stats").text


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("format=xml", "format must be html or json, not 'xml'"),
        ("fragment=yes", "fragment must be 0 or 1"),
        ("frmat=json", "not 'frmat'"),
        ("format=json&format=html", "give each parameter once"),
        ("format=json&fragment=1", "fragment=1 is a part of the HTML page"),
        ("format=%ff", "format must be html or json"),
    ],
)
def test_bad_report_queries_get_a_400(url: str, query: str, fragment: str) -> None:
    answer = httpx.get(f"{url}/report?{query}")
    assert answer.status_code == 400
    assert fragment in answer.json()["message"]


def test_report_takes_get_only(url: str) -> None:
    answer = httpx.post(
        f"{url}/report", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 405
    assert answer.json()["message"] == "POST is not allowed on /report: use GET"


def test_serve_refuses_a_report_directory_it_cannot_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["serve", "--port", "0", "--report", str(blocker / "report")]) == 2
    assert "--report: cannot write to" in capsys.readouterr().err


def test_serve_refuses_an_unknown_time_zone(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--timezone", "Mars/Olympus"])
    assert exit_.value.code == 2
    assert "--timezone" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_writes_the_report_when_it_stops(tmp_path: Path, sig: signal.Signals) -> None:
    directory = tmp_path / "report"
    command = [sys.executable, "-m", "playersim", "serve", "--port", "0", "--report",
               str(directory), "--timezone", "America/New_York"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        stats = run(to=url, profiles=["ugc-clip", "vod-episode"], sessions=4, seed=5)
        live = httpx.get(f"{url}/report?format=json").json()
    finally:
        process.send_signal(sig)
        _, err = process.communicate(timeout=BOUND_S)
    # Ctrl-C: playersim's own 130; SIGTERM: uvicorn re-raises it once the server has stopped.
    assert process.returncode in (0, -sig, 128 + sig), err
    assert "Traceback" not in err
    assert f"the report of {stats.sessions_started} sessions is in {directory}" in err
    written = json.loads((directory / "report.json").read_text())
    assert written["timezone"] == "America/New_York"
    assert written["totals"]["sessions"] == stats.sessions_started
    # The same sessions the live view showed (those still open now closed by their timeout).
    assert written["totals"]["media_starts"] == live["totals"]["media_starts"]
    for name in ("report.html", "sessions.csv", "schema.json", "rollups/device.csv"):
        assert (directory / name).stat().st_size > 0
    assert "window.setTimeout" not in (directory / "report.html").read_text()  # not live


def test_a_session_the_server_times_out_is_closed_in_its_report() -> None:
    """A viewer who walks away: when the collector closes the session by its idle timeout, the
    live report closes it too (no meter left open for ever), as the timeout closes it."""
    from playersim import VirtualClock, dry_run

    clock = VirtualClock(start="2026-01-01T12:00:00Z")
    collector = Collector(clock, keep_events=False, idle_timeout_s=60)
    reporter = Reporter(idle_timeout_ms=collector.idle_timeout_ms)
    (start,) = dry_run(profiles=["vod-movie"], sessions=1, show=1).requests
    for url in running(create_app(collector, reporter=reporter)):
        answer = httpx.post(f"{url}/api/v1/sessions", json=start.body)
        assert answer.status_code == 201
        assert reporter.open_sessions == 1
        clock.advance(61)  # a minute without an event: the collector's idle timeout
        report = httpx.get(f"{url}/report?format=json").json()
        assert report["totals"]["sessions"] == 1
        assert reporter.open_sessions == 0
        (record,) = reporter.records
        assert record.close_reason == "idle timeout"
        assert record.seconds_since_last_call == 60
