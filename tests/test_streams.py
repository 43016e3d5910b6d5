"""A session's random streams: the same numbers as `random.Random`, with their state let go
between the wake-ups that draw from them (issue 17: memory per session in progress)."""

from __future__ import annotations

import gc
import random
import types
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import Engine, MemoryTransport, Player, VirtualClock, load_profile
from playersim.audience.metadata import MetadataPool
from playersim.audience.streams import RandomStream
from playersim.mca.collector import Collector

# Each a draw a session makes (with arguments), or a pause in which the stream may sleep.
_DRAWS: dict[str, Any] = {
    "random": lambda rng: rng.random(),
    "getrandbits 0": lambda rng: rng.getrandbits(0),
    "getrandbits 1": lambda rng: rng.getrandbits(1),
    "getrandbits 32": lambda rng: rng.getrandbits(32),
    "getrandbits 33": lambda rng: rng.getrandbits(33),
    "getrandbits 64": lambda rng: rng.getrandbits(64),
    "getrandbits 200": lambda rng: rng.getrandbits(200),
    "uniform": lambda rng: rng.uniform(-3.0, 7.5),
    "randrange": lambda rng: rng.randrange(5, 10**40, 3),
    "randrange small": lambda rng: rng.randrange(7),
    "randint": lambda rng: rng.randint(1, 6),
    "choice": lambda rng: rng.choice("abcdefg"),
    "choices": lambda rng: rng.choices(range(9), weights=[1, 2, 3, 4, 5, 4, 3, 2, 1], k=3),
    "choices cumulative": lambda rng: rng.choices("xyz", cum_weights=[1, 5, 6]),
    "expovariate": lambda rng: rng.expovariate(0.25),
    "gauss": lambda rng: rng.gauss(10.0, 2.0),
    "normalvariate": lambda rng: rng.normalvariate(0.0, 1.0),
    "lognormvariate": lambda rng: rng.lognormvariate(0.5, 1.2),
}
_STEPS = st.lists(st.sampled_from([*_DRAWS, "sleep", "rest"]), max_size=120)


@settings(max_examples=150, deadline=None)
@given(seed=st.text(max_size=40), steps=_STEPS)
def test_a_stream_draws_what_random_random_draws_whenever_it_sleeps(
    seed: str, steps: list[str]
) -> None:
    stream, plain = RandomStream(seed), random.Random(seed)
    for step in steps:
        if step == "sleep":
            stream.sleep()
            assert stream.asleep
        elif step == "rest":
            stream.rest()
        else:
            assert _DRAWS[step](stream) == _DRAWS[step](plain), step


def test_a_stream_rests_awake_only_while_drawn_from() -> None:
    stream = RandomStream("3:vod-movie:7")
    stream.random()
    stream.rest()  # drawn from since it woke: stays awake
    assert not stream.asleep
    stream.rest()  # nothing drawn since the last rest: lets its state go
    assert stream.asleep
    later = stream.random()
    plain = random.Random("3:vod-movie:7")
    assert later == [plain.random() for _ in range(2)][1]


def test_a_session_in_steady_playback_holds_no_random_state() -> None:
    """Between the wake-ups that draw (its start, its decisions), a session's streams sleep:
    its pings draw from its ping timer's lateness, drawn ahead a batch at a time."""
    clock = VirtualClock("2026-03-02T20:00:00Z")
    engine = Engine(clock, MemoryTransport(Collector(clock, keep_events=False)))
    profile = load_profile("vod-movie")
    pool = MetadataPool.build(profile)
    player = engine.add(Player(profile, seed=5, index=3, metadata=pool))
    engine.advance(40 * 60)
    assert not player.finished
    assert player.rng.asleep
    # What the viewing holds of its own (not the run's shared catalogues, profile or code).
    shared = {id(profile), id(pool), id(player.title)}
    own = _reachable(player, shared)
    assert [obj for obj in own if isinstance(obj, RandomStream)]
    assert not [obj for obj in own if isinstance(obj, random.Random)]


def _reachable(root: object, shared: set[int]) -> list[object]:
    seen: dict[int, object] = {id(root): root}
    todo = [root]
    while todo:
        for child in gc.get_referents(todo.pop()):
            if id(child) in seen or id(child) in shared:
                continue
            if isinstance(child, (type, types.ModuleType, types.FunctionType)):
                continue
            seen[id(child)] = child
            todo.append(child)
    return list(seen.values())
