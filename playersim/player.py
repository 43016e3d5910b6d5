"""A simulated media player: one viewing session, as a sans-IO state machine on a clock.

A `Player` never sleeps, never touches the network and never reads a clock. Asked with
`due(now)`, it returns the request bodies that are due by that instant, in order, each stamped
with the instant it happened, and `next_wakeup` says when it next needs to be asked. It learns what
became of its requests only through `on_response`. The same player therefore runs in a unit test
with a hand-moved clock, in a batch simulation of a day, or in a real-time load run.

Mechanics live here (pings, `ts`, the playhead, the state machine); decisions live in the
behaviour (`playersim.behaviour`). Pings follow a grid anchored at sessionStart: one every ping
interval, in every open state, except at an instant where another event is sent anyway. Events
that happen at the same instant get `ts` values 1 ms apart, in order (MCA-SPEC.md section 4).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, Final

from playersim.behaviour import Action, Behaviour, Decision, SessionView, ViewerBehaviour
from playersim.clock import parse_instant
from playersim.metadata import MetadataPool, Title, Visitor, session_params
from playersim.playhead import Playhead
from playersim.profiles import Profile
from playersim.states import OPEN_STATES, State, next_state
from playersim.wire import EventType, WireBody, make_body

__all__ = ["Player"]

PING_INTERVAL_MS: Final = 10_000  # MCA-SPEC.md section 5
_GONE: Final = frozenset({404, 410})


class Player:
    """One simulated viewing session.

    >>> from playersim import load_profile
    >>> player = Player(load_profile("vod-movie"), seed=7, start_at="2026-11-27T12:00:00Z")
    >>> [body["eventType"] for body in player.due(player.next_wakeup)]
    ['sessionStart']
    """

    def __init__(
        self,
        profile: Profile,
        *,
        seed: int | str = 0,
        index: int = 0,
        start_at: str | int | datetime | None = None,
        metadata: MetadataPool | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.profile = profile
        self.index = index
        # One RNG per session, seeded by a string: stable across processes and platforms, and
        # independent of how many other sessions were simulated before this one.
        self.rng = random.Random(f"{seed}:{index}")
        pool = metadata or MetadataPool.build(profile, seed)
        self.title: Title = pool.pick_title(self.rng)
        self.visitor: Visitor = pool.pick_visitor(self.rng)
        self.length_ms = round(self.title.length_seconds * 1000)
        self.behaviour: Behaviour = behaviour or ViewerBehaviour(
            profile, self.rng, length_ms=self.length_ms
        )
        self.start_at: int | None = None if start_at is None else parse_instant(start_at)
        self.state = State.NEW
        self.sid: str | None = None
        self.outcome: str | None = None  # why the session is over: completed, left, rejected, ...
        self._last_ts = -1
        self._next: Decision | None = None
        self._ping_at: int | None = None
        self._playhead: Playhead | None = None
        self._first_play_done = False

    # --- what the engine asks ---------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the player has nothing more to send."""
        return self.outcome is not None

    @property
    def next_wakeup(self) -> int | None:
        """The instant this player next has something to send; None if finished or unscheduled."""
        if self.finished:
            return None
        if self.state is State.NEW:
            return self.start_at
        candidates = [
            t for t in (self._ping_at, self._next.at if self._next else None) if t is not None
        ]
        return min(candidates) if candidates else None

    def due(self, now: int) -> list[WireBody]:
        """Every request body due by instant `now`, in order. Call again as time moves on."""
        if self.finished:
            return []
        out: list[WireBody] = []
        if self.state is State.NEW:
            if self.start_at is None:
                self.start_at = now
            if self.start_at > now:
                return out
            self._open(self.start_at, out)
        while not self.finished:
            action_at = self._next.at if self._next is not None else None
            ping_at = self._ping_at
            if (
                action_at is not None
                and action_at <= now
                and (ping_at is None or action_at <= ping_at)
            ):
                assert self._next is not None
                self._act(self._next.action, action_at, out)
            elif ping_at is not None and ping_at <= now:
                self._emit(EventType.PING, ping_at, out)
            else:
                break
        return out

    def on_response(self, event_type: str, status: int | None, *, sid: str | None = None) -> None:
        """Tell the player what became of one of its requests.

        `status` is the HTTP status, or None when the request got no answer at all.
        """
        if event_type == EventType.SESSION_START:
            if status == 201 and sid:
                self.sid = sid
            elif not self.finished:
                # Without a session id nothing else can be sent: the session is lost.
                self.outcome = "rejected" if status is not None else "unreachable"
        elif status in _GONE and not self.finished:
            # The back end no longer knows this session. Resuming in a new session
            # (media.resume) is the behaviour model's job; the core player stops here.
            self.outcome = "closed by collector"

    # --- mechanics -----------------------------------------------------------------------------

    def _open(self, at: int, out: list[WireBody]) -> None:
        self._playhead = Playhead(live=self.profile.content.live, length_ms=self.length_ms, at=at)
        params = session_params(self.profile, self.title, self.visitor, start_ms=at)
        self._emit(EventType.SESSION_START, at, out, params=params)
        self._decide(at)

    def _act(self, action: Action, at: int, out: list[WireBody]) -> None:
        assert self._playhead is not None
        if action is Action.PLAY:
            qoe = None
            if not self._first_play_done:
                self._first_play_done = True
                assert self.start_at is not None
                qoe = {"media.qoe.timeToStart": at - self.start_at}
            self._playhead.resume(at)
            self._emit(EventType.PLAY, at, out, qoe=qoe)
        elif action is Action.COMPLETE:
            self._emit(EventType.SESSION_COMPLETE, at, out)
            self._playhead.hold(at)
            self.outcome = "completed"
        elif action is Action.LEAVE:
            self._emit(EventType.SESSION_END, at, out)
            self._playhead.hold(at)
            self.outcome = "left"
        if not self.finished:
            self._decide(at)

    def _decide(self, now: int) -> None:
        assert self._playhead is not None
        view = SessionView(
            now=now,
            state=self.state,
            started_at=self.start_at or now,
            playhead_ms=self._playhead.at(now),
            remaining_ms=0 if self._playhead.live else self._playhead.remaining(now),
            live=self._playhead.live,
        )
        decision = self.behaviour.next(view)
        if decision is not None and decision.at < now:
            raise ValueError(
                f"behaviour scheduled {decision.action} in the past ({decision.at} < {now})"
            )
        self._next = decision
        if decision is None and self.state in OPEN_STATES:
            # A behaviour with nothing more to do leaves an open session to the back end's
            # timeout, like a player whose app was killed; pings stop with it.
            self.outcome = "abandoned"

    def _emit(
        self,
        event_type: EventType,
        at: int,
        out: list[WireBody],
        *,
        params: dict[str, Any] | None = None,
        qoe: dict[str, Any] | None = None,
    ) -> None:
        assert self._playhead is not None
        self.state = next_state(self.state, event_type)
        # Same-instant events are spread 1 ms apart; the playhead is that of the instant itself.
        ts = max(at, self._last_ts + 1)
        self._last_ts = ts
        out.append(make_body(event_type, self._playhead.at(at), ts, params=params, qoe=qoe))
        if self.state in OPEN_STATES and self.state is not State.COMPLETE:
            self._ping_at = self._next_grid_point(at)
        else:
            self._ping_at = None

    def _next_grid_point(self, after: int) -> int:
        assert self.start_at is not None
        elapsed = after - self.start_at
        return self.start_at + (elapsed // PING_INTERVAL_MS + 1) * PING_INTERVAL_MS

    def __repr__(self) -> str:
        return (
            f"<Player {self.profile.name}#{self.index} {self.state} "
            f"title={self.title.media_id!r} sid={self.sid}>"
        )
