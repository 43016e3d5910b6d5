"""The engine: many players on one clock, their requests delivered through one transport.

Virtual time: the engine keeps a heap of player wake-ups and, on a `VirtualClock`, jumps the
clock from one wake-up to the next, so hours of traffic take seconds and a test controls time to
the millisecond (`advance(10)`). On any clock, `step()` serves whatever is due at the clock's
present instant, which is how a test under `freezegun` drives players on a `SystemClock`.

Each session's requests go through its `Outbox`, so none leaves before its session id is known,
one at a time, in order, sent by the `Delivery` every engine and replay share (its blocking
driver here). Everything sent is counted in `stats`, and written to the `recorder` if there is
one. A run gives up on an endpoint that stops answering by the rule every engine shares
(`GiveUp`), and a stopped run ends each open session with a sessionEnd right behind what it has
in flight.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Final

from playersim.clock import Clock, ManualClock, parse_instant
from playersim.engines.delivery import Delivery, GiveUp, Outbox, Settled, end_refused
from playersim.engines.summary import (
    GAVE_UP,
    NOT_OPEN,
    OUTCOME_CUT_OFF,
    OUTCOME_STOPPED,
    STOPPED,
    BehaviourStats,
    Ending,
    RunStats,
)
from playersim.errors import EndpointUnreachableError
from playersim.mca.wire import EventType, WireBody
from playersim.sim.behaviour import ViewerBehaviour
from playersim.sim.player import Player
from playersim.transports.base import Transport
from playersim.transports.recording import Recorder

__all__ = ["Engine", "FollowUp", "end_refused"]

# The viewing a viewer goes on to when one ends at an instant (autoplay of the next episode).
FollowUp = Callable[[Player, int], Player | None]

_TICK_EVERY: Final = 2048
_SESSION_END: Final = EventType.SESSION_END.value
ENDPOINT_GONE: Final = "the endpoint stopped answering"


class Engine:
    """Runs players against a transport, on a clock.

    >>> from playersim import Collector, MemoryTransport, VirtualClock, load_profile
    >>> clock = VirtualClock("2026-11-27T12:00:00Z")
    >>> collector = Collector(clock)
    >>> engine = Engine(clock, MemoryTransport(collector))
    >>> player = engine.add(Player(load_profile("live-news"), seed=2))
    >>> engine.advance(60)
    >>> collector.sessions[0].event_types[:3]
    ['sessionStart', 'adBreakStart', 'adStart']
    """

    def __init__(
        self,
        clock: Clock,
        transport: Transport,
        *,
        concurrency: int | None = None,
        follow_up: FollowUp | None = None,
        turn_away: bool = False,
        give_up: GiveUp | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.clock = clock
        # When the run gives up on an endpoint that answers nothing (default: 30 s of silence;
        # `GiveUp(math.inf)` never does).
        self.give_up = give_up if give_up is not None else GiveUp()
        # Set (by a signal handler, say) to make `run()` return after the wake-up in hand:
        # between two wake-ups every player and outbox is in a consistent state to stop.
        self.stopping = False
        self.transport = transport
        self.stats = RunStats()
        self.delivery = Delivery(self.stats, self.give_up)
        # Every settled request is written to the recording as it settles: in the order the
        # requests were generated, since a blocking engine settles each before the next.
        self.recorder = recorder
        if recorder is not None:
            self.delivery.hooks.append(self._record)
        # At most this many sessions at once: an arrival beyond it waits for a place to free.
        self.concurrency = concurrency
        # With the limit reached: an arrival waits for a place (False), or is turned away.
        self.turn_away = turn_away
        # Asked as each viewing ends: the viewer's next one (the next episode), or None.
        self.follow_up = follow_up
        self._heap: list[tuple[int, int, Player, Outbox]] = []
        self._order = itertools.count()
        self._arrivals: Iterator[Player] = iter(())
        self._arriving: Player | None = None
        self._arrivals_until: int | None = None
        # Players whose delivery was cut short, and the outcome that says how: by a stop, or by
        # giving up on the endpoint. Their viewing, as the endpoint saw it, ended there,
        # whatever the simulation had them do beyond it.
        self._cut: dict[Player, str] = {}
        self.gave_up = False  # the endpoint stopped answering, and the run gave up on it

    def add(self, player: Player) -> Player:
        """Schedule a player; it starts at its `start_at`, or now if it has none."""
        if player.start_at is None:
            player.start_at = self.clock.now()
        self.stats.arrived(player)
        self._schedule(player, Outbox())
        return player

    def add_arrivals(self, players: Iterable[Player], *, until: int | None = None) -> None:
        """Players that join as the clock reaches their `start_at`, in that order.

        They are taken from the iterable one at a time, when due, so a run of a million
        sessions holds only the ones in progress (and finished ones are let go). With a
        `concurrency` limit, an arrival waits for a place and starts when one frees (or, with
        `turn_away`, is counted and dropped); with `until`, arrivals still waiting at that
        instant never start.
        """
        self._arrivals = itertools.chain(self._arrivals, players)
        self._arrivals_until = until
        if self._arriving is None:
            self._arriving = next(self._arrivals, None)

    def _admitting(self) -> bool:
        return self._arriving is not None and (
            self.concurrency is None or self.active < self.concurrency
        )

    def _arrival_due(self) -> int | None:
        """When the next arrival can start: its `start_at`, or now if it has been held back."""
        if not self._admitting():
            return None
        start_at = self._arriving.start_at if self._arriving is not None else None
        assert start_at is not None, "arrivals come with a start_at"
        due = max(start_at, self.clock.now())
        if self._arrivals_until is not None and due > self._arrivals_until:
            self._arriving = None  # the window closed while it waited for a place
            self._arrivals = iter(())
            return None
        return due

    def _admit(self, now: int) -> None:
        if self.turn_away:
            # An arrival that came while every place was taken is turned away, not kept
            # waiting: a full service loses viewers, and the backlog cannot grow without end.
            while (
                self._arriving is not None
                and (self._arriving.start_at or 0) <= now
                and not self._admitting()
            ):
                self.stats.turned_away += 1
                self._arriving = next(self._arrivals, None)
        while self._admitting() and (due := self._arrival_due()) is not None and due <= now:
            player = self._arriving
            assert player is not None
            player.start_at = due  # held back by the limit: it starts now
            self.add(player)
            self._arriving = next(self._arrivals, None)

    @property
    def active(self) -> int:
        """Players that still have something to send (not counting those yet to arrive)."""
        return len(self._heap)

    @property
    def next_wakeup(self) -> int | None:
        """The next instant anything is due: a player's wake-up or an arrival."""
        wake = self._heap[0][0] if self._heap else None
        if self._arriving is not None and (arrival := self._arrival_due()) is not None:
            return arrival if wake is None or arrival < wake else wake
        return wake

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

    def run(
        self, until: str | int | datetime | None = None, *, tick: Callable[[], None] | None = None
    ) -> None:
        """Serve wake-ups until every player has finished (or until `until`).

        `tick`, if given, is called every few thousand wake-ups (to draw progress, say).
        """
        clock = self._manual_clock()
        if until is not None:
            self.advance_to(until)
            return
        served = 0
        while (wake := self.next_wakeup) is not None and not self.stopping:
            clock.advance_to(wake)
            self._serve_until(wake)
            served += 1
            if tick is not None and not served % _TICK_EVERY:
                tick()

    def stop(self) -> None:
        """End every session in progress now, with a `sessionEnd` each, delivered, and start
        no more arrivals: a run interrupted by Ctrl-C or SIGTERM winds down this way.

        What the stop did is in `stats.ending`: the sessions open on the endpoint, how many
        the sessionEnd ended, and why any could not be.
        """
        self.stopping = True
        self._arriving = None
        self._arrivals = iter(())
        self.stats.ending = self.stats.ending or Ending()
        now = self.clock.now()
        entries, self._heap = sorted(self._heap, key=lambda entry: entry[:2]), []
        reachable = True
        for _, _, player, outbox in entries:
            self._push(player, outbox, self._stop_bodies(player, outbox, now))
            if reachable:
                try:
                    self._deliver(player, outbox)
                except EndpointUnreachableError:
                    reachable = False  # the rest are counted as dropped, not sent into the void
            self._retire(player, outbox, follow=False)
        self.delivery.unended(ENDPOINT_GONE)

    def _stop_bodies(self, player: Player, outbox: Outbox, now: int) -> list[WireBody]:
        """What a player stopped at `now` still sends: its own last events and sessionEnd, if
        nothing of its session waits unsent; otherwise its unsent backlog is dropped (counted)
        and a sessionEnd goes right after the last request handed out (`Outbox.cut`)."""
        own = player.stop(now)
        if outbox.backlog:
            self._cut[player] = OUTCOME_STOPPED
            dropped, end = outbox.cut()
            self.stats.drop(dropped, STOPPED)
            own = [end] if end is not None else []
        if own and own[-1]["eventType"] == _SESSION_END:
            self.delivery.expect_end(player, outbox)
        return own

    def _push(self, player: Player, outbox: Outbox, bodies: list[WireBody]) -> None:
        self.stats.generated += len(bodies)
        outbox.push(bodies)

    def _record(self, settled: Settled) -> None:
        assert self.recorder is not None
        self.recorder.write(settled.request, settled.response, sid=settled.sid, error=settled.error)

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
        self._admit(now)
        while self._heap and self._heap[0][0] <= now:
            _, _, player, outbox = heapq.heappop(self._heap)
            bodies = player.due(now)  # (`_push`, inline: this runs at every wake-up)
            self.stats.generated += len(bodies)
            outbox.push(bodies)
            try:
                self._deliver(player, outbox)
            except EndpointUnreachableError:
                self._abandon(player, outbox)
                raise
            except BaseException:
                self._schedule(player, outbox)  # cut short: still in progress, for stop() to end
                raise
            self._schedule(player, outbox)

    def _deliver(self, player: Player, outbox: Outbox) -> None:
        try:
            self.delivery.drain(player, outbox, self.transport)
        except EndpointUnreachableError:
            self.gave_up = True
            raise

    def _follow(self, player: Player) -> None:
        """Start the viewing this one leads to (the next episode), if any."""
        if self.follow_up is None or self.stopping:
            return  # a run winding down starts nothing new
        # When the viewing ended, not when the engine noticed (a late answer, in real time).
        ended = player.last_event_at
        after = self.follow_up(player, self.clock.now() if ended is None else ended)
        if after is not None:
            self.stats.follow_ups += 1
            self.add(after)

    def _abandon(self, player: Player, outbox: Outbox) -> None:
        """The run gave up on the endpoint with this viewing in progress: it is cut off, and
        what it had not sent is counted as such."""
        self._cut.setdefault(player, OUTCOME_CUT_OFF)
        self._retire(player, outbox, follow=False)

    def _retire(self, player: Player, outbox: Outbox, *, follow: bool = True) -> None:
        """The viewing is over: count its outcome, and what it leaves unsent, and why."""
        self.stats.drop(outbox.dropped, NOT_OPEN)
        outbox.dropped = 0
        # Left in its queue: the run gave up on the endpoint, or was stopped, before it went.
        self.stats.drop(len(outbox), GAVE_UP if self.gave_up else STOPPED)
        # A viewing with no outcome of its own: a script that ran out with its session open.
        self.stats.outcomes[self._cut.pop(player, "") or player.outcome or "unfinished"] += 1
        if follow:
            self._follow(player)
        if not isinstance(player.behaviour, ViewerBehaviour):
            return  # scripted viewers follow their script, not the profile's distributions
        name = player.profile.name
        if name not in self.stats.behaviour:
            self.stats.behaviour[name] = BehaviourStats()
            self.stats.profiles[name] = player.profile
        self.stats.behaviour[name].add(player)
