"""`report.html` (`playersim.reporting.page`): every figure on the page is the CSV's, the charts
are drawn, text from traffic is escaped; and, in headless Chromium, the page of a simulated day
opens without a console error, each chart has a size and marks, and what it shows is what the
files beside it hold."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from playersim import RunOptions, run
from playersim.reporting.page import fragment, render
from playersim.reporting.record import SessionRecord
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import Report, build_report, write_report
from playersim.runner import Run
from tests.waiting import BOUND_S

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The charts every page has, by the id of their SVG.
CHARTS = {
    "chart-audience",
    "chart-funnel",
    "chart-content-type",
    "chart-quality",
    "chart-ads-by-pod-position",
    "chart-ads-by-break",
}
HOSTILE = "<script>alert('x')</script> & \"Bob's\" <img src=x onerror=alert(1)>"


def simulated(sessions: int, hours: int) -> list[SessionRecord]:
    """The records of a simulated window, as `playersim run --report` meters them."""
    options = RunOptions(
        sessions=sessions, duration=timedelta(hours=hours), start="2026-03-02T05:00:00Z", seed=7
    )
    with Run(options) as prepared:
        reporter = Reporter()
        reporter.follow(prepared.engine)
        prepared.go()
        prepared.finish()
    return reporter.finish()


@pytest.fixture(scope="module")
def records() -> list[SessionRecord]:
    return simulated(40, 6)


@pytest.fixture(scope="module")
def report(records: list[SessionRecord]) -> Report:
    return build_report(records, timezone="America/New_York")


# --- what a page shows, and the tables it must match ----------------------------------------


@dataclasses.dataclass(frozen=True)
class Shown:
    """An element of the page carrying a figure: its data-* attributes and its text."""

    tag: str
    source: str
    key: str
    series: str
    value: str
    unit: str
    derived: str
    text: str


class _Figures(HTMLParser):
    """Every element with `data-value`, with the text inside it (for <rect> and <circle>, the
    tooltip of their <title>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: list[Shown] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.scripts = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "script":
            self.scripts += 1
        values = {name: value or "" for name, value in attrs}
        if "data-value" in values:
            self._open.append((tag, values, []))
        elif self._open and tag not in ("title", "tspan"):
            self._open.append((tag, {}, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        tag, values, text = self._open.pop()
        if values:
            self.shown.append(
                Shown(tag, values["data-source"], values["data-key"], values["data-series"],
                      values["data-value"], values.get("data-unit", ""),
                      values.get("data-derived", ""), "".join(text))
            )  # fmt: skip


def figures_of(page: str) -> list[Shown]:
    parser = _Figures()
    parser.feed(page)
    return parser.shown


def tables_of_report(report: Report) -> dict[str, dict[str, dict[str, str]]]:
    """source -> row key -> column -> the value as the CSV writes it, from a Report."""

    def cells(row: dict[str, Any]) -> dict[str, str]:
        return {name: "" if value is None else str(value) for name, value in row.items()}

    tables = {
        "totals": {"": cells(report.totals)},
        "concurrency": {at: {"viewers": str(n)} for at, n in report.concurrency},
    }
    keys = {"hour": "hour", "content_type": "content_type", "device": "device",
            "pod_position": "pod_position", "ad_break": "break_kind"}  # fmt: skip
    for name, key in keys.items():
        tables[f"rollups/{name}.csv"] = {
            str(row[key]) if row[key] is not None else "": cells(row)
            for row in report.rollups[name]
        }
    return tables


def tables_of_files(directory: Path) -> dict[str, dict[str, dict[str, str]]]:
    """The same, read back from the files `write_report` wrote: the CSVs, and report.json for
    the totals and the concurrency (checked against sessions.csv, of which they are sums)."""
    with (directory / "sessions.csv").open(newline="", encoding="utf-8") as stream:
        sessions = list(csv.DictReader(stream))
    data = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    totals = {k: "" if v is None else str(v) for k, v in data["totals"].items()}
    assert totals["sessions"] == str(len(sessions))
    for column in ("media_starts", "content_starts", "content_completes", "ad_starts",
                   "drops_before_start", "progress25", "progress95"):  # fmt: skip
        assert totals[column] == str(sum(int(row[column]) for row in sessions)), column
    for column in ("content_time_spent", "ad_time_spent"):
        assert totals[column] == str(round(sum(float(row[column]) for row in sessions), 3))
    tables = {
        "totals": {"": totals},
        "concurrency": {p["at"]: {"viewers": str(p["viewers"])} for p in data["concurrency"]},
    }
    keys = {"hour": "hour", "content_type": "content_type", "device": "device",
            "pod_position": "pod_position", "ad_break": "break_kind"}  # fmt: skip
    for name, key in keys.items():
        with (directory / "rollups" / f"{name}.csv").open(newline="", encoding="utf-8") as stream:
            tables[f"rollups/{name}.csv"] = {row[key]: row for row in csv.DictReader(stream)}
    return tables


def check_figures(shown: list[Shown], tables: dict[str, dict[str, dict[str, str]]]) -> None:
    """Each figure is its table's value, shown as that value; and every row a chart draws from
    is on the page."""
    assert shown, "no figures on the page"
    for figure in shown:
        row = tables[figure.source][figure.key]
        if figure.derived:
            assert figure.derived == "buffer_time * 3600 / content_time_spent"
            content = float(row["content_time_spent"])
            expected = "" if content <= 0 else str(round(float(row["buffer_time"]) * 3600 /
                                                         content, 3))  # fmt: skip
        else:
            expected = row[figure.series]
        assert figure.value == expected, figure
        if figure.tag in ("rect", "circle"):
            continue  # (their text is a tooltip sentence)
        text = figure.text.strip()
        if figure.tag == "td":
            assert text == figure.value, figure  # the tables show the CSV's text itself
        elif figure.value == "":
            assert text == "\N{EN DASH}", figure
        elif figure.unit == "h":
            assert text == f"{float(figure.value) / 3600:,.1f}", figure
        else:
            assert text.replace(",", "") == figure.value, figure
    drawn = {(f.source, f.key) for f in shown if f.tag in ("rect", "circle")}
    for source in ("concurrency", "rollups/hour.csv", "rollups/content_type.csv",
                   "rollups/pod_position.csv", "rollups/ad_break.csv"):  # fmt: skip
        missing = {(source, key) for key in tables[source]} - drawn
        assert not missing, f"not drawn: {sorted(missing)[:5]}"


# --- the page, without a browser -----------------------------------------------------------------


def test_every_figure_on_the_page_is_the_reports(report: Report) -> None:
    page = render(report)
    shown = figures_of(page)
    check_figures(shown, tables_of_report(report))
    series = {(f.source, f.series) for f in shown}
    headlines = ("sessions", "media_starts", "content_starts", "content_completes",
                 "content_time_spent", "ad_starts", "drops_before_start", "progress50")  # fmt: skip
    for headline in headlines:
        assert ("totals", headline) in series
    for column in ("average_time_to_start", "buffer_time_per_content_hour", "average_bitrate"):
        assert ("rollups/device.csv", column) in series
    assert ("rollups/content_type.csv", "ad_time_spent") in series


def test_the_page_is_the_same_for_the_same_report(records: list[SessionRecord]) -> None:
    first = render(build_report(records, timezone="Europe/Berlin"))
    shuffled = list(records)
    random.Random(3).shuffle(shuffled)
    assert render(build_report(shuffled, timezone="Europe/Berlin")) == first
    assert render(build_report(records, timezone="UTC")) != first  # hours moved


def test_text_from_traffic_is_escaped(records: list[SessionRecord]) -> None:
    hostile = [
        dataclasses.replace(r, device=HOSTILE, content_type=HOSTILE, media_name=HOSTILE)
        for r in records
    ]
    for live in (False, True):
        page = render(build_report(hostile), live=live)
        assert HOSTILE not in page
        assert "<img" not in page
        parser = _Figures()
        parser.feed(page)
        # Only the live page's own script; the hostile name is text, and a data-key.
        assert parser.scripts == (1 if live else 0)
        assert "img" not in parser.tags
        keys = {f.key for f in parser.shown if f.source == "rollups/device.csv"}
        assert keys == {HOSTILE}
    # Nothing but the live page's own figures may be fetched, whatever slipped through.
    assert "default-src 'none'" in render(build_report(hostile))


def test_an_empty_report_draws_empty_charts(records: list[SessionRecord]) -> None:
    page = render(build_report([]), live=True)
    assert page.count('class="empty">No sessions yet') == 4
    assert page.count('class="empty">No ads yet') == 2
    assert all(f'id="{chart}"' in page for chart in CHARTS)
    assert "fetch(" in page
    assert "connect-src 'self'" in page
    # The fragment the live page swaps in is the page's own <main>.
    report = build_report(records)
    assert f'<main id="report">{fragment(report)}</main>' in render(report, live=True)


# --- in Chromium -------------------------------------------------------------------------------


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Selenium, collecting the console; skipped without them,
    unless PLAYERSIM_REQUIRE_BROWSER=1 (CI), where a missing browser fails."""
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("PLAYERSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PLAYERSIM_REQUIRE_BROWSER=1, but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1800"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


# Every element carrying a figure, read in the browser: what it says and what it shows.
READ_FIGURES = """
return Array.from(document.querySelectorAll('[data-value]')).map(function (e) {
  var d = e.dataset, title = e.querySelector('title');
  return [e.tagName.toLowerCase(), d.source, d.key, d.series, d.value, d.unit || '',
          d.derived || '', e.tagName === 'rect' || e.tagName === 'circle'
            ? (title ? title.textContent : '') : e.textContent];
});
"""
READ_CHARTS = """
return Array.from(document.querySelectorAll('svg.chart')).map(function (s) {
  var box = s.getBoundingClientRect(), title = s.querySelector(':scope > title');
  return [s.id, box.width, box.height, s.querySelectorAll('.mark').length,
          title ? title.textContent : ''];
});
"""


@pytest.mark.slow
def test_a_days_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    report = build_report(simulated(150, 24), timezone="America/New_York")
    write_report(report, tmp_path, html=render)
    browser.get((tmp_path / "report.html").as_uri())
    assert browser.title == "playersim: media analytics report"
    charts = browser.execute_script(READ_CHARTS)
    assert {chart[0] for chart in charts} == CHARTS
    for name, width, height, marks, title in charts:
        assert width > 0, name
        assert height > 0, name
        assert marks > 0, name
        assert title, name
    shown = [Shown(*row) for row in browser.execute_script(READ_FIGURES)]
    check_figures(shown, tables_of_files(tmp_path))
    # The headline's session count, as a reader sees it.
    sessions = browser.execute_script(
        "return document.querySelector('.figure-value[data-series=sessions]').textContent"
    )
    assert sessions.replace(",", "") == str(len(report.sessions))
    assert console_errors(browser) == []


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """`playersim serve` on a free loopback port: yields its URL, then stops it (SIGTERM)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once it listens
        assert line.startswith("playersim serve: listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=BOUND_S)
    assert "Traceback" not in err, err


SESSIONS_SHOWN = """
var e = document.querySelector('.figure-value[data-series=sessions]');
return e ? e.dataset.value : null;
"""


@pytest.mark.slow
def test_the_live_report_follows_the_traffic_without_reloading(browser: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    def shows(sessions: int) -> None:
        WebDriverWait(browser, BOUND_S).until(
            lambda driver: driver.execute_script(SESSIONS_SHOWN) == str(sessions),
            f"the page never showed {sessions} sessions",
        )

    with serving() as url:
        browser.get(f"{url}/report")
        assert browser.execute_script(SESSIONS_SHOWN) == "0"
        # Gone if the page were loaded again: the figures must come in without a reload.
        browser.execute_script("window.notReloaded = true;")
        first = run(to=url, profiles=["ugc-clip"], sessions=3, seed=1).sessions_started
        shows(first)
        assert browser.execute_script("return window.notReloaded") is True
        assert "Live: updated" in browser.find_element("id", "live-status").text
        second = run(to=url, profiles=["vod-episode"], sessions=2, seed=2).sessions_started
        shows(first + second)
        assert browser.execute_script("return window.notReloaded") is True
        charts = browser.execute_script(READ_CHARTS)
        assert {chart[0] for chart in charts} == CHARTS
        assert all(chart[1] > 0 and chart[2] > 0 for chart in charts)
        assert console_errors(browser) == []
