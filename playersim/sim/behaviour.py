"""Behaviour: what the viewer does, and when. The state machine decides only what is allowed.

The player asks its behaviour, after every event that changes the session, "given where the
session is now, what does the viewer do next, and at what instant?" The answer is a `Decision`
(or None: nothing more until something else happens). The player tells the behaviour when it
carried a decision out (`acted`), and asks it which ads fill a pod when the content reaches a cue
point (`pod`). Mechanics (pings, chapter boundaries, ad lengths, the end of the content, the
30-minute and 24-hour session rules) stay in the player.

`ViewerBehaviour` draws its choices from the profile's distributions with the session's RNG.
Random events during playback (pauses, rebuffering, seeks, bitrate switches, errors, player
state changes) are memoryless: drawn afresh from their combined hourly rate each time the player
asks, which gives the profile's rates whatever else happens in between. Durations chosen at the
start of an episode (a pause, a rebuffer, a pre-roll walk-out) are kept until it ends. A
scripted timeline (`playersim.sim.script`) is another behaviour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from playersim.audience.catalog import AdCreative
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import Profile
from playersim.audience.streams import RandomStream, Rng
from playersim.mca.states import AdPhase, SessionState, State

__all__ = [
    "Action",
    "AdPlay",
    "Behaviour",
    "BitrateChange",
    "Buffer",
    "Complete",
    "Decision",
    "FailStart",
    "Leave",
    "Pause",
    "Play",
    "PlayerError",
    "Seek",
    "SessionView",
    "StartAdBreak",
    "StateChange",
    "ViewerBehaviour",
]

PodKind = Literal["pre", "mid", "post"]


# --- actions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdPlay:
    """One ad of a pod, and when (if at all) the viewer skips it."""

    creative: AdCreative
    skip_after_ms: int | None = None  # skipped this long after it started; None plays it out

    @property
    def duration_ms(self) -> int:
        if self.skip_after_ms is None:
            return self.creative.length_ms
        return min(self.skip_after_ms, self.creative.length_ms)


@dataclass(frozen=True, slots=True)
class Play:
    """The first frame of content, or playback resuming (after a pause, rebuffer or ad break).

    `qoe`: the qoeData to send, as written (a script's; {} for none); None sends the player's
    own (timeToStart, bitrate and frames on the first frame, nothing after).
    """

    qoe: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """The viewer pauses."""


@dataclass(frozen=True, slots=True)
class Buffer:
    """Playback stalls to rebuffer."""


@dataclass(frozen=True, slots=True)
class Seek:
    """The viewer jumps to `to_ms` in the content: pauseStart, then play at the new playhead."""

    to_ms: int


@dataclass(frozen=True, slots=True)
class StartAdBreak:
    """An ad break starts now with these ads (scripts and pre-rolls; mid-rolls come at cues).

    `name`: its media.ad.podFriendlyName (a script's); None names it by its kind (pre-roll, ...).
    """

    ads: tuple[AdPlay, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class BitrateChange:
    bitrate: int


@dataclass(frozen=True, slots=True)
class PlayerError:
    """A non-fatal error: an `error` event with `media.qoe.errorID` and `errorSource` (no
    qoeData if `error_id` is None, as in Adobe's Timeline 2).

    `stops_playback`: content stops with it, with no pauseStart or bufferStart, and the
    playhead holds until the next `Play` (a script's; the viewer's errors play on).
    """

    error_id: str | None
    source: Literal["player", "external"] = "player"
    stops_playback: bool = False


@dataclass(frozen=True, slots=True)
class StateChange:
    """Player states start and/or end (one: stateStart/stateEnd; several: statesUpdate)."""

    start: tuple[str, ...] = ()
    end: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailStart:
    """Playback never starts: an `error`, then `sessionEnd` (a video start failure)."""

    error_id: str


@dataclass(frozen=True, slots=True)
class Complete:
    """Main content is over: sessionComplete (at its natural end, or where a script says).

    `keeps_open`: the viewing goes on to a later `Leave` (a script's sessionEnd after
    sessionComplete, MCA-SPEC.md section 5) instead of ending with the sessionComplete.
    """

    keeps_open: bool = False


@dataclass(frozen=True, slots=True)
class Leave:
    """The viewer closes the player: sessionEnd."""


Action = (
    Play
    | Pause
    | Buffer
    | Seek
    | StartAdBreak
    | BitrateChange
    | PlayerError
    | StateChange
    | FailStart
    | Complete
    | Leave
)


@dataclass(frozen=True, slots=True)
class Decision:
    """Do `action` at instant `at` (UTC milliseconds)."""

    at: int
    action: Action


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a behaviour may know about the session it drives, at the instant it is asked."""

    now: int
    state: SessionState  # of the MCA session on the wire (ENDED while dormant)
    viewer: State  # what the viewer is doing: waiting, playing, paused, buffering
    started_at: int  # the first sessionStart of this viewing
    played: bool  # main content has shown its first frame
    playhead_ms: int
    length_ms: int
    live: bool
    watched_ms: int  # main content played so far
    last_event: str  # the last event sent ("" before any)
    open_states: frozenset[str] = field(default_factory=frozenset)
    bitrate: int = 0


class Behaviour(Protocol):
    """Decides the viewer's next action. Must be deterministic given its own state."""

    def next(self, view: SessionView) -> Decision | None:
        """The next thing the viewer does, or None; asked again after every change."""
        ...

    def acted(self, decision: Decision, view: SessionView) -> None:
        """The player carried `decision` out."""
        ...

    def pod(self, kind: PodKind, view: SessionView) -> tuple[AdPlay, ...]:
        """The ads of the pod the content reaches now (mid-roll cue, post-roll); () for none."""
        ...

    def initial_states(self) -> tuple[str, ...]:
        """The player states that are on when playback starts (sent as one statesUpdate)."""
        ...

    def initial_bitrate(self) -> int:
        """The bitrate of the first frame, in bits per second."""
        ...

    def start_position_ms(self) -> int:
        """Where in on-demand content playback starts: 0, or where the viewer left the title
        in an earlier viewing ("continue watching")."""
        ...


# --- the profile-driven viewer -----------------------------------------------------------------

_ERRORS: Final[tuple[tuple[str, Literal["player", "external"]], ...]] = (
    ("MEDIA_ERR_NETWORK", "player"),
    ("MEDIA_ERR_DECODE", "player"),
    ("SEGMENT_404", "external"),
    ("DRM_LICENSE_TIMEOUT", "external"),
    ("CDN_TIMEOUT", "external"),
)
_START_ERRORS: Final[tuple[str, ...]] = (
    "VSF_MANIFEST_LOAD",
    "VSF_DRM_DENIED",
    "VSF_NETWORK",
    "VSF_NO_PLAYABLE_RENDITION",
)
_HOUR_MS: Final = 3_600_000


def _rung_below(ladder: list[int], bps: float) -> int:
    """The highest rung of the ladder at or below `bps` (the lowest if none is)."""
    below = [index for index, rung in enumerate(ladder) if rung <= bps]
    return below[-1] if below else 0


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def preroll_leave_share(points: list[tuple[float, float]], seconds: float) -> float:
    """The share of viewers who leave during a pre-roll of `seconds`.

    A line through (0, 0) and the profile's points, flat after the last (MCA-SPEC.md section 7:
    19 % at 10 s, 33 % at 20 s and more).
    """
    previous = (0.0, 0.0)
    for point in sorted(points):
        if seconds <= point[0]:
            span = point[0] - previous[0]
            return previous[1] + (point[1] - previous[1]) * (seconds - previous[0]) / span
        previous = point
    return previous[1]


class ViewerBehaviour:
    """A viewer whose choices follow the profile's distributions, drawn from the session RNG."""

    # Slots, not a __dict__: one behaviour per viewing in progress, and a dict of this many
    # attributes is over a kilobyte each (bench/memory.py).
    __slots__ = (
        "_climb_at",
        "_climb_from",
        "_climb_seed",
        "_episode_leaves",
        "_episode_until",
        "_exit_at",
        "_first_play_at",
        "_first_rung",
        "_preroll_started_at",
        "_shown",
        "_switched_at",
        "_target_rung",
        "completes",
        "continue_ms",
        "exits_via_pause",
        "fails_to_start",
        "first_rebuffer_ms",
        "ladder",
        "length_ms",
        "live",
        "pool",
        "postroll",
        "preroll",
        "preroll_leave_after",
        "profile",
        "reactions",
        "rebuffers",
        "rng",
        "startup_ms",
        "watch_ms",
    )

    def __init__(
        self,
        profile: Profile,
        rng: Rng,
        *,
        pool: MetadataPool,
        length_ms: int,
        reactions: Rng | str | None = None,
        device: str | None = None,
    ) -> None:
        self.profile = profile
        self.rng = rng
        # How long people take to press a button (profile.timing), drawn from an RNG of its
        # own so that the session's other draws stay as they are; None: no time at all. A str
        # is that RNG's seed: a stream made when first drawn from (a skippable ad), and put to
        # sleep after each draw, since it is drawn from a few times a viewing at most.
        self.reactions = reactions
        self.pool = pool
        viewing = profile.viewing
        self.live = profile.content.live
        self.length_ms = length_ms
        self._shown: list[AdCreative] = []  # the creatives this viewing has been served
        # Everything about the session as a whole is drawn up front, in a fixed order.
        self.startup_ms = _ms(viewing.startup_seconds.sample(rng))
        self.fails_to_start = rng.random() < viewing.start_failure_rate
        if self.live:
            self.completes = False
            self.watch_ms = max(1000, _ms(viewing.watch_seconds.sample(rng)))
        else:
            self.completes = rng.random() < (viewing.completion_rate or 0.0)
            self.watch_ms = self._early_exit(rng) if not self.completes else 2**62
        self.rebuffers = rng.random() < viewing.buffering_rate
        # The first rebuffer of a session that has one, in watched time, so that the share of
        # sessions that rebuffer at least once is the profile's, whatever their length.
        horizon = min(self.watch_ms, length_ms if not self.live else self.watch_ms)
        self.first_rebuffer_ms = rng.randrange(0, max(1, horizon)) if self.rebuffers else None
        self.preroll = self._pod(pre=True) if rng.random() < profile.ads.preroll_rate else ()
        self.postroll = rng.random() < profile.ads.postroll_rate
        self.preroll_leave_after: int | None = None
        if self.preroll:
            total = sum(ad.duration_ms for ad in self.preroll)
            share = preroll_leave_share(profile.ads.preroll_abandonment, total / 1000)
            if rng.random() < share:
                self.preroll_leave_after = rng.randrange(0, total)
        # Early leavers who pause and never come back, rather than close the player mid-play.
        self.exits_via_pause = not self.completes and rng.random() < viewing.pause_abandon_rate
        # Continue watching: a share of on-demand viewings start where the viewer left the
        # title before, never in its last 10 seconds.
        self.continue_ms = 0
        if not self.live and rng.random() < viewing.continue_rate:
            fraction = viewing.continue_from.sample(rng)
            self.continue_ms = max(0, min(round(length_ms * fraction), length_ms - 10_000))
        # Adaptive bitrate: a first rung from the player's bandwidth guess, a climb to what the
        # connection sustains, then the profile's occasional drops and recoveries.
        qoe = profile.qoe
        # The device's ladder: the profile's, up to what its screen plays (the lowest at least).
        cap = qoe.device_max_bps.get(device or "", None)
        ladder = self.ladder = [r for r in qoe.bitrates if cap is None or r <= cap] or [
            qoe.bitrates[0]
        ]
        self._first_rung = _rung_below(ladder, qoe.start_estimate_bps.sample(rng))
        self._target_rung = max(
            self._first_rung, _rung_below(ladder, 0.8 * qoe.throughput_bps.sample(rng))
        )
        self._switched_at: int | None = None  # the last switch (or the first frame)
        self._climb_seed = rng.getrandbits(64)
        self._climb_from: int | None = None  # the switch `_climb_at` was drawn from
        self._climb_at = 0  # when the next step up comes, after that switch
        self._exit_at: int | None = None  # the instant of that last pause, once scheduled
        self._episode_until: int | None = None  # end of the current pause or rebuffer
        self._episode_leaves = False
        self._preroll_started_at: int | None = None
        self._first_play_at: int | None = None

    def _early_exit(self, rng: Rng) -> int:
        # Viewers who leave early leave before the end: redraw the few draws that land past it,
        # and fall back to anywhere in the content for a distribution that rarely fits.
        for _ in range(20):
            watch = _ms(self.profile.viewing.watch_seconds.sample(rng))
            if 1000 <= watch < self.length_ms - 2000:
                return watch
        return rng.randrange(1, max(2, self.length_ms - 2000))

    # --- pods -------------------------------------------------------------------------------

    def _creative(self, pod: list[AdPlay]) -> AdCreative:
        """The next ad: one shown in an earlier break at the profile's repeat rate; otherwise,
        like an ad server that caps each creative at one showing a session, one not shown yet
        (while the inventory lasts). Never the same ad twice in one break."""
        shown = self._shown
        in_break = [ad.creative for ad in pod]
        earlier = [creative for creative in shown if creative not in in_break]
        if earlier and self.rng.random() < self.profile.ads.repeat_rate:
            return self.rng.choice(earlier)
        for _ in range(8):
            creative = self.pool.pick_ad(self.rng)
            if creative not in shown and creative not in in_break:
                shown.append(creative)
                return creative
        # The inventory is nearly used up (a long session): a repeat is inevitable, but still
        # not one already in this break.
        return self.rng.choice([c for c in self.pool.ads if c not in in_break] or self.pool.ads)

    def _pod(self, *, pre: bool = False) -> tuple[AdPlay, ...]:
        ads = self.profile.ads
        planned = ads.preroll_ads_per_pod if pre and ads.preroll_ads_per_pod else ads.ads_per_pod
        count = max(1, round(planned.sample(self.rng)))
        if ads.fill_rate < 1:
            # The break is planned with `count` slots; the ad server fills the first and each
            # other at the fill rate (an unfilled slot is skipped, not shown as an empty ad).
            count = 1 + sum(self.rng.random() < ads.fill_rate for _ in range(count - 1))
        pod: list[AdPlay] = []
        for _ in range(count):
            creative = self._creative(pod)
            skip = None
            if self.rng.random() < ads.skippable_rate and self.rng.random() < ads.skip_rate:
                skip = min(_ms(ads.skip_after_seconds), creative.length_ms)
                reactions = self.reactions
                if reactions is not None:
                    if isinstance(reactions, str):
                        reactions = self.reactions = RandomStream(reactions)
                    # The button appears, then the viewer presses it; one too slow for a
                    # short ad sees it to the end.
                    reaction = self.profile.timing.skip_reaction_seconds.sample(reactions)
                    skip += _ms(reaction)
                    if skip >= creative.length_ms:
                        skip = None
            pod.append(AdPlay(creative, skip))
        if isinstance(self.reactions, RandomStream):
            self.reactions.sleep()  # until the next pod's skippable ads, if any
        return tuple(pod)

    def pod(self, kind: PodKind, view: SessionView) -> tuple[AdPlay, ...]:
        if kind == "post":
            return self._pod() if self.postroll else ()
        return self._pod()

    # --- decisions ----------------------------------------------------------------------------

    def acted(self, decision: Decision, view: SessionView) -> None:
        action = decision.action
        viewing = self.profile.viewing
        if isinstance(action, Pause):
            self._episode_until = decision.at + _ms(viewing.pause_seconds.sample(self.rng))
            # The one pause an early leaver never comes back from is the one at their exit.
            self._episode_leaves = self.exits_via_pause and decision.at == self._exit_at
        elif isinstance(action, Buffer):
            self._episode_until = decision.at + _ms(viewing.buffering_seconds.sample(self.rng))
            self._episode_leaves = False
            self.first_rebuffer_ms = None
        elif isinstance(action, Play):
            self._episode_until = None
            if self._first_play_at is None and view.played:
                self._first_play_at = decision.at
                self._switched_at = decision.at
        elif isinstance(action, BitrateChange):
            self._switched_at = decision.at
        elif isinstance(action, StartAdBreak) and not view.played:
            self._preroll_started_at = decision.at

    def next(self, view: SessionView) -> Decision | None:
        if not view.state.open and view.played and view.viewer is not State.PAUSED:
            return None  # the session is over and the viewer is not coming back
        if view.state.ad is not AdPhase.NONE:
            return self._during_ads(view)
        if view.viewer in (State.PAUSED, State.BUFFERING):
            assert self._episode_until is not None
            at = max(view.now, self._episode_until)
            return Decision(at, Leave() if self._episode_leaves else Play())
        if not view.played:
            return self._before_first_frame(view)
        if view.last_event == "adBreakComplete":
            return Decision(view.now, Play())  # "after adBreakComplete, send play" (section 5)
        if view.viewer is State.PLAYING:
            return self._while_playing(view)
        return None

    def _before_first_frame(self, view: SessionView) -> Decision:
        ready = max(view.now, view.started_at + self.startup_ms)
        if self.fails_to_start:
            return Decision(ready, FailStart(self.rng.choice(_START_ERRORS)))
        if self.preroll and self._preroll_started_at is None:
            return Decision(ready, StartAdBreak(self.preroll))
        return Decision(view.now if self.preroll else ready, Play())

    def _during_ads(self, view: SessionView) -> Decision | None:
        if self.preroll_leave_after is not None and not view.played:
            assert self._preroll_started_at is not None
            return Decision(
                max(view.now, self._preroll_started_at + self.preroll_leave_after), Leave()
            )
        if self.live and self._first_play_at is not None:
            # A live viewer's time is up whatever is on screen, ads included.
            return Decision(max(view.now, self._first_play_at + self.watch_ms), Leave())
        return None

    def _while_playing(self, view: SessionView) -> Decision:
        viewing = self.profile.viewing
        if self.live:
            # Live viewers stay for a stretch of wall time from their first frame, ads and
            # pauses included; on-demand viewers for an amount of content.
            first = self._first_play_at if self._first_play_at is not None else view.now
            leave_at = max(view.now, first + self.watch_ms)
        elif self.completes:
            leave_at = 2**62  # stays to the end: the player completes the session
        else:
            leave_at = view.now + max(0, self.watch_ms - view.watched_ms)
        exit_action: Action = Leave()
        if self.exits_via_pause:
            self._exit_at, exit_action = leave_at, Pause()
        # The next random event: the minimum of independent exponential clocks is exponential
        # with the summed rate; which one fired is chosen in proportion to its rate.
        rates: list[tuple[float, str]] = [
            (viewing.pauses_per_hour, "pause"),
            (viewing.buffering_per_hour if self.rebuffers else 0.0, "buffer"),
            (0.0 if self.live else viewing.seeks_per_hour, "seek"),
            (viewing.errors_per_hour, "error"),
            (
                self.profile.qoe.bitrate_changes_per_hour if len(self.ladder) > 1 else 0.0,
                "bitrate",
            ),
            (self.profile.states.changes_per_hour, "state"),
        ]
        total = sum(rate for rate, _ in rates)
        candidates: list[tuple[int, Action]] = [(leave_at, exit_action)]
        if total > 0:
            wait = max(1, round(self.rng.expovariate(total / _HOUR_MS)))
            kind = self.rng.choices([name for _, name in rates], weights=[r for r, _ in rates])[0]
            candidates.append((view.now + wait, self._random_action(kind, view)))
        if self.first_rebuffer_ms is not None:
            first = view.now + max(0, self.first_rebuffer_ms - view.watched_ms)
            candidates.append((first, Buffer()))
        climb = self._climb(view)
        if climb is not None:
            candidates.append(climb)
        at, action = min(candidates, key=lambda item: item[0])
        return Decision(at, action)

    def _climb(self, view: SessionView) -> tuple[int, Action] | None:
        """The next upward switch, while below the rung the connection sustains."""
        ladder = self.ladder
        rung = ladder.index(view.bitrate) if view.bitrate in ladder else 0
        if rung >= self._target_rung or self._switched_at is None:
            return None
        if self._climb_from != self._switched_at:
            # Stable across asks (asked after every change): from the last switch, a wait
            # drawn once, from a seed of its own.
            draws = random.Random(f"{self._climb_seed}:{self._switched_at}")
            self._climb_from = self._switched_at
            self._climb_at = self._switched_at + _ms(self.profile.qoe.climb_seconds.sample(draws))
        return max(view.now, self._climb_at), BitrateChange(ladder[rung + 1])

    def _random_action(self, kind: str, view: SessionView) -> Action:
        if kind == "pause":
            return Pause()
        if kind == "buffer":
            return Buffer()
        if kind == "seek":
            distance = _ms(self.profile.viewing.seek_seconds.sample(self.rng))
            forward = self.rng.random() < self.profile.viewing.seek_forward_rate
            target = view.playhead_ms + distance if forward else view.playhead_ms - distance
            return Seek(max(0, min(target, self.length_ms - 5000)))
        if kind == "error":
            error_id, source = self.rng.choice(_ERRORS)
            return PlayerError(error_id, source)
        if kind == "bitrate":
            # Congestion: a rung down (the climb brings it back); from the bottom, a rung up.
            ladder = self.ladder
            rung = ladder.index(view.bitrate) if view.bitrate in ladder else 0
            return BitrateChange(ladder[rung - 1 if rung > 0 else 1])
        # A player state flips: on if it was off, off if it was on.
        name = self.rng.choice(self.profile.states.names)
        if name in view.open_states:
            return StateChange(end=(name,))
        return StateChange(start=(name,))

    def initial_states(self) -> tuple[str, ...]:
        """The player states that are on when playback starts (drawn once, in profile order)."""
        return tuple(
            name
            for name, chance in self.profile.states.initial.items()
            if self.rng.random() < chance
        )

    def initial_bitrate(self) -> int:
        return self.ladder[self._first_rung]

    def start_position_ms(self) -> int:
        return self.continue_ms
