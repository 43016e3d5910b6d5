"""Viewings: who watches what, and when. A run's workload turned into players.

A `Workload` says which profiles a run plays and in what proportions, how many sessions arrive
and along which curve (`playersim.audience.arrivals`), and how many may be in progress at once.
It hands
the engine its players lazily, in order of arrival, each with its own seed key (so a session is
the same whatever else the run holds), and tells it which viewer goes on to the next episode
when one ends (binge watching). Every choice comes from seeded RNGs: same seed, same viewings.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playersim.audience.arrivals import (
    Places,
    Process,
    Ramp,
    Shape,
    closed_loop,
    poisson,
    spread,
    uniform,
    window_intensity,
)
from playersim.audience.metadata import DEFAULT_CATALOG_SEED, MetadataPool
from playersim.audience.profiles import Profile
from playersim.sim.behaviour import ViewerBehaviour
from playersim.sim.ledger import DeviceLedger
from playersim.sim.player import Player, viewer_rng

__all__ = ["DEFAULT_RATE", "Binge", "Seat", "Seats", "Workload"]

# Sessions per second when neither a rate nor a window fixes one: a session every 5 s.
DEFAULT_RATE = 0.2
# The longest autoplay countdown between two episodes, in seconds.
MAX_COUNTDOWN_S = 86_400.0


@dataclass(frozen=True)
class Workload:
    """What a run plays, as the command line's flags describe it.

    - `sessions` alone: that many sessions, arriving at `rate` (default one per 5 s);
    - `duration` with `sessions`: exactly that many, spread along the curve over the window;
    - `rate` (with or without `duration`): arrivals at that average rate, stopping at the end
      of the window or after `sessions`;
    - `concurrency` with no `rate`: a closed workload of that many viewers, each replaced as
      they finish, until `sessions` have come or the window ends (100 sessions with neither).

    The curve is each profile's `[arrivals]` shape unless `shape` overrides them all, or
    `shapes` gives one per profile. Bad numbers, and a window the curve leaves no room in, are
    refused with ValueError as the workload is made, not when the first arrival is due.
    """

    profiles: Sequence[Profile]
    start: int
    weights: Sequence[float] | None = None
    sessions: int | None = None
    duration_ms: int | None = None
    rate: float | None = None
    process: Process = "poisson"
    ramp_up_ms: int = 0
    ramp_down_ms: int = 0
    concurrency: int | None = None
    shape: Shape | None = None
    shapes: Sequence[Shape] | None = None
    _shares: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.profiles:
            raise ValueError("a workload needs at least one profile")
        weights = list(self.weights) if self.weights is not None else [1.0] * len(self.profiles)
        if len(weights) != len(self.profiles):
            raise ValueError("one weight per profile")
        if not all(math.isfinite(w) and w >= 0 for w in weights) or not any(weights):
            raise ValueError("profile weights must be finite, >= 0, with at least one above 0")
        if self.shapes is not None and len(self.shapes) != len(self.profiles):
            raise ValueError("one shape per profile")
        names = [profile.name for profile in self.profiles]
        if len(set(names)) != len(names):
            twice = next(name for name in names if names.count(name) > 1)
            raise ValueError(f"profile {twice!r} is given twice: give it once, with a weight")
        top = max(weights)  # scaled first, so that huge weights cannot overflow their sum
        scaled = [w / top for w in weights]
        object.__setattr__(self, "_shares", tuple(w / sum(scaled) for w in scaled))
        self._check_numbers()
        if self.duration_ms is not None and not self.closed:
            self._check_window()

    def _check_numbers(self) -> None:
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"the rate must be a number above 0, got {self.rate}")
        for name in ("sessions", "concurrency", "duration_ms"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.ramp_up_ms < 0 or self.ramp_down_ms < 0:
            raise ValueError("ramps cannot be negative")
        if self.ramp_down_ms and self.duration_ms is None:
            raise ValueError("a ramp down needs a duration to end at")
        if self.ramp_down_ms and self.closed:
            raise ValueError("a closed workload (a concurrency and no rate) only ramps up")
        if self.duration_ms is not None and self.ramp_up_ms + self.ramp_down_ms > self.duration_ms:
            raise ValueError("the ramps are longer than the duration")

    def _check_window(self) -> None:
        """Every profile that takes part must be able to get arrivals in the window."""
        assert self.end is not None
        for which, share in enumerate(self._shares):
            profile = self.profiles[which]
            if share and not window_intensity(
                start=self.start, end=self.end, shape=self._shape(which), ramp=self._ramp()
            ):
                ramped = " with the ramp" if self._ramp() is not None else ""
                raise ValueError(
                    f"the arrival curve of {profile.name!r}{ramped} leaves no time in the "
                    "window for sessions: every hour in it has a multiplier of 0"
                )

    @property
    def end(self) -> int | None:
        """The instant arrivals stop, when the workload has a window."""
        return None if self.duration_ms is None else self.start + self.duration_ms

    @property
    def closed(self) -> bool:
        return self.concurrency is not None and self.rate is None

    @property
    def places(self) -> Places | None:
        """A closed workload's places, opening over its ramp, for the engine to start its
        viewers in (`Engine.add_arrivals`); None for an open workload."""
        if not self.closed:
            return None
        assert self.concurrency is not None
        return Places(start=self.start, count=self.concurrency, ramp_ms=self.ramp_up_ms)

    @property
    def count(self) -> int | None:
        """The number of arrivals, when it is fixed."""
        if self.sessions is not None:
            return self.sessions
        if self.duration_ms is None:
            return 100  # the default run
        return None

    def _ramp(self) -> Ramp | None:
        if not (self.ramp_up_ms or self.ramp_down_ms):
            return None
        return Ramp(self.start, self.ramp_up_ms, self.ramp_down_ms, self.end)

    def _shape(self, which: int) -> Shape:
        if self.shapes is not None:
            return self.shapes[which]
        if self.shape is not None:
            return self.shape
        return self.profiles[which].arrivals.shape()

    def instants(self, seed: int | str) -> Iterator[tuple[int, int]]:
        """`(instant, profile index)` of every arrival, in order."""
        if (places := self.places) is not None:
            chooser = random.Random(f"{seed}:arrivals:profiles")
            shares = list(itertools.accumulate(self._shares))
            stream = closed_loop(places)
            picks = ((at, _pick(chooser, shares)) for at in stream)
            return itertools.islice(picks, self.count)
        streams = [
            _tagged(self._stream(seed, which, share), which)
            for which, share in enumerate(self._shares)
            if share > 0
        ]
        merged = heapq.merge(*streams)
        count = self.count
        return merged if count is None else itertools.islice(merged, count)

    def _stream(self, seed: int | str, which: int, share: float) -> Iterator[int]:
        profile = self.profiles[which]
        rng = random.Random(f"{seed}:arrivals:{which}:{profile.name}")
        shape, ramp = self._shape(which), self._ramp()
        count = self.count
        if self.rate is None and count is not None and self.end is not None:
            return spread(
                rng,
                count=_split(count, self._shares)[which],
                start=self.start,
                end=self.end,
                process=self.process,
                shape=shape,
                ramp=ramp,
            )
        rate = (self.rate if self.rate is not None else DEFAULT_RATE) * share
        if self.rate is None and count is not None:
            # A count with no window: arrivals at the default rate until each profile's share
            # of the count has come.
            limit = _split(count, self._shares)[which]
            return itertools.islice(self._open(rng, rate, shape, ramp), limit)
        return self._open(rng, rate, shape, ramp)

    def _open(
        self, rng: random.Random, rate: float, shape: Shape, ramp: Ramp | None
    ) -> Iterator[int]:
        if self.process == "uniform":
            return uniform(rate=rate, start=self.start, end=self.end, shape=shape, ramp=ramp)
        return poisson(rng, rate=rate, start=self.start, end=self.end, shape=shape, ramp=ramp)

    def players(
        self, seed: int | str, catalog_seed: int | str = DEFAULT_CATALOG_SEED
    ) -> Iterator[Player]:
        """The run's players, built one at a time as the engine takes them: the traffic from
        `seed`, the titles and people from `catalog_seed`."""
        pools = [
            MetadataPool.build(profile, catalog_seed) if share else None
            for profile, share in zip(self.profiles, self._shares, strict=True)
        ]  # a profile of weight 0 never plays: no catalogue to build
        # One viewing per device at a time, and human hours per person (playersim.sim.ledger):
        # each arrival's viewer is drawn from its own RNG until one is free.
        ledger = DeviceLedger()
        for index, (at, which) in enumerate(self.instants(seed)):
            profile, pool = self.profiles[which], pools[which]
            assert pool is not None
            rng = viewer_rng(seed, profile, index)
            visitor, free = ledger.pick(pool, rng, at, profile.audience.hours_per_day)
            player = Player(
                profile, seed=seed, index=index, start_at=at, metadata=pool, visitor=visitor
            )
            player.devices = ledger  # the engine holds the device as it admits the viewing
            player.crowded = not free
            yield player

    def follow_up(self, seed: int | str, catalog_seed: int | str = DEFAULT_CATALOG_SEED) -> Binge:
        """What the engine asks when a viewing ends: does the viewer watch the next episode?"""
        playing = [p for p, share in zip(self.profiles, self._shares, strict=True) if share]
        return Binge(seed, {p.name: MetadataPool.build(p, catalog_seed) for p in playing})


class Binge:
    """Autoplay: a finished episode rolls on into the next one, for a share of viewers."""

    def __init__(self, seed: int | str, pools: dict[str, MetadataPool]) -> None:
        self.seed = seed
        self.pools = pools

    def __call__(self, player: Player, ended_at: int) -> Player | None:
        profile = player.profile
        pool = self.pools.get(profile.name)
        if (
            pool is None
            or player.outcome != "completed"
            or not isinstance(player.behaviour, ViewerBehaviour)
            or profile.audience.binge_rate == 0
        ):
            return None
        after = pool.next_title(player.title)
        if after is None:
            return None
        # Its own RNG, keyed by the viewing: the decision does not depend on how the
        # finished session used its own draws.
        rng = random.Random(f"{self.seed}:{player.index}:next")
        if rng.random() >= profile.audience.binge_rate:
            return None
        # Clamped to 0 .. a day: a countdown is seconds, and the profile checks fixed values.
        countdown = min(
            MAX_COUNTDOWN_S, max(0.0, profile.audience.next_episode_seconds.sample(rng))
        )
        after_player = Player(
            profile,
            seed=self.seed,
            index=f"{player.index}.next",
            start_at=ended_at + round(countdown * 1000),
            metadata=pool,
            title=after,
            visitor=player.visitor,
        )
        # The next episode keeps the device (and the viewer) through the countdown: the engine
        # holds it for this one before it frees it from the one that ended.
        after_player.devices = player.devices
        return after_player


class Seats:
    """A closed workload's places, for a load tool that runs each viewer as its own task.

    Locust (`playersim.contrib.locust`) runs a user per concurrent viewer; each one takes a
    `Seat` and plays viewing after viewing on it, as `playersim run --concurrency N` replaces
    each viewer as they finish. A seat is named by a key (a worker's number and the user's, say):
    the same seed and key give the same viewings, in the same order, on any machine, whatever
    the other seats do. `between_s` is the pause between one viewing and the next, drawn from
    the seat's own RNG (uniform between its two bounds; none by default).

    >>> from playersim import load_profile
    >>> seats = Seats([load_profile("vod-episode")], seed=7)
    >>> first = seats.seat("0.0").next_viewing(at=0)
    >>> again = Seats([load_profile("vod-episode")], seed=7).seat("0.0").next_viewing(at=0)
    >>> (first.title, first.visitor) == (again.title, again.visitor)
    True
    """

    def __init__(
        self,
        profiles: Sequence[Profile],
        weights: Sequence[float] | None = None,
        *,
        seed: int | str = 0,
        between_s: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        # The same checks as a run's workload: one weight per profile, each named once, some > 0.
        self._mix = Workload(profiles, start=0, weights=weights)
        low, high = between_s
        if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
            raise ValueError(
                f"the pause between viewings must be 0 <= low <= high seconds, got {between_s}"
            )
        self.profiles = tuple(profiles)
        self.seed = seed
        self.between_s = (low, high)
        self._cumulative = list(itertools.accumulate(self._mix._shares))
        # Binge-watching: a finished episode rolls on into the next, as in a run.
        self.follow_up = self._mix.follow_up(seed)

    def seat(self, key: str) -> Seat:
        return Seat(self, key)

    def pool(self, which: int) -> MetadataPool:
        return MetadataPool.build(self.profiles[which])  # built once, then cached


class Seat:
    """One place in a closed workload: a viewing, then (after a pause) the next, for ever."""

    def __init__(self, seats: Seats, key: str) -> None:
        self.seats = seats
        self.key = key
        self.viewings = 0
        # The seat's own RNG: which profile each viewing plays, and the pauses between them.
        self._rng = random.Random(f"{seats.seed}:seat:{key}")

    def next_viewing(self, at: int) -> Player:
        """The seat's next viewing: the first starts at `at`, each later one a pause after."""
        seats = self.seats
        which = _pick(self._rng, seats._cumulative)
        low, high = seats.between_s
        pause_ms = round(self._rng.uniform(low, high) * 1000) if high else 0
        index = f"{self.key}.{self.viewings}"
        self.viewings += 1
        profile, pool = seats.profiles[which], seats.pool(which)
        # The viewer whatever the hour: a seat plays on the wall clock, and its viewings are the
        # same on any machine at any time of day (the hour's device shares are not applied).
        viewer = viewer_rng(seats.seed, profile, index)
        return Player(
            profile,
            seed=seats.seed,
            index=index,
            start_at=at + (pause_ms if self.viewings > 1 else 0),
            metadata=pool,
            visitor=pool.pick_visitor(viewer),
        )


def _tagged(instants: Iterator[int], which: int) -> Iterator[tuple[int, int]]:
    for at in instants:
        yield at, which


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    """An index drawn with the weights whose running totals are `cumulative`."""
    drawn = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    return min(drawn, len(cumulative) - 1)


def _split(count: int, shares: Sequence[float]) -> list[int]:
    """`count` split by `shares` with the largest remainders rounded up: exact, and stable."""
    exact = [count * share for share in shares]
    counts = [int(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: count - sum(counts)]:
        counts[i] += 1
    return counts
