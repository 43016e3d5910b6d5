"""The answer key, checked by hand: Adobe's reporting record of sessions whose every figure is
worked out here, in the comments, from Adobe's definitions (ADOBE-METRICS.md) and the readings
playersim takes where they leave a choice (`playersim.reporting.readings`).

Three kinds of test:

1. Adobe's three documented MCA timelines (examples/scripts/), played through the engine to a
   collector, every metric of their record against the figures worked out by hand (Timeline 1
   as ADOBE-METRICS.md section 5.3 works it).
2. One short session per metric or group of metrics, written for it: a script, or, where no
   player would send it (a frozen playhead, ad events outside a break), the MCA bodies by hand.
3. Rules every record of every simulated session keeps, whatever the profile and the seed, and
   the same record whether the session went over the MCA or Media Edge.

Times: the player sends the events of one instant 1 ms apart (MCA-SPEC.md section 4), so a
`play` "at 22 s" is at 22.002 s and an interval may lose a millisecond or two at each end. Every
time is compared to `TIME` (0.01 s): a few milliseconds of that spread, far below the whole
seconds Adobe stores (gap G1), and far below any mistake worth catching (a wrong state is
seconds off). Ratios of such times (average minute audience) are compared to `RATIO`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from playersim import (
    CollectedSession,
    Collector,
    Engine,
    MemoryTransport,
    Player,
    VirtualClock,
    bundled_profiles,
    load_profile,
    load_script,
)
from playersim.edge.dialect import EdgeDialect
from playersim.edge.front import speak_edge
from playersim.mca.dialect import MCA
from playersim.reporting.readings import Readings
from playersim.reporting.record import SessionMeter, SessionRecord, record_of_events
from playersim.reporting.reporter import Reporter, record_of_session
from playersim.sim.script import script_from_dict
from playersim.transports.recording import Recorder
from tests.conftest import START

SCRIPTS = Path(__file__).parent.parent / "examples" / "scripts"
DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"
EDGE = EdgeDialect(DATASTREAM)

# Seconds: the 1 ms spacing of one instant's events, summed over a session's intervals.
TIME = 0.01
# Average minute audience: a few ms over a length of a minute or more.
RATIO = 0.001
# Adobe's Timelines' content length (Action 1: media.length).
TL_LENGTH = 60.3333333333333


# --- helpers ----------------------------------------------------------------------------------


def collected(script: Any, *, dialect: Any = MCA) -> list[CollectedSession]:
    """The sessions a collector kept of one scripted viewing, played on a virtual clock."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock, seed="1")
    if dialect is not MCA:
        collector = speak_edge(collector)
    engine = Engine(clock, MemoryTransport(collector), dialect=dialect)
    engine.add(script.player(seed=1))
    engine.run()
    for session in collector.sessions:
        assert session.problems == []
    return collector.sessions


def timeline(name: str) -> SessionRecord:
    """The record of one of Adobe's timelines, played from examples/scripts/."""
    [session] = collected(load_script(SCRIPTS / name))
    return record_of_session(session)


def scripted(data: dict[str, Any]) -> list[SessionRecord]:
    """The records of a script written as a dict (a viewing may make more than one session)."""
    return [record_of_session(s) for s in collected(script_from_dict(data))]


def one(data: dict[str, Any]) -> SessionRecord:
    [record] = scripted(data)
    return record


def vod(length: float, *steps: dict[str, Any], **session: Any) -> dict[str, Any]:
    """A script on on-demand content of `length` seconds (the vod-movie profile's routing)."""
    return {"session": {"length": length, **session}, "timeline": list(steps)}


T0 = 1_795_780_800_000  # START, in epoch ms
Body = Mapping[str, Any]  # an MCA body


def ev(
    t: float,
    playhead: float,
    kind: str,
    params: Mapping[str, Any] | None = None,
    qoe: Mapping[str, Any] | None = None,
) -> Body:
    """An MCA body by hand: `t` seconds after T0, at `playhead`."""
    body: dict[str, Any] = {
        "eventType": kind,
        "playerTime": {"ts": T0 + round(t * 1000), "playhead": playhead},
    }
    if params:
        body["params"] = dict(params)
    if qoe:
        body["qoeData"] = dict(qoe)
    return body


def start(length: float = 100.0, **params: Any) -> Body:
    return ev(0, 0, "sessionStart", {"media.length": length, **params})


def unnamed(record: SessionRecord) -> dict[str, Any]:
    """The record as a dict without the session's id (in it and its ads, chapters, states)."""
    data = dataclasses.asdict(record)
    del data["sid"]
    for key in ("ads", "chapters", "states"):
        data[key] = [{k: v for k, v in item.items() if k != "sid"} for item in data[key]]
    return data


def figures(record: SessionRecord, expected: Mapping[str, Any]) -> dict[str, Any]:
    """The record's values of the fields `expected` names, to compare with pytest.approx."""
    return {name: getattr(record, name) for name in expected}


def expect(record: SessionRecord, expected: Mapping[str, Any], tolerance: float = TIME) -> None:
    """The record has the `expected` values: floats within `tolerance`, the rest exactly."""
    got = figures(record, expected)
    exact = {name: value for name, value in expected.items() if not isinstance(value, float)}
    assert {name: got[name] for name in exact} == exact
    near = {name: value for name, value in expected.items() if isinstance(value, float)}
    assert {name: got[name] for name in near} == pytest.approx(near, abs=tolerance)


# Every scalar metric of a record (the dimensions and the per-ad/chapter/state lists apart):
# a timeline's test names each of them, so a metric added later must be worked by hand too.
_DIMENSIONS = {
    "sid", "start_ms", "last_ms", "close_ms", "report_suite", "visitor", "media_id",
    "media_name", "show", "season", "episode", "channel", "content_type", "stream_type",
    "genre", "network", "player_name", "device", "platform", "profile", "ads", "chapters",
    "states",
}  # fmt: skip
METRICS = [f.name for f in dataclasses.fields(SessionRecord) if f.name not in _DIMENSIONS]


# --- 1. Adobe's three timelines ---------------------------------------------------------------


def test_timeline_1_view_to_end_gives_adobe_s_worked_figures() -> None:
    """Timeline 1 (pre-roll of two ads, buffering, a mid-roll, a pause, sessionComplete): the
    figures ADOBE-METRICS.md section 5.3 works by hand, metric for metric."""
    record = timeline("timeline-1-view-to-end.toml")
    expected = {
        "close_reason": "idle timeout",  # C3: sessionComplete does not close the session ...
        "seconds_since_last_call": 600.0,  # ... the idle timeout does, 600 s after t=88
        "length": TL_LENGTH,
        "downloaded": 0,
        # 28 events to the first play (sessionStart, adBreakStart, adStart, pings 1..14,
        # adComplete, adStart, pings 16..21, adComplete, adBreakComplete, play), then 30, 33,
        # 36, 40, 46, 46.001, pings 47..53 (7), 54, 54.001, 60, 64, 70, 74, 80, 88: 28+6+7+8.
        "events": 49,
        "media_starts": 1,  # the sessionStart at t=0
        "content_starts": 1,  # the first main-content play, t=22
        "content_completes": 1,  # the sessionComplete at t=88 (the playhead 45 does not matter)
        "content_resumes": 0,
        # (33-22) + (46-36) + (64-54) + (88-74) = 11 + 10 + 10 + 14
        "content_time_spent": 45.0,
        # 45 content + 30 ads; equally 88 - 3 buffering - 10 paused
        "media_time_spent": 75.0,
        # the playhead ran 0 -> 45 once: the union of its ranges is [0, 45]
        "unique_time_played": 45.0,
        # thresholds p x 60.333: 6.03, 15.08, 30.17, 45.25, 57.32; highest playhead 45
        "progress10": 1,
        "progress25": 1,
        "progress50": 1,
        "progress75": 0,  # 45 < 45.25 (reading C6: the length as sent)
        "progress95": 0,
        "average_minute_audience": 45 / TL_LENGTH,  # 0.7459 (C7: content time)
        "estimated_streams": 1,  # floor(75 / 1800) + 1
        "pause_events": 1,  # pauseStart at 64; the ping at 70 adds nothing
        "paused_impacted_streams": 1,
        "pause_time": 10.0,  # 74 - 64
        "time_to_start": None,  # no qoeData in Timeline 1
        "drops_before_start": 0,
        "buffer_events": 1,  # bufferStart at 33
        "buffer_impacted_streams": 1,
        "buffer_time": 3.0,  # 36 - 33
        # C13: the pause's pauseStart/ping/play at playhead 31 is a pause, not a stall; the
        # buffer is 2 events; the ad break is not main content.
        "stall_events": 0,
        "stall_impacted_streams": 0,
        "stall_time": 0.0,
        "error_events": 0,
        "error_impacted_streams": 0,
        "errors": "",
        "average_bitrate": None,  # no bitrate ever reported
        "bitrate_changes": 0,
        "bitrate_change_impacted_streams": 0,
        "dropped_frames": None,
        "dropped_frame_impacted_streams": 0,
        "ad_count": 3,  # adStart at 0, 15 and 46
        "ad_starts": 3,
        "ad_completes": 3,  # adComplete at 15, 22, 54
        "ad_time_spent": 30.0,  # 15 + 7 + 8
        "chapter_count": 0,
        "chapter_starts": 0,
        "chapter_completes": 0,
        "chapter_time_spent": 0.0,
    }
    assert sorted(expected) == sorted(METRICS)
    expect(record, expected)
    assert (record.close_ms - record.last_ms, record.last_ms - record.start_ms) == (600_000, 88_000)
    assert (record.media_id, record.media_name, record.channel, record.content_type) == (
        "VA API Sample Player",
        "ClickMe",
        "sample-channel",
        "VOD",
    )
    assert record.visitor == "[ _YOUR_VISITOR_ID_ ]"
    # No customMetadata device fields: the device and platform are the player's name.
    assert record.device == record.platform == record.player_name == "sample-html5-api-player"
    # Ad 1: 15 - 0; Ad 2: 22 - 15; Ad 3 (mid-roll, podIndex 1): 54 - 46.
    ads = [
        (a.ad_id, a.ad_name, a.break_kind, a.break_name, a.pod_position, a.length, a.completes)
        for a in record.ads
    ]
    assert ads == [
        ("001", "Ad 1", "pre-roll", "ad_pod1", 1, 15.0, 1),
        ("002", "Ad 2", "pre-roll", "ad_pod1", 2, 7.0, 1),
        ("003", "Ad 3", "mid-roll", "ad_pod2", 1, 8.0, 1),
    ]
    assert [a.time_spent for a in record.ads] == pytest.approx([15, 7, 8], abs=TIME)
    assert [a.skips for a in record.ads] == [0, 0, 0]
    assert record.chapters == []
    assert record.states == []


def test_timeline_2_abandon_stops_at_the_error_and_ends_in_the_mid_roll() -> None:
    """Timeline 2 (pre-roll, an error that stops playback for 5 s, a mid-roll the viewer leaves
    after 3 s): the 5 s of the stop are neither content nor media time, the abandoned ad is
    started but not completed, and the session closes at its sessionEnd."""
    record = timeline("timeline-2-abandon.toml")
    expected = {
        "close_reason": "sessionEnd",
        "seconds_since_last_call": 0.0,  # closed by its own sessionEnd at t=48
        "length": TL_LENGTH,
        "downloaded": 0,
        # sessionStart, adBreakStart, adStart, pings 1..11, adComplete, adBreakComplete, play
        # (17); 20, 30, 32, 37, 40, 45, 45.001 (7); pings 46, 47; sessionEnd at 48.
        "events": 27,
        "media_starts": 1,
        "content_starts": 1,  # play at 12
        "content_completes": 0,  # sessionEnd, no sessionComplete: abandoned
        "content_resumes": 0,
        # Reading G4 (error_stops_playback): the error at 32 stops playback until the play
        # at 37 (the playhead holds at 20). (32 - 12) + (45 - 37) = 20 + 8.
        "content_time_spent": 28.0,
        # 28 content + 12 (pre-roll, 0 -> 12) + 3 (the mid-roll ad, 45 -> 48, abandoned)
        "media_time_spent": 43.0,
        "unique_time_played": 28.0,  # the playhead ran 0 -> 20, held, 20 -> 28
        # thresholds 6.03, 15.08, 30.17, ...; highest playhead 28
        "progress10": 1,
        "progress25": 1,
        "progress50": 0,
        "progress75": 0,
        "progress95": 0,
        "average_minute_audience": 28 / TL_LENGTH,  # 0.4641
        "estimated_streams": 1,
        "pause_events": 0,
        "paused_impacted_streams": 0,
        "pause_time": 0.0,
        "time_to_start": None,  # the plays' qoeData have only the bitrate
        "drops_before_start": 0,
        "buffer_events": 0,
        "buffer_impacted_streams": 0,
        "buffer_time": 0.0,
        # The held playhead (20 at 32, 37) is an error's stop, not main content playing.
        "stall_events": 0,
        "stall_impacted_streams": 0,
        "stall_time": 0.0,
        "error_events": 1,
        "error_impacted_streams": 1,
        "errors": "unknown",  # Adobe's error carries no qoeData, so no media.qoe.errorID
        # media.qoe.bitrate 10000 bps on both plays = 10 kbps; nothing else was reported
        "average_bitrate": 10.0,
        "bitrate_changes": 0,  # bitrate in a play's qoeData is not a bitrateChange
        "bitrate_change_impacted_streams": 0,
        "dropped_frames": None,
        "dropped_frame_impacted_streams": 0,
        "ad_count": 2,
        "ad_starts": 2,
        "ad_completes": 1,  # the mid-roll's ad was abandoned
        "ad_time_spent": 15.0,  # 12 + 3
        "chapter_count": 0,
        "chapter_starts": 0,
        "chapter_completes": 0,
        "chapter_time_spent": 0.0,
    }
    assert sorted(expected) == sorted(METRICS)
    expect(record, expected)
    assert record.close_ms == record.last_ms == record.start_ms + 48_000
    # Adobe gives both ads id "002" and name "Ad 1"; they are told apart by their breaks.
    ads = [(a.ad_id, a.break_kind, a.break_name, a.completes, a.skips) for a in record.ads]
    assert ads == [("002", "pre-roll", "ad_pod1", 1, 0), ("002", "mid-roll", "ad_pod2", 0, 0)]
    assert [a.time_spent for a in record.ads] == pytest.approx([12, 3], abs=TIME)


def test_timeline_3_chapters_counts_each_chapter_s_own_time() -> None:
    """Timeline 3 (Timeline 1's viewing with two chapters): the session figures are Timeline 1's,
    and each chapter has its start, its complete and the content time played while it was
    open (the buffering and the pause inside it excluded)."""
    record = timeline("timeline-3-chapters.toml")
    expected = {
        "close_reason": "idle timeout",
        "seconds_since_last_call": 600.0,
        "length": TL_LENGTH,
        "downloaded": 0,
        "events": 49 + 4,  # Timeline 1's and two chapterStarts, two chapterCompletes
        "media_starts": 1,
        "content_starts": 1,
        "content_completes": 1,
        "content_resumes": 0,
        "content_time_spent": 45.0,  # as Timeline 1: chapters change no playback
        "media_time_spent": 75.0,
        "unique_time_played": 45.0,
        "progress10": 1,
        "progress25": 1,
        "progress50": 1,
        "progress75": 0,
        "progress95": 0,
        "average_minute_audience": 45 / TL_LENGTH,
        "estimated_streams": 1,
        "pause_events": 1,
        "paused_impacted_streams": 1,
        "pause_time": 10.0,
        "time_to_start": None,
        "drops_before_start": 0,
        "buffer_events": 1,
        "buffer_impacted_streams": 1,
        "buffer_time": 3.0,
        "stall_events": 0,
        "stall_impacted_streams": 0,
        "stall_time": 0.0,
        "error_events": 0,
        "error_impacted_streams": 0,
        "errors": "",
        "average_bitrate": None,
        "bitrate_changes": 0,
        "bitrate_change_impacted_streams": 0,
        "dropped_frames": None,
        "dropped_frame_impacted_streams": 0,
        "ad_count": 3,
        "ad_starts": 3,
        "ad_completes": 3,
        "ad_time_spent": 30.0,
        "chapter_count": 2,
        "chapter_starts": 2,  # chapterStart at 23 and 55
        "chapter_completes": 2,  # chapterComplete at 45 and 87
        "chapter_time_spent": 19.0 + 22.0,
    }
    assert sorted(expected) == sorted(METRICS)
    expect(record, expected)
    chapters = [
        (c.index, c.name, c.offset, c.length, c.starts, c.completes, c.skips)
        for c in record.chapters
    ]
    assert chapters == [
        (1, "Chapter Uno", 0.0, 20.0, 1, 1, 0),
        (2, "Chapter Dos", 22.0, 22.0, 1, 1, 0),
    ]
    # Chapter Uno, open 23 -> 45: playing 23 -> 33 (10) and 36 -> 45 (9), the buffering
    # 33 -> 36 excluded: 19.
    # Chapter Dos, open 55 -> 87: playing 55 -> 64 (9) and 74 -> 87 (13), the pause 64 -> 74
    # excluded: 22.
    # The 4 s of content outside both (22 -> 23, 45 -> 46, 54 -> 55, 87 -> 88) are no
    # chapter's: 19 + 22 + 4 = 45.
    assert [c.time_spent for c in record.chapters] == pytest.approx([19, 22], abs=TIME)
    assert [c.start_ms - record.start_ms for c in record.chapters] == [23_000, 55_000]


# --- 2. one session per metric ----------------------------------------------------------------


def test_a_viewer_who_leaves_in_the_pre_roll_is_a_media_start_and_a_drop_before_start() -> None:
    """Left 10 s into a 30 s pre-roll: a media start, no content start, a drop before start, 10 s
    of ad time and nothing else; no markers, an average minute audience of 0."""
    record = one(vod(100, {"at": 0, "do": "adBreak", "ads": [30]}, {"at": 10, "do": "end"}))
    expect(
        record,
        {
            "media_starts": 1,
            "content_starts": 0,
            "drops_before_start": 1,  # = media starts - content starts
            "content_time_spent": 0.0,
            "ad_starts": 1,
            "ad_completes": 0,  # left inside it
            "ad_time_spent": 10.0,  # 0 -> 10 (reading 5.4.1: a pre-roll plays before any play)
            "media_time_spent": 10.0,
            "unique_time_played": 0.0,
            "progress10": 0,
            "average_minute_audience": 0.0,  # 0 / 100: a length, no content time
            "close_reason": "sessionEnd",
        },
    )
    # Watched 10 s straight away: a content start, no drop.
    record = one(vod(100, {"at": 0, "do": "play"}, {"at": 10, "do": "end"}))
    expect(record, {"media_starts": 1, "content_starts": 1, "drops_before_start": 0})


def test_only_a_sessioncomplete_makes_a_content_complete() -> None:
    """sessionComplete counts a completion (whatever the playhead) and leaves the session open
    for the idle timeout (C3: 600 s since the last call); a sessionEnd alone is an abandonment
    closed at once (0 s); a sessionComplete then a sessionEnd is both."""
    complete = one(vod(100, {"at": 0, "do": "play"}, {"at": 30, "do": "complete"}))
    expect(
        complete,
        {
            "content_completes": 1,  # at playhead 30 of 100: the event decides, not the playhead
            "close_reason": "idle timeout",
            "seconds_since_last_call": 600.0,
            "content_time_spent": 30.0,
        },
    )
    assert complete.close_ms == complete.last_ms + 600_000
    ended = one(vod(100, {"at": 0, "do": "play"}, {"at": 30, "do": "end"}))
    expect(ended, {"content_completes": 0, "close_reason": "sessionEnd"})
    expect(ended, {"seconds_since_last_call": 0.0, "content_time_spent": 30.0})
    both = one(
        vod(100, {"at": 0, "do": "play"}, {"at": 30, "do": "complete"}, {"at": 40, "do": "end"})
    )
    # After the complete nothing more is played: content time stops at 30.
    expect(
        both,
        {
            "content_completes": 1,
            "close_reason": "sessionEnd",
            "seconds_since_last_call": 0.0,
            "content_time_spent": 30.0,
        },
    )


def test_a_forward_seek_sets_the_markers_it_jumps_over_and_74_9_percent_is_not_75() -> None:
    """Length 100: played 0 -> 5, a seek to 60, played on to 74.9 and left. The highest playhead
    is 74.9: 10, 25 and 50 % are set (C6: every threshold at or under the highest playhead, the
    ones jumped over too), 75 % is not. Content time 5 + 14.9; the seek is a pauseStart and a
    play, one pause event of a millisecond."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "play"},
            {"playhead": 5, "do": "seek", "to": 60},
            {"playhead": 74.9, "do": "end"},
        )
    )
    expect(
        record,
        {
            "progress10": 1,
            "progress25": 1,
            "progress50": 1,
            "progress75": 0,  # 74.9 < 75
            "progress95": 0,
            "content_time_spent": 5 + 14.9,  # 0 -> 5 s, then 5 -> 19.9 s
            "unique_time_played": 5 + 14.9,  # [0, 5] and [60, 74.9]
            "pause_events": 1,
            "pause_time": 0.0,
        },
    )
    # To 75 exactly: reached (C6: "first reaches", >=).
    record = one(vod(100, {"at": 0, "do": "play"}, {"playhead": 75, "do": "end"}))
    expect(record, {"progress75": 1, "progress95": 0, "content_time_spent": 75.0})


def test_average_minute_audience_is_content_time_over_the_length_ads_apart() -> None:
    """A 30 s pre-roll then 50 s of a 200 s content: AMA = 50 / 200 = 0.25 (C7: content time,
    not the media time 80 / 200 = 0.4); with no length there is none."""
    record = one(
        vod(
            200,
            {"at": 0, "do": "adBreak", "ads": [30]},
            {"at": 30, "do": "play"},
            {"at": 80, "do": "end"},
        )
    )
    expect(record, {"average_minute_audience": 0.25}, RATIO)
    expect(record, {"content_time_spent": 50.0, "media_time_spent": 80.0})
    bodies = [ev(0, 0, "sessionStart"), ev(0.001, 0, "play"), ev(50, 50, "sessionEnd")]
    record = record_of_events("s", bodies)
    assert record.average_minute_audience is None
    assert record.progress10 == 0
    assert record.content_time_spent == pytest.approx(50, abs=TIME)


def test_rewatching_grows_content_time_but_not_unique_time_played() -> None:
    """Played 0 -> 40, seeked back to 10 and played to 50: content time 40 + 40 = 80, unique
    time played the union [0, 50] = 50; the markers are those of the highest playhead, 50."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "play"},
            {"playhead": 40, "do": "seek", "to": 10},
            {"playhead": 50, "do": "end"},
        )
    )
    expect(
        record,
        {
            "content_time_spent": 80.0,
            "unique_time_played": 50.0,
            "progress50": 1,
            "progress75": 0,
            "average_minute_audience": 0.8,
        },
    )


def test_pauses_count_once_each_however_long_and_pings_inside_add_none() -> None:
    """Two pauses, 20 s and 25 minutes (pinging all along): 2 pause events, 20 + 1500 s of pause
    time, and the content time is the 50 s played around them."""
    record = one(
        vod(
            200,
            {"at": 0, "do": "play"},
            {"playhead": 10, "do": "pause", "for": 20},
            {"playhead": 40, "do": "pause", "for": 1500},
            {"playhead": 50, "do": "end"},
        )
    )
    expect(
        record,
        {
            "pause_events": 2,
            "paused_impacted_streams": 1,
            "pause_time": 1520.0,
            "content_time_spent": 50.0,
            "media_time_spent": 50.0,
            "stall_events": 0,  # a paused player's frozen playhead is no stall (C13)
        },
    )
    assert record.last_ms - record.start_ms == (50 + 1520) * 1000


def test_a_pause_longer_than_30_minutes_ends_the_session_and_a_resumed_one_follows() -> None:
    """Paused at 40 s for 40 minutes: the player ends the session 30 minutes into the pause
    (Adobe's frozen-playhead timeout), and on play opens a new one flagged media.resume. The
    first has 40 s of content and 1800 s of pause; the second is a content resume that
    counts a media start too (reading C1), with the 10 s played after it."""
    first, second = scripted(
        vod(
            200,
            {"at": 0, "do": "play"},
            {"playhead": 40, "do": "pause", "for": 2400},
            {"playhead": 50, "do": "end"},
        )
    )
    expect(
        first,
        {
            "content_time_spent": 40.0,
            "pause_events": 1,
            "pause_time": 1800.0,  # 40 s -> 1840 s, the player's own sessionEnd
            "content_resumes": 0,
            "close_reason": "sessionEnd",
        },
    )
    expect(
        second,
        {
            "media_starts": 1,  # reading C1
            "content_resumes": 1,
            "content_starts": 1,
            "content_time_spent": 10.0,  # playhead 40 -> 50
            "unique_time_played": 10.0,
            "pause_events": 0,
            # The playhead is already at 40 of 200 when it starts: 10 % (20) is set, 25 % (50)
            # at its end, though this session never played 0 -> 20.
            "progress10": 1,
            "progress25": 1,
            "progress50": 0,
        },
    )
    # Readings that take C1's other side: a resumed session is not a media start.
    resumed = [ev(0, 40, "sessionStart", {"media.length": 200, "media.resume": True})]
    resumed += [ev(0.001, 40, "play"), ev(10, 50, "sessionEnd")]
    assert record_of_events("s", resumed).media_starts == 1
    other = Readings(resume_counts_media_start=False)
    assert record_of_events("s", resumed, readings=other).media_starts == 0
    assert record_of_events("s", resumed, readings=other).content_resumes == 1


def test_buffering_counts_each_bufferstart_and_the_time_to_the_play() -> None:
    """Buffering 3 s at 10 s and 5 s at 20 s: 2 buffer events, 8 s of buffer time, excluded
    from content time (40 - 8 = 32); a bufferStart repeated without a play in between is one
    more event (C11), its time running on."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "play"},
            {"at": 10, "do": "buffer", "for": 3},
            {"at": 20, "do": "buffer", "for": 5},
            {"at": 40, "do": "end"},
        )
    )
    expect(
        record,
        {
            "buffer_events": 2,
            "buffer_impacted_streams": 1,
            "buffer_time": 8.0,
            "content_time_spent": 32.0,
        },
    )
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "bufferStart"), ev(12, 10, "bufferStart")]
    bodies += [ev(15, 10, "play"), ev(20, 15, "sessionEnd")]
    record = record_of_events("s", bodies)
    # 10 -> 15 buffering (both starts'); 0 -> 10 and 15 -> 20 playing.
    expect(record, {"buffer_events": 2, "buffer_time": 5.0, "content_time_spent": 15.0})
    one_start = Readings(count_repeated_buffer_starts=False)
    assert record_of_events("s", bodies, readings=one_start).buffer_events == 1


def test_a_playhead_frozen_across_three_events_a_second_apart_is_a_stall() -> None:
    """Main content playing, the playhead held at 20 for the events at 20, 30 and 40 s (C13: 3
    consecutive events at least 1 s apart): one stall, of the 20 s it held (20 -> 40 s), taken
    out of content time; it plays on from 40 s (30 at 50 s). Held across two events only,
    or across three of one instant (1 ms apart), it is content time."""
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "ping"), ev(20, 20, "ping")]
    bodies += [ev(30, 20, "ping"), ev(40, 20, "ping"), ev(50, 30, "ping"), ev(60, 40, "sessionEnd")]
    record = record_of_events("s", bodies)
    expect(
        record,
        {
            "stall_events": 1,
            "stall_impacted_streams": 1,
            "stall_time": 20.0,  # 20 -> 40 s
            "content_time_spent": 40.0,  # 0 -> 20 s and 40 -> 60 s
            "media_time_spent": 40.0,
            "unique_time_played": 40.0,  # [0, 40]
        },
    )
    # Two events at playhead 20 (20 and 30 s): no stall, 50 s of content.
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "ping"), ev(20, 20, "ping")]
    bodies += [ev(30, 20, "ping"), ev(40, 30, "ping"), ev(50, 40, "sessionEnd")]
    expect(record_of_events("s", bodies), {"stall_events": 0, "content_time_spent": 50.0})
    # Three at one instant, then one 10 s later: two events by the 1-second rule.
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "ping"), ev(20, 20, "ping")]
    bodies += [
        ev(20.001, 20, "bitrateChange"),
        ev(20.002, 20, "stateStart", {"media.state.name": "mute"}),
    ]
    bodies += [ev(30, 20, "ping"), ev(40, 30, "ping"), ev(50, 40, "sessionEnd")]
    expect(record_of_events("s", bodies), {"stall_events": 0, "content_time_spent": 50.0})


def test_an_error_that_stops_playback_takes_its_stop_out_of_content_time() -> None:
    """Errors E1 at 33 s (playback goes on) and E2 at 40 s (playback stops until the play at
    46 s): 2 error events listed in order; content time excludes only E2's 6 s stop (reading
    G4): 0 -> 40 and 46 -> 60 = 54 s."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "play"},
            {"at": 33, "do": "error", "id": "E1"},
            {"at": 40, "do": "error", "id": "E2", "stops_playback": True},
            {"at": 46, "do": "play"},
            {"at": 60, "do": "end"},
        )
    )
    expect(
        record,
        {
            "error_events": 2,
            "error_impacted_streams": 1,
            "errors": "E1 E2",
            "content_time_spent": 54.0,
            "unique_time_played": 54.0,  # the playhead: 0 -> 40, held, 40 -> 54
            "stall_events": 0,
        },
    )


def test_bitrate_changes_and_the_time_weighted_average_bitrate_in_kbps() -> None:
    """Played at 2,000,000 bps from 0 s, 3,000,000 from 20 s, 1,000,000 from 50 s to 60 s:
    2 bitrate changes; the average weighted by the time played at each, in kbps:
    (2000 x 20 + 3000 x 30 + 1000 x 10) / 60 = 140000 / 60 = 2333.33 kbps. A buffering in
    between (at 30 s, 5 s) is not played time: (2000x20 + 3000x25 + 1000x10) / 55 = 2272.73.
    Time to start: 1500 ms sent, 1.5 s stored."""
    record = one(
        vod(
            100,
            {
                "at": 0,
                "do": "play",
                "qoe": {"media.qoe.bitrate": 2_000_000, "media.qoe.timeToStart": 1500},
            },
            {"at": 20, "do": "bitrate", "bitrate": 3_000_000},
            {"at": 30, "do": "buffer", "for": 5},
            {"at": 50, "do": "bitrate", "bitrate": 1_000_000},
            {"at": 60, "do": "end"},
        )
    )
    expect(
        record,
        {
            "bitrate_changes": 2,
            "bitrate_change_impacted_streams": 1,
            "average_bitrate": (2000 * 20 + 3000 * 25 + 1000 * 10) / 55,
            "time_to_start": 1.5,
        },
        0.1,  # kbps: a few ms at 2000 kbps over 55 s move the average by under 0.1 kbps
    )


def test_the_average_bitrate_weighs_the_time_played_through_an_error() -> None:
    """An error at 20 s that does not stop playback: the 20 -> 30 s it plays on (content time)
    is played at 3000 kbps like the rest: (1000 x 10 + 3000 x 30) / 40 = 2500 kbps."""
    bodies = [start(), ev(0.001, 0, "play", qoe={"media.qoe.bitrate": 1_000_000})]
    bodies += [ev(10, 10, "bitrateChange", qoe={"media.qoe.bitrate": 3_000_000})]
    bodies += [ev(20, 20, "error", qoe={"media.qoe.errorID": "E1"}), ev(30, 30, "ping")]
    bodies += [ev(40, 40, "sessionEnd")]
    record = record_of_events("s", bodies)
    assert record.content_time_spent == pytest.approx(40, abs=TIME)  # played through: content
    assert record.average_bitrate == pytest.approx((1000 * 10 + 3000 * 30) / 40, abs=0.1)


def test_the_average_bitrate_leaves_out_a_stall() -> None:
    """1000 kbps 0 -> 20 s; 3000 kbps from 20 s; the playhead stalls 20 -> 40 s; played on
    40 -> 60 s. Weighted by time played: (1000 x 20 + 3000 x 20) / 40 = 2000 kbps (the record
    says it weighs "by time played at each bitrate"; the 20 s stall is not played time)."""
    bodies = [start(), ev(0.001, 0, "play", qoe={"media.qoe.bitrate": 1_000_000})]
    bodies += [
        ev(10, 10, "ping"),
        ev(20, 20, "bitrateChange", qoe={"media.qoe.bitrate": 3_000_000}),
    ]
    bodies += [ev(30, 20, "ping"), ev(40, 20, "ping"), ev(50, 30, "ping"), ev(60, 40, "sessionEnd")]
    record = record_of_events("s", bodies)
    assert (record.stall_time, record.content_time_spent) == pytest.approx((20, 40), abs=TIME)
    assert record.average_bitrate == pytest.approx(2000, abs=0.1)


def test_dropped_frames_are_the_last_value_reported_not_a_sum() -> None:
    """Dropped frames reported 5, 12, then 7 (a player that reset): the record keeps 7 (C14),
    and the stream is impacted; a last value of 0 is not impacted."""
    bodies = [start(), ev(0.001, 0, "play", qoe={"media.qoe.droppedFrames": 5})]
    bodies += [ev(10, 10, "ping", qoe={"media.qoe.droppedFrames": 12})]
    bodies += [ev(20, 20, "ping", qoe={"media.qoe.droppedFrames": 7}), ev(30, 30, "sessionEnd")]
    record = record_of_events("s", bodies)
    assert (record.dropped_frames, record.dropped_frame_impacted_streams) == (7, 1)
    bodies[-2] = ev(20, 20, "ping", qoe={"media.qoe.droppedFrames": 0})
    record = record_of_events("s", bodies)
    assert (record.dropped_frames, record.dropped_frame_impacted_streams) == (0, 0)


def test_each_ad_has_its_start_complete_or_skip_and_its_own_time() -> None:
    """A pre-roll of a 10 s ad and a 5 s ad skipped after 2 s, a mid-roll of one 8 s ad at 32 s:
    3 ad starts, 2 completes, 1 skip; ad time 10 + 2 + 8 = 20 s; content 12 -> 32 and
    40 -> 60 = 40 s; media time 60 s."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "adBreak", "ads": [10, {"length": 5, "skip_after": 2}]},
            {"at": 12, "do": "play"},
            {"at": 32, "do": "adBreak", "ads": [8]},
            {"at": 60, "do": "end"},
        )
    )
    expect(
        record,
        {
            "ad_count": 3,
            "ad_starts": 3,
            "ad_completes": 2,
            "ad_time_spent": 20.0,
            "content_time_spent": 40.0,
            "media_time_spent": 60.0,
        },
    )
    per_ad = [(a.break_kind, a.pod_position, a.completes, a.skips) for a in record.ads]
    assert per_ad == [("pre-roll", 1, 1, 0), ("pre-roll", 2, 0, 1), ("mid-roll", 1, 1, 0)]
    assert [a.time_spent for a in record.ads] == pytest.approx([10, 2, 8], abs=TIME)


def test_ad_events_outside_an_ad_break_are_ignored_and_their_time_is_content() -> None:
    """adStart/adComplete at 10 -> 15 s with no adBreakStart around them: no ad, and the 5 s
    are content time (Adobe: missing bookends make the ad events ignored)."""
    bodies = [start(), ev(0.001, 0, "play")]
    ad = {"media.ad.id": "x", "media.ad.length": 5, "media.ad.podPosition": 1}
    bodies += [ev(10, 10, "adStart", ad), ev(15, 15, "adComplete"), ev(20, 20, "sessionEnd")]
    record = record_of_events("s", bodies)
    expect(
        record,
        {"ad_starts": 0, "ad_completes": 0, "ad_time_spent": 0.0, "content_time_spent": 20.0},
    )
    assert record.ads == []


def test_chapters_started_completed_and_skipped_by_a_seek() -> None:
    """Chapters A [0, 20), B [20, 40), C [40, 60); played 0 -> 25, seeked to 45 (B skipped,
    C started where it lands), left at 50: 3 chapter starts, 1 complete (A), B skipped;
    chapter time A 20, B 5, C 5 = 30 = the content time."""
    record = one(
        vod(
            60,
            {"at": 0, "do": "play"},
            {"playhead": 25, "do": "seek", "to": 45},
            {"playhead": 50, "do": "end"},
            chapters=[[0, 20, "A"], [20, 20, "B"], [40, 20, "C"]],
        )
    )
    expect(
        record,
        {
            "chapter_count": 3,
            "chapter_starts": 3,
            "chapter_completes": 1,
            "chapter_time_spent": 30.0,
            "content_time_spent": 30.0,
        },
    )
    chapters = [(c.name, c.starts, c.completes, c.skips) for c in record.chapters]
    assert chapters == [("A", 1, 1, 0), ("B", 1, 0, 1), ("C", 1, 0, 0)]
    assert [c.time_spent for c in record.chapters] == pytest.approx([20, 5, 5], abs=TIME)


def test_player_states_count_their_starts_and_time_and_keep_at_most_ten() -> None:
    """fullscreen 20 -> 30 s and 45 -> 50 s (count 2, 15 s, a mid-roll in between changing
    nothing); mute from 50 s (started with fullscreen's end, one statesUpdate on the wire of
    both) to the sessionEnd at 60 s: count 1, 10 s (the time up to the last event, G3)."""
    record = one(
        vod(
            100,
            {"at": 0, "do": "play"},
            {"at": 20, "do": "stateStart", "name": "fullscreen"},
            {"at": 30, "do": "stateEnd", "name": "fullscreen"},
            {"at": 32, "do": "adBreak", "ads": [8]},
            {"at": 45, "do": "stateStart", "name": "fullscreen"},
            {"at": 50, "do": "states", "start": ["mute"], "end": ["fullscreen"]},
            {"at": 60, "do": "end"},
        )
    )
    assert [(s.name, s.is_set, s.count) for s in record.states] == [
        ("fullscreen", 1, 2),
        ("mute", 1, 1),
    ]
    assert [s.time for s in record.states] == pytest.approx([15, 10], abs=TIME)
    # Eleven states started: the first ten are kept (Adobe's limit), the eleventh dropped.
    bodies = [start(), ev(0.001, 0, "play")]
    bodies += [ev(1 + i, 1 + i, "stateStart", {"media.state.name": f"s{i}"}) for i in range(11)]
    bodies += [ev(20, 20, "sessionEnd")]
    record = record_of_events("s", bodies)
    assert [s.name for s in record.states] == [f"s{i}" for i in range(10)]


def _offline_timeline_1() -> Any:
    data = load_script(SCRIPTS / "timeline-1-view-to-end.toml").model_dump(
        by_alias=True, exclude_none=True
    )
    data["session"]["downloaded_after"] = 3600
    return script_from_dict(data, source="offline.toml")


@pytest.mark.parametrize("dialect", [MCA, EDGE], ids=["mca", "edge"])
def test_a_downloaded_session_is_flagged_and_measured_like_the_online_viewing(
    dialect: Any, tmp_path: Path
) -> None:
    """Timeline 1 watched offline and sent an hour later in one request (/api/v1/downloaded, or
    /ee/va/v1/downloaded): the record has downloaded = 1 and Timeline 1's figures (content 45,
    ads 30, media 75, ...), from the collector's session, from the engine's own requests and
    from a recording of them. On Media Edge the length is the integer 61 (Edge sends whole
    seconds, rounded up), so the AMA is 45 / 61."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock, seed="1")
    if dialect is not MCA:
        collector = speak_edge(collector)
    recording = io.StringIO()
    engine = Engine(
        clock, MemoryTransport(collector), dialect=dialect, recorder=Recorder(recording)
    )
    reporter = Reporter()
    reporter.follow(engine)
    engine.add(_offline_timeline_1().player(seed=1))
    engine.run()
    [line] = [json.loads(text) for text in recording.getvalue().splitlines()]
    path = "/api/v1/downloaded" if dialect is MCA else "/ee/va/v1/downloaded"
    assert line["path"].split("?")[0] == path
    file = tmp_path / "recording.jsonl"
    file.write_text(recording.getvalue(), encoding="utf-8")
    [session] = collector.sessions
    records = [
        record_of_session(session),
        *reporter.finish(),
        *Reporter.from_recording(file).finish(),
    ]
    assert len(records) == 3
    length = TL_LENGTH if dialect is MCA else 61.0
    for record in records:
        expect(
            record,
            {
                "downloaded": 1,
                "media_starts": 1,
                "content_starts": 1,
                "content_completes": 1,
                "content_time_spent": 45.0,
                "ad_time_spent": 30.0,
                "media_time_spent": 75.0,
                "pause_time": 10.0,
                "buffer_time": 3.0,
                "progress50": 1,
                "progress75": 0,
                "length": length,
                "average_minute_audience": 45 / length,
                # It ends in sessionComplete, no sessionEnd: closed by the idle timeout.
                "close_reason": "idle timeout",
                "seconds_since_last_call": 600.0,
            },
        )
    # And the three are the same record, but for the session's name and the profile (known
    # only to the engine's own requests: `Reporter.follow`).
    same = [{**unnamed(r), "profile": ""} for r in records]
    assert same[1:] == same[:1] * 2
    assert records[1].profile == "vod-movie"


def test_estimated_streams_step_up_every_30_minutes_of_media_time() -> None:
    """A 31-minute viewing (1860 s played) gives floor(1860 / 1800) + 1 = 2 estimated streams;
    a 29-minute one (1740 s) gives 1."""
    record = one(vod(3600, {"at": 0, "do": "play"}, {"at": 1860, "do": "end"}))
    expect(record, {"media_time_spent": 1860.0, "estimated_streams": 2})
    record = one(vod(3600, {"at": 0, "do": "play"}, {"at": 1740, "do": "end"}))
    expect(record, {"media_time_spent": 1740.0, "estimated_streams": 1})


def test_a_session_left_without_a_sessionend_closes_at_the_idle_timeout() -> None:
    """Events stop at 10 s with no sessionEnd: the back end closes it 600 s later (idle timeout),
    600 s since its last call; the time after the last event is not counted (G3)."""
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "ping")]
    record = record_of_events("s", bodies)
    expect(
        record,
        {
            "close_reason": "idle timeout",
            "seconds_since_last_call": 600.0,
            "content_time_spent": 10.0,
        },
    )
    assert record.close_ms == T0 + 610_000


def test_events_after_the_frozen_playhead_timeout_are_dropped() -> None:
    """Paused at playhead 10 from 10 s, pinging every 10 s for 40 minutes: the back end closes
    the session 30 minutes after the playhead last moved (10 s + 1800 s = 1810 s) and drops
    every later ping. Pause time runs to the last ping it took (1810 s): 1800 s; seconds
    since last call 0 (that ping came at the close); never negative."""
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "pauseStart")]
    bodies += [ev(10 + 10 * i, 10, "ping") for i in range(1, 241)]  # to 2410 s
    record = record_of_events("s", bodies)
    assert record.close_reason == "playhead stalled"
    assert record.close_ms == T0 + 1_810_000
    assert record.seconds_since_last_call >= 0
    assert record.pause_time == pytest.approx(1800, abs=TIME)


def test_an_event_after_the_idle_timeout_is_dropped() -> None:
    """Paused at 10 s, then nothing until a play at 910 s: the session closed at 610 s (10
    minutes without an event), so the play and sessionEnd are dropped: no pause time after
    the pauseStart (G3), 10 s of content, closed by the idle timeout."""
    bodies = [start(), ev(0.001, 0, "play"), ev(10, 10, "pauseStart")]
    bodies += [ev(910, 10, "play"), ev(920, 20, "sessionEnd")]
    record = record_of_events("s", bodies)
    expect(record, {"close_reason": "idle timeout", "pause_time": 0.0, "content_time_spent": 10.0})
    assert record.close_ms == T0 + 610_000


# --- 3. rules every record keeps --------------------------------------------------------------

PROFILES = sorted(bundled_profiles())
SEEDS = st.integers(min_value=0, max_value=2**32)
HORIZON_MS = 3 * 3_600_000


def simulate(profile: str, seed: int, dialect: Any = MCA) -> list[SessionRecord]:
    """Two viewers of a profile, 7 s apart, for up to three hours: each session's record."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock, seed="1")
    if dialect is not MCA:
        collector = speak_edge(collector)
    engine = Engine(clock, MemoryTransport(collector), dialect=dialect)
    engine.hurry_uploads = True  # offline viewings send their sessions once the rest is done
    for index in range(2):
        engine.add(
            Player(load_profile(profile), seed=seed, index=index, start_at=T0 + index * 7_000)
        )
    engine.run(until=T0 + HORIZON_MS)
    return [record_of_session(session, profile=profile) for session in collector.sessions]


def check_rules(record: SessionRecord) -> None:
    """What holds for every record, whatever the session did."""
    content, media = record.content_time_spent, record.media_time_spent
    assert media == pytest.approx(content + record.ad_time_spent, abs=0.002)
    assert 0 <= content <= media
    assert 0 <= record.unique_time_played <= content + TIME
    assert record.media_starts == 1
    assert record.drops_before_start == 1 - record.content_starts
    markers = [record.progress10, record.progress25, record.progress50]
    markers += [record.progress75, record.progress95]
    assert markers == sorted(markers, reverse=True)  # 95 => 75 => 50 => 25 => 10
    if not record.content_starts:
        assert markers == [0] * 5
    for flag, count in [
        (record.paused_impacted_streams, record.pause_events),
        (record.buffer_impacted_streams, record.buffer_events),
        (record.stall_impacted_streams, record.stall_events),
        (record.error_impacted_streams, record.error_events),
        (record.bitrate_change_impacted_streams, record.bitrate_changes),
    ]:
        assert flag == int(count > 0)
    assert record.dropped_frame_impacted_streams == int((record.dropped_frames or 0) > 0)
    assert record.estimated_streams == math.floor(media / 1800) + 1
    assert record.ad_count == record.ad_starts == len(record.ads)
    assert record.ad_completes == sum(a.completes for a in record.ads)
    assert all(a.completes + a.skips <= 1 for a in record.ads)
    # Each ad's time is rounded to the ms on its own: the sum is within half a ms per ad.
    slack = 0.0005 * len(record.ads) + 1e-9
    assert sum(a.time_spent for a in record.ads) == pytest.approx(record.ad_time_spent, abs=slack)
    assert record.chapter_starts == len(record.chapters)
    assert record.chapter_time_spent <= content + TIME
    assert len(record.states) <= 10
    assert all(s.count >= 1 and s.time >= 0 for s in record.states)
    for value in (record.pause_time, record.buffer_time, record.stall_time):
        assert value >= 0
    assert 0 <= record.seconds_since_last_call <= 600
    if record.close_reason == "sessionEnd":
        assert record.seconds_since_last_call == 0
    if record.length and record.length > 0:
        assert record.average_minute_audience == pytest.approx(content / record.length, abs=1e-5)
    assert record.error_events == len(record.errors.split())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), seed=SEEDS)
def test_every_record_of_every_simulated_session_keeps_adobe_s_rules(
    profile: str, seed: int
) -> None:
    """Media time is content plus ad time, unique time never beats content time, no drop once
    content started, markers in order, an impacted flag exactly when its count is not 0,
    estimated streams by the 30-minute step, ads' times summing to the session's: for any
    profile and seed."""
    records = simulate(profile, seed)
    assert records
    for record in records:
        check_rules(record)


# What legitimately differs between a session sent over the MCA and over Media Edge:
# - sid: each API names its own sessions;
# - report_suite, visitor: Edge routes by the datastream, not analytics.* params;
# - length: Edge sends whole seconds (the length rounded up), so thresholds and AMA move:
#   length, average_minute_audience and the progress markers (a playhead within a second of a
#   threshold may land either side);
# - unique_time_played: Edge playheads are whole seconds, so the played ranges are too;
# - time_to_start: Edge sends it in whole seconds.
# The per-ad and per-chapter records' lengths and offsets are whole seconds too.
# - average_bitrate: compared within 0.1 %, not exactly, while the ERROR-branch bug stands
#   (test_the_average_bitrate_weighs_the_time_played_through_an_error): a ping 44 ms after an
#   error that did not stop playback moves the MCA playhead (3241.456 -> 3241.5) but not the
#   whole-second Edge one (3241 -> 3241), so the time played through the error, left out of the
#   weighting, differs (vod-movie, seed 2185596104: 2970.378 vs 2970.308 kbps). Once the bug is
#   fixed the two are equal: take it out of this set.
EDGE_ROUNDS = {
    "sid", "report_suite", "visitor", "length", "average_minute_audience", "progress10",
    "progress25", "progress50", "progress75", "progress95", "unique_time_played",
    "time_to_start", "ads", "chapters", "average_bitrate",
}  # fmt: skip


def _same_everywhere(record: SessionRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    for name in EDGE_ROUNDS:
        del data[name]
    data["states"] = [{k: v for k, v in s.items() if k != "sid"} for s in data["states"]]
    data["ads"] = [
        (a.ad_id, a.break_index, a.pod_position, a.completes, a.skips, a.time_spent)
        for a in record.ads
    ]
    data["chapters"] = [
        (c.index, c.name, c.completes, c.skips, c.time_spent) for c in record.chapters
    ]
    return data


def check_both_apis(profile: str, seed: int) -> None:
    """The same viewers over the MCA and over Media Edge give the same records (EDGE_ROUNDS
    apart), each keeping the rules."""
    mca, edge = simulate(profile, seed), simulate(profile, seed, EDGE)
    assert len(mca) == len(edge)
    for over_mca, over_edge in zip(mca, edge, strict=True):
        check_rules(over_mca)
        check_rules(over_edge)
        if over_edge.close_reason == "playhead stalled" != over_mca.close_reason:
            # Edge's whole-second playheads last change up to a second earlier: a pause that
            # ends the session just before the 30-minute stall timeout over the MCA reaches
            # it over Edge, and the back end closes it first (the collector did, too).
            continue
        mca_data, edge_data = _same_everywhere(over_mca), _same_everywhere(over_edge)
        if over_mca.close_reason == "playhead stalled" == over_edge.close_reason:
            # Stalled over both: the 30 minutes count from the playhead's last change, up to a
            # second earlier in Edge's whole seconds, and the back end closes as much earlier.
            for name in ("close_ms", "seconds_since_last_call"):
                earlier = mca_data.pop(name) - edge_data.pop(name)
                assert 0 <= earlier < (1000 if name == "close_ms" else 1), name
        assert mca_data == edge_data
        assert over_edge.length is not None
        assert over_mca.length is not None
        assert over_mca.length <= over_edge.length < over_mca.length + 1
        if over_mca.average_bitrate is not None:
            assert over_edge.average_bitrate == pytest.approx(over_mca.average_bitrate, rel=1e-3)
        else:
            assert over_edge.average_bitrate is None
        if over_mca.time_to_start is not None:
            assert over_edge.time_to_start == pytest.approx(over_mca.time_to_start, abs=0.5)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), seed=SEEDS)
@example(profile="vod-movie", seed=2185596104)  # an error played through (average_bitrate)
@example(profile="podcast-audio", seed=20742151)  # a 30-minute pause, stalled over Edge only
@example(profile="vod-movie", seed=13346)  # stalled over both, closed 0.16 s earlier over Edge
def test_a_session_s_record_is_the_same_over_the_mca_and_media_edge(
    profile: str, seed: int
) -> None:
    """The same viewers, over the MCA and over Media Edge: the same records, but for what Edge
    sends in whole seconds (EDGE_ROUNDS), and those within a second's rounding."""
    check_both_apis(profile, seed)


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), seed=SEEDS)
def test_many_more_sessions_keep_the_rules_over_both_apis(profile: str, seed: int) -> None:
    """The two properties above over many more seeds (about a minute): every record keeps the
    rules, and the MCA and Media Edge records agree."""
    check_both_apis(profile, seed)


# --- a review's cases, by hand ------------------------------------------------------------------


def test_a_chapter_boundary_inside_a_stall_leaves_the_stall_a_stall() -> None:
    """The playhead stuck at 10 across pings at 20, 30 and 40 s is a stall (30 s) whether or
    not a chapter ends and the next starts at 20 s: content is the 10 s before and the 10 s
    after, and the chapters get only their played time."""
    chapter = {"media.chapter.index": 1, "media.chapter.offset": 0, "media.chapter.length": 50}
    plain = [start(100), ev(0, 0, "play"), *(ev(t, 10, "ping") for t in (10, 20, 30, 40)),
             ev(50, 20, "sessionEnd")]  # fmt: skip
    chaptered = [start(100), ev(0, 0, "play"), ev(0.001, 0, "chapterStart", chapter),
                 ev(10, 10, "ping"), ev(20, 10, "chapterComplete"),
                 ev(20.001, 10, "chapterStart", {**chapter, "media.chapter.index": 2}),
                 *(ev(t, 10, "ping") for t in (20.002, 30, 40)),
                 ev(50, 20, "sessionEnd")]  # fmt: skip
    for bodies in (plain, chaptered):
        record = record_of_events("s", bodies)
        assert record.stall_events == 1
        assert record.content_time_spent == pytest.approx(20, abs=0.01)
        assert record.stall_time == pytest.approx(30, abs=0.01)
    record = record_of_events("s", chaptered)
    assert record.chapter_time_spent == pytest.approx(20, abs=0.01)


def test_an_error_then_a_mid_roll_plays_the_ads() -> None:
    """An error at 10 s stops content (G4); the player goes on to a mid-roll at 12 s without a
    play: the break ends the error's stop, the 10 s ad is ad time, and content resumes after."""
    ad = {"media.ad.id": "a", "media.ad.length": 10, "media.ad.podPosition": 1}
    record = record_of_events("s", [
        start(100), ev(0, 0, "play"), ev(10, 10, "error"),
        ev(12, 10, "adBreakStart", {"media.ad.podIndex": 1}), ev(12.001, 10, "adStart", ad),
        ev(22, 10, "adComplete"), ev(22.001, 10, "adBreakComplete"), ev(32, 20, "sessionEnd"),
    ])  # fmt: skip
    assert record.ad_time_spent == pytest.approx(10, abs=0.01)
    assert record.ad_completes == 1
    assert record.content_time_spent == pytest.approx(20, abs=0.01)  # 0-10 and 22-32


def test_events_arriving_out_of_order_are_taken_in_timestamp_order() -> None:
    """A pauseStart stamped 10 s that arrives after a ping stamped 20 s: the meter sorts what
    it buffers, as the back end does, so content is 1-10 and 30-40, the pause 10-30."""
    meter = SessionMeter("s")
    for body in (start(100), ev(1, 0, "play"), ev(20, 10, "ping"), ev(10, 9, "pauseStart"),
                 ev(30, 9, "play"), ev(40, 19, "sessionEnd")):  # fmt: skip
        meter.feed(body)
    record = meter.close()
    assert record.content_time_spent == pytest.approx(19, abs=0.01)
    assert record.pause_time == pytest.approx(20, abs=0.01)


def test_pings_after_sessioncomplete_move_no_progress_marker() -> None:
    """The content is over at sessionComplete (playhead 10 of 100): pings after it at 90 and
    99 set no marker beyond 10 %."""
    record = record_of_events("s", [
        start(100), ev(0, 0, "play"), ev(10, 10, "sessionComplete"),
        ev(20, 90, "ping"), ev(30, 99, "ping"),
    ])  # fmt: skip
    assert (record.progress10, record.progress25, record.progress75, record.progress95) == (
        1, 0, 0, 0,
    )  # fmt: skip


def test_a_sessionstart_with_no_params_is_still_a_media_start() -> None:
    """Media starts count the sessionStart, whatever its params: one that never plays is a
    drop before start."""
    bare = {"eventType": "sessionStart", "playerTime": {"ts": T0, "playhead": 0}}
    record = record_of_events("s", [bare, ev(5, 0, "sessionEnd")])
    assert (record.media_starts, record.drops_before_start) == (1, 1)


def test_live_markers_follow_the_reading() -> None:
    """A live viewer tuning in at noon (playhead 43,200 of 86,400) has reached 50 % as Adobe
    computes it; with `live_progress_markers=False`, live sessions get no markers."""
    bodies = [start(86400, **{"media.contentType": "live"}), ev(0, 43_200, "play"),
              ev(20, 43_220, "sessionEnd")]  # fmt: skip
    assert record_of_events("s", bodies).progress50 == 1
    quiet = record_of_events("s", bodies, readings=Readings(live_progress_markers=False))
    assert (quiet.progress10, quiet.progress50) == (0, 0)
