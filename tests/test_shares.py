"""A run shared between processes or machines makes exactly the traffic of one process.

`run(shard="K/N")` on each of N machines, then `merge()`, must give the recording one process
writes, byte for byte, and the same account; `processes=N` does the same on one machine. The
shares are checked in one process (each share is a run of its own), for every kind of viewing
that couples one session to another: viewers who share devices and hours, the next episode,
downloaded viewings sent later, a concurrency limit that turns arrivals away or keeps them
waiting, and the Media Edge API. (A script's few sessions are not shared.)
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playersim import AdobeSettings, Collector, VirtualClock, run
from playersim.cli import main
from playersim.compression import RecordingFile
from playersim.engines.shares import Share, parse_share
from playersim.engines.summary import RunStats, format_summary, summary_json
from playersim.runner import DEFAULT_START, OptionError, merge
from playersim.transports.recording import PartError
from tests.mca_server import serve

EXAMPLES = Path(__file__).parent.parent / "examples"
DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"

RUNS: dict[str, dict[str, Any]] = {
    "every profile": {"sessions": 60, "seed": 5},
    "a day of episodes, binge-watched": {
        "profiles": ["vod-episode"],
        "sessions": 80,
        "seed": 8,
        "start": "2026-03-02T05:00:00Z",
    },
    "a small audience: viewers wait for their devices": {
        "profiles": ["vod-movie:1", "podcast-audio:2"],
        "sessions": 50,
        "rate": 0.5,
        "seed": 2,
    },
    "a concurrency limit turning arrivals away": {
        "profiles": ["live-news"],
        "rate": 1.0,
        "duration": "PT20M",
        "concurrency": 8,
        "seed": 3,
    },
    "a closed workload": {"profiles": ["ugc-clip"], "concurrency": 5, "sessions": 30, "seed": 4},
    "the Media Edge API": {
        "sessions": 40,
        "seed": 6,
        "adobe": AdobeSettings(api="edge", datastream=DATASTREAM, tenant="_acme"),
    },
}


def _options(given: dict[str, Any]) -> dict[str, Any]:
    options = dict(given)
    if isinstance(options.get("duration"), str):
        from datetime import timedelta

        minutes = int(options["duration"].removeprefix("PT").removesuffix("M"))
        options["duration"] = timedelta(minutes=minutes)
    return options


def whole(options: dict[str, Any]) -> tuple[bytes, RunStats]:
    recording = io.StringIO()
    stats = run(record=recording, processes=1, **options)
    return recording.getvalue().encode(), stats


def in_shares(options: dict[str, Any], parts: int, folder: Path) -> tuple[bytes, RunStats]:
    paths = []
    for k in range(1, parts + 1):
        path = folder / f"part-{k}-of-{parts}.ndjson"
        run(record=path, shard=f"{k}/{parts}", processes=1, **options)
        paths.append(path)
    joined = folder / f"merged-{parts}.ndjson"
    stats = merge(list(reversed(paths)), joined)  # in any order
    return joined.read_bytes(), stats


def said(stats: RunStats) -> tuple[str, str]:
    """What a person and a machine read of a run's account (the title aside)."""
    text = format_summary(stats, title="", conformance=stats.conformance)
    machine = json.dumps(summary_json(stats, conformance=stats.conformance), sort_keys=True)
    return text, machine


@pytest.mark.parametrize("name", list(RUNS))
def test_shares_merged_are_the_run_one_process_makes(name: str, tmp_path: Path) -> None:
    options = _options(RUNS[name])
    expected, stats = whole(options)
    assert expected.count(b"\n") > 20
    for parts in (2, 3):
        got, merged = in_shares(options, parts, tmp_path)
        assert got == expected, f"{name}: {parts} shares merged differ from one process"
        assert said(merged) == said(stats)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    parts=st.integers(2, 4),
    profiles=st.lists(
        st.sampled_from(
            ["vod-movie", "vod-episode", "live-news", "live-sports", "podcast-audio", "ugc-clip"]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
def test_any_seed_any_split_gives_the_same_bytes(
    seed: int, parts: int, profiles: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    options = {"profiles": profiles, "sessions": 24, "seed": seed, "rate": 0.1}
    expected, stats = whole(options)
    got, merged = in_shares(options, parts, tmp_path_factory.mktemp("shares"))
    assert got == expected
    assert said(merged) == said(stats)


def test_each_share_sends_only_its_own_viewings(tmp_path: Path) -> None:
    options = {"profiles": ["ugc-clip"], "sessions": 40, "seed": 9}
    _, stats = whole(options)
    counts = [
        run(record=tmp_path / f"{k}.ndjson", shard=f"{k}/4", processes=1, **options)
        for k in range(1, 5)
    ]
    # Every viewing is sent by exactly one share: the counts add up to the run's.
    assert sum(part.viewings for part in counts) == stats.viewings
    assert sum(part.requests for part in counts) == stats.requests
    assert all(part.viewings for part in counts)
    texts = [(tmp_path / f"{k}.ndjson").read_text() for k in (1, 2, 3, 4)]
    lines = [[json.loads(line) for line in text.splitlines()] for text in texts]
    # A part's last line says what it is; the others are numbered recording lines.
    assert [part[-1]["part"]["share"] for part in lines] == ["1/4", "2/4", "3/4", "4/4"]
    sessions = [{line["session"] for line in part[:-1]} - {None} for part in lines]
    for k, mine in enumerate(sessions):
        for other in sessions[k + 1 :]:
            assert not mine & other


def test_a_share_is_written_k_of_n_from_one() -> None:
    assert parse_share(" 2 / 5 ") == Share(2, 5)
    for bad in ("0/2", "3/2", "2", "a/b", "1/0", "1/5000"):
        with pytest.raises(ValueError, match="K/N"):
            parse_share(bad)
    with pytest.raises(OptionError, match="shard"):
        run(sessions=2, shard="3/2")


def test_options_that_do_not_go_with_shares_are_refused() -> None:
    with pytest.raises(OptionError, match="playersim report"):
        run(sessions=2, shard="1/2", report=True)
    with pytest.raises(OptionError, match="processes"):
        run(sessions=2, processes=0)
    # A script's sessions are copies of one session, told apart by the order they come in.
    script = EXAMPLES / "scripts" / "timeline-1-view-to-end.toml"
    with pytest.raises(OptionError, match="copies of one session"):
        run(script=script, sessions=3, shard="1/2")


# --- playersim merge --------------------------------------------------------------------------


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    options = {"profiles": ["ugc-clip"], "sessions": 12, "seed": 3}
    paths = [tmp_path / f"part-{k}.ndjson" for k in (1, 2, 3)]
    for k, path in enumerate(paths, 1):
        run(record=path, shard=f"{k}/3", **options)
    return paths


def test_merge_on_the_command_line_prints_the_run_and_writes_its_recording(
    parts: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day.ndjson"
    assert main(["merge", *map(str, parts), "--record", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    one = tmp_path / "one.ndjson"
    stats = run(profiles=["ugc-clip"], sessions=12, seed=3, record=one)
    assert out.read_bytes() == one.read_bytes()
    assert summary["viewings"] == stats.viewings
    assert summary["requests"] == stats.accounting()


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("missing", "2/3 missing"),
        ("twice", "is given twice"),
        ("not a part", "not a whole part"),
        ("cut short", "not a whole part"),
        ("another run", "parts of different runs"),
        ("no file", "cannot read the file"),
    ],
)
def test_merge_refuses_parts_that_do_not_make_one_run(
    which: str,
    says: str,
    parts: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    given = [str(path) for path in parts]
    if which == "missing":
        del given[1]
    elif which == "twice":
        given.append(given[0])
    elif which == "not a part":
        plain = tmp_path / "plain.ndjson"
        run(profiles=["ugc-clip"], sessions=2, record=plain)
        given[1] = str(plain)
    elif which == "cut short":
        data = parts[1].read_bytes()
        parts[1].write_bytes(data[: len(data) // 2])
    elif which == "another run":
        other = tmp_path / "other.ndjson"
        run(profiles=["ugc-clip"], sessions=12, seed=4, record=other, shard="2/3")
        given[1] = str(other)
    else:
        given[1] = str(tmp_path / "nowhere.ndjson")
    out = tmp_path / "day.ndjson"
    assert main(["merge", *given, "--record", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_merge_refuses_a_part_whose_lines_are_not_numbered(parts: list[Path]) -> None:
    lines = parts[0].read_bytes().splitlines(keepends=True)
    lines[1] = b'{"session":null,"path":"/x","status":204,"body":{}}\n'
    parts[0].write_bytes(b"".join(lines))
    with pytest.raises(PartError, match=r"part-1.ndjson: line 2 is not a numbered line"):
        b"".join(merge_lines(parts))


def merge_lines(paths: list[Path]) -> list[bytes]:
    from playersim.transports.recording import merge_parts

    return list(merge_parts(paths))


# --- several processes on one machine ---------------------------------------------------------


@pytest.mark.slow
def test_a_run_in_several_processes_is_the_run_in_one(tmp_path: Path) -> None:
    options = {"profiles": ["vod-episode:2", "live-news"], "sessions": 120, "seed": 7}
    expected, stats = whole(options)
    recording = tmp_path / "two.ndjson"
    two = run(record=recording, processes=3, report=tmp_path / "key3", **options)
    assert recording.read_bytes() == expected
    assert said(two) == said(stats)
    one = run(processes=1, report=tmp_path / "key1", **options)
    assert one.answer_key is not None
    assert two.answer_key is not None
    assert two.answer_key.totals == one.answer_key.totals
    for name in ("sessions.csv", "ads.csv", "report.json", "rollups/hour.csv"):
        assert (tmp_path / "key3" / name).read_bytes() == (tmp_path / "key1" / name).read_bytes()
    # Its parts are cleaned away.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key1", "key3", "two.ndjson"]


@pytest.mark.slow
def test_a_share_made_of_processes_merges_with_the_others(tmp_path: Path) -> None:
    options = {"profiles": ["ugc-clip", "podcast-audio"], "sessions": 60, "seed": 1}
    expected, stats = whole(options)
    first, second = tmp_path / "1.ndjson", tmp_path / "2.ndjson"
    run(record=first, shard="1/2", processes=2, **options)
    run(record=second, shard="2/2", processes=1, **options)
    joined = tmp_path / "all.ndjson"
    merged = merge([first, second], joined)
    assert joined.read_bytes() == expected
    assert said(merged) == said(stats)


@pytest.mark.slow
def test_a_run_over_http_in_several_processes_sends_what_one_process_sends(
    tmp_path: Path,
) -> None:
    """Each process sends its own share to the endpoint: the endpoint's sessions and the
    recording are one process's, byte for byte."""
    options = {"profiles": ["ugc-clip", "live-news"], "sessions": 40, "seed": 12}
    recordings = []
    for processes in (1, 2):
        collector = Collector(VirtualClock(DEFAULT_START), seed="1", keep_events=True)
        with serve(collector) as url:
            recording = tmp_path / f"{processes}.ndjson"
            stats = run(to=url, record=recording, processes=processes, **options)
        assert stats.failed == 0
        assert len(collector.sessions) == stats.sessions_started
        recordings.append(recording.read_bytes())
    assert recordings[0] == recordings[1]


def test_parts_compressed_by_their_names_merge_into_a_compressed_recording(
    tmp_path: Path,
) -> None:
    options = {"profiles": ["ugc-clip"], "sessions": 10, "seed": 2}
    expected, _ = whole(options)
    first, second = tmp_path / "1.ndjson.gz", tmp_path / "2.ndjson.zst"
    run(record=first, shard="1/2", **options)
    run(record=second, shard="2/2", **options)
    joined = tmp_path / "day.ndjson.zst"
    merge([first, second], joined)
    with RecordingFile(joined) as stream:
        assert b"".join(stream) == expected
