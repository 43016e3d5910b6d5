"""Behaviour: what the viewer does, and when. The state machine decides only what is allowed.

A behaviour is asked, after every action, for the next one: "given where the session is now,
what happens next, and at what instant?" It answers with a `Decision`, or None when the viewer has
nothing more to do. The profile-driven `ViewerBehaviour` draws its choices from the session's RNG;
a scripted timeline is just another behaviour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from playersim.profiles import Profile
from playersim.states import State

__all__ = ["Action", "Behaviour", "Decision", "SessionView", "ViewerBehaviour"]


class Action(StrEnum):
    """What a viewer (or their player) does. The player turns each into MCA events."""

    PLAY = "play"  # first frame, or resume after a stop
    COMPLETE = "complete"  # main content reached its end
    LEAVE = "leave"  # the viewer closes the player


@dataclass(frozen=True, slots=True)
class Decision:
    """Do `action` at instant `at` (UTC milliseconds)."""

    at: int
    action: Action


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a behaviour may know about the session it drives, at the instant it is asked."""

    now: int
    state: State
    started_at: int  # the sessionStart instant
    playhead_ms: int
    remaining_ms: int  # on-demand content left to play; 0 for live
    live: bool


class Behaviour(Protocol):
    """Decides the viewer's next action. Must be deterministic given its own state."""

    def next(self, view: SessionView) -> Decision | None: ...


class ViewerBehaviour:
    """A viewer whose choices follow the profile's distributions, drawn from the session RNG.

    Everything is drawn up front, in a fixed order, so the same seed gives the same viewer no
    matter when or how often the player is asked.
    """

    def __init__(self, profile: Profile, rng: random.Random, *, length_ms: int) -> None:
        viewing = profile.viewing
        self.startup_ms = max(1, round(viewing.startup_seconds.sample(rng) * 1000))
        self.live = profile.content.live
        if self.live:
            self.completes = False
            self.watch_ms = max(1000, round(viewing.watch_seconds.sample(rng) * 1000))
        else:
            rate = viewing.completion_rate or 0.0
            self.completes = rng.random() < rate
            self.watch_ms = self._abandon_point(profile, rng, length_ms)
        self._playing_since: int | None = None

    @staticmethod
    def _abandon_point(profile: Profile, rng: random.Random, length_ms: int) -> int:
        # Viewers who leave early leave before the end: redraw the few draws that land past it,
        # and fall back to anywhere in the content for a distribution that rarely fits.
        for _ in range(20):
            watch = round(profile.viewing.watch_seconds.sample(rng) * 1000)
            if 1000 <= watch < length_ms - 1000:
                return watch
        return rng.randrange(1, max(2, length_ms - 1))

    def next(self, view: SessionView) -> Decision | None:
        if view.state is State.WAITING:
            return Decision(view.now + self.startup_ms, Action.PLAY)
        if view.state is State.PLAYING:
            if self._playing_since is None:
                self._playing_since = view.now
            if self.live:
                return Decision(self._playing_since + self.watch_ms, Action.LEAVE)
            content_end = view.now + view.remaining_ms
            if self.completes:
                return Decision(content_end, Action.COMPLETE)
            return Decision(min(self._playing_since + self.watch_ms, content_end), Action.LEAVE)
        return None
