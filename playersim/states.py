"""The session state machine: which event may follow which, as one table.

Theory of operation
-------------------
A viewing session is always in exactly one `State`. Each event a player sends either keeps the
state (a ping, a bitrate change) or moves it (a `play` after `pauseStart` resumes playback). The
legal moves are the table `TRANSITIONS` below: data, not `if`s spread through the player, so the
rules of MCA-SPEC.md sections 4 and 5 can be read in one place and are enforced in one place.

Everything that emits events goes through `next_state`. An event that does not fit the state
raises `PlayerProtocolError` naming both: playersim would rather crash in a test than put a
sequence on the wire that the back end silently mis-counts. The collector's conformance report
replays received traffic through the same table, so "what we send" and "what we accept as
conformant" cannot drift apart.

Whether the playhead moves in a state is part of the state too (`PLAYHEAD_ADVANCES`): main
content advances only while playing; it holds while waiting, paused, buffering and during ads.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from playersim.errors import PlayerProtocolError
from playersim.wire import EventType

__all__ = [
    "OPEN_STATES",
    "PLAYHEAD_ADVANCES",
    "TRANSITIONS",
    "State",
    "allowed_events",
    "next_state",
]


class State(StrEnum):
    """Where a session is. The names are what error messages and reports show."""

    NEW = "new"  # nothing sent yet
    WAITING = "waiting"  # open, main content not started or not resumed yet (needs `play`)
    PLAYING = "playing"  # main content plays; the playhead advances
    PAUSED = "paused"
    BUFFERING = "buffering"
    AD_BREAK = "adBreak"  # inside a pod, between ads
    AD = "ad"  # an ad is playing
    COMPLETE = "complete"  # main content reached its end; only sessionEnd may follow
    ENDED = "ended"  # closed by sessionEnd: nothing may follow


E = EventType
S = State

# Events that describe something beside playback (quality, chapters, player states). They keep
# the state, and are allowed wherever the session is open and not inside an ad break.
_SIDE_EVENTS: Final = (
    E.BITRATE_CHANGE,
    E.ERROR,
    E.CHAPTER_START,
    E.CHAPTER_COMPLETE,
    E.CHAPTER_SKIP,
    E.STATE_START,
    E.STATE_END,
    E.STATES_UPDATE,
)
# Inside an ad break only quality, error and player-state events make sense beside the ad events:
# "no playback events between adBreakStart and the first adStart" (MCA-SPEC.md section 5).
_AD_SIDE_EVENTS: Final = (E.BITRATE_CHANGE, E.ERROR, E.STATE_START, E.STATE_END, E.STATES_UPDATE)


def _moves(
    state: State, moves: dict[EventType, State], side: tuple[EventType, ...]
) -> dict[EventType, State]:
    table = dict.fromkeys(side, state)
    table[E.PING] = state
    table[E.SESSION_END] = S.ENDED
    table.update(moves)
    return table


TRANSITIONS: Final[Mapping[State, Mapping[EventType, State]]] = MappingProxyType(
    {
        S.NEW: {E.SESSION_START: S.WAITING},
        S.WAITING: _moves(
            S.WAITING,
            {
                E.PLAY: S.PLAYING,
                E.AD_BREAK_START: S.AD_BREAK,
                E.PAUSE_START: S.PAUSED,
                E.BUFFER_START: S.BUFFERING,
                # A post-roll ends with adBreakComplete, then the content is over.
                E.SESSION_COMPLETE: S.COMPLETE,
            },
            _SIDE_EVENTS,
        ),
        S.PLAYING: _moves(
            S.PLAYING,
            {
                E.PAUSE_START: S.PAUSED,
                E.BUFFER_START: S.BUFFERING,
                E.AD_BREAK_START: S.AD_BREAK,
                E.SESSION_COMPLETE: S.COMPLETE,
            },
            _SIDE_EVENTS,
        ),
        S.PAUSED: _moves(
            S.PAUSED,
            {E.PLAY: S.PLAYING, E.BUFFER_START: S.BUFFERING, E.AD_BREAK_START: S.AD_BREAK},
            _SIDE_EVENTS,
        ),
        S.BUFFERING: _moves(
            S.BUFFERING,
            {E.PLAY: S.PLAYING, E.PAUSE_START: S.PAUSED},
            _SIDE_EVENTS,
        ),
        S.AD_BREAK: _moves(
            S.AD_BREAK,
            {E.AD_START: S.AD, E.AD_BREAK_COMPLETE: S.WAITING},
            _AD_SIDE_EVENTS,
        ),
        S.AD: _moves(
            S.AD,
            {E.AD_COMPLETE: S.AD_BREAK, E.AD_SKIP: S.AD_BREAK},
            _AD_SIDE_EVENTS,
        ),
        # After sessionComplete the session is still open at the back end, but the content is
        # over: pings may continue and the viewer may leave; nothing else makes sense.
        S.COMPLETE: {E.PING: S.COMPLETE, E.SESSION_END: S.ENDED},
        S.ENDED: {},
    }
)

OPEN_STATES: Final[frozenset[State]] = frozenset(set(State) - {S.NEW, S.ENDED})
PLAYHEAD_ADVANCES: Final[frozenset[State]] = frozenset({S.PLAYING})


def next_state(state: State, event_type: str) -> State:
    """The state after sending `event_type` in `state`, or `PlayerProtocolError` if not allowed."""
    try:
        return TRANSITIONS[state][event_type]  # type: ignore[index]
    except KeyError:
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "nothing"
        raise PlayerProtocolError(event_type, state, f"allowed here: {allowed}") from None


def allowed_events(state: State) -> frozenset[str]:
    """The event types that may be sent in `state`."""
    return frozenset(TRANSITIONS[state])
