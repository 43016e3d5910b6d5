"""What the answer key costs: a run with `report=True` against the same run without it, and
`playersim report` of a recording against reading that recording's lines.

Run: `python bench/answer_key.py [--sessions N] [--repeat R]`

Ratios against a baseline measured in the same process, best of `--repeat` runs each, since
these machines are noisy:

- **run**: the same virtual day (every bundled profile, `--sessions` viewers over 24 h) with the
  answer key metered as requests settle, over the run alone. The meter does per event what the
  collector's conformance report does, so a ratio near 1.2 is the expectation.
- **recording**: the answer key of that day's recording (`Reporter.from_recording`) over
  parsing the same lines with `json.loads`, the least any reader of the file does.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import playersim
from playersim.reporting.reporter import Reporter
from playersim.reporting.rollup import build_report

DAY = {"duration": timedelta(hours=24), "start": "2026-03-02T05:00:00Z", "seed": 1}


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "day.ndjson"
        stats = playersim.run(sessions=args.sessions, record=recording, **DAY)
        plain = best(args.repeat, lambda: playersim.run(sessions=args.sessions, **DAY))
        metered = best(
            args.repeat,
            lambda: playersim.run(sessions=args.sessions, report=True, **DAY),
        )

        def parse() -> None:
            with open(recording, "rb") as stream:
                for line in stream:
                    json.loads(line)

        def report() -> None:
            build_report(Reporter.from_recording(recording).finish())

        parsed = best(args.repeat, parse)
        reported = best(args.repeat, report)
    print(f"{args.sessions} viewers over 24 h: {stats.requests:,} requests")
    print(f"run:       {plain:7.2f} s plain, {metered:7.2f} s with the answer key: "
          f"ratio {metered / plain:.2f}")  # fmt: skip
    print(f"recording: {parsed:7.2f} s json.loads, {reported:7.2f} s the answer key: "
          f"ratio {reported / parsed:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
