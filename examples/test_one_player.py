"""For test engineers: one player on a fake clock, moved second by second, with assertions on
exactly what reached the collector. Run it with pytest (`pytest examples/test_one_player.py`):
the fixtures come from playersim's pytest plugin, registered when playersim is installed."""

from __future__ import annotations

from playersim import Collector, Engine, Player, VirtualClock
from playersim.testing import assert_ended, assert_event_order, assert_no_problems


def test_a_live_viewer_second_by_second(
    playersim_clock: VirtualClock,
    playersim_engine: Engine,
    playersim_collector: Collector,
    make_player: object,
) -> None:
    assert callable(make_player)
    player: Player = make_player("live-news", seed=6)
    playersim_engine.advance(1)
    session = playersim_collector.session(player.sid or "")
    assert session.event_types[0] == "sessionStart"
    # A live playhead is the second of the UTC day: noon is 43,200.
    assert session.events[0].playhead == 43_200
    for _ in range(30):  # thirty seconds, one at a time: a ping every 10 s of playback
        playersim_engine.advance(1)
    assert session.event_types.count("ping") >= 2
    assert session.events[-1].ts <= playersim_clock.now()
    playersim_engine.run()  # to the viewer's own end
    assert_event_order(session, ["sessionStart", "ping"])
    assert_ended(session)
    assert_no_problems(playersim_collector)
