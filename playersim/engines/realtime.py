"""Real time: the same players and engine, paced to the wall clock on asyncio.

`RealtimeEngine` serves exactly the wake-ups the virtual engine serves, in the same order, with
the same simulated instants: it only waits, before each, for the wall clock to reach it (a
`Pacer`, at `speed` simulated seconds per wall second). So a seed gives the same traffic in real
time as in virtual time, and the timestamps on the wire are the instants events were due, not the
instants a busy machine got round to them. How late each request went out is measured
(`lateness`, in wall milliseconds, p50/p99 for pings and for all requests).

The engine is the virtual one's schedule with another clock driver and, over an asyncio transport,
another sender (`Tasks`): each session's requests go out from a task of their own, one in flight
per session, so a slow answer holds back that session only; the scheduler never waits on the
network. With a blocking transport (the in-memory collector) requests go out inline (`Inline`),
which is cheapest and keeps the collector's view identical to a virtual run.

At `speed=math.inf` nothing is paced: this is virtual time over an asyncio transport, as fast as
the endpoint answers, with up to `in_flight` requests out at once (each from a different
session). A player hears the answer to its sessionStart before its next wake-up is served, as in
a virtual run, so from an endpoint that accepts what it is sent the traffic is a virtual run's,
byte for byte. (A player that loses its session hears of it when its 404 comes back, as a real
one does, so the re-opened session starts a little later than in a virtual run.)

Cancelled (Ctrl-C, SIGTERM), `run_async` ends every open session: what a session had not yet
sent is dropped (an unpaced run may be hours of events ahead of its answers), its `sessionEnd`
goes right after its request in flight, and the run waits up to `WIND_DOWN_S` for the answers.
An endpoint that stops answering is given up on by the rule every engine shares (`GiveUp`),
watched by a timer: however long each request's retries would take, and whichever queue waits.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import math
from collections import deque
from typing import Final, Protocol

from playersim.clock import ManualClock, Pacer
from playersim.engines.delivery import (
    Dialect,
    GiveUp,
    Listener,
    Outbox,
    Senders,
    Settled,
    is_async,
)
from playersim.engines.engine import Engine, FollowUp, Inline
from playersim.engines.shares import Shadow, Share
from playersim.engines.summary import OUTCOME_CUT_OFF, OUTCOME_STOPPED, Ending, Lateness
from playersim.errors import EndpointUnreachableError
from playersim.mca.api import Request, Response
from playersim.mca.dialect import MCA
from playersim.mca.wire import WireBody
from playersim.sim.player import Player
from playersim.transports.base import AsyncTransport, Transport
from playersim.transports.recording import Recorder

__all__ = ["RealtimeEngine", "Tasks"]

# A generation-2 threshold no run reaches: full collections wait until the run is over.
_NO_FULL_COLLECTIONS: Final = 1 << 30
# Requests out at once when not paced, unless told (`in_flight`).
DEFAULT_IN_FLIGHT: Final = 100
# How long a run that is interrupted waits for its sessions' last requests to be answered.
WIND_DOWN_S: Final = 10.0
# Why sessions were not ended, when a second Ctrl-C cut the run short.
CUT_SHORT: Final = "the wind-down was cut short (interrupted again)"
NOT_ENDED_TWICE: Final = "interrupted again before they could be ended"
# A session whose last event handed out was one of these needs no sessionEnd of a stop.
_ENDINGS: Final = frozenset({"sessionEnd", "sessionComplete"})
# Requests waiting behind answers, across sessions, before an unpaced run waits: what a slow
# endpoint can make a run hold (a few MB), and enough for one slow session not to hold up the rest.
_MAX_QUEUED: Final = 20_000
# A scheduler that is behind still lets other coroutines (progress, deliveries) run this often.
_YIELD_EVERY_S: Final = 0.05
# How often the young generations are collected while a run holds off full collections.
_COLLECT_YOUNG_EVERY_S: Final = 0.01


class _YoungCollections:
    """Collects the cyclic collector's young generations on the run's own beat: generation 0
    every `_COLLECT_YOUNG_EVERY_S` of wall time, and generation 1 every so many of those (its
    threshold), when the loop has time to spare before its next wake-up (or has been behind
    for a while, or is not paced).

    CPython starts a young collection when allocations outnumber deallocations by its
    threshold (700), and a deallocation counts whatever its generation. With tens of thousands
    of sessions in progress, the old objects freed as sessions end keep that count down while
    live young objects (heap entries, decisions, bodies waiting) pile up: 130,000 of them were
    found in one collection of 20,000 live viewers, a pause of 100 ms (a generation-1 one with
    as many, 260 ms at 50,000), and every request due meanwhile went out that late. Collected
    every 10 ms, the young generations hold what 10 ms leave, and a collection takes about a
    millisecond: the same work, in slices.
    """

    __slots__ = ("_at", "_every", "_runs")

    def __init__(self, now: float) -> None:
        self._at = now
        self._runs = 0
        self._every = max(1, gc.get_threshold()[1])  # a generation-1 collection per this many

    def tick(self, now: float) -> None:
        if now - self._at >= _COLLECT_YOUNG_EVERY_S:
            self._at = now
            self._runs += 1
            gc.collect(1 if self._runs % self._every == 0 else 0)


class _Paced(Protocol):
    """What the real-time scheduler asks of its sender, besides sending."""

    crash: Exception | None

    @property
    def pending(self) -> bool:
        """Whether any request is queued or out."""
        ...

    def must_wait(self, wake: int) -> bool:
        """Unpaced: whether serving `wake` must wait for answers first."""
        ...

    async def wait_for_change(self, timeout_s: float | None) -> None:
        """Wait for answers to change what the scheduler can do, or `timeout_s`."""

    def start(self) -> None:
        """The run starts (its senders, if it has any of its own)."""

    async def cancel(self) -> None:
        """Stop sending: what is out is counted unanswered."""

    async def wind_down(self, grace_s: float) -> None:
        """After a stop: wait for the sessionEnds' answers, at most `grace_s`."""

    def settle_interrupted(self) -> None:
        """The loop is gone: account for what was in progress."""

    def flush(self) -> None:
        """Write whatever is answered to the recording."""


class _InlinePaced(Inline):
    """`Inline` for the real-time engine: requests go out as each wake-up is served, so there
    is never anything to wait for but the clock."""

    crash: Exception | None = None

    @property
    def pending(self) -> bool:
        return False

    def must_wait(self, wake: int) -> bool:
        return False

    async def wait_for_change(self, timeout_s: float | None) -> None:
        await asyncio.sleep(timeout_s or 0)

    def start(self) -> None:
        pass

    async def cancel(self) -> None:
        pass

    async def wind_down(self, grace_s: float) -> None:
        pass

    def settle_interrupted(self) -> None:
        pass

    def flush(self) -> None:
        pass


class RealtimeEngine(Engine):
    """An `Engine` whose `run_async()` paces wake-ups to the wall clock.

    The clock it is given is the simulation's (a `VirtualClock`): it is moved to each wake-up
    as that wake-up is served, so an in-memory collector on the same clock sees what it would
    in a virtual run. It takes a blocking transport (sent to inline) or an asyncio one (sent to
    from tasks, `Tasks`).
    """

    def __init__(
        self,
        clock: ManualClock,
        transport: Transport | AsyncTransport,
        *,
        speed: float = 1.0,
        pacer: Pacer | None = None,
        concurrency: int | None = None,
        follow_up: FollowUp | None = None,
        recorder: Recorder | None = None,
        full_collections: bool = False,
        turn_away: bool = False,
        give_up: GiveUp | None = None,
        in_flight: int | None = None,
        dialect: Dialect = MCA,
        share: Share | None = None,
    ) -> None:
        if in_flight is not None and in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {in_flight}")
        self.pacer = pacer or Pacer(clock.now(), speed)
        # speed=inf: not paced at all; simulated time runs as fast as the answers come back.
        self.paced = math.isfinite(self.pacer.speed)
        self.in_flight = in_flight
        self.full_collections = full_collections
        self.lateness = Lateness()
        self._pacing: _Paced

        def sender(engine: Engine) -> Tasks | _InlinePaced:
            # (`engine` is self: the sender is made once the engine's parts exist.)
            if is_async(transport):
                self._pacing = Tasks(self, transport, recorder=recorder)
            else:
                self._pacing = _InlinePaced(self, transport)
            return self._pacing

        super().__init__(
            clock,
            transport,
            concurrency=concurrency,
            follow_up=follow_up,
            turn_away=turn_away,
            give_up=give_up,
            # Over an asyncio transport answers come in any order: `Tasks` records in order.
            recorder=None if is_async(transport) else recorder,
            sender=sender,
            dialect=dialect,
            share=share,
        )
        if self.paced:
            self.delivery.paced = (self.pacer, self.lateness)
            # On the wall clock, a run does not wait hours for offline viewers' devices: once
            # nothing else is left, they come back online.
            self.hurry_uploads = True
        self._started = False

    async def run_async(self, until: int | None = None) -> None:
        """Serve wake-ups in wall-clock time until every player is done (or until `until`)."""
        clock = self._manual_clock()
        if not self._started:
            # Wall time starts with the run, not with the engine's construction.
            self._started = True
            self.pacer.reset()
        thresholds = gc.get_threshold()
        if not self.full_collections:
            # Python's full (generation 2) collections scan every live object: with thousands
            # of sessions in progress one stops the event loop for hundreds of milliseconds,
            # and every request due meanwhile goes out that late. They are held off while the
            # run goes (finished players hold no reference cycles, so little garbage waits),
            # and allowed again after it; the young generations it collects itself, in slices
            # between wake-ups (`_YoungCollections`).
            gc.set_threshold(thresholds[0], thresholds[1], _NO_FULL_COLLECTIONS)
        pacing = self._pacing
        pacing.start()
        try:
            await self._serve_wakeups(until)
        except asyncio.CancelledError:
            if isinstance(pacing, Tasks) and not self.stopping:
                # Ctrl-C or SIGTERM: every open session gets its sessionEnd, right after what
                # it has in flight, before the run goes. (Sent inline, a caller stops the run
                # between two wake-ups itself: see `Engine.stop`.)
                self.stop()
                await self.wind_down()
            raise
        except EndpointUnreachableError:
            self.stopping = self.gave_up = True
            await pacing.cancel()
            self._abandon_all()
            raise
        finally:
            self.give_up.unwatch()
            await pacing.cancel()
            if self.stopping and self._heap:
                self._abandon_all()  # cut short on the way out: every viewing accounted for
            pacing.flush()  # whatever was answered is written, even on the way out
            gc.set_threshold(*thresholds)
        if until is not None and until > clock.now():
            await self.pacer.wait_until(until)  # real time passes, whether or not work does
            clock.advance_to(until)

    async def _serve_wakeups(self, until: int | None) -> None:
        clock = self._manual_clock()
        loop = asyncio.get_running_loop()
        yielded = loop.time()
        pacing = self._pacing
        # While full collections are held off, the young ones are the run's to time too
        # (unless the program has turned automatic collection off).
        automatic = gc.isenabled() and gc.get_threshold()[0] > 0
        young = _YoungCollections(yielded) if automatic and not self.full_collections else None
        while True:
            if pacing.crash is not None:
                raise pacing.crash
            if self.delivery.failure is not None:
                raise self.delivery.failure
            wake = self.next_wakeup
            if wake is None or (until is not None and wake > until):
                if pacing.pending:  # what is due is sent before the run returns
                    await pacing.wait_for_change(None)
                    continue
                return
            if self.paced and (early_ms := -self.pacer.late_ms(wake)) > 0:
                if young is not None:
                    young.tick(loop.time())  # in time to spare, not before a wake-up now due
                await pacing.wait_for_change(early_ms / 1000)
                continue  # woken: the schedule may have changed; look again
            if not self.paced and pacing.must_wait(wake):
                await pacing.wait_for_change(None)
                continue
            if (now_s := loop.time()) - yielded > _YIELD_EVERY_S:
                if young is not None:
                    young.tick(now_s)  # behind (or unpaced) for a while: collect all the same
                await asyncio.sleep(0)  # behind: still let the others have a turn
                yielded = loop.time()
            clock.advance_to(max(wake, clock.now()))
            self._serve_until(wake)

    async def wind_down(self, grace_s: float = WIND_DOWN_S) -> None:
        """After `stop()` over an asyncio transport: wait, at most `grace_s`, for the requests
        in flight and queued to be answered, then give up on the rest (counted as dropped) and
        write what the recording has. (Sent inline, there is nothing to wait for.)"""
        await self._pacing.wind_down(grace_s)

    def settle_interrupted(self) -> None:
        """Account for a run whose loop is gone before it could end its sessions, or wait for
        their answers (a second Ctrl-C): every viewing still in progress is retired (what it
        had not sent counted as dropped), and each session left open on the endpoint is
        counted in `stats.ending` as not ended. Call it after the loop; it is harmless after a
        run that wound down in full."""
        self._pacing.settle_interrupted()

    def _abandon_all(self, outcome: str = OUTCOME_CUT_OFF) -> None:
        """The run is over before its end (the endpoint is gone): retire every player, its
        unsent requests counted as dropped, so the accounting still adds up."""
        self._arriving = None
        self._arrivals = iter(())
        entries, self._heap = self._heap, []
        wakes, self._wakes = self._wakes, {}
        for wake, _, player, outbox in entries:
            if wakes.get(player) == wake:  # its live entry (the others were superseded)
                del wakes[player]
                self._cut.setdefault(player, outcome)
                self._retire(player, outbox, follow=False)
        # Downloaded viewings still waiting for their device: what they recorded is not sent.
        uploads, self._uploads = self._uploads, []
        for _, _, player, outbox in uploads:
            self._uploading.discard(player)
            self._cut.setdefault(player, outcome)
            self._retire(player, outbox, follow=False)

    async def aclose(self) -> None:
        """Close the asyncio transport (an HTTP client's pool, say). A blocking one is the
        caller's to close: it may outlive the run."""
        transport = self.transport
        if is_async(transport):
            await transport.aclose()


class Tasks:
    """The real-time engine's sender over an asyncio transport.

    Each busy player's queue is sent by a task: one per busy player when paced; when not,
    `in_flight` workers taking busy players in turn (as a plain client loop does). Requests go
    out through the engine's `Delivery`; lines are recorded in the order they were generated
    (as a virtual run writes them), whatever order the answers come in.
    """

    may_hold = True  # unpaced, a wake-up waits for the answer to its sessionStart

    def __init__(
        self, engine: RealtimeEngine, transport: AsyncTransport, *, recorder: Recorder | None
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.crash: Exception | None = None  # what a delivery task raised that it should not
        # Players with requests queued or in flight, and the tasks that send them.
        self._draining: dict[Player, Outbox] = {}
        # A task per busy player when paced; when not, `in_flight` workers taking them in turn.
        self._senders: Senders[tuple[Player, Outbox]] = Senders(
            self._drain, None if engine.paced else engine.in_flight or DEFAULT_IN_FLIGHT
        )
        self._queued = 0  # bodies in the queues of busy players
        # What a waiting scheduler waits for: that player's answers, or that few busy players.
        self._awaited: Player | None = None
        self._room: int | None = None
        self._changed: asyncio.Future[None] | None = None  # what the scheduler waits on
        self._in_order = (
            _InOrder(recorder, numbered=engine.shadow is not None) if recorder is not None else None
        )
        self._numbers = itertools.count()
        self._numbered: dict[Listener, deque[tuple[int, WireBody]]] = {}
        engine.delivery.hooks.append(self._settled)
        engine.delivery.on_failure = self._give_up

    # --- the engine's sender -------------------------------------------------------------------

    def send(self, player: Player, outbox: Outbox, bodies: list[WireBody]) -> None:
        """Queue a player's new bodies for its delivery task (started if it has none)."""
        shadow = self.engine.shadow
        if shadow is not None and not shadow.owns(player):
            self._shadow(shadow, player, outbox, bodies)
            return
        self.engine.stats.generated += len(bodies)
        outbox.push(bodies)
        if outbox.offline and not outbox.released:
            return  # watched offline: nothing goes, nor holds the recording, until it is online
        if self._in_order is not None:
            numbered = self._numbered.setdefault(player, deque())
            if outbox.offline and not numbered:
                # Back online: what it recorded takes its place in the recording now.
                numbered.extend((next(self._numbers), body) for body in outbox.queued())
            elif bodies:
                numbered.extend((next(self._numbers), body) for body in bodies)
        if player in self._draining:
            self._queued += len(bodies)
        elif len(outbox):
            self._queued += len(outbox)
            self._draining[player] = outbox
            self._senders.put((player, outbox))  # (after a run too: the sessionEnds of `stop()`)

    def _shadow(
        self, shadow: Shadow, player: Player, outbox: Outbox, bodies: list[WireBody]
    ) -> None:
        """Another process's viewing: answered on the spot, its bodies' places in the
        recording skipped (numbered as its own would be: the parts merge by these numbers)."""
        outbox.push(bodies)
        if outbox.offline and not outbox.released:
            return
        if self._in_order is not None:
            for _ in range(len(outbox)):
                self._in_order.done(next(self._numbers), None)
        shadow.send(player, outbox, [])

    def holds(self, player: Player, outbox: Outbox) -> bool:
        # Unpaced, a player's wake-up waits for the answer to its sessionStart (`must_wait`).
        return not self.engine.paced and outbox.sid is None and player in self._draining

    def busy(self, player: Player) -> bool:
        return player in self._draining

    def busy_players(self) -> dict[Player, Outbox]:
        return self._draining

    def cut(self, player: Player, outbox: Outbox, count: int) -> None:
        if count and player in self._draining:
            self._queued -= count
        numbered = self._numbered.get(player)
        if count and numbered:
            # What was cut will never be recorded: the in-order recording moves past it.
            keep = 1 if outbox.in_flight else 0
            while len(numbered) > keep:
                number, _ = numbered.pop()
                if self._in_order is not None:
                    self._in_order.done(number, None)

    def stopped(self) -> None:
        pass  # the sessionEnds go from the tasks: `wind_down` counts what became of them

    def retired(self, player: Player) -> None:
        """A retired player's unsent bodies will never be recorded: let the order move on."""
        if self._in_order is not None:
            for number, _ in self._numbered.pop(player, ()):
                self._in_order.done(number, None)

    # --- what the scheduler asks ---------------------------------------------------------------

    @property
    def pending(self) -> bool:
        if self._draining:
            self._room = 0
        return bool(self._draining)

    def start(self) -> None:
        """Unpaced: the `in_flight` workers, if not running."""
        self._senders.start()

    def flush(self) -> None:
        if self._in_order is not None:
            self._in_order.flush()

    async def wind_down(self, grace_s: float) -> None:
        finished = False
        engine = self.engine
        try:
            deadline = asyncio.get_running_loop().time() + grace_s
            while self._draining and (left := deadline - asyncio.get_running_loop().time()) > 0:
                self._room = 0
                await self.wait_for_change(left)
            finished = True
        finally:
            # Counted before the requests still out are cancelled, while which are out (a
            # sessionStart that may yet open a session, say) is known.
            engine.delivery.unended(
                f"no answer within the {grace_s:g} s wind-down" if finished else CUT_SHORT
            )
        await self.cancel()
        engine.give_up.unwatch()  # (its sessionEnds armed it again, after the run)

    def settle_interrupted(self) -> None:
        engine = self.engine
        if engine.stats.ending is None:
            # Interrupted twice before `stop()` could run: no session was ended.
            engine.stats.ending = Ending()
            engine.stopping = engine._stopped = True
            if left_open := len(self._open_outboxes()):
                engine.stats.ending.not_ended[NOT_ENDED_TWICE] = left_open
        else:
            engine.delivery.unended(CUT_SHORT)
        for player, outbox in list(self._draining.items()):
            if len(outbox):
                engine._cut.setdefault(player, OUTCOME_STOPPED)
            self._finished(player, outbox)
        engine._abandon_all(OUTCOME_STOPPED)
        self.flush()

    def _open_outboxes(self) -> list[Outbox]:
        """The outboxes of the sessions open on the endpoint (or being opened), as far as the
        answers so far tell: not ended, not completed."""
        engine = self.engine
        outboxes = [e[3] for e in engine._heap if engine._wakes.get(e[2]) == e[0]]
        outboxes += [o for p, o in self._draining.items() if p not in engine._wakes]
        return [
            outbox
            for outbox in outboxes
            if (outbox.sid is not None or outbox.in_flight or outbox.start_lost)
            and (outbox.last_sent is None or outbox.last_sent["eventType"] not in _ENDINGS)
        ]

    async def cancel(self) -> None:
        """Stop every delivery task; the requests they had out are counted as unanswered, and
        the players they were sending for are scheduled afresh (or retired)."""
        engine = self.engine
        # Whose delivery this cuts short: its viewing ends here, as the endpoint saw it.
        for player, outbox in self._draining.items():
            if len(outbox):
                engine._cut.setdefault(
                    player, OUTCOME_CUT_OFF if engine.gave_up else OUTCOME_STOPPED
                )
        await self._senders.cancel()
        for player, outbox in list(self._draining.items()):  # queued, never taken
            self._finished(player, outbox)

    async def wait_for_change(self, timeout_s: float | None) -> None:
        """Wait until a busy player's requests are all answered (the one in `_awaited`, if set;
        enough for at most `_room` to be busy, if set), or `timeout_s` has passed. Waking only
        when it can go on keeps the scheduler from costing a turn of the loop per answer."""
        changed = self._changed = asyncio.get_running_loop().create_future()
        try:
            if timeout_s is None:
                await changed  # the unpaced run's every wait: a bare future is the cheapest
                return
            waiting = asyncio.get_running_loop().call_later(timeout_s, _settle, changed)
            try:
                await changed
            finally:
                waiting.cancel()
        finally:
            self._awaited, self._room = None, None

    def must_wait(self, wake: int) -> bool:
        """Unpaced: whether serving `wake` must wait for answers first, and for which. It must
        when `in_flight` requests are out (until a tenth of them are back), or `_MAX_QUEUED`
        wait behind them (so a slow endpoint cannot make memory grow), or when the player due
        then has not heard the answer to its sessionStart (until it has): as in a virtual run,
        a refused start ends the viewing there, instead of hours of events generated to be
        dropped. Other answers do not hold the run: a session retrying through an endpoint's
        trouble would hold up every other one. Like a real player, a player that loses its
        session (a 404) hears so when the answer comes, and re-opens it then."""
        if not self._draining:
            return False
        in_flight = self.engine.in_flight
        if in_flight is not None and len(self._draining) >= in_flight:
            self._room = in_flight - max(1, in_flight // 10)
            return True
        if self._queued >= _MAX_QUEUED:
            return True
        engine = self.engine
        heap = engine._heap
        while heap and engine._wakes.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # superseded by a later reschedule
        if heap and heap[0][0] <= wake and heap[0][3].sid is None and heap[0][2] in self._draining:
            self._awaited = heap[0][2]
            return True
        return False

    # --- the delivery tasks --------------------------------------------------------------------

    async def _drain(self, busy: tuple[Player, Outbox]) -> None:
        """Send one busy player's queue until it is empty, then let it go: the paced run's
        task per busy player, and each unpaced worker's turn with one."""
        player, outbox = busy
        try:
            await self.engine.delivery.adrain(player, outbox, self.transport)
        except Exception as exc:  # a transport's bug ends the run, loudly
            self._crashed(exc)
        finally:
            self._finished(player, outbox)

    def _crashed(self, exc: Exception) -> None:
        """A transport raised what it should not (only `TransportError` means no answer): the
        run ends with it rather than lose that session's delivery task without a word."""
        if self.crash is None:
            self.crash = exc
        if self._changed is not None:
            _settle(self._changed)

    def _finished(self, player: Player, outbox: Outbox) -> None:
        """A player's queue is sent (or given up): it is no longer busy."""
        del self._draining[player]
        self._queued -= len(outbox)
        # An answer may have changed what the player does next (a 404 re-opens a session,
        # a refused sessionStart ends the viewing): schedule it afresh.
        self.engine._schedule(player, outbox)
        changed = self._changed
        if changed is None or changed.done():
            return
        if self.engine.delivery.failure is None and (
            (self._awaited is not None and player is not self._awaited)
            or (self._room is not None and len(self._draining) > self._room)
        ):
            return  # not what the scheduler waits for: let it sleep
        _settle(changed)

    def _give_up(self) -> None:
        """Nothing heard for the give-up time: the run ends now, whatever is still queued or
        being retried (the scheduler raises the delivery's failure; the tasks are cancelled)."""
        if self._changed is not None:
            _settle(self._changed)

    def _settled(self, settled: Settled) -> None:
        """A request settled: what it (and what its answer dropped) leaves queued, and its line
        handed to the in-order recording, with the bodies settling it let go."""
        self._queued -= settled.removed
        if self._in_order is None:
            return
        numbered = self._numbered[settled.listener]
        number, body = numbered.popleft()
        assert body is settled.request.event, "one request in flight per session, in order"
        self._in_order.done(number, (settled.request, settled.response, settled.sid, settled.error))
        # Bodies the outbox let go (their session was refused or lost) are never sent: they
        # are everything before the new head of its queue.
        head = settled.outbox.peek()
        while numbered and numbered[0][1] is not head:
            self._in_order.done(numbered.popleft()[0], None)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_Line = tuple[Request, Response | None, str | None, str | None]


class _InOrder:
    """Writes recording lines in a fixed order (numbers from 0), as each one becomes known."""

    def __init__(self, recorder: Recorder, *, numbered: bool = False) -> None:
        self.recorder = recorder
        # A share's recording: each line says its number, for the merge.
        self.numbered = numbered
        self._next = 0
        self._known: dict[int, _Line | None] = {}  # None: a number that will have no line

    def done(self, number: int, line: _Line | None) -> None:
        self._known[number] = line
        while self._next in self._known:
            self._write(self._next, self._known.pop(self._next))
            self._next += 1

    def flush(self) -> None:
        """Write every known line, in order, even past numbers that never came (a cut run)."""
        for number in sorted(self._known):
            self._write(number, self._known.pop(number))

    def _write(self, number: int, line: _Line | None) -> None:
        if line is not None:
            request, response, sid, error = line
            seq = number if self.numbered else None
            self.recorder.write(request, response, sid=sid, error=error, seq=seq)
