"""Conformance: the session-level rules of MCA-SPEC.md that the real API cannot check.

The MCA back end validates each request on its own; a session whose events come in an impossible
order, with gaps, with an ad outside its break or a playhead that runs while paused is accepted
and then silently mis-counted in reports. `check_session` replays a session's accepted bodies
through the same state table the players use (`playersim.mca.states`) and lists every rule broken,
so a buggy player is caught here rather than in a report suite weeks later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from playersim.errors import PlayerProtocolError
from playersim.mca.spec import DAY_MS, GAP_SLACK_MS, LIVE_CONTENT_TYPES, MAX_STATES, PING_MS
from playersim.mca.states import AdPhase, SessionState, State, advance
from playersim.mca.wire import (
    CUSTOM_METADATA_EVENTS,
    BodyModel,
    EventType,
    SessionStart,
    params_of,
    validate_body,
)

__all__ = ["Problem", "Rule", "SessionChecker", "check_session"]

_DAY_SECONDS: Final = DAY_MS // 1000
# Playhead arithmetic in reports is to the second; allow for the few milliseconds by which
# same-instant events are spread, and for rounding of float playheads.
_TOLERANCE_S: Final = 0.1
E = EventType
# Module constants rather than enum attribute lookups on the per-event path.
_PLAY: Final = E.PLAY.value
_PING: Final = E.PING.value
_ERROR: Final = E.ERROR.value
_COMPLETE: Final = State.COMPLETE
_NO_AD: Final = AdPhase.NONE


# The events whose params the rules below look at.
_PARAM_RULES: Final = frozenset(
    {E.AD_BREAK_START, E.AD_START, E.CHAPTER_START, E.STATE_START, E.STATE_END, E.STATES_UPDATE}
)


class Rule(StrEnum):
    """The rules a session can break. Each `Problem` names one."""

    ORDER = "order"  # an event its state does not allow: ad bookends, chapter overlap, ...
    TS_ORDER = "ts-order"  # ts not strictly increasing by at least 1 ms
    GAP = "gap"  # over a second past the ping interval between two events of an open session
    PLAYHEAD_RANGE = "playhead-range"  # VOD outside [0, media.length), live outside [0, 86400)
    LIVE_PLAYHEAD = "live-playhead"  # live playhead is not the second of the UTC day while playing
    PLAYHEAD_MOTION = "playhead-motion"  # moved while stopped or in an ad, or not with the clock
    AD_PARAMS = "ad-params"  # podIndex, podSecond or podPosition not as section 3 says
    CHAPTER = "chapter"  # a chapter starting away from the playhead
    STATES = "states"  # more than 10 player states, or a state ended that never started
    QOE = "qoe"  # droppedFrames going down, or timeToStart changing once set
    CUSTOM_METADATA = "custom-metadata"  # customMetadata on an event that does not carry it
    UNTERMINATED = "unterminated"  # closed by a timeout without sessionComplete or sessionEnd
    # The same request twice: a retry whose first try arrived but whose answer was lost. An
    # event twice in a row, or a sessionStart twice, which opens a second session and leaves
    # the first without events.
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule, at the event (index into the session's events) where it showed."""

    rule: Rule
    index: int
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] event {self.index}: {self.message}"


# Every session starts in this state (frozen: shared rather than made for each session).
_NEW_SESSION: Final = SessionState()


@dataclass(slots=True)
class _Replay:
    """What the checker remembers while it walks a session's events.

    Slots, and player states in tuples rather than sets: a collector keeps one for every
    session open or lately closed, an empty set is over 200 bytes (bench/memory.py), and a
    session has a few states at most (the back end keeps 10).
    """

    live: bool
    length: float | None
    state: SessionState = _NEW_SESSION
    played: bool = False
    ad_position: int = 0  # podPosition of the last adStart in the current break
    last_pod_index: int = 0
    states_on: tuple[str, ...] = ()
    states_seen: tuple[str, ...] = ()
    resumed: bool = False  # a media.resume session may pick a pod up at its current ad
    dropped_frames: int = 0
    time_to_start: int | None = None
    pods_seen: int = 0
    # An `error` while content played: the playhead may hold from it to the next `play`.
    error_hold: bool = False
    # How far a playing playhead may stray from the clock between two events: more when the
    # wire carries whole seconds (the Media Edge API's integer playheads), each floored.
    slack_s: float = _TOLERANCE_S


class SessionChecker:
    """Checks one session's events as they arrive; keeps only what the rules need.

    Feeding events one at a time lets a collector judge millions of events without keeping
    them; `check_session` is the same over a finished list.
    """

    # Slots, not a __dict__: a collector keeps one for every session open or lately closed.
    __slots__ = (
        "_count",
        "_duplicated",
        "_on_problem",
        "_prev_playhead",
        "_prev_ts",
        "_previous",
        "_replay",
        "_whole_seconds",
        "problems",
    )

    def __init__(
        self, on_problem: Callable[[Problem], None] | None = None, *, whole_seconds: bool = False
    ) -> None:
        self.problems: list[Problem] = []
        # Playheads in whole seconds (Media Edge): each may lag its true value by up to 1 s.
        self._whole_seconds = whole_seconds
        # Told of each problem as it is found (a collector counting problems by rule).
        self._on_problem = on_problem
        self._replay: _Replay | None = None
        # The previous event: its ts and playhead (None: there is none), and its body, or None
        # when it was a plain ping fed by `feed_ping` (made again only to compare, if asked).
        self._previous: BodyModel | None = None
        self._prev_ts: int | None = None
        self._prev_playhead: float = 0
        self._count = 0
        self._duplicated = False

    def feed(self, body: BodyModel) -> None:
        self._count += 1
        if self._replay is None:
            self._replay = _start(body)
            if self._whole_seconds:
                self._replay.slack_s = _TOLERANCE_S + 1
        replay = self._replay
        flag = self._flag
        prev_ts = self._prev_ts
        player_time = body.player_time
        ts = player_time.ts
        if prev_ts is not None and ts == prev_ts and body == self._previous_body():
            # Not a second event: the same one again. Judged as what it is, and not again as
            # an event out of order.
            flag(Rule.DUPLICATE, f"{body.event_type} received twice (a retry after a lost answer?)")
            return
        event = body.event_type
        _check_event(replay, prev_ts, self._prev_playhead, body, flag)
        try:
            replay.state = advance(replay.state, event)
        except PlayerProtocolError as exc:
            flag(Rule.ORDER, str(exc))
        if event == _PLAY and replay.state.ad is _NO_AD:
            replay.played = True
        if event == _PLAY:
            replay.error_hold = False
        elif event == _ERROR and replay.state.playhead_advances:
            # The back end cannot tell an error the player played on through from one that
            # stopped playback until the viewer pressed play again (Adobe's Timeline 2): both
            # are conformant (MCA-SPEC.md section 3, error).
            replay.error_hold = True
        self._previous = body
        self._prev_ts = ts
        self._prev_playhead = player_time.playhead

    def feed_ping(self, playhead: float, ts: int) -> None:
        """`feed` of a plain ping (no qoeData, no customMetadata: `plain_ping`'s), given by its
        playhead and ts, without its body: the same rules, the same problems, less work.
        Nearly every event is one; of the rules, a ping can break only those of time and
        playhead, and of order (a ping where the state table has none)."""
        self._count += 1
        replay = self._replay
        if replay is None:
            replay = self._replay = _Replay(False, None)  # (`_start` of any but a sessionStart)
            if self._whole_seconds:
                replay.slack_s = _TOLERANCE_S + 1
        prev_ts = self._prev_ts
        if prev_ts is not None and ts == prev_ts:
            previous = self._previous
            # Two plain pings are equal bodies when their playheads are (their ts are).
            if (
                playhead == self._prev_playhead
                if previous is None
                else _ping_model(playhead, ts) == previous
            ):
                self._flag(Rule.DUPLICATE, "ping received twice (a retry after a lost answer?)")
                return
        _check_time(replay, prev_ts, self._prev_playhead, _PING, float(playhead), ts, self._flag)
        try:
            replay.state = advance(replay.state, _PING)
        except PlayerProtocolError as exc:
            self._flag(Rule.ORDER, str(exc))
        self._previous = None
        self._prev_ts = ts
        self._prev_playhead = playhead

    def _previous_body(self) -> BodyModel:
        """The previous event's body (there is one): kept, or made again for a plain ping."""
        previous = self._previous
        if previous is None:
            assert self._prev_ts is not None
            return _ping_model(self._prev_playhead, self._prev_ts)
        return previous

    def _flag(self, rule: Rule, message: str) -> None:
        """One problem at the event being fed."""
        self._add(Problem(rule, self._count - 1, message))

    def _add(self, problem: Problem) -> None:
        self.problems.append(problem)
        if self._on_problem is not None:
            self._on_problem(problem)

    def duplicated(self, sid: str) -> None:
        """This session's sessionStart came again and opened session `sid`, which took the
        events: this one is an orphan of a retry, not a session its player left unended."""
        self._duplicated = True
        self._add(
            Problem(
                Rule.DUPLICATE,
                0,
                f"sessionStart received twice (a retry after a lost answer?): the second "
                f"opened session {sid}, and this one got no more events",
            )
        )

    def close(self, reason: str) -> None:
        """The session was closed (by sessionEnd, or by a back-end timeout named `reason`)."""
        if self._replay is None or reason == "sessionEnd" or self._duplicated:
            return
        state = self._replay.state
        if state.playback is not _COMPLETE:
            self._add(
                Problem(
                    Rule.UNTERMINATED,
                    self._count - 1,
                    f"closed by {reason} while {state}, without sessionComplete or sessionEnd",
                )
            )


def _ping_model(playhead: float, ts: int) -> BodyModel:
    """The body a plain ping with this playhead and ts validates to."""
    return validate_body({"playerTime": {"playhead": playhead, "ts": ts}, "eventType": _PING})


def _start(body: BodyModel) -> _Replay:
    live, length, resumed = False, None, False
    if isinstance(body, SessionStart):
        live = body.params.content_type in LIVE_CONTENT_TYPES
        length = None if live else float(body.params.length)
        resumed = bool(body.params.resume)
    return _Replay(live, length, resumed=resumed)


def check_session(
    bodies: Sequence[BodyModel], *, closed: bool = False, close_reason: str | None = None
) -> list[Problem]:
    """Every conformance problem in one session's events, in order of appearance."""
    checker = SessionChecker()
    for body in bodies:
        checker.feed(body)
    if closed and close_reason is not None:
        checker.close(close_reason)
    return checker.problems


def _check_event(
    replay: _Replay,
    prev_ts: int | None,
    prev_playhead: float,
    body: BodyModel,
    flag: Callable[[Rule, str], None],
) -> None:
    """The rules one event is judged by, given the previous event's ts and playhead (`prev_ts`
    None: it is the first)."""
    event: str = body.event_type
    player_time = body.player_time
    playhead = float(player_time.playhead)
    state = replay.state  # before this event

    if body.custom_metadata:
        if event not in CUSTOM_METADATA_EVENTS:
            flag(Rule.CUSTOM_METADATA, f"customMetadata on {event} is ignored by reports")
        reserved = sorted(key for key in body.custom_metadata if key.startswith("media."))
        if reserved:
            # "should not start with media." (section 2): such keys clash with standard ones.
            flag(Rule.CUSTOM_METADATA, f"customMetadata key {reserved[0]!r} starts with 'media.'")

    _check_time(replay, prev_ts, prev_playhead, event, playhead, player_time.ts, flag)

    if body.qoe_data is not None:
        _check_qoe(replay, body, flag)
    if event not in _PARAM_RULES:
        return
    params = params_of(body)
    if event == E.AD_BREAK_START:
        _check_pod(replay, params, playhead, flag)
    elif event == E.AD_START:
        position = params.get("media.ad.podPosition")
        picked_up = replay.resumed and replay.ad_position == 0
        if state.ad is AdPhase.BREAK and position != replay.ad_position + 1 and not picked_up:
            flag(
                Rule.AD_PARAMS,
                f"media.ad.podPosition {position}, expected {replay.ad_position + 1} "
                "(ads of a pod count from 1)",
            )
        replay.ad_position = position if isinstance(position, int) else replay.ad_position + 1
    elif event == E.CHAPTER_START and not replay.live:
        offset = float(params.get("media.chapter.offset", 0))
        end = offset + float(params.get("media.chapter.length", 0))
        if not offset - _TOLERANCE_S <= playhead < end + _TOLERANCE_S:
            flag(Rule.CHAPTER, f"chapter [{offset:g}, {end:g}) starts at playhead {playhead:g}")
    elif event in (E.STATE_START, E.STATE_END, E.STATES_UPDATE):
        _check_states(replay, event, params, flag)


def _check_time(  # noqa: PLR0917 - positional: it runs for every event
    replay: _Replay,
    prev_ts: int | None,
    prev_playhead: float,
    event: str,
    playhead: float,
    ts: int,
    flag: Callable[[Rule, str], None],
) -> None:
    """The rules of an event's playhead and ts: every event's, and all a plain ping's."""
    state = replay.state  # before this event
    if replay.live and not 0 <= playhead < _DAY_SECONDS:
        flag(Rule.PLAYHEAD_RANGE, f"live playhead {playhead:g} is not a second of the day")
    elif replay.length is not None and not 0 <= playhead < replay.length:
        flag(Rule.PLAYHEAD_RANGE, f"playhead {playhead:g} outside [0, {replay.length:g})")

    if prev_ts is not None:
        if ts <= prev_ts:
            flag(Rule.TS_ORDER, f"ts {ts} is not after the previous event's {prev_ts}")
        elif ts - prev_ts > PING_MS + GAP_SLACK_MS and state.playback is not _COMPLETE:
            flag(
                Rule.GAP,
                f"{(ts - prev_ts) / 1000:g} s without an event while {state} "
                f"(a ping every {PING_MS // 1000} s, and {GAP_SLACK_MS / 1000:g} s of slack)",
            )
        _check_motion(replay, float(prev_playhead), prev_ts, event, playhead, ts, flag)

    # Held since an error that stopped playback: not playing, whatever the state table says.
    held = (
        replay.error_hold
        and prev_ts is not None
        and abs(playhead - float(prev_playhead)) <= _TOLERANCE_S
    )
    running = state.playhead_advances and not held
    # Live content plays at the current second of the day, and resumes there after a pause or
    # an ad break, never at the position where it stopped (MCA-SPEC.md section 4).
    if replay.live and (running or (event == _PLAY and state.ad is _NO_AD)):
        expected = ts // 1000 % _DAY_SECONDS
        diff = (playhead - expected) % _DAY_SECONDS
        if 1 < diff < _DAY_SECONDS - 1:  # ts may have crossed into the next second
            flag(
                Rule.LIVE_PLAYHEAD,
                f"live playhead {playhead:g}, expected {expected} (second of the UTC day)",
            )


def _check_qoe(replay: _Replay, body: BodyModel, flag: Callable[[Rule, str], None]) -> None:
    qoe = body.qoe_data
    if qoe is None:
        return
    if qoe.dropped_frames is not None:
        if qoe.dropped_frames < replay.dropped_frames:
            flag(
                Rule.QOE,
                f"droppedFrames {qoe.dropped_frames} after {replay.dropped_frames}: "
                "it is cumulative",
            )
        replay.dropped_frames = max(replay.dropped_frames, qoe.dropped_frames)
    if qoe.time_to_start is not None:
        if replay.time_to_start is not None and qoe.time_to_start != replay.time_to_start:
            flag(Rule.QOE, f"timeToStart {qoe.time_to_start} after {replay.time_to_start}")
        replay.time_to_start = qoe.time_to_start


def _check_pod(
    replay: _Replay, params: dict[str, Any], playhead: float, flag: Callable[[Rule, str], None]
) -> None:
    replay.ad_position = 0
    index = params.get("media.ad.podIndex")
    second = params.get("media.ad.podSecond")
    if not isinstance(index, int):
        return
    # A resumed session picks its pods up where the viewing was: its first may be any.
    first_of_resume = replay.resumed and not replay.pods_seen
    if index == 0 and replay.played:
        flag(Rule.AD_PARAMS, "podIndex 0 is the pre-roll, but content has already played")
    elif index > 0 and not replay.played and not replay.resumed:
        flag(Rule.AD_PARAMS, f"podIndex {index} is a mid-roll, but content has not played yet")
    elif index > 0 and index != replay.last_pod_index + 1 and not first_of_resume:
        flag(
            Rule.AD_PARAMS,
            f"podIndex {index} after pod {replay.last_pod_index}: pods count up by one",
        )
    replay.last_pod_index = max(replay.last_pod_index, index)
    replay.pods_seen += 1
    # A resumed session re-sends the pod it resumed in, where that pod began (MCA-SPEC.md
    # section 5): live, the playhead has moved on to the present second since then.
    if isinstance(second, int | float) and abs(second - playhead) > 1 and not first_of_resume:
        flag(Rule.AD_PARAMS, f"podSecond {second:g} is not the playhead {playhead:g} of the break")


def _check_states(
    replay: _Replay, event: str, params: dict[str, Any], flag: Callable[[Rule, str], None]
) -> None:
    if event == E.STATES_UPDATE:
        started = [s["media.state.name"] for s in params.get("statesStart") or []]
        ended = [s["media.state.name"] for s in params.get("statesEnd") or []]
    elif event == E.STATE_START:
        started, ended = [params["media.state.name"]], []
    else:
        started, ended = [], [params["media.state.name"]]
    for name in ended:
        if name not in replay.states_on:
            flag(Rule.STATES, f"state {name!r} ended but it was not on")
        replay.states_on = tuple(on for on in replay.states_on if on != name)
    for name in started:
        if name in replay.states_on:
            flag(Rule.STATES, f"state {name!r} started but it was already on")
        else:
            replay.states_on += (name,)
        if name not in replay.states_seen:
            replay.states_seen += (name,)
            if len(replay.states_seen) == MAX_STATES + 1:
                flag(Rule.STATES, f"state {name!r} is the 11th: the back end keeps only 10")


def _check_motion(  # noqa: PLR0917 - positional: it runs for every event
    replay: _Replay,
    prev_playhead: float,
    prev_ts: int,
    event: str,
    playhead: float,
    ts: int,
    flag: Callable[[Rule, str], None],
) -> None:
    state = replay.state
    moved = playhead - prev_playhead
    elapsed = (ts - prev_ts) / 1000
    if state.playhead_advances:
        if replay.live:
            return  # the live rule above checks the second of the day
        # Playing: the playhead keeps step with the clock (a seek shows as pauseStart + play),
        # or, after an error that stopped playback, holds until the next play.
        held = replay.error_hold and abs(moved) <= _TOLERANCE_S
        if abs(moved - elapsed) > replay.slack_s and not held:
            flag(Rule.PLAYHEAD_MOTION, f"playhead moved {moved:g} s in {elapsed:g} s of playback")
    else:
        # Stopped (waiting, paused, buffering, in an ad): only a `play` may move it: the start
        # position, a seek (after pauseStart), or live content resuming at the current second.
        # A rebuffer ends where it began.
        resumes = event == _PLAY and state.ad is _NO_AD
        seek = resumes and (replay.live or state.playback in (State.PAUSED, State.WAITING))
        if abs(moved) > _TOLERANCE_S and not seek:
            flag(Rule.PLAYHEAD_MOTION, f"playhead moved {moved:g} s while {state}")
