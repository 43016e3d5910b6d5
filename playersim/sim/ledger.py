"""Who is watching on which device: one session per device, and human viewing hours.

A run's arrivals are drawn independently, so left alone they would give a busy person's browser
two sessions at once, or a heavy viewer forty hours of video in a day. The ledger of a run
knows which devices and which people are watching now, and how long each person has watched
in the last 24 hours: a new viewing goes to someone free (a person watches one thing at a
time, a household's TV plays one session at a time) and under their daily hours
(`[audience] hours_per_day`). Autoplay's next episode keeps the device of the one before it.

The engine tells the ledger when a viewing is over (the instant of its last event). The
ledger only ever refuses a pick, so every choice still comes from the viewing's own seeded
RNG: same seed, same viewers.
"""

from __future__ import annotations

import random
from collections import deque
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from playersim.audience.metadata import MetadataPool, Visitor

__all__ = ["DeviceLedger", "Viewing"]


class Viewing(Protocol):
    """What the ledger knows of a viewing (a `Player`): who watches, and from when to when."""

    visitor: Visitor
    start_at: int | None
    devices: DeviceLedger | None

    @property
    def last_event_at(self) -> int | None: ...


_DAY_MS: Final = 86_400_000
# Picks tried before a viewing goes to someone already watching: only an audience far too
# small for the run's concurrency runs out of free people (the summary counts them).
_TRIES: Final = 60


class DeviceLedger:
    """The devices and people watching now, and each person's viewing over the last day."""

    def __init__(self) -> None:
        self._devices: dict[str, Viewing] = {}  # device (visitor id) -> the viewing on it
        self._people: dict[int, Viewing] = {}  # person -> the viewing they are watching
        self._watched: dict[int, deque[tuple[int, int]]] = {}  # person -> (start, end) spans

    def busy(self) -> tuple[int, int]:
        """How many devices and people are watching now."""
        return len(self._devices), len(self._people)

    def free(self, visitor: Visitor, at: int, hours_per_day: float) -> bool:
        """Whether this device and person can start a viewing at `at`."""
        if visitor.visitor_id in self._devices or visitor.person in self._people:
            return False
        spans = self._watched.get(visitor.person)
        if not spans:
            return True
        while spans and spans[0][1] <= at - _DAY_MS:
            spans.popleft()
        watched = sum(end - max(start, at - _DAY_MS) for start, end in spans)
        return watched < hours_per_day * 3_600_000

    def pick(
        self, pool: MetadataPool, rng: random.Random, at: int, hours_per_day: float
    ) -> tuple[Visitor, bool]:
        """A viewer for a viewing starting at `at`, drawn from the pool until one is free, and
        whether they are (False: the audience is too small, and this one is busy)."""
        people = self._people
        viewer = pool.pick_viewer(rng, at)
        for _ in range(_TRIES):
            # Someone watching already is turned away before their Visitor is made: in an
            # audience too small for the run nearly every try is such a one, and making the
            # device and ids of every try was most of a run's time (20,000 live viewers of
            # 6,000 people: 980,501 Visitors made for 21,207 arrivals, 81% of the CPU).
            if viewer.person not in people:
                visitor = pool.visitor_of(viewer)
                if self.free(visitor, at, hours_per_day):
                    return visitor, True
            viewer = pool.pick_viewer(rng, at)
        return pool.visitor_of(viewer), False

    def hold(self, player: Viewing) -> None:
        """The player's viewing has the device and the person until it ends (the engine
        calls this as it admits the viewing: one turned away holds nothing)."""
        player.devices = self
        self._devices[player.visitor.visitor_id] = player
        self._people[player.visitor.person] = player

    def release(self, player: Viewing) -> None:
        """The player's viewing is over: its device and person are free (unless already
        taken on, by autoplay's next episode), and its span counts toward the person's day."""
        visitor = player.visitor
        if self._devices.get(visitor.visitor_id) is player:
            del self._devices[visitor.visitor_id]
        if self._people.get(visitor.person) is player:
            del self._people[visitor.person]
        start, end = player.start_at, player.last_event_at
        if start is not None and end is not None and end > start:
            self._watched.setdefault(visitor.person, deque()).append((start, end))
        player.devices = None  # released once
