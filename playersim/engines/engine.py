"""The engine: many players on one clock, their requests delivered through one transport.

Virtual time: the engine keeps a heap of player wake-ups and, on a `VirtualClock`, jumps the
clock from one wake-up to the next, so hours of traffic take seconds and a test controls time to
the millisecond (`advance(10)`). On any clock, `step()` serves whatever is due at the clock's
present instant, which is how a test under `freezegun` drives players on a `SystemClock`.

An engine is made of parts: the schedule (a heap of wake-ups, one live entry per player, with
arrivals, a concurrency limit and follow-ups), a `Sender` that takes each wake-up's bodies out
(here `Inline`: sent through a blocking transport before the next wake-up is served; the
real-time engine has one that sends from asyncio tasks), and what moves the clock (here jumps
from wake-up to wake-up; in real time, a pacer).

Each session's requests go through its `Outbox`, so none leaves before its session id is known,
one at a time, in order, sent by the `Delivery` every engine and replay share. Everything sent
is counted in `stats`, and written to the `recorder` if there is one. A run gives up on an
endpoint that stops answering by the rule every engine shares (`GiveUp`), and a stopped run
ends each open session with a sessionEnd right behind what it has in flight.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Final, Protocol

from playersim.audience.arrivals import Places
from playersim.clock import Clock, ManualClock, parse_instant
from playersim.engines.delivery import Delivery, Dialect, GiveUp, Outbox, Settled, is_async
from playersim.engines.shares import Shadow, Share
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
from playersim.mca.dialect import MCA
from playersim.mca.wire import EventType, WireBody
from playersim.sim.behaviour import ViewerBehaviour
from playersim.sim.player import Player
from playersim.transports.base import AsyncTransport, Transport
from playersim.transports.recording import Recorder

__all__ = ["Engine", "FollowUp", "Inline", "Sender"]

# The viewing a viewer goes on to when one ends at an instant (autoplay of the next episode).
FollowUp = Callable[[Player, int], Player | None]

_TICK_EVERY: Final = 2048
_SESSION_END: Final = EventType.SESSION_END.value
ENDPOINT_GONE: Final = "the endpoint stopped answering"


class Sender(Protocol):
    """How an engine's bodies go out once a wake-up has made them: the part of an engine that
    differs between a blocking transport (`Inline`) and an asyncio one (the real-time
    engine's tasks)."""

    # Whether `holds` can ever say yes (asked at every wake-up otherwise: the hot path).
    may_hold: bool

    def send(self, player: Player, outbox: Outbox, bodies: list[WireBody]) -> None:
        """A wake-up made `bodies` (a stop, its sessionEnd): queue them and see them sent."""

    def holds(self, player: Player, outbox: Outbox) -> bool:
        """Whether the player's wake-up must wait (for the answer to its sessionStart)."""

    def busy(self, player: Player) -> bool:
        """Whether the player still has requests queued or out (it is not retired till then)."""

    def busy_players(self) -> dict[Player, Outbox]:
        """The players with requests queued or out."""

    def cut(self, player: Player, outbox: Outbox, count: int) -> None:
        """A stop dropped `count` unsent bodies from the player's outbox."""

    def stopped(self) -> None:
        """The stop has queued every session's sessionEnd."""

    def retired(self, player: Player) -> None:
        """The player's viewing is over: nothing more of it will be sent."""


class Inline:
    """Sends each wake-up's bodies through a blocking transport before the next is served: the
    virtual engine's way, and the real-time engine's with an in-memory collector."""

    may_hold = False

    def __init__(self, engine: Engine, transport: Transport) -> None:
        self.engine = engine
        self.transport = transport
        self._reachable = True  # while a stop sends its sessionEnds

    def send(self, player: Player, outbox: Outbox, bodies: list[WireBody]) -> None:
        engine = self.engine
        shadow = engine.shadow
        if shadow is not None and not shadow.owns(player):
            shadow.send(player, outbox, bodies)  # another process's viewing
            return
        engine.stats.generated += len(bodies)
        outbox.push(bodies)
        if not self._reachable:
            return  # a stop found the endpoint gone: the rest is counted as dropped, not sent
        try:
            engine.delivery.drain(player, outbox, self.transport)
        except EndpointUnreachableError:
            engine.gave_up = True
            if not engine._stopped:
                raise  # (a signal may have set `stopping` mid-wake-up: the run still gives up)
            self._reachable = False

    def holds(self, player: Player, outbox: Outbox) -> bool:
        return False

    def busy(self, player: Player) -> bool:
        return False

    def busy_players(self) -> dict[Player, Outbox]:
        return {}

    def cut(self, player: Player, outbox: Outbox, count: int) -> None:
        pass

    def stopped(self) -> None:
        self.engine.delivery.unended(ENDPOINT_GONE)

    def retired(self, player: Player) -> None:
        pass


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
        transport: Transport | AsyncTransport,
        *,
        concurrency: int | None = None,
        follow_up: FollowUp | None = None,
        turn_away: bool = False,
        give_up: GiveUp | None = None,
        recorder: Recorder | None = None,
        sender: Callable[[Engine], Sender] | None = None,
        dialect: Dialect = MCA,
        share: Share | None = None,
    ) -> None:
        self.clock = clock
        # One part of a run shared between processes (`playersim.engines.shares`): every
        # viewing is played, only the share's own are sent and counted; the others are the
        # shadow's, and its line count numbers the recording's lines for the merge.
        self.shadow = Shadow(share, dialect) if share is not None else None
        # How sessions travel: the MCA's paths and bodies, or another API's (Media Edge's,
        # playersim.edge.dialect). Players are the same either way.
        self.dialect = dialect
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
        # Wake-ups, earliest first (ties in scheduling order). A player has one live entry: the
        # one `_wakes` names; an entry it was moved from stays in the heap until popped.
        self._heap: list[tuple[int, int, Player, Outbox]] = []
        self._wakes: dict[Player, int] = {}
        # Downloaded viewings that are over, by when their device is back online to send them.
        self._uploads: list[tuple[int, int, Player, Outbox]] = []
        self._uploading: set[Player] = set()
        # Whether they are sent once nothing else is left, without waiting for their instant
        # (a paced run's: the wall clock would wait hours for them).
        self.hurry_uploads = False
        self._followed: set[Player] = set()  # finished players whose next viewing is arranged
        self._stopped = False
        # How bodies go out: `Inline` through a blocking transport, unless told (the real-time
        # engine's asyncio tasks).
        if sender is not None:
            self.sender: Sender = sender(self)
        elif is_async(transport):
            raise TypeError(
                f"{type(transport).__name__} is an asyncio transport: the virtual engine sends "
                "through a blocking one (MemoryTransport, HttpTransport); RealtimeEngine takes both"
            )
        else:
            self.sender = Inline(self, transport)
        self._order = itertools.count()
        self._arrivals: Iterator[Player] = iter(())
        self._arriving: Player | None = None
        self._arrivals_until: int | None = None
        self._places: Places | None = None  # a closed workload's (`add_arrivals`)
        # Players whose delivery was cut short, and the outcome that says how: by a stop, or by
        # giving up on the endpoint. Their viewing, as the endpoint saw it, ended there,
        # whatever the simulation had them do beyond it.
        self._cut: dict[Player, str] = {}
        self.gave_up = False  # the endpoint stopped answering, and the run gave up on it

    def owns(self, player: Player) -> bool:
        """Whether this engine sends (and counts) the player's viewing: always, unless it runs
        a share of the audience and the viewing is another share's."""
        return self.shadow is None or self.shadow.owns(player)

    def add(self, player: Player) -> Player:
        """Schedule a player; it starts at its `start_at`, or now if it has none."""
        if player.start_at is None:
            player.start_at = self.clock.now()
        if player.devices is not None:
            player.devices.hold(player)  # its device and viewer are busy until it ends
        if self.owns(player):
            self.stats.arrived(player)
        outbox = Outbox(self.dialect)
        # Watched on a downloaded copy, offline: nothing goes until the device is back online.
        outbox.offline = player.offline_delay_ms is not None
        self._schedule(player, outbox)
        return player

    def add_arrivals(
        self, players: Iterable[Player], *, until: int | None = None, places: Places | None = None
    ) -> None:
        """Players that join as the clock reaches their `start_at`, in that order.

        They are taken from the iterable one at a time, when due, so a run of a million
        sessions holds only the ones in progress (and finished ones are let go). With a
        `concurrency` limit, an arrival waits for a place and starts when one frees (or, with
        `turn_away`, is counted and dropped); with `until`, arrivals still waiting at that
        instant never start.

        With `places` (a closed workload's: `Workload.places`, as many as the `concurrency`),
        an arrival starts as soon as a place is open, whatever its `start_at`: when the ramp
        opens the next place, or at once when a viewer finishes and leaves one free.
        """
        if places is not None:
            if places.count != self.concurrency:
                raise ValueError(
                    f"{places.count} places for a concurrency of {self.concurrency}: give the "
                    "engine the closed workload's concurrency"
                )
            if self.turn_away:
                raise ValueError("a closed workload's viewers wait for a place: no turn_away")
        if self._arriving is not None and (places is not None or self._places is not None):
            # (Places apply to the whole stream of arrivals, and would to those queued.)
            raise ValueError("a closed workload's arrivals are the only ones: add them alone")
        self._arrivals = itertools.chain(self._arrivals, players)
        self._arrivals_until = until
        self._places = places
        if self._arriving is None:
            self._arriving = next(self._arrivals, None)

    def _admitting(self) -> bool:
        return self._arriving is not None and (
            self.concurrency is None or self.active < self.concurrency
        )

    def _arrival_due(self) -> int | None:
        """When the next arrival can start: its `start_at`, or now if it has been held back
        (in a closed workload: when the first place not taken opens, or now if it is open)."""
        if not self._admitting():
            return None
        if (places := self._places) is not None:
            due = max(places.opens(self.active), self.clock.now())
        else:
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
                self.stats.turned_away += self.owns(self._arriving)
                self._arriving = next(self._arrivals, None)
        while self._admitting() and (due := self._arrival_due()) is not None and due <= now:
            player = self._arriving
            assert player is not None
            # Held back by the limit, it starts now (in a closed workload, maybe before the
            # instant it was made for: a place freed early).
            player.start_at = due
            self.add(player)
            self._arriving = next(self._arrivals, None)

    @property
    def active(self) -> int:
        """Players scheduled to wake (not counting those yet to arrive). A finished one whose
        last requests are still on their way holds no place: it freed it when it sent its last
        event, so a concurrency limit admits the next viewer at the same simulated instant
        whatever the network's timing."""
        return len(self._wakes)

    @property
    def next_wakeup(self) -> int | None:
        """The next instant anything is due: a player's wake-up or an arrival."""
        heap, wakes = self._heap, self._wakes
        while heap and wakes.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # superseded by a later reschedule
        wake = heap[0][0] if heap else None
        uploads = self._uploads
        if uploads and self.hurry_uploads and wake is None and self._arriving is None:
            # Nothing else left: their devices come back online now.
            now = self.clock.now()
            self._uploads = uploads = [(min(at, now), n, p, o) for at, n, p, o in uploads]
            heapq.heapify(uploads)
        if uploads and (wake is None or uploads[0][0] < wake):
            wake = uploads[0][0]
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

        What a session has not yet sent is dropped, and its `sessionEnd` goes right after its
        request in flight. What the stop did is in `stats.ending`: the sessions open on the
        endpoint, how many the sessionEnd ended, and why any could not be. (The real-time
        engine's asyncio sender sends them from its tasks: await its `wind_down()` next.)
        """
        if self._stopped:
            return
        self._stopped = self.stopping = True
        self._arriving = None
        self._arrivals = iter(())
        self.stats.ending = self.stats.ending or Ending()
        now = self.clock.now()
        # Every viewing in progress: those scheduled, and those whose requests are still going
        # out (an unpaced run's players may have finished long before their answers came).
        live = [e for e in sorted(self._heap, key=lambda e: e[:2]) if self._wakes.get(e[2]) == e[0]]
        players = {player: outbox for _, _, player, outbox in live}
        sender = self.sender
        players.update(sender.busy_players())
        self._heap = []
        self._wakes.clear()
        for player, outbox in players.items():
            if player.finished and not sender.busy(player):
                continue
            sender.send(player, outbox, self._stop_bodies(player, outbox, now))
            if not sender.busy(player):
                self._retire(player, outbox, follow=False)
        # Downloaded viewings waiting for their device: it comes back online as the run ends,
        # so what they recorded is not lost.
        uploads, self._uploads = sorted(self._uploads), []
        for _, _, player, outbox in uploads:
            self._uploading.discard(player)
            outbox.release()
            sender.send(player, outbox, [])
            if not sender.busy(player):
                self._retire(player, outbox, follow=False)
        sender.stopped()

    def _stop_bodies(self, player: Player, outbox: Outbox, now: int) -> list[WireBody]:
        """What a player stopped at `now` still sends: its own last events and sessionEnd, if
        nothing of its session waits unsent; otherwise its unsent backlog is dropped (counted)
        and a sessionEnd goes right after the last request handed out (`Outbox.cut`)."""
        own = player.stop(now)
        if not self.owns(player):
            if outbox.offline:
                outbox.release()
            return own  # another process's viewing: that process ends it
        if outbox.offline:
            # Watched offline: nothing of it is open on the endpoint. What it recorded, with
            # its end, goes now, whole, as the device comes back online with the run's end.
            outbox.release()
            return own
        if outbox.backlog:
            self._cut[player] = OUTCOME_STOPPED
            before = len(outbox)
            dropped, end = outbox.cut()
            self.stats.drop(dropped, STOPPED)
            self.sender.cut(player, outbox, before - len(outbox))
            own = [end] if end is not None else []
        if own and own[-1]["eventType"] == _SESSION_END:
            self.delivery.expect_end(player, outbox)
        return own

    def _record(self, settled: Settled) -> None:
        assert self.recorder is not None
        seq = None
        if (shadow := self.shadow) is not None:
            # The line's number in the whole run's recording, for the merge.
            seq = shadow.lines
            shadow.lines += 1
        self.recorder.write(
            settled.request, settled.response, sid=settled.sid, error=settled.error, seq=seq
        )

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
            self._wakes.pop(player, None)
            if player not in self._followed and player.outcome == "completed":
                # Its next viewing is arranged when it ends, not when its last answer comes
                # back: so it starts at the same instant and takes its place under a
                # concurrency limit at the same moment, whatever the network's timing.
                self._followed.add(player)
                self._follow(player)
            if player.devices is not None:
                # Its device and viewer are free from its last event (unless its next episode
                # has them): so whatever the network's timing, the same arrivals find them free.
                player.devices.release(player)
            if outbox.offline and not outbox.released:
                self._offline(player, outbox)
                return
            if self.sender.busy(player):
                return  # retired when its last request is answered
            self._retire(player, outbox, follow=player not in self._followed)
            self._followed.discard(player)
            return
        if self._wakes.get(player) != wake:
            self._wakes[player] = wake
            heapq.heappush(self._heap, (wake, next(self._order), player, outbox))

    def _offline(self, player: Player, outbox: Outbox) -> None:
        """A downloaded viewing is over: its sessions go when its device is back online."""
        if player in self._uploading:
            return  # (told again by a delivery that finished: it is waiting already)
        self._uploading.add(player)
        if player not in self._followed:
            # What it leads to starts when it ended, not when the device comes back.
            self._followed.add(player)
            self._follow(player)
        now = self.clock.now()
        ended = player.last_event_at
        online = (now if ended is None else ended) + (player.offline_delay_ms or 0)
        # (Its last event may be long before the viewer left: a pause that closed its
        # session. The device cannot come back online before now.)
        heapq.heappush(self._uploads, (max(online, now), next(self._order), player, outbox))

    def _upload(self, player: Player, outbox: Outbox) -> None:
        """Its device is back online: send what it recorded, and let it go once answered."""
        self._uploading.discard(player)
        outbox.release()
        self.sender.send(player, outbox, [])
        self._schedule(player, outbox)

    def _serve_until(self, now: int) -> None:
        uploads = self._uploads
        while uploads and uploads[0][0] <= now:
            _, _, player, outbox = heapq.heappop(uploads)
            self._upload(player, outbox)
        self._admit(now)
        heap, wakes, sender = self._heap, self._wakes, self.sender
        may_hold = sender.may_hold
        while heap and heap[0][0] <= now:
            wake, _, player, outbox = heap[0]
            if wakes.get(player) != wake:
                heapq.heappop(heap)
                continue  # superseded by a later reschedule
            if may_hold and sender.holds(player, outbox):
                return  # its sessionStart is unanswered: the sender holds the run here
            heapq.heappop(heap)
            del wakes[player]
            try:
                sender.send(player, outbox, player.due(now))
            except EndpointUnreachableError:
                self._abandon(player, outbox)
                raise
            except BaseException:
                self._schedule(player, outbox)  # cut short: still in progress, for stop() to end
                raise
            self._schedule(player, outbox)

    def _follow(self, player: Player) -> None:
        """Start the viewing this one leads to (the next episode), if any."""
        if self.follow_up is None or self.stopping:
            return  # a run winding down starts nothing new
        # When the viewing ended, not when the engine noticed (a late answer, in real time).
        ended = player.last_event_at
        after = self.follow_up(player, self.clock.now() if ended is None else ended)
        if after is not None:
            self.stats.follow_ups += self.owns(after)
            self.add(after)

    def _abandon(self, player: Player, outbox: Outbox) -> None:
        """The run gave up on the endpoint with this viewing in progress: it is cut off, and
        what it had not sent is counted as such."""
        self._cut.setdefault(player, OUTCOME_CUT_OFF)
        self._retire(player, outbox, follow=False)

    def _retire(self, player: Player, outbox: Outbox, *, follow: bool = True) -> None:
        """The viewing is over: count its outcome, and what it leaves unsent, and why."""
        self.sender.retired(player)
        if not self.owns(player):
            # Another process's viewing: it counts it. Its device is free all the same.
            self._cut.pop(player, None)
            if follow:
                self._follow(player)
            if player.devices is not None:
                player.devices.release(player)
            return
        self.stats.drop(outbox.dropped, NOT_OPEN)
        outbox.dropped = 0
        # Left in its queue: the run gave up on the endpoint, or was stopped, before it went.
        self.stats.drop(len(outbox), GAVE_UP if self.gave_up else STOPPED)
        # A viewing with no outcome of its own: a script that ran out with its session open.
        self.stats.outcomes[self._cut.pop(player, "") or player.outcome or "unfinished"] += 1
        if follow:
            self._follow(player)
        if player.devices is not None:  # cut short (a stop, an endpoint given up on)
            player.devices.release(player)
        if not isinstance(player.behaviour, ViewerBehaviour):
            return  # scripted viewers follow their script, not the profile's distributions
        name = player.profile.name
        if name not in self.stats.behaviour:
            self.stats.behaviour[name] = BehaviourStats()
            self.stats.profiles[name] = player.profile
        self.stats.behaviour[name].add(player)
