"""Golden recordings: a few fixed runs, each recording's SHA-256 kept in
`tests/data/golden.json`. A change that was not meant to change traffic (a refactor, a speed-up)
must leave every one byte for byte as it was; one that means to, regenerates them on purpose:

    PLAYERSIM_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and says so in its commit. Same seed and inputs, same bytes: that is also what this checks."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from playersim import AdobeSettings, run

GOLDEN = Path(__file__).parent / "data" / "golden.json"
EXAMPLES = Path(__file__).parent.parent / "examples"
DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"

RUNS: dict[str, dict[str, Any]] = {
    "mca-every-profile": {"sessions": 40, "seed": 5},
    "mca-a-day-of-episodes": {
        "profiles": ["vod-episode"],
        "sessions": 60,
        "seed": 8,
        "start": "2026-03-02T05:00:00Z",
    },
    "edge-every-profile": {
        "sessions": 40,
        "seed": 5,
        "adobe": AdobeSettings(api="edge", datastream=DATASTREAM, tenant="_acme"),
    },
    "mca-timeline-2": {"script": EXAMPLES / "scripts" / "timeline-2-abandon.toml"},
    "edge-section-6": {
        "script": EXAMPLES / "section6.toml",
        "adobe": AdobeSettings(api="edge", datastream=DATASTREAM),
    },
}


# Recorded to a file, as `playersim run --record FILE` records: a recording's bytes go straight
# to the file (a text stream, above, takes them as text).
FILE_RUNS: dict[str, dict[str, Any]] = {
    "mca-recorded-to-a-file": {"sessions": 60, "seed": 11},
    "edge-recorded-to-a-file": {
        "sessions": 30,
        "seed": 12,
        "adobe": AdobeSettings(api="edge", datastream=DATASTREAM),
    },
}


def digest(options: dict[str, Any]) -> str:
    recording = io.StringIO()
    run(record=recording, **options)
    return hashlib.sha256(recording.getvalue().encode()).hexdigest()


def file_digest(options: dict[str, Any], folder: Path) -> str:
    target = folder / "recording.ndjson"
    run(record=target, **options)
    return hashlib.sha256(target.read_bytes()).hexdigest()


def update(name: str, got: str) -> None:
    """`name`'s digest written into the file, the others' kept. The suite's workers update it
    at once (pytest-xdist): each reads and writes under a lock, one after the other, or one
    would write back the file it read before another's update and lose that update."""
    # ("a+": made if missing; once truncated, what it appends is the whole file.)
    with GOLDEN.open("a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released as the file closes
        file.seek(0)
        text = file.read()
        kept = json.loads(text) if text else {}
        kept[name] = got
        file.seek(0)
        file.truncate()
        file.write(json.dumps(kept, indent=1, sort_keys=True) + "\n")


def check(name: str, got: str) -> None:
    if os.environ.get("PLAYERSIM_UPDATE_GOLDEN"):
        update(name, got)
        return
    kept = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    assert name in kept, f"no golden digest for {name}: PLAYERSIM_UPDATE_GOLDEN=1 makes one"
    assert got == kept[name], f"{name}: the traffic changed (PLAYERSIM_UPDATE_GOLDEN=1 if meant)"


@pytest.mark.parametrize("name", list(RUNS))
def test_a_golden_run_sends_the_same_bytes(name: str) -> None:
    got = digest(RUNS[name])
    assert digest(RUNS[name]) == got  # twice in one process: the same bytes
    check(name, got)


@pytest.mark.parametrize("name", list(FILE_RUNS))
def test_a_golden_run_records_the_same_bytes_to_a_file(name: str, tmp_path: Path) -> None:
    got = file_digest(FILE_RUNS[name], tmp_path)
    check(name, got)
