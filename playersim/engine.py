"""The engine: many players on one clock, their requests delivered through one transport.

Virtual time: the engine keeps a heap of player wake-ups and, on a `VirtualClock`, jumps the
clock from one wake-up to the next, so hours of traffic take seconds and a test controls time to
the millisecond (`advance(10)`). On any clock, `step()` serves whatever is due at the clock's
present instant, which is how a test under `freezegun` drives players on a `SystemClock`.

The engine owns delivery: each session's requests go through its `Outbox`, so none leaves before
its session id is known, one at a time, in order. Everything sent is counted in `stats`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Final

from playersim.behaviour import ViewerBehaviour
from playersim.clock import Clock, ManualClock, parse_instant
from playersim.delivery import Outbox
from playersim.errors import EndpointUnreachableError, TransportError
from playersim.player import Player
from playersim.summary import BehaviourStats, RunStats
from playersim.transport import Transport

__all__ = ["Engine"]

# Requests in a row that got no answer at all before a run gives up on the endpoint.
MAX_CONSECUTIVE_UNANSWERED: Final = 20


class Engine:
    """Runs players against a transport, on a clock.

    >>> from playersim import Collector, MemoryTransport, VirtualClock, load_profile
    >>> clock = VirtualClock("2026-11-27T12:00:00Z")
    >>> collector = Collector(clock)
    >>> engine = Engine(clock, MemoryTransport(collector))
    >>> player = engine.add(Player(load_profile("live-news"), seed=1))
    >>> engine.advance(60)
    >>> collector.sessions[0].event_types[:3]
    ['sessionStart', 'adBreakStart', 'adStart']
    """

    def __init__(self, clock: Clock, transport: Transport) -> None:
        self.clock = clock
        self.transport = transport
        self.stats = RunStats()
        self._heap: list[tuple[int, int, Player, Outbox]] = []
        self._order = itertools.count()
        self._unanswered = 0
        self._arrivals: Iterator[Player] = iter(())
        self._arriving: Player | None = None

    def add(self, player: Player) -> Player:
        """Schedule a player; it starts at its `start_at`, or now if it has none."""
        if player.start_at is None:
            player.start_at = self.clock.now()
        self.stats.sessions += 1
        self._schedule(player, Outbox())
        return player

    def add_arrivals(self, players: Iterable[Player]) -> None:
        """Players that join as the clock reaches their `start_at`, in that order.

        They are taken from the iterable one at a time, when due, so a run of a million
        sessions holds only the ones in progress (and finished ones are let go).
        """
        self._arrivals = itertools.chain(self._arrivals, players)
        if self._arriving is None:
            self._arriving = next(self._arrivals, None)

    @property
    def active(self) -> int:
        """Players that still have something to send (not counting those yet to arrive)."""
        return len(self._heap)

    @property
    def next_wakeup(self) -> int | None:
        """The next instant anything is due: a player's wake-up or an arrival."""
        candidates = []
        if self._heap:
            candidates.append(self._heap[0][0])
        if self._arriving is not None:
            assert self._arriving.start_at is not None
            candidates.append(self._arriving.start_at)
        return min(candidates) if candidates else None

    # --- moving time ---------------------------------------------------------------------------

    def step(self) -> None:
        """Serve every player whose wake-up is due at the clock's present instant."""
        self._serve_until(self.clock.now())

    def advance(self, seconds: float) -> None:
        """Move a virtual clock forward by `seconds`, serving every wake-up on the way."""
        self.advance_to(self.clock.now() + round(seconds * 1000))

    def advance_to(self, instant: str | int | datetime) -> None:
        """Move a virtual clock forward to `instant`, serving every wake-up on the way."""
        clock = self._manual_clock()
        target = parse_instant(instant)
        while (wake := self.next_wakeup) is not None and wake <= target:
            clock.advance_to(wake)
            self._serve_until(wake)
        clock.advance_to(target)

    def run(self, until: str | int | datetime | None = None) -> None:
        """Serve wake-ups until every player has finished (or until `until`)."""
        clock = self._manual_clock()
        if until is not None:
            self.advance_to(until)
            return
        while (wake := self.next_wakeup) is not None:
            clock.advance_to(wake)
            self._serve_until(wake)

    def _manual_clock(self) -> ManualClock:
        if not isinstance(self.clock, ManualClock):
            raise TypeError(
                f"{self.clock!r} cannot be moved by the engine: use step() as time passes, "
                "or give the engine a VirtualClock"
            )
        return self.clock

    # --- serving players ------------------------------------------------------------------------

    def _schedule(self, player: Player, outbox: Outbox) -> None:
        wake = player.next_wakeup
        if wake is None:
            self._retire(player, outbox)
        else:
            heapq.heappush(self._heap, (wake, next(self._order), player, outbox))

    def _serve_until(self, now: int) -> None:
        while self._arriving is not None and (self._arriving.start_at or 0) <= now:
            self.add(self._arriving)
            self._arriving = next(self._arrivals, None)
        while self._heap and self._heap[0][0] <= now:
            _, _, player, outbox = heapq.heappop(self._heap)
            bodies = player.due(now)
            self.stats.generated += len(bodies)
            outbox.push(bodies)
            try:
                self._deliver(player, outbox)
            except EndpointUnreachableError:
                self._retire(player, outbox)  # counted in the summary like every other
                raise
            self._schedule(player, outbox)

    def _deliver(self, player: Player, outbox: Outbox) -> None:
        send = self.transport.send  # looked up once: this loop runs for every request
        while (request := outbox.next_request()) is not None:
            try:
                response = send(request)
            except TransportError as exc:
                self._unanswered += 1
                outbox.settle(request, None)
                self.stats.record(request, None, exc.reason)
                player.on_response(request.event_type, None)
                if self._unanswered >= MAX_CONSECUTIVE_UNANSWERED:
                    raise EndpointUnreachableError(
                        f"gave up after {self._unanswered} requests in a row got no answer "
                        f"(last: {exc})"
                    ) from exc
                continue
            self._unanswered = 0
            outbox.settle(request, response)
            self.stats.record(request, response)
            player.on_response(request.event_type, response.status, sid=response.sid)

    def _retire(self, player: Player, outbox: Outbox) -> None:
        self.stats.dropped += outbox.dropped + len(outbox)
        self.stats.outcomes[player.outcome or "unfinished"] += 1
        if not isinstance(player.behaviour, ViewerBehaviour):
            return  # scripted viewers follow their script, not the profile's distributions
        name = player.profile.name
        if name not in self.stats.behaviour:
            self.stats.behaviour[name] = BehaviourStats()
            self.stats.profiles[name] = player.profile
        self.stats.behaviour[name].add(player)
