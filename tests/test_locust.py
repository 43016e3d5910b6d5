"""playersim on Locust (`playersim.contrib.locust`), run as users run it: `locust` processes on
127.0.0.1 against a real `playersim serve`. Locust patches the standard library for gevent when
it is imported, so it only ever runs in processes of its own, never in the test process."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from playersim import EventType, Seats, load_profile
from tests.test_readme import locustfile as readme_locustfile
from tests.waiting import BOUND_S, interrupted_when, wait_until

# Every test here runs real Locust processes (a master, workers) against `playersim serve`.
pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).parent.parent / "examples" / "locustfile.py"
LOCUST = [sys.executable, "-m", "locust"]
EVENT_TYPES = {event.value for event in EventType}
# How long a master waits for its workers to connect: as long as a test waits for anything (a
# hang, not slowness: on a busy machine a worker may take a minute to start).
WORKERS_WAIT = str(int(BOUND_S))


@dataclass
class Serve:
    url: str
    record: Path

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/stats?format=json", timeout=BOUND_S) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def viewings(self) -> set[tuple[str, str]]:
        """(media.id, visitor id) of every sessionStart the collector accepted (a downloaded
        session's line holds the whole session, its sessionStart first)."""
        starts = [
            line["body"][0] if isinstance(line["body"], list) else line["body"]
            for line in self.lines()
            if line["status"] == 201
        ]
        return {
            (body["params"]["media.id"], body["params"]["analytics.visitorId"])
            for body in starts
            if body.get("eventType") == "sessionStart"
        }


def start_serve(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[str], Serve]:
    record = tmp_path / "collector.ndjson"
    process = subprocess.Popen(
        [sys.executable, "-m", "playersim", "serve", "--port", "0", "--record", str(record),
         *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    assert "listening on" in first, first + process.stderr.read()
    return process, Serve(first.split("listening on", 1)[1].strip(), record)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """A collector that takes 50 to 600 ms to answer: when Locust stops its users, some are
    waiting for an answer, and each must still end its session, in order, and be counted."""
    process, collector = start_serve(tmp_path, "--latency", "50ms:600ms")
    try:
        yield collector
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=BOUND_S)


def locust(*args: str, timeout: float = BOUND_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCUST, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def locust_until(
    serve: Serve, what: str, condition: Callable[[dict[str, Any]], bool], *args: str
) -> subprocess.CompletedProcess[str]:
    """A headless Locust run stopped as a user stops one (SIGTERM, as `-t` does on its own)
    once the collector's figures show `condition`: never after a time that a busy machine
    might not have been given to reach it."""
    command = [*LOCUST, *args]
    status, out, err = interrupted_when(
        command, lambda: condition(serve.stats()), what, signal.SIGTERM
    )
    return subprocess.CompletedProcess(command, status, out, err)


def opened(at_least: int) -> Callable[[dict[str, Any]], bool]:
    return lambda stats: stats["sessions"]["opened"] >= at_least


def start_worker(master_port: int, locustfile: Path = EXAMPLE) -> subprocess.Popen[str]:
    """A Locust worker, for a master on 127.0.0.1."""
    return subprocess.Popen(
        [*LOCUST, "-f", str(locustfile), "--worker", "--master-host", "127.0.0.1",
         "--master-port", str(master_port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def reap(process: subprocess.Popen[str]) -> None:
    """`process` ended, whatever happened to the test, and its pipes closed: no process outlives
    its test, and no pipe is left for a later test's garbage collection to warn about."""
    process.kill()  # (nothing, if it has ended)
    process.communicate(timeout=BOUND_S)


def first_viewings(
    profiles: list[str], *, seed: int | str, keys: list[str]
) -> set[tuple[str, str]]:
    """What each seat plays first, worked out here, with no Locust: (media.id, visitor id)."""
    names, weights = zip(*(p.split(":") for p in profiles), strict=True)
    seats = Seats([load_profile(n) for n in names], [float(w) for w in weights], seed=seed)
    expected = set()
    for key in keys:
        player = seats.seat(key).next_viewing(at=0)
        assert player.next_wakeup is not None
        params = player.due(player.next_wakeup)[0]["params"]
        expected.add((params["media.id"], params["analytics.visitorId"]))
    return expected


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def check_collector_saw_valid_sessions(serve: Serve, *, at_least: int) -> None:
    stats = serve.stats()
    assert stats["sessions"]["opened"] >= at_least
    # Every session ended: each user Locust stopped sent its viewing's sessionEnd.
    assert stats["sessions"]["open"] == 0
    assert stats["conformance_problems"] == {}
    assert set(stats["by_status"]) <= {"201", "204"}, stats["by_status"]


def test_a_headless_master_and_one_worker_send_valid_sessions_to_playersim_serve(
    tmp_path: Path, serve: Serve, port: int
) -> None:
    """The README's distributed run: the example locustfile, a master and a worker on
    loopback, eight viewers, stopped once they have all started. The collector sees valid
    sessions, each ended; Locust's CSV has a row per event type; the viewers are the ones the
    seed names."""
    worker = start_worker(port)
    try:
        master = locust_until(
            serve, "eight sessions opened", opened(8),
            "-f", str(EXAMPLE), "--master", "--master-bind-host", "127.0.0.1",
            "--master-bind-port", str(port), "--expect-workers", "1",
            "--expect-workers-max-wait", WORKERS_WAIT, "--host", serve.url, "--headless",
            "-u", "8", "-r", "8", "--csv", str(tmp_path / "run"),
        )  # fmt: skip
        _, worker_log = worker.communicate(timeout=BOUND_S)
    finally:
        reap(worker)
    assert master.returncode == 0, master.stderr
    assert "Traceback" not in master.stderr + worker_log
    assert "playersim: " in worker_log  # the worker's tally of its viewings
    assert " viewings (" in worker_log
    assert "ms after their time" in worker_log  # how late its requests went out
    check_collector_saw_valid_sessions(serve, at_least=8)

    rows = [row for row in read_csv(tmp_path / "run_stats.csv") if row["Name"] != "Aggregated"]
    names = {row["Name"] for row in rows}
    assert {"sessionStart", "sessionEnd"} <= names <= EVENT_TYPES
    assert {row["Type"] for row in rows} == {"POST"}
    assert all(row["Failure Count"] == "0" for row in rows)
    requests = sum(int(row["Request Count"]) for row in rows)
    assert requests == serve.stats()["requests"]  # what Locust counted is what arrived

    # Worker 0's eight seats, from the example's profiles and seed.
    expected = first_viewings(
        ["vod-episode:4", "vod-movie:2", "live-news:1", "live-sports:1"],
        seed=2026,
        keys=[f"EveningViewers:0.{n}" for n in range(8)],
    )
    assert expected <= serve.viewings()


def test_each_worker_plays_seats_of_its_own_and_a_stop_mid_ramp_starts_no_more(
    tmp_path: Path, serve: Serve, port: int
) -> None:
    """The README's locustfile on two workers: each names its seats by its index, so no two
    play the same viewers, and a rerun with the same seed and workers plays the same ones.
    The run stops while users are still arriving (20 at 2 a second, stopped once 4 have
    started): no session starts after the stop, and the master's CSV counts exactly what the
    collector got."""
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(readme_locustfile())
    workers = [start_worker(port, locustfile) for _ in range(2)]
    try:
        master = locust_until(
            serve, "four sessions opened", opened(4),
            "-f", str(locustfile), "--master", "--master-bind-host", "127.0.0.1",
            "--master-bind-port", str(port), "--expect-workers", "2",
            "--expect-workers-max-wait", WORKERS_WAIT, "--host", serve.url, "--headless",
            "-u", "20", "-r", "2", "--playersim-seed", "11", "--csv", str(tmp_path / "run"),
        )  # fmt: skip
        for worker in workers:
            worker.communicate(timeout=BOUND_S)
    finally:
        for worker in workers:
            reap(worker)
    assert master.returncode == 0, master.stderr
    check_collector_saw_valid_sessions(serve, at_least=4)
    rows = {row["Name"]: row for row in read_csv(tmp_path / "run_stats.csv")}
    stats = serve.stats()
    assert int(rows["Aggregated"]["Request Count"]) == stats["requests"]
    # A session watched offline opens as it goes, whole, in one `downloaded` request.
    downloaded = int(rows["downloaded"]["Request Count"]) if "downloaded" in rows else 0
    started = int(rows["sessionStart"]["Request Count"]) + downloaded
    assert started == stats["sessions"]["opened"] < 20
    expected = first_viewings(
        ["vod-episode:3", "live-news:1"],
        seed=11,
        keys=[f"Viewers:{w}.{n}" for w in (0, 1) for n in range(2)],
    )
    assert len(expected) == 4
    assert expected <= serve.viewings()


LOCUSTFILE = """
from playersim import Retries
from playersim.contrib.locust import {base}



class Viewers({base}):
    profiles = ["vod-episode:3", "live-news:1"]
    retries = Retries(attempts=8, base_s=0.05)
"""


@pytest.mark.parametrize("base", ["PlayerUser", "FastPlayerUser"])
def test_a_headless_run_through_faults_keeps_every_session_in_order(
    tmp_path: Path, base: str
) -> None:
    """One process, no workers, against a slow collector answering 500 to a fifth of
    requests: Locust lists the failures by event type with the status, the retries get every
    event through, each session still arrives in order and ends, and what Locust counts as
    accepted is what the collector took. The seats are those of worker 0."""
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(textwrap.dedent(LOCUSTFILE.format(base=base)))
    process, collector = start_serve(
        tmp_path, "--fail-rate", "0.2", "--latency", "20ms:300ms", "--seed", "3"
    )
    try:
        run = locust_until(
            collector, "six sessions opened and a fault injected",
            lambda stats: opened(6)(stats) and bool(stats["injected_faults"]),
            "-f", str(locustfile), "--host", collector.url, "--headless", "-u", "6",
            "-r", "6", "--csv", str(tmp_path / "run"), "--playersim-seed", "5",
        )  # fmt: skip
        stats = collector.stats()
        viewings = collector.viewings()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=BOUND_S)
    assert run.returncode == 1, run.stderr  # Locust's exit code when any request failed
    assert "Traceback" not in run.stderr
    assert stats["injected_faults"]
    assert stats["conformance_problems"] == {}
    assert stats["sessions"]["opened"] >= 6
    assert stats["sessions"]["open"] == 0

    total = next(row for row in read_csv(tmp_path / "run_stats.csv") if row["Name"] == "Aggregated")
    accepted = int(total["Request Count"]) - int(total["Failure Count"])
    assert accepted == stats["requests"]
    failures = read_csv(tmp_path / "run_failures.csv")
    assert failures
    for row in failures:
        assert row["Method"] == "POST"
        assert row["Name"] in EVENT_TYPES
        assert "500 Internal Server Error: an injected fault" in row["Error"], row["Error"]
    expected = first_viewings(
        ["vod-episode:3", "live-news:1"], seed=5, keys=[f"Viewers:0.{n}" for n in range(6)]
    )
    assert expected <= viewings


@pytest.mark.parametrize(
    ("args", "locustfile", "message"),
    [
        (["--playersim-profiles", "nosuch"], "", "--playersim-profiles: nosuch: no bundled"),
        (["--playersim-profiles", "live-news:lots"], "", "the weight 'lots' is not a number"),
        ([], "profiles = {'live-news': 0}", "Viewers.profiles: every weight is 0"),
        ([], "profiles = 'live-news'", "Viewers.profiles must be a list or a mapping"),
        ([], "between_viewings = (10, 1)", "Viewers.between_viewings: two numbers"),
        ([], "retries = 3", "Viewers.retries: a playersim.Retries"),
        ([], "timeout = 0", "Viewers.timeout: a number of seconds above 0, got 0"),
        (["--host", "127.0.0.1:9"], "", "--host: '127.0.0.1:9' is not an http:// or https://"),
    ],
)
def test_bad_settings_stop_locust_with_a_message_naming_them(
    tmp_path: Path, args: list[str], locustfile: str, message: str
) -> None:
    path = tmp_path / "locustfile.py"
    path.write_text(
        "from playersim.contrib.locust import PlayerUser\n\n\n"
        f"class Viewers(PlayerUser):\n    {locustfile or 'pass'}\n"
    )
    host = [] if "--host" in args else ["--host", "http://127.0.0.1:9"]
    run = locust(
        "-f", str(path), *host, "--headless", "-u", "1", "-t", "2s", *args, timeout=BOUND_S,
    )  # fmt: skip
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_a_worker_that_cannot_play_stops_the_run_with_exit_status_2(
    tmp_path: Path, port: int
) -> None:
    """A profile file the master has and a worker lacks (another machine): the worker says
    which file, the master names the worker, stops the run and exits 2; nothing is sent."""
    master_dir, worker_dir = tmp_path / "master", tmp_path / "worker"
    master_dir.mkdir()
    worker_dir.mkdir()
    profile = master_dir / "mine.toml"
    profile.write_text(
        (Path(__file__).parent.parent / "profiles" / "live-news.toml")
        .read_text()
        .replace('name = "live-news"', 'name = "mine"')
    )
    worker = subprocess.Popen(
        [*LOCUST, "-f", str(EXAMPLE), "--worker", "--master-host", "127.0.0.1",
         "--master-port", str(port)],
        cwd=worker_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        master = subprocess.run(
            [*LOCUST, "-f", str(EXAMPLE), "--master", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", str(port), "--expect-workers", "1",
             "--expect-workers-max-wait", WORKERS_WAIT, "--host", "http://127.0.0.1:9",
             "--headless", "-u", "2", "-r", "2", "-t", "10m", "--playersim-profiles",
             "./mine.toml"],
            cwd=master_dir, capture_output=True, text=True, timeout=BOUND_S, check=False,
        )  # fmt: skip
        _, worker_log = worker.communicate(timeout=BOUND_S)
    finally:
        reap(worker)
    assert master.returncode == 2
    assert "playersim: worker 0: --playersim-profiles: mine.toml: cannot read" in master.stderr
    assert "--run-time limit reached" not in master.stderr  # the worker stopped it, not -t
    assert "Traceback" not in master.stderr + worker_log


def test_the_web_ui_offers_the_options_and_refuses_a_bad_form_with_a_message(
    tmp_path: Path, serve: Serve, port: int
) -> None:
    """Locust's web UI: the playersim options are fields of its start form. A start with a
    profile that does not exist is refused (logged, the test stopped, nothing sent, no
    traceback); a start with good values then plays, and Locust exits 0."""
    ui = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*LOCUST, "-f", str(EXAMPLE), "--host", serve.url, "--web-host", "127.0.0.1",
         "--web-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def get(path: str) -> str:
        with urllib.request.urlopen(ui + path, timeout=BOUND_S) as answer:
            return str(answer.read().decode())

    def start(profiles: str) -> None:
        form = {"user_count": "3", "spawn_rate": "3", "host": serve.url,
                "playersim_profiles": profiles, "playersim_seed": "4"}  # fmt: skip
        data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        with urllib.request.urlopen(ui + "/swarm", data=data, timeout=BOUND_S) as answer:
            assert json.load(answer)["success"]

    def state() -> tuple[str, int]:
        stats = json.loads(get("/stats/requests"))
        return stats["state"], stats["user_count"]

    def page() -> str:
        try:
            return get("/")
        except OSError:
            return ""  # not listening yet

    try:
        wait_until(lambda: bool(page()), "Locust's web UI listening")
        assert "playersim_profiles" in page()
        assert "playersim_seed" in page()
        start("nosuch")
        wait_until(lambda: state()[0] == "stopped", "the refused test stopped")
        assert serve.stats()["requests"] == 0
        start("live-news")
        wait_until(lambda: state() == ("running", 3), "three users running")
        wait_until(lambda: serve.stats()["sessions"]["opened"] >= 3, "their sessions opened")
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=BOUND_S)
    assert process.returncode == 0, log
    assert "playersim: --playersim-profiles: nosuch: no bundled profile" in log
    assert "Traceback" not in log
    check_collector_saw_valid_sessions(serve, at_least=3)


STOPPED_MID_REQUEST = """
import json

import gevent
from gevent.event import Event
from locust.env import Environment  # Locust's own import: it patches the standard library

import playersim.contrib.locust as locust_module
from playersim import Request
from playersim.contrib.locust import LocustTransport
from playersim.mca.wire import make_body

out = Event()  # the request has gone out


class Answer:
    status_code, headers, text, error = 204, {}, "", None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def success(self):
        pass


class Client:
    finished = []
    closed = 0

    def __init__(self):
        self.client = self  # FastHttpSession's user agent, which closes its connections

    def close(self):
        Client.closed += 1

    def post(self, path, **options):
        out.set()
        gevent.sleep(0.2)  # a slow answer
        Client.finished.append(options["name"])
        return Answer()


transport = LocustTransport(Client())
results = []


def user(event_type):
    request = Request("/api/v1/sessions", make_body(event_type, 0, 1))
    try:
        results.append(transport.send(request).status)
    except BaseException as exc:
        results.append(type(exc).__name__)


viewer = gevent.spawn(user, "sessionStart")
out.wait()
viewer.kill()  # what Locust does to a user it finds waiting, landing just after it woke
stopping = transport.stopping
# Idle longer than a connection is kept (0 s here): the next request closes the pool first.
locust_module.IDLE_CONNECTION_S = 0.0
out.clear()
gevent.spawn(user, "ping").join()
print(json.dumps({"results": results, "finished": Client.finished, "stopping": stopping,
                  "closed": Client.closed}))
"""


def test_a_user_stopped_mid_request_finishes_it_and_retires_idle_connections(
    tmp_path: Path,
) -> None:
    """Locust kills a user it finds waiting; the kill can land just after the user woke and
    sent its next request (a sessionEnd, once, in a distributed test). That request is
    finished, its answer known (so the session's sessionEnd comes after it), and the user
    marked as stopping. And a connection idle too long is closed before the next request, not
    raced against a server closing it (the other way a sessionEnd was lost)."""
    script = tmp_path / "stopped.py"
    script.write_text(STOPPED_MID_REQUEST)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=BOUND_S, check=False
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report == {
        "results": [204, 204],
        "finished": ["sessionStart", "ping"],
        "stopping": True,
        "closed": 1,
    }


def test_a_distributed_test_ends_every_session_against_a_collector_that_closes_idle_connections(
    tmp_path: Path, port: int
) -> None:
    """The README's distributed run, stopped once every viewer has played a while, against a
    collector that closes idle connections after 5 s (a common server default) and answers
    slowly: every user ends its session (none left open, none killed mid-request), nothing is
    lost to a connection closed under it, and no real-time lateness is judged a gap."""
    process, collector = start_serve(tmp_path, "--keep-alive", "5", "--latency", "50ms:600ms")
    workers = [start_worker(port), start_worker(port)]
    try:
        # Stopped once every viewer has pinged at least once on average: each ping follows
        # ten seconds of an idle connection, past the collector's five.
        run = locust_until(
            collector, "120 sessions opened, and 120 pings",
            lambda stats: opened(120)(stats) and stats["by_event_type"].get("ping", 0) >= 120,
            "-f", str(EXAMPLE), "--master", "--master-bind-port", str(port), "--expect-workers",
            "2", "--host", collector.url, "--headless", "-u", "120", "-r", "40",
            "--csv", str(tmp_path / "run"),
        )  # fmt: skip
        for worker in workers:
            worker.communicate(timeout=BOUND_S)
        check_collector_saw_valid_sessions(collector, at_least=120)
        assert collector.stats()["sessions"]["complete"] == 0
    finally:
        for worker in workers:
            reap(worker)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=BOUND_S)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert read_csv(tmp_path / "run_failures.csv") == []
