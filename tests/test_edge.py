"""The Media Edge API: the same players over Adobe's other streaming media API, every request
valid against Adobe's published contract, and a collector (and `playersim serve`) answering as
Adobe's Edge Network does."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest

from playersim import Collector, Engine, MemoryTransport, SystemClock, VirtualClock
from playersim.audience.profiles import bundled_profiles, load_profile
from playersim.edge.dialect import EdgeDialect
from playersim.edge.front import speak_edge
from playersim.edge.mapping import NO_EDGE_FIELD, edge_path_event
from playersim.engines.delivery import Settled
from playersim.mca.api import Request, edge_event_of
from playersim.mca.dialect import MCA
from playersim.mca.wire import SESSION_START_KEYS
from playersim.server import create_app
from playersim.sim.script import load_script
from playersim.sim.viewings import Workload
from playersim.transports.http import HttpTransport, answer_of
from tests.test_server import running

CONTRACT = json.loads((Path(__file__).parent / "data" / "media-edge-requests.json").read_text())
DATASTREAM = "2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c"
EDGE = EdgeDialect(DATASTREAM)
START = "2026-11-27T18:00:00Z"
SCRIPTS = sorted((Path(__file__).parent.parent / "examples" / "scripts").glob("*.toml"))


@functools.cache
def _validator(endpoint: str) -> Any:
    # Checked once, compiled once: a run sends thousands of requests to each endpoint.
    schema = CONTRACT["paths"][endpoint]["schema"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def adobe_accepts(request: Request) -> None:
    """`request` is one Adobe's OpenAPI contract for the Media Edge API takes: a path it
    documents, its query parameters, a body valid against its request schema."""
    url = urlsplit(request.path)
    assert url.path.startswith("/ee/va/v1/")
    endpoint = url.path.removeprefix("/ee/va/v1")
    assert endpoint in CONTRACT["paths"], f"{endpoint} is not one of Adobe's endpoints"
    documented = CONTRACT["paths"][endpoint]
    query = parse_qs(url.query)
    for name in documented["query"]:
        assert query.get(name) == [DATASTREAM], f"{name} missing from {request.path}"
    _validator(endpoint).validate(request.body)
    # What the schema leaves open, the contract's pages say: the event type is the endpoint's.
    xdm = request.body["events"][0]["xdm"]
    assert xdm["eventType"] == "media." + endpoint.lstrip("/")


def edge_run(
    players: Iterator[Any] | list[Any], *, dialect: Any = EDGE, until: int | None = None
) -> tuple[Collector, list[Settled]]:
    clock = VirtualClock(start=START)
    collector = speak_edge(Collector(clock, seed="1"))
    engine = Engine(clock, MemoryTransport(collector), dialect=dialect)
    settled: list[Settled] = []
    engine.delivery.hooks.append(settled.append)
    if isinstance(players, list):
        for player in players:
            engine.add(player)
        engine.run()
    else:
        engine.add_arrivals(players, until=until)
        engine.run()
    clock.advance(3600)  # let the back end's timeouts close what is left open
    return collector, settled


@pytest.mark.parametrize("profile", list(bundled_profiles()))
def test_every_bundled_profile_sends_what_adobes_edge_contract_accepts(profile: str) -> None:
    workload = Workload([load_profile(profile)], start=VirtualClock(START).now(), sessions=12)
    collector, settled = edge_run(workload.players("4"), until=workload.end)
    assert settled
    for each in settled:
        adobe_accepts(each.request)
        assert each.response is not None
        assert each.response.status in (200, 204), each.response
    assert collector.counts().problems == {}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_every_example_script_plays_over_edge(script: Path) -> None:
    player = load_script(str(script)).player(seed=1, start_at=START)
    collector, settled = edge_run([player])
    for each in settled:
        adobe_accepts(each.request)
    assert next(s.response.status for s in settled if s.response is not None) == 200
    assert collector.counts().problems == {}


def viewings(dialect: Any) -> list[list[tuple[Any, ...]]]:
    profiles = [load_profile(name) for name in bundled_profiles()]
    workload = Workload(profiles, start=VirtualClock(START).now(), sessions=40)
    collector, _ = edge_run(workload.players("8"), dialect=dialect, until=workload.end)
    sessions = []
    for session in collector.sessions:
        events = []
        for event in session.events:
            name = edge_path_event(event.event_type)
            params = {k: v for k, v in event.params.items() if k not in NO_EDGE_FIELD}
            if event.event_type in ("stateStart", "stateEnd"):  # Edge: a statesUpdate
                params = {"statesStart" if event.event_type == "stateStart" else "statesEnd": 1}
            if "media.length" in params:
                params["media.length"] = math.ceil(params["media.length"])
            events.append((name, event.ts, math.floor(event.playhead), sorted(params)))
        sessions.append(events)
    return sessions


def test_the_same_audience_through_both_apis_is_the_same_viewings_event_for_event() -> None:
    over_mca, over_edge = viewings(MCA), viewings(EDGE)
    assert len(over_mca) == len(over_edge) >= 40  # (with the binge-watchers' follow-ups)
    assert over_mca == over_edge


def start_request() -> Request:
    return EDGE.start(
        {
            "playerTime": {"playhead": 0, "ts": 1_795_801_200_000},
            "eventType": "sessionStart",
            "params": {
                "media.id": "northlight-film-0001",
                "media.length": 5400.5,
                "media.contentType": "vod",
                "media.playerName": "Shaka Player",
                "media.channel": "films",
            },
        }
    )


def event(sid: str, name: str, playhead: int, ts: int) -> Request:
    body = {"playerTime": {"playhead": playhead, "ts": ts}, "eventType": name}
    return EDGE.events(sid)(body, name)


@pytest.fixture
def served() -> Iterator[str]:
    yield from running(create_app(Collector(SystemClock(), seed="1")))


def post(url: str, request: Request | tuple[str, Any]) -> httpx.Response:
    path, body = (request.path, request.body) if isinstance(request, Request) else request
    return httpx.post(
        url + path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def test_serve_answers_a_media_edge_session_as_adobe_does(served: str) -> None:
    opened = post(served, start_request())
    assert opened.status_code == 200
    handle = opened.json()["handle"][0]
    assert handle["type"] == "media-analytics:new-session"
    sid = handle["payload"][0]["sessionId"]
    assert len(sid) == 64
    # The HTTP transports read the session from that body.
    assert answer_of(200, None, opened.text, "OK").sid == sid
    at = 1_795_801_200_000
    assert post(served, event(sid, "play", 0, at + 1)).status_code == 204
    assert post(served, event(sid, "ping", 10, at + 10_001)).status_code == 204
    assert post(served, event(sid, "sessionEnd", 10, at + 12_000)).status_code == 204
    # Ended: Edge has no 410, a session that is gone is not found, as RFC 7807 problem details.
    gone = post(served, event(sid, "ping", 10, at + 20_000))
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    problem = gone.json()
    assert problem["type"] == "https://ns.adobe.com/aep/errors/va-edge-0404-404"
    assert problem["status"] == 404
    assert sid in problem["detail"]
    # The same server speaks the MCA on its own paths.
    mca = httpx.post(
        served + "/api/v1/sessions", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert mca.status_code == 400
    assert "message" in mca.json()
    stats = httpx.get(served + "/stats?format=json").json()
    assert json.dumps(stats).count("sessionEnd") >= 1


def test_a_sessionstart_the_contract_refuses_gets_207_naming_the_field(served: str) -> None:
    request = start_request()
    del request.body["events"][0]["xdm"]["mediaCollection"]["sessionDetails"]["name"]
    answer = post(served, request)
    assert answer.status_code == 207
    error = answer.json()["errors"][0]
    assert error["type"] == "https://ns.adobe.com/aep/errors/va-edge-0400-400"
    assert error["report"]["details"] == [
        {
            "name": "$.events[0].xdm.mediaCollection.sessionDetails.name",
            "reason": "Missing required field",
        }
    ]
    assert answer_of(207, None, answer.text, "").sid is None


def one_event(
    event_type: str = "media.play", playhead: Any = 1, ts: str = "2026-11-27T18:00:00Z"
) -> dict[str, Any]:
    media = {"playhead": playhead, "sessionID": "abc"}
    return {
        "events": [{"xdm": {"eventType": event_type, "timestamp": ts, "mediaCollection": media}}]
    }


PLAY = "/ee/va/v1/play?configId=x"


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/ee/va/v1/sessionStart", None, 400, "configId: required"),
        (PLAY, {"events": []}, 400, "$.events"),
        (PLAY, one_event(playhead=1.5), 400, "$.events[0].xdm.mediaCollection.playhead"),
        (PLAY, one_event("media.ping"), 400, "must be media.play"),
        (PLAY, one_event(ts="2026-11-27 18:00"), 400, "$.events[0].xdm.timestamp"),
        (PLAY, one_event(), 404, "abc"),
        ("/ee/va/v1/rewind?configId=x", {}, 404, "no such Media Edge endpoint"),
    ],
)
def test_bad_edge_requests_get_problem_details_naming_what_is_wrong(
    served: str, path: str, body: Any, status: int, fragment: str
) -> None:
    if body is None:
        body = start_request().body
    answer = post(served, (path, body))
    assert answer.status_code == status
    problem = answer.json()
    assert problem["type"] == f"https://ns.adobe.com/aep/errors/va-edge-{status:04d}-{status}"
    assert fragment in json.dumps(problem)
    # What the transports tell the run: the problem's detail.
    assert fragment.split(":", maxsplit=1)[0].strip("$") in (
        answer_of(status, None, answer.text, "").message or ""
    )


def test_a_run_over_http_speaks_edge_to_serve(served: str) -> None:
    clock = VirtualClock(start=START)
    workload = Workload([load_profile("vod-episode")], start=clock.now(), sessions=3)
    with HttpTransport(served) as transport:
        engine = Engine(clock, transport, dialect=EDGE)
        engine.add_arrivals(workload.players("2"), until=workload.end)
        engine.run()
    assert engine.stats.accepted == engine.stats.requests > 10
    assert engine.stats.statuses["200"] == engine.stats.sessions


def test_every_mca_sessionstart_param_has_an_edge_field_or_a_reason() -> None:
    from playersim.edge.mapping import SESSION_DETAILS

    for key in SESSION_START_KEYS:
        assert key in SESSION_DETAILS or key in NO_EDGE_FIELD, key


def test_a_run_speaks_edge_when_its_settings_say_so() -> None:
    from playersim import run
    from playersim.settings import AdobeSettings

    adobe = AdobeSettings(api="edge", datastream=DATASTREAM)
    stats = run(adobe=adobe, sessions=40, seed=3)
    assert stats.failed == 0
    assert stats.statuses["200"] == stats.sessions_started > 0  # downloaded ones too
    assert stats.conformance == {}


def test_the_command_line_sends_edge_to_serve_and_records_it(
    served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playersim.cli.app import main
    from playersim.transports.recording import read_recording

    path = tmp_path / "edge.ndjson"
    args = ["run", "--api", "edge", "--datastream", DATASTREAM, "--sessions", "6", "--seed", "2",
            "--to", served, "--record", str(path)]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    lines = list(read_recording(path))
    assert lines
    assert all(line["path"].startswith("/ee/va/v1/") for line in lines)
    assert {line["status"] for line in lines} <= {200, 204}


def test_an_edge_host_given_is_where_the_run_sends() -> None:
    from playersim import RunOptions
    from playersim.settings import AdobeSettings

    given = AdobeSettings(api="edge", datastream=DATASTREAM, edge_host="media.acme.example")
    assert RunOptions(adobe=given).to == "https://media.acme.example"
    # Not given: in memory, as every run without an endpoint.
    assert RunOptions(adobe=AdobeSettings(api="edge", datastream=DATASTREAM)).to is None


def test_the_docs_map_every_mca_param_as_the_code_does() -> None:
    from playersim.edge import mapping

    page = (Path(__file__).parent.parent / "docs" / "media-edge.md").read_text()
    rows = dict(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|$", page, re.M))
    tables = (
        mapping.SESSION_DETAILS,
        mapping.POD_DETAILS,
        mapping.AD_DETAILS,
        mapping.CHAPTER_DETAILS,
        mapping.QOE_DETAILS,
    )
    assert rows == {key: name for table in tables for key, name in table.items()}
    section = page.split("### What has no Edge field", 1)[1].split("\n## ", 1)[0]
    without = set(re.findall(r"^\| `([^`]+)` \| [^`|][^|]*\|$", section, re.M))
    assert without == set(NO_EDGE_FIELD)


def test_qoe_goes_in_the_units_edge_counts_in() -> None:
    """The MCA's bitrate is bits per second and its timeToStart milliseconds; Edge's are kbps
    and seconds: converted going out, and back by the collector."""
    body = {
        "playerTime": {"playhead": 0, "ts": 1_795_801_200_000},
        "eventType": "play",
        "qoeData": {"media.qoe.bitrate": 3_500_000, "media.qoe.timeToStart": 4126},
    }
    request = EDGE.events("abc")(body, "play")
    details = request.body["events"][0]["xdm"]["mediaCollection"]["qoeDataDetails"]
    assert details == {"bitrate": 3500, "timeToStart": 4}
    collector = speak_edge(Collector(VirtualClock(start=START)))
    sid = collector.handle("POST", start_request().path, start_request().body).sid
    assert sid is not None
    assert collector.handle("POST", request.path, event_body(request, sid)).status == 204
    play = collector.session(sid).events[-1]
    assert play.body.qoe_data is not None
    assert play.body.qoe_data.bitrate == 3_500_000
    assert play.body.qoe_data.time_to_start == 4000


def event_body(request: Request, sid: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(request.body))
    body["events"][0]["xdm"]["mediaCollection"]["sessionID"] = sid
    return body


def test_an_instant_beyond_what_a_timestamp_can_say_is_a_400_not_a_500(served: str) -> None:
    answer = post(served, (PLAY, one_event(ts="0001-01-01T00:00:00+01:00")))
    assert answer.status_code == 400
    assert "not an instant from 1970" in answer.json()["detail"]


def test_replay_skips_what_the_edge_collector_refused(tmp_path: Path) -> None:
    from playersim.engines.replay import RecordingError, read_replay

    refused = start_request()
    del refused.body["events"][0]["xdm"]["mediaCollection"]["sessionDetails"]["name"]
    lines = [
        {"session": None, "path": refused.path, "status": 207, "body": refused.body},
        {"session": None, "path": start_request().path, "status": 200,
         "body": start_request().body},
    ]  # fmt: skip
    path = tmp_path / "served.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    skipped: list[RecordingError] = []
    kept = list(read_replay(path, skipped=skipped))
    assert len(kept) == 1
    assert kept[0].config_id == DATASTREAM
    assert "sessionDetails.name" in str(skipped[0])


def test_serve_injects_its_faults_into_edge_answers_as_adobe_would_say_them() -> None:
    from playersim.server import Faults

    collector = Collector(SystemClock(), seed="1")
    for url in running(create_app(collector, faults=Faults(fail_rate=1.0))):
        answer = post(url, start_request())
        assert answer.status_code == 500
        problem = answer.json()
        assert problem["type"] == "https://ns.adobe.com/aep/errors/va-edge-0500-500"
        assert "injected" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "event"),
    [
        ("/ee/va/v1/sessionStart?configId=abc", "sessionStart"),
        ("/ee/va/v1/play/?configId=abc&x=1", "play"),
        ("/ee/va/v1/downloaded", "downloaded"),
        ("/api/v1/sessions", None),
        ("/api/v1/sessions/abc/events", None),
        ("/ee/va/v2/play", None),
    ],
)
def test_a_media_edge_path_names_its_event_and_no_other_path_does(
    path: str, event: str | None
) -> None:
    """The collector's front, replay and the answer key read a Media Edge request's event from
    its path the same way: the segment after `/ee/va/v1/`, without the query or a trailing
    slash; an MCA path names none."""
    assert edge_event_of(path) == event
