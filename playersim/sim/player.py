"""A simulated media player: one viewing, as a sans-IO state machine on a clock.

A `Player` never sleeps, never touches the network and never reads a clock. Asked with
`due(now)`, it returns the request bodies that are due by that instant, in order, each stamped
with the instant it happened; `next_wakeup` says when it next needs to be asked. It learns what
became of its requests only through `on_response`. The same player therefore runs in a unit test
with a hand-moved clock, in a batch simulation of a day, or in a real-time load run.

The player coordinates; its mechanics (`playersim.sim.mechanics`: the ad break, the chapter
track, the cue points or live grid, the decision timer, the player states, the time bookkeeping)
each own their part of the state; its behaviour (`playersim.sim.behaviour`) owns the decisions.
Which step goes first when several are due at the same instant is written as data, in the table
`PRIORITY` at the end of this module, one row per step with the reason it sits there:

1. re-opening a session the back end lost (a 404 or 410 on an event);
2. the current ad ending (`adComplete` or `adSkip`, then the next `adStart` or
   `adBreakComplete`), a chapter ending, a mid-roll cue point or the end of the content (a
   post-roll, then `sessionComplete`);
3. a session whose playhead has not moved for 30 minutes (a long pause) is ended, and one open
   for 24 hours is ended and re-opened: a new session with `media.resume: true` that re-sends
   the open player states, ad and chapter (MCA-SPEC.md section 5);
4. then the behaviour's decision; then a chapter starting: where the playhead now is, or at
   the instant it reaches the next chapter (`mechanics.ChapterTrack.start_due`);
5. a ping on the grid anchored at sessionStart: every 10 s, every 1 s during ads with granular ad
   tracking, each tick as late as the player's timer fires it (`mechanics.PingTimer`, the
   profile's `[timing]`), skipped at an instant where another event is sent anyway.

Events at the same instant get `ts` values a few milliseconds apart (exactly 1 with exact
timing), in order (section 4). Every event but the ping, which changes no state, goes through
the state table (`playersim.mca.states`), so an impossible sequence raises instead of reaching
the wire.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, assert_never

from playersim.audience.catalog import Title
from playersim.audience.distributions import Distribution
from playersim.audience.metadata import MetadataPool, Visitor, session_params
from playersim.audience.profiles import Profile
from playersim.audience.streams import RandomStream, Rng
from playersim.clock import parse_instant
from playersim.errors import PlayerProtocolError
from playersim.mca.api import DOWNLOADED, GONE_STATUSES, OPENED_STATUSES
from playersim.mca.spec import AD_PING_MS, MAX_STATES, PING_MS, RESTART_MS, STALL_TIMEOUT_MS
from playersim.mca.states import AdPhase, SessionState, State, advance
from playersim.mca.wire import EventType, WireBody, make_body, ping_body
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
from playersim.sim.mechanics import (
    AdBreak,
    ChapterTrack,
    CuePoints,
    DecisionTimer,
    DroppedFrames,
    LiveCues,
    Needs,
    PingTimer,
    PlayerStates,
    Priority,
    Schedule,
    Step,
    Timeline,
)
from playersim.sim.playhead import Playhead

if TYPE_CHECKING:
    from playersim.sim.ledger import DeviceLedger

__all__ = ["PRIORITY", "Player", "SessionStats", "viewer_rng"]


def viewer_rng(seed: int | str, profile: Profile, index: int | str) -> random.Random:
    """The RNG a viewing's viewer is drawn from: the player's own when it picks one, and a
    run's workload's (which draws again until someone is free), so both find the same person."""
    return random.Random(f"{seed}:{profile.name}:{index}:viewer")


_MAX_EVENTS_AT_ONE_INSTANT: Final = 200
# The longest session of a viewing watched offline: under Adobe's Edge Network's 64 KB a
# request (its guardrails) with room to spare, ads pinged every second included.
OFFLINE_SESSION_MS: Final = 30 * 60_000
# ... and at most this many events: the largest Edge event a player sends is about 2 KB (a
# sessionStart), most about 120 bytes, so 350 stay well under 64 KB.
OFFLINE_SESSION_EVENTS: Final = 350
_MAX_LIVE_DELAY_MS: Final = 600_000  # a viewer further behind the live edge is watching DVR
E = EventType
_PLAYING: Final = State.PLAYING
_AD_NONE: Final = AdPhase.NONE
# eventType as the plain str sent on the wire (an enum's `.value` is a slow descriptor).
_WIRE_NAME: Final[dict[str, str]] = {event: event.value for event in EventType}
_PING: Final = E.PING.value
_NEW_SESSION: Final = SessionState()  # every viewing starts here (frozen: shared)


@dataclass(slots=True)
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
    continued: bool = False  # started mid-title, where the viewer left it before
    watched_ms: int = 0


def _frame_rate(profile: Profile, title: Title) -> int:
    """A title's frame rate: the profile's, or one of its `frame_rates`, the same for the title
    in every viewing and every run."""
    qoe = profile.qoe
    if not qoe.frames_per_second or not qoe.frame_rates:
        return qoe.frames_per_second
    rates, shares = list(qoe.frame_rates), list(qoe.frame_rates.values())
    rate: int = random.Random(f"fps:{title.media_id}").choices(rates, weights=shares)[0]
    return rate


def _offline_delay(profile: Profile, visitor: Visitor, key: str) -> int | None:
    """Milliseconds from a downloaded viewing's end to its device being back online, or None:
    watched online. Drawn only where the profile downloads (on-demand, on its families)."""
    offline = profile.offline
    if not offline.share or profile.content.live or visitor.device.family not in offline.families:
        return None
    chance = random.Random(f"{key}:offline")
    if chance.random() >= offline.share:
        return None
    return round(offline.delay_minutes.sample(chance) * 60_000)


def _gaps(gap_ms: Distribution, rng: Rng) -> Callable[[], int]:
    """Draws of the milliseconds between events a player sends at one instant."""

    def gap() -> int:
        return max(1, round(gap_ms.sample(rng)))

    return gap


class Player:
    """One simulated viewing.

    >>> from playersim import load_profile
    >>> player = Player(load_profile("vod-movie"), seed=7, start_at="2026-11-27T12:00:00Z")
    >>> [body["eventType"] for body in player.due(player.next_wakeup)]
    ['sessionStart']
    """

    # Slots, not a __dict__: a run holds every viewing in progress, and a dict of this many
    # attributes is over a kilobyte each (bench/memory.py). `__weakref__`: tests watch one go.
    __slots__ = (
        "__weakref__",
        "_ads",
        "_bitrate",
        "_burst",
        "_chapters",
        "_continues",
        "_cues",
        "_decisions",
        "_dropped",
        "_fps",
        "_granular",
        "_live",
        "_pings",
        "_played",
        "_pool",
        "_reopen",
        "_schedule",
        "_session_events",
        "_states",
        "_time",
        "_viewer",
        "behaviour",
        "crowded",
        "describes_device",
        "devices",
        "index",
        "length_ms",
        "offline_delay_ms",
        "outcome",
        "profile",
        "rng",
        "rng_key",
        "sid",
        "start_at",
        "state",
        "stats",
        "title",
        "visitor",
    )

    def __init__(  # noqa: PLR0915 - one assignment per slot, each with its reason
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
        exact: bool | None = None,
    ) -> None:
        self.profile = profile
        self.index = index
        # Events of the session on the wire so far (counted by `_emit`, from 0 at each `_open`).
        self._session_events = 0
        # One RNG per session, seeded by a string: stable across processes and platforms, and
        # independent of how many other sessions were simulated before this one. It names all
        # that identifies the viewing (the seed, the profile, its place in the run), so runs of
        # different profiles with one seed are not copies of each other.
        key = self.rng_key = f"{seed}:{profile.name}:{index}"
        # (A stream: its state is put away at the end of a wake-up that drew nothing from it,
        # as the burst's below, and made again at the next that draws: a few in a viewing.)
        self.rng = RandomStream(key)
        pool = metadata or MetadataPool.build(profile)
        self.title: Title = title or pool.pick_title(self.rng)
        at = None if start_at is None else parse_instant(start_at)
        # The viewer from an RNG of its own, as a run's workload draws them (until one is free).
        self.visitor: Visitor = visitor or pool.pick_visitor(viewer_rng(seed, profile, index), at)
        # Who holds the viewer's device while this viewing lasts (a run's workload sets it).
        self.devices: DeviceLedger | None = None
        # Given to someone already watching: the audience was too small for the run.
        self.crowded = False
        # Whether sessionStart describes the device in customMetadata (a script's does not).
        self.describes_device = True
        # Watched on a downloaded copy: the whole session goes this long after it ends, in one
        # request (None: online, each event as it happens). Drawn from an RNG of its own, so a
        # profile that downloads nothing draws nothing more.
        self.offline_delay_ms: int | None = _offline_delay(profile, self.visitor, key)
        self._pool = pool
        self.length_ms = round(self.title.length_seconds * 1000)
        # A real player's timing (profile.timing) from RNGs of its own: exact timing draws
        # nothing, so it is the same traffic as a profile without it, draw for draw.
        timing = profile.timing
        exact = timing.exact if exact is None else exact
        self.behaviour: Behaviour = behaviour or ViewerBehaviour(
            profile,
            self.rng,
            pool=pool,
            length_ms=self.length_ms,
            reactions=None if exact else f"{key}:reaction",  # made when first drawn from
            device=self.visitor.device.family,  # its screen caps the bitrate ladder
        )
        self.start_at: int | None = at
        self.state = _NEW_SESSION  # the MCA session on the wire (frozen: one for all)
        self.sid: str | None = None
        self.outcome: str | None = None  # why the viewing is over: completed, left, ...
        self.stats = SessionStats()
        live = self._live = profile.content.live
        self._granular = profile.ads.granular_tracking  # a ping every second in ads
        # The viewer, independent of the session on the wire (which a long pause may close).
        self._viewer = State.WAITING
        self._played = False  # main content has shown its first frame
        self._bitrate = 0
        self._reopen = False  # the back end lost the session: open a new one
        # Live viewers watch some seconds behind the live edge, each their own: the UTC grid of
        # breaks and programmes reaches each one that much later. Drawn from an RNG of its own,
        # so it shifts none of the session's other draws.
        delay_ms = 0
        if live:
            latency = profile.content.live_latency_seconds.sample(
                random.Random(f"{key}:live-latency")
            )
            delay_ms = max(0, min(round(latency * 1000), _MAX_LIVE_DELAY_MS))
        # The mechanics, each owning its part of the state (playersim.sim.mechanics).
        self._burst = None if exact else RandomStream(f"{key}:burst")
        gap = None if self._burst is None else _gaps(timing.burst_gap_ms, self._burst)
        # On-demand content starts where the behaviour says (a continued viewing mid-title).
        self._continues = 0 if live else self.behaviour.start_position_ms()
        playhead = Playhead(live=live, length_ms=self.length_ms, at=0, position_ms=self._continues)
        self._time = Timeline(playhead, gap)
        # The title's frame rate (each title keeps its own), and the frames this viewing drops.
        self._fps = _frame_rate(profile, self.title)
        self._dropped = DroppedFrames(profile.qoe.dropped_frames_per_minute, f"{key}:frames")
        self._pings = PingTimer(None if exact else timing.ping_late_ms, f"{key}:ping")
        self._ads = AdBreak()
        self._chapters = ChapterTrack(
            self.title,
            live=live,
            program_minutes=profile.content.program_minutes,
            delay_ms=delay_ms,
            timezone=profile.arrivals.timezone,  # the channel's own: its day of programmes
        )
        self._cues: CuePoints | LiveCues
        if live:
            interval = profile.ads.midroll_interval_seconds
            self._cues = LiveCues(
                round(interval * 1000) if interval > 0 else None,
                delay_ms=delay_ms,
                key=self.title.media_id,  # each channel breaks on its own schedule
            )
        else:
            self._cues = CuePoints(self.title.cue_points_ms)
        self._decisions = DecisionTimer()
        self._states = PlayerStates(limit=MAX_STATES)
        self._schedule = Schedule(PRIORITY)
        # Made, it may wait a while for its start (a binge's next episode, a full service).
        self._rest(asleep=True)

    # --- what the engine asks ---------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the player has nothing more to send."""
        return self.outcome is not None

    @property
    def next_wakeup(self) -> int | None:
        """The instant this player next has something to send; None if finished or unscheduled."""
        if self.outcome is not None:  # finished
            return None
        if self.state.playback is State.NEW and not self.stats.sessions:
            return self.start_at
        due = self._schedule.next(self, self.state, self._time.last_at)
        return None if due is None else due[0]

    def due(self, now: int) -> list[WireBody]:
        """Every request body due by instant `now`, in order. Call again as time moves on."""
        out: list[WireBody] = []
        if self.outcome is not None:  # finished
            return out
        schedule = self._schedule
        time = self._time
        if not self.stats.sessions:
            if self.start_at is None:
                self.start_at = now
            if self.start_at > now:
                return out
            time.last_at = self.start_at
            # A viewing that continues mid-title resumes the viewer's earlier one: media.resume.
            self.stats.continued = self._continues > 0
            self._open(self.start_at, out, resume=self.stats.continued)
            self._ask()
            schedule.changed()
        same_instant = 0
        while self.outcome is None:  # not finished
            # Handed out, the step leaves the schedule stale: whatever it does may move any
            # mechanic (a ping says which ones it can have moved).
            due = schedule.take(self, self.state, time.last_at, now)
            if due is None:
                break
            at, step = due
            same_instant = same_instant + 1 if at == time.last_at else 0
            if same_instant > _MAX_EVENTS_AT_ONE_INSTANT:
                # A guard: events that keep coming without time moving (a script with hundreds
                # of steps at one instant, or a bug) end in a clear error, never a hang.
                raise PlayerProtocolError(
                    time.last_event,
                    str(self.state),
                    f"more than {_MAX_EVENTS_AT_ONE_INSTANT} events at one instant",
                )
            step.run(self, at, out)
        self._rest(asleep=self.outcome is not None)
        return out

    def _rest(self, *, asleep: bool = False) -> None:
        # The viewing's streams put their state away (2.5 KB each) at the end of a wake-up
        # that drew nothing from them, until a later one draws (a few wake-ups a viewing do);
        # `asleep`: at once, whatever this one drew (the viewing is over, or yet to start:
        # it may be held a long time, waiting for its upload or its answers).
        for stream in (self.rng, self._burst):
            if stream is None:
                continue
            if asleep:
                stream.sleep()
            else:
                stream.rest()

    def on_response(self, event_type: str, status: int | None, *, sid: str | None = None) -> None:
        """Tell the player what became of one of its requests.

        `status` is the HTTP status, or None when the request got no answer at all.
        """
        if event_type == E.SESSION_START:
            if status in OPENED_STATUSES and sid:
                self.sid = sid
            else:
                # Without a session id nothing else can be sent: the viewing is lost, even if
                # (its answers coming late, in real time) it has already played to its end.
                self.outcome = "rejected" if status is not None else "unreachable"
            return
        if event_type == DOWNLOADED and status not in OPENED_STATUSES:
            # Watched offline, and its session refused (or unanswered) once the device was
            # back online: as lost as a refused sessionStart.
            self.outcome = "rejected" if status is not None else "unreachable"
            return
        if self.finished:
            return
        if status in GONE_STATUSES and self.state.open:
            # The back end no longer knows this session: continue in a new one (section 5).
            self._reopen = True
            self._schedule.changed()

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
            self._emit(E.SESSION_END, max(at, self._time.last_at), out)
        self.outcome = "stopped"
        self._rest(asleep=True)
        return out

    @property
    def last_event_at(self) -> int | None:
        """The instant of the last event this viewing sent (None before the first)."""
        return self._time.last_at if self.stats.sessions else None

    @property
    def watched_ms(self) -> int:
        """Main content played so far, in milliseconds."""
        return self._time.watched_ms

    # --- the steps of the priority table: when each is due, and what it does -----------------

    def _when_reopen(self) -> int | None:
        return self._time.last_at if self._reopen else None

    def _do_reopen(self, at: int, out: list[WireBody]) -> None:
        self._reopen = False
        self.state = SessionState()
        self._chapters.open = None
        self._reopen_session(at, out)
        self._ask()

    def _when_ad_end(self) -> int | None:
        return self._ads.due()

    def _do_ad_end(self, at: int, out: list[WireBody]) -> None:
        ads = self._ads
        if ads.skipped():
            self._emit(E.AD_SKIP, at, out)
            self.stats.ads_skipped += 1
        else:
            self._emit(E.AD_COMPLETE, at, out)
        if ads.advance():
            self._start_ad(at, out)
        else:
            self._emit(E.AD_BREAK_COMPLETE, at, out)
            if ads.completing:
                self._complete(at, out)
                return
        self._ask()

    def _when_chapter_end(self) -> int | None:
        return self._chapters.end_due(self._time)

    def _do_chapter_end(self, at: int, out: list[WireBody]) -> None:
        # Chapter boundaries change nothing the viewer decides on: a decision already taken
        # (the `play` that follows an ad break, say) stands.
        self._emit(E.CHAPTER_COMPLETE, at, out)
        self._chapters.open = None

    def _when_chapter_start(self) -> int | None:
        if self._chapters.open is not None:  # the common case, answered without a call
            return None
        return self._chapters.start_due(self.state, self._played, self._time)

    def _do_chapter_start(self, at: int, out: list[WireBody]) -> None:
        # At its own instant, which may come after the last event: the playhead has moved on.
        chapter = self._chapters.at(self._time.playhead, at)
        assert chapter is not None
        self._chapters.open = chapter
        params = self._chapters.start_params(chapter)
        self._emit(E.CHAPTER_START, at, out, params=params, custom=chapter.custom)

    def _when_cue(self) -> int | None:
        return self._cues.due(self._time)

    def _do_cue(self, at: int, out: list[WireBody]) -> None:
        self._cues.served(self._time, at)
        pod = self.behaviour.pod("mid", self._view(at))
        if pod:
            self._start_break(at, out, pod, index=self._ads.next_mid)
            self._ads.next_mid += 1
        self._ask()

    def _when_content_end(self) -> int | None:
        return None if self._live else self._time.reaches(self.length_ms)

    def _do_content_end(self, at: int, out: list[WireBody]) -> None:
        self._close_chapter(at, out)
        pod = self.behaviour.pod("post", self._view(at))
        if pod:
            self._ads.completing = True
            self._start_break(at, out, pod, index=self._ads.next_mid)
            self._ask()
        else:
            self._complete(at, out)

    def _when_stall(self) -> int | None:
        # The back end closes a session whose playhead has not moved for 30 minutes. While
        # content plays every ping moves the playhead and this never comes due; it does after a
        # long pause, even just after the viewer resumed at the same position: the back end
        # measures the 30 minutes to the next change it sees.
        return self._time.moved_at + STALL_TIMEOUT_MS

    def _do_stall(self, at: int, out: list[WireBody]) -> None:
        # The back end would close the session now; the player says so itself. A viewer still
        # paused gets a new session when they come back (the behaviour's next Play re-opens
        # it); one already watching again (or in an ad) goes on in a new session at once.
        self._emit(E.SESSION_END, at, out)
        self._chapters.open = None
        if self._viewer is State.PLAYING or self._ads.ads:
            self.state = SessionState()
            self._reopen_session(at, out)
        self._ask()

    def _when_restart(self) -> int | None:
        if self.offline_delay_ms is not None:
            # Watched offline: each session must go whole in one request, and Adobe's Edge
            # Network takes at most 64 KB a request: a downloaded viewing is recorded as
            # sessions of at most half an hour and `OFFLINE_SESSION_EVENTS` events (ads pinged
            # every second fill one fast), each after the first resumed (our rule).
            if self._session_events >= OFFLINE_SESSION_EVENTS:
                return self._time.last_at
            return self._time.session_start + OFFLINE_SESSION_MS
        return self._time.session_start + RESTART_MS  # SDKs restart a session after 24 hours

    def _do_restart(self, at: int, out: list[WireBody]) -> None:
        self._emit(E.SESSION_END, at, out)
        self.state = SessionState()
        self._chapters.open = None
        self._reopen_session(at, out)

    def _when_decision(self) -> int | None:
        return self._decisions.due()

    def _do_decision(self, at: int, out: list[WireBody]) -> None:
        decision = self._decisions.take()
        self._act(decision.action, at, out)
        self.behaviour.acted(Decision(at, decision.action), self._view(at))
        if not self.finished:
            self._ask()

    def _when_ping(self) -> int | None:
        # On the grid anchored at sessionStart, after the last event (always in the future),
        # each tick as late as the player's timer fires it.
        time = self._time
        period = AD_PING_MS if self._granular and self.state.ad is not _AD_NONE else PING_MS
        return self._pings.next_after(time.session_start, period, time.last_at)

    def _do_ping(self, at: int, out: list[WireBody]) -> None:
        # Not through `_emit`: nearly every event is a ping, and a ping changes nothing but the
        # time. Its row is due only while a session runs (`Needs.RUNNING`), where the state
        # table keeps every state as it is on a ping; so the session state, and with it whether
        # the playhead runs, stay as they were. That is also why the schedule need ask again
        # only the rows a ping can move (`moved_by_ping`).
        ts, playhead = self._time.sent(_PING, at)
        out.append(ping_body(playhead, ts))
        self._session_events += 1

    # --- actions ---------------------------------------------------------------------------------

    def _act(self, action: Action, at: int, out: list[WireBody]) -> None:
        self._check_action(action)
        if not self.state.open and not isinstance(action, Leave):
            # A viewer back after the session was closed for a long pause: a new session.
            self.state = SessionState()
            self._reopen_session(at, out, resend_playback=not isinstance(action, Play))
        stats = self.stats
        match action:
            case Play(qoe=qoe):
                self._play(at, out, qoe)
            case Pause():
                self._viewer = State.PAUSED
                stats.pauses += 1
                self._emit(E.PAUSE_START, at, out)
            case Buffer():
                self._viewer = State.BUFFERING
                stats.rebuffers += 1
                self._emit(E.BUFFER_START, at, out)
            case Seek(to_ms=to_ms):
                self._seek(to_ms, at, out)
            case StartAdBreak(ads=ads, name=name):
                index = 0
                if self._played:  # a script's break after the first frame: a mid-roll
                    index = self._ads.next_mid
                    self._ads.next_mid += 1
                self._start_break(at, out, ads, index=index, name=name)
            case BitrateChange(bitrate=bitrate):
                self._bitrate = bitrate
                stats.bitrate_changes += 1
                self._emit(E.BITRATE_CHANGE, at, out, qoe=self._qoe(at))
            case PlayerError(error_id=error_id, source=source, stops_playback=stops):
                stats.errors += 1
                qoe = None  # an error as Adobe's Timeline 2 sends it: no qoeData
                if error_id is not None:
                    qoe = {"media.qoe.errorID": error_id, "media.qoe.errorSource": source}
                self._emit(E.ERROR, at, out, qoe=qoe)
                if stops and self._viewer is State.PLAYING:
                    # Playback stops with no pauseStart or bufferStart: the playhead holds
                    # until the viewer's next `play` (the session is still "playing" on the
                    # wire, as the state table has it).
                    self._viewer = State.WAITING
                    self._sync_playhead(at)
            case StateChange(start=start, end=end):
                self._change_states(start, end, at, out)
            case FailStart(error_id=error_id):
                self._fail_start(error_id, at, out)
            case Complete(keeps_open=keeps_open):
                self._close_chapter(at, out)
                self._complete(at, out, keeps_open=keeps_open)
            case Leave():
                self._leave(at, out)
            case _:
                assert_never(action)

    def _fail_start(self, error_id: str, at: int, out: list[WireBody]) -> None:
        self.stats.start_failed = True
        qoe = {"media.qoe.errorID": error_id, "media.qoe.errorSource": "player"}
        self._emit(E.ERROR, at, out, qoe=qoe)
        self._emit(E.SESSION_END, at, out)
        self.outcome = "failed to start"

    def _leave(self, at: int, out: list[WireBody]) -> None:
        # Paused when leaving: in an open session, or one a long pause already ended.
        self.stats.left_paused = self._viewer is State.PAUSED
        # A viewing whose content completed and whose viewer then closed the player (a
        # script's sessionEnd after sessionComplete) is still a completed one.
        completed = self.state.playback is State.COMPLETE
        if self.state.open:
            if self.state.ad is not AdPhase.NONE and not self._played:
                self.stats.left_in_preroll = True
            self._emit(E.SESSION_END, at, out)
        self.outcome = "completed" if completed else "left"

    def _check_action(self, action: Action) -> None:
        """Refuse what the mechanics do not model, before anything is sent."""
        name = type(action).__name__.lower()
        in_ads = self.state.ad is not AdPhase.NONE
        if in_ads and isinstance(action, Play | Pause | Buffer | Seek):
            # The player runs ads to their end (or skip): it does not pause or seek inside one.
            raise PlayerProtocolError(name, str(self.state), "not while an ad break runs")
        if in_ads and isinstance(action, PlayerError) and action.stops_playback:
            raise PlayerProtocolError(
                "error", str(self.state), "an error cannot stop playback while an ad break runs"
            )
        if isinstance(action, Seek) and not self._played:
            raise PlayerProtocolError(name, str(self.state), "content has not started: play first")
        if isinstance(action, StateChange):
            self._states.check(action.start, self.state)

    def _play(self, at: int, out: list[WireBody], written: dict[str, Any] | None = None) -> None:
        """`written`: the qoeData to send instead of the player's own ({} for none)."""
        qoe = None
        first = not self._played
        if first:
            self._played = True
            self.stats.played = True
            assert self.start_at is not None
            self._bitrate = self.behaviour.initial_bitrate()
            if written is None:
                # Time to the first frame the viewer saw: the pre-roll's, if there was one.
                first_ad_at = self._ads.first_ad_at
                first_frame = first_ad_at if first_ad_at is not None else at
                qoe = {"media.qoe.timeToStart": first_frame - self.start_at, **self._qoe(at)}
        if written is not None:
            qoe = dict(written) or None
            self._bitrate = written.get("media.qoe.bitrate", self._bitrate)
        self._viewer = State.PLAYING
        first_states = self.behaviour.initial_states() if first else ()
        self._emit(E.PLAY, at, out, qoe=qoe)
        if first_states:
            self._change_states(first_states, (), at, out, count=False)

    def _seek(self, to_ms: int, at: int, out: list[WireBody]) -> None:
        self.stats.seeks += 1
        self._emit(E.PAUSE_START, at, out)
        target = max(0, min(to_ms, self.length_ms - 1))
        chapter = self._chapters.open
        if chapter is not None and not (chapter.offset_ms <= target < chapter.end_ms):
            self._emit(E.CHAPTER_SKIP, at, out)
            self._chapters.open = None
        time = self._time
        here = time.playhead.at(at)
        if target > here:  # mid-rolls jumped over are not played
            self._cues.jumped(here, target)
        time.playhead.seek(target, at)
        time.last_playhead = None  # a seek is a playhead change
        self._viewer = State.PLAYING
        self._emit(E.PLAY, at, out)

    def _start_break(
        self,
        at: int,
        out: list[WireBody],
        ads: tuple[AdPlay, ...],
        *,
        index: int,
        name: str | None = None,
    ) -> None:
        self.stats.ad_breaks += 1
        self.stats.preroll = self.stats.preroll or index == 0
        self._ads.begin(ads, index=index, second=self._time.playhead.at(at), name=name)
        self._emit(E.AD_BREAK_START, at, out, params=self._ads.break_params())
        self._start_ad(at, out)

    def _start_ad(self, at: int, out: list[WireBody], *, count: bool = True) -> None:
        if count:
            self.stats.ads += 1
        params = self._ads.ad_params(self.visitor.device.player_name)
        self._emit(E.AD_START, at, out, params=params, custom=self._ads.current.creative.custom)
        self._ads.started(at)

    def _close_chapter(self, at: int, out: list[WireBody]) -> None:
        if self._chapters.open is not None:
            self._emit(E.CHAPTER_COMPLETE, at, out)
            self._chapters.open = None

    def _change_states(
        self,
        start: tuple[str, ...],
        end: tuple[str, ...],
        at: int,
        out: list[WireBody],
        *,
        count: bool = True,
    ) -> None:
        start, end = self._states.change(start, end)
        if not start and not end:
            return
        if count:
            self.stats.state_changes += 1
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

    def _complete(self, at: int, out: list[WireBody], *, keeps_open: bool = False) -> None:
        self._ads.completing = False
        self._emit(E.SESSION_COMPLETE, at, out)
        if not keeps_open:  # else the viewer's sessionEnd is still to come
            self.outcome = "completed"

    # --- sessions ------------------------------------------------------------------------------

    def _open(self, at: int, out: list[WireBody], *, resume: bool) -> None:
        self._session_events = 0
        time = self._time
        time.session_start = at
        self.stats.sessions += 1
        time.moved_at = at
        if self._live and not self._played:
            time.playhead = Playhead(live=True, length_ms=self.length_ms, at=at)
        params = session_params(self.profile, self.title, self.visitor, start_ms=at, resume=resume)
        if self.offline_delay_ms is not None:
            params["media.downloaded"] = True  # (a.media.downloaded in Adobe's reports)
        # The device (model, OS, app version) and the profile's own keys, as customMetadata,
        # and a script's own (a script that describes no device sends only what it writes).
        custom = dict(self.title.custom)
        if self.describes_device:
            custom = self._pool.custom_metadata(self.visitor, self.title, self.rng_key) | custom
        self._emit(E.SESSION_START, at, out, params=params, custom=custom or None)

    def _reopen_session(
        self, at: int, out: list[WireBody], *, resend_playback: bool = True
    ) -> None:
        """A new session for the same viewing: media.resume, then the context re-sent."""
        self.stats.resumes += 1
        self._open(at, out, resume=True)
        states = self._states.take_open()
        if states:
            self._change_states(states, (), at, out, count=False)
        if self._ads.ads:
            self._emit(E.AD_BREAK_START, at, out, params=self._ads.break_params())
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
        if not self.finished:
            self._decisions.ask(self.behaviour, self._view(self._time.last_at))

    def _view(self, at: int) -> SessionView:
        time = self._time
        return SessionView(
            now=at,
            state=self.state,
            viewer=self._viewer,
            started_at=self.start_at if self.start_at is not None else at,
            played=self._played,
            playhead_ms=time.playhead.at(at),
            length_ms=self.length_ms,
            live=self._live,
            watched_ms=time.watched_ms,
            last_event=time.last_event,
            open_states=self._states.open,
            bitrate=self._bitrate,
        )

    def _qoe(self, at: int) -> dict[str, Any]:
        qoe: dict[str, Any] = {"media.qoe.bitrate": self._bitrate}
        fps = self._fps
        if fps:
            qoe["media.qoe.droppedFrames"] = self._dropped.by(self._time.watched_ms)
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
        custom: dict[str, str] | None = None,
    ) -> None:
        self.state = advance(self.state, event_type)
        if event_type is E.PLAY:
            self._sync_playhead(at)  # a live `play` resumes at the current second of the day
        # Same-instant events are spread out in `ts` (`Timeline.sent`); the playhead is that of
        # the instant itself.
        name = _WIRE_NAME[event_type]
        self._session_events += 1
        ts, playhead = self._time.sent(name, at)
        out.append(make_body(name, playhead, ts, params=params, qoe=qoe, custom=custom))
        self._sync_playhead(at)

    def _sync_playhead(self, at: int) -> None:
        """Run the playhead exactly while main content plays with no ad running."""
        time = self._time
        if self._viewer is _PLAYING and self.state.playhead_advances:
            if time.playing_since is None:
                time.play(at)
        elif time.playing_since is not None:
            self.stats.watched_ms = time.hold(at)

    def __repr__(self) -> str:
        return (
            f"<Player {self.profile.name}#{self.index} {self.state} "
            f"title={self.title.media_id!r} sid={self.sid}>"
        )


# Who goes first when several mechanics are due at the same instant: the earliest instant wins,
# and at the same instant the earlier row. (What is overdue is due now.) Each row also says the
# session state it can come due in (`Needs`: ANY, even with no session open < OPEN < RUNNING,
# content not complete < PLAYING, content moving with no ad), and whether a ping can move its
# instant: after the ping (`is_ping`) only those rows are asked again, so a row not so marked
# must depend on nothing a ping changes (see `playersim.sim.mechanics`).
PRIORITY: Final = Priority[Player](
    # The back end no longer knows the session (a 404 or 410): anything else would go into the
    # lost one, so the new session (media.resume, the context re-sent) comes before all else.
    Step("re-open", Needs.ANY, Player._when_reopen, Player._do_reopen),
    # An ad ends at its fixed instant. Before the viewer's decision: a `play` due as the pod
    # ends must find the break complete (no play inside an ad break). Before the session
    # limits: the ad's end goes into the session it played in. (The three content rows below
    # cannot be due while an ad runs.)
    Step("ad end", Needs.OPEN, Player._when_ad_end, Player._do_ad_end),
    # A chapter ends before a mid-roll on its boundary starts (no chapterComplete inside an ad
    # break), and before the content end (which would close it itself).
    Step("chapter end", Needs.PLAYING, Player._when_chapter_end, Player._do_chapter_end),
    # A cue reached at the very end is still served: its mid-roll before the post-roll.
    Step("cue point", Needs.PLAYING, Player._when_cue, Player._do_cue),
    # The end of on-demand content: a post-roll, then sessionComplete.
    Step("content end", Needs.PLAYING, Player._when_content_end, Player._do_content_end),
    # A long pause ends the session only after what was due in it (the rows above). A ping
    # moves it: the playhead the ping carries may have changed, restarting the 30 minutes.
    Step("long pause", Needs.RUNNING, Player._when_stall, Player._do_stall, moved_by_ping=True),
    # 24 hours: likewise after what was due in the old session. After the long pause: a session
    # the back end closed for the pause is not re-opened while the viewer is still paused.
    # (A ping moves it for a viewing watched offline: one more event in its session.)
    Step("24 hours", Needs.RUNNING, Player._when_restart, Player._do_restart, moved_by_ping=True),
    # The viewer's decision goes into the session that carries on, after the rows above have
    # closed or re-opened it, and after an ad break that ends at the same instant.
    Step("decision", Needs.ANY, Player._when_decision, Player._do_decision),
    # A chapter starts where the playhead is once the rest of this instant is done: after a
    # chapter end (the next chapter), a seek (the chapter it landed in), a `play`; or at the
    # instant the playing content reaches a chapter after a gap. Its answer is worked out from
    # the last event's instant and playhead, which a ping moves.
    Step(
        "chapter start",
        Needs.OPEN,
        Player._when_chapter_start,
        Player._do_chapter_start,
        moved_by_ping=True,
    ),
    # A ping only where nothing else is sent: any event tells the back end the session is alive
    # (section 5), so the ping loses every tie. Each ping moves the next one along the grid.
    Step(
        "ping", Needs.RUNNING, Player._when_ping, Player._do_ping, moved_by_ping=True, is_ping=True
    ),
)
