"""How many simulated viewers one Locust worker process carries (the `locust` extra).

`python bench/locust_workers.py [--viewers 5000] [--seconds 20] [--warmup 20]` runs Locust
headless, one process, against `bench/mca_stub.py` (a server in its own process that answers
like the MCA and checks nothing), three times:

- `FastPlayerUser` viewers of an evening's mix of profiles, on their players' schedule;
- `PlayerUser` viewers, the same on Locust's requests-based client;
- the baseline: plain Locust `FastHttpUser`s posting ready-made MCA bodies (a sessionStart, then
  pings) at the same request rate per user as the viewers sent, so the worker carries the same
  load with no simulation at all.

The users arrive over 10 s (as a load test ramps up, rather than all in one instant, when every
player would start, and break for ads, in step). Each run is measured inside the Locust process
over `--seconds`, after a warm-up: the CPU time the process used and the requests Locust
counted. The figures are CPU microseconds per request, and the ratio of the baseline's to
playersim's (1.0: simulating costs nothing on top of Locust); from them, the viewers one core
would carry at full load. For playersim's users, how late requests went out against their
timestamps (p50/p99): how well the worker kept its players on schedule.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from http_client import server  # bench/: a server in its own process, its URL

HERE = Path(__file__).parent
PROFILES = "vod-episode:4,vod-movie:2,live-news:1,live-sports:1"

# Appended to each locustfile: CPU time and requests over the measured window, as JSON.
PROBE = """
import json, time

import gevent
from locust import events


try:
    from playersim.contrib.locust import tally
    from playersim.engines.summary import Lateness
except ImportError:  # the baseline's process never imports playersim
    tally = None


@events.test_start.add_listener
def _probe(environment, **_):
    def measure():
        gevent.sleep({warmup})
        cpu, sent = time.process_time(), environment.stats.total.num_requests
        if tally is not None:
            tally().lateness.reset()
        gevent.sleep({seconds})
        figures = {{
            "cpu_s": time.process_time() - cpu,
            "requests": environment.stats.total.num_requests - sent,
            "failures": environment.stats.total.num_failures,
            "users": environment.runner.user_count,
        }}
        if tally is not None:
            late = tally().lateness.all
            figures["late_p50_ms"] = Lateness.percentile(late, 0.5)
            figures["late_p99_ms"] = Lateness.percentile(late, 0.99)
        print(json.dumps(figures), flush=True)

    gevent.spawn(measure)
"""

PLAYERS = """
from playersim.contrib.locust import {base}


class Viewers({base}):
    pass
"""

BASELINE = """
from locust import FastHttpUser, constant_pacing, task

HEADERS = {{"Content-Type": "application/json"}}
START = {start!r}
PING = {ping!r}


class Plain(FastHttpUser):
    wait_time = constant_pacing({pace})

    def on_start(self):
        answer = self.client.post("/api/v1/sessions", data=START, headers=HEADERS,
                                  name="sessionStart")
        self.path = answer.headers["Location"] + "/events"

    @task
    def ping(self):
        self.client.post(self.path, data=PING, headers=HEADERS, name="ping")
"""


def run(locustfile: str, url: str, args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    """One headless Locust run of `locustfile`; the probe's figures."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "locustfile.py"
        path.write_text(
            textwrap.dedent(locustfile) + PROBE.format(warmup=args.warmup, seconds=args.seconds)
        )
        result = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(path), "--host", url, "--headless",
             "-u", str(args.viewers), "-r", str(max(1, args.viewers // 10)), "-t",
             f"{args.warmup + args.seconds + 2}s", "--only-summary", *extra],
            capture_output=True, text=True, check=False, timeout=args.warmup + args.seconds + 120,
        )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"locust printed no figures:\n{result.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def ready_bodies() -> tuple[str, str]:
    """A real sessionStart and ping body, as a viewer sends them."""
    from playersim import Player, load_profile  # noqa: PLC0415 - only this helper needs it

    player = Player(load_profile("vod-episode"), seed=1, start_at=0)
    bodies: list[dict[str, Any]] = []
    while len(bodies) < 200 and player.next_wakeup is not None:
        bodies += player.due(player.next_wakeup)
    start = next(b for b in bodies if b["eventType"] == "sessionStart")
    ping = next(b for b in bodies if b["eventType"] == "ping")
    return json.dumps(start), json.dumps(ping)


def per_request_us(figures: dict[str, Any]) -> float:
    return float(figures["cpu_s"]) / max(1, int(figures["requests"])) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5000, help="users per run (5000)")
    parser.add_argument("--seconds", type=int, default=20, help="measured window (20 s)")
    parser.add_argument("--warmup", type=int, default=20, help="seconds before it (20 s)")
    args = parser.parse_args()
    options = ("--playersim-profiles", PROFILES, "--playersim-seed", "1")
    with server(str(HERE / "mca_stub.py"), "0") as url:
        fast = run(PLAYERS.format(base="FastPlayerUser"), url, args, *options)
        slow = run(PLAYERS.format(base="PlayerUser"), url, args, *options)
        rate = fast["requests"] / args.seconds / args.viewers  # requests per viewer-second
        start, ping = ready_bodies()
        baseline = run(BASELINE.format(start=start, ping=ping, pace=round(1 / rate, 3)), url, args)
    base_us = per_request_us(baseline)
    print(f"viewers per worker process    {args.viewers:,} ({PROFILES})")
    print(f"measured                      {args.seconds} s, after {args.warmup} s of warm-up")
    print(f"requests per viewer-second    {rate:.3f}")
    for name, figures in (
        ("plain FastHttpUser (baseline)", baseline),
        ("FastPlayerUser", fast),
        ("PlayerUser", slow),
    ):
        us = per_request_us(figures)
        load = figures["cpu_s"] / args.seconds
        late = (
            f"   sent p50/p99 {figures['late_p50_ms']:g}/{figures['late_p99_ms']:g} ms late"
            if figures.get("late_p99_ms") is not None
            else ""
        )
        print(
            f"{name:<30}{us:5.0f} µs CPU/request {figures['requests'] / args.seconds:7,.0f} req/s"
            f"   CPU load {load:.2f}   ratio {base_us / us:.2f}{late}"
        )
        if figures["failures"]:
            print(f"  ({figures['failures']} failures: the figures are not to be trusted)")
    for name, figures in (("FastPlayerUser", fast), ("PlayerUser", slow)):
        viewers = 1e6 / per_request_us(figures) / rate
        print(f"one core at full load carries about {viewers:,.0f} viewers on {name}")


if __name__ == "__main__":
    main()
