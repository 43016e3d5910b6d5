"""For solution consultants: an evening's audience sent to a collector, to seed a demo.

    python examples/seed_a_demo_suite.py --to https://your.collection.endpoint --viewers 500 \
        --profiles my-profiles/

A mix that looks like a real service at prime time (films, series, news, sports, clips,
podcasts, in proportion), people who come back on several devices, sent over HTTP as fast as the
endpoint takes it, each session in order. Without `--to`, it starts playersim's own collector
on a free loopback port (the `server` extra) and prints what that collector saw, so the demo
can be rehearsed anywhere.

Run it from the folder of your `playersim.toml`: its run takes your settings from there, as
`playersim run` does (your tracking server, report suite and organization; or, with
`api = "edge"` and your `datastream`, Adobe's Media Edge API, which the local collector answers
too). Without them the bundled profiles route to a made-up demo suite, right for a rehearsal,
wrong for your report suite. `--profiles DIR` takes the profiles from a folder of your own
files (`vod-movie.toml`, ..., each perhaps `extends` of the bundled one).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--to", help="the collection endpoint (default: a local collector)")
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--seed", default="demo")
    parser.add_argument(
        "--profiles",
        metavar="DIR",
        type=Path,
        help="your copies of the profiles (default: bundled)",
    )
    args = parser.parse_args()
    mix = ["vod-movie:3", "vod-episode:4", "live-news:1", "live-sports:2", "ugc-clip:2",
           "podcast-audio:1", "linear-channel:1"]  # fmt: skip
    if args.profiles is not None:
        mine = [
            (args.profiles / f"{entry.split(':')[0]}.toml", entry.split(":")[1]) for entry in mix
        ]
        if missing := [str(path) for path, _ in mine if not path.is_file()]:
            parser.error(
                f"--profiles: no {', '.join(missing)} (copy them from `playersim profiles`)"
            )
        mix = [f"{path}:{weight}" for path, weight in mine]

    server = None
    url = args.to
    if url is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "playersim", "serve", "--port", str(port), "--seed", args.seed],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        server.stdout.readline()  # "listening on ..."
        url = f"http://127.0.0.1:{port}"
    try:
        command = [
            sys.executable,
            "-m",
            "playersim",
            "run",
            "--to",
            url,
            "--seed",
            args.seed,
            "--sessions",
            str(args.viewers),
            "--duration",
            "4h",
            "--start",
            "2026-03-06T23:00:00Z",
        ]  # fmt: skip  (18:00 in New York)
        for profile in mix:
            command += ["--profile", profile]
        status = subprocess.run(command, check=False).returncode
        if server is not None:
            with urllib.request.urlopen(f"{url}/stats?format=json") as answer:
                seen = json.load(answer)
            problems = sum(seen["conformance_problems"].values())  # by rule
            print(f"the collector saw {seen['sessions']['opened']:,} sessions and "
                  f"{seen['requests']:,} requests, {problems or 'no'} "
                  "conformance problems")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
