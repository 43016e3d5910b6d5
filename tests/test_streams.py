"""A session's random streams: the same numbers as `random.Random`, with their state let go
between the wake-ups that draw from them (issue 17: memory per session in progress)."""

from __future__ import annotations

import gc
import random
import types
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from playersim import Player, load_profile
from playersim.audience.metadata import MetadataPool
from playersim.audience.streams import RandomStream, Rng
from playersim.sim.behaviour import ViewerBehaviour

# Each a draw a session makes (with arguments), or a pause in which the stream may sleep.
_DRAWS: dict[str, Callable[[Rng], object]] = {
    "random": lambda rng: rng.random(),
    "getrandbits 0": lambda rng: rng.getrandbits(0),
    "getrandbits 1": lambda rng: rng.getrandbits(1),
    "getrandbits 32": lambda rng: rng.getrandbits(32),
    "getrandbits 33": lambda rng: rng.getrandbits(33),
    "getrandbits 64": lambda rng: rng.getrandbits(64),
    "getrandbits 200": lambda rng: rng.getrandbits(200),
    "getrandbits many": lambda rng: rng.getrandbits(32 * 5_000 + 7),
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
# gauss keeps the second value it makes: a sleep between the two must keep it too.
@example(seed="3:vod-movie:7", steps=["gauss", "sleep", "gauss", "random"])
# More words than a stream moves past in one go when it is made again.
@example(seed="x", steps=["getrandbits many", "sleep", "random", "rest", "rest", "random"])
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
    plain.random()
    assert later == plain.random()


@pytest.mark.parametrize(("profile_name", "index"), [("vod-movie", 3), ("ugc-clip", 10)])
def test_a_viewing_holds_no_random_state_between_the_wake_ups_that_draw(
    profile_name: str, index: int
) -> None:
    """Made, a viewing holds no Mersenne Twister state; after a wake-up that sent only a ping,
    none either (its draws, behaviour, burst timing, dropped frames, skip reactions, asleep;
    its ping timer's lateness drawn ahead); nor once it is over. (ugc-clip: skippable ads,
    so skip reactions are drawn.)"""
    profile = load_profile(profile_name)
    pool = MetadataPool.build(profile)
    player = Player(profile, seed=5, index=index, metadata=pool, start_at=0)
    shared = {id(profile), id(pool), id(player.title)}  # the run's, not the viewing's
    assert _randoms(player, shared) == []
    quiet = 0
    while not player.finished:
        wake = player.next_wakeup
        assert wake is not None
        bodies = player.due(wake)
        if any(body["eventType"] == "sessionStart" for body in bodies):
            player.on_response("sessionStart", 201, sid="f" * 64)
        if bodies and all(body["eventType"] == "ping" for body in bodies):
            quiet += 1
            assert _randoms(player, shared) == [], f"after the ping at {wake}"
    assert quiet > 10
    assert _randoms(player, shared) == []
    if profile_name == "ugc-clip":  # (the viewing this test picked drew skip reactions)
        assert isinstance(player.behaviour, ViewerBehaviour)
        assert isinstance(player.behaviour.reactions, RandomStream)


def _randoms(root: object, shared: set[int]) -> list[random.Random]:
    """The `random.Random` objects reachable from `root`, not through `shared` or code."""
    seen = {id(root)}
    todo = [root]
    found = []
    while todo:
        for child in gc.get_referents(todo.pop()):
            if id(child) in seen or id(child) in shared:
                continue
            if isinstance(child, (type, types.ModuleType, types.FunctionType)):
                continue
            seen.add(id(child))
            todo.append(child)
            if isinstance(child, random.Random):
                found.append(child)
    return found
