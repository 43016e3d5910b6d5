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
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from playersim.reporting.record import (
    MAX_TS,
    AdRecord,
    ChapterRecord,
    SessionRecord,
    StateRecord,
)
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
_STATE_METRICS: Final = ("state_set", "state_count", "state_time")
_CHAPTER_METRICS: Final = (
    "chapter_starts",
    "chapter_completes",
    "chapter_skips",
    "chapter_time_spent",
)
# Viewers watching at once are counted at every step of this many minutes.
CONCURRENCY_STEP_MIN: Final = 5
# ... or a wider step, so that a window of weeks (or a session stamped in another century)
# gives at most this many points.
CONCURRENCY_POINTS: Final = 2_000


def _instant(ms: int) -> str:
    ms = min(max(ms, 0), MAX_TS)  # (a close 10 minutes after an event stamped in 9999)
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def local_time(ms: int, zone: ZoneInfo) -> datetime:
    """The instant in the report's zone (in UTC at the very ends of the calendar, where the
    zone's clock would be in year 0 or 10000)."""
    moment = datetime.fromtimestamp(min(max(ms, 0), MAX_TS) / 1000, tz=UTC)
    try:
        return moment.astimezone(zone)
    except (OverflowError, ValueError):
        return moment


def _value(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def session_row(record: SessionRecord, zone: ZoneInfo) -> dict[str, Any]:
    """A session's row: SESSION_COLUMNS' values, in their order."""
    local = local_time(record.start_ms, zone)
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


def state_row(state: StateRecord) -> dict[str, Any]:
    return {
        "sid": state.sid,
        "state": state.name,
        "state_set": state.is_set,
        "state_count": state.count,
        "state_time": _value(state.time),
    }


@dataclass
class Report:
    """The answer key of a set of sessions: the roll-ups, `totals` (every session's counts and
    times added up), and the records, whose rows (`sessions`, `ads`, `chapters`, `states`:
    the CSV files' rows) are made when asked, not kept: a day of 20,000 viewers holds its
    records once."""

    timezone: str
    totals: dict[str, Any]
    rollups: dict[str, list[dict[str, Any]]]
    # Viewers watching at each step of the window: (instant, how many).
    concurrency: list[tuple[str, int]] = field(default_factory=list)
    records: list[SessionRecord] = field(default_factory=list, repr=False)

    def session_rows(self) -> Iterator[dict[str, Any]]:
        zone = ZoneInfo(self.timezone)
        return (session_row(record, zone) for record in self.records)

    def ad_rows(self) -> Iterator[dict[str, Any]]:
        return (ad_row(ad) for record in self.records for ad in record.ads)

    def chapter_rows(self) -> Iterator[dict[str, Any]]:
        return (chapter_row(c) for record in self.records for c in record.chapters)

    def state_rows(self) -> Iterator[dict[str, Any]]:
        return (state_row(s) for record in self.records for s in record.states)

    @property
    def sessions(self) -> list[dict[str, Any]]:
        """`sessions.csv`'s rows."""
        return list(self.session_rows())

    @property
    def ads(self) -> list[dict[str, Any]]:
        """`ads.csv`'s rows."""
        return list(self.ad_rows())

    @property
    def chapters(self) -> list[dict[str, Any]]:
        """`chapters.csv`'s rows."""
        return list(self.chapter_rows())

    @property
    def states(self) -> list[dict[str, Any]]:
        """`states.csv`'s rows."""
        return list(self.state_rows())

    def to_json(self) -> dict[str, Any]:
        """`report.json`: the totals, the roll-ups and the concurrency."""
        return {
            "timezone": self.timezone,
            "totals": self.totals,
            "rollups": self.rollups,
            "concurrency": [{"at": at, "viewers": viewers} for at, viewers in self.concurrency],
        }


class _Rollup:
    """Rows grouped by `keys`, their `metrics` added up as the rows come (in their order, so
    the sums are those of adding the rows' values one after the other)."""

    def __init__(self, keys: tuple[str, ...], metrics: Sequence[str], *, averages: bool) -> None:
        self.keys, self.metrics, self.averages = keys, metrics, averages
        self.groups: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        key = tuple(row[k] for k in self.keys)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = {"count": 0, **dict.fromkeys(self.metrics, 0)}
            if self.averages:
                group["time_to_start"], group["average_bitrate"] = [], []
        group["count"] += 1
        for metric in self.metrics:
            group[metric] += row[metric] or 0
        if self.averages:
            for name in ("time_to_start", "average_bitrate"):
                if row[name] is not None:
                    group[name].append(row[name])

    def rows(self) -> list[dict[str, Any]]:
        """One row per value of the keys, in their order."""
        out = []
        for key in sorted(self.groups, key=lambda k: tuple("" if v is None else str(v) for v in k)):
            group = self.groups[key]
            summed: dict[str, Any] = dict(zip(self.keys, key, strict=True))
            summed["sessions" if self.averages else "rows"] = group["count"]
            for metric in self.metrics:
                total = group[metric]
                summed[metric] = round(total, 3) if isinstance(total, float) else total
            if self.averages:
                summed["average_time_to_start"] = _mean(group["time_to_start"])
                summed["average_bitrate"] = _mean(group["average_bitrate"])
            out.append(summed)
        return out


def build_report(records: Iterable[SessionRecord], *, timezone: str = "UTC") -> Report:
    """The report of these sessions, days and hours in `timezone` (an IANA name): each row
    made once, added to every roll-up, and let go."""
    zone = ZoneInfo(timezone)
    kept = sorted(records, key=lambda r: (r.start_ms, r.sid))
    by_sessions = {
        name: _Rollup(keys, ROLLUP_METRICS, averages=True)
        for name, keys in SESSION_DIMENSIONS.items()
    }
    everything = _Rollup((), ROLLUP_METRICS, averages=True)
    by_ads = {
        name: _Rollup(keys, _AD_METRICS, averages=False) for name, keys in AD_DIMENSIONS.items()
    }
    by_chapter = _Rollup(("chapter_name",), _CHAPTER_METRICS, averages=False)
    by_state = _Rollup(("state",), _STATE_METRICS, averages=False)
    for record in kept:
        row = session_row(record, zone)
        everything.add(row)
        for rollup in by_sessions.values():
            rollup.add(row)
        for ad in record.ads:
            one = ad_row(ad)
            for rollup in by_ads.values():
                rollup.add(one)
        for chapter in record.chapters:
            by_chapter.add(chapter_row(chapter))
        for state in record.states:
            by_state.add(state_row(state))
    rollups = {name: rollup.rows() for name, rollup in by_sessions.items()}
    rollups.update({name: rollup.rows() for name, rollup in by_ads.items()})
    rollups["chapter"] = by_chapter.rows()
    rollups["state"] = by_state.rows()
    totals = everything.rows()
    return Report(
        timezone=timezone,
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


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _concurrency(records: Sequence[SessionRecord]) -> list[tuple[str, int]]:
    """Sessions watching (between their first and last event) at each step of the window."""
    if not records:
        return []
    step = CONCURRENCY_STEP_MIN * 60_000
    span = max(r.last_ms for r in records) - min(r.start_ms for r in records)
    step *= max(1, -(-span // (step * CONCURRENCY_POINTS)))
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


def _csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Rows written to `path` as they come (a day's rows are never all in memory at once)."""
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def _rollup_columns(name: str, rows: list[dict[str, Any]]) -> list[str]:
    if rows:
        return list(rows[0])
    keys = SESSION_DIMENSIONS.get(name) or AD_DIMENSIONS.get(name) or (name,)
    return [*keys, "rows"]


def _described(column: Column) -> dict[str, str]:
    return {
        "name": column.name,
        "type": column.kind,
        "unit": column.unit,
        "description": column.description,
        "adobe": column.adobe,
    }


def rollup_schema(name: str) -> list[dict[str, str]]:
    """The columns of `rollups/<name>.csv`: its keys, how many rows of the source it adds up,
    then each sum (and, for sessions, the two averages)."""
    source: Sequence[Column]
    keys: tuple[str, ...]
    metrics: Sequence[str]
    if name in SESSION_DIMENSIONS or name == "totals":
        source, metrics, counted = SESSION_COLUMNS, ROLLUP_METRICS, "sessions"
        keys = SESSION_DIMENSIONS.get(name, ())
    elif name in AD_DIMENSIONS:
        source, keys, metrics, counted = AD_COLUMNS, AD_DIMENSIONS[name], _AD_METRICS, "ads"
    elif name == "chapter":
        source, metrics, counted = CHAPTER_COLUMNS, _CHAPTER_METRICS, "chapters"
        keys = ("chapter_name",)
    else:
        source, keys, metrics, counted = STATE_COLUMNS, ("state",), _STATE_METRICS, "states"
    by_name = {column.name: column for column in source}
    count = "sessions" if counted == "sessions" else "rows"
    columns = [_described(by_name[key]) for key in keys]
    columns.append(
        {
            "name": count,
            "type": "integer",
            "unit": "",
            "adobe": "",
            "description": f"how many {counted} the row adds up",
        }
    )
    for metric in metrics:
        column = by_name[metric]
        columns.append(
            {
                **_described(column),
                "description": f"sum over the row's {counted}: {column.description}",
            }
        )
    if counted == "sessions":
        for metric, shown in (("time_to_start", "average_time_to_start"),
                              ("average_bitrate", "average_bitrate")):  # fmt: skip
            mean = {
                **_described(by_name[metric]),
                "name": shown,
                "description": f"mean {metric} of the row's sessions that had one (empty: none)",
            }
            columns.append(mean)
    return columns


def schema() -> dict[str, Any]:
    """`schema.json`: each file's columns, with type, unit, meaning and Adobe metric."""
    return {
        "sessions.csv": [_described(c) for c in SESSION_COLUMNS],
        "ads.csv": [_described(c) for c in AD_COLUMNS],
        "chapters.csv": [_described(c) for c in CHAPTER_COLUMNS],
        "states.csv": [_described(c) for c in STATE_COLUMNS],
        **{
            f"rollups/{name}.csv": rollup_schema(name)
            for name in (*SESSION_DIMENSIONS, *AD_DIMENSIONS, "chapter", "state")
        },
        "report.json totals": rollup_schema("totals"),
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
    tables = {
        "sessions.csv": (SESSION_COLUMNS, report.session_rows()),
        "ads.csv": (AD_COLUMNS, report.ad_rows()),
        "chapters.csv": (CHAPTER_COLUMNS, report.chapter_rows()),
        "states.csv": (STATE_COLUMNS, report.state_rows()),
    }
    written = []
    for name, (columns, rows) in tables.items():
        _csv(root / name, [c.name for c in columns], rows)
        written.append(root / name)
    with open(root / "sessions.ndjson", "w", encoding="utf-8") as stream:
        for row, record in zip(report.session_rows(), report.records, strict=True):
            stream.write(json.dumps(_nested(row, record), separators=(",", ":")) + "\n")
    written.append(root / "sessions.ndjson")
    for name, rolled in report.rollups.items():
        _csv(root / "rollups" / f"{name}.csv", _rollup_columns(name, rolled), rolled)
        written.append(root / "rollups" / f"{name}.csv")
    texts = {
        "report.json": json.dumps(report.to_json(), indent=1) + "\n",
        "schema.json": json.dumps(schema(), indent=1) + "\n",
    }
    if html is not None:
        texts["report.html"] = html(report)
    for name, text in texts.items():
        (root / name).write_text(text, encoding="utf-8")
        written.append(root / name)
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
