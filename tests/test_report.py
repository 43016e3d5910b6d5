"""The answer key of a whole run: a simulated day's roll-ups add up to its per-session records,
and to the run's own summary; `playersim report` gives the same from the run's recording; the
files are what docs/answer-key.md says; bad input is refused with a message, never a traceback.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    Player,
    RunStats,
    VirtualClock,
    load_profile,
    run,
)
from playersim.cli import main
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import AD_DIMENSIONS, SESSION_DIMENSIONS, Report
from playersim.reporting.tables import ROLLUP_METRICS, SESSION_COLUMNS
from playersim.testing import assert_metrics

DAY = {"sessions": 120, "duration": timedelta(hours=24), "start": "2026-03-02T05:00:00Z"}


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStats, Path, Path]:
    """A simulated day of every bundled profile, its answer key written and its recording."""
    root = tmp_path_factory.mktemp("day")
    stats = run(**DAY, report=root / "key", record=root / "day.ndjson")
    return stats, root / "key", root / "day.ndjson"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _number(text: str) -> float:
    return float(text) if text else 0.0


def test_a_days_rollups_add_up_to_its_sessions(day: tuple[RunStats, Path, Path]) -> None:
    """Every roll-up's rows add up, column for column, to the sum over sessions.csv: each
    session is in exactly one row of each dimension, each ad in one row of each ad roll-up."""
    _, key, _ = day
    sessions = _rows(key / "sessions.csv")
    assert sessions
    for name in SESSION_DIMENSIONS:
        rows = _rows(key / "rollups" / f"{name}.csv")
        assert sum(int(row["sessions"]) for row in rows) == len(sessions), name
        for metric in ROLLUP_METRICS:
            rolled = sum(_number(row[metric]) for row in rows)
            direct = sum(_number(row[metric]) for row in sessions)
            assert rolled == pytest.approx(direct, abs=0.01), (name, metric)
    ads = _rows(key / "ads.csv")
    for name in AD_DIMENSIONS:
        rows = _rows(key / "rollups" / f"{name}.csv")
        for metric in ("ad_starts", "ad_completes", "ad_time_spent"):
            rolled = sum(_number(row[metric]) for row in rows)
            assert rolled == pytest.approx(sum(_number(ad[metric]) for ad in ads), abs=0.01)
    # The per-ad rows add up to the sessions' ad figures.
    for metric in ("ad_starts", "ad_completes", "ad_time_spent"):
        by_ads = sum(_number(ad[metric]) for ad in ads)
        assert by_ads == pytest.approx(sum(_number(s[metric]) for s in sessions), abs=0.01)
    totals = json.loads((key / "report.json").read_text())["totals"]
    assert totals["sessions"] == len(sessions)
    for metric in ROLLUP_METRICS:
        assert totals[metric] == pytest.approx(sum(_number(s[metric]) for s in sessions), abs=0.01)


def test_a_days_answer_key_agrees_with_the_run_summary(day: tuple[RunStats, Path, Path]) -> None:
    """What the run says it sent (and the collector took) is what the answer key counts: a
    media start per session started, every event taken, and each event type's count."""
    stats, key, _ = day
    assert stats.answer_key is not None
    totals = stats.answer_key.totals
    assert stats.failed == 0
    assert totals["sessions"] == totals["media_starts"] == stats.sessions_started
    assert totals["downloaded"] == stats.downloaded
    assert totals["events"] == stats.accepted + stats.batched
    # Downloaded sessions are counted whole, one request each: compare the others by type.
    online = [s for s in _rows(key / "sessions.csv") if s["downloaded"] == "0"]
    sent = stats.sent
    counted = Counter[str]()
    for row in online:
        for metric in ("content_completes", "ad_starts", "chapter_starts", "error_events",
                       "bitrate_changes", "buffer_events"):  # fmt: skip
            counted[metric] += int(row[metric])
    assert counted["content_completes"] == sent["sessionComplete"]
    assert counted["ad_starts"] == sent["adStart"]
    assert counted["chapter_starts"] == sent["chapterStart"]
    assert counted["error_events"] == sent["error"]
    assert counted["bitrate_changes"] == sent["bitrateChange"]
    assert counted["buffer_events"] == sent["bufferStart"]
    # By profile: each profile's sessions are the viewings its players started.
    by_profile = {
        row["profile"]: int(row["sessions"]) for row in _rows(key / "rollups" / "profile.csv")
    }
    assert set(by_profile) <= {p.name for p in stats.profiles.values()}
    assert sum(by_profile.values()) == stats.sessions_started


def test_report_of_the_recording_is_the_runs_answer_key(
    day: tuple[RunStats, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`playersim report REC --out DIR` on a run's recording gives the run's own answer key:
    the same sessions, metric for metric (a recording does not say which profile played)."""
    stats, key, recording = day
    code = main(["report", str(recording), "--out", str(tmp_path), "--timezone", "UTC"])
    assert code == 0
    said = capsys.readouterr().out
    assert f"answer key: {stats.sessions_started:,} sessions" in said
    ours = _rows(key / "sessions.csv")
    theirs = _rows(tmp_path / "sessions.csv")
    assert [row["sid"] for row in theirs] == [row["sid"] for row in ours]
    for mine, read in zip(ours, theirs, strict=True):
        differ = {k for k in mine if mine[k] != read[k]}
        # The run's days and hours are in its audience's time zone; the report was asked UTC.
        assert differ <= {"profile", "day", "hour"}, differ


def test_the_files_are_what_the_schema_says(day: tuple[RunStats, Path, Path]) -> None:
    """schema.json names every column of every file, in order, with a type a loader can use;
    every value has that type; sessions.ndjson holds the same sessions as sessions.csv."""
    _, key, _ = day
    schema = json.loads((key / "schema.json").read_text())
    casts: dict[str, Any] = {"string": str, "integer": int, "number": float}
    for name in ("sessions.csv", "ads.csv", "chapters.csv", "states.csv"):
        columns = schema[name]
        with open(key / name, newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            assert next(reader) == [column["name"] for column in columns]
            for row in reader:
                for column, value in zip(columns, row, strict=True):
                    if value != "":
                        casts[column["type"]](value)
    lines = (key / "sessions.ndjson").read_text().splitlines()
    assert [json.loads(line)["sid"] for line in lines] == [
        row["sid"] for row in _rows(key / "sessions.csv")
    ]
    assert [c.name for c in SESSION_COLUMNS] == [c["name"] for c in schema["sessions.csv"]]


def test_days_and_hours_are_in_the_audiences_time_zone(tmp_path: Path) -> None:
    """A run's roll-ups by hour and day count in the audience's time zone: 05:00 UTC is
    midnight in New York."""
    stats = run(
        profiles=["ugc-clip"], sessions=20, duration=timedelta(hours=1),
        start="2026-03-02T05:00:00Z", timezone="America/New_York", report=True,
    )  # fmt: skip
    assert stats.answer_key is not None
    assert stats.answer_key.timezone == "America/New_York"
    hours = [row["hour"] for row in stats.answer_key.rollups["hour"]]
    assert hours
    assert all(hour.startswith("2026-03-02T00:") for hour in hours)


def test_the_answer_key_of_an_edge_run_is_the_mca_runs(tmp_path: Path) -> None:
    """The same viewers over the Media Edge API are reported as over the MCA: Adobe counts the
    same metrics whichever API carried them (playheads and lengths go whole on Edge, so times
    may differ by a second a session)."""
    from playersim import AdobeSettings

    common: dict[str, Any] = {"profiles": ["vod-episode"], "sessions": 15, "report": True}
    mca = run(**common).answer_key
    edge = run(
        **common, adobe=AdobeSettings(api="edge", datastream="2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c")
    ).answer_key
    assert mca is not None
    assert edge is not None
    for metric in ("sessions", "media_starts", "content_starts", "content_completes",
                   "ad_starts", "ad_completes", "chapter_starts", "pause_events",
                   "buffer_events", "progress50", "downloaded"):  # fmt: skip
        assert edge.totals[metric] == mca.totals[metric], metric
    assert edge.totals["content_time_spent"] == pytest.approx(
        mca.totals["content_time_spent"], abs=edge.totals["sessions"]
    )


def test_the_pytest_fixtures_give_a_players_record(
    make_player: Any, playersim_engine: Engine, session_record: Any, answer_key: Any
) -> None:
    """A test asserts on what Adobe will report for its player's session."""
    player = make_player("ugc-clip", seed=3)
    playersim_engine.run()
    record = session_record(player)
    assert_metrics(record, media_starts=1, content_starts=1)
    assert answer_key().totals["sessions"] == 1
    with pytest.raises(AssertionError, match=r"content_starts: expected 2, got 1"):
        assert_metrics(record, content_starts=2)
    with pytest.raises(TypeError, match="no such metric: content_start"):
        assert_metrics(record, content_start=1)


def test_a_report_follows_an_engine_and_closes_what_is_left_open() -> None:
    """Sessions the players left open are closed as the back end's timeouts would: 10 minutes
    after their last event, with 600 seconds since the last call."""
    clock = VirtualClock(start="2026-01-01T12:00:00Z")
    engine = Engine(clock, MemoryTransport(Collector(clock)))
    reporter = Reporter()
    reporter.follow(engine)
    player = engine.add(Player(load_profile("vod-movie"), seed=2))
    until = clock.now() + 120_000  # two minutes into a film: the session is open
    while (wake := engine.next_wakeup) is not None and wake < until:
        engine.advance_to(wake)
    assert reporter.open_sessions == 1
    (record,) = reporter.finish()
    assert record.profile == player.profile.name == "vod-movie"
    assert record.close_reason == "idle timeout"
    assert record.seconds_since_last_call == 600
    assert record.close_ms == record.last_ms + 600_000


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not json\n", "day.ndjson:1: not JSON"),
        (
            b'{"session": "s", "path": "/api/v1/sessions", "status": 201, "body": [1]}\n',
            "day.ndjson:1: body: not a JSON object",
        ),
        (b"\xff\xfe\n", "day.ndjson:1: not UTF-8"),
    ],
)
def test_report_refuses_a_bad_recording_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    """A recording that cannot be read is named, with the line and what is wrong: exit 2."""
    path = tmp_path / "day.ndjson"
    path.write_bytes(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err


def test_report_says_when_there_is_nothing_to_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file, or one with no accepted session, is refused with a message: exit 2."""
    assert main(["report", str(tmp_path / "missing.ndjson")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    assert main(["report", str(empty)]) == 2
    assert "no session the back end accepted" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["report", str(empty), "--timezone", "Mars/Olympus"])
    assert refused.value.code == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err


def test_run_report_refuses_a_directory_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--report` where a file is: exit 2 naming the flag."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", "--sessions", "2", "--report", str(blocker)]) == 2
    assert "--report" in capsys.readouterr().err


def test_report_keeps_a_json_reading(day: tuple[RunStats, Path, Path]) -> None:
    """report.json's totals and roll-ups are the Report's."""
    stats, key, _ = day
    data = json.loads((key / "report.json").read_text())
    assert isinstance(stats.answer_key, Report)
    assert data["totals"] == json.loads(json.dumps(stats.answer_key.totals))
    assert set(data["rollups"]) >= set(SESSION_DIMENSIONS) | set(AD_DIMENSIONS)
    assert data["concurrency"]
    assert max(p["viewers"] for p in data["concurrency"]) > 0


def test_the_guide_names_every_column_and_every_reading() -> None:
    """docs/answer-key.md lists every column of sessions.csv, ads.csv and chapters.csv, and
    every choice `Readings` makes where Adobe's definitions disagree: the page stays true."""
    import dataclasses

    from playersim.reporting.readings import Readings
    from playersim.reporting.tables import AD_COLUMNS, CHAPTER_COLUMNS, STATE_COLUMNS

    page = (Path(__file__).parent.parent / "docs" / "answer-key.md").read_text(encoding="utf-8")
    for column in (*SESSION_COLUMNS, *AD_COLUMNS, *CHAPTER_COLUMNS, *STATE_COLUMNS):
        assert f"`{column.name}`" in page, column.name
    for reading in dataclasses.fields(Readings):
        assert f"`{reading.name}`" in page, reading.name


def test_an_edge_runs_answer_key_is_its_recordings(tmp_path: Path) -> None:
    """Over Media Edge the run meters what went on the wire (whole-second playheads and
    lengths), so its answer key is the one `playersim report` makes of its recording."""
    from playersim import AdobeSettings, build_report

    recording = tmp_path / "edge.ndjson"
    stats = run(
        profiles=["vod-episode", "podcast-audio"], sessions=12, record=recording, report=True,
        adobe=AdobeSettings(api="edge", datastream="2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"),
    )  # fmt: skip
    assert stats.answer_key is not None
    zone = stats.answer_key.timezone
    again = build_report(Reporter.from_recording(recording).finish(), timezone=zone)
    run_rows = stats.answer_key.sessions
    assert [{**row, "profile": ""} for row in run_rows] == again.sessions
    assert stats.answer_key.ads == again.ads


def test_a_reporter_told_to_keep_few_sessions_keeps_the_latest() -> None:
    """A long-lived server's reporter keeps only the latest closed sessions (its memory stays
    bounded) and counts the ones it let go."""
    reporter = Reporter(keep=4)
    for index in range(40):
        sid = f"s{index}"
        for ts, kind in ((0, "sessionStart"), (1_000, "play"), (5_000, "sessionEnd")):
            body = {"eventType": kind, "playerTime": {"ts": index * 10_000 + ts, "playhead": 0}}
            reporter.feed(sid, body)
    assert len(reporter.records) <= 4 + 4 // 8 + 1
    assert reporter.let_go + len(reporter.records) == 40
    assert reporter.records[-1].sid == "s39"


def test_schema_names_every_rollup_column_with_a_type(day: tuple[RunStats, Path, Path]) -> None:
    """Each roll-up file's header is the columns schema.json lists for it, in order, each with a
    type its values load as: a pipeline loads the roll-ups as typed as the session rows."""
    _, key, _ = day
    schema = json.loads((key / "schema.json").read_text())
    casts: dict[str, Any] = {"string": str, "integer": int, "number": float}
    for path in sorted((key / "rollups").glob("*.csv")):
        columns = schema[f"rollups/{path.name}"]
        with open(path, newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            assert next(reader) == [column["name"] for column in columns], path.name
            for row in reader:
                for column, value in zip(columns, row, strict=True):
                    if value != "":
                        casts[column["type"]](value)
    totals = json.loads((key / "report.json").read_text())["totals"]
    assert list(totals) == [column["name"] for column in schema["report.json totals"]]


def test_sessions_centuries_apart_give_a_small_report_and_no_error() -> None:
    """Two sessions the API accepts, one stamped in 1970 and one at the end of the year 9999:
    the report still has a few thousand points at most, and every instant is written (the
    second's close, 10 minutes after it, is past the calendar's end)."""
    from playersim.reporting.page import render
    from playersim.reporting.record import MAX_TS

    reporter = Reporter()
    for sid, ts in (("early", 1), ("late", MAX_TS - 1_000)):
        reporter.feed(sid, {"eventType": "sessionStart", "playerTime": {"ts": ts, "playhead": 0}})
        reporter.feed(sid, {"eventType": "play", "playerTime": {"ts": ts + 500, "playhead": 0}})
    from playersim import build_report

    for zone in ("UTC", "Pacific/Kiritimati", "America/Adak"):
        report = build_report(reporter.snapshot(), timezone=zone)
        assert len(report.concurrency) <= 2_001
        assert "<svg" in render(report)
    closed = build_report(reporter.finish(), timezone="Pacific/Kiritimati")
    assert [row["close"] for row in closed.sessions][-1] == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize(
    "body",
    [
        {"eventType": "play", "playerTime": [1, 2]},
        {"eventType": "play", "playerTime": {"ts": "1", "playhead": 0}},
        {"eventType": "play", "playerTime": {"ts": -5, "playhead": 0}},
        {"eventType": "play", "playerTime": {"ts": 1, "playhead": 0}, "params": [1]},
        {"eventType": "play", "playerTime": {"ts": 1, "playhead": 0}, "qoeData": "x"},
        {"eventType": "statesUpdate", "playerTime": {"ts": 1, "playhead": 0},
         "params": {"statesStart": [1, 2]}},
    ],
)  # fmt: skip
def test_a_recording_with_a_body_the_meter_cannot_read_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: dict[str, Any]
) -> None:
    """A hostile recording's body of the wrong shape: exit 2 naming the line and the field."""
    start = {"eventType": "sessionStart", "playerTime": {"ts": 0, "playhead": 0}}
    lines = [
        {"session": "s", "path": "/api/v1/sessions", "status": 201, "body": start},
        {"session": "s", "path": "/api/v1/sessions/s/events", "status": 204, "body": body},
    ]
    path = tmp_path / "day.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert "day.ndjson:2: body" in err
    assert "Traceback" not in err


def test_a_recording_with_nan_or_infinity_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN and Infinity are not JSON (RFC 8259): a line holding one is named, exit 2."""
    path = tmp_path / "day.ndjson"
    path.write_text(
        '{"session": "s", "path": "/api/v1/sessions", "status": 201, "body": {"eventType": '
        '"sessionStart", "playerTime": {"ts": 0, "playhead": NaN}}}\n'
    )
    assert main(["report", str(path)]) == 2
    assert "day.ndjson:1: not JSON" in capsys.readouterr().err
