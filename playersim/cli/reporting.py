"""`playersim report`: the answer key of a recording (what Adobe will report for its traffic),
and the answer key's summary that `playersim run --report` and `playersim serve --report` print.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playersim.cli import flags
from playersim.cli.report import fail
from playersim.reporting.page import render
from playersim.reporting.reporter import Reporter, ReportInputError
from playersim.reporting.rollup import Report, build_report, write_report

__all__ = ["ReportCommand", "add_report", "answer_key_lines", "report_command", "write_answer_key"]

PROG = "playersim report"


@dataclass(frozen=True, slots=True)
class ReportCommand:
    """What `playersim report` was asked: the recording, where to write, which time zone."""

    file: str
    out: str | None = None
    timezone: str = "UTC"
    tenant: str | None = None
    json: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReportCommand:
        return cls(args.file, args.out, args.timezone or "UTC", args.tenant, args.json)


def add_report(commands: argparse._SubParsersAction[flags.Parser]) -> None:
    """`playersim report` and its flags."""
    report = commands.add_parser(
        "report",
        help="what Adobe will report for a recording's traffic (the answer key)",
        description="Compute Adobe's reporting metrics for every session of a recording (from "
        "`playersim run --record` or `playersim serve --record`, over the MCA or the Media "
        "Edge API): one record per session, ad, chapter and player state, roll-ups by hour, "
        "day, content, show, channel, content type, device, platform, ad and chapter, and an "
        "HTML page of charts. Prints the totals; --out DIR writes the files.",
    )
    report.add_argument(
        "file", metavar="FILE", help="an NDJSON recording: plain, gzip or Zstandard (.gz, .zst)"
    )
    report.add_argument(
        "--out",
        metavar="DIR",
        help="write sessions.csv, ads.csv, chapters.csv, states.csv, sessions.ndjson, "
        "rollups/*.csv, report.json, schema.json and report.html into DIR",
    )
    report.add_argument(
        "--timezone",
        type=flags.timezone,
        metavar="ZONE",
        help="the time zone of the days and hours the roll-ups use, e.g. America/New_York "
        "(default UTC)",
    )
    report.add_argument(
        "--tenant",
        type=flags.tenant,
        metavar="NAME",
        help="the org's XDM namespace that Media Edge customMetadata names carry, e.g. _acme",
    )
    report.add_argument(
        "--json", action="store_true", help="print the totals as JSON instead of a table"
    )


def write_answer_key(report: Report, directory: str | Path) -> Path:
    """Write every file of the answer key into `directory`; the HTML page's path."""
    write_report(report, directory, html=render)
    return Path(directory) / "report.html"


def answer_key_lines(report: Report) -> list[str]:
    """The answer key's totals, as lines for people: the funnel, time spent, ads, quality."""
    t = report.totals

    def share(part: Any, whole: Any, of: str) -> str:
        return f" ({part / whole:.1%} {of})" if whole else ""

    hours = t["content_time_spent"] / 3600
    return [
        f"answer key: {t['sessions']:,} sessions (days and hours in {report.timezone})",
        f"  media starts {t['media_starts']:,}, content starts {t['content_starts']:,}"
        f"{share(t['content_starts'], t['media_starts'], 'of media starts')}, content completes "
        f"{t['content_completes']:,}"
        f"{share(t['content_completes'], t['content_starts'], 'of content starts')}, "
        f"drops before start {t['drops_before_start']:,}",
        f"  content time {hours:,.1f} h, media time {t['media_time_spent'] / 3600:,.1f} h, "
        f"average minute audience {t['average_minute_audience']:,.3f}",
        f"  ad starts {t['ad_starts']:,}, ad completes {t['ad_completes']:,}, ad time "
        f"{t['ad_time_spent'] / 3600:,.1f} h; chapter starts {t['chapter_starts']:,}",
        f"  buffer events {t['buffer_events']:,} ({t['buffer_time']:,.0f} s), pause events "
        f"{t['pause_events']:,}, errors {t['error_events']:,}, average time to start "
        f"{_or_dash(t['average_time_to_start'], 's')}, average bitrate "
        f"{_or_dash(t['average_bitrate'], 'kbps')}",
    ]


def _or_dash(value: float | None, unit: str) -> str:
    return (
        "-" if value is None else f"{value:,.3f} {unit}" if unit == "s" else f"{value:,.0f} {unit}"
    )


def report_command(command: ReportCommand) -> int:
    if command.out is not None and not command.out:
        # (An unset shell variable: `--out $KEY`.) Not the current directory, unasked.
        return fail(PROG, "--out is empty: give the directory to write into")
    try:
        reporter = Reporter.from_recording(command.file, tenant=command.tenant)
    except ReportInputError as exc:
        return fail(PROG, str(exc))
    records = reporter.finish()
    if not records:
        return fail(PROG, f"{command.file}: no session the back end accepted")
    report = build_report(records, timezone=command.timezone)
    if command.out is not None:
        try:
            page = write_answer_key(report, command.out)
        except OSError as exc:
            return fail(PROG, f"--out: cannot write {command.out!r}: {exc.strerror or exc}")
    if command.json:
        print(json.dumps(report.totals, indent=2))
    else:
        print("\n".join(answer_key_lines(report)))
        if command.out is not None:
            print(f"  files: {command.out} (open {page})")
    sys.stdout.flush()
    return 0
