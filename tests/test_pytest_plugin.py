"""The pytest plugin, as a user meets it: a fresh project whose tests only name the fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# Each test runs pytest in a fresh project, in a process of its own.
pytestmark = pytest.mark.slow

TESTING_PAGE = (Path(__file__).parent.parent / "docs" / "testing.md").read_text(encoding="utf-8")

EXAMPLE = """
from playersim.testing import (
    assert_completed, assert_ended, assert_event_order, assert_no_problems,
)


def test_one_viewer_second_by_second(playersim_clock, playersim_engine, playersim_collector,
                                     make_player):
    player = make_player("ugc-clip", seed=3)
    playersim_engine.advance(1)
    session = playersim_collector.session(player.sid)
    assert session.event_types[0] == "sessionStart"
    playersim_engine.run()
    assert_event_order(session, ["sessionStart", "play", "ping"])
    assert_ended(session)
    assert_no_problems(playersim_collector)


def test_an_audience(playersim_engine, playersim_collector, make_audience):
    make_audience(sessions=12, profiles=["ugc-clip", "live-news"], duration="30m")
    playersim_engine.run()
    assert len(playersim_collector.sessions) >= 12
    for session in playersim_collector.sessions:
        assert_ended(session)
    assert_no_problems(playersim_collector)


def test_a_completed_session(playersim_engine, playersim_collector, make_player):
    for seed in range(40):
        make_player("ugc-clip", seed=seed)
    playersim_engine.run()
    completed = [s for s in playersim_collector.sessions if s.completed]
    assert completed
    assert_completed(completed[0])
"""


def test_the_fixtures_work_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_a_start_of_ones_own(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture
def playersim_start():
    return "2030-06-01T20:00:00Z"
"""
    )
    pytester.makepyfile(
        test_start="""
from playersim import format_instant

def test_clock(playersim_clock):
    assert format_instant(playersim_clock.now()) == "2030-06-01T20:00:00.000Z"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_failing_assertions_say_what_happened(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fail="""
from playersim.testing import assert_completed, assert_event_order


def test_order(playersim_engine, playersim_collector, make_player):
    player = make_player("ugc-clip", seed=3)
    playersim_engine.advance(1)
    assert_event_order(playersim_collector.session(player.sid), ["sessionStart", "adStart"])

def test_complete(playersim_engine, playersim_collector, make_player):
    player = make_player("ugc-clip", seed=3)
    playersim_engine.advance(1)
    assert_completed(playersim_collector.session(player.sid))
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*has no adStart after sessionStart; expected, in order: sessionStart, adStart*",
            "*did not complete: its last event is stateStart*",
        ]
    )


def test_the_readme_example_passes_as_a_test_file(pytester: pytest.Pytester) -> None:
    """The documented complete example test file, run by pytest in a fresh project."""
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", TESTING_PAGE, flags=re.DOTALL)
        if block.startswith("# test_playback.py")
    ]
    pytester.makepyfile(test_playback=example)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
