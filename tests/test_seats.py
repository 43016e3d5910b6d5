"""Seats: a closed workload's places, as a load tool that runs each viewer as its own task
(Locust) takes them. The same seed and seat key give the same viewings on any machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    Seats,
    VirtualClock,
    assert_no_problems,
    load_profile,
)
from tests.conftest import START


def viewing(player: Player) -> tuple[str, str, str]:
    return (player.profile.name, player.title.name, player.visitor.visitor_id)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**9) | st.text(max_size=8), key=st.text(min_size=1, max_size=12))
def test_the_same_seed_and_key_give_the_same_viewings(seed: int | str, key: str) -> None:
    profiles = [load_profile("vod-episode"), load_profile("live-news")]

    def viewings() -> list[tuple[str, str, str]]:
        seat = Seats(profiles, [2, 1], seed=seed, between_s=(1, 5)).seat(key)
        return [viewing(seat.next_viewing(at=0)) for _ in range(4)]

    assert viewings() == viewings()


def test_seats_with_different_keys_play_different_viewers() -> None:
    seats = Seats([load_profile("vod-episode")], seed=3)
    firsts = {viewing(seats.seat(f"0.{n}").next_viewing(at=0)) for n in range(20)}
    assert len(firsts) == 20


def test_a_seat_follows_the_weights_and_never_plays_a_weight_of_zero() -> None:
    seats = Seats([load_profile("vod-movie"), load_profile("podcast-audio")], [1, 0], seed=1)
    seat = seats.seat("0.0")
    assert {seat.next_viewing(at=0).profile.name for _ in range(50)} == {"vod-movie"}


def test_the_first_viewing_starts_at_once_and_each_later_one_after_a_pause() -> None:
    seat = Seats([load_profile("ugc-clip")], seed=1, between_s=(2, 10)).seat("0.0")
    assert seat.next_viewing(at=1_000).start_at == 1_000
    for _ in range(30):
        start_at = seat.next_viewing(at=1_000).start_at
        assert start_at is not None
        assert 3_000 <= start_at <= 11_000


@pytest.mark.parametrize("between", [(5.0, 1.0), (-1.0, 2.0), (0.0, float("inf"))])
def test_a_pause_that_is_not_a_range_is_refused(between: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="pause between viewings"):
        Seats([load_profile("ugc-clip")], between_s=between)


def test_a_seat_on_an_engine_plays_viewing_after_viewing_with_binges() -> None:
    """What a Locust user does, on a virtual clock: a viewing, the next episode when autoplay
    rolls on, another viewing when that ends. Every session is valid."""
    clock = VirtualClock(START)
    collector = Collector(clock)
    seats = Seats([load_profile("vod-episode")], seed=9, between_s=(5, 30))
    seat = seats.seat("0.0")
    engine = Engine(clock, MemoryTransport(collector), follow_up=seats.follow_up)
    engine.add(seat.next_viewing(clock.now()))
    for _ in range(40):
        engine.run()
        engine.add(seat.next_viewing(clock.now()))
    engine.stop()
    assert engine.stats.follow_ups > 0  # some episodes rolled on into the next
    assert len(collector.sessions) >= 40
    assert_no_problems(collector)
