"""The mechanics of a simulated player: small objects, each owning one part of a viewing's state.

Theory of operation
-------------------
A viewing is driven by a handful of mechanics, each of which knows, from its own state, when it
next has something to do:

- `PingTimer`: when the ping timer fires, a little late on each tick unless timing is exact;
- `Timeline`: the time bookkeeping (the instant and `ts` of the last event, when the playhead
  last changed on the wire, when the session opened, how much content has played) and the
  playhead, from which the ping grid and the 30-minute and 24-hour rules of MCA-SPEC.md
  section 5 are worked out;
- `AdBreak`: the pod running now, the ad playing and when it ends, and the pods served so far;
- `ChapterTrack`: the chapter open on the wire, and where chapters are (the title's, or the
  programmes of a live channel's UTC grid);
- `CuePoints` (on-demand) or `LiveCues` (the live channel's UTC grid): where mid-rolls come;
- `DecisionTimer`: the behaviour's next decision;
- `PlayerStates`: the player states (`media.state.name`) open now.

A mechanic answers "when are you next due" (an instant, or None) and changes its own state when
its step runs. Which steps exist, and which one goes first when several are due at the same
instant, is not decided by the order of lines in a function but written as data: a `Priority`
table of `Step` rows (the player's is `playersim.sim.player.PRIORITY`). Each row names the step,
the session state it can come due in (`Needs`), how to ask when it is due, what to run, and
whether a ping can move its instant. The earliest instant wins; at the same instant the earlier
row wins. Anything overdue happens now, never in the past.

A `Schedule` remembers the answer until something changes, because the engine asks for a
player's next wake-up right after `due()` found it. Handing a step out to be run (`take`) makes
it stale, as does news from outside (the player calls `changed()` from `on_response`); it is
worked out again, lazily, when next asked. Most events are pings, and a ping changes only the
time, so after the ping row (the one marked `is_ping`) only the rows a ping can move are asked
again; the others keep the instants they had. That is exact, not an approximation: the ping
was sent because it came strictly before every other row, so each of those is still in the
future, and a row not marked `moved_by_ping` depends on nothing a ping changes (see the table's
comments).
"""

from __future__ import annotations

import bisect
import functools
import random
from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Final, Generic, TypeVar
from zoneinfo import ZoneInfo

from playersim.audience.catalog import Chapter, Title
from playersim.audience.distributions import Distribution
from playersim.audience.streams import RandomStream
from playersim.errors import PlayerProtocolError
from playersim.mca.spec import DAY_MS
from playersim.mca.states import AdPhase, SessionState, State
from playersim.mca.wire import WireBody, json_seconds
from playersim.sim.behaviour import AdPlay, Behaviour, Decision, SessionView
from playersim.sim.playhead import Playhead

__all__ = [
    "AdBreak",
    "ChapterTrack",
    "CuePoints",
    "DecisionTimer",
    "DroppedFrames",
    "LiveCues",
    "Needs",
    "PingTimer",
    "PlayerStates",
    "Priority",
    "Schedule",
    "Step",
    "Timeline",
    "needs_met",
]

_NEW: Final = State.NEW
_MAX_DRIFT_MS: Final = 60  # how far after their instant events sent together may be stamped
_ENDED: Final = State.ENDED
_COMPLETE: Final = State.COMPLETE
_PLAYING: Final = State.PLAYING
_AD_NONE: Final = AdPhase.NONE
_CHAPTER_STATES: Final = (State.PLAYING, State.PAUSED, State.BUFFERING)


# --- the priority table's machinery -------------------------------------------------------------


class Needs(IntEnum):
    """The session state a step can come due in. Each level is a part of the one before it."""

    ANY = 0  # whatever the session, even none open
    OPEN = 1  # a session is open (its content complete or not)
    RUNNING = 2  # open and main content not complete: pings and the session time limits run
    PLAYING = 3  # main content plays with no ad running: the playhead moves


def needs_met(state: SessionState) -> Needs:
    """The highest level of `Needs` that `state` meets."""
    playback = state.playback
    if playback is _NEW or playback is _ENDED:
        return Needs.ANY
    if playback is _COMPLETE:
        return Needs.OPEN
    if playback is _PLAYING and state.ad is _AD_NONE:
        return Needs.PLAYING
    return Needs.RUNNING


H = TypeVar("H")  # the host whose mechanics the steps drive (the player)


@dataclass(frozen=True, slots=True)
class Step(Generic[H]):
    """One row of a priority table: a thing the host can do, and when."""

    name: str
    needs: Needs  # the session state it can come due in
    due: Callable[[H], int | None]  # the instant it wants (None: not due at all)
    run: Callable[[H, int, list[WireBody]], None]  # do it at an instant, appending bodies
    moved_by_ping: bool = False  # a ping can change `due`: asked again after every ping
    is_ping: bool = False  # it changes only the time: after it, only `moved_by_ping` rows move
    rank: int = -1  # its row in the table (set by `Priority`): lower wins a tie


class Priority(Generic[H]):
    """Steps in the order they win when due at the same instant: the first row first."""

    __slots__ = ("_by_need", "_moved_by_need", "steps")

    def __init__(self, *steps: Step[H]) -> None:
        self.steps: tuple[Step[H], ...] = tuple(
            replace(step, rank=rank) for rank, step in enumerate(steps)
        )
        # The rows that can come due at each level, worked out once: a session's level is all
        # the schedule needs to know to skip the rows that cannot apply.
        self._by_need = tuple(
            tuple(step for step in self.steps if step.needs <= level) for level in Needs
        )
        self._moved_by_need = tuple(
            tuple(step for step in rows if step.moved_by_ping) for rows in self._by_need
        )

    def rows(self, level: Needs, *, moved_by_ping: bool = False) -> tuple[Step[H], ...]:
        """The rows that can come due at `level` (only those a ping moves, if asked)."""
        return (self._moved_by_need if moved_by_ping else self._by_need)[level]


_FRESH: Final = 0
_MOVED: Final = 1  # only a ping happened since the last answer
_ALL: Final = 2
_NEVER: Final = -1  # an instant before any: nothing is due by it


class Schedule(Generic[H]):
    """A host's next step, worked out once per change (see the module's theory of operation).

    It holds instants and table rows only, never the host: a finished viewing is freed by
    reference counting alone.
    """

    __slots__ = ("_best", "_moved_rows", "_priority", "_stale", "_unmoved")

    def __init__(self, priority: Priority[H]) -> None:
        self._priority = priority
        self._stale = _ALL
        self._best: tuple[int, Step[H]] | None = None
        # As last worked out in full: the earliest row a ping does not move, and the rows it
        # does (those of the session's level: a ping leaves the session state as it was).
        self._unmoved: tuple[int, Step[H]] | None = None
        self._moved_rows: tuple[Step[H], ...] = ()

    def changed(self) -> None:
        """Anything may have moved: ask every row again."""
        self._stale = _ALL

    def next(self, host: H, state: SessionState, now: int) -> tuple[int, Step[H]] | None:
        """The earliest step and its instant (never before `now`), ties to the earlier row.

        `state` is the host's session state and `now` the instant of its last event.
        """
        if self._stale:
            self.take(host, state, now, _NEVER)  # works it out, hands nothing out
        return self._best

    def take(self, host: H, state: SessionState, now: int, by: int) -> tuple[int, Step[H]] | None:
        """The next step, if it is due by instant `by`, handed out to be run.

        The schedule is then stale: anything the step does may move any row, except that a
        ping moves only the rows marked `moved_by_ping`. (A ping that did more must say so
        with `changed`.)
        """
        stale = self._stale
        if stale == _MOVED:
            # After a ping (nearly every wake-up): the unmoved rows' earliest stands; ask the
            # others again. Inline, in plain locals: this runs for every ping of every session.
            unmoved = self._unmoved
            best_at, best_step = unmoved if unmoved is not None else (-1, None)
            for step in self._moved_rows:
                wanted = step.due(host)
                if wanted is None:
                    continue
                at = wanted if wanted > now else now
                if (
                    best_step is None
                    or at < best_at
                    or (at == best_at and step.rank < best_step.rank)
                ):
                    best_at, best_step = at, step
            self._best = None if best_step is None else (best_at, best_step)
            self._stale = _FRESH
        elif stale:
            self._best = self._work_out(host, needs_met(state), now)
            self._stale = _FRESH
        best = self._best
        if best is None or best[0] > by:
            return None
        self._stale = _MOVED if best[1].is_ping else _ALL
        return best

    def _work_out(self, host: H, level: Needs, now: int) -> tuple[int, Step[H]] | None:
        best: tuple[int, Step[H]] | None = None
        unmoved: tuple[int, Step[H]] | None = None
        self._moved_rows = self._priority.rows(level, moved_by_ping=True)
        for step in self._priority.rows(level):
            wanted = step.due(host)
            if wanted is None:
                continue
            at = wanted if wanted > now else now  # what is overdue happens now
            if best is None or at < best[0]:  # strictly: at a tie the earlier row stays
                best = (at, step)
            if not step.moved_by_ping and (unmoved is None or at < unmoved[0]):
                unmoved = (at, step)
        self._unmoved = unmoved
        return best


# --- time -------------------------------------------------------------------------------------


class PingTimer:
    """When a player's ping timer fires: a tick every `period` from the session's start, each
    one late by its own amount (none at all, when exact).

    A tick's lateness is drawn once, from an RNG of the grid's own (the session's start and the
    period name it), so it is the same however often, and in whatever order, the schedule asks:
    the traffic stays the same for the same seed whatever the network's timing.
    """

    __slots__ = ("_grids", "_late", "_seed")

    def __init__(self, late: Distribution | None, seed: str) -> None:
        self._late = late  # None: every tick on the grid
        self._seed = seed
        # Per grid (start, period): its draws so far (the tick to come is asked for, and
        # sometimes the one before).
        self._grids: dict[tuple[int, int], _Grid] = {}

    def next_after(self, start: int, period: int, after: int) -> int:
        """The first tick strictly after instant `after` (never the session's start itself)."""
        tick = (after - start) // period + 1
        nominal = start + tick * period
        if self._late is None:
            return nominal
        grid = self._grid(start, period, tick)
        if tick > 1:
            # The tick before may not have fired yet: it is late, and `after` came meanwhile.
            earlier = nominal - period + grid.before
            if earlier > after:
                return earlier
        return nominal + grid.last

    def _grid(self, start: int, period: int, tick: int) -> _Grid:
        """The grid's draws, up to `tick`: `last` is its lateness, `before` the one before."""
        late = self._late
        assert late is not None
        grid = self._grids.get((start, period))
        if grid is None or tick < grid.drawn:
            if len(self._grids) >= 4:
                self._grids.clear()  # grids of sessions long gone (drawn again if asked)
            grid = self._grids[start, period] = _Grid(f"{self._seed}:{start}:{period}")
        while grid.drawn < tick:
            grid.before, grid.last = grid.last, grid.next_late(late, period)
            grid.drawn += 1
        return grid


# Ticks whose lateness a grid draws at a time: its stream's 2.5 KB are made again once per
# this many pings (about 10 us), and put away in between (`RandomStream`).
_DRAWN_AHEAD: Final = 32


class _Grid:
    """One grid's draws: its stream, how many ticks are drawn, the lateness of the last two,
    and the next ticks' lateness, drawn ahead (the stream is the grid's alone: drawing early
    changes no number)."""

    __slots__ = ("_ahead", "_taken", "before", "drawn", "last", "stream")

    def __init__(self, seed: str) -> None:
        self.stream = RandomStream(seed)
        self.drawn = 0
        self.before = self.last = 0
        # (An array, 4 bytes a tick: as a list, each lateness above 256 ms would be an int
        # object of its own.)
        self._ahead = array("i")
        self._taken = 0

    def next_late(self, late: Distribution, period: int) -> int:
        """The next tick's lateness, in milliseconds."""
        if self._taken == len(self._ahead):
            sample, rng, cap = late.sample, self.stream.awake(), period - 1
            # Below the period, so the ticks stay in order (and, capped by the profile, at
            # most a second late: no gap a second longer than the interval).
            self._ahead = array(
                "i", [min(cap, max(0, round(sample(rng)))) for _ in range(_DRAWN_AHEAD)]
            )
            self._taken = 0
            self.stream.sleep()
        value = self._ahead[self._taken]
        self._taken += 1
        return value


class DroppedFrames:
    """Frames a viewing drops: at random, at a rate of its own (a device, a connection).

    Drawn from a stream of its own, seeded by `seed`, asleep between draws (`RandomStream`):
    it is drawn from only when the player reports its figures (its first frame, a bitrate
    change), a few times a viewing.
    """

    __slots__ = ("_count", "_next_ms", "_spacing_ms", "_stream")

    def __init__(self, per_minute: float, seed: str) -> None:
        rng = self._stream = RandomStream(seed)
        # REALISM-SOURCES.md 4.2 has no published rates; assumption (ours): most viewings drop
        # few frames, a minority many (an old TV, a busy phone): the profile's average times a
        # lognormal factor of median 1, sigma 1.
        rate = per_minute * rng.lognormvariate(0.0, 1.0) if per_minute > 0 else 0.0
        self._spacing_ms = 60_000 / rate if rate > 0 else 0.0
        self._count = 0
        self._next_ms = rng.expovariate(1.0) * self._spacing_ms if rate > 0 else 0.0
        rng.sleep()

    def by(self, watched_ms: int) -> int:
        """Frames dropped by the time `watched_ms` of content has played (a Poisson process)."""
        if not self._spacing_ms:
            return 0
        if self._next_ms <= watched_ms:
            rng = self._stream.awake()
            while self._next_ms <= watched_ms:
                self._count += 1
                self._next_ms += rng.expovariate(1.0) * self._spacing_ms
            self._stream.sleep()
        return self._count


class Timeline:
    """The time bookkeeping of one viewing, and its playhead."""

    __slots__ = (
        "_gap",
        "last_at",
        "last_event",
        "last_playhead",
        "last_ts",
        "moved_at",
        "playhead",
        "playing_since",
        "session_start",
        "watched_before",
    )

    def __init__(self, playhead: Playhead, gap: Callable[[], int] | None = None) -> None:
        self.playhead = playhead
        # Milliseconds between events sent at one instant (None: exactly 1).
        self._gap = gap
        self.session_start = 0  # the current MCA session's sessionStart instant
        self.last_at = 0  # the instant of the last event sent
        self.last_ts = -1  # its `ts`: events at one instant leave `gap` ms apart (or 1)
        self.last_event = ""  # its eventType
        self.last_playhead: int | None = None  # None: the next event is a playhead change
        self.moved_at = 0  # when the playhead last changed on the wire
        self.playing_since: int | None = None  # main content plays since this instant
        self.watched_before = 0  # main content played before `playing_since`

    @property
    def watched_ms(self) -> int:
        """Main content played by the last event."""
        if self.playing_since is None:
            return self.watched_before
        return self.watched_before + (self.last_at - self.playing_since)

    def sent(self, event: str, at: int) -> tuple[int, int]:
        """Record an event sent at `at`: its `ts` and its playhead."""
        ts = at
        if at <= self.last_ts:  # events at one instant leave one after the other
            ts = self.last_ts + 1
            if self._gap is not None:
                # Some milliseconds apart, but never far from the instant whose playhead they
                # carry: reports round playheads to a tenth of a second at best.
                ts = max(ts, min(self.last_ts + self._gap(), at + _MAX_DRIFT_MS))
        self.last_ts = ts
        self.last_at = at
        self.last_event = event
        playhead = self.playhead.at(at)
        if playhead != self.last_playhead:
            self.last_playhead = playhead
            self.moved_at = at
        return ts, playhead

    def play(self, at: int) -> None:
        """Main content plays from `at` (no change if it already does)."""
        if self.playing_since is None:
            self.playing_since = at
            self.playhead.resume(at)

    def hold(self, at: int) -> int:
        """Main content stops at `at`; returns the content played so far."""
        assert self.playing_since is not None
        self.watched_before += at - self.playing_since
        self.playing_since = None
        self.playhead.hold(at)
        return self.watched_before

    def reaches(self, position_ms: int) -> int | None:
        """When the playing content reaches `position_ms` (on-demand); None while it is held."""
        if self.playing_since is None:
            return None
        here = self.playhead.position(self.last_at)
        return self.last_at + max(0, position_ms - here)


# --- ads --------------------------------------------------------------------------------------


class AdBreak:
    """The ad break running now (its pod, the ad playing and when it ends), and the pods so far."""

    __slots__ = (
        "_name",
        "_second",
        "ads",
        "completing",
        "ends_at",
        "first_ad_at",
        "index",
        "next_mid",
        "position",
    )

    def __init__(self) -> None:
        self.ads: tuple[AdPlay, ...] = ()  # the pod running; () between breaks
        self.position = 0  # the current ad's place in the pod, from 0
        self.index = 0  # media.ad.podIndex of the pod running
        self.ends_at: int | None = None  # when the current ad completes or is skipped
        self.completing = False  # a post-roll runs: sessionComplete follows it
        self.next_mid = 1  # media.ad.podIndex of the next mid-roll (or post-roll)
        self.first_ad_at: int | None = None  # the first ad's first frame
        self._second = 0  # media.ad.podSecond: the playhead where the pod started
        self._name: str | None = None  # media.ad.podFriendlyName, when given (a script's)

    def due(self) -> int | None:
        """When the current ad ends."""
        return self.ends_at

    def begin(
        self, ads: tuple[AdPlay, ...], *, index: int, second: int, name: str | None = None
    ) -> None:
        """A pod starts, at playhead `second`; `name` is its friendly name, if not the kind."""
        self.ads = ads
        self.position = 0
        self.index = index
        self._second = second
        self._name = name

    @property
    def current(self) -> AdPlay:
        return self.ads[self.position]

    def break_params(self) -> dict[str, Any]:
        """The params of adBreakStart."""
        if self._name is not None:
            kind = self._name
        elif self.index == 0:
            kind = "pre-roll"
        else:
            kind = "post-roll" if self.completing else f"mid-roll {self.index}"
        return {
            "media.ad.podIndex": self.index,
            "media.ad.podSecond": json_seconds(self._second),
            "media.ad.podFriendlyName": kind,
        }

    def ad_params(self, player_name: str) -> dict[str, Any]:
        """The params of the current ad's adStart."""
        creative = self.current.creative
        return {
            "media.ad.id": creative.ad_id,
            "media.ad.length": json_seconds(creative.length_ms),
            "media.ad.podPosition": self.position + 1,
            "media.ad.playerName": player_name,
            **creative.params,
        }

    def started(self, at: int) -> None:
        """The current ad showed its first frame at `at`."""
        self.ends_at = at + self.current.duration_ms
        if self.first_ad_at is None:
            self.first_ad_at = at

    def skipped(self) -> bool:
        """The current ad ends by being skipped (adSkip) rather than played out."""
        ad = self.current
        return ad.skip_after_ms is not None and ad.skip_after_ms < ad.creative.length_ms

    def advance(self) -> bool:
        """The current ad is over: True if another follows, False if the pod is done."""
        self.position += 1
        if self.position < len(self.ads):
            return True
        self.ends_at = None
        self.ads = ()
        return False


# --- chapters and cues ------------------------------------------------------------------------


class ChapterTrack:
    """The chapter open on the wire, and where chapters are.

    On demand, the title's chapters. Live, the programmes of the channel's day
    (`Title.schedule`, in the channel's local time `timezone`: the morning show airs in the
    morning there), or for a title without one a UTC grid of `program_minutes` slots; either
    reaches this viewer `delay_ms` after the live edge.
    """

    __slots__ = (
        "_chapters", "_delay_ms", "_live", "_names", "_schedule", "_slot_ms", "_starts", "_zone",
        "open",
    )  # fmt: skip

    def __init__(
        self,
        title: Title,
        *,
        live: bool,
        program_minutes: int | None,
        delay_ms: int,
        timezone: str = "UTC",
    ) -> None:
        self.open: Chapter | None = None
        self._live = live
        self._chapters = title.chapters
        self._slot_ms = None if program_minutes is None else program_minutes * 60_000
        self._names = title.programmes or (title.name,)
        self._delay_ms = delay_ms
        self._schedule = title.schedule if live else ()
        self._starts = [slot.start_minute for slot in self._schedule]
        self._zone = ZoneInfo(timezone)

    def at(self, playhead: Playhead, at: int) -> Chapter | None:
        """The chapter the content is in at instant `at`."""
        if self._live:
            if self._schedule:
                return self._programme(at)
            slot_ms = self._slot_ms
            if slot_ms is None:
                return None
            delay = self._delay_ms
            slot_start = (at - delay) // slot_ms * slot_ms  # on the grid, at the live edge
            slot = slot_start % DAY_MS // slot_ms
            names = self._names
            name = names[(slot_start // slot_ms) % len(names)]
            # Live chapters are programmes on a UTC grid, reaching this viewer `delay` later:
            # the offset is the second of the day at which it starts for them (their playhead).
            return Chapter(slot + 1, slot_start + delay, slot_ms, name)
        position = playhead.position(at)
        for chapter in self._chapters:
            if chapter.start_ms <= position < chapter.end_ms:
                return chapter
        return None

    def _programme(self, at: int) -> Chapter:
        """The programme on air at the live edge of instant `at`, as it reaches this viewer.

        Worked from the edge instant, not from local wall times turned back into instants: on
        the night the clocks go back, 01:30 comes twice, and a slot's start read from the wall
        would be an hour off. The slot ends when the wall clock next shows its end (on a day
        the clocks change, a slot across the change is an hour longer or shorter)."""
        edge = at - self._delay_ms
        local = datetime.fromtimestamp(edge / 1000, self._zone)
        minute = local.hour * 60 + local.minute
        index = bisect.bisect_right(self._starts, minute) - 1
        slot = self._schedule[index]
        into = (minute - slot.start_minute) * 60_000 + local.second * 1000
        start = edge - into - local.microsecond // 1000
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
        wall_end = midnight + timedelta(minutes=slot.end_minute)  # wall-clock arithmetic
        end = round(wall_end.timestamp() * 1000)
        if end <= edge:  # its end falls in the repeated hour: the second time round
            end = round(wall_end.replace(fold=1).timestamp() * 1000)
        end = max(end, edge + 1000)  # never a programme that is over before it is reached
        return Chapter(index + 1, start + self._delay_ms, end - start, slot.name)

    def end_due(self, time: Timeline) -> int | None:
        """When the open chapter ends."""
        if self.open is None:
            return None
        if self._live:
            return self.open.end_ms  # a wall-clock instant on the UTC grid
        return time.reaches(self.open.end_ms)

    def start_due(self, state: SessionState, played: bool, time: Timeline) -> int | None:
        """When the next chapter starts: now if the content is in one, else the instant the
        playing content reaches the next one's start, like any other due instant (between two
        events, not at the next one). None while one is open, before the first frame, in an ad
        break, or with no chapter ahead."""
        if (
            self.open is not None
            or not played
            or state.ad is not _AD_NONE
            or state.playback not in _CHAPTER_STATES
        ):
            return None
        now = time.last_at
        if self._live:  # the programme grid leaves no gap: the current one, if any
            return None if self.at(time.playhead, now) is None else now
        position = time.playhead.position(now)
        for chapter in self._chapters:  # in order of offset, never overlapping
            if position < chapter.end_ms:
                if chapter.start_ms <= position:
                    return now
                return time.reaches(chapter.start_ms)  # None while the playhead is held
        return None

    def start_params(self, chapter: Chapter) -> dict[str, Any]:
        """The params of chapterStart."""
        offset = chapter.offset_ms % DAY_MS if self._live else chapter.offset_ms
        return {
            "media.chapter.index": chapter.index,
            "media.chapter.offset": json_seconds(offset),
            "media.chapter.length": json_seconds(chapter.length_ms),
            "media.chapter.friendlyName": chapter.name,
        }


class CuePoints:
    """On-demand mid-roll cue points: each served once; those a seek jumps over, never."""

    __slots__ = ("_cues", "_done")

    def __init__(self, cues_ms: tuple[int, ...]) -> None:
        self._cues = cues_ms
        self._done: set[int] = set()

    def due(self, time: Timeline) -> int | None:
        """When the playing content reaches the next cue not yet served."""
        here = time.playhead.position(time.last_at)
        for cue in self._cues:
            # `>=`: a cue on a chapter boundary is reached in the same instant the chapter ends.
            if cue >= here and cue not in self._done:
                return time.reaches(cue)
        return None

    def served(self, time: Timeline, at: int) -> None:
        """The cue reached at `at` is served (a cue reached exactly is served once)."""
        position = time.playhead.position(at)
        self._done.update(cue for cue in self._cues if cue <= position)

    def jumped(self, here: int, target: int) -> None:
        """A seek from `here` forward to `target`: the mid-rolls in between are not played."""
        self._done.update(cue for cue in self._cues if here < cue <= target)


class LiveCues:
    """Live mid-rolls: each channel on its own daily schedule of breaks, about every
    `interval_ms` (UTC), reaching this viewer `delay_ms` late.

    Channels do not all break at :00, :15, :30 and :45: each one's breaks are offset from the
    hour by its own minutes, and each break moves a little from the even grid (up to a quarter
    of the interval, at most three minutes), as a network's log of breaks does. The schedule is
    fixed by the channel (`key`), so every viewer of a channel sees its breaks at one instant.
    """

    __slots__ = ("_day", "_delay_ms", "_interval_ms", "_served")

    def __init__(self, interval_ms: int | None, *, delay_ms: int, key: str = "") -> None:
        self._interval_ms = interval_ms  # None: no live mid-rolls
        self._delay_ms = delay_ms
        self._served = 0  # the last grid instant already served
        self._day = () if interval_ms is None else _break_day(key, interval_ms)

    def due(self, time: Timeline) -> int | None:
        """The next break as it reaches this viewer: now included, the last served not."""
        if self._interval_ms is None:
            return None
        delay = self._delay_ms
        earliest = max(time.last_at, self._served + 1) - delay
        day_start = earliest - earliest % DAY_MS
        day = self._day
        index = bisect.bisect_left(day, earliest - day_start)
        if index == len(day):
            return day_start + DAY_MS + day[0] + delay
        return day_start + day[index] + delay

    def served(self, time: Timeline, at: int) -> None:
        self._served = at

    def jumped(self, here: int, target: int) -> None:
        """Nothing: live mid-rolls are on the clock, not at content positions."""


@functools.lru_cache(maxsize=256)
def _break_day(key: str, interval_ms: int) -> tuple[int, ...]:
    """A channel's break instants within a UTC day (ms after midnight), sorted."""
    if not key:
        return tuple(range(0, DAY_MS, interval_ms))  # a bare grid: no channel to schedule
    rng = random.Random(f"breaks:{key}:{interval_ms}")
    offset = rng.randrange(0, max(1, interval_ms // 60_000)) * 60_000  # whole minutes
    wobble = min(interval_ms // 4, 180_000)
    instants = {
        (start + offset + (rng.randint(-wobble, wobble) // 1000) * 1000) % DAY_MS
        for start in range(0, DAY_MS, interval_ms)
    }
    return tuple(sorted(instants))


# --- the viewer -------------------------------------------------------------------------------


class DecisionTimer:
    """The behaviour's next decision, and when it falls due."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next: Decision | None = None

    def due(self) -> int | None:
        return None if self._next is None else self._next.at

    def ask(self, behaviour: Behaviour, view: SessionView) -> None:
        """Ask the behaviour what the viewer does next, as of `view.now`."""
        decision = behaviour.next(view)
        if decision is not None and decision.at < view.now:
            raise ValueError(
                f"behaviour scheduled {decision.action} in the past ({decision.at} < {view.now})"
            )
        self._next = decision

    def take(self) -> Decision:
        """The decision now due; none is pending after it."""
        decision = self._next
        assert decision is not None
        self._next = None
        return decision


class PlayerStates:
    """The player states (`media.state.name`) open now, and every one this viewing has used."""

    __slots__ = ("_limit", "_open", "_seen")

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._open: list[str] = []
        self._seen: list[str] = []

    @property
    def open(self) -> frozenset[str]:
        return frozenset(self._open)

    def check(self, start: tuple[str, ...], state: SessionState) -> None:
        """Refuse starting states beyond the spec's limit for one session."""
        if len(set(self._seen) | set(start)) > self._limit:
            raise PlayerProtocolError(
                "stateStart", str(state), f"at most {self._limit} player states a session"
            )

    def change(
        self, start: tuple[str, ...], end: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Start and end states; returns those that change (not already open, or open)."""
        start = tuple(name for name in start if name not in self._open)
        end = tuple(name for name in end if name in self._open)
        if start or end:
            self._open = [name for name in self._open if name not in end] + list(start)
            self._seen.extend(name for name in start if name not in self._seen)
        return start, end

    def take_open(self) -> tuple[str, ...]:
        """The open states, now closed (a new session re-sends them)."""
        states, self._open = tuple(self._open), []
        return states
