"""Adobe's three documented MCA timelines, played from examples/scripts/, reach the collector
request for request and parameter for parameter as Adobe's tables have them.

The tables below are Adobe's (Experience League, Streaming Media Collection API, "Timeline 1 -
View to end of content", "Timeline 2 - User abandons session", "Timeline 3 - Chapters"), with
the slips each script lists at its top corrected. Each row: seconds since the sessionStart,
playhead, eventType, then the body's params, qoeData and customMetadata (None: not sent). Events
of one instant are 1 ms apart (MCA-SPEC.md section 4); ads ping every second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playersim import Collector, Engine, MemoryTransport, VirtualClock, load_profile, load_script
from playersim.mca.wire import to_wire
from tests.conftest import START

SCRIPTS = Path(__file__).parent.parent / "examples" / "scripts"

Row = tuple[float, float, str, dict[str, Any] | None, dict[str, Any] | None, dict[str, str] | None]

# Adobe's placeholders for routing ([ _YOUR_TS_ ], [ _YOUR_RSID_ ], [YOUR_MCID]) are filled
# from the scripts' profile.
_ROUTING = load_profile("vod-movie").analytics


def session_start(visitor_id: str) -> dict[str, Any]:
    """Action 1's params, in each timeline."""
    return {
        "analytics.trackingServer": _ROUTING.tracking_server,
        "analytics.reportSuite": _ROUTING.report_suite,
        "visitor.marketingCloudOrgId": _ROUTING.org_id,
        "media.playerName": "sample-html5-api-player",
        "analytics.visitorId": visitor_id,
        "media.contentType": "VOD",
        "media.length": 60.3333333333333,
        "media.id": "VA API Sample Player",
        "media.name": "ClickMe",
        "media.channel": "sample-channel",
        "media.sdkVersion": "va-api-0.0.0",
        "analytics.enableSSL": False,
    }


def ad(
    ad_id: str,
    name: str,
    length: int,
    position: int,
    *,
    campaign: str,
    creative: str,
    placement: str,
    url: str = "https://example.com",
) -> dict[str, Any]:
    """An adStart's params."""
    return {
        "media.ad.name": name,
        "media.ad.id": ad_id,
        "media.ad.length": length,
        "media.ad.podPosition": position,
        "media.ad.playerName": "Sample Player",
        "media.ad.advertiser": "Ad Guys",
        "media.ad.campaignId": campaign,
        "media.ad.creativeId": creative,
        "media.ad.siteId": "XYZ",
        "media.ad.creativeURL": url,
        "media.ad.placementId": placement,
    }


def pod(name: str, index: int, second: int) -> dict[str, Any]:
    """An adBreakStart's params."""
    return {
        "media.ad.podFriendlyName": name,
        "media.ad.podIndex": index,
        "media.ad.podSecond": second,
    }


def pings(seconds: range, playhead: float) -> list[Row]:
    return [(t, playhead, "ping", None, None, None) for t in seconds]


CUSTOM = {"myCustomData1": "CustomData1", "myCustomData2": "CustomData2"}
AD_1 = ad("001", "Ad 1", 15, 1, campaign="1", creative="42", placement="sample_placement")
# podPosition: Adobe's 1 for the pod's second ad.
AD_2 = ad("002", "Ad 2", 7, 2, campaign="2", creative="44", placement="sample_placement2")
# podPosition: Adobe's 2 for the mid-roll pod's only ad.
AD_3 = ad("003", "Ad 3", 8, 1, campaign="7", creative="40", placement="sample_placement2")

# Actions 1 to 11 of Timelines 1 and 3: the session, the pre-roll of two ads, the first frame.
_PREROLL: list[Row] = [
    (0, 0, "sessionStart", session_start("[ _YOUR_VISITOR_ID_ ]"), None, None),
    (0.001, 0, "adBreakStart", pod("ad_pod1", 0, 0), None, None),
    (0.002, 0, "adStart", AD_1, None, CUSTOM),
    *pings(range(1, 15), 0),
    (15, 0, "adComplete", None, None, None),
    (15.001, 0, "adStart", AD_2, None, None),
    *pings(range(16, 22), 0),
    (22, 0, "adComplete", None, None, None),
    (22.001, 0, "adBreakComplete", None, None, None),
    (22.002, 0, "play", None, None, None),
]

TIMELINE_1: list[Row] = [
    *_PREROLL,
    (30, 8, "ping", None, None, None),
    (33, 11, "bufferStart", None, None, None),
    (36, 11, "play", None, None, None),
    (40, 15, "ping", None, None, None),
    (46, 21, "adBreakStart", pod("ad_pod2", 1, 21), None, None),
    (46.001, 21, "adStart", AD_3, None, None),
    *pings(range(47, 54), 21),  # Adobe's one ping, at 50 "every 10 seconds"
    (54, 21, "adComplete", None, None, None),
    (54.001, 21, "adBreakComplete", None, None, None),
    (60, 27, "ping", None, None, None),
    (64, 31, "pauseStart", None, None, None),
    (70, 31, "ping", None, None, None),
    (74, 31, "play", None, None, None),
    (80, 37, "ping", None, None, None),
    (88, 45, "sessionComplete", None, None, None),
]

BITRATE = {"media.qoe.bitrate": 10000}  # Adobe's `{"bitrate": 10000}`
# media.ad.length: Adobe's 7, for what the page calls "a 12 second ad", complete at 12 s.
PREROLL_AD = ad(
    "002",
    "Ad 1",
    12,
    1,
    campaign="1",
    creative="42",
    placement="sample-placement2",
    url="https://xyz-creative.com",
)
MIDROLL_AD = ad("002", "Ad 1", 8, 1, campaign="7", creative="40", placement="sample_placement2")
TIMELINE_2: list[Row] = [
    (0, 0, "sessionStart", session_start("[ _YOUR-VISITOR-ID_ ]"), None, None),
    (0.001, 0, "adBreakStart", pod("ad_pod1", 0, 0), None, None),
    (0.002, 0, "adStart", PREROLL_AD, None, None),
    *pings(range(1, 12), 0),
    (12, 0, "adComplete", None, None, None),
    (12.001, 0, "adBreakComplete", None, None, None),
    (12.002, 0, "play", None, BITRATE, None),
    (20, 8, "ping", None, None, None),
    (30, 18, "ping", None, None, None),
    (32, 20, "error", None, None, None),  # no qoeData; playback stops
    (37, 20, "play", None, BITRATE, None),  # Adobe's body: playhead 18
    # The playhead held from 32 s to 37 s: Adobe's 28 and 33 from here on.
    (40, 23, "ping", None, None, None),
    (45, 28, "adBreakStart", pod("ad_pod2", 1, 28), None, None),
    (45.001, 28, "adStart", MIDROLL_AD, None, None),
    *pings(range(46, 48), 28),
    (48, 28, "sessionEnd", None, None, None),
]


def chapter(index: int, offset: int, length: int, name: str) -> dict[str, Any]:
    """A chapterStart's params."""
    return {
        "media.chapter.index": index,
        "media.chapter.offset": offset,
        "media.chapter.length": length,
        "media.chapter.friendlyName": name,
    }


TIMELINE_3: list[Row] = [
    *_PREROLL,
    (23, 1, "chapterStart", chapter(1, 0, 20, "Chapter Uno"), None, None),  # Adobe's body: 0
    (30, 8, "ping", None, None, None),
    (33, 11, "bufferStart", None, None, None),
    (36, 11, "play", None, None, None),
    (40, 15, "ping", None, None, None),
    (45, 20, "chapterComplete", None, None, None),
    (46, 21, "adBreakStart", pod("ad_pod2", 1, 21), None, None),
    (46.001, 21, "adStart", AD_3, None, None),
    *pings(range(47, 54), 21),
    (54, 21, "adComplete", None, None, None),
    (54.001, 21, "adBreakComplete", None, None, None),
    (55, 22, "chapterStart", chapter(2, 22, 22, "Chapter Dos"), None, None),
    (60, 27, "ping", None, None, None),
    (64, 31, "pauseStart", None, None, None),
    (70, 31, "ping", None, None, None),
    (74, 31, "play", None, None, None),
    (80, 37, "ping", None, None, None),
    (87, 44, "chapterComplete", None, None, None),  # Adobe's body: playhead 0
    (88, 45, "sessionComplete", None, None, None),
]


def played(script: str) -> list[Row]:
    """What the collector received from the script, as rows of Adobe's table."""
    clock = VirtualClock(start=START)
    collector = Collector(clock=clock)
    engine = Engine(clock, MemoryTransport(collector))
    engine.add(load_script(SCRIPTS / script).player(seed=1))
    engine.run()
    [session] = collector.sessions
    assert session.problems == []
    t0 = session.events[0].ts
    rows: list[Row] = []
    for event in session.events:
        body = to_wire(event.body)
        rows.append(
            (
                (event.ts - t0) / 1000,
                event.playhead,
                event.event_type,
                body.get("params"),
                body.get("qoeData"),
                body.get("customMetadata"),
            )
        )
    return rows


@pytest.mark.parametrize(
    ("script", "table"),
    [
        ("timeline-1-view-to-end.toml", TIMELINE_1),
        ("timeline-2-abandon.toml", TIMELINE_2),
        ("timeline-3-chapters.toml", TIMELINE_3),
    ],
)
def test_each_adobe_timeline_reaches_the_collector_as_adobe_documents_it(
    script: str, table: list[Row]
) -> None:
    """Event types, order, ts offsets, playheads, params, qoeData and customMetadata: Adobe's
    table row for row, and a session the conformance report finds nothing wrong with."""
    assert played(script) == table
