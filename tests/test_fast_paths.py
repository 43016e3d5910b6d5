"""The hot path's shortcuts give the answers the long way would."""

from __future__ import annotations

import pytest

from playersim import Player, PlayerProtocolError, load_profile
from playersim.audience.profiles import bundled_profiles
from playersim.mca.api import Request
from playersim.mca.states import SessionState, State, advance
from playersim.mca.wire import make_body
from tests.conftest import START

# Each profile, plus viewings where the stall deadline is the earliest mechanic but a ping (which
# moves the playhead, and so the deadline) comes first: the case the fast path must not take.
_VIEWINGS = [(name, 2, index) for name in sorted(bundled_profiles()) for index in range(6)] + [
    ("podcast-audio", 1, 35),
    ("podcast-audio", 11, 2),
    ("vod-episode", 2, 28),
    ("vod-movie", 3, 29),
]


@pytest.mark.parametrize(("name", "seed", "index"), _VIEWINGS)
def test_ping_fast_path_schedules_what_a_full_recomputation_would(
    name: str, seed: int, index: int
) -> None:
    # After every batch of events (most of them a single ping, which takes the fast path), the
    # player's cached next step, and the earliest other mechanic it keeps for the next ping,
    # must be exactly what recomputing every mechanic gives.
    player = Player(load_profile(name), seed=seed, index=index, start_at=START)
    while (wake := player.next_wakeup) is not None:
        for body in player.due(wake):
            if body["eventType"] == "sessionStart":
                player.on_response("sessionStart", 201, sid="0" * 64)
        if player.finished:
            break
        cached = player._due_cache
        assert cached is not None  # next_wakeup has just filled it
        # `_find_other` has no side effects; `_find_next` refreshes what the ping keeps.
        assert player._other_due == player._find_other(), (name, index, wake)
        assert cached[0] == player._find_next(), (name, index, wake)


def test_remembered_transitions_still_refuse() -> None:
    ended = advance(advance(SessionState(), "sessionStart"), "sessionEnd")
    for _ in range(2):  # refused transitions are never remembered
        with pytest.raises(PlayerProtocolError):
            advance(ended, "ping")
    with pytest.raises(PlayerProtocolError):
        advance(SessionState(), "noSuchEvent")
    playing = advance(advance(SessionState(), "sessionStart"), "play")
    assert advance(playing, "ping") == SessionState(State.PLAYING)
    assert advance(playing, "ping") is advance(playing, "ping")


def test_request_event_type_is_the_bodys() -> None:
    body = make_body("ping", 0, 1)
    assert Request("/p", body).event_type == "ping"
    assert Request("/p", {}).event_type == ""
    assert Request("/p", body, "ping") == Request("/p", body)
