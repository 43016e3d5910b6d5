"""Downloaded (offline) sessions: watched without a network, sent whole once the device is back
online, in one request, on both of Adobe's APIs; and what the collector and `serve` make of
such requests."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from playersim import Collector, Engine, MemoryTransport, SystemClock, VirtualClock
from playersim.audience.profiles import load_profile
from playersim.edge.dialect import EdgeDialect
from playersim.edge.front import speak_edge
from playersim.mca.dialect import MCA
from playersim.server import create_app
from playersim.sim.script import load_script, script_from_dict
from playersim.sim.viewings import Workload
from playersim.transports.recording import Recorder, read_recording
from tests.test_edge import DATASTREAM, adobe_accepts
from tests.test_server import running

EDGE = EdgeDialect(DATASTREAM)
START = "2026-11-27T18:00:00Z"
SCRIPT = Path(__file__).parent.parent / "examples" / "scripts" / "timeline-1-view-to-end.toml"
HOUR_MS = 3_600_000


def offline_script(after_s: float | None) -> Any:
    data = load_script(str(SCRIPT)).model_dump(by_alias=True, exclude_none=True)
    data["session"]["downloaded_after"] = after_s
    if after_s is None:
        del data["session"]["downloaded_after"]
    return script_from_dict(data, source="offline.toml")


def play(dialect: Any, players: list[Any]) -> tuple[Collector, Engine, list[dict[str, Any]]]:
    clock = VirtualClock(start=START)
    collector = speak_edge(Collector(clock, seed="1"))
    recording = io.StringIO()
    engine = Engine(
        clock, MemoryTransport(collector), dialect=dialect, recorder=Recorder(recording)
    )
    for player in players:
        engine.add(player)
    engine.run()
    lines = [json.loads(line) for line in recording.getvalue().splitlines()]
    return collector, engine, lines


@pytest.mark.parametrize("dialect", [MCA, EDGE], ids=["mca", "edge"])
def test_a_downloaded_viewing_goes_whole_in_one_request_when_the_device_is_back_online(
    dialect: Any,
) -> None:
    online, _, _ = play(dialect, [offline_script(None).player(seed=1, start_at=START)])
    offline, engine, lines = play(dialect, [offline_script(3600).player(seed=1, start_at=START)])
    # One request, to the API's downloaded endpoint, answered with the session it made.
    assert len(lines) == 1
    [line] = lines
    assert line["path"].split("?")[0] in ("/api/v1/downloaded", "/ee/va/v1/downloaded")
    assert line["status"] in (200, 201)
    assert line["session"] == offline.sessions[0].sid
    if dialect is EDGE:
        from playersim.mca.api import Request

        adobe_accepts(Request(line["path"], line["body"], "downloaded"))
    # ... an hour after the viewing's last event, by the collector's clock.
    [session] = offline.sessions
    [played] = online.sessions
    assert session.downloaded
    assert session.opened_at == played.events[-1].ts + HOUR_MS
    # The same viewing, event for event; its sessionStart says it was downloaded.
    assert [(e.event_type, e.ts) for e in session.events] == [
        (e.event_type, e.ts) for e in played.events
    ]
    assert session.events[0].params["media.downloaded"] is True
    assert offline.counts().problems == {}
    # Counted as one request carrying the session's events: the figures still add up.
    counts = engine.stats.accounting()
    assert counts["generated"] == counts["accepted"] + counts["batched"]


def test_offline_viewers_of_a_profile_download_on_their_phones_only() -> None:
    profile = load_profile("vod-episode")
    profile = profile.model_copy(
        update={"offline": profile.offline.model_copy(update={"share": 1.0})}
    )
    workload = Workload([profile], start=VirtualClock(START).now(), sessions=30)
    players = list(workload.players("5"))
    families = {p.visitor.device.family for p in players if p.offline_delay_ms is not None}
    assert families
    assert families <= {"ios", "android"}
    assert any(p.offline_delay_ms is None for p in players)  # the TVs and browsers stream
    collector, _engine, lines = play(EDGE, players)
    downloaded = [line for line in lines if "/downloaded" in line["path"]]
    assert len(downloaded) >= sum(p.offline_delay_ms is not None for p in players)
    for line in downloaded:
        from playersim.mca.api import Request

        adobe_accepts(Request(line["path"], line["body"], "downloaded"))
    assert collector.downloaded == len(downloaded)
    assert collector.counts().problems == {}


def test_a_stop_sends_what_offline_viewers_recorded() -> None:
    clock = VirtualClock(start=START)
    collector = Collector(clock, seed="1")
    engine = Engine(clock, MemoryTransport(collector))
    engine.add(offline_script(3600).player(seed=1, start_at=START))
    engine.advance(30)  # mid-viewing, offline: nothing sent yet
    assert collector.opened == 0
    engine.stop()
    [session] = collector.sessions
    assert session.downloaded
    assert session.event_types[-1] == "sessionEnd"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"playerTime": {"playhead": 0, "ts": 1}, "eventType": "sessionStart"}, "JSON array"),
        ([], "JSON array"),
        (
            [{"playerTime": {"playhead": 0, "ts": 1}, "eventType": "play", "params": {"x": 1}}],
            "[0]: play: params.x: unknown key",
        ),
        ([{"playerTime": {"playhead": 0, "ts": 1}, "eventType": "ping"}], "sessionStart first"),
    ],
)
def test_the_collector_refuses_a_downloaded_batch_that_is_not_one_session(
    body: Any, fragment: str
) -> None:
    collector = Collector(VirtualClock(start=START))
    answer = collector.handle("POST", "/api/v1/downloaded", json.dumps(body).encode())
    assert answer.status == 400
    assert fragment in (answer.message or "")
    assert collector.opened == 0


def mca_session() -> list[dict[str, Any]]:
    _, _, lines = play(MCA, [offline_script(60).player(seed=1, start_at=START)])
    body: list[dict[str, Any]] = lines[0]["body"]
    return body


def test_the_collector_refuses_a_second_session_or_events_after_the_end() -> None:
    session = mca_session()
    collector = Collector(VirtualClock(start=START))
    twice = collector.handle("POST", "/api/v1/downloaded", [*session, session[0]])
    assert twice.status == 400
    assert "only there" in (twice.message or "")
    ended = [*session, {**session[-1], "eventType": "sessionEnd"}, session[-1]]
    after = collector.handle("POST", "/api/v1/downloaded", ended)
    assert after.status == 400


def edge_downloaded() -> dict[str, Any]:
    _, _, lines = play(EDGE, [offline_script(60).player(seed=1, start_at=START)])
    body: dict[str, Any] = lines[0]["body"]
    return body


def test_edge_adds_the_sessioncomplete_a_downloaded_session_lacks() -> None:
    body = edge_downloaded()
    events = body["events"][0]["xdm"]["mediaDownloadedEvents"]
    assert events[-1]["mediaEventType"] == "media.sessionComplete"
    del events[-1]
    collector = speak_edge(Collector(VirtualClock(start=START)))
    answer = collector.handle("POST", f"/ee/va/v1/downloaded?configId={DATASTREAM}", body)
    assert answer.status == 200
    [session] = collector.sessions
    assert session.event_types[-1] == "sessionComplete"
    assert session.events[-1].ts == session.events[-2].ts
    assert not session.completed  # added by the back end: Adobe reports it not completed


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "served.ndjson"
    with Recorder(path, flush_each=True) as recorder:
        for url in running(create_app(Collector(SystemClock(), seed="1"), recorder=recorder)):
            yield url, path


def test_serve_takes_downloaded_sessions_in_both_dialects_and_records_them(
    served: tuple[str, Path],
) -> None:
    url, recording = served
    headers = {"Content-Type": "application/json"}
    mca = httpx.post(f"{url}/api/v1/downloaded", content=json.dumps(mca_session()), headers=headers)
    assert mca.status_code == 201
    assert mca.headers["location"].startswith("/api/v1/sessions/")
    edge = httpx.post(
        f"{url}/ee/va/v1/downloaded?configId={DATASTREAM}",
        content=json.dumps(edge_downloaded()),
        headers=headers,
    )
    assert edge.status_code == 200
    assert edge.json()["handle"][0]["type"] == "media-analytics:new-session"
    with_id = edge_downloaded()
    with_id["events"][0]["xdm"]["mediaDownloadedEvents"][1]["mediaCollection"]["sessionID"] = "x"
    refused = httpx.post(
        f"{url}/ee/va/v1/downloaded?configId={DATASTREAM}",
        content=json.dumps(with_id),
        headers=headers,
    )
    assert refused.status_code == 207
    assert "sessionID" in refused.text
    lines = list(read_recording(recording))
    assert [line["status"] for line in lines] == [201, 200, 207]
    assert isinstance(lines[0]["body"], list)
    assert lines[0]["session"] is not None


@pytest.mark.parametrize("dialect", [MCA, EDGE], ids=["mca", "edge"])
def test_a_recording_with_downloaded_sessions_replays_as_it_was_sent(
    dialect: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playersim.cli.app import main

    profile = load_profile("vod-movie")
    profile = profile.model_copy(
        update={"offline": profile.offline.model_copy(update={"share": 1.0})}
    )
    workload = Workload([profile], start=VirtualClock(START).now(), sessions=8)
    _, _, lines = play(dialect, list(workload.players("3")))
    assert any("downloaded" in line["path"] for line in lines)
    recording = tmp_path / "recorded.ndjson"
    recording.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["replay", str(recording)]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"requests accepted +{len(lines):,}\n", out), out
    assert "conformance: no problems" in out


def test_a_run_over_http_records_as_it_goes_while_offline_viewers_wait() -> None:
    """An offline viewer's session waits for its device, not the recording of everyone else:
    the lines of the others are written as they are answered, the downloaded one when it goes."""
    import asyncio
    import math

    from playersim import AsyncMemoryTransport
    from playersim.engines.realtime import RealtimeEngine

    clock = VirtualClock(start=START)
    recording = io.StringIO()
    engine = RealtimeEngine(
        clock,
        AsyncMemoryTransport(Collector(VirtualClock(start=START), seed="1")),
        speed=math.inf,
        in_flight=10,
        recorder=Recorder(recording),
    )
    engine.add(offline_script(86_400).player(seed=1, start_at=START))
    workload = Workload([load_profile("ugc-clip")], start=clock.now(), sessions=5)
    engine.add_arrivals(workload.players("2"), until=workload.end)
    asyncio.run(engine.run_async(until=clock.now() + 6 * HOUR_MS))
    engine._pacing.flush()
    written = [json.loads(line) for line in recording.getvalue().splitlines()]
    assert len(written) > 20
    assert not any("downloaded" in line["path"] for line in written)
    asyncio.run(engine.run_async())
    engine._pacing.flush()
    lines = [json.loads(line) for line in recording.getvalue().splitlines()]
    assert lines[: len(written)] == written
    assert lines[-1]["path"] == "/api/v1/downloaded"
    assert len(lines) == engine.stats.requests


def test_a_paced_run_does_not_wait_hours_for_offline_devices() -> None:
    """On the wall clock, once nothing else is left, the offline viewers' devices come back
    online at once (in virtual time they come back when their delay says)."""
    for hurry in (False, True):
        clock = VirtualClock(start=START)
        collector = Collector(clock)
        engine = Engine(clock, MemoryTransport(collector))
        engine.hurry_uploads = hurry
        engine.add(offline_script(86_400).player(seed=1, start_at=START))
        engine.run()
        [session] = collector.sessions
        ended = session.events[-1].ts
        assert session.opened_at == (ended if hurry else ended + 24 * HOUR_MS)


def test_giving_up_on_the_endpoint_accounts_for_offline_viewers_waiting() -> None:
    from playersim.engines.delivery import GiveUp
    from playersim.errors import EndpointUnreachableError, TransportError
    from playersim.transports.base import Transport

    class Dying(Transport):
        """Answers as the collector does, then never again."""

        def __init__(self, collector: Collector, answers: int) -> None:
            self.inner, self.answers = MemoryTransport(collector), answers

        def send(self, request: Any) -> Any:
            self.answers -= 1
            if self.answers < 0:
                raise TransportError("POST", "http://x", "refused", maybe_delivered=False)
            return self.inner.send(request)

    ticks = iter(range(10**6))
    clock = VirtualClock(start=START)
    engine = Engine(
        clock,
        Dying(Collector(VirtualClock(start=START)), 300),
        give_up=GiveUp(5, now=lambda: float(next(ticks))),
    )
    engine.add(offline_script(3600).player(seed=1, start_at=START))
    workload = Workload([load_profile("vod-episode")], start=clock.now(), sessions=5)
    engine.add_arrivals(workload.players("1"), until=workload.end)
    with pytest.raises(EndpointUnreachableError):
        engine.run()
    engine.stop()
    counts = engine.stats.accounting()
    answered = counts["accepted"] + sum(counts["rejected"].values()) + counts["unanswered"]
    assert counts["generated"] == answered + counts["dropped"] + counts.get("batched", 0)
    assert sum(engine.stats.outcomes.values()) == engine.stats.viewings


def test_a_refused_downloaded_session_is_a_lost_viewing() -> None:
    from playersim.mca.api import Response
    from playersim.transports.base import Transport

    class Refusing(Transport):
        def send(self, request: Any) -> Response:
            return Response(400, message="no")

    clock = VirtualClock(start=START)
    engine = Engine(clock, Refusing())
    engine.add(offline_script(60).player(seed=1, start_at=START))
    engine.run()
    assert engine.stats.outcomes == {"rejected": 1}


def test_the_collector_counts_a_downloaded_request_once_and_keeps_nothing_of_a_bad_one() -> None:
    session = mca_session()
    collector = Collector(VirtualClock(start=START))
    ended = [*session[:3], {**session[2], "eventType": "sessionEnd"}, session[3]]
    assert collector.handle("POST", "/api/v1/downloaded", ended).status == 400
    assert collector.opened == 0
    assert collector.requests_by_event == {}
    assert collector.handle("POST", "/api/v1/downloaded", session).status == 201
    assert collector.requests_by_event == {"downloaded": 1}


def test_every_downloaded_session_fits_in_one_edge_request() -> None:
    """Adobe's Edge Network takes at most 64 KB a request: a viewing watched offline is
    recorded as sessions of at most half an hour, so each goes whole, however long the
    viewing; and a viewer who leaves long after their last event (a pause that closed the
    session) still sends it, later."""
    from playersim import AdobeSettings, run

    recording = io.StringIO()
    stats = run(
        profiles=["podcast-audio", "vod-movie", "vod-episode"],
        sessions=400,
        seed=7,
        record=recording,
        adobe=AdobeSettings(api="edge", datastream=DATASTREAM),
    )
    assert stats.failed == 0
    assert stats.conformance == {}
    sizes = [
        len(json.dumps(line["body"], separators=(",", ":")).encode())
        for line in map(json.loads, recording.getvalue().splitlines())
        if "/downloaded" in line["path"]
    ]
    assert len(sizes) > 20
    assert max(sizes) < 64 * 1024


def test_a_downloaded_session_with_ads_pinged_every_second_still_fits() -> None:
    """Ads pinged every second fill a session fast: a viewing watched offline also starts a
    new session after a few hundred events, so each still goes in one Edge request; and the
    collector refuses, with a 413, a downloaded body over the Edge Network's 64 KB."""
    from playersim import AdobeSettings, run
    from playersim.audience.distributions import Fixed
    from playersim.sim.player import OFFLINE_SESSION_EVENTS

    profile = load_profile("vod-movie")
    profile = profile.model_copy(
        update={
            "offline": profile.offline.model_copy(update={"share": 1.0}),
            "ads": profile.ads.model_copy(
                update={
                    "granular_tracking": True,
                    "midroll_interval_seconds": 150,
                    "ads_per_pod": Fixed(distribution="fixed", value=4),
                }
            ),
        }
    )
    recording = io.StringIO()
    stats = run(
        profiles=[profile],
        sessions=60,
        seed=3,
        record=recording,
        adobe=AdobeSettings(api="edge", datastream=DATASTREAM),
    )
    assert stats.failed == 0
    bodies = [
        line["body"]
        for line in map(json.loads, recording.getvalue().splitlines())
        if "/downloaded" in line["path"]
    ]
    assert len(bodies) > 10
    assert max(len(json.dumps(b, separators=(",", ":")).encode()) for b in bodies) < 64 * 1024
    # Half an hour of ads pinged every second is more events than that: sessions end sooner.
    counts = [len(b["events"][0]["xdm"]["mediaDownloadedEvents"]) for b in bodies]
    assert max(counts) <= OFFLINE_SESSION_EVENTS + 10  # (a few more at one instant)
    big = edge_downloaded()
    events = big["events"][0]["xdm"]["mediaDownloadedEvents"]
    events[1:-1] = events[1:-1] * 300
    collector = speak_edge(Collector(VirtualClock(start=START)))
    answer = collector.handle("POST", f"/ee/va/v1/downloaded?configId={DATASTREAM}", big)
    assert answer.status == 413
    assert "at most 65,536" in (answer.message or "")
