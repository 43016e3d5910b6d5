"""The pytest plugin: fixtures for tests that drive players on a virtual clock.

Registered through the `pytest11` entry point, so it is active wherever playersim is installed.
Every fixture is built from the one before, and each can be overridden in a `conftest.py`:

- `playersim_start`: the instant the clock starts at (`"2026-01-01T12:00:00Z"`);
- `playersim_clock`: a `VirtualClock` at that instant;
- `playersim_collector`: a `Collector` on it, keeping every accepted event;
- `playersim_engine`: an `Engine` sending to that collector in memory;
- `make_player(profile="vod-episode", seed=1, index=0, start_at=None)`: a `Player` added to the
  engine (a bundled profile's name, a path, or a `Profile`);
- `make_audience(sessions=10, profiles=("vod-episode",), seed=1, duration="1h")`: many viewers
  arriving over `duration`, as `playersim run --sessions N --duration D` has them;
- `session_record(player_or_sid)`: what Adobe will report for that player's session (its
  `SessionRecord`: media starts, content time spent, ...), from what the collector received;
- `answer_key()`: the `Report` of every session the collector received (totals and roll-ups).

The assertions in `playersim.testing` read the collector these fixtures fill.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from playersim.audience.arrivals import parse_duration
from playersim.audience.profiles import Profile, load_profile
from playersim.clock import VirtualClock
from playersim.edge.front import speak_edge
from playersim.engines.engine import Engine
from playersim.mca.collector import Collector
from playersim.reporting.record import SessionRecord
from playersim.reporting.reporter import record_of_session
from playersim.reporting.rollup import Report, build_report
from playersim.sim.player import Player
from playersim.sim.viewings import Workload
from playersim.transports.base import MemoryTransport

__all__ = [
    "answer_key",
    "make_audience",
    "make_player",
    "playersim_clock",
    "playersim_collector",
    "playersim_engine",
    "playersim_start",
    "session_record",
]

ProfileLike = str | Path | Profile


def _profile(profile: ProfileLike) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


@pytest.fixture
def playersim_start() -> str:
    """The instant the test's clock starts at; override it to start elsewhere."""
    return "2026-01-01T12:00:00Z"


@pytest.fixture
def playersim_clock(playersim_start: str) -> VirtualClock:
    """A virtual clock: it moves only when the test (or the engine) moves it."""
    return VirtualClock(start=playersim_start)


@pytest.fixture
def playersim_collector(playersim_clock: VirtualClock) -> Collector:
    """The built-in collector on the test's clock, keeping every accepted event: it answers
    the MCA and the Media Edge API alike."""
    return speak_edge(Collector(playersim_clock))


@pytest.fixture
def playersim_engine(playersim_clock: VirtualClock, playersim_collector: Collector) -> Engine:
    """An engine delivering in memory to `playersim_collector`."""
    return Engine(playersim_clock, MemoryTransport(playersim_collector))


@pytest.fixture
def make_player(playersim_engine: Engine) -> Callable[..., Player]:
    """Makes a player and adds it to the engine: `make_player("live-news", seed=2)`
    (`exact=True`: pings on the 10 s grid, whatever the profile's `[timing]`)."""

    def make(
        profile: ProfileLike = "vod-episode",
        *,
        seed: int | str = 1,
        index: int | str = 0,
        start_at: str | int | None = None,
        exact: bool | None = None,
    ) -> Player:
        player = Player(_profile(profile), seed=seed, index=index, start_at=start_at, exact=exact)
        return playersim_engine.add(player)

    return make


@pytest.fixture
def make_audience(
    playersim_engine: Engine, playersim_clock: VirtualClock
) -> Callable[..., Workload]:
    """Makes viewers arrive at the engine over a window, along the profiles' daily curves:
    `make_audience(sessions=50, profiles=["ugc-clip", "live-news"], duration="2h")`."""

    def make(
        sessions: int = 10,
        profiles: Sequence[ProfileLike] = ("vod-episode",),
        *,
        seed: int | str = 1,
        duration: str = "1h",
    ) -> Workload:
        workload = Workload(
            [_profile(profile) for profile in profiles],
            start=playersim_clock.now(),
            sessions=sessions,
            duration_ms=parse_duration(duration),
        )
        playersim_engine.follow_up = workload.follow_up(seed)
        playersim_engine.add_arrivals(workload.players(seed), until=workload.end)
        return workload

    return make


@pytest.fixture
def session_record(playersim_collector: Collector) -> Callable[[Player | str], SessionRecord]:
    """What Adobe will report for a session the collector received: `session_record(player)`
    (its current session) or `session_record(sid)`. A session still open is closed as the
    back end's timeouts would close it."""

    def record(player_or_sid: Player | str) -> SessionRecord:
        sid = player_or_sid if isinstance(player_or_sid, str) else player_or_sid.sid
        if sid is None:
            raise LookupError(f"{player_or_sid!r} has no session: it has not started one")
        profile = "" if isinstance(player_or_sid, str) else player_or_sid.profile.name
        return record_of_session(playersim_collector.session(sid), profile=profile)

    return record


@pytest.fixture
def answer_key(playersim_collector: Collector) -> Callable[..., Report]:
    """The answer key of every session the collector received: `answer_key().totals`,
    `answer_key(timezone="Europe/London").rollups["hour"]`."""

    def report(*, timezone: str = "UTC") -> Report:
        records = [record_of_session(session) for session in playersim_collector.sessions]
        return build_report(records, timezone=timezone)

    return report
