"""The answer key's files, column by column: the one description of each, from which the CSV
headers, `schema.json` (what a pipeline test loads) and the documentation's tables are made.

Each column says its type (`string`, `integer`, `number`; a number left empty in CSV and null in
JSON when the session gave none), its unit and the Adobe metric it is (Analytics context data
variable / `xdm.mediaReporting` field), so a reconciliation knows what to compare it with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "AD_COLUMNS",
    "CHAPTER_COLUMNS",
    "ROLLUP_METRICS",
    "SESSION_COLUMNS",
    "STATE_COLUMNS",
    "Column",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Literal["string", "integer", "number"]
    description: str
    adobe: str = ""  # the Analytics variable and XDM field, where Adobe has one
    unit: str = ""


def _c(
    name: str,
    kind: Literal["string", "integer", "number"],
    description: str,
    adobe: str = "",
    unit: str = "",
) -> Column:
    return Column(name, kind, description, adobe, unit)


_S: Final[Literal["string"]] = "string"
_I: Final[Literal["integer"]] = "integer"
_N: Final[Literal["number"]] = "number"

SESSION_COLUMNS: Final = (
    _c("sid", _S, "the session id the back end gave (Media Edge: the sessionStart's handle)"),
    _c("start", _S, "the sessionStart's timestamp, UTC, RFC 3339 with milliseconds"),
    _c("day", _S, "the start's day in the report's time zone (YYYY-MM-DD)"),
    _c("hour", _S, "the start's hour in the report's time zone (YYYY-MM-DDTHH:00)"),
    _c("last_event", _S, "the last event's timestamp, UTC"),
    _c("close", _S, "when the back end closes the session: its sessionEnd, else the timeout"),
    _c("close_reason", _S, "sessionEnd, idle timeout, playhead stalled, sessionComplete or open"),
    _c("report_suite", _S, "analytics.reportSuite of the sessionStart"),
    _c("visitor", _S, "analytics.visitorId, else visitor.marketingCloudUserId"),
    _c("media_id", _S, "media.id", "a.media.id"),
    _c("media_name", _S, "media.name: the content", "a.media.name"),
    _c("show", _S, "media.show", "a.media.show"),
    _c("season", _S, "media.season", "a.media.season"),
    _c("episode", _S, "media.episode", "a.media.episode"),
    _c("channel", _S, "media.channel", "a.media.channel"),
    _c("content_type", _S, "media.contentType", "a.contentType"),
    _c("stream_type", _S, "media.streamType", "a.media.streamType"),
    _c("genre", _S, "media.genre", "a.media.genre"),
    _c("network", _S, "media.network", "a.media.network"),
    _c("player_name", _S, "media.playerName", "a.media.playerName"),
    _c("device", _S, "customMetadata device.model, else the player's name"),
    _c("platform", _S, "customMetadata device.os, else the player's name"),
    _c("profile", _S, "the playersim profile that played it (empty when read from traffic)"),
    _c("length", _N, "media.length", "a.media.length / sessionDetails.length", "s"),
    _c("downloaded", _I, "1: sent whole after the viewing", "a.media.downloaded / isDownloaded"),
    _c("events", _I, "events the back end took for the session"),
    _c("media_starts", _I, "Media starts", "a.media.view / sessionDetails.isViewed"),
    _c("content_starts", _I, "Content starts", "a.media.play / sessionDetails.isPlayed"),
    _c("content_completes", _I, "Content completes", "a.media.complete / isCompleted"),
    _c("content_resumes", _I, "Content resumes", "a.media.resume / hasResume"),
    _c("content_time_spent", _N, "Content time spent", "a.media.timePlayed / timePlayed", "s"),
    _c("media_time_spent", _N, "Media time spent", "a.media.totalTimePlayed", "s"),
    _c("unique_time_played", _N, "Unique time played", "a.media.uniqueTimePlayed", "s"),
    _c("progress10", _I, "10 % progress marker", "a.media.progress10 / hasProgress10"),
    _c("progress25", _I, "25 % progress marker", "a.media.progress25 / hasProgress25"),
    _c("progress50", _I, "50 % progress marker", "a.media.progress50 / hasProgress50"),
    _c("progress75", _I, "75 % progress marker", "a.media.progress75 / hasProgress75"),
    _c("progress95", _I, "95 % progress marker", "a.media.progress95 / hasProgress95"),
    _c("average_minute_audience", _N, "Average minute audience", "a.media.averageMinuteAudience"),
    _c("estimated_streams", _I, "Estimated streams", "a.media.estimatedStreams"),
    _c("seconds_since_last_call", _N, "close - last event", "a.media.secondsSinceLastCall", "s"),
    _c("pause_events", _I, "Pause events", "a.media.pauseCount / pauseCount"),
    _c("paused_impacted_streams", _I, "Paused impacted streams", "a.media.pause"),
    _c("pause_time", _N, "Total pause duration", "a.media.pauseTime / pauseTime", "s"),
    _c("time_to_start", _N, "Time to start", "a.media.qoe.timeToStart", "s"),
    _c("drops_before_start", _I, "Drops before start", "a.media.qoe.dropBeforeStart"),
    _c("buffer_events", _I, "Buffer events", "a.media.qoe.bufferCount"),
    _c("buffer_impacted_streams", _I, "Buffer impacted streams", "a.media.qoe.buffer"),
    _c("buffer_time", _N, "Total buffer duration", "a.media.qoe.bufferTime", "s"),
    _c("stall_events", _I, "Stall events", "a.media.qoe.stallCount"),
    _c("stall_impacted_streams", _I, "Stall impacted streams", "a.media.qoe.stall"),
    _c("stall_time", _N, "Total stalling duration", "a.media.qoe.stallTime", "s"),
    _c("error_events", _I, "Error events", "a.media.qoe.errorCount"),
    _c("error_impacted_streams", _I, "Error impacted streams", "a.media.qoe.error"),
    _c("errors", _S, "the error ids, in order, space-separated", "a.media.qoe.playerSdkErrors"),
    _c("average_bitrate", _N, "Average bitrate", "a.media.qoe.bitrateAverage", "kbps"),
    _c("bitrate_changes", _I, "Bitrate changes", "a.media.qoe.bitrateChangeCount"),
    _c(
        "bitrate_change_impacted_streams",
        _I,
        "Bitrate change impacted streams",
        "a.media.qoe.bitrateChange",
    ),
    _c(
        "dropped_frames",
        _I,
        "Dropped frames (the last value reported)",
        "a.media.qoe.droppedFrameCount",
    ),
    _c(
        "dropped_frame_impacted_streams",
        _I,
        "Dropped frame impacted streams",
        "a.media.qoe.droppedFrames",
    ),
    _c("ad_count", _I, "Ad count: ads started", "a.media.adCount / adCount"),
    _c("ad_starts", _I, "Ad starts", "a.media.ad.view"),
    _c("ad_completes", _I, "Ad completes", "a.media.ad.complete"),
    _c(
        "ad_time_spent",
        _N,
        "Ad time spent, the session's ads together",
        "a.media.ad.timePlayed",
        "s",
    ),
    _c("chapter_count", _I, "Chapter count", "a.media.chapterCount"),
    _c("chapter_starts", _I, "Chapter starts", "a.media.chapter.view"),
    _c("chapter_completes", _I, "Chapter completes", "a.media.chapter.complete"),
    _c(
        "chapter_time_spent",
        _N,
        "Chapter time spent, its chapters together",
        "a.media.chapter.timePlayed",
        "s",
    ),
)

AD_COLUMNS: Final = (
    _c("sid", _S, "the session it played in"),
    _c("start", _S, "when it started, UTC"),
    _c(
        "break_index",
        _I,
        "media.ad.podIndex of its break (0 pre-roll, -1 post-roll)",
        "a.media.ad.podIndex",
    ),
    _c("break_kind", _S, "pre-roll, mid-roll or post-roll"),
    _c("break_name", _S, "media.ad.podFriendlyName", "a.media.ad.podFriendlyName"),
    _c(
        "pod_position",
        _I,
        "media.ad.podPosition: 1 for the break's first ad",
        "a.media.ad.podPosition",
    ),
    _c("ad_id", _S, "media.ad.id", "a.media.ad.id"),
    _c("ad_name", _S, "media.ad.name", "a.media.ad.name"),
    _c("advertiser", _S, "media.ad.advertiser", "a.media.ad.advertiser"),
    _c("campaign", _S, "media.ad.campaignId", "a.media.ad.campaign"),
    _c("length", _N, "media.ad.length", "a.media.ad.length", "s"),
    _c("ad_starts", _I, "Ad starts", "a.media.ad.view / advertisingDetails.isStarted"),
    _c("ad_completes", _I, "Ad completes", "a.media.ad.complete / isCompleted"),
    _c("ad_skips", _I, "1: skipped (adSkip)"),
    _c("ad_time_spent", _N, "Ad time spent", "a.media.ad.timePlayed", "s"),
)

CHAPTER_COLUMNS: Final = (
    _c("sid", _S, "the session it played in"),
    _c("start", _S, "when it started, UTC"),
    _c("chapter_index", _I, "media.chapter.index", "a.media.chapter.index"),
    _c("chapter_name", _S, "media.chapter.friendlyName", "a.media.chapter.friendlyName"),
    _c("offset", _N, "media.chapter.offset", "a.media.chapter.offset", "s"),
    _c("length", _N, "media.chapter.length", "a.media.chapter.length", "s"),
    _c("chapter_starts", _I, "Chapter starts", "a.media.chapter.view"),
    _c("chapter_completes", _I, "Chapter completes", "a.media.chapter.complete"),
    _c("chapter_skips", _I, "1: skipped (chapterSkip)"),
    _c("chapter_time_spent", _N, "Chapter time spent", "a.media.chapter.timePlayed", "s"),
)

STATE_COLUMNS: Final = (
    _c("sid", _S, "the session"),
    _c("state", _S, "media.state.name: fullscreen, mute, closedCaptioning, ..."),
    _c("state_set", _I, "Streams impacted by the state", "a.media.states.<name>.set"),
    _c("state_count", _I, "times it started", "a.media.states.<name>.count"),
    _c("state_time", _N, "seconds in it", "a.media.states.<name>.time", "s"),
)

# What a roll-up row adds up over its sessions: every count, flag and time of SESSION_COLUMNS
# (averages are not added: a roll-up gives them as `average_*` of the sessions that had one).
ROLLUP_METRICS: Final = tuple(
    column.name
    for column in SESSION_COLUMNS
    if column.kind != "string"
    and column.name
    not in (
        "length",
        "time_to_start",
        "average_bitrate",
        "dropped_frames",
        "seconds_since_last_call",
    )
)
