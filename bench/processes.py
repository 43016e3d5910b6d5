"""Every core: a run in memory with `--record`, in one process and shared between processes.

Run: `python bench/processes.py [--sessions N] [--processes P] [--repeat R]`

The figure that matters is a ratio against a baseline measured in the same run: the requests
per second of a plain loop that builds the same request bodies as dicts and `json.dumps` them
(the least any generator of this traffic must do, on one core). playersim's run records every
request to a file and validates and checks it in the built-in collector; it is timed whole, as
a user runs it (`playersim.run(...)`: catalogues built, processes started, parts merged), with
one process and with `--processes P`. The recordings of the two are compared byte for byte.
Each side is timed `--repeat` times and the best run kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from playersim import run

START = "2026-01-01T12:00:00Z"


def timed_run(sessions: int, processes: int, folder: Path) -> tuple[float, int, str, float]:
    """Seconds, requests and the recording's SHA-256 of one run, and the CPU seconds of its
    busiest process: what the run takes on cores with nothing else to do (a figure a busy
    machine does not spoil, as it does the wall time)."""
    record = folder / f"run-{processes}.ndjson"
    mine, theirs = resource.getrusage(resource.RUSAGE_SELF), _children()
    began = time.perf_counter()
    stats = run(sessions=sessions, seed=3, start=START, record=record, processes=processes)
    seconds = time.perf_counter() - began
    own = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(mine)
    others = _children() - theirs  # (all of them: each does about the same)
    busiest = max(own, others / max(1, processes - 1))
    digest = hashlib.sha256(record.read_bytes()).hexdigest()
    return seconds, stats.requests, digest, busiest


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _children() -> float:
    return _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))


def bodies_of(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line)["body"] for line in stream]


def baseline(bodies: list[dict[str, Any]]) -> float:
    """Requests per second of building each body afresh as a dict and serialising it."""
    dumps = json.dumps
    began = time.perf_counter()
    for body in bodies:
        if isinstance(body, list):  # a downloaded session: its events, one request
            dumps([dict(event) for event in body])
            continue
        built: dict[str, Any] = {
            "playerTime": dict(body["playerTime"]),
            "eventType": body["eventType"],
        }
        if "params" in body:
            built["params"] = dict(body["params"])
        if "qoeData" in body:
            built["qoeData"] = dict(body["qoeData"])
        if "customMetadata" in body:
            built["customMetadata"] = dict(body["customMetadata"])
        dumps(built)
    return len(bodies) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--processes", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        one = min(timed_run(args.sessions, 1, folder) for _ in range(args.repeat))
        many = min(timed_run(args.sessions, args.processes, folder) for _ in range(args.repeat))
        bodies = bodies_of(folder / "run-1.ndjson")
        plain = max(baseline(bodies) for _ in range(args.repeat))
    assert one[1] == many[1], "the same run, the same requests"
    same = "byte-identical" if one[2] == many[2] else "DIFFERENT"
    rate_one, rate_many = one[1] / one[0], many[1] / many[0]
    print(f"sessions                  {args.sessions:,}")
    print(f"requests per run          {one[1]:,}")
    print(f"baseline (one core)       {plain:,.0f} requests/s (build dicts + json.dumps)")
    print(f"run --record, 1 process   {rate_one:,.0f} requests/s  {rate_one / plain:.3f}x baseline")
    print(
        f"run --record, {args.processes} processes "
        f"{rate_many:,.0f} requests/s  {rate_many / plain:.3f}x baseline  "
        f"({rate_many / rate_one:.2f}x one process)"
    )
    print(
        f"on free cores (CPU s of the busiest process): 1 process {one[3]:.1f} s, "
        f"{args.processes} processes {many[3]:.1f} s: {one[3] / many[3]:.2f}x, "
        f"{one[1] / many[3] / plain:.3f}x baseline"
    )
    print(f"recordings                {same}")


if __name__ == "__main__":
    main()
