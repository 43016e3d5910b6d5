"""A simulated media player: one viewing, as a sans-IO state machine on a clock.

A `Player` never sleeps, never touches the network and never reads a clock. Asked with
`due(now)`, it returns the request bodies that are due by that instant, in order, each stamped
with the instant it happened; `next_wakeup` says when it next needs to be asked. It learns what
became of its requests only through `on_response`. The same player therefore runs in a unit test
with a hand-moved clock, in a batch simulation of a day, or in a real-time load run.

The player owns the mechanics; its behaviour (`playersim.sim.behaviour`) owns the decisions.
Mechanics, in the order they win when due at the same instant:

1. re-opening a session the back end lost (a 404 or 410 on an event);
2. the current ad ending (`adComplete` or `adSkip`, then the next `adStart` or
   `adBreakComplete`), a chapter ending, a mid-roll cue point or the end of the content (a
   post-roll, then `sessionComplete`);
3. a session whose playhead has not moved for 30 minutes (a long pause) is ended, and one open
   for 24 hours is ended and re-opened: a new session with `media.resume: true` that re-sends
   the open player states, ad and chapter (MCA-SPEC.md section 5);
4. then the behaviour's decision; then a chapter starting where the playhead now is;
5. a ping on the grid anchored at sessionStart: every 10 s, every 1 s during ads with granular ad
   tracking, skipped at an instant where another event is sent anyway.

Events at the same instant get `ts` values 1 ms apart, in order (section 4). Every event goes
through the state table (`playersim.mca.states`), so an impossible sequence raises instead of
reaching the wire.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from playersim.audience.catalog import Chapter, Title
from playersim.audience.metadata import MetadataPool, Visitor, session_params
from playersim.audience.profiles import Profile
from playersim.clock import parse_instant
from playersim.errors import PlayerProtocolError
from playersim.mca.api import GONE_STATUSES
from playersim.mca.spec import AD_PING_MS, DAY_MS, MAX_STATES, PING_MS, RESTART_MS, STALL_TIMEOUT_MS
from playersim.mca.states import AdPhase, SessionState, State, advance
from playersim.mca.wire import EventType, WireBody, json_seconds, make_body
from playersim.sim.behaviour import (
    Action,
    AdPlay,
    Behaviour,
    BitrateChange,
    Buffer,
    Complete,
    Decision,
    FailStart,
    Leave,
    Pause,
    Play,
    PlayerError,
    Seek,
    SessionView,
    StartAdBreak,
    StateChange,
    ViewerBehaviour,
)
from playersim.sim.playhead import Playhead

__all__ = ["Player", "SessionStats"]

_MAX_EVENTS_AT_ONE_INSTANT: Final = 200
_MAX_LIVE_DELAY_MS: Final = 600_000  # a viewer further behind the live edge is watching DVR
E = EventType
_COMPLETE: Final = State.COMPLETE
_PLAYING: Final = State.PLAYING
# eventType as the plain str sent on the wire (an enum's `.value` is a slow descriptor).
_WIRE_NAME: Final[dict[str, str]] = {event: event.value for event in EventType}


@dataclass
class SessionStats:
    """What one viewing did, for the run summary's behaviour figures."""

    sessions: int = 0  # MCA sessions opened (more than one after a resume)
    played: bool = False
    start_failed: bool = False
    preroll: bool = False
    left_in_preroll: bool = False
    left_paused: bool = False  # walked away from a pause
    rebuffers: int = 0
    pauses: int = 0
    seeks: int = 0
    errors: int = 0
    ad_breaks: int = 0
    ads: int = 0
    ads_skipped: int = 0
    bitrate_changes: int = 0
    state_changes: int = 0
    resumes: int = 0
    watched_ms: int = 0


class Player:
    """One simulated viewing.

    >>> from playersim import load_profile
    >>> player = Player(load_profile("vod-movie"), seed=7, start_at="2026-11-27T12:00:00Z")
    >>> [body["eventType"] for body in player.due(player.next_wakeup)]
    ['sessionStart']
    """

    def __init__(
        self,
        profile: Profile,
        *,
        seed: int | str = 0,
        index: int | str = 0,
        start_at: str | int | datetime | None = None,
        metadata: MetadataPool | None = None,
        behaviour: Behaviour | None = None,
        title: Title | None = None,
        visitor: Visitor | None = None,
    ) -> None:
        self.profile = profile
        self.index = index
        # One RNG per session, seeded by a string: stable across processes and platforms, and
        # independent of how many other sessions were simulated before this one.
        self.rng = random.Random(f"{seed}:{index}")
        pool = metadata or MetadataPool.build(profile, seed)
        self.title: Title = title or pool.pick_title(self.rng)
        self.visitor: Visitor = visitor or pool.pick_visitor(self.rng)
        self.length_ms = round(self.title.length_seconds * 1000)
        self.behaviour: Behaviour = behaviour or ViewerBehaviour(
            profile, self.rng, pool=pool, length_ms=self.length_ms
        )
        self.start_at: int | None = None if start_at is None else parse_instant(start_at)
        self.state = SessionState()  # the MCA session on the wire
        self.sid: str | None = None
        self.outcome: str | None = None  # why the viewing is over: completed, left, ...
        self.stats = SessionStats()
        self._live = profile.content.live
        self._granular = profile.ads.granular_tracking
        self._playhead = Playhead(live=self._live, length_ms=self.length_ms, at=0)
        # The viewer, independent of the session on the wire (which a long pause may close).
        self._viewer = State.WAITING
        self._played = False
        self._open_states: list[str] = []
        self._bitrate = 0
        self._chapter: Chapter | None = None  # the chapter open on the wire
        self._pod: tuple[AdPlay, ...] = ()
        self._pod_at = 0  # index of the current ad in the pod
        self._first_frame_at: int | None = None  # the first ad or content frame
        self._states_seen: list[str] = []  # every player state this viewing has used
        self._pod_index = 0  # media.ad.podIndex of the current pod
        self._pod_second = 0  # media.ad.podSecond: the playhead where it started
        self._ad_ends_at: int | None = None
        self._completing = False  # a post-roll is running; sessionComplete follows it
        self._next_mid_pod = 1
        self._cues_done: set[int] = set()
        self._live_break_after = 0  # live mid-rolls: the last UTC grid instant already served
        # Live viewers watch some seconds behind the live edge, each their own: the UTC grid of
        # breaks and programmes reaches each one that much later. Drawn from an RNG of its own,
        # so it shifts none of the session's other draws.
        self._live_delay_ms = 0
        if self._live:
            latency = profile.content.live_latency_seconds.sample(
                random.Random(f"{seed}:{index}:live-latency")
            )
            self._live_delay_ms = max(0, min(round(latency * 1000), _MAX_LIVE_DELAY_MS))
        # Time.
        self._session_start = 0  # the current MCA session's sessionStart instant
        self._last_at = 0  # the instant of the last event sent
        self._last_ts = -1
        self._last_event = ""
        self._last_playhead: int | None = None
        self._playhead_moved_at = 0
        self._watched_before = 0
        self._playing_since: int | None = None
        self._next: Decision | None = None
        self._reopen = False  # the back end lost the session: open a new one
        self._due_cache: tuple[tuple[int, Callable[[int, list[WireBody]], None]] | None] | None = (
            None
        )
        # The earliest mechanic other than the ping, as `_find_next` last found it.
        self._other_due: tuple[int, Callable[[int, list[WireBody]], None]] | None = None

    # --- what the engine asks ---------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the player has nothing more to send."""
        return self.outcome is not None

    @property
    def next_wakeup(self) -> int | None:
        """The instant this player next has something to send; None if finished or unscheduled."""
        if self.outcome is not None:  # finished
            # The caches hold bound methods of this player: a reference cycle. Dropping them
            # lets a finished viewing be freed at once by reference counting, instead of
            # waiting for (and lengthening) a full garbage collection.
            self._due_cache = self._other_due = None
            return None
        if self.state.playback is State.NEW and not self.stats.sessions:
            return self.start_at
        due = self._next_due()
        return None if due is None else due[0]

    def due(self, now: int) -> list[WireBody]:
        """Every request body due by instant `now`, in order. Call again as time moves on."""
        out: list[WireBody] = []
        if self.finished:
            return out
        if not self.stats.sessions:
            if self.start_at is None:
                self.start_at = now
            if self.start_at > now:
                return out
            self._last_at = self.start_at
            self._open(self.start_at, out, resume=False)
            self._ask()
        same_instant = 0
        while self.outcome is None:  # not finished
            cached = self._due_cache
            due = cached[0] if cached is not None else self._next_due()
            if due is None or due[0] > now:
                break
            at, handler = due
            same_instant = same_instant + 1 if at == self._last_at else 0
            if same_instant > _MAX_EVENTS_AT_ONE_INSTANT:
                # A guard: events that keep coming without time moving (a script with hundreds
                # of steps at one instant, or a bug) end in a clear error, never a hang.
                raise PlayerProtocolError(
                    self._last_event,
                    str(self.state),
                    f"more than {_MAX_EVENTS_AT_ONE_INSTANT} events at one instant",
                )
            handler(at, out)
        return out

    def on_response(self, event_type: str, status: int | None, *, sid: str | None = None) -> None:
        """Tell the player what became of one of its requests.

        `status` is the HTTP status, or None when the request got no answer at all.
        """
        if event_type == E.SESSION_START:
            if status == 201 and sid:
                self.sid = sid
            else:
                # Without a session id nothing else can be sent: the viewing is lost, even if
                # (its answers coming late, in real time) it has already played to its end.
                self.outcome = "rejected" if status is not None else "unreachable"
                self._due_cache = None
            return
        if self.finished:
            return
        if status in GONE_STATUSES and self.state.open:
            # The back end no longer knows this session: continue in a new one (section 5).
            self._reopen = True
            self._due_cache = None

    def stop(self, at: int) -> list[WireBody]:
        """End the viewing at instant `at`, as a player being shut down: a `sessionEnd` if a
        session is open, so the back end closes it instead of timing it out.

        For a run that is interrupted (Ctrl-C, SIGTERM). `at` is taken no earlier than the last
        event sent, so the session's events stay in order. What the open session had due by
        `at` (a ping whose moment came as the run was told to stop) goes first, as a real
        player's timers would have sent it: no gap of more than 10 s before the sessionEnd.
        """
        out: list[WireBody] = []
        if self.finished:
            return out
        wake = self.next_wakeup
        if self.stats.sessions and self.state.open and wake is not None and wake <= at:
            out = self.due(at)
            if self.finished:
                return out
        if self.stats.sessions and self.state.open:
            self._emit(E.SESSION_END, max(at, self._last_at), out)
        self.outcome = "stopped"
        self._due_cache = self._other_due = None
        return out

    @property
    def last_event_at(self) -> int | None:
        """The instant of the last event this viewing sent (None before the first)."""
        return self._last_at if self.stats.sessions else None

    @property
    def watched_ms(self) -> int:
        """Main content played so far, in milliseconds."""
        if self._playing_since is None:
            return self._watched_before
        return self._watched_before + (self._last_at - self._playing_since)

    # --- scheduling -----------------------------------------------------------------------------

    def _next_due(self) -> tuple[int, Callable[[int, list[WireBody]], None]] | None:
        """The earliest thing to do, with the mechanics' order deciding ties.

        Computed once per change: the engine asks for `next_wakeup` right after `due()` has
        found the same answer, so the answer is kept until the player's state moves.
        """
        if self._due_cache is None:
            self._due_cache = (self._find_next(),)
        return self._due_cache[0]

    def _find_next(self) -> tuple[int, Callable[[int, list[WireBody]], None]] | None:
        other = self._find_other()
        self._other_due = other
        state = self.state
        if state.open and state.playback is not _COMPLETE:
            # The ping comes last among the mechanics: it wins only when strictly earliest.
            ping = max(self._ping_at(), self._last_at)
            if other is None or ping < other[0]:
                return (ping, self._do_ping)
        return other

    def _find_other(self) -> tuple[int, Callable[[int, list[WireBody]], None]] | None:
        """The earliest mechanic other than the ping (kept by `_do_ping` for its fast path)."""
        candidates: list[tuple[int | None, Callable[[int, list[WireBody]], None]]] = []
        session_open = self.state.open
        if self._reopen:
            candidates.append((self._last_at, self._do_reopen))
        if session_open:
            candidates.append((self._ad_ends_at, self._do_ad_end))
            if self.state.playhead_advances:
                candidates.append((self._chapter_end_at(), self._do_chapter_end))
                candidates.append((self._cue_at(), self._do_cue))
                if not self._live:
                    candidates.append((self._reaches(self.length_ms), self._do_content_end))
            if self.state.playback is not State.COMPLETE:
                # While content plays, every ping moves the playhead and this never comes due;
                # it does after a long pause, even just after the viewer resumed at the same
                # position: the back end measures the 30 minutes to the next change it sees.
                candidates.append((self._playhead_moved_at + STALL_TIMEOUT_MS, self._do_stall))
                candidates.append((self._session_start + RESTART_MS, self._do_restart))
        if self._next is not None:
            candidates.append((self._next.at, self._do_decision))
        if session_open and self._chapter_wanted() is not None:
            candidates.append((self._last_at, self._do_chapter_start))
        best: tuple[int, Callable[[int, list[WireBody]], None]] | None = None
        for wanted, handler in candidates:
            if wanted is None:
                continue
            at = max(wanted, self._last_at)  # what is overdue happens now, never in the past
            if best is None or at < best[0]:
                best = (at, handler)
        return best

    def _reaches(self, position_ms: int) -> int | None:
        """When the playing content reaches `position_ms` (on-demand)."""
        if self._playing_since is None:
            return None
        here = self._playhead.position(self._last_at)
        return self._last_at + max(0, position_ms - here)

    def _ping_at(self) -> int:
        period = AD_PING_MS if self._granular and self.state.ad is not AdPhase.NONE else PING_MS
        elapsed = self._last_at - self._session_start
        return self._session_start + (elapsed // period + 1) * period

    # --- chapters and cues ----------------------------------------------------------------------

    def _chapter_at(self, at: int) -> Chapter | None:
        """The chapter the content is in at instant `at`."""
        if self._live:
            minutes = self.profile.content.program_minutes
            if minutes is None:
                return None
            slot_ms = minutes * 60_000
            delay = self._live_delay_ms
            slot_start = (at - delay) // slot_ms * slot_ms  # on the grid, at the live edge
            slot = slot_start % DAY_MS // slot_ms
            names = self.title.programmes or (self.title.name,)
            name = names[(slot_start // slot_ms) % len(names)]
            # Live chapters are programmes on a UTC grid, reaching this viewer `delay` later:
            # the offset is the second of the day at which it starts for them (their playhead).
            return Chapter(slot + 1, slot_start + delay, slot_ms, name)
        position = self._playhead.position(at)
        for chapter in self.title.chapters:
            if chapter.offset_ms <= position < chapter.end_ms:
                return chapter
        return None

    def _chapter_end_at(self) -> int | None:
        if self._chapter is None:
            return None
        if self._live:
            return self._chapter.end_ms  # wall-clock instant on the UTC grid
        return self._reaches(self._chapter.end_ms)

    def _chapter_wanted(self) -> Chapter | None:
        if (
            self._chapter is not None
            or not self._played
            or self.state.ad is not AdPhase.NONE
            or self.state.playback not in (State.PLAYING, State.PAUSED, State.BUFFERING)
        ):
            return None
        return self._chapter_at(self._last_at)

    def _cue_at(self) -> int | None:
        interval = self.profile.ads.midroll_interval_seconds
        if self._live:
            if interval <= 0:
                return None
            # The next instant on the UTC grid (as it reaches this viewer): now included, the
            # last break served excluded.
            step = round(interval * 1000)
            delay = self._live_delay_ms
            earliest = max(self._last_at, self._live_break_after + 1) - delay
            return -(-earliest // step) * step + delay
        here = self._playhead.position(self._last_at)
        for cue in self.title.cue_points_ms:
            # `>=`: a cue on a chapter boundary is reached in the same instant the chapter ends.
            if cue >= here and cue not in self._cues_done:
                return self._reaches(cue)
        return None

    # --- handlers ------------------------------------------------------------------------------

    def _do_reopen(self, at: int, out: list[WireBody]) -> None:
        self._reopen = False
        self.state = SessionState()
        self._chapter = None
        self._reopen_session(at, out)
        self._ask()

    def _do_ad_end(self, at: int, out: list[WireBody]) -> None:
        ad = self._pod[self._pod_at]
        if ad.skip_after_ms is not None and ad.skip_after_ms < ad.creative.length_ms:
            self._emit(E.AD_SKIP, at, out)
            self.stats.ads_skipped += 1
        else:
            self._emit(E.AD_COMPLETE, at, out)
        self._pod_at += 1
        if self._pod_at < len(self._pod):
            self._start_ad(at, out)
        else:
            self._ad_ends_at = None
            self._pod = ()
            self._emit(E.AD_BREAK_COMPLETE, at, out)
            if self._completing:
                self._complete(at, out)
                return
        self._ask()

    def _do_chapter_end(self, at: int, out: list[WireBody]) -> None:
        # Chapter boundaries change nothing the viewer decides on: a decision already taken
        # (the `play` that follows an ad break, say) stands.
        self._emit(E.CHAPTER_COMPLETE, at, out)
        self._chapter = None

    def _do_chapter_start(self, at: int, out: list[WireBody]) -> None:
        chapter = self._chapter_wanted()
        assert chapter is not None
        self._chapter = chapter
        offset = chapter.offset_ms % DAY_MS if self._live else chapter.offset_ms
        params = {
            "media.chapter.index": chapter.index,
            "media.chapter.offset": json_seconds(offset),
            "media.chapter.length": json_seconds(chapter.length_ms),
            "media.chapter.friendlyName": chapter.name,
        }
        self._emit(E.CHAPTER_START, at, out, params=params)

    def _do_cue(self, at: int, out: list[WireBody]) -> None:
        if self._live:
            self._live_break_after = at
        else:
            for cue in self.title.cue_points_ms:  # a cue reached exactly is served once
                if cue <= self._playhead.position(at):
                    self._cues_done.add(cue)
        pod = self.behaviour.pod("mid", self._view(at))
        if pod:
            self._start_break(at, out, pod, index=self._next_mid_pod)
            self._next_mid_pod += 1
        self._ask()

    def _do_content_end(self, at: int, out: list[WireBody]) -> None:
        if self._chapter is not None:
            self._emit(E.CHAPTER_COMPLETE, at, out)
            self._chapter = None
        pod = self.behaviour.pod("post", self._view(at))
        if pod:
            self._completing = True
            self._start_break(at, out, pod, index=self._next_mid_pod)
            self._ask()
        else:
            self._complete(at, out)

    def _do_stall(self, at: int, out: list[WireBody]) -> None:
        # The back end would close the session now; the player says so itself. A viewer still
        # paused gets a new session when they come back (the behaviour's next Play re-opens
        # it); one already watching again (or in an ad) goes on in a new session at once.
        self._emit(E.SESSION_END, at, out)
        self._chapter = None
        if self._viewer is State.PLAYING or self._pod:
            self.state = SessionState()
            self._reopen_session(at, out)
        self._ask()

    def _do_restart(self, at: int, out: list[WireBody]) -> None:
        self._emit(E.SESSION_END, at, out)
        self.state = SessionState()
        self._chapter = None
        self._reopen_session(at, out)
        self._ask()

    def _do_ping(self, at: int, out: list[WireBody]) -> None:
        playing_since = self._playing_since
        self._emit(E.PING, at, out)
        # Fast path: most events are pings, and a ping changes only the time (`_last_at`) and
        # when the playhead last moved. Every other mechanic's instant is unchanged:
        # - the ad end, the restart, the decision, live chapter ends and live cues are fixed
        #   instants (a live cue is the first grid instant >= `_last_at`; the ping came before
        #   it, so it is still the first);
        # - on-demand "when the content reaches X" is `since + X - held` until it is reached,
        #   and X was not reached by the ping (the ping came strictly first); the next cue is
        #   the same cue for the same reason;
        # - nothing was overdue: an overdue mechanic is due at `_last_at` and beats the ping.
        # Three things do move, so they take the full recomputation: the stall deadline (a
        # moving playhead pushes it later; a cached stall would fire too early), a chapter start
        # (the playhead may have entered a chapter), and the playhead starting or stopping.
        other = self._other_due
        if (
            other is not None
            and other[1] != self._do_stall
            and self._playing_since == playing_since
            and self._chapter_wanted() is None
        ):
            ping = self._ping_at()  # always after `_last_at`: the next instant on the grid
            self._due_cache = ((ping, self._do_ping) if ping < other[0] else other,)

    def _do_decision(self, at: int, out: list[WireBody]) -> None:
        decision = self._next
        assert decision is not None
        self._next = None
        self._due_cache = None
        self._act(decision.action, at, out)
        self.behaviour.acted(Decision(at, decision.action), self._view(at))
        if not self.finished:
            self._ask()

    # --- actions ---------------------------------------------------------------------------------

    def _act(self, action: Action, at: int, out: list[WireBody]) -> None:
        self._check_action(action)
        if not self.state.open and not isinstance(action, Leave):
            # A viewer back after the session was closed for a long pause: a new session.
            self.state = SessionState()
            self._reopen_session(at, out, resend_playback=not isinstance(action, Play))
        if isinstance(action, Play):
            self._play(at, out)
        elif isinstance(action, Pause):
            self._viewer = State.PAUSED
            self.stats.pauses += 1
            self._emit(E.PAUSE_START, at, out)
        elif isinstance(action, Buffer):
            self._viewer = State.BUFFERING
            self.stats.rebuffers += 1
            self._emit(E.BUFFER_START, at, out)
        elif isinstance(action, Seek):
            self._seek(action.to_ms, at, out)
        elif isinstance(action, StartAdBreak):
            index = 0 if not self._played else self._next_mid_pod
            if self._played:
                self._next_mid_pod += 1
            self._start_break(at, out, action.ads, index=index)
        elif isinstance(action, BitrateChange):
            self._bitrate = action.bitrate
            self.stats.bitrate_changes += 1
            self._emit(E.BITRATE_CHANGE, at, out, qoe=self._qoe(at))
        elif isinstance(action, PlayerError):
            self.stats.errors += 1
            qoe = {"media.qoe.errorID": action.error_id, "media.qoe.errorSource": action.source}
            self._emit(E.ERROR, at, out, qoe=qoe)
        elif isinstance(action, StateChange):
            self._change_states(action.start, action.end, at, out)
        elif isinstance(action, FailStart):
            self.stats.start_failed = True
            qoe = {"media.qoe.errorID": action.error_id, "media.qoe.errorSource": "player"}
            self._emit(E.ERROR, at, out, qoe=qoe)
            self._emit(E.SESSION_END, at, out)
            self.outcome = "failed to start"
        elif isinstance(action, Complete):
            if self._chapter is not None:
                self._emit(E.CHAPTER_COMPLETE, at, out)
                self._chapter = None
            self._complete(at, out)
        elif isinstance(action, Leave):
            # Paused when leaving: in an open session, or one a long pause already ended.
            self.stats.left_paused = self._viewer is State.PAUSED
            if self.state.open:
                if self.state.ad is not AdPhase.NONE and not self._played:
                    self.stats.left_in_preroll = True
                self._emit(E.SESSION_END, at, out)
            self.outcome = "left"

    def _check_action(self, action: Action) -> None:
        """Refuse what the mechanics do not model, before anything is sent."""
        name = type(action).__name__.lower()
        in_ads = self.state.ad is not AdPhase.NONE
        if in_ads and isinstance(action, Play | Pause | Buffer | Seek):
            # The player runs ads to their end (or skip): it does not pause or seek inside one.
            raise PlayerProtocolError(name, str(self.state), "not while an ad break runs")
        if isinstance(action, Seek) and not self._played:
            raise PlayerProtocolError(name, str(self.state), "content has not started: play first")
        if isinstance(action, StateChange):
            seen = set(self._states_seen) | set(action.start)
            if len(seen) > MAX_STATES:
                raise PlayerProtocolError(
                    "stateStart", str(self.state), f"at most {MAX_STATES} player states a session"
                )

    def _play(self, at: int, out: list[WireBody]) -> None:
        qoe = None
        if not self._played:
            self._played = True
            self.stats.played = True
            assert self.start_at is not None
            self._bitrate = self.behaviour.initial_bitrate()
            # Time to the first frame the viewer saw: the pre-roll's, if there was one.
            first_frame = self._first_frame_at if self._first_frame_at is not None else at
            qoe = {"media.qoe.timeToStart": first_frame - self.start_at, **self._qoe(at)}
        self._viewer = State.PLAYING
        first_states = self.behaviour.initial_states() if qoe is not None else ()
        self._emit(E.PLAY, at, out, qoe=qoe)
        if first_states:
            self._change_states(first_states, (), at, out, count=False)

    def _seek(self, to_ms: int, at: int, out: list[WireBody]) -> None:
        self.stats.seeks += 1
        self._emit(E.PAUSE_START, at, out)
        target = max(0, min(to_ms, self.length_ms - 1))
        if self._chapter is not None and not (
            self._chapter.offset_ms <= target < self._chapter.end_ms
        ):
            self._emit(E.CHAPTER_SKIP, at, out)
            self._chapter = None
        here = self._playhead.at(at)
        if target > here:  # mid-rolls jumped over are not played
            self._cues_done.update(c for c in self.title.cue_points_ms if here < c <= target)
        self._playhead.seek(target, at)
        self._last_playhead = None  # a seek is a playhead change
        self._viewer = State.PLAYING
        self._emit(E.PLAY, at, out)

    def _start_break(
        self, at: int, out: list[WireBody], ads: tuple[AdPlay, ...], *, index: int
    ) -> None:
        self.stats.ad_breaks += 1
        self.stats.preroll = self.stats.preroll or index == 0
        self._pod = ads
        self._pod_at = 0
        self._pod_index = index
        self._pod_second = self._playhead.at(at)
        self._emit_break_start(at, out)
        self._start_ad(at, out)

    def _emit_break_start(self, at: int, out: list[WireBody]) -> None:
        if self._pod_index == 0:
            kind = "pre-roll"
        else:
            kind = "post-roll" if self._completing else f"mid-roll {self._pod_index}"
        params = {
            "media.ad.podIndex": self._pod_index,
            "media.ad.podSecond": json_seconds(self._pod_second),
            "media.ad.podFriendlyName": kind,
        }
        self._emit(E.AD_BREAK_START, at, out, params=params)

    def _start_ad(self, at: int, out: list[WireBody], *, count: bool = True) -> None:
        ad = self._pod[self._pod_at]
        if count:
            self.stats.ads += 1
        params: dict[str, Any] = {
            "media.ad.id": ad.creative.ad_id,
            "media.ad.length": json_seconds(ad.creative.length_ms),
            "media.ad.podPosition": self._pod_at + 1,
            "media.ad.playerName": self.visitor.device.player_name,
            **ad.creative.params,
        }
        self._emit(E.AD_START, at, out, params=params)
        self._ad_ends_at = at + ad.duration_ms
        if self._first_frame_at is None:
            self._first_frame_at = at

    def _change_states(
        self,
        start: tuple[str, ...],
        end: tuple[str, ...],
        at: int,
        out: list[WireBody],
        *,
        count: bool = True,
    ) -> None:
        start = tuple(name for name in start if name not in self._open_states)
        end = tuple(name for name in end if name in self._open_states)
        if not start and not end:
            return
        if count:
            self.stats.state_changes += 1
        self._open_states = [n for n in self._open_states if n not in end] + list(start)
        self._states_seen.extend(name for name in start if name not in self._states_seen)
        if len(start) + len(end) == 1:
            event = E.STATE_START if start else E.STATE_END
            self._emit(event, at, out, params={"media.state.name": (start or end)[0]})
            return
        params: dict[str, Any] = {}
        if start:
            params["statesStart"] = [{"media.state.name": name} for name in start]
        if end:
            params["statesEnd"] = [{"media.state.name": name} for name in end]
        self._emit(E.STATES_UPDATE, at, out, params=params)

    def _complete(self, at: int, out: list[WireBody]) -> None:
        self._completing = False
        self._emit(E.SESSION_COMPLETE, at, out)
        self.outcome = "completed"

    # --- sessions ------------------------------------------------------------------------------

    def _open(self, at: int, out: list[WireBody], *, resume: bool) -> None:
        self._session_start = at
        self.stats.sessions += 1
        self._playhead_moved_at = at
        if self._live and not self._played:
            self._playhead = Playhead(live=True, length_ms=self.length_ms, at=at)
        params = session_params(self.profile, self.title, self.visitor, start_ms=at, resume=resume)
        self._emit(E.SESSION_START, at, out, params=params)

    def _reopen_session(
        self, at: int, out: list[WireBody], *, resend_playback: bool = True
    ) -> None:
        """A new session for the same viewing: media.resume, then the context re-sent."""
        self.stats.resumes += 1
        self._open(at, out, resume=True)
        if self._open_states:
            states, self._open_states = tuple(self._open_states), []
            self._change_states(states, (), at, out, count=False)
        if self._pod:
            self._emit_break_start(at, out)
            self._start_ad(at, out, count=False)
            return
        if not resend_playback:
            return
        if self._viewer is State.PLAYING:
            self._emit(E.PLAY, at, out)
        elif self._viewer is State.PAUSED and self._played:
            self._emit(E.PAUSE_START, at, out)
        elif self._viewer is State.BUFFERING:
            self._emit(E.BUFFER_START, at, out)

    def _ask(self) -> None:
        self._due_cache = None
        if not self.finished:
            self._next = self.behaviour.next(self._view(self._last_at))
            if self._next is not None and self._next.at < self._last_at:
                raise ValueError(
                    f"behaviour scheduled {self._next.action} in the past "
                    f"({self._next.at} < {self._last_at})"
                )

    def _view(self, at: int) -> SessionView:
        return SessionView(
            now=at,
            state=self.state,
            viewer=self._viewer,
            started_at=self.start_at if self.start_at is not None else at,
            played=self._played,
            playhead_ms=self._playhead.at(at),
            length_ms=self.length_ms,
            live=self._live,
            watched_ms=self.watched_ms,
            last_event=self._last_event,
            open_states=frozenset(self._open_states),
            bitrate=self._bitrate,
        )

    def _qoe(self, at: int) -> dict[str, Any]:
        qoe: dict[str, Any] = {"media.qoe.bitrate": self._bitrate}
        fps = self.profile.qoe.frames_per_second
        if fps:
            minutes = self.watched_ms / 60_000
            qoe["media.qoe.droppedFrames"] = int(
                minutes * self.profile.qoe.dropped_frames_per_minute
            )
            qoe["media.qoe.framesPerSecond"] = fps
        return qoe

    # --- the one place events are made ----------------------------------------------------------

    def _emit(
        self,
        event_type: EventType,
        at: int,
        out: list[WireBody],
        *,
        params: dict[str, Any] | None = None,
        qoe: dict[str, Any] | None = None,
    ) -> None:
        self._due_cache = None
        self.state = advance(self.state, event_type)
        if event_type is E.PLAY:
            self._sync_playhead(at)  # a live `play` resumes at the current second of the day
        # Same-instant events are spread 1 ms apart; the playhead is that of the instant itself.
        ts = at if at > self._last_ts else self._last_ts + 1
        self._last_ts = ts
        self._last_at = at
        name = _WIRE_NAME[event_type]
        self._last_event = name
        playhead = self._playhead.at(at)
        out.append(make_body(name, playhead, ts, params=params, qoe=qoe))
        if playhead != self._last_playhead:
            self._last_playhead = playhead
            self._playhead_moved_at = at
        self._sync_playhead(at)

    def _sync_playhead(self, at: int) -> None:
        """Run the playhead exactly while main content plays with no ad running."""
        if self._viewer is _PLAYING and self.state.playhead_advances:
            if self._playing_since is None:
                self._playing_since = at
                self._playhead.resume(at)
        elif self._playing_since is not None:
            self._watched_before += at - self._playing_since
            self.stats.watched_ms = self._watched_before
            self._playing_since = None
            self._playhead.hold(at)

    def __repr__(self) -> str:
        return (
            f"<Player {self.profile.name}#{self.index} {self.state} "
            f"title={self.title.media_id!r} sid={self.sid}>"
        )
