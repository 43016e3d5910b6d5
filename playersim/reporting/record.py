"""Adobe's reporting record of one session, computed from its events as Adobe's back end would.

Adobe turns each session's events into one record (the Media Close call in Adobe Analytics,
`xdm.mediaReporting` in Customer Journey Analytics) and one per ad and per chapter. A
`SessionMeter` is fed a session's MCA bodies in order (a Media Edge body is read back into the
MCA body it stands for, `playersim.edge.wire`) and gives that record when the session closes.

How time is counted (ADOBE-METRICS.md section 1.4): events are taken in timestamp order, and
the time between two events belongs to the state the earlier one left the player in. Content
time is main content playing (after its first `play`, outside ad breaks, not paused, buffering
or stalled); ad time is an ad of a break playing; pause time runs from `pauseStart` and buffer
time from `bufferStart` to the next `play`, `pauseStart` or `bufferStart`; a player state's time
from its start to its end. Time after the last event of a session is never counted: no later
timestamp exists (gap G3). Where Adobe leaves a choice, `playersim.reporting.readings` makes it.

Times are exact (milliseconds, given in seconds); Adobe stores whole seconds (gap G1), so a
figure may differ from Adobe's by under a second.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from playersim.mca.spec import IDLE_TIMEOUT_MS, STALL_TIMEOUT_MS
from playersim.reporting.readings import ADOBE, Readings

__all__ = [
    "AdRecord",
    "ChapterRecord",
    "SessionMeter",
    "SessionRecord",
    "StateRecord",
    "record_of_events",
]

# Progress markers, in percent of the content's length (Adobe's five).
MARKERS: Final = (10, 25, 50, 75, 95)
# Adobe keeps at most this many player states a session; later ones are dropped.
MAX_STATES: Final = 10
# Estimated streams: one more for every this many seconds of media time spent.
STREAM_SPAN_S: Final = 1800

# The back end buffers a session's events this long, or this many, and sorts them by their
# timestamps (MCA-SPEC.md, "event ordering"; ADOBE-METRICS.md section 1.3).
_BUFFERED_MS: Final = 5_000
_BUFFERED_EVENTS: Final = 10
# The latest instant an event may carry: the end of the year 9999 (the collector's bound).
MAX_TS: Final = 253_402_300_799_999

# How a session was closed, as the record says it.
CLOSED_BY_END: Final = "sessionEnd"
CLOSED_BY_COMPLETE: Final = "sessionComplete"
CLOSED_IDLE: Final = "idle timeout"
CLOSED_STALLED: Final = "playhead stalled"
STILL_OPEN: Final = "open"


_Params = Mapping[str, Any]  # an event's params


class _Mode(Enum):
    STARTING = "starting"  # before the first play
    PLAYING = "playing"
    PAUSED = "paused"
    BUFFERING = "buffering"
    COMPLETE = "complete"  # sessionComplete: the content is over
    ERROR = "error"  # an error while content played: stopped, unless the playhead moves on


@dataclass(slots=True)
class AdRecord:
    """One ad that started inside a break: Adobe's ad close record."""

    sid: str
    start_ms: int  # when it started (epoch ms)
    break_index: int | None  # media.ad.podIndex of its break (0 a pre-roll, -1 a post-roll)
    break_name: str
    pod_position: int | None  # media.ad.podPosition: 1 for the first ad of the break
    ad_id: str
    ad_name: str
    advertiser: str
    campaign: str
    length: float | None  # seconds, as the adStart said
    starts: int = 1
    completes: int = 0
    skips: int = 0
    time_spent: float = 0.0  # seconds of this ad playing

    @property
    def break_kind(self) -> str:
        """pre-roll, mid-roll or post-roll, by the break's podIndex (unknown: it sent none)."""
        if self.break_index == 0:
            return "pre-roll"
        if self.break_index == -1:
            return "post-roll"
        return "mid-roll" if self.break_index is not None else "unknown"


@dataclass(slots=True)
class ChapterRecord:
    """One chapter that started: Adobe's chapter close record."""

    sid: str
    start_ms: int
    index: int | None  # media.chapter.index
    name: str  # media.chapter.friendlyName (or the index, if it has none)
    offset: float | None
    length: float | None
    starts: int = 1
    completes: int = 0
    skips: int = 0
    time_spent: float = 0.0  # seconds of main content playing while it was open


@dataclass(slots=True)
class StateRecord:
    """One player state a session used (fullscreen, mute, closedCaptioning, ...)."""

    sid: str
    name: str
    is_set: int = 1
    count: int = 0  # how many times it started
    time: float = 0.0  # seconds in it


@dataclass(slots=True)
class SessionRecord:
    """Adobe's reporting record of one session (its Media Close), with the dimensions people
    report on. Counts and flags are integers (flags 0 or 1), times seconds; a value the
    session did not give (no length, no qoeData) is None."""

    sid: str
    # --- dimensions (from the sessionStart) ---
    start_ms: int  # the sessionStart's timestamp (epoch ms, UTC)
    last_ms: int  # the last event's
    close_ms: int  # when the back end closes it: the sessionEnd, or the timeout after the last
    close_reason: str  # sessionEnd, idle timeout, playhead stalled, sessionComplete, open
    report_suite: str = ""
    visitor: str = ""
    media_id: str = ""
    media_name: str = ""
    show: str = ""
    season: str = ""
    episode: str = ""
    channel: str = ""
    content_type: str = ""
    stream_type: str = ""
    genre: str = ""
    network: str = ""
    player_name: str = ""
    device: str = ""  # customMetadata device.model, else the player's name
    platform: str = ""  # customMetadata device.os, else the player's name
    profile: str = ""  # the playersim profile that played it (known only to the run itself)
    length: float | None = None  # media.length, seconds
    downloaded: int = 0  # sent whole after the viewing (Media downloaded flag)
    events: int = 0
    # --- core ---
    media_starts: int = 0
    content_starts: int = 0
    content_completes: int = 0
    content_resumes: int = 0
    content_time_spent: float = 0.0
    media_time_spent: float = 0.0
    unique_time_played: float = 0.0
    progress10: int = 0
    progress25: int = 0
    progress50: int = 0
    progress75: int = 0
    progress95: int = 0
    average_minute_audience: float | None = None
    estimated_streams: int = 1
    seconds_since_last_call: float = 0.0
    pause_events: int = 0
    paused_impacted_streams: int = 0
    pause_time: float = 0.0
    # --- quality ---
    time_to_start: float | None = None  # seconds (the player's own figure)
    drops_before_start: int = 0
    buffer_events: int = 0
    buffer_impacted_streams: int = 0
    buffer_time: float = 0.0
    stall_events: int = 0
    stall_impacted_streams: int = 0
    stall_time: float = 0.0
    error_events: int = 0
    error_impacted_streams: int = 0
    errors: str = ""  # the error ids, in order, joined by spaces
    average_bitrate: float | None = None  # kbps, weighted by time played at each bitrate
    bitrate_changes: int = 0
    bitrate_change_impacted_streams: int = 0
    dropped_frames: int | None = None
    dropped_frame_impacted_streams: int = 0
    # --- ads and chapters, summed over the session ---
    ad_count: int = 0  # ads started (Adobe's Ad count)
    ad_starts: int = 0
    ad_completes: int = 0
    ad_time_spent: float = 0.0
    chapter_count: int = 0
    chapter_starts: int = 0
    chapter_completes: int = 0
    chapter_time_spent: float = 0.0
    # --- the session's ads, chapters and player states, one record each ---
    ads: list[AdRecord] = field(default_factory=list)
    chapters: list[ChapterRecord] = field(default_factory=list)
    states: list[StateRecord] = field(default_factory=list)


def _ms_to_s(ms: float) -> float:
    return round(ms / 1000, 3)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _number(value: object) -> float | None:
    """A finite number, or None (a NaN or an infinity read from a file is no figure)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _checked(body: Mapping[str, Any]) -> int:
    """An event's timestamp, once its shape is one the meter can read: ValueError naming the
    field otherwise (a recording is anyone's file)."""
    if not isinstance(body, Mapping):
        raise ValueError("body: not a JSON object")
    player_time = body.get("playerTime")
    if not isinstance(player_time, Mapping):
        raise ValueError("body.playerTime: not an object")
    ts = player_time.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts <= MAX_TS:
        raise ValueError(
            f"body.playerTime.ts: {ts!r} is not an instant in epoch milliseconds (0 to {MAX_TS})"
        )
    for part in ("params", "qoeData", "customMetadata"):
        if body.get(part) is not None and not isinstance(body[part], Mapping):
            raise ValueError(f"body.{part}: not an object")
    params = body.get("params") or {}
    for which in ("statesStart", "statesEnd"):
        entries = params.get(which)
        if entries is not None and not (
            isinstance(entries, list) and all(isinstance(e, Mapping) for e in entries)
        ):
            raise ValueError(f"body.params.{which}: not a list of objects")
    return ts


class SessionMeter:
    """Adobe's back end for one session: feed it the session's MCA bodies in order (`feed`),
    then `close()` gives its `SessionRecord`. `snapshot()` gives the record so far.

    >>> meter = SessionMeter("s1")
    >>> for ts, ph, kind in [(0, 0, "sessionStart"), (1000, 0, "play"), (11000, 10, "ping"),
    ...                      (15000, 14, "sessionEnd")]:
    ...     meter.feed({"eventType": kind, "playerTime": {"ts": ts, "playhead": ph},
    ...                 "params": {"media.length": 100} if kind == "sessionStart" else {}})
    >>> record = meter.close()
    >>> record.content_starts, record.content_time_spent, record.progress10
    (1, 14.0, 1)
    """

    def __init__(
        self,
        sid: str,
        *,
        readings: Readings = ADOBE,
        downloaded: bool = False,
        profile: str = "",
        idle_timeout_ms: int = IDLE_TIMEOUT_MS,
    ) -> None:
        self.readings = readings
        self.closed = False
        # No event for this long closes the session (Adobe's 10 minutes, unless the collector
        # metered is told otherwise: `playersim serve --idle-timeout`).
        self._idle_ms = idle_timeout_ms
        # Events waiting to be taken in timestamp order: the back end buffers a session's
        # events for up to 5 s or 10 events and sorts them (MCA-SPEC.md, "event ordering").
        self._waiting: list[tuple[int, int, Mapping[str, Any]]] = []
        self._arrived = 0
        self._newest = 0  # the latest timestamp that arrived
        self._in_take = False  # taking an event (a sessionEnd closes without a flush)
        self._started = False  # a sessionStart was taken
        self._record: SessionRecord | None = None
        self._sid = sid
        self._downloaded = downloaded
        self._profile = profile
        self._mode = _Mode.STARTING
        self._in_break = False
        self._break: tuple[int | None, str] = (None, "")
        self._ad: AdRecord | None = None
        self._chapter: ChapterRecord | None = None
        self._ads: list[AdRecord] = []
        self._chapters: list[ChapterRecord] = []
        self._states: dict[str, StateRecord] = {}
        self._open_states: set[str] = set()
        self._start: Mapping[str, Any] = {}
        self._custom: Mapping[str, Any] = {}
        self._first_ts: int | None = None
        self._last_ts = 0
        self._last_ph = 0.0
        self._moved_at = 0  # when the playhead last changed (the 30-minute timeout)
        self._events = 0
        self._content_started = False
        self._completed = False
        self._max_ph: float | None = None
        self._start_totals()

    def _start_totals(self) -> None:
        """The figures the events add to, all at zero (and the stall watch at rest)."""
        # Accumulated milliseconds.
        self._content = 0
        self._ad_ms = 0
        self._pause = 0
        self._buffer = 0
        self._stall = 0
        self._pause_events = 0
        self._buffer_events = 0
        self._stall_events = 0
        self._errors: list[str] = []
        self._after_error = 0  # ms since an error stopped content playing
        self._bitrate_changes = 0
        self._bitrate: float | None = None  # kbps, the last reported
        self._bitrate_weight = 0.0  # kbps x ms played
        self._bitrate_ms = 0
        self._dropped: int | None = None
        self._tts: float | None = None
        # Played ranges of the main content's playhead, merged (unique time played).
        self._ranges: list[tuple[float, float]] = []
        # Stall detection (reading C13): the frozen playhead, how many events it has held
        # for, when the last of them came, whether it is a stall yet, and the content time
        # held back meanwhile (content if the playhead moves on, stall time if it does not).
        self._run_ph: float | None = None
        self._run_count = 0
        self._run_at = 0
        self._stalled = False
        self._held = 0
        # Of it, what each chapter it was in would be credited if it turns out content time.
        self._held_chapters: list[list[Any]] = []
        self._held_weight = 0.0  # kbps x ms of the time held, at the bitrate of its time
        self._held_weighed = 0

    # --- events ---------------------------------------------------------------------------------

    def feed(self, body: Mapping[str, Any]) -> None:
        """One event the back end accepted for this session (an MCA body; ValueError naming
        the field if it is not one). Events are taken in timestamp order, as the back end
        sorts what it buffers (up to 5 s, or 10 events); events after the session closed
        (a `sessionEnd`, a timeout) are dropped, as Adobe drops them."""
        if self.closed:
            return
        ts = _checked(body)
        heapq.heappush(self._waiting, (ts, self._arrived, body))
        self._arrived += 1
        self._newest = max(self._newest, ts)
        if body.get("eventType") == "sessionEnd":
            self._flush()  # the session is over: nothing more will come to sort in
            return
        waiting = self._waiting
        while waiting and (
            len(waiting) > _BUFFERED_EVENTS or waiting[0][0] <= self._newest - _BUFFERED_MS
        ):
            self._take(heapq.heappop(waiting)[2])
            if self.closed:
                waiting.clear()
                return

    def _flush(self) -> None:
        """Take every event still buffered, in order (the session is closing, or looked at)."""
        waiting, self._waiting = sorted(self._waiting), []
        for _, _, body in waiting:
            if self.closed:
                return
            self._take(body)

    def _take(self, body: Mapping[str, Any]) -> None:
        self._in_take = True
        try:
            self._take_event(body)
        finally:
            self._in_take = False

    def _take_event(self, body: Mapping[str, Any]) -> None:
        kind = str(body.get("eventType", ""))
        player_time = body["playerTime"]
        ts = int(player_time["ts"])
        if self._first_ts is not None and ts > min(
            self._last_ts + self._idle_ms, self._moved_at + STALL_TIMEOUT_MS
        ):
            # The back end closed the session before this event came (10 minutes without an
            # event, or 30 without a playhead change): it drops it, as the collector does.
            self.close()
            return
        playhead = _number(player_time.get("playhead"))
        ph = self._last_ph if playhead is None else playhead
        params: Mapping[str, Any] = body.get("params") or {}
        self._events += 1
        if self._first_ts is None:
            self._first_ts = ts
            self._last_ts = ts
            self._last_ph = ph
            self._moved_at = ts
        elif ts > self._last_ts:
            self._accrue(ts - self._last_ts, ph)
        if ph != self._last_ph:
            self._moved_at = ts
        self._watch_stall(ts, ph)
        qoe = body.get("qoeData")
        if isinstance(qoe, Mapping):
            self._qoe(qoe)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, ts, ph, params, body)
        done = self._mode is _Mode.COMPLETE and kind != "sessionComplete"
        if self._content_started and not done:
            # (After sessionComplete the content is over: later pings move no marker.)
            self._max_ph = ph if self._max_ph is None else max(self._max_ph, ph)
        self._last_ts = max(self._last_ts, ts)
        self._last_ph = ph
        if kind == "sessionEnd":
            self.close(CLOSED_BY_END)
        elif kind == "sessionComplete" and self.readings.complete_closes_session:
            self.close(CLOSED_BY_COMPLETE)

    def _content_playing(self) -> bool:
        return self._mode is _Mode.PLAYING and self._content_started and not self._in_break

    def _accrue(self, dt: int, ph: float) -> None:
        """The time since the last event, to the state that event left the player in."""
        for name in self._open_states:
            self._states[name].time += dt / 1000
        mode = self._mode
        if mode is _Mode.PAUSED:
            self._pause += dt
        elif mode is _Mode.BUFFERING:
            self._buffer += dt
        elif self._ad is not None:
            if mode is _Mode.PLAYING or (
                mode is _Mode.STARTING and self.readings.preroll_counts_before_play
            ):
                self._ad.time_spent += dt / 1000
                self._ad_ms += dt
                self._weigh_bitrate(dt)
        elif mode is _Mode.ERROR:
            # Reading G4: an error stops playback until the next `play`, unless the playhead
            # moves on meanwhile (the player played through it: that was content time).
            self._after_error += dt
            if ph != self._last_ph:
                self._mode = _Mode.PLAYING
                self._credit(self._after_error, ph, self._after_error)
                self._after_error = 0
        elif self._content_playing():
            if ph == self._run_ph:  # the playhead has not moved: perhaps a stall
                if self._stalled:
                    self._stall += dt
                else:
                    self._held += dt
                    self._hold_for_chapter(dt)
                    if self._bitrate is not None:  # weighed at the bitrate of its own time
                        self._held_weight += self._bitrate * dt
                        self._held_weighed += dt
                return
            self._credit(dt, ph, dt)

    def _hold_for_chapter(self, dt: int) -> None:
        chapter = self._chapter
        if chapter is None:
            return
        held = self._held_chapters
        if held and held[-1][0] is chapter:
            held[-1][1] += dt
        else:
            held.append([chapter, dt])

    def _credit(self, dt: int, ph: float, played_ms: int) -> None:
        """`dt` of main content played, the playhead now at `ph`."""
        self._content += dt
        self._weigh_bitrate(dt)
        if self._chapter is not None:
            self._chapter.time_spent += dt / 1000
        # Played: the last `dt` of the playhead up to where it is now (a jump between two
        # events, as a seek sent without a pause, is not played time).
        low = ph - played_ms / 1000
        if self._last_ph <= ph:
            low = max(low, self._last_ph)
        self._played(max(0.0, low), ph)

    def _weigh_bitrate(self, dt: int) -> None:
        if self._bitrate is not None:
            self._bitrate_weight += self._bitrate * dt
            self._bitrate_ms += dt

    def _played(self, low: float, high: float) -> None:
        if high <= low:
            return
        ranges = self._ranges
        if ranges:
            last_low, last_high = ranges[-1]
            if low >= last_low:
                # Playing on from the furthest range (nearly every call): extend it, or start
                # one after it. The ranges stay sorted and apart.
                if low <= last_high:
                    ranges[-1] = (last_low, max(high, last_high))
                else:
                    ranges.append((low, high))
                return
        # Elsewhere (after a seek back): merge it with the ranges it touches.
        merged: list[tuple[float, float]] = []
        for r_low, r_high in ranges:
            if r_high < low or r_low > high:
                merged.append((r_low, r_high))
            else:
                low, high = min(low, r_low), max(high, r_high)
        merged.append((low, high))
        merged.sort()
        self._ranges = merged

    def _watch_stall(self, ts: int, ph: float) -> None:
        """Count the events the main content's playhead has not moved across (reading C13)."""
        if not self._content_playing():
            return
        if ph != self._run_ph:
            self._restart_run(ts, ph)
            return
        if ts - self._run_at >= self.readings.stall_event_gap_ms:
            self._run_count += 1
            self._run_at = ts
        if not self._stalled and self._run_count >= self.readings.stall_events:
            self._stalled = True
            self._stall_events += 1
            self._stall += self._held  # a stall is not played time: its bitrate is not weighed
            self._held = self._held_weighed = 0
            self._held_weight = 0.0
            self._held_chapters = []

    def _restart_run(self, ts: int, ph: float | None) -> None:
        """The playhead moved, or content playing stopped or began: what was held back was
        content time after all."""
        if self._held:
            self._content += self._held
            self._bitrate_weight += self._held_weight
            self._bitrate_ms += self._held_weighed
            for chapter, held in self._held_chapters:
                chapter.time_spent += held / 1000
        self._held = self._held_weighed = 0
        self._held_weight = 0.0
        self._held_chapters = []
        self._stalled = False
        self._run_ph, self._run_count, self._run_at = ph, 1, ts

    def _set_mode(self, mode: _Mode, ts: int, ph: float) -> None:
        self._restart_run(ts, None)
        self._after_error = 0  # an error's stop is over: that time was not played
        self._mode = mode
        if self._content_playing():
            self._restart_run(ts, ph)

    def _qoe(self, qoe: Mapping[str, Any]) -> None:
        bitrate = _number(qoe.get("media.qoe.bitrate"))
        if bitrate is not None:
            self._bitrate = bitrate / 1000  # the MCA sends bps (MCA-SPEC.md); Adobe shows kbps
        dropped = _number(qoe.get("media.qoe.droppedFrames"))
        if dropped is not None:
            self._dropped = int(dropped)
        tts = _number(qoe.get("media.qoe.timeToStart"))
        if tts is not None:
            self._tts = tts / 1000  # sent in ms, stored in seconds

    # --- what each event type does --------------------------------------------------------------

    def _on_session_start(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if not self._started:
            self._started = True
            self._start = params
            custom = body.get("customMetadata")
            self._custom = custom if isinstance(custom, Mapping) else {}
            self._downloaded = self._downloaded or params.get("media.downloaded") is True

    def _on_play(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._mode is _Mode.COMPLETE:
            return
        if not self._in_break:
            self._content_started = True
        self._set_mode(_Mode.PLAYING, ts, ph)

    def _on_pause(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._mode is _Mode.COMPLETE:
            return
        if self._mode is not _Mode.PAUSED:
            self._pause_events += 1
        self._set_mode(_Mode.PAUSED, ts, ph)

    def _on_buffer(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._mode is _Mode.COMPLETE:
            return
        if self._mode is not _Mode.BUFFERING or self.readings.count_repeated_buffer_starts:
            self._buffer_events += 1
        self._set_mode(_Mode.BUFFERING, ts, ph)

    def _on_complete(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        self._completed = True
        self._end_ad(completed=False)
        self._set_mode(_Mode.COMPLETE, ts, ph)

    def _on_break_start(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._mode is _Mode.ERROR:
            # The player went on to the ads: its error's stop is over (that time unplayed).
            self._set_mode(_Mode.PLAYING, ts, ph)
        self._end_ad(completed=False)
        self._restart_run(ts, None)
        self._in_break = True
        index = _number(params.get("media.ad.podIndex"))
        self._break = (
            None if index is None else int(index),
            _text(params.get("media.ad.podFriendlyName")),
        )

    def _on_ad_start(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if not self._in_break:
            return  # outside a break Adobe ignores ad events: the time stays content's
        self._end_ad(completed=False)
        position = _number(params.get("media.ad.podPosition"))
        self._ad = AdRecord(
            sid=self._sid,
            start_ms=ts,
            break_index=self._break[0],
            break_name=self._break[1],
            pod_position=None if position is None else int(position),
            ad_id=_text(params.get("media.ad.id")),
            ad_name=_text(params.get("media.ad.name")),
            advertiser=_text(params.get("media.ad.advertiser")),
            campaign=_text(params.get("media.ad.campaignId")),
            length=_number(params.get("media.ad.length")),
        )
        self._ads.append(self._ad)

    def _on_ad_complete(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        self._end_ad(completed=True)

    def _on_ad_skip(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._ad is not None:
            self._ad.skips = 1
        self._end_ad(completed=False)

    def _on_break_complete(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        self._end_ad(completed=False)
        self._in_break = False
        if self._content_playing():
            self._restart_run(ts, ph)

    def _end_ad(self, *, completed: bool) -> None:
        if self._ad is not None and completed:
            self._ad.completes = 1
        self._ad = None

    def _on_chapter_start(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        self._end_chapter(completed=False)
        index = _number(params.get("media.chapter.index"))
        name = _text(params.get("media.chapter.friendlyName"))
        self._chapter = ChapterRecord(
            sid=self._sid,
            start_ms=ts,
            index=None if index is None else int(index),
            name=name or ("" if index is None else f"chapter {int(index)}"),
            offset=_number(params.get("media.chapter.offset")),
            length=_number(params.get("media.chapter.length")),
        )
        self._chapters.append(self._chapter)

    def _on_chapter_complete(
        self, ts: int, ph: float, params: Mapping[str, Any], body: Any
    ) -> None:
        self._end_chapter(completed=True)

    def _on_chapter_skip(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        if self._chapter is not None:
            self._chapter.skips = 1
        self._end_chapter(completed=False)

    def _end_chapter(self, *, completed: bool) -> None:
        # (Content time held back as a possible stall stays held: it goes to this chapter if
        # the playhead moves on, to stall time if it does not.)
        if self._chapter is not None and completed:
            self._chapter.completes = 1
        self._chapter = None

    def _on_bitrate(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        self._bitrate_changes += 1

    def _on_error(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        qoe = body.get("qoeData") or {}
        self._errors.append(_text(qoe.get("media.qoe.errorID")) or "unknown")
        if self._content_playing() and self.readings.error_stops_playback:
            self._set_mode(_Mode.ERROR, ts, ph)

    def _on_state(self, ts: int, ph: float, params: _Params, body: Any) -> None:
        kind = body.get("eventType")
        if kind == "stateStart":
            self._state_started(params.get("media.state.name"))
        elif kind == "stateEnd":
            self._open_states.discard(_text(params.get("media.state.name")))
        else:  # statesUpdate (Media Edge): states that started and ended at this instant
            for entry in params.get("statesEnd") or []:
                self._open_states.discard(_text(entry.get("media.state.name")))
            for entry in params.get("statesStart") or []:
                self._state_started(entry.get("media.state.name"))

    def _state_started(self, name: object) -> None:
        key = _text(name)
        if not key:
            return
        state = self._states.get(key)
        if state is None:
            if len(self._states) >= MAX_STATES:
                return  # Adobe keeps a session's first ten states
            state = self._states[key] = StateRecord(self._sid, key)
        if key not in self._open_states:
            state.count += 1
            self._open_states.add(key)

    # --- the record -------------------------------------------------------------------------

    def close(self, reason: str | None = None) -> SessionRecord:
        """The session's record, once it is closed: by `reason` (a `sessionEnd`), or, with
        none, by the back end's timeouts after its last event (10 minutes without an event,
        30 without a playhead change, whichever comes first)."""
        if self._record is not None:
            return self._record
        if not self._in_take:
            self._flush()
            if self._record is not None:  # a buffered sessionEnd, or a timeout, closed it
                return self._record
        self.closed = True
        if reason is None:
            idle = self._last_ts + self._idle_ms
            stalled = self._moved_at + STALL_TIMEOUT_MS
            close_ms, reason = (stalled, CLOSED_STALLED) if stalled < idle else (idle, CLOSED_IDLE)
        else:
            close_ms = self._last_ts
        self._record = self._finish(close_ms, reason)
        return self._record

    def snapshot(self) -> SessionRecord:
        """The record as it stands, the session still open (the live page's view): time up to
        the last event, the session's `close_reason` "open"."""
        if self._record is not None:
            return self._record
        seen = copy.deepcopy(self)
        seen._flush()
        if seen._record is not None:
            return seen._record
        return seen._finish(seen._last_ts, STILL_OPEN)

    def _finish(self, close_ms: int, reason: str) -> SessionRecord:
        self._restart_run(self._last_ts, None)
        self._end_ad(completed=False)
        self._end_chapter(completed=False)
        readings, start, custom = self.readings, self._start, self._custom
        length = _number(start.get("media.length"))
        content_s = _ms_to_s(self._content)
        media_s = _ms_to_s(self._content + self._ad_ms)
        markers = self._markers(length)
        ama = None
        if length is not None and length > 0:
            numerator = content_s if readings.ama_numerator == "content" else media_s
            ama = round(numerator / length, 6)
        bitrate = None
        if self._bitrate_ms:
            bitrate = round(self._bitrate_weight / self._bitrate_ms, 3)
        elif self._bitrate is not None:
            bitrate = round(self._bitrate, 3)  # reported, but nothing played at it
        resumed = start.get("media.resume") is True
        ads, chapters = self._ads, self._chapters
        player = _text(start.get("media.playerName"))
        first = self._first_ts if self._first_ts is not None else 0
        return SessionRecord(
            sid=self._sid,
            start_ms=first,
            last_ms=self._last_ts,
            close_ms=close_ms,
            close_reason=reason,
            report_suite=_text(start.get("analytics.reportSuite")),
            visitor=_text(
                start.get("analytics.visitorId") or start.get("visitor.marketingCloudUserId")
            ),
            media_id=_text(start.get("media.id")),
            media_name=_text(start.get("media.name")),
            show=_text(start.get("media.show")),
            season=_text(start.get("media.season")),
            episode=_text(start.get("media.episode")),
            channel=_text(start.get("media.channel")),
            content_type=_text(start.get("media.contentType")),
            stream_type=_text(start.get("media.streamType")),
            genre=_text(start.get("media.genre")),
            network=_text(start.get("media.network")),
            player_name=player,
            device=_text(custom.get("device.model")) or player,
            platform=_text(custom.get("device.os")) or player,
            profile=self._profile,
            length=length,
            downloaded=int(self._downloaded),
            events=self._events,
            media_starts=int(self._started and (readings.resume_counts_media_start or not resumed)),
            content_starts=int(self._content_started),
            content_completes=int(self._completed),
            content_resumes=int(resumed),
            content_time_spent=content_s,
            media_time_spent=media_s,
            unique_time_played=round(float(sum(high - low for low, high in self._ranges)), 3),
            progress10=markers[10],
            progress25=markers[25],
            progress50=markers[50],
            progress75=markers[75],
            progress95=markers[95],
            average_minute_audience=ama,
            estimated_streams=math.floor(media_s / STREAM_SPAN_S) + 1,
            seconds_since_last_call=_ms_to_s(close_ms - self._last_ts),
            pause_events=self._pause_events,
            paused_impacted_streams=int(self._pause_events > 0),
            pause_time=_ms_to_s(self._pause),
            time_to_start=self._tts,
            drops_before_start=int(self._started and not self._content_started),
            buffer_events=self._buffer_events,
            buffer_impacted_streams=int(self._buffer_events > 0),
            buffer_time=_ms_to_s(self._buffer),
            stall_events=self._stall_events,
            stall_impacted_streams=int(self._stall_events > 0),
            stall_time=_ms_to_s(self._stall),
            error_events=len(self._errors),
            error_impacted_streams=int(bool(self._errors)),
            errors=" ".join(self._errors),
            average_bitrate=bitrate,
            bitrate_changes=self._bitrate_changes,
            bitrate_change_impacted_streams=int(self._bitrate_changes > 0),
            dropped_frames=self._dropped,
            dropped_frame_impacted_streams=int(bool(self._dropped)),
            ad_count=len(ads),
            ad_starts=len(ads),
            ad_completes=sum(ad.completes for ad in ads),
            ad_time_spent=_ms_to_s(self._ad_ms),
            chapter_count=len(chapters),
            chapter_starts=len(chapters),
            chapter_completes=sum(chapter.completes for chapter in chapters),
            chapter_time_spent=round(float(sum(chapter.time_spent for chapter in chapters)), 3),
            ads=[_rounded_ad(ad) for ad in ads],
            chapters=[_rounded_chapter(chapter) for chapter in chapters],
            states=[
                StateRecord(s.sid, s.name, s.is_set, s.count, round(s.time, 3))
                for s in self._states.values()
            ],
        )

    def _markers(self, length: float | None) -> dict[int, int]:
        """Which progress markers the highest main-content playhead reached (reading C6)."""
        reached = dict.fromkeys(MARKERS, 0)
        if self._max_ph is None or length is None or length <= 0:
            return reached
        live = str(self._start.get("media.contentType", "")).lower() in ("live", "linear")
        if live and not self.readings.live_progress_markers:
            return reached
        if self.readings.marker_length == "whole seconds":
            length = float(round(length))
        for marker in MARKERS:
            threshold = length * marker / 100
            hit = (
                self._max_ph >= threshold
                if self.readings.marker_at_threshold
                else (self._max_ph > threshold)
            )
            reached[marker] = int(hit)
        return reached


def _rounded_ad(ad: AdRecord) -> AdRecord:
    return dataclasses.replace(ad, time_spent=round(ad.time_spent, 3))


def _rounded_chapter(chapter: ChapterRecord) -> ChapterRecord:
    return dataclasses.replace(chapter, time_spent=round(chapter.time_spent, 3))


_Handler = Callable[[SessionMeter, int, float, Mapping[str, Any], Any], None]
_HANDLERS: Final[dict[str, _Handler]] = {
    "sessionStart": SessionMeter._on_session_start,
    "play": SessionMeter._on_play,
    "pauseStart": SessionMeter._on_pause,
    "bufferStart": SessionMeter._on_buffer,
    "sessionComplete": SessionMeter._on_complete,
    "adBreakStart": SessionMeter._on_break_start,
    "adStart": SessionMeter._on_ad_start,
    "adComplete": SessionMeter._on_ad_complete,
    "adSkip": SessionMeter._on_ad_skip,
    "adBreakComplete": SessionMeter._on_break_complete,
    "chapterStart": SessionMeter._on_chapter_start,
    "chapterComplete": SessionMeter._on_chapter_complete,
    "chapterSkip": SessionMeter._on_chapter_skip,
    "bitrateChange": SessionMeter._on_bitrate,
    "error": SessionMeter._on_error,
    "stateStart": SessionMeter._on_state,
    "stateEnd": SessionMeter._on_state,
    "statesUpdate": SessionMeter._on_state,
}


def record_of_events(
    sid: str,
    bodies: Sequence[Mapping[str, Any]],
    *,
    close: str | None = None,
    readings: Readings = ADOBE,
    downloaded: bool = False,
    profile: str = "",
) -> SessionRecord:
    """The record of a whole session's MCA bodies (sorted by timestamp first, as the back end
    sorts what it buffers). `close`: how it closed, if not by its events or the timeouts."""
    meter = SessionMeter(sid, readings=readings, downloaded=downloaded, profile=profile)
    for body in sorted(bodies, key=_ts):
        meter.feed(body)
    return meter.close(close)


def _ts(body: Mapping[str, Any]) -> int:
    player_time = body.get("playerTime") or {}
    return int(player_time.get("ts", 0))
