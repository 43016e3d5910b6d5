"""In-memory throughput: players, wire model and collector validation, against a plain baseline.

Run: `python bench/throughput.py [--sessions N] [--repeat R]`

These machines are noisy, so the figure that matters is a ratio against a baseline measured in
the same run: building the same request bodies as plain dicts and `json.dumps`-ing them in a
loop (issue 17's yardstick). Absolute requests per second are printed too, for the README. Each
side is timed `--repeat` times and the best run kept.

Three collectors are timed: the one `playersim run` uses (every body validated against the wire
model, plus the session-level conformance report, counters kept rather than bodies); the same
with `conformance=False` (`playersim run --no-conformance`: validation only, as the API itself
checks); and one that keeps every validated event, as a test does. A fourth run is the first
with every request also written to a recording file, as `playersim run --record FILE` does: the
issue's target reads against it ("in-memory run --record per core at least 0.5x the plain
dict+json loop").

A last loop, the ping floor, does per request the least a generator of pings does with no
layers at all (a heap, a draw, the body, its bytes, a recording line): it runs faster than the
baseline (`json.dumps` is the dearer part of that), so what separates playersim from both is
its own path (the player's state machine, the engine, the collector's checks, the recorder),
paid per request.
"""

from __future__ import annotations

import argparse
import heapq
import io
import itertools
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playersim import Collector, Engine, MemoryTransport, Player, VirtualClock, load_profile
from playersim.audience.metadata import MetadataPool
from playersim.mca.wire import WireBody
from playersim.transports.recording import Recorder

START = "2026-01-01T12:00:00Z"
PROFILES = ("vod-movie", "vod-episode", "live-news")


def simulate(
    sessions: int,
    *,
    keep: list[WireBody] | None = None,
    keep_events: bool = False,
    conformance: bool = True,
    record: Path | None = None,
) -> int:
    """One full run; returns the number of requests the collector accepted.

    The collector validates every body against the wire model and runs the conformance checks
    either way; `keep_events` also keeps every validated event (what a test inspects), while a
    run (`playersim run`) keeps counters only. With `keep`, the accepted bodies are appended to
    it (outside the timed runs). With `record`, every request is written to that file as
    `playersim run --record FILE` writes it.
    """
    clock = VirtualClock(start=START)
    collector = Collector(
        clock=clock, keep_events=keep_events or keep is not None, conformance=conformance
    )
    recorder = Recorder(record) if record is not None else None
    engine = Engine(clock, MemoryTransport(collector), recorder=recorder)
    profiles = [load_profile(name) for name in PROFILES]
    pools = [MetadataPool.build(profile, 1) for profile in profiles]
    for index in range(sessions):
        which = index % len(profiles)
        engine.add(
            Player(
                profiles[which],
                seed=1,
                index=index,
                metadata=pools[which],
                start_at=clock.now() + index * 5_000,
            )
        )
    engine.run()
    if recorder is not None:
        recorder.close()
    assert engine.stats.accepted == engine.stats.requests
    if keep is not None:
        keep.extend(
            event.body.model_dump(by_alias=True, exclude_none=True)
            for session in collector.sessions
            for event in session.events
        )
    return engine.stats.requests


def baseline(bodies: list[WireBody]) -> int:
    """Build each body as a fresh dict and serialise it: no model, no validation, no player."""
    dumps = json.dumps
    count = 0
    for body in bodies:
        built: WireBody = {
            "playerTime": {
                "playhead": body["playerTime"]["playhead"],
                "ts": body["playerTime"]["ts"],
            },
            "eventType": body["eventType"],
        }
        if "params" in body:
            built["params"] = dict(body["params"])
        if "qoeData" in body:
            built["qoeData"] = dict(body["qoeData"])
        dumps(built)
        count += 1
    return count


def ping_floor(requests: int, sessions: int) -> int:
    """The least a generator of pings does per request, in plain Python and nothing else: take
    the session due next from a heap, build its ping and the ping's bytes, write its recording
    line, draw its timer's lateness and schedule it again. No validation, no state machine, no
    collector: what one layer-free loop costs, to read the baseline against (pings are about
    85% of the traffic)."""
    rngs = [random.Random(f"floor:{index}") for index in range(sessions)]
    heads = [
        b'{"session":"%064x","path":"/api/v1/sessions/%064x/events","status":204,"body":'
        % (index, index)
        for index in range(sessions)
    ]
    playheads = [0] * sessions
    heap = [(index * 5_000, index, index) for index in range(sessions)]
    order = itertools.count(sessions)
    out = io.BytesIO()
    for _ in range(requests):
        at, _, session = heapq.heappop(heap)
        playheads[session] += 10_001
        body: WireBody = {
            "playerTime": {"playhead": playheads[session] / 1000, "ts": at},
            "eventType": "ping",
        }
        player_time = body["playerTime"]
        raw = b'{"playerTime":{"playhead":%r,"ts":%d},"eventType":"ping"}' % (
            player_time["playhead"],
            player_time["ts"],
        )
        out.write(heads[session] + raw + b"}\n")
        late = min(999, max(0, round(rngs[session].lognormvariate(5.0, 1.0))))
        heapq.heappush(heap, (at + 10_000 + late, next(order), session))
    return requests


def best_rate(work: Callable[[], int], repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        began = time.perf_counter()
        done = work()
        best = max(best, done / (time.perf_counter() - began))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bodies: list[WireBody] = []
    requests = simulate(args.sessions, keep=bodies)
    ours = best_rate(lambda: simulate(args.sessions), args.repeat)
    kept = best_rate(lambda: simulate(args.sessions, keep_events=True), args.repeat)
    validated = best_rate(lambda: simulate(args.sessions, conformance=False), args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "recording.ndjson"
        recorded = best_rate(lambda: simulate(args.sessions, record=target), args.repeat)
    plain = best_rate(lambda: baseline(bodies), args.repeat)
    floor = best_rate(lambda: ping_floor(requests, args.sessions), args.repeat)
    print(f"sessions              {args.sessions:,}")
    print(f"requests per run      {requests:,}")
    print(f"playersim in memory   {ours:,.0f} requests/s (player + wire model + collector)")
    print(f"  validation only     {validated:,.0f} requests/s (Collector(conformance=False))")
    print(f"  keeping every event {kept:,.0f} requests/s (Collector(keep_events=True), for tests)")
    print(f"  recording to a file {recorded:,.0f} requests/s (run --record FILE)")
    print(f"baseline              {plain:,.0f} requests/s (build dicts + json.dumps)")
    print(f"ping floor            {floor:,.0f} requests/s (heap + draw + ping + bytes + line)")
    print(f"ratio                 {ours / plain:.3f} of baseline")
    print(f"  validation only     {validated / plain:.3f} of baseline")
    print(f"  keeping every event {kept / plain:.3f} of baseline")
    print(f"  recording to a file {recorded / plain:.3f} of baseline (target: 0.5 or more)")
    print(f"  ping floor          {floor / plain:.3f} of baseline")


if __name__ == "__main__":
    main()
