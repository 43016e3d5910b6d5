"""Conformance: the session-level rules of MCA-SPEC.md that the real API cannot check.

The MCA back end validates each request on its own; a session whose events come in an impossible
order, with gaps, or with a playhead that runs backwards is accepted and then silently mis-counted
in reports. `check_session` replays a session's accepted bodies through the same state table the
players use (`playersim.states`) and lists every rule broken, so a buggy player is caught here
rather than in a report suite weeks later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from playersim.errors import PlayerProtocolError
from playersim.profiles import LIVE_CONTENT_TYPES
from playersim.states import PLAYHEAD_ADVANCES, State, next_state
from playersim.wire import CUSTOM_METADATA_EVENTS, BodyModel, EventType, SessionStart

__all__ = ["Problem", "Rule", "check_session"]

PING_INTERVAL_MS: Final = 10_000
_DAY_SECONDS: Final = 86_400
# Playhead arithmetic in reports is to the second; allow for the few milliseconds by which
# same-instant events are spread, and for rounding of float playheads.
_PLAYHEAD_TOLERANCE_S: Final = 0.1


class Rule(StrEnum):
    """The rules a session can break. Each `Problem` names one."""

    ORDER = "order"  # an event its state does not allow (MCA-SPEC.md section 5)
    TS_ORDER = "ts-order"  # ts not strictly increasing by at least 1 ms
    GAP = "gap"  # more than the ping interval between two events of an open session
    PLAYHEAD_RANGE = "playhead-range"  # VOD outside [0, media.length), live outside [0, 86400)
    LIVE_PLAYHEAD = "live-playhead"  # live playhead is not the second of the UTC day while playing
    PLAYHEAD_MOTION = "playhead-motion"  # VOD playhead moved while stopped, or not with the clock
    CUSTOM_METADATA = "custom-metadata"  # customMetadata on an event that does not carry it
    UNTERMINATED = "unterminated"  # closed by a timeout without sessionComplete or sessionEnd


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule, at the event (index into the session's events) where it showed."""

    rule: Rule
    index: int
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] event {self.index}: {self.message}"


def check_session(
    bodies: Sequence[BodyModel], *, closed: bool = False, close_reason: str | None = None
) -> list[Problem]:
    """Every conformance problem in one session's events, in order of appearance."""
    problems: list[Problem] = []
    if not bodies:
        return problems
    start = bodies[0]
    live = False
    length: float | None = None
    if isinstance(start, SessionStart):
        live = start.params.content_type in LIVE_CONTENT_TYPES
        length = None if live else float(start.params.length)

    state = State.NEW
    previous: BodyModel | None = None
    for index, body in enumerate(bodies):
        event = body.event_type
        ts = body.player_time.ts
        playhead = float(body.player_time.playhead)

        def flag(rule: Rule, message: str, index: int = index) -> None:
            problems.append(Problem(rule, index, message))

        if body.custom_metadata and event not in CUSTOM_METADATA_EVENTS:
            flag(Rule.CUSTOM_METADATA, f"customMetadata on {event} is ignored by reports")

        if live and not 0 <= playhead < _DAY_SECONDS:
            flag(Rule.PLAYHEAD_RANGE, f"live playhead {playhead:g} is not a second of the day")
        elif length is not None and not 0 <= playhead < length:
            flag(Rule.PLAYHEAD_RANGE, f"playhead {playhead:g} outside [0, {length:g})")

        if previous is not None:
            prev_ts = previous.player_time.ts
            if ts <= prev_ts:
                flag(Rule.TS_ORDER, f"ts {ts} is not after the previous event's {prev_ts}")
            elif ts - prev_ts > PING_INTERVAL_MS and state is not State.COMPLETE:
                flag(
                    Rule.GAP,
                    f"{(ts - prev_ts) / 1000:g} s without an event in state {state} "
                    f"(at most {PING_INTERVAL_MS // 1000} s)",
                )
            if not live:
                _check_vod_motion(previous, body, state, flag)

        # Live content plays at the current second of the day, and resumes there after a pause
        # or an ad break, never at the position where it stopped (MCA-SPEC.md section 4).
        if live and (state in PLAYHEAD_ADVANCES or event == EventType.PLAY.value):
            expected = ts // 1000 % _DAY_SECONDS
            if not _near_second(playhead, expected):
                flag(
                    Rule.LIVE_PLAYHEAD,
                    f"live playhead {playhead:g}, expected {expected} (second of the UTC day)",
                )

        try:
            state = next_state(state, event)
        except PlayerProtocolError as exc:
            flag(Rule.ORDER, str(exc))
        previous = body

    if closed and close_reason not in (None, "sessionEnd") and state is not State.COMPLETE:
        problems.append(
            Problem(
                Rule.UNTERMINATED,
                len(bodies) - 1,
                f"closed by {close_reason} in state {state}, without sessionComplete or sessionEnd",
            )
        )
    return problems


def _check_vod_motion(
    previous: BodyModel, body: BodyModel, state: State, flag: Callable[[Rule, str], None]
) -> None:
    moved = float(body.player_time.playhead) - float(previous.player_time.playhead)
    elapsed = (body.player_time.ts - previous.player_time.ts) / 1000
    if state in PLAYHEAD_ADVANCES:
        # Playing: the playhead keeps step with the clock (a seek shows as pauseStart + play).
        if abs(moved - elapsed) > _PLAYHEAD_TOLERANCE_S:
            flag(Rule.PLAYHEAD_MOTION, f"playhead moved {moved:g} s in {elapsed:g} s of playback")
    elif body.event_type != EventType.PLAY.value and abs(moved) > _PLAYHEAD_TOLERANCE_S:
        # Stopped (waiting, paused, buffering, in an ad): only a `play` may move it (a seek).
        flag(Rule.PLAYHEAD_MOTION, f"playhead moved {moved:g} s while {state}")


def _near_second(playhead: float, expected: int) -> bool:
    # Same-instant events are 1 ms apart, so ts may have crossed into the next second; the day
    # wraps at midnight.
    diff = (playhead - expected) % _DAY_SECONDS
    return diff <= 1 or diff >= _DAY_SECONDS - 1
