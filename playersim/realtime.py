"""Real time: the same players and engine, paced to the wall clock on asyncio.

`RealtimeEngine` serves exactly the wake-ups the virtual engine serves, in the same order, with
the same simulated instants: it only waits, before each, for the wall clock to reach it (a
`Pacer`, at `speed` simulated seconds per wall second). So a seed gives the same traffic in real
time as in virtual time, and the timestamps on the wire are the instants events were due, not the
instants a busy machine got round to them. How late each request went out is measured
(`lateness`, in wall milliseconds, p50/p99 for pings and for all requests).

With an asyncio transport (HTTP), each session's requests go out from a task of their own, one in
flight per session, so a slow answer holds back that session only; the scheduler never waits on
the network. With a synchronous transport (the in-memory collector) requests go out inline,
which is cheapest and keeps the collector's view identical to a virtual run.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import inspect
import itertools
from collections import deque
from typing import Final

from playersim.clock import ManualClock, Pacer
from playersim.delivery import Outbox
from playersim.engine import MAX_CONSECUTIVE_UNANSWERED, Engine, FollowUp
from playersim.errors import EndpointUnreachableError, TransportError
from playersim.player import Player
from playersim.recording import Recorder
from playersim.summary import Lateness
from playersim.transport import AsyncTransport, Request, Response, Transport
from playersim.wire import WireBody

__all__ = ["RealtimeEngine"]

# A generation-2 threshold no run reaches: full collections wait until the run is over.
_NO_FULL_COLLECTIONS: Final = 1 << 30
# A scheduler that is behind still lets other coroutines (progress, deliveries) run this often.
_YIELD_EVERY_S: Final = 0.05


class _Timed:
    """Measures each request's lateness as it is handed to a synchronous transport."""

    def __init__(self, inner: Transport, pacer: Pacer, lateness: Lateness) -> None:
        self.inner = inner
        self.pacer = pacer
        self.lateness = lateness

    def send(self, request: Request) -> Response:
        self.lateness.sent(self.pacer, request.body)
        return self.inner.send(request)


class RealtimeEngine(Engine):
    """An `Engine` whose `run_async()` paces wake-ups to the wall clock.

    The clock it is given is the simulation's (a `VirtualClock`): it is moved to each wake-up
    as that wake-up is served, so an in-memory collector on the same clock sees what it would
    in a virtual run.
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
        give_up_after: int = MAX_CONSECUTIVE_UNANSWERED,
    ) -> None:
        self.pacer = pacer or Pacer(clock.now(), speed)
        self.full_collections = full_collections
        self.lateness = Lateness()
        self._async_transport: AsyncTransport | None = None
        if inspect.iscoroutinefunction(getattr(transport, "send", None)):
            self._async_transport = transport  # type: ignore[assignment]
            sync: Transport = _NoSyncSend()
        else:
            sync = _Timed(transport, self.pacer, self.lateness)  # type: ignore[arg-type]
        super().__init__(
            clock,
            sync,
            concurrency=concurrency,
            follow_up=follow_up,
            turn_away=turn_away,
            give_up_after=give_up_after,
        )
        self._wakes: dict[Player, int] = {}  # the one wake-up each player is scheduled for
        self._draining: dict[Player, asyncio.Task[None]] = {}
        self._followed: set[Player] = set()  # finished players whose next viewing is arranged
        # Recording an asyncio transport: lines are written in the order requests were
        # generated (as a virtual run writes them), whatever order the answers come in.
        self._in_order = _InOrder(recorder) if recorder is not None else None
        self._numbers = itertools.count()
        self._numbered: dict[Player, deque[tuple[int, WireBody]]] = {}
        self._failure: EndpointUnreachableError | None = None
        self._changed: asyncio.Event | None = None
        self._started = False

    async def run_async(self, until: int | None = None) -> None:
        """Serve wake-ups in wall-clock time until every player is done (or until `until`)."""
        clock = self._manual_clock()
        if not self._started:
            # Wall time starts with the run, not with the engine's construction.
            self._started = True
            self.pacer.reset()
        self._changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        yielded = loop.time()
        thresholds = gc.get_threshold()
        if not self.full_collections:
            # Python's full (generation 2) collections scan every live object: with thousands
            # of sessions in progress one stops the event loop for hundreds of milliseconds,
            # and every request due meanwhile goes out that late. They are held off while the
            # run is paced (young objects are still collected as usual, and finished players
            # hold no reference cycles, so little garbage waits), and allowed again after it.
            gc.set_threshold(thresholds[0], thresholds[1], _NO_FULL_COLLECTIONS)
        try:
            while True:
                if self._failure is not None:
                    raise self._failure
                wake = self.next_wakeup
                if wake is None or (until is not None and wake > until):
                    if self._draining and (until is None or wake is None):
                        await self._wait_for_change(None)
                        continue
                    break
                if self.pacer.late_ms(wake) < 0:
                    await self._wait_for_change(wake)
                    continue  # woken: the schedule may have changed; look again
                if loop.time() - yielded > _YIELD_EVERY_S:
                    await asyncio.sleep(0)  # behind: still let the others have a turn
                    yielded = loop.time()
                clock.advance_to(max(wake, clock.now()))
                self._serve_until(wake)
        finally:
            for task in list(self._draining.values()):
                task.cancel()
            if self._draining:
                await asyncio.gather(*self._draining.values(), return_exceptions=True)
            if self._in_order is not None:
                self._in_order.flush()  # whatever was answered is written, even on the way out
            gc.set_threshold(*thresholds)
        if until is not None and until > clock.now():
            await self.pacer.wait_until(until)  # real time passes, whether or not work does
            clock.advance_to(until)

    def stop(self) -> None:
        """End every session in progress now (see `Engine.stop`).

        Over an asyncio transport, once the run's loop is interrupted there is no loop left to
        send on: the sessions are ended in the players and their unsent requests are counted
        as dropped (the back end times them out).
        """
        if self._async_transport is None:
            super().stop()
            return
        self._arriving = None
        self._arrivals = iter(())
        now = self.clock.now()
        entries, self._heap = sorted(self._heap, key=lambda entry: entry[:2]), []
        seen: set[Player] = set()
        for _, _, player, outbox in entries:
            if player in seen or player.finished:
                continue
            seen.add(player)
            outbox.push(player.stop(now))
            self._forget(player)
            self._retire(player, outbox, follow=False)
        self._wakes.clear()

    async def aclose(self) -> None:
        """Close the asyncio transport, if it has anything to close (an HTTP client's pool)."""
        close = getattr(self._async_transport, "aclose", None)
        if close is not None:
            await close()

    async def _wait_for_change(self, wake: int | None) -> None:
        assert self._changed is not None
        self._changed.clear()
        waiter = asyncio.ensure_future(self._changed.wait())
        try:
            timeout = None if wake is None else max(0.0, -self.pacer.late_ms(wake) / 1000)
            await asyncio.wait([waiter], timeout=timeout)
        finally:
            waiter.cancel()

    # --- asyncio transports: one delivery task per busy session ---------------------------------

    def _schedule(self, player: Player, outbox: Outbox) -> None:
        if self._async_transport is None:
            super()._schedule(player, outbox)
            return
        wake = player.next_wakeup
        if wake is None:
            self._wakes.pop(player, None)
            if player not in self._followed and player.outcome == "completed":
                # Its next viewing is arranged when it ends, as in virtual time, not when its
                # last answer comes back: so it starts at the same instant and takes its place
                # under a concurrency limit at the same moment, whatever the network's timing.
                self._followed.add(player)
                self._follow(player)
            if player in self._draining:
                return  # retired when its last request is answered
            self._forget(player)
            self._retire(player, outbox, follow=player not in self._followed)
            self._followed.discard(player)
            return
        if self._wakes.get(player) != wake:
            self._wakes[player] = wake
            heapq.heappush(self._heap, (wake, next(self._order), player, outbox))

    def _serve_until(self, now: int) -> None:
        if self._async_transport is None:
            super()._serve_until(now)
            return
        self._admit(now)
        while self._heap and self._heap[0][0] <= now:
            wake, _, player, outbox = heapq.heappop(self._heap)
            if self._wakes.get(player) != wake:
                continue  # superseded by a later reschedule
            del self._wakes[player]
            bodies = player.due(now)
            self.stats.generated += len(bodies)
            outbox.push(bodies)
            if self._in_order is not None and bodies:
                numbered = self._numbered.setdefault(player, deque())
                numbered.extend((next(self._numbers), body) for body in bodies)
            if player not in self._draining and len(outbox):
                task = asyncio.ensure_future(self._drain(player, outbox))
                self._draining[player] = task
            self._schedule(player, outbox)

    @property
    def active(self) -> int:
        if self._async_transport is None:
            return super().active
        # Scheduled players. A finished one whose last requests are still on their way holds
        # no place: it freed it when it sent its last event, as in virtual time, so a
        # concurrency limit admits the next viewer at the same simulated instant.
        return len(self._wakes)

    async def _drain(self, player: Player, outbox: Outbox) -> None:
        transport = self._async_transport
        assert transport is not None
        try:
            while (request := outbox.next_request()) is not None:
                self.lateness.sent(self.pacer, request.body)
                try:
                    response = await transport.send(request)
                except TransportError as exc:
                    self._unanswered += 1
                    outbox.settle(request, None)
                    self._written(player, outbox, request, None, exc.reason)
                    self.stats.record(request, None, exc.reason)
                    player.on_response(request.event_type, None)
                    if self._unanswered >= self.give_up_after and self._failure is None:
                        self._failure = EndpointUnreachableError(
                            f"gave up after {self._unanswered} requests in a row got no answer "
                            f"(last: {exc})"
                        )
                    continue
                self._unanswered = 0
                outbox.settle(request, response)
                self._written(player, outbox, request, response, None)
                self.stats.record(request, response)
                player.on_response(request.event_type, response.status, sid=response.sid)
        finally:
            del self._draining[player]
            # An answer may have changed what the player does next (a 404 re-opens a session,
            # a refused sessionStart ends the viewing): schedule it afresh.
            self._schedule(player, outbox)
            if self._changed is not None:
                self._changed.set()

    def _written(
        self,
        player: Player,
        outbox: Outbox,
        request: Request,
        response: Response | None,
        error: str | None,
    ) -> None:
        """Hand an answered request to the in-order recording, and what settling it dropped."""
        if self._in_order is None:
            return
        numbered = self._numbered[player]
        number, body = numbered.popleft()
        assert body is request.body, "one request in flight per session, in order"
        sid = request.sid or (response.sid if response is not None else None)
        self._in_order.done(number, (request, response, sid, error))
        # Bodies the outbox let go (their session was refused or lost) are never sent: they
        # are everything before the new head of its queue.
        head = outbox.peek()
        while numbered and numbered[0][1] is not head:
            self._in_order.done(numbered.popleft()[0], None)

    def _forget(self, player: Player) -> None:
        """A retired player's unsent bodies will never be recorded: let the order move on."""
        if self._in_order is not None:
            for number, _ in self._numbered.pop(player, ()):
                self._in_order.done(number, None)


_Line = tuple[Request, Response | None, str | None, str | None]


class _InOrder:
    """Writes recording lines in a fixed order (numbers from 0), as each one becomes known."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._next = 0
        self._known: dict[int, _Line | None] = {}  # None: a number that will have no line

    def done(self, number: int, line: _Line | None) -> None:
        self._known[number] = line
        while self._next in self._known:
            self._write(self._known.pop(self._next))
            self._next += 1

    def flush(self) -> None:
        """Write every known line, in order, even past numbers that never came (a cut run)."""
        for number in sorted(self._known):
            self._write(self._known.pop(number))

    def _write(self, line: _Line | None) -> None:
        if line is not None:
            request, response, sid, error = line
            self.recorder.write(request, response, sid=sid, error=error)


class _NoSyncSend:
    """Stands in for the sync transport of an engine that only sends asynchronously."""

    def send(self, request: Request) -> Response:  # pragma: no cover - never called
        raise AssertionError("an asyncio transport is sent to from delivery tasks only")
