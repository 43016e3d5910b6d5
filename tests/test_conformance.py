"""The conformance report catches a buggy player: each kind of mistake, made to a good session."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Rule,
    VirtualClock,
    WireBody,
    check_session,
    load_script,
    to_wire,
    validate_body,
)
from tests.conftest import START

SECTION_6 = Path(__file__).parent.parent / "examples" / "section6.toml"


def good_session() -> list[WireBody]:
    """The section 6 session, plus a chapter and two player states, as sent on the wire."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    script = load_script(SECTION_6)
    data = script.model_dump(by_alias=True)
    data["session"]["chapters"] = [[0, 60.33, "All of it"]]
    data["session"]["states"] = ["fullscreen", "closedCaptioning"]
    engine.add(type(script).model_validate(data).player(seed=1))
    engine.run()
    [session] = collector.sessions
    assert session.problems == []
    return [to_wire(event.body) for event in session.events]


BASE = good_session()


def index_of(bodies: list[WireBody], event_type: str, nth: int = 0) -> int:
    return [i for i, b in enumerate(bodies) if b["eventType"] == event_type][nth]


def drop_ad_break_complete(bodies: list[WireBody]) -> None:
    del bodies[index_of(bodies, "adBreakComplete")]


def wrong_pod_position(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "adStart", 1)]["params"]["media.ad.podPosition"] = 3


def wrong_pod_second(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "adBreakStart", 1)]["params"]["media.ad.podSecond"] = 0


def second_preroll(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "adBreakStart", 1)]["params"]["media.ad.podIndex"] = 0


def playhead_moves_in_an_ad(bodies: list[WireBody]) -> None:
    ping = index_of(bodies, "adStart", 2) + 3
    bodies[ping]["playerTime"]["playhead"] = 22


def playhead_runs_ahead(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "bufferStart")]["playerTime"]["playhead"] = 20


def playhead_past_the_end(bodies: list[WireBody]) -> None:
    bodies[-1]["playerTime"]["playhead"] = 61


def overlapping_chapter(bodies: list[WireBody]) -> None:
    extra = copy.deepcopy(bodies[index_of(bodies, "chapterStart")])
    extra["playerTime"]["ts"] += 1
    at = index_of(bodies, "chapterStart") + 1
    for body in bodies[at:]:
        body["playerTime"]["ts"] += 1
    bodies.insert(at, extra)


def chapter_away_from_playhead(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "chapterStart")]["params"]["media.chapter.offset"] = 30


def state_never_started(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "ping", 20)] = {
        "playerTime": bodies[index_of(bodies, "ping", 20)]["playerTime"],
        "eventType": "stateEnd",
        "params": {"media.state.name": "mute"},
    }


def eleven_states(bodies: list[WireBody]) -> None:
    first = index_of(bodies, "ping", 20)
    for n in range(9):
        bodies[first + n] = {
            "playerTime": bodies[first + n]["playerTime"],
            "eventType": "stateStart",
            "params": {"media.state.name": f"custom{n}"},
        }


def repeated_ts(bodies: list[WireBody]) -> None:
    bodies[2]["playerTime"]["ts"] = bodies[1]["playerTime"]["ts"]  # adStart at its break's ts


def event_received_twice(bodies: list[WireBody]) -> None:
    at = index_of(bodies, "adStart")
    bodies.insert(at + 1, copy.deepcopy(bodies[at]))  # a retry whose first try arrived


def missing_pings(bodies: list[WireBody]) -> None:
    # The ping at 30 s and the rebuffer after it: 18 s from the chapter's start to the next ping.
    at = index_of(bodies, "bufferStart")
    del bodies[at - 1 : at + 2]


def custom_metadata_on_a_ping(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "ping", 30)]["customMetadata"] = {"campaign": "x"}


def play_inside_a_break(bodies: list[WireBody]) -> None:
    body = bodies[index_of(bodies, "adStart", 1)]  # between the first and second ad
    body["eventType"] = "play"
    del body["params"]


def rebuffer_that_jumps(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "bufferStart") + 1]["playerTime"]["playhead"] = 300  # the play


def state_started_twice(bodies: list[WireBody]) -> None:
    body = bodies[index_of(bodies, "ping", 20)]
    bodies[index_of(bodies, "ping", 20)] = {
        "playerTime": body["playerTime"],
        "eventType": "stateStart",
        "params": {"media.state.name": "fullscreen"},  # already on from the statesUpdate
    }


def pod_index_skips(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "adBreakStart", 1)]["params"]["media.ad.podIndex"] = 3


def dropped_frames_go_down(bodies: list[WireBody]) -> None:
    ping = index_of(bodies, "ping", 25)
    bodies[ping]["qoeData"] = {"media.qoe.droppedFrames": 5}
    bodies[ping + 1]["qoeData"] = {"media.qoe.droppedFrames": 2}


def mid_roll_before_play(bodies: list[WireBody]) -> None:
    bodies[index_of(bodies, "adBreakStart")]["params"]["media.ad.podIndex"] = 1


MUTATIONS: list[tuple[Callable[[list[WireBody]], None], Rule]] = [
    (rebuffer_that_jumps, Rule.PLAYHEAD_MOTION),
    (state_started_twice, Rule.STATES),
    (pod_index_skips, Rule.AD_PARAMS),
    (mid_roll_before_play, Rule.AD_PARAMS),
    (dropped_frames_go_down, Rule.QOE),
    (drop_ad_break_complete, Rule.ORDER),
    (play_inside_a_break, Rule.ORDER),
    (overlapping_chapter, Rule.ORDER),
    (wrong_pod_position, Rule.AD_PARAMS),
    (wrong_pod_second, Rule.AD_PARAMS),
    (second_preroll, Rule.AD_PARAMS),
    (playhead_moves_in_an_ad, Rule.PLAYHEAD_MOTION),
    (playhead_runs_ahead, Rule.PLAYHEAD_MOTION),
    (playhead_past_the_end, Rule.PLAYHEAD_RANGE),
    (chapter_away_from_playhead, Rule.CHAPTER),
    (state_never_started, Rule.STATES),
    (eleven_states, Rule.STATES),
    (repeated_ts, Rule.TS_ORDER),
    (event_received_twice, Rule.DUPLICATE),
    (missing_pings, Rule.GAP),
    (custom_metadata_on_a_ping, Rule.CUSTOM_METADATA),
]


def test_the_good_session_has_chapters_states_and_ads() -> None:
    """The base every mutation starts from exercises ads, a chapter and player states."""
    kinds = {body["eventType"] for body in BASE}
    assert {"adBreakStart", "adStart", "chapterStart", "statesUpdate", "sessionComplete"} <= kinds
    assert check_session([validate_body(b) for b in BASE]) == []


@pytest.mark.parametrize(
    ("mutate", "rule"), MUTATIONS, ids=[mutate.__name__ for mutate, _ in MUTATIONS]
)
def test_each_kind_of_mistake_is_caught(
    mutate: Callable[[list[WireBody]], None], rule: Rule
) -> None:
    """A session with one mistake of this kind is flagged with the matching rule."""
    bodies = copy.deepcopy(BASE)
    mutate(bodies)
    problems = check_session([validate_body(b) for b in bodies])
    assert rule in {problem.rule for problem in problems}, problems


def test_an_event_received_twice_is_one_duplicate_problem_and_nothing_else() -> None:
    """A retry after a lost answer repeats a body exactly: that is its own rule, and the copy
    is not judged again as an adStart out of its pod's order or a ts that did not move."""
    bodies = copy.deepcopy(BASE)
    event_received_twice(bodies)
    [problem] = check_session([validate_body(b) for b in bodies])
    assert problem.rule is Rule.DUPLICATE
    assert problem.message == "adStart received twice (a retry after a lost answer?)"


def test_a_session_left_to_time_out_is_unterminated() -> None:
    """A session closed by the back end's timeout before it completed or ended is flagged."""
    bodies = [validate_body(b) for b in BASE[:20]]
    [problem] = check_session(bodies, closed=True, close_reason="idle timeout")
    assert problem.rule is Rule.UNTERMINATED
    assert (
        check_session([validate_body(b) for b in BASE], closed=True, close_reason="idle timeout")
        == []
    )
