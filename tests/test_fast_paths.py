"""The hot path's shortcuts give the answers the long way would.

(The player's ping shortcut: tests/test_mechanics.py, by the traffic it sends.)
"""

from __future__ import annotations

import pytest

from playersim import PlayerProtocolError
from playersim.mca.api import Request
from playersim.mca.dialect import MCA
from playersim.mca.states import SessionState, State, advance
from playersim.mca.wire import make_body


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


@pytest.mark.parametrize("sid", ["a" * 64, "a/b", "a?b", ""])
def test_the_sid_an_mca_dialect_gives_its_requests_is_the_one_their_path_names(sid: str) -> None:
    """Worked out once per session, not from the path of every request: the same answer."""
    request = MCA.events(sid)(make_body("ping", 0, 1), "ping")
    assert request.sid == Request(request.path, request.body).sid
    assert request.sid == (sid if sid == "a" * 64 else None)
