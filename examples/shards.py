"""A day of traffic made in shares on a cluster, then merged into one recording.

Each share is `playersim.run(..., shard="K/N", record=PART)`: a plain function call that any
cluster engine can run remotely. This script hands the N calls to a `concurrent.futures`
executor, waits for the parts and joins them with `playersim.merge`, which gives the recording
one machine running the whole day would have written, byte for byte, and the day's account.

    python examples/shards.py --shares 4 --sessions 2000 --out day.ndjson
        (local processes: `concurrent.futures.ProcessPoolExecutor`)
    python examples/shards.py --shares 32 --sessions 100000 --out /shared/day.ndjson \\
        --dask tcp://scheduler:8786
        (a Dask cluster: `distributed.Client(address).get_executor()`, which is the same
        `concurrent.futures` interface; the parts go to a directory every worker can write)

On Kubernetes, an Indexed Job does the same without a scheduler: pod I of N runs
`playersim run ... --shard $((I + 1))/N --record /shared/part-$I.ndjson` (I is the pod's
JOB_COMPLETION_INDEX), and a last step runs
`playersim merge /shared/part-*.ndjson --record /shared/day.ndjson` (docs/scale.md).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import playersim


def make_share(share: str, sessions: int, part: str) -> int:
    """One share of the day, run wherever the executor puts it; how many requests it sent."""
    stats = playersim.run(
        sessions=sessions,
        duration=timedelta(hours=24),
        start="2026-03-02T05:00:00Z",
        seed=7,
        shard=share,
        processes=1,  # one process per share: the executor spreads the shares
        record=part,
    )
    return stats.requests


def make_day(executor: Executor, *, shares: int, sessions: int, out: Path) -> playersim.RunStats:
    """The day in `shares` parts on `executor`, merged into `out`."""
    folder = out.parent / f".{out.name}.parts"
    folder.mkdir(parents=True, exist_ok=True)
    parts = [str(folder / f"part-{k}-of-{shares}.ndjson") for k in range(1, shares + 1)]
    futures = [
        executor.submit(make_share, f"{k}/{shares}", sessions, part)
        for k, part in enumerate(parts, 1)
    ]
    for future in futures:
        future.result()  # (a share that failed raises here, with its own error)
    stats = playersim.merge(parts, out)
    for part in parts:
        Path(part).unlink()
    folder.rmdir()
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shares", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("day.ndjson"))
    parser.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler to run the shares on")
    args = parser.parse_args()
    if args.dask:
        from distributed import Client  # noqa: PLC0415 - only for a Dask cluster

        executor: Executor = Client(args.dask).get_executor()
    else:
        executor = ProcessPoolExecutor(max_workers=args.shares)
    with executor:
        stats = make_day(executor, shares=args.shares, sessions=args.sessions, out=args.out)
    print(f"{stats.viewings:,} viewings, {stats.requests:,} requests, in {args.out}")
    print(f"conformance problems: {sum((stats.conformance or {}).values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
