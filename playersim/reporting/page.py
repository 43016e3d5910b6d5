"""`report.html`: the answer key drawn as a page a person reads, from the same `Report` as the
CSV files beside it.

`render(report)` gives one self-contained page: inline CSS, charts as inline SVG drawn here (no
script library, nothing fetched: it opens from a file, offline, and a Content-Security-Policy
says so), the same bytes for the same report. `render(report, live=True)` adds a small script
that fetches `fragment(report)` again every few seconds (`playersim serve`'s `/report`) and
swaps it in, without reloading the page.

Every figure on the page is tied to the file it comes from, so a test (or a curious reader) can
check one against the other: an element showing a figure carries

- `data-source`: `totals` (report.json's totals), `concurrency` (report.json's concurrency) or
  `rollups/<dimension>.csv`;
- `data-key`: the row (the value of the roll-up's key column; a concurrency instant);
- `data-series`: the column; `data-value`: its value exactly as the CSV writes it (empty: none);
- `data-unit="h"` where the page shows seconds as hours (`data-value` stays the seconds).

One series is derived, said by `data-derived`: buffer time per hour of content watched
(`buffer_time * 3600 / content_time_spent`, rounded to 3 decimals). Shares in the funnel are
of media starts. Everything from traffic (device names, titles) is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from playersim.reporting.rollup import Report, local_time

__all__ = ["LIVE_INTERVAL_S", "TOP_DEVICES", "buffer_per_content_hour", "fragment", "render"]

# The live page fetches the figures again this often.
LIVE_INTERVAL_S: Final = 5
# The quality chart shows the devices with the most sessions, at most this many.
TOP_DEVICES: Final = 10
# Break kinds in the order they play, not alphabetical.
_BREAK_ORDER: Final = {"pre-roll": 0, "mid-roll": 1, "post-roll": 2}

# Palette: one colour per meaning, the same in every chart.
_BLUE, _SKY, _AMBER, _GREEN, _RED, _TEAL, _VIOLET = (
    "#2563eb",
    "#93c5fd",
    "#f59e0b",
    "#10b981",
    "#dc2626",
    "#0d9488",
    "#7c3aed",
)
_FONT: Final = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


# --- figures: the value the CSV holds, and the text the page shows ----------------------------


def _cell(value: Any) -> str:
    """A value as `csv` writes it (rollup._csv): None empty, numbers as `str` gives them."""
    return "" if value is None else str(value)


def _shown(value: Any, unit: str = "") -> str:
    """The text shown for a figure: numbers with thousands separators and otherwise as the CSV
    writes them (no rounding of its own), seconds as hours (`h`), none as a dash."""
    if value is None:
        return "\N{EN DASH}"
    if unit == "h":
        return f"{value / 3600:,.1f}"
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


def buffer_per_content_hour(row: dict[str, Any]) -> float | None:
    """Seconds of buffering per hour of content watched (None: no content watched)."""
    content = row.get("content_time_spent") or 0
    if content <= 0:
        return None
    return round((row.get("buffer_time") or 0) * 3600 / content, 3)


@dataclass(frozen=True, slots=True)
class _Figure:
    source: str
    key: str
    series: str
    value: Any
    unit: str = ""
    derived: str = ""

    def attributes(self) -> str:
        extra = f' data-unit="{self.unit}"' if self.unit else ""
        if self.derived:
            extra += f' data-derived="{_e(self.derived)}"'
        return (
            f'data-source="{_e(self.source)}" data-key="{_e(self.key)}" '
            f'data-series="{_e(self.series)}" data-value="{_e(_cell(self.value))}"{extra}'
        )


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _f(number: float) -> str:
    """An SVG coordinate: one decimal, never `-0.0` (the same bytes for the same report)."""
    text = f"{number:.1f}"
    return "0.0" if text == "-0.0" else text


# --- axes --------------------------------------------------------------------------------------


def _ticks(top: float, count: int = 5) -> tuple[list[float], float]:
    """Round tick values from 0 covering `top`, and the axis' end (the last tick)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0], 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = max(1, math.ceil(top / step - 1e-9))
    return [i * step for i in range(steps + 1)], steps * step


def _tick_text(value: float, scale: float = 1.0) -> str:
    value /= scale
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _svg(name: str, width: int, height: int, *, title: str, description: str, body: str) -> str:
    return (
        f'<svg class="chart" id="chart-{name}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="chart-{name}-title chart-{name}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{name}-title">{_e(title)}</title>'
        f'<desc id="chart-{name}-desc">{_e(description)}</desc>{body}</svg>'
    )


def _empty(name: str, width: int, title: str, message: str) -> str:
    body = (
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="119" rx="6" class="empty-box"/>'
        f'<text x="{width / 2:.0f}" y="64" text-anchor="middle" class="empty">{_e(message)}</text>'
    )
    return _svg(name, width, 120, title=title, description=message, body=body)


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "start", **extra: str) -> str:
    attributes = "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in extra.items())
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{klass}{attributes}>{_e(text)}</text>'
    )


def _bar(x: float, y: float, w: float, h: float, *, colour: str, figure: _Figure, tip: str) -> str:
    return (
        f'<rect class="mark" x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" '
        f'height="{_f(max(h, 0.0))}" fill="{colour}" {figure.attributes()}>'
        f"<title>{_e(tip)}</title></rect>"
    )


def _value_axis_x(
    x0: float,
    x1: float,
    y_top: float,
    y_bottom: float,
    *,
    top: float,
    label: str,
    scale: float = 1.0,
) -> tuple[str, float]:
    """A horizontal value axis (gridlines down the plot, ticks under it); the axis' end."""
    ticks, end = _ticks(top / scale)
    ticks = [t * scale for t in ticks]
    end *= scale
    parts = []
    for tick in ticks:
        x = x0 + (x1 - x0) * tick / end
        parts.append(
            f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y_top)}" y2="{_f(y_bottom)}"/>'
        )
        parts.append(_text(x, y_bottom + 14, _tick_text(tick, scale), "tick", "middle"))
    parts.append(_text((x0 + x1) / 2, y_bottom + 32, label, "axis-label", "middle"))
    return "".join(parts), end


def _value_axis_y(
    x_left: float,
    x_right: float,
    y0: float,
    y1: float,
    *,
    top: float,
    label: str,
    side: str = "left",
    grid: bool = True,
) -> tuple[str, float]:
    """A vertical value axis on the left or right of a plot from y0 (bottom) to y1 (top)."""
    ticks, end = _ticks(top)
    parts = []
    for tick in ticks:
        y = y0 - (y0 - y1) * tick / end
        if grid:
            parts.append(
                f'<line class="grid" x1="{_f(x_left)}" x2="{_f(x_right)}" '
                f'y1="{_f(y)}" y2="{_f(y)}"/>'
            )
        if side == "left":
            parts.append(_text(x_left - 6, y + 4, _tick_text(tick), "tick", "end"))
        else:
            parts.append(_text(x_right + 6, y + 4, _tick_text(tick), "tick", "start"))
    middle = (y0 + y1) / 2
    x = x_left - 44 if side == "left" else x_right + 46
    parts.append(
        _text(
            x, middle, label, "axis-label", "middle", transform=f"rotate(-90 {_f(x)} {_f(middle)})"
        )
    )
    return "".join(parts), end


def _legend(x: float, y: float, entries: Sequence[tuple[str, str, str]]) -> str:
    """Swatches and names in a row from (x, y): (colour, name, shape "box" or "line")."""
    parts = []
    for colour, name, shape in entries:
        if shape == "line":
            parts.append(
                f'<line x1="{_f(x)}" x2="{_f(x + 16)}" y1="{_f(y - 4)}" '
                f'y2="{_f(y - 4)}" stroke="{colour}" stroke-width="2.5"/>'
            )
        else:
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="12" height="12" rx="2" '
                f'fill="{colour}"/>'
            )
        parts.append(_text(x + 20, y, name, "legend"))
        x += 28 + 7 * len(name)
    return "".join(parts)


def _clip(text: str, most: int = 26) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _named(value: Any) -> str:
    return "(none)" if value in (None, "") else str(value)


# --- the charts --------------------------------------------------------------------------------


def _local_hour_ms(hour: str, zone: ZoneInfo) -> int | None:
    try:
        moment = datetime.strptime(hour, "%Y-%m-%dT%H:%M").replace(tzinfo=zone)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _instant_ms(instant: str) -> int | None:
    try:
        moment = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _audience(report: Report, zone: ZoneInfo) -> str:
    """(a) Sessions started per hour (bars) and viewers watching at once (line), on one time
    axis in the report's time zone."""
    name, width, height = "audience", 1160, 330
    title = "Sessions started per hour and viewers watching at once"
    hours = [
        (row, _local_hour_ms(str(row["hour"]), zone)) for row in report.rollups.get("hour", [])
    ]
    hours_at = [(row, at) for row, at in hours if at is not None]
    points = [(at, viewers, _instant_ms(at)) for at, viewers in report.concurrency]
    points_at = [(at, viewers, ms) for at, viewers, ms in points if ms is not None]
    if not hours_at and not points_at:
        return _empty(name, width, title, "No sessions yet")
    hour_ms = 3_600_000
    starts = [at for _, at in hours_at] + [ms for _, _, ms in points_at]
    ends = [at + hour_ms for _, at in hours_at] + [ms for _, _, ms in points_at]
    begin, end = min(starts), max(ends)
    end = max(end, begin + hour_ms)
    left, right, top, bottom = 70, width - 70, 34, height - 58
    span = end - begin

    def x_of(ms: int) -> float:
        return left + (right - left) * (ms - begin) / span

    most_sessions = max((int(row["sessions"]) for row, _ in hours_at), default=0)
    most_viewers = max((viewers for _, viewers, _ in points_at), default=0)
    left_axis, sessions_end = _value_axis_y(
        left, right, bottom, top, top=most_sessions, label="Sessions started per hour"
    )
    right_axis, viewers_end = _value_axis_y(
        left,
        right,
        bottom,
        top,
        top=most_viewers,
        label="Viewers watching at once",
        side="right",
        grid=False,
    )
    time_axis = _time_axis(begin, end, left=left, right=right, bottom=bottom, zone=zone, x_of=x_of)
    parts = [left_axis, right_axis, time_axis]
    slot = (right - left) * hour_ms / span
    for row, hour_at in hours_at:
        value = row["sessions"]
        h = (bottom - top) * value / sessions_end
        figure = _Figure("rollups/hour.csv", str(row["hour"]), "sessions", value)
        tip = f"{row['hour']}: {_shown(value)} sessions started"
        x = x_of(hour_at) + slot * 0.08
        parts.append(_bar(x, bottom - h, slot * 0.84, h, colour=_SKY, figure=figure, tip=tip))
    if points_at:
        line = " ".join(
            f"{_f(x_of(ms))},{_f(bottom - (bottom - top) * viewers / viewers_end)}"
            for _, viewers, ms in points_at
        )
        parts.append(
            f'<polyline class="line" points="{line}" fill="none" stroke="{_BLUE}" '
            f'stroke-width="2" stroke-linejoin="round"/>'
        )
        for at, viewers, ms in points_at:
            local = local_time(ms, zone).strftime("%Y-%m-%d %H:%M")
            figure = _Figure("concurrency", at, "viewers", viewers)
            parts.append(
                f'<circle class="mark point" cx="{_f(x_of(ms))}" '
                f'cy="{_f(bottom - (bottom - top) * viewers / viewers_end)}" r="2" '
                f'fill="{_BLUE}" {figure.attributes()}>'
                f"<title>{_e(local)}: {_e(_shown(viewers))} watching</title></circle>"
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(
        _legend(
            left,
            18,
            [
                (_SKY, "Sessions started in the hour", "box"),
                (_BLUE, "Viewers watching at once (every 5 min)", "line"),
            ],
        )
    )
    description = (
        f"Bars: sessions started in each hour; line: sessions between their first and last "
        f"event, every 5 minutes. Hours in {report.timezone}."
    )
    return _svg(name, width, height, title=title, description=description, body="".join(parts))


def _time_axis(
    begin: int,
    end: int,
    *,
    left: float,
    right: float,
    bottom: float,
    zone: ZoneInfo,
    x_of: Callable[[int], float],
) -> str:
    """Hour ticks in the report's time zone, few enough to read (every 1, 2, 3, 6, 12 hours or
    every day), the date under each midnight and the first tick."""
    hours = (end - begin) / 3_600_000
    if hours > 24 * 60:
        return _long_axis(
            begin, end, bottom=bottom, zone=zone, x_of=x_of, middle=(left + right) / 2
        )
    step = next((s for s in (1, 2, 3, 6, 12, 24, 48, 168) if hours / s <= 12), 24 * 30)
    parts, first = [], True
    moment = datetime.fromtimestamp(begin / 1000, tz=UTC).replace(minute=0, second=0, microsecond=0)
    if moment.timestamp() * 1000 < begin:
        moment += timedelta(hours=1)
    while moment.timestamp() * 1000 <= end:
        local = moment.astimezone(zone)
        due = local.minute == 0 and (
            local.hour % step == 0
            if step < 24
            else local.hour == 0 and local.toordinal() % (step // 24) == 0
        )
        if due:
            x = x_of(int(moment.timestamp() * 1000))
            parts.append(
                f'<line class="tick-mark" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(bottom)}" '
                f'y2="{_f(bottom + 5)}"/>'
            )
            parts.append(_text(x, bottom + 18, local.strftime("%H:%M"), "tick", "middle"))
            if first or local.hour == 0:
                parts.append(
                    _text(x, bottom + 31, local.strftime("%a %d %b"), "tick-date", "middle")
                )
            first = False
        moment += timedelta(hours=1)
    parts.append(
        _text((left + right) / 2, bottom + 50, f"Time ({zone.key})", "axis-label", "middle")
    )
    return "".join(parts)


def _long_axis(
    begin: int,
    end: int,
    *,
    bottom: float,
    zone: ZoneInfo,
    x_of: Callable[[int], float],
    middle: float,
) -> str:
    """Dates at ten even steps, for a window of months or more (hour ticks would be
    thousands)."""
    parts = []
    for index in range(11):
        ms = begin + (end - begin) * index // 10
        x = x_of(ms)
        parts.append(
            f'<line class="tick-mark" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(bottom)}" '
            f'y2="{_f(bottom + 5)}"/>'
        )
        parts.append(_text(x, bottom + 18, local_time(ms, zone).strftime("%Y-%m-%d"), "tick",
                           "middle"))  # fmt: skip
    parts.append(_text(middle, bottom + 50, f"Time ({zone.key})", "axis-label", "middle"))
    return "".join(parts)


_FUNNEL: Final = (
    ("media_starts", "Media starts"),
    ("content_starts", "Content starts"),
    ("progress25", "Reached 25 %"),
    ("progress50", "Reached 50 %"),
    ("progress75", "Reached 75 %"),
    ("progress95", "Reached 95 %"),
    ("content_completes", "Content completes"),
    ("drops_before_start", "Drops before start"),
)


def _funnel(report: Report) -> str:
    """(b) From media start to content complete, and the drops before the content started."""
    name, width = "funnel", 560
    title = "Viewing funnel: media starts to content completes"
    totals = report.totals
    if not totals.get("sessions"):
        return _empty(name, width, title, "No sessions yet")
    label_w, row_h, top = 132, 30, 14
    left, right = label_w, width - 90
    bottom = top + row_h * len(_FUNNEL) + 8
    height = bottom + 44
    most = max(int(totals.get(series) or 0) for series, _ in _FUNNEL)
    axis, end = _value_axis_x(left, right, top, bottom, top=most, label="Sessions")
    parts = [axis]
    base = int(totals.get("media_starts") or 0)
    for index, (series, label) in enumerate(_FUNNEL):
        value = totals.get(series) or 0
        y = top + 4 + index * row_h + (8 if series == "drops_before_start" else 0)
        w = (right - left) * value / end
        colour = _RED if series == "drops_before_start" else _BLUE
        figure = _Figure("totals", "", series, value)
        parts.append(_text(left - 8, y + 15, label, "category", "end"))
        tip = f"{label}: {_shown(value)}"
        parts.append(_bar(left, y, w, 20, colour=colour, figure=figure, tip=tip))
        share = f" ({100 * value / base:.1f} %)" if base else ""
        parts.append(
            f'<text x="{_f(left + w + 6)}" y="{_f(y + 15)}" class="value">'
            f"<tspan {figure.attributes()}>{_e(_shown(value))}</tspan>"
            f'<tspan class="share">{_e(share)}</tspan></text>'
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>')
    description = "Sessions reaching each step; shares are of media starts."
    return _svg(name, width, height, title=title, description=description, body="".join(parts))


def _content_types(report: Report) -> str:
    """(c) Content and ad time spent by content type, in hours."""
    name, width = "content-type", 560
    title = "Time spent by content type (hours)"
    rows = sorted(
        report.rollups.get("content_type", []),
        key=lambda r: (-(r["content_time_spent"] or 0), str(r["content_type"])),
    )
    if not rows:
        return _empty(name, width, title, "No sessions yet")
    series = (("content_time_spent", "Content", _BLUE), ("ad_time_spent", "Ads", _AMBER))
    label_w, group_h, top = 112, 46, 34
    left, right = label_w, width - 70
    bottom = top + group_h * len(rows)
    height = bottom + 44
    most = max(float(row[s] or 0) for row in rows for s, _, _ in series)
    axis, end = _value_axis_x(left, right, top, bottom, top=most, label="Hours", scale=3600)
    parts = [axis, _legend(left, 18, [(c, n, "box") for _, n, c in series])]
    for index, row in enumerate(rows):
        key = str(row["content_type"])
        y = top + index * group_h + 5
        parts.append(_text(left - 8, y + 21, _clip(_named(key), 16), "category", "end"))
        for offset, (column, label, colour) in enumerate(series):
            value = row[column] or 0
            w = (right - left) * value / end
            yy = y + offset * 18
            figure = _Figure("rollups/content_type.csv", key, column, row[column], unit="h")
            tip = f"{_named(key)}: {label.lower()} {_shown(value, 'h')} h"
            parts.append(_bar(left, yy, w, 16, colour=colour, figure=figure, tip=tip))
            parts.append(
                f'<text x="{_f(left + w + 5)}" y="{_f(yy + 12)}" class="value small">'
                f"<tspan {figure.attributes()}>{_e(_shown(row[column], 'h'))}</tspan> h</text>"
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>')
    description = "Content time and ad time spent, summed over the sessions of each type."
    return _svg(name, width, height, title=title, description=description, body="".join(parts))


def top_devices(report: Report) -> list[dict[str, Any]]:
    """The devices with the most sessions (ties by name), at most TOP_DEVICES."""
    rows = report.rollups.get("device", [])
    return sorted(rows, key=lambda r: (-int(r["sessions"]), str(r["device"])))[:TOP_DEVICES]


def _quality(report: Report) -> str:
    """(d) Quality of experience by device: time to start, buffering, bitrate."""
    name, width = "quality", 1160
    title = f"Quality of experience by device (the {TOP_DEVICES} with the most sessions)"
    rows = top_devices(report)
    if not rows:
        return _empty(name, width, title, "No sessions yet")
    panels: tuple[tuple[str, str, str, str], ...] = (
        ("average_time_to_start", "Average time to start", "seconds", _TEAL),
        ("buffer_time_per_content_hour", "Buffering per hour watched", "seconds per hour", _RED),
        ("average_bitrate", "Average bitrate", "kbps", _VIOLET),
    )
    label_w, row_h, top = 196, 24, 40
    bottom = top + row_h * len(rows)
    height = bottom + 46
    panel_w = (width - label_w) / len(panels)
    parts = []
    for index, row in enumerate(rows):
        device = _named(row["device"])
        y = top + index * row_h
        parts.append(
            f'<text x="{label_w - 10}" y="{_f(y + 16)}" text-anchor="end" '
            f'class="category">{_e(_clip(device, 28))}<title>{_e(device)}</title>'
            f"</text>"
        )
    for number, (series, heading, unit, colour) in enumerate(panels):
        left = label_w + number * panel_w + 8
        right = left + panel_w - 62
        values = [_quality_value(row, series) for row in rows]
        most = max((v for v in values if v is not None), default=0.0)
        axis, end = _value_axis_x(left, right, top, bottom, top=most, label=unit)
        parts.append(axis)
        parts.append(_text(left, 22, heading, "panel-title"))
        for index, (row, value) in enumerate(zip(rows, values, strict=True)):
            y = top + index * row_h + 4
            derived = (
                "buffer_time * 3600 / content_time_spent" if series.startswith("buffer") else ""
            )
            figure = _Figure(
                "rollups/device.csv", str(row["device"]), series, value, derived=derived
            )
            if value is None:
                parts.append(_text(left + 4, y + 12, "no data", "value small muted"))
                continue
            w = (right - left) * value / end
            tip = f"{_named(row['device'])}: {heading.lower()} {_shown(value)} {unit}"
            parts.append(_bar(left, y, w, 16, colour=colour, figure=figure, tip=tip))
            parts.append(
                f'<text x="{_f(left + w + 5)}" y="{_f(y + 12)}" class="value small">'
                f"<tspan {figure.attributes()}>{_e(_shown(value))}</tspan></text>"
            )
        parts.append(
            f'<line class="axis" x1="{_f(left)}" x2="{_f(left)}" y1="{top}" y2="{bottom}"/>'
        )
    description = (
        "Per device: the average time to start of the sessions that reported one, seconds of "
        "buffering per hour of content watched, and the average bitrate."
    )
    return _svg(name, width, height, title=title, description=description, body="".join(parts))


def _quality_value(row: dict[str, Any], series: str) -> float | None:
    if series == "buffer_time_per_content_hour":
        return buffer_per_content_hour(row)
    value: float | None = row.get(series)  # as the CSV has it: an int stays an int
    return value


def _ads(report: Report, dimension: str) -> str:
    """(e) Ad starts and completes by pod position, or by break kind."""
    by_pod = dimension == "pod_position"
    name = "ads-by-pod-position" if by_pod else "ads-by-break"
    width = 560
    title = "Ad starts and completes by " + ("position in the break" if by_pod else "break")
    key_column = "pod_position" if by_pod else "break_kind"
    rows = list(report.rollups.get(dimension, []))
    if by_pod:
        rows.sort(key=lambda r: (r["pod_position"] is None, r["pod_position"] or 0))
    else:
        rows.sort(key=lambda r: (_BREAK_ORDER.get(str(r["break_kind"]), 3), str(r["break_kind"])))
    if not rows:
        return _empty(name, width, title, "No ads yet")
    series = (("ad_starts", "Ad starts", _BLUE), ("ad_completes", "Ad completes", _GREEN))
    left, right, top, bottom, height = 70, width - 16, 40, 230, 290
    most = max(int(row[s] or 0) for row in rows for s, _, _ in series)
    axis, end = _value_axis_y(left, right, bottom, top, top=most, label="Ads")
    parts = [axis, _legend(left, 18, [(c, n, "box") for _, n, c in series])]
    slot = (right - left) / len(rows)
    bar_w = min(40.0, slot * 0.36)
    for index, row in enumerate(rows):
        key = row[key_column]
        centre = left + slot * (index + 0.5)
        label = f"#{key}" if by_pod and key is not None else _named(key)
        parts.append(_text(centre, bottom + 16, label, "category", "middle"))
        for offset, (column, label_s, colour) in enumerate(series):
            value = row[column] or 0
            h = (bottom - top) * value / end
            x = centre - bar_w - 1 + offset * (bar_w + 2)
            figure = _Figure(f"rollups/{dimension}.csv", _cell(key), column, row[column])
            tip = f"{label}: {label_s.lower()} {_shown(value)}"
            parts.append(_bar(x, bottom - h, bar_w, h, colour=colour, figure=figure, tip=tip))
            parts.append(
                f'<text x="{_f(x + bar_w / 2)}" y="{_f(bottom - h - 4)}" text-anchor="middle" '
                f'class="value small"><tspan {figure.attributes()}>{_e(_shown(value))}</tspan>'
                f"</text>"
            )
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    axis_label = "Position of the ad in its break" if by_pod else "Break"
    parts.append(_text((left + right) / 2, bottom + 40, axis_label, "axis-label", "middle"))
    description = "Ads started and ads completed" + (
        ", by their position in the break (1: the break's first ad)."
        if by_pod
        else ", by the kind of break they played in."
    )
    return _svg(name, width, height, title=title, description=description, body="".join(parts))


# --- tables (each chart's data, for screen readers and for copying) ---------------------------


def _table(
    caption: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[dict[str, Any]],
    *,
    source: str,
    key_column: str | None,
    summary: str = "Data table",
) -> str:
    """A chart's data as the CSV holds it: each value exactly as its file writes it."""
    head = "".join(f'<th scope="col">{_e(label)}</th>' for _, label in columns)
    body = []
    for row in rows:
        key = "" if key_column is None else _cell(row.get(key_column))
        cells = []
        for column, _ in columns:
            value = row.get(column)
            if column == key_column:
                cells.append(f'<th scope="row">{_e(_named(value))}</th>')
            elif column == "buffer_time_per_content_hour":
                figure = _Figure(
                    source,
                    key,
                    column,
                    buffer_per_content_hour(row),
                    derived="buffer_time * 3600 / content_time_spent",
                )
                cells.append(f"<td {figure.attributes()}>{_e(_cell(figure.value))}</td>")
            else:
                figure = _Figure(source, key, column, value)
                cells.append(f"<td {figure.attributes()}>{_e(_cell(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<details class="data"><summary>{_e(summary)}</summary><table><caption>{_e(caption)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"</details>"
    )


def _section(name: str, heading: str, note: str, *, charts: str, tables: str, wide: bool) -> str:
    klass = "card wide" if wide else "card"
    return (
        f'<section class="{klass}" id="{name}"><h2>{_e(heading)}</h2>'
        f'<p class="note">{_e(note)}</p>{charts}{tables}</section>'
    )


# --- the page ----------------------------------------------------------------------------------

_HEADLINE: Final = (
    ("sessions", "Sessions", ""),
    ("media_starts", "Media starts", ""),
    ("content_starts", "Content starts", ""),
    ("content_completes", "Content completes", ""),
    ("content_time_spent", "Content hours", "h"),
    ("ad_starts", "Ad starts", ""),
    ("ad_completes", "Ad completes", ""),
    ("drops_before_start", "Drops before start", ""),
    ("average_time_to_start", "Average time to start (s)", ""),
    ("average_bitrate", "Average bitrate (kbps)", ""),
)


def _headline(report: Report) -> str:
    cards = []
    for series, label, unit in _HEADLINE:
        value = report.totals.get(series)
        figure = _Figure("totals", "", series, value, unit=unit)
        cards.append(
            f'<div class="figure"><div class="figure-value" {figure.attributes()}>'
            f'{_e(_shown(value, unit))}</div><div class="figure-label">{_e(label)}</div></div>'
        )
    if report.concurrency:
        at, peak = max(report.concurrency, key=lambda point: (point[1], -_order(point[0])))
        figure = _Figure("concurrency", at, "viewers", peak)
        cards.append(
            f'<div class="figure"><div class="figure-value" {figure.attributes()}>'
            f'{_e(_shown(peak))}</div><div class="figure-label">Peak viewers at once</div></div>'
        )
    return f'<section class="headline" aria-label="Headline figures">{"".join(cards)}</section>'


def _order(instant: str) -> int:
    return _instant_ms(instant) or 0


def _window(report: Report) -> str:
    if not report.records:
        return f"No sessions yet. Days and hours in {report.timezone}."
    # The first and the last start to the minute (the records are in the order they started).
    zone = ZoneInfo(report.timezone)

    def local(ms: int) -> str:
        return local_time(ms, zone).strftime("%Y-%m-%d %H:%M")

    first, last = local(report.records[0].start_ms), local(report.records[-1].start_ms)
    return f"Sessions that started from {first} to {last}, {report.timezone} time."


def fragment(report: Report) -> str:
    """The part of the page the live view swaps in: the window, the headline and the charts."""
    zone = ZoneInfo(report.timezone)
    breaks = sorted(
        report.rollups.get("ad_break", []),
        key=lambda r: _BREAK_ORDER.get(str(r["break_kind"]), 3),
    )
    ad_columns = [("ad_starts", "Ad starts"), ("ad_completes", "Ad completes"),
                  ("ad_skips", "Ad skips")]  # fmt: skip
    sections = [
        _section(
            "audience-section",
            "Audience through the day",
            f"Sessions started in each hour, and viewers watching at once ({report.timezone}).",
            charts=_audience(report, zone),
            tables=_table(
                "Sessions started per hour",
                [("hour", "Hour"), ("sessions", "Sessions"), ("media_starts", "Media starts")],
                report.rollups.get("hour", []),
                source="rollups/hour.csv",
                key_column="hour",
            ),
            wide=True,
        ),
        _section(
            "funnel-section",
            "Viewing funnel",
            "How far viewers got: progress markers are Adobe's, of the content's length.",
            charts=_funnel(report),
            tables=_funnel_table(report),
            wide=False,
        ),
        _section(
            "content-type-section",
            "Time spent by content type",
            "Hours of content and of ads watched (the tables give seconds, as the CSV does).",
            charts=_content_types(report),
            tables=_table(
                "Time spent by content type (seconds)",
                [
                    ("content_type", "Content type"),
                    ("sessions", "Sessions"),
                    ("content_time_spent", "Content time (s)"),
                    ("ad_time_spent", "Ad time (s)"),
                ],
                report.rollups.get("content_type", []),
                source="rollups/content_type.csv",
                key_column="content_type",
            ),
            wide=False,
        ),
        _section(
            "quality-section",
            "Quality of experience by device",
            f"The {min(TOP_DEVICES, len(report.rollups.get('device', [])))} devices with the most "
            f"sessions, of {len(report.rollups.get('device', []))} (rollups/device.csv has them "
            "all). Lower is better for time to start and buffering; higher for bitrate.",
            charts=_quality(report),
            tables=_table(
                "Quality of experience by device",
                [
                    ("device", "Device"),
                    ("sessions", "Sessions"),
                    ("average_time_to_start", "Average time to start (s)"),
                    ("buffer_events", "Buffer events"),
                    ("buffer_time", "Buffer time (s)"),
                    ("buffer_time_per_content_hour", "Buffering per hour watched (s/h)"),
                    ("average_bitrate", "Average bitrate (kbps)"),
                ],
                top_devices(report),
                source="rollups/device.csv",
                key_column="device",
            ),
            wide=True,
        ),
        _section(
            "ads-section",
            "Ads",
            "Ads started and completed, by their place in the break and by break.",
            charts=f'<div class="pair">{_ads(report, "pod_position")}{_ads(report, "ad_break")}'
            "</div>",
            tables=_table(
                "Ads by position in the break",
                [("pod_position", "Position"), *ad_columns],
                report.rollups.get("pod_position", []),
                source="rollups/pod_position.csv",
                key_column="pod_position",
                summary="Data table: by position",
            )
            + _table(
                "Ads by break",
                [("break_kind", "Break"), *ad_columns],
                breaks,
                source="rollups/ad_break.csv",
                key_column="break_kind",
                summary="Data table: by break",
            ),
            wide=True,
        ),
    ]
    return (
        f'<p class="window">{_e(_window(report))}</p>'
        + _headline(report)
        + f'<div class="cards">{"".join(sections)}</div>'
    )


def _funnel_table(report: Report) -> str:
    rows = []
    for series, label in _FUNNEL:
        value = report.totals.get(series)
        figure = _Figure("totals", "", series, value)
        rows.append(
            f'<tr><th scope="row">{_e(label)}</th>'
            f"<td {figure.attributes()}>{_e(_cell(value))}</td></tr>"
        )
    return (
        '<details class="data"><summary>Data table</summary><table><caption>Viewing funnel'
        '</caption><thead><tr><th scope="col">Step</th><th scope="col">Sessions</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


_CSS: Final = (
    ":root{color-scheme:light}"
    f"*{{box-sizing:border-box}}body{{margin:0;background:#f4f6f9;color:#1f2937;{_FONT};"
    "font-size:14px;line-height:1.45}"
    "header{background:#111827;color:#f9fafb;padding:18px 32px}"
    "header h1{margin:0;font-size:20px;font-weight:600}"
    "header p{margin:4px 0 0;color:#9ca3af;font-size:13px}"
    "#live-status{float:right;font-size:12px;color:#a7f3d0;margin-top:4px}"
    "main{padding:20px 32px 40px;max-width:1280px;margin:0 auto}"
    ".window{margin:0 0 14px;color:#4b5563}"
    ".headline{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;"
    "margin-bottom:20px}"
    ".figure{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px "
    "rgba(0,0,0,.08)}"
    ".figure-value{font-size:24px;font-weight:650;color:#111827;font-variant-numeric:"
    "tabular-nums}"
    ".figure-label{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.03em}"
    ".cards{display:grid;grid-template-columns:1fr 1fr;gap:16px}"
    ".card{background:#fff;border-radius:8px;padding:16px 18px;box-shadow:0 1px 2px "
    "rgba(0,0,0,.08);min-width:0}"
    ".card.wide{grid-column:1/-1}"
    ".card h2{margin:0;font-size:16px;font-weight:600}"
    ".note{margin:2px 0 10px;color:#6b7280;font-size:12.5px}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}"
    "svg.chart{display:block;width:100%;height:auto;max-width:100%}"
    f"svg.chart text{{{_FONT};fill:#374151}}"
    ".tick,.tick-date{font-size:11px;fill:#6b7280}.tick-date{fill:#9ca3af}"
    ".axis-label{font-size:12px;fill:#4b5563}"
    ".category{font-size:12px}.legend{font-size:12px}"
    ".panel-title{font-size:13px;font-weight:600}"
    ".value{font-size:12px;font-variant-numeric:tabular-nums}.value.small{font-size:11px}"
    ".share{fill:#6b7280}.muted{fill:#9ca3af}"
    "line.grid{stroke:#e5e7eb;stroke-width:1}"
    "line.axis,line.tick-mark{stroke:#9ca3af;stroke-width:1}"
    "rect.mark:hover,circle.mark:hover{opacity:.8}"
    ".empty-box{fill:#f9fafb;stroke:#e5e7eb}.empty{font-size:14px;fill:#9ca3af}"
    "details.data{margin-top:8px;font-size:12.5px}"
    "details.data summary{cursor:pointer;color:#2563eb}"
    "details.data table{border-collapse:collapse;margin-top:6px}"
    "details.data caption{text-align:left;color:#6b7280;padding-bottom:4px}"
    "details.data th,details.data td{padding:3px 10px;border-bottom:1px solid #eef0f3;"
    "text-align:right;font-variant-numeric:tabular-nums}"
    "details.data th[scope=row],details.data th:first-child{text-align:left;font-weight:500}"
    "footer{color:#6b7280;font-size:12px;padding:0 32px 24px;max-width:1280px;margin:0 auto}"
    "@media (max-width:900px){.cards,.pair{grid-template-columns:1fr}main{padding:12px}}"
)

# Swaps the figures in without reloading: the page's scroll and open tables stay as they were.
# One fetch at a time (the next is set when one ends), and a failed one says so and tries again.
_LIVE_SCRIPT: Final = (
    "(function(){'use strict';"
    "var main=document.getElementById('report');"
    "var status=document.getElementById('live-status');"
    "var url=window.location.pathname+'?fragment=1';"
    "function refresh(){"
    "fetch(url,{cache:'no-store'}).then(function(r){"
    "if(!r.ok){throw new Error('HTTP '+r.status);}return r.text();"
    "}).then(function(html){"
    "var open={};main.querySelectorAll('details.data').forEach(function(d,i){open[i]=d.open;});"
    "main.innerHTML=html;"
    "main.querySelectorAll('details.data').forEach(function(d,i){if(open[i]){d.open=true;}});"
    "status.textContent='Live: updated '+new Date().toLocaleTimeString();"
    "}).catch(function(e){status.textContent='Live: update failed ('+e.message+'), retrying';"
    "}).then(function(){window.setTimeout(refresh,INTERVAL);});}"
    "window.setTimeout(refresh,INTERVAL);})();"
)


def render(report: Report, *, live: bool = False) -> str:
    """The report as one self-contained HTML page (the same bytes for the same report).

    `live`: the page fetches `?fragment=1` from where it was served every `LIVE_INTERVAL_S`
    seconds and swaps the figures in (what `playersim serve` serves at `/report`).
    """
    # Nothing may be fetched but the live page's own figures: the page works offline, and text
    # from traffic, were it ever to slip through unescaped, could load nothing.
    script_src = "'unsafe-inline'" if live else "'none'"
    connect = "'self'" if live else "'none'"
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script_src}; connect-src {connect}"
    )
    status = (
        f'<span id="live-status">Live: updates every {LIVE_INTERVAL_S} s</span>' if live else ""
    )
    script = (
        "<script>" + _LIVE_SCRIPT.replace("INTERVAL", str(LIVE_INTERVAL_S * 1000)) + "</script>"
        if live
        else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        # No favicon request (a 404 in the console of a served page).
        '<link rel="icon" href="data:,">'
        "<title>playersim: media analytics report</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header>{status}<h1>Media analytics report</h1>"
        "<p>What Adobe's reporting will show for these sessions: the answer key computed by "
        "playersim</p></header>"
        f'<main id="report">{fragment(report)}</main>'
        "<footer>Each figure is the value in the files beside this page (report.json, "
        "rollups/*.csv); times are seconds there and hours in the charts. Hover a bar or point "
        "for its value; each chart's data table is under it.</footer>"
        f"{script}</body></html>\n"
    )
