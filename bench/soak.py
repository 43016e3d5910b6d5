"""Soak: `playersim serve` under a steady load for an hour; its memory and /stats must plateau.

Run: `python bench/soak.py [--minutes 60] [--rate 50] [--every 60]` (needs the `test` extra)

The server runs as users run it (`playersim serve`, its defaults: 10 minutes idle timeout, 10
minutes retention), in a process of its own. The load is what a long-lived collector meets in
practice: `--rate` sessions a second, each a sessionStart and a few pings, and two thirds of them
abandoned there (no sessionEnd: the idle timeout closes them, each with an `unterminated` problem,
the kind of session whose leftovers the server used to keep for ever); the rest end with a
sessionEnd. Every `--every` seconds the server's resident memory (RSS, from /proc) and the time
/stats takes to answer are sampled.

Printed: the curve (minute, RSS, /stats time, sessions opened, open, forgotten) and the figures
as ratios against a baseline measured in the same run, once the steady state is reached (after
the idle timeout and the retention have both run out, 20 minutes in): the median over the last
fifth of the steady state's samples against the median over its first fifth, for RSS and for
the /stats time (each sample the median of three asks: one answer's time is noisy). A server
that holds bounded state shows both near 1.0; one that keeps something per session grows with
the minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from playersim import Player, load_profile
from playersim.mca.api import SESSIONS_PATH, events_path
from playersim.mca.wire import make_body

# The steady state begins once the idle timeout (10 min) and the retention (10 min) have both
# run their course for the first sessions: before that the server is still filling up.
STEADY_AFTER_S = 20 * 60


@dataclass
class Sample:
    minute: float
    rss_mb: float
    stats_ms: float
    opened: int
    open: int
    forgotten: int


def start_body() -> dict[str, object]:
    """A real player's sessionStart (a bundled profile's), to send again and again."""
    player = Player(load_profile("vod-episode"), seed=1, start_at=0)
    return player.due(0)[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc: this bench reads memory the Linux way")


async def viewer(
    http: aiohttp.ClientSession, url: str, start: dict[str, object], rng: random.Random
) -> None:
    now = int(time.time() * 1000)
    body = dict(start)
    body["playerTime"] = {"playhead": 0, "ts": now}
    async with http.post(url + SESSIONS_PATH, json=body) as answer:
        sid = answer.headers["Location"].rsplit("/", 1)[1]
    events = url + events_path(sid)
    for n in range(1, 4):
        async with http.post(events, json=make_body("ping", 0, now + n)) as answer:
            await answer.read()
    if rng.random() < 1 / 3:
        async with http.post(events, json=make_body("sessionEnd", 0, now + 4)) as answer:
            await answer.read()


async def load(url: str, rate: float, seconds: float, every: float, pid: int) -> list[Sample]:
    start = start_body()
    rng = random.Random("soak")
    samples: list[Sample] = []
    began = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as http:
        next_sample = began
        sent = 0
        while (elapsed := time.monotonic() - began) < seconds:
            while sent < elapsed * rate:
                task = asyncio.ensure_future(viewer(http, url, start, rng))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            if time.monotonic() >= next_sample:
                samples.append(await sample(http, url, pid, elapsed))
                print(row(samples[-1]), flush=True)
                next_sample += every
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks, return_exceptions=True)
        samples.append(await sample(http, url, pid, time.monotonic() - began))
        print(row(samples[-1]), flush=True)
    return samples


async def sample(http: aiohttp.ClientSession, url: str, pid: int, elapsed: float) -> Sample:
    took: list[float] = []
    for _ in range(3):
        asked = time.perf_counter()
        async with http.get(url + "/stats?format=json") as answer:
            figures = json.loads(await answer.read())
        took.append((time.perf_counter() - asked) * 1000)
    sessions = figures["sessions"]
    return Sample(
        elapsed / 60,
        rss_mb(pid),
        statistics.median(took),
        sessions["opened"],
        sessions["open"],
        sessions.get("forgotten", 0),
    )


def row(s: Sample) -> str:
    return (
        f"{s.minute:6.1f} min  RSS {s.rss_mb:7.1f} MB  /stats {s.stats_ms:7.1f} ms  "
        f"opened {s.opened:>9,}  open {s.open:>7,}  forgotten {s.forgotten:>9,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0, help="sessions a second")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument(
        "--serve", default=f"{sys.executable} -m playersim serve", help="the server command"
    )
    args = parser.parse_args()
    server = subprocess.Popen(
        [*args.serve.split(), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().rsplit(" ", 1)[1].strip()
        print(f"soak: {args.rate:g} sessions/s for {args.minutes:g} min against {url}")
        samples = asyncio.run(load(url, args.rate, args.minutes * 60, args.every, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    steady = [s for s in samples if s.minute * 60 >= STEADY_AFTER_S]
    if len(steady) < 5:
        print("(shorter than the 25 minutes a steady state needs: no ratios)")
        return
    fifth = len(steady) // 5
    first, last = steady[:fifth], steady[-fifth:]
    rss = [statistics.median(s.rss_mb for s in part) for part in (first, last)]
    stats_ms = [statistics.median(s.stats_ms for s in part) for part in (first, last)]
    print(
        f"\nsteady state, {steady[0].minute:.0f} to {steady[-1].minute:.0f} min "
        f"({steady[-1].opened - steady[0].opened:,} sessions opened), its last fifth against "
        f"its first: RSS x{rss[1] / rss[0]:.2f} ({rss[0]:.1f} -> {rss[1]:.1f} MB), "
        f"/stats time x{stats_ms[1] / stats_ms[0]:.2f} ({stats_ms[0]:.1f} -> {stats_ms[1]:.1f} ms)"
    )


if __name__ == "__main__":
    main()
