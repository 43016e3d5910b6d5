"""Sessions' records rolled up by the dimensions people report on, and written as files.

`build_report(records, timezone=...)` gives a `Report`: the totals, a roll-up per dimension (hour
and day in the audience's time zone, content, show, channel, content type, device, platform,
profile), ads by ad, by break and by pod position, chapters by chapter, player states by state,
and viewers watching at once through the window. `write_report(report, directory)` writes:

- `sessions.csv`, `ads.csv`, `chapters.csv`, `states.csv`: one row per session, ad, chapter and
  player state (`playersim.reporting.tables` describes every column);
- `sessions.ndjson`: one JSON record per session, its ads, chapters and states inside;
- `rollups/<dimension>.csv` and `report.json` (the totals, every roll-up and the concurrency);
- `schema.json`: every file's columns, types, units and the Adobe metric each is;
- `report.html`: the charts (`playersim.reporting.page`).

Every roll-up's rows add up to the totals, column for column: each session is in exactly one row
of each session dimension, each ad in one row of each ad roll-up.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from playersim.reporting.record import AdRecord, ChapterRecord, SessionRecord
from playersim.reporting.tables import (
    AD_COLUMNS,
    CHAPTER_COLUMNS,
    ROLLUP_METRICS,
    SESSION_COLUMNS,
    STATE_COLUMNS,
    Column,
)

__all__ = [
    "AD_DIMENSIONS",
    "SESSION_DIMENSIONS",
    "Report",
    "build_report",
    "write_report",
]

# The session roll-ups: file name -> the column(s) a row is keyed by.
SESSION_DIMENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "hour": ("hour",),
    "day": ("day",),
    "content": ("media_id", "media_name"),
    "show": ("show",),
    "channel": ("channel",),
    "content_type": ("content_type",),
    "device": ("device",),
    "platform": ("platform",),
    "profile": ("profile",),
}
# The ad roll-ups.
AD_DIMENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "ad": ("ad_id", "ad_name", "advertiser"),
    "ad_break": ("break_kind",),
    "pod_position": ("pod_position",),
}
_AD_METRICS: Final = ("ad_starts", "ad_completes", "ad_skips", "ad_time_spent")
_CHAPTER_METRICS: Final = (
    "chapter_starts",
    "chapter_completes",
    "chapter_skips",
    "chapter_time_spent",
)
# Viewers watching at once are counted at every step of this many minutes.
CONCURRENCY_STEP_MIN: Final = 5


def _instant(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _value(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def session_row(record: SessionRecord, zone: ZoneInfo) -> dict[str, Any]:
    """A session's row: SESSION_COLUMNS' values, in their order."""
    local = datetime.fromtimestamp(record.start_ms / 1000, tz=zone)
    derived = {
        "start": _instant(record.start_ms),
        "day": local.strftime("%Y-%m-%d"),
        "hour": local.strftime("%Y-%m-%dT%H:00"),
        "last_event": _instant(record.last_ms),
        "close": _instant(record.close_ms),
    }
    return {
        column.name: derived[column.name]
        if column.name in derived
        else _value(getattr(record, column.name))
        for column in SESSION_COLUMNS
    }


def ad_row(ad: AdRecord) -> dict[str, Any]:
    return {
        "sid": ad.sid,
        "start": _instant(ad.start_ms),
        "break_index": ad.break_index,
        "break_kind": ad.break_kind,
        "break_name": ad.break_name,
        "pod_position": ad.pod_position,
        "ad_id": ad.ad_id,
        "ad_name": ad.ad_name,
        "advertiser": ad.advertiser,
        "campaign": ad.campaign,
        "length": ad.length,
        "ad_starts": ad.starts,
        "ad_completes": ad.completes,
        "ad_skips": ad.skips,
        "ad_time_spent": _value(ad.time_spent),
    }


def chapter_row(chapter: ChapterRecord) -> dict[str, Any]:
    return {
        "sid": chapter.sid,
        "start": _instant(chapter.start_ms),
        "chapter_index": chapter.index,
        "chapter_name": chapter.name,
        "offset": chapter.offset,
        "length": chapter.length,
        "chapter_starts": chapter.starts,
        "chapter_completes": chapter.completes,
        "chapter_skips": chapter.skips,
        "chapter_time_spent": _value(chapter.time_spent),
    }


@dataclass
class Report:
    """The answer key of a set of sessions: rows per session, ad, chapter and state, and the
    roll-ups. `totals` adds up every session's counts and times."""

    timezone: str
    sessions: list[dict[str, Any]]
    ads: list[dict[str, Any]]
    chapters: list[dict[str, Any]]
    states: list[dict[str, Any]]
    totals: dict[str, Any]
    rollups: dict[str, list[dict[str, Any]]]
    # Viewers watching at each step of the window: (instant, how many).
    concurrency: list[tuple[str, int]] = field(default_factory=list)
    records: list[SessionRecord] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """`report.json`: the totals, the roll-ups and the concurrency."""
        return {
            "timezone": self.timezone,
            "totals": self.totals,
            "rollups": self.rollups,
            "concurrency": [{"at": at, "viewers": viewers} for at, viewers in self.concurrency],
        }


def build_report(records: Iterable[SessionRecord], *, timezone: str = "UTC") -> Report:
    """The report of these sessions, days and hours in `timezone` (an IANA name)."""
    zone = ZoneInfo(timezone)
    kept = sorted(records, key=lambda r: (r.start_ms, r.sid))
    sessions = [session_row(record, zone) for record in kept]
    ads = [ad_row(ad) for record in kept for ad in record.ads]
    chapters = [chapter_row(chapter) for record in kept for chapter in record.chapters]
    states = [
        {
            "sid": s.sid,
            "state": s.name,
            "state_set": s.is_set,
            "state_count": s.count,
            "state_time": _value(s.time),
        }
        for record in kept
        for s in record.states
    ]
    rollups = {
        name: _roll(sessions, keys, ROLLUP_METRICS, averages=True)
        for name, keys in SESSION_DIMENSIONS.items()
    }
    for name, keys in AD_DIMENSIONS.items():
        rollups[name] = _roll(ads, keys, _AD_METRICS)
    rollups["chapter"] = _roll(chapters, ("chapter_name",), _CHAPTER_METRICS)
    rollups["state"] = _roll(states, ("state",), ("state_set", "state_count", "state_time"))
    totals = _roll(sessions, (), ROLLUP_METRICS, averages=True)
    return Report(
        timezone=timezone,
        sessions=sessions,
        ads=ads,
        chapters=chapters,
        states=states,
        totals=totals[0] if totals else _empty_totals(),
        rollups=rollups,
        concurrency=_concurrency(kept),
        records=kept,
    )


def _empty_totals() -> dict[str, Any]:
    return {
        "sessions": 0,
        **dict.fromkeys(ROLLUP_METRICS, 0),
        "average_time_to_start": None,
        "average_bitrate": None,
    }


def _roll(
    rows: Sequence[dict[str, Any]],
    keys: tuple[str, ...],
    metrics: Sequence[str],
    *,
    averages: bool = False,
) -> list[dict[str, Any]]:
    """One row per value of `keys`, the `metrics` added up (and, for sessions, the average
    time to start and bitrate of those that had one), in the order of the keys."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    out = []
    for key in sorted(groups, key=lambda k: tuple(("" if v is None else str(v)) for v in k)):
        members = groups[key]
        summed: dict[str, Any] = dict(zip(keys, key, strict=True))
        summed["rows" if not averages else "sessions"] = len(members)
        for metric in metrics:
            total = sum(row[metric] or 0 for row in members)
            summed[metric] = round(total, 3) if isinstance(total, float) else total
        if averages:
            summed["average_time_to_start"] = _mean(members, "time_to_start")
            summed["average_bitrate"] = _mean(members, "average_bitrate")
        out.append(summed)
    return out


def _mean(rows: Sequence[dict[str, Any]], name: str) -> float | None:
    values = [row[name] for row in rows if row[name] is not None]
    return round(sum(values) / len(values), 3) if values else None


def _concurrency(records: Sequence[SessionRecord]) -> list[tuple[str, int]]:
    """Sessions watching (between their first and last event) at each step of the window."""
    if not records:
        return []
    step = CONCURRENCY_STEP_MIN * 60_000
    first = min(r.start_ms for r in records) // step * step
    last = max(r.last_ms for r in records)
    changes: dict[int, int] = {}
    for record in records:
        # Counted at every step within [start, last event]: a step at the start counts it.
        begin = -(-record.start_ms // step) * step
        end = record.last_ms // step * step
        if begin <= end:
            changes[begin] = changes.get(begin, 0) + 1
            changes[end + step] = changes.get(end + step, 0) - 1
    series, watching = [], 0
    for at in range(first, last // step * step + step, step):
        watching += changes.get(at, 0)
        series.append((_instant(at), watching))
    return series


# --- files ---------------------------------------------------------------------------------


def _csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def _rollup_columns(name: str, rows: list[dict[str, Any]]) -> list[str]:
    if rows:
        return list(rows[0])
    keys = SESSION_DIMENSIONS.get(name) or AD_DIMENSIONS.get(name) or (name,)
    return [*keys, "rows"]


def schema() -> dict[str, Any]:
    """`schema.json`: each file's columns, with type, unit, meaning and Adobe metric."""

    def described(columns: Sequence[Column]) -> list[dict[str, str]]:
        return [
            {
                "name": c.name,
                "type": c.kind,
                "unit": c.unit,
                "description": c.description,
                "adobe": c.adobe,
            }
            for c in columns
        ]

    return {
        "sessions.csv": described(SESSION_COLUMNS),
        "ads.csv": described(AD_COLUMNS),
        "chapters.csv": described(CHAPTER_COLUMNS),
        "states.csv": described(STATE_COLUMNS),
        "rollups/<dimension>.csv": {
            "dimensions": {
                **SESSION_DIMENSIONS,
                **AD_DIMENSIONS,
                "chapter": ("chapter_name",),
                "state": ("state",),
            },
            "session metrics": [
                "sessions",
                *ROLLUP_METRICS,
                "average_time_to_start",
                "average_bitrate",
            ],
            "ad metrics": ["rows", *_AD_METRICS],
            "chapter metrics": ["rows", *_CHAPTER_METRICS],
            "state metrics": ["rows", "state_set", "state_count", "state_time"],
        },
    }


def write_report(
    report: Report,
    directory: str | os.PathLike[str],
    *,
    html: Callable[[Report], str] | None = None,
) -> list[Path]:
    """Write the report's files into `directory` (made if need be); the paths written.
    `html`: what draws `report.html` (`playersim.reporting.page.render`)."""
    root = Path(directory)
    (root / "rollups").mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {
        "sessions.csv": _csv([c.name for c in SESSION_COLUMNS], report.sessions),
        "ads.csv": _csv([c.name for c in AD_COLUMNS], report.ads),
        "chapters.csv": _csv([c.name for c in CHAPTER_COLUMNS], report.chapters),
        "states.csv": _csv([c.name for c in STATE_COLUMNS], report.states),
        "sessions.ndjson": "".join(
            json.dumps(_nested(row, record), separators=(",", ":")) + "\n"
            for row, record in zip(report.sessions, report.records, strict=True)
        ),
        "report.json": json.dumps(report.to_json(), indent=1) + "\n",
        "schema.json": json.dumps(schema(), indent=1) + "\n",
    }
    for name, rows in report.rollups.items():
        files[f"rollups/{name}.csv"] = _csv(_rollup_columns(name, rows), rows)
    if html is not None:
        files["report.html"] = html(report)
    written = []
    for name, text in files.items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _nested(row: dict[str, Any], record: SessionRecord) -> dict[str, Any]:
    return {
        **row,
        "ads": [ad_row(ad) for ad in record.ads],
        "chapters": [chapter_row(chapter) for chapter in record.chapters],
        "states": [
            {"state": s.name, "state_set": s.is_set, "state_count": s.count, "state_time": s.time}
            for s in record.states
        ],
    }
