"""HTTP throughput: `playersim run --to` against a plain aiohttp client loop, same server, same run.

Run: `python bench/http_client.py [--sessions N] [--in-flight C] [--repeat R]` (needs the `test`
extra, which brings the `aiohttp` and `server` extras)

The server is `bench/mca_stub.py` in a process of its own (on the other core): it answers like
the MCA and checks nothing, so what is measured is the client. The baseline is the least a client
of this traffic must do: the same requests (built once, before timing, from an in-memory run of
the same workload), sent by a plain aiohttp loop with C sessions sending at once, each session's
requests in order, the sid taken from each 201's Location. playersim is timed two ways:

- its transport (`AiohttpTransport`, or the httpx one) in the baseline's own loop: what its HTTP
  layer (requests, answers, retries, errors) costs;
- `playersim replay FILE --to URL --fast --in-flight C`: the same requests sent again from
  their recording, each session in order, at most C at once;
- `playersim run --to URL --in-flight C`: everything a run does, simulating the players as it
  goes (about a seventh of the time), with each player hearing the answer to its sessionStart
  before it moves on.

Each side is timed `--repeat` times, alternating, and the best kept.

Printed: requests/s for the baseline and for playersim (over aiohttp, the default when the extra
is installed, and over httpx, the fallback), and their ratios to the baseline. Then the same against
`playersim serve`, where the server is the bottleneck, to show what a real collector allows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import aiohttp

from playersim import (
    Collector,
    Engine,
    MemoryTransport,
    RealtimeEngine,
    Recorder,
    Request,
    Response,
    VirtualClock,
    load_profile,
    parse_instant,
    read_replay,
    replay,
)
from playersim.mca.api import SESSIONS_PATH, events_path
from playersim.mca.wire import WireBody
from playersim.sim.viewings import Workload
from playersim.transports.base import Transport
from playersim.transports.clients import Client, async_http_transport, auto_client

START: Final = parse_instant("2026-01-01T20:00:00Z")
PROFILES: Final = ("live-news", "vod-episode", "ugc-clip", "podcast-audio")
SEED: Final = "1"
HEADERS: Final = {"Content-Type": "application/json"}


def workload(sessions: int) -> Workload:
    profiles = [load_profile(name) for name in PROFILES]
    # Ten minutes: every session is under way at once, as under a peak's load.
    return Workload(profiles, start=START, sessions=sessions, duration_ms=600_000)


class _Capture(Transport):
    """Keeps each session's bodies, in order, as an in-memory run sends them."""

    def __init__(self, inner: MemoryTransport) -> None:
        self.inner = inner
        self.sessions: dict[str, list[WireBody]] = {}
        # Requests of no session the baseline sends: a downloaded session's one batch (its
        # own path, no sid). `run --to` sends them too, so its count has them.
        self.others = 0

    def send(self, request: Request) -> Response:
        response = self.inner.send(request)
        if request.path == SESSIONS_PATH:
            if response.sid is not None:
                self.sessions[response.sid] = [request.body]
        elif (sid := request.sid) in self.sessions:
            self.sessions[sid].append(request.body)
        else:
            self.others += 1
        return response


def the_requests(sessions: int, record: Path) -> tuple[list[list[WireBody]], int]:
    """Each session's bodies, from an in-memory run of the workload, recorded to `record`,
    and how many requests that run sent in all."""
    clock = VirtualClock(start=START)
    capture = _Capture(MemoryTransport(Collector(clock, keep_events=False, conformance=False)))
    load = workload(sessions)
    with Recorder(record) as recorder:
        engine = Engine(clock, capture, follow_up=load.follow_up(SEED), recorder=recorder)
        engine.add_arrivals(load.players(SEED), until=load.end)
        engine.run()
    bodies = list(capture.sessions.values())
    return bodies, sum(map(len, bodies)) + capture.others


async def plain_aiohttp(url: str, sessions: list[list[WireBody]], in_flight: int) -> int:
    """The baseline: C workers, each sending whole sessions in order. Returns requests sent."""
    todo = iter(sessions)
    sent = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal sent
        for bodies in todo:
            data = json.dumps(bodies[0], ensure_ascii=False, separators=(",", ":")).encode()
            async with http.post(url + SESSIONS_PATH, data=data, headers=HEADERS) as answer:
                await answer.read()
                sid = answer.headers["Location"].rsplit("/", 1)[1]
            target = url + events_path(sid)
            for body in bodies[1:]:
                data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
                async with http.post(target, data=data, headers=HEADERS) as answer:
                    await answer.read()
            sent += len(bodies)

    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http) for _ in range(in_flight)))
    return sent


async def transport_loop(
    url: str, sessions: list[list[WireBody]], in_flight: int, client: Client
) -> int:
    """The baseline's loop, sending through playersim's transport instead of aiohttp directly:
    what playersim's HTTP layer (Request, Response, retries, errors) costs on its own."""
    todo = iter(sessions)
    transport = async_http_transport(url, client=client, connections=in_flight)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for bodies in todo:
            opened = await transport.send(Request(SESSIONS_PATH, bodies[0]))
            assert opened.sid is not None
            path = events_path(opened.sid)
            for body in bodies[1:]:
                await transport.send(Request(path, body))
            sent += len(bodies)

    try:
        await asyncio.gather(*(worker() for _ in range(in_flight)))
    finally:
        await transport.aclose()
    return sent


async def playersim_run(url: str, sessions: int, in_flight: int, client: Client) -> int:
    """What `playersim run --to URL --in-flight C` does, players included. Returns requests."""
    load = workload(sessions)
    transport = async_http_transport(url, client=client, connections=in_flight)
    engine = RealtimeEngine(
        VirtualClock(start=START),
        transport,
        speed=math.inf,
        in_flight=in_flight,
        follow_up=load.follow_up(SEED),
    )
    engine.add_arrivals(load.players(SEED), until=load.end)
    try:
        await engine.run_async()
    finally:
        await transport.aclose()
    assert engine.stats.failed == 0, "every request must be accepted"
    return engine.stats.accepted


async def playersim_replay(url: str, record: Path, in_flight: int, client: Client) -> int:
    """What `playersim replay FILE --to URL --fast --in-flight C` does. Returns requests."""
    transport = async_http_transport(url, client=client, connections=in_flight)
    try:
        stats, _ = await replay(read_replay(record), transport, speed=None, in_flight=in_flight)
    finally:
        await transport.aclose()
    assert stats.failed == 0, "every request must be accepted"
    return stats.accepted


async def playersim_cli(url: str, sessions: int, in_flight: int, processes: int) -> int:
    """`playersim run --to URL --processes P`, the command itself (its start included), on the
    default client. Returns the requests it says were accepted."""
    profiles = [flag for name in PROFILES for flag in ("--profile", name)]
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "playersim", "run", "--to", url, *profiles, "--sessions",
        str(sessions), "--duration", "10m", "--start", "2026-01-01T20:00:00Z", "--seed", SEED,
        "--in-flight", str(in_flight), "--processes", str(processes), "--json",
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await command.communicate()
    requests = json.loads(out)["requests"]
    assert command.returncode == 0, requests
    assert not requests["rejected"], requests
    assert not requests["unanswered"], requests
    return int(requests["accepted"])


def timed(run: Coroutine[Any, Any, int]) -> tuple[int, float]:
    began = time.perf_counter()
    requests = asyncio.run(run)
    return requests, time.perf_counter() - began


@contextmanager
def server(*command: str) -> Iterator[str]:
    """A server in a process of its own; yields its URL from the line it prints."""
    process = subprocess.Popen(
        [sys.executable, *command], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        yield "http://" + line.rsplit("http://", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def compare(
    url: str,
    sessions: int,
    in_flight: int,
    repeat: int,
    clients: tuple[Client, ...],
    *,
    replaying: bool,
    processes: int = 0,
) -> None:
    """Time the baseline and playersim over each of `clients`, alternating, `repeat` times
    each."""
    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "run.ndjson"
        requests, everything = the_requests(sessions, record)
        total = sum(len(bodies) for bodies in requests)
        best: dict[tuple[str, str], float] = {}

        def note(name: str, client: str, run: Coroutine[Any, Any, int]) -> None:
            sent, seconds = timed(run)
            # The baseline's loop sends each session's requests; a run and a replay also the
            # few of no session (downloaded sessions' batches).
            expected = total if name in ("baseline", "transport") else everything
            # (The command makes the same workload from its flags.)
            assert sent == expected, f"{name} sent {sent:,} requests, not {expected:,}"
            best[name, client] = max(best.get((name, client), 0.0), sent / seconds)

        for _ in range(repeat):
            note("baseline", "", plain_aiohttp(url, requests, in_flight))
            for client in clients:
                note("transport", client, transport_loop(url, requests, in_flight, client))
                note("run", client, playersim_run(url, sessions, in_flight, client))
                if replaying:
                    note("replay", client, playersim_replay(url, record, in_flight, client))
            if processes:
                for parts in (1, processes):
                    run = playersim_cli(url, sessions, in_flight, parts)
                    note(f"command {parts}", "", run)
    base = best["baseline", ""]
    print(f"  {total:,} requests in {len(requests):,} sessions, {in_flight} in flight")
    print(f"    {'plain aiohttp loop (baseline)':<42} {base:>9,.0f} req/s")
    for client in clients:
        default = " (default)" if client == auto_client(url) else ""
        rows = (
            ("transport", f"{client} transport, same loop"),
            ("run", f"run --to, over {client}{default}"),
            ("replay", f"replay --fast, over {client}"),
        )
        for name, label in rows:
            if (name, client) in best:
                rate = best[name, client]
                line = f"{'playersim ' + label:<42} {rate:>9,.0f} req/s"
                print(f"    {line}   ratio {rate / base:.2f}")
    for parts in (1, processes) if processes else ():
        rate = best[f"command {parts}", ""]
        label = f"playersim run --to, --processes {parts} (command)"
        print(f"    {label:<42} {rate:>9,.0f} req/s   ratio {rate / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=800)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--stub-only", action="store_true", help="leave out httpx and playersim serve"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        metavar="P",
        help="also time the command `playersim run --to` (its start included) in one process "
        "and in P",
    )
    args = parser.parse_args()
    here = Path(__file__).parent
    print("Against bench/mca_stub.py (answers, checks nothing: the client is measured)")
    with server(str(here / "mca_stub.py"), "0") as url:
        fast: tuple[Client, ...] = ("direct", "aiohttp")
        compare(
            url,
            args.sessions,
            args.in_flight,
            args.repeat,
            fast,
            replaying=True,
            processes=args.processes,
        )
        if not args.stub_only:
            # httpx is several times slower: an eighth of the sessions tells the same story.
            slow: tuple[Client, ...] = ("httpx",)
            compare(url, args.sessions // 8, args.in_flight, args.repeat, slow, replaying=False)
    if args.stub_only:
        return
    print("Against playersim serve (validates and checks every request: the server is measured)")
    serve = ("-m", "playersim", "serve", "--port", "0", "--seed", SEED)
    with server(*serve) as url:
        compare(url, args.sessions // 4, args.in_flight, args.repeat, fast, replaying=True)


if __name__ == "__main__":
    main()
