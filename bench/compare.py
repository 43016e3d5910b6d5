"""Two versions of playersim side by side: the CPU time of `throughput.py`'s workload in each.

Run: `python bench/compare.py OLD_TREE NEW_TREE [--sessions N] [--rounds R]`, where each tree
is a checkout (`git worktree add --detach /tmp/old <commit>`). Run it from outside both trees,
so that neither is shadowed by an editable install.

Wall-clock figures on a shared machine move by 10% from run to run, more than most changes
worth measuring. CPU time (`time.process_time`) of the same work moves far less, and the best
of several rounds less still. Rounds alternate between the two trees, each round a fresh
process (nothing cached from the other tree), and the best of each is kept. The figure that
matters is the ratio: new over old, below 1 when the new version is faster.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

# One round in a fresh process: the best CPU time of three runs of the workload, after one run
# to warm up (imports, profile parsing and the metadata pools' first build are not timed).
_ROUND = """
import sys, time
sys.path.insert(0, sys.argv[1])
import throughput
sessions = int(sys.argv[2])
throughput.simulate(sessions)
best = float("inf")
for _ in range(3):
    started = time.process_time()
    throughput.simulate(sessions)
    best = min(best, time.process_time() - started)
print(best)
"""


def _round(tree: Path, sessions: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _ROUND, str(tree / "bench"), str(sessions)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"compare: {tree}: the workload failed:\n{done.stderr.strip()}")
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the checkout to compare against")
    parser.add_argument("new", type=Path, help="the checkout being measured")
    parser.add_argument("--sessions", type=int, default=200, help="sessions per run (200)")
    parser.add_argument("--rounds", type=int, default=6, help="processes per tree (6)")
    args = parser.parse_args()
    for tree in (args.old, args.new):
        if not (tree / "bench" / "throughput.py").is_file():
            parser.error(f"{tree}: not a playersim checkout (no bench/throughput.py)")
    if args.sessions < 1 or args.rounds < 1:
        parser.error("--sessions and --rounds must be at least 1")
    old, new = float("inf"), float("inf")
    for _ in range(args.rounds):
        old = min(old, _round(args.old, args.sessions))
        new = min(new, _round(args.new, args.sessions))
    print(f"sessions              {args.sessions} per run, best of {args.rounds} processes each")
    print(f"old                   {old:.3f} s CPU  ({args.old})")
    print(f"new                   {new:.3f} s CPU  ({args.new})")
    print(f"ratio                 {new / old:.3f} (new over old: below 1 is faster)")


if __name__ == "__main__":
    main()
