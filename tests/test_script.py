"""Scripted sessions: a timeline of actions gives exactly that traffic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from playersim import (
    CollectedSession,
    Collector,
    Engine,
    MemoryTransport,
    PlayerProtocolError,
    ScriptError,
    VirtualClock,
    load_script,
    script_from_dict,
)
from tests.conftest import START

ROOT = Path(__file__).parent.parent
SECTION_6 = ROOT / "examples" / "section6.toml"

# MCA-SPEC.md section 6, row by row: (t in seconds since sessionStart, playhead, event).
# Same-second events are 1 ms apart; ad pings every second.
TABLE: list[tuple[float, float, str]] = [
    (0, 0, "sessionStart"), (0.001, 0, "adBreakStart"), (0.002, 0, "adStart"),
    *[(t, 0, "ping") for t in range(1, 15)],
    (15, 0, "adComplete"), (15.001, 0, "adStart"),
    *[(t, 0, "ping") for t in range(16, 22)],
    (22, 0, "adComplete"), (22.001, 0, "adBreakComplete"), (22.002, 0, "play"),
    (30, 8, "ping"),
    (33, 11, "bufferStart"),
    (36, 11, "play"),
    (40, 15, "ping"),
    (46, 21, "adBreakStart"), (46.001, 21, "adStart"),
    *[(t, 21, "ping") for t in range(47, 54)],
    (54, 21, "adComplete"), (54.001, 21, "adBreakComplete"),
    (60, 27, "ping"),
    (64, 31, "pauseStart"),
    (70, 31, "ping"),
    (74, 31, "play"),
    (80, 37, "ping"),
    (88, 45, "sessionComplete"),
]  # fmt: skip


def perform(data: dict[str, Any] | Path, seed: int = 1) -> CollectedSession:
    script = load_script(data) if isinstance(data, Path) else script_from_dict(data)
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    engine.add(script.player(seed=seed))
    engine.run()
    [session] = collector.sessions
    return session


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`playersim run ARGS` in a fresh process, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "playersim", "run", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def timeline(session: CollectedSession) -> list[tuple[float, float, str]]:
    t0 = session.events[0].ts
    return [((e.ts - t0) / 1000, e.playhead, e.event_type) for e in session.events]


def test_section_6_of_the_spec_reproduces_exactly() -> None:
    """The documented VOD session, written as a script, gives that table's requests."""
    session = perform(SECTION_6)
    assert timeline(session) == TABLE
    start = session.start.params
    assert (start.length, start.content_type, start.id) == (60.33, "vod", "MA API Sample Player")
    pods = [e.params for e in session.events if e.event_type == "adBreakStart"]
    assert [(p["media.ad.podIndex"], p["media.ad.podSecond"]) for p in pods] == [(0, 0), (1, 21)]
    ads = [e.params for e in session.events if e.event_type == "adStart"]
    assert [(a["media.ad.id"], a["media.ad.length"], a["media.ad.podPosition"]) for a in ads] == [
        ("ad 1", 15, 1),
        ("ad 2", 7, 2),
        ("ad 3", 8, 1),
    ]
    assert session.problems == []


def test_a_script_is_the_same_traffic_every_time() -> None:
    """Same script, same seed: identical bodies."""
    first, second = perform(SECTION_6), perform(SECTION_6)
    assert [e.body for e in first.events] == [e.body for e in second.events]


def test_steps_can_wait_for_a_playhead_and_seek_across_chapters() -> None:
    """`playhead = 31` waits for the content; a seek skips the open chapter and starts another."""
    session = perform(
        {
            "timeline": [
                {"at": 2, "do": "play"},
                {"playhead": 31, "do": "pause", "for": 4},
                {"at": 40, "do": "seek", "to": 100},
                {"at": 50, "do": "stateStart", "name": "fullscreen"},
                {"at": 51, "do": "bitrate", "bitrate": 5_000_000},
                {"at": 52, "do": "error", "id": "MEDIA_ERR_DECODE", "source": "external"},
                {"at": 53, "do": "states", "start": ["mute"], "end": ["fullscreen"]},
                {"at": 60, "do": "end"},
            ],
            "session": {"length": 300, "chapters": [[0, 60, "One"], [60, 120, "Two"]]},
        }
    )
    rows = [(t, p, kind) for t, p, kind in timeline(session) if kind != "ping"]
    assert rows[:4] == [
        (0, 0, "sessionStart"),
        (2, 0, "play"),
        (2.001, 0, "chapterStart"),
        (33, 31, "pauseStart"),
    ]
    assert rows[4:9] == [
        (37, 31, "play"),
        (40, 34, "pauseStart"),
        (40.001, 34, "chapterSkip"),
        (40.002, 100, "play"),
        (40.003, 100, "chapterStart"),
    ]
    kinds = [kind for _, _, kind in rows[9:]]
    assert kinds == ["stateStart", "bitrateChange", "error", "statesUpdate", "sessionEnd"]
    chapter = session.events[[e.event_type for e in session.events].index("chapterStart", 4)]
    assert chapter.params["media.chapter.index"] == 2
    error = next(e for e in session.events if e.event_type == "error")
    assert error.body.qoe_data is not None
    assert error.body.qoe_data.error_id == "MEDIA_ERR_DECODE"
    assert session.problems == []


@pytest.mark.parametrize(
    ("timeline", "fragment"),
    [
        ([{"at": 1, "do": "seek"}], "timeline[0]: Value error, seek needs `to`"),
        ([{"at": 1, "playhead": 2, "do": "play"}], "give exactly one of `at` or `playhead`"),
        ([{"at": 1, "do": "rewind"}], "timeline[0].do: Input should be 'play'"),
        ([{"at": 1, "do": "play", "for": 3}], "`for` applies to pause and buffer"),
        ([{"at": -1, "do": "play"}], "timeline[0].at: Input should be greater than or equal to 0"),
        ([{"at": 1, "do": "adBreak", "ads": []}], "timeline[0].ads: List should have at least 1"),
        ([], "timeline: List should have at least 1 item"),
    ],
)
def test_a_broken_script_names_the_step_and_field(
    timeline: list[dict[str, Any]], fragment: str
) -> None:
    """Each mistake is reported with the step's place in the timeline and the field."""
    with pytest.raises(ScriptError) as caught:
        script_from_dict({"timeline": timeline}, source="bug.toml")
    assert str(caught.value).startswith("bug.toml: ")
    assert fragment.replace("Value error, ", "") in str(caught.value)


def test_a_step_the_state_machine_forbids_is_refused_not_sent() -> None:
    """Completing inside an ad cannot be emitted: the player raises, naming event and state."""
    expected = "cannot send 'sessionComplete' in state 'waiting, in an ad'"
    with pytest.raises(PlayerProtocolError, match=expected):
        perform(
            {
                "timeline": [{"at": 0, "do": "adBreak", "ads": [10]}, {"at": 5, "do": "complete"}],
                "session": {"length": 60},
            }
        )


def test_a_step_before_the_previous_one_is_refused() -> None:
    """Steps go forward in time; one scheduled in the past says so."""
    with pytest.raises(ScriptError, match=r"timeline\[1\] \(pause\): at 1 s is before"):
        perform(
            {
                "timeline": [{"at": 5, "do": "play"}, {"at": 1, "do": "pause"}],
                "session": {"length": 60},
            }
        )


def test_the_cli_plays_a_script(tmp_path: Path) -> None:
    """`playersim run --script FILE` plays it once and records exactly its requests."""
    out = tmp_path / "s6.ndjson"
    result = cli("--script", str(SECTION_6), "--record", str(out))
    assert result.returncode == 0, result.stderr
    assert "1 arrival of script" in result.stdout
    assert len(out.read_text().splitlines()) == len(TABLE)


def test_the_cli_reports_a_bad_script_with_exit_2(tmp_path: Path) -> None:
    """A broken script file: exit 2, one line naming the file, the step and the field."""
    bad = tmp_path / "bad.toml"
    bad.write_text('timeline = [{ at = 1, do = "seek" }]\n')
    result = cli("--script", str(bad))
    assert result.returncode == 2
    assert f"--script: {bad}: timeline[0]: seek needs `to`" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"timeline": [{"at": float("inf"), "do": "play"}]},
            "timeline[0].at: Input should be a finite number",
        ),
        (
            {"timeline": [{"at": 1, "do": "stateStart", "name": "bad name!"}]},
            "timeline[0].name: String should match pattern",
        ),
        ({"timeline": [{"at": 1, "do": "play", "to": 50}]}, "`to` does not apply to play"),
        (
            {
                "timeline": [{"at": 1, "do": "play"}],
                "session": {"length": 60, "chapters": [[0, 30, "a"], [20, 30, "b"]]},
            },
            "chapters[1]: [20, 30] overlaps the previous chapter",
        ),
        (
            {
                "timeline": [{"at": 1, "do": "play"}],
                "session": {"metadata": {"media.length": "abc"}},
            },
            "'media.length' is not a standard metadata key",
        ),
    ],
)
def test_script_values_are_checked_before_anything_is_sent(
    data: dict[str, Any], fragment: str
) -> None:
    """Infinite times, bad state names, stray fields, overlapping chapters, routing overrides."""
    with pytest.raises(ScriptError) as caught:
        script_from_dict(data)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("timeline", "expected"),
    [
        (
            [{"at": 1, "do": "seek", "to": 30}],
            "cannot send 'seek' in state 'waiting': content has not started",
        ),
        (
            [{"at": 0, "do": "adBreak", "ads": [10]}, {"at": 5, "do": "pause"}],
            "not while an ad break runs",
        ),
        (
            [
                {"at": 1, "do": "play"},
                {"at": 2, "do": "states", "start": [f"s{n}" for n in range(11)]},
            ],
            "at most 10 player states a session",
        ),
    ],
)
def test_steps_the_player_does_not_model_are_refused(
    timeline: list[dict[str, Any]], expected: str
) -> None:
    """A seek before the first frame, a pause inside an ad, an 11th state: refused, not sent."""
    with pytest.raises(PlayerProtocolError, match=expected):
        perform({"timeline": timeline, "session": {"length": 120}})


def test_an_on_demand_script_needs_a_length() -> None:
    """Without session.length a VOD script would end wherever a random title ends: refused."""
    with pytest.raises(ScriptError, match=r"session\.length: required for on-demand content"):
        perform({"timeline": [{"at": 1, "do": "play"}]})


def test_steps_after_the_end_are_reported_by_the_cli(tmp_path: Path) -> None:
    """A step the session never reached (it had ended) is an error, naming the step."""
    path = tmp_path / "late.toml"
    path.write_text(
        'timeline = [{ at = 1, do = "play" }, { at = 2, do = "end" }, { at = 3, do = "pause" }]\n'
        "[session]\nlength = 60\n"
    )
    result = cli("--script", str(path))
    assert result.returncode == 2
    assert "the session ended before timeline[2] (pause) could run" in result.stderr


def test_the_cli_names_the_step_the_player_refused(tmp_path: Path) -> None:
    """A step refused while running: exit 2, naming the file, the step, the event and the state."""
    path = tmp_path / "pause-in-ad.toml"
    path.write_text(
        'timeline = [{ at = 0, do = "adBreak", ads = [10] }, { at = 5, do = "pause" }]\n'
        "[session]\nlength = 60\n"
    )
    result = cli("--script", str(path))
    assert result.returncode == 2
    assert f"--script: {path}: timeline[1] (pause): cannot send 'pause'" in result.stderr
    assert "not while an ad break runs" in result.stderr


# --- what a script can write beyond the viewer's actions (issue 14, section 7) ---------------


def rows(session: CollectedSession) -> list[tuple[float, float, str]]:
    """The session's timeline without its pings."""
    return [row for row in timeline(session) if row[2] != "ping"]


def test_chapters_start_and_complete_as_the_playhead_crosses_them_even_between_events() -> None:
    """A chapter after a gap starts when the playhead reaches its offset, not at the next event;
    one that starts and ends between two events is sent all the same."""
    session = perform(
        {
            "timeline": [{"at": 0, "do": "play"}, {"at": 50, "do": "complete"}],
            "session": {"length": 60, "chapters": [[15, 10, "A"], [33, 5, "B"]]},
        }
    )
    assert rows(session) == [
        (0, 0, "sessionStart"),
        (0.001, 0, "play"),
        (15, 15, "chapterStart"),
        (25, 25, "chapterComplete"),
        (33, 33, "chapterStart"),
        (38, 38, "chapterComplete"),
        (50, 50, "sessionComplete"),
    ]
    starts = [e.params for e in session.events if e.event_type == "chapterStart"]
    assert [(p["media.chapter.index"], p["media.chapter.friendlyName"]) for p in starts] == [
        (1, "A"),
        (2, "B"),
    ]
    assert session.problems == []


def test_a_chapter_can_be_reported_late_and_carry_custom_metadata() -> None:
    """`start_playhead` sends the chapterStart after its offset; `custom` is its customMetadata."""
    session = perform(
        {
            "timeline": [{"at": 2, "do": "play"}, {"at": 30, "do": "end"}],
            "session": {
                "length": 60,
                "chapters": [
                    {
                        "offset": 0,
                        "length": 20,
                        "name": "Uno",
                        "start_playhead": 1,
                        "custom": {"scene": "opening"},
                    }
                ],
            },
        }
    )
    start = next(e for e in session.events if e.event_type == "chapterStart")
    assert (start.ts - session.events[0].ts, start.playhead) == (3000, 1)
    assert start.params["media.chapter.offset"] == 0
    assert start.body.custom_metadata == {"scene": "opening"}
    assert session.problems == []


def test_the_session_start_can_be_written_param_for_param() -> None:
    """Player, channel, SDK, visitor id, SSL, content type and customMetadata as written; with
    `only_written_params` nothing else but routing and the content's own required params."""
    session = perform(
        {
            "timeline": [{"at": 0, "do": "play"}, {"at": 5, "do": "end"}],
            "session": {
                "length": 60.3333333333333,
                "content_type": "VOD",
                "player_name": "sample-player",
                "channel": "sample-channel",
                "sdk_version": "va-api-0.0.0",
                "visitor_id": "visitor-1",
                "enable_ssl": False,
                "custom": {"myKey": "my value"},
                "only_written_params": True,
            },
        }
    )
    params = session.start.params
    written = params.model_dump(by_alias=True, exclude_none=True)
    assert set(written) == {
        "analytics.trackingServer", "analytics.reportSuite", "visitor.marketingCloudOrgId",
        "media.id", "media.name", "media.length", "media.contentType", "media.playerName",
        "media.channel", "media.sdkVersion", "analytics.visitorId", "analytics.enableSSL",
    }  # fmt: skip
    assert (params.player_name, params.channel, params.sdk_version) == (
        "sample-player",
        "sample-channel",
        "va-api-0.0.0",
    )
    assert (params.visitor_id, params.enable_ssl, params.content_type) == (
        "visitor-1",
        False,
        "VOD",
    )
    assert params.length == 60.3333333333333  # finer than a millisecond: sent as written
    assert session.events[0].body.custom_metadata == {"myKey": "my value"}


def test_the_profile_still_gives_what_a_script_does_not_write() -> None:
    """Without `only_written_params`, the profile's and the viewer's params stay, overridden
    only where the script writes."""
    session = perform(
        {
            "timeline": [{"at": 0, "do": "play"}, {"at": 5, "do": "end"}],
            "session": {"length": 60, "channel": "sample-channel"},
        }
    )
    params = session.start.params
    assert params.channel == "sample-channel"
    assert params.ecid is not None
    assert params.app_installation_id is not None
    assert params.length == 60
    assert isinstance(params.length, int)


def test_a_pod_and_its_ads_carry_every_field_a_script_writes() -> None:
    """podFriendlyName, every media.ad.* field, customMetadata on the adStart; the ads' player
    is the session's unless an ad names its own."""
    ad = {
        "length": 10,
        "id": "001",
        "name": "Ad 1",
        "advertiser": "Ad Guys",
        "campaign_id": "1",
        "creative_id": "42",
        "site_id": "XYZ",
        "creative_url": "https://example.com",
        "placement_id": "sample_placement",
        "custom": {"myCustomData1": "CustomData1"},
    }
    session = perform(
        {
            "timeline": [
                {
                    "at": 0,
                    "do": "adBreak",
                    "pod_name": "ad_pod1",
                    "ads": [ad, {"length": 5, "player_name": "Ad Player"}],
                },
                {"at": 15, "do": "play"},
                {"at": 20, "do": "end"},
            ],
            "session": {"length": 60, "player_name": "Main Player"},
        }
    )
    pod = next(e for e in session.events if e.event_type == "adBreakStart")
    assert pod.params["media.ad.podFriendlyName"] == "ad_pod1"
    first, second = [e for e in session.events if e.event_type == "adStart"]
    assert first.params == {
        "media.ad.id": "001",
        "media.ad.length": 10,
        "media.ad.podPosition": 1,
        "media.ad.playerName": "Main Player",
        "media.ad.name": "Ad 1",
        "media.ad.advertiser": "Ad Guys",
        "media.ad.campaignId": "1",
        "media.ad.creativeId": "42",
        "media.ad.siteId": "XYZ",
        "media.ad.creativeURL": "https://example.com",
        "media.ad.placementId": "sample_placement",
    }
    assert first.body.custom_metadata == {"myCustomData1": "CustomData1"}
    assert second.params["media.ad.playerName"] == "Ad Player"
    assert second.body.custom_metadata is None
    assert session.problems == []


def test_a_play_sends_the_qoe_data_written_and_an_error_can_stop_playback() -> None:
    """`qoe` on a play is its qoeData ({} for none); an error without `id` has no qoeData, and
    with `stops_playback` the playhead holds until the next play, with no pause or buffer."""
    session = perform(
        {
            "timeline": [
                {"at": 0, "do": "play", "qoe": {}},
                {"at": 12, "do": "error", "stops_playback": True},
                {"at": 17, "do": "play", "qoe": {"media.qoe.bitrate": 10000}},
                {"playhead": 15, "do": "end"},
            ],
            "session": {"length": 60},
        }
    )
    assert rows(session) == [
        (0, 0, "sessionStart"),
        (0.001, 0, "play"),
        (12, 12, "error"),
        (17, 12, "play"),
        (20, 15, "sessionEnd"),
    ]
    first_play, error, second_play = session.events[1], session.events[3], session.events[4]
    assert first_play.body.qoe_data is None
    assert error.body.qoe_data is None
    assert second_play.body.qoe_data is not None
    assert second_play.body.qoe_data.bitrate == 10000
    assert session.problems == []  # a held playhead after an error is conformant


def test_a_session_can_end_after_it_completed() -> None:
    """`end` after `complete`: sessionComplete, then sessionEnd, and the viewing counts as
    completed."""
    script = script_from_dict(
        {
            "timeline": [
                {"at": 0, "do": "play"},
                {"at": 20, "do": "complete"},
                {"at": 25, "do": "end"},
            ],
            "session": {"length": 60},
        }
    )
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    player = script.player(seed=1)
    engine.add(player)
    engine.run()
    [session] = collector.sessions
    assert rows(session)[-2:] == [(20, 20, "sessionComplete"), (25, 20, "sessionEnd")]
    assert player.outcome == "completed"
    assert session.problems == []


def test_only_a_session_end_may_follow_a_session_complete() -> None:
    """Anything else after `complete` is refused by the state machine, naming event and state."""
    with pytest.raises(PlayerProtocolError, match="cannot send 'play' in state 'complete'"):
        perform(
            {
                "timeline": [
                    {"at": 0, "do": "play"},
                    {"at": 20, "do": "complete"},
                    {"at": 25, "do": "play"},
                ],
                "session": {"length": 60},
            }
        )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            {"timeline": [{"at": 1, "do": "play", "custom": {"k": "v"}}]},
            "timeline[0]: `custom` does not apply to play: customMetadata is carried only by "
            "sessionStart ([session] custom), adStart",
        ),
        (
            {"timeline": [{"at": 1, "do": "play", "qoe": {"bitrate": 10000}}]},
            "timeline[0].qoe.bitrate: unknown field",
        ),
        (
            {"timeline": [{"at": 1, "do": "pause", "qoe": {}}]},
            "`qoe` does not apply to pause",
        ),
        (
            {"timeline": [{"at": 1, "do": "error", "source": "external"}]},
            "error: `source` needs `id`",
        ),
        (
            {"timeline": [{"at": 1, "do": "play", "stops_playback": True}]},
            "`stops_playback` does not apply to play",
        ),
        (
            {"timeline": [{"at": 1, "do": "play", "pod_name": "x"}]},
            "`pod_name` does not apply to play",
        ),
        (
            {"timeline": [{"at": 1, "do": "play"}], "session": {"custom": {"media.show": "x"}}},
            "session.custom: Value error, key 'media.show' starts with 'media.'",
        ),
        (
            {"timeline": [{"at": 1, "do": "play"}], "session": {"custom": {"a.b": "x"}}},
            "must not start with 'a.'",
        ),
        (
            {"timeline": [{"at": 0, "do": "adBreak", "ads": [{"length": 5, "custom": {"k": 1}}]}]},
            "timeline[0].ads[0].custom.k: Input should be a valid string (got 1)",
        ),
        (
            {
                "timeline": [{"at": 1, "do": "play"}],
                "session": {
                    "chapters": [{"offset": 10, "length": 5, "name": "a", "start_playhead": 9}]
                },
            },
            "chapters[0]: start_playhead 9 is not inside the chapter [10, 15)",
        ),
        (
            {"timeline": [{"at": 1, "do": "play"}], "session": {"chapters": [[10, 5]]}},
            "session.chapters[0]: a chapter is [offset, length, name]",
        ),
    ],
)
def test_new_script_fields_are_checked_before_anything_is_sent(
    data: dict[str, Any], fragment: str
) -> None:
    """customMetadata where MCA carries none, qoeData keys that are not MCA's, stray fields,
    reserved keys, a chapter reported outside itself: each named by field and value."""
    with pytest.raises(ScriptError) as caught:
        script_from_dict(data, source="bug.toml")
    assert fragment.replace("Value error, ", "") in str(caught.value)


def test_an_error_cannot_stop_playback_inside_an_ad_break() -> None:
    """The player runs ads to their end: stopping content there is refused, not sent."""
    with pytest.raises(PlayerProtocolError, match="cannot stop playback while an ad break runs"):
        perform(
            {
                "timeline": [
                    {"at": 0, "do": "adBreak", "ads": [10]},
                    {"at": 5, "do": "error", "stops_playback": True},
                ],
                "session": {"length": 60},
            }
        )
