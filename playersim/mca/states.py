"""The session state machine: which event may follow which, as one table.

Theory of operation
-------------------
A session's state has three independent parts, because MCA sessions nest three things:

- `playback`: where main content is (`new`, `waiting` for its first frame or for `play` after an
  ad break, `playing`, `paused`, `buffering`, `complete`, `ended`);
- `ad`: whether an ad break is running (`none`, `break` between ads, `ad` while one plays);
- `chapter`: whether a chapter is open.

Each event type has one `Rule` in `RULES`: for each part, the values it may be sent in and the
value it leaves behind (a part the rule does not name is allowed in any value and kept). So the
rules of MCA-SPEC.md sections 4 and 5 read as data in one place: `adStart` only inside a break,
`adBreakComplete` only between ads, `chapterStart` only with no chapter open and no ad break
running, nothing but `ping` and `sessionEnd` after `sessionComplete`, nothing at all after
`sessionEnd`.

Everything that emits events goes through `advance`. An event that does not fit raises
`PlayerProtocolError` naming the event and the state: playersim would rather crash in a test than
put a sequence on the wire that the back end silently mis-counts. The collector's conformance
report replays received traffic through the same rules, so "what we send" and "what we accept as
conformant" cannot drift apart.

The playhead moves only while main content plays with no ad running (`playhead_advances`); a
mid-roll does not change `playback`, which is why content resumes where it was when the break
completes (section 6 of the spec sends no `play` there; section 5 allows one, and players do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeVar

from playersim.errors import PlayerProtocolError
from playersim.mca.wire import EventType

__all__ = [
    "RULES",
    "AdPhase",
    "Rule",
    "SessionState",
    "State",
    "advance",
    "allowed_events",
]


class State(StrEnum):
    """Where main content is. (The name `State` is kept for the playback part.)"""

    NEW = "new"  # nothing sent yet
    WAITING = "waiting"  # open; main content not started, or stopped for a pre-roll
    PLAYING = "playing"
    PAUSED = "paused"
    BUFFERING = "buffering"
    COMPLETE = "complete"  # main content reached its end: only ping and sessionEnd may follow
    ENDED = "ended"  # closed by sessionEnd: nothing may follow


class AdPhase(StrEnum):
    NONE = "none"
    BREAK = "break"  # between adBreakStart / adComplete and the next adStart / adBreakComplete
    AD = "ad"  # an ad is playing


# Module constants for the properties below, which run several times per event.
_NEW: Final = State.NEW
_ENDED: Final = State.ENDED
_PLAYING: Final = State.PLAYING
_AD_NONE: Final = AdPhase.NONE


@dataclass(frozen=True, slots=True)
class SessionState:
    """The whole state of one session, as the back end would reconstruct it."""

    playback: State = State.NEW
    ad: AdPhase = AdPhase.NONE
    chapter: bool = False  # a chapter is open

    @property
    def open(self) -> bool:
        return self.playback not in (_NEW, _ENDED)

    @property
    def playhead_advances(self) -> bool:
        """Main content plays: the only state in which the playhead moves (section 4)."""
        return self.playback is _PLAYING and self.ad is _AD_NONE

    def __str__(self) -> str:
        parts = [self.playback.value]
        if self.ad is not AdPhase.NONE:
            parts.append("in an ad break" if self.ad is AdPhase.BREAK else "in an ad")
        if self.chapter:
            parts.append("chapter open")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """Where an event may be sent and what it changes. An empty mapping means "any, unchanged"."""

    playback: Mapping[State, State] = field(default_factory=dict)
    ad: Mapping[AdPhase, AdPhase] = field(default_factory=dict)
    chapter: Mapping[bool, bool] = field(default_factory=dict)


S, A, E = State, AdPhase, EventType
_OPEN: Final = (S.WAITING, S.PLAYING, S.PAUSED, S.BUFFERING)  # open, content not complete
_KEEP_OPEN: Final = {state: state for state in _OPEN}
_NO_AD: Final = {A.NONE: A.NONE}
_NOT_BETWEEN_ADS: Final = {A.NONE: A.NONE, A.AD: A.AD}  # nothing may come before the first adStart

RULES: Final[Mapping[str, Rule]] = MappingProxyType(
    {
        E.SESSION_START: Rule(playback={S.NEW: S.WAITING}),
        E.PLAY: Rule(playback=dict.fromkeys(_OPEN, S.PLAYING), ad=_NOT_BETWEEN_ADS),
        E.PAUSE_START: Rule(playback=dict.fromkeys(_OPEN, S.PAUSED), ad=_NOT_BETWEEN_ADS),
        E.BUFFER_START: Rule(playback=dict.fromkeys(_OPEN, S.BUFFERING), ad=_NOT_BETWEEN_ADS),
        E.PING: Rule(playback={**_KEEP_OPEN, S.COMPLETE: S.COMPLETE}),
        E.BITRATE_CHANGE: Rule(playback=_KEEP_OPEN, ad=_NOT_BETWEEN_ADS),
        E.ERROR: Rule(playback=_KEEP_OPEN),
        E.AD_BREAK_START: Rule(playback=_KEEP_OPEN, ad={A.NONE: A.BREAK}),
        E.AD_START: Rule(playback=_KEEP_OPEN, ad={A.BREAK: A.AD}),
        E.AD_COMPLETE: Rule(playback=_KEEP_OPEN, ad={A.AD: A.BREAK}),
        E.AD_SKIP: Rule(playback=_KEEP_OPEN, ad={A.AD: A.BREAK}),
        E.AD_BREAK_COMPLETE: Rule(playback=_KEEP_OPEN, ad={A.BREAK: A.NONE}),
        E.CHAPTER_START: Rule(playback=_KEEP_OPEN, ad=_NO_AD, chapter={False: True}),
        E.CHAPTER_COMPLETE: Rule(playback=_KEEP_OPEN, ad=_NO_AD, chapter={True: False}),
        E.CHAPTER_SKIP: Rule(playback=_KEEP_OPEN, ad=_NO_AD, chapter={True: False}),
        E.STATE_START: Rule(playback=_KEEP_OPEN),
        E.STATE_END: Rule(playback=_KEEP_OPEN),
        E.STATES_UPDATE: Rule(playback=_KEEP_OPEN),
        # A post-roll runs before sessionComplete, so the content completes with no ad running.
        E.SESSION_COMPLETE: Rule(playback=dict.fromkeys(_OPEN, S.COMPLETE), ad=_NO_AD),
        E.SESSION_END: Rule(playback=dict.fromkeys((*_OPEN, S.COMPLETE), S.ENDED)),
    }
)


def advance(state: SessionState, event_type: str) -> SessionState:
    """The state after sending `event_type`, or `PlayerProtocolError` if it is not allowed."""
    # The answer depends only on the three parts and the event type, so each allowed transition
    # is worked out once and remembered (there are at most 42 states times 20 event types).
    # Refused transitions are not remembered: they raise every time. This runs for every event
    # sent and every event the collector checks.
    key = (state.playback, state.ad, state.chapter, event_type)
    known = _TRANSITIONS.get(key)
    if known is None:
        known = _TRANSITIONS[key] = _advance(state, event_type)
    return known


_TRANSITIONS: Final[dict[tuple[State, AdPhase, bool, str], SessionState]] = {}


def _advance(state: SessionState, event_type: str) -> SessionState:
    rule = RULES.get(event_type)
    if rule is None:
        raise PlayerProtocolError(event_type, str(state), "not an MCA event type")
    playback = _apply(rule.playback, state.playback, event_type, state)
    ad = _apply(rule.ad, state.ad, event_type, state)
    chapter = _apply(rule.chapter, state.chapter, event_type, state)
    if event_type == E.SESSION_END:
        # sessionEnd closes everything at once: no ad or chapter outlives the session.
        return SessionState(S.ENDED)
    return SessionState(playback, ad, chapter)


_T = TypeVar("_T")


def _apply(table: Mapping[_T, _T], value: _T, event_type: str, state: SessionState) -> _T:
    if not table:
        return value
    try:
        return table[value]
    except KeyError:
        allowed = ", ".join(sorted(allowed_events(state))) or "nothing"
        raise PlayerProtocolError(event_type, str(state), f"allowed here: {allowed}") from None


def allowed_events(state: SessionState) -> frozenset[str]:
    """The event types that may be sent in `state`."""
    return frozenset(
        event
        for event, rule in RULES.items()
        if (not rule.playback or state.playback in rule.playback)
        and (not rule.ad or state.ad in rule.ad)
        and (not rule.chapter or state.chapter in rule.chapter)
    )
