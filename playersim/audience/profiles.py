"""Profiles: what kind of content a simulated audience watches, and how it behaves.

A profile is a TOML file (see `profiles/` at the top of the repository, installed inside the
package). It is validated by the pydantic models below; any mistake is reported as a
`ProfileError` naming the file, the field and the value, never as a traceback. Unknown keys are
errors too: a misspelt `completion_rat` must not silently fall back to a default.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

from faker.config import AVAILABLE_LOCALES
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from playersim.audience.arrivals import Shape
from playersim.audience.devices import DEVICE_KEYS, FAMILIES
from playersim.audience.distributions import Choice, Distribution, Fixed, LogNormal, Uniform
from playersim.errors import ProfileError
from playersim.mca.spec import LIVE_CONTENT_TYPES

__all__ = [
    "LIVE_CONTENT_TYPES",
    "Ads",
    "Analytics",
    "Arrivals",
    "Audience",
    "Content",
    "CustomField",
    "Offline",
    "PlayerStates",
    "Profile",
    "Qoe",
    "Timing",
    "Viewing",
    "bundled_profiles",
    "load_profile",
    "parse_weighted",
    "profile_from_dict",
]

_DAY_SECONDS = 86_400.0
_STATE_NAME = re.compile(r"^[a-zA-Z0-9_.]{1,64}$")


def _check_families(names: Iterable[str], field: str) -> None:
    """Every name is a device family (`playersim.audience.devices`), or the field is refused."""
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown device {unknown[0]!r} in {field} (known: {', '.join(FAMILIES)})")


class _Section(BaseModel):
    # nan and inf are not numbers a profile can mean; refuse them with the field named.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Analytics(_Section):
    """Where the data is routed: the sessionStart `analytics.*` and `visitor.*` routing params."""

    tracking_server: str = Field(
        default="northlightmedia.sc.omtrdc.net",
        min_length=1,
        description="analytics.trackingServer (a demo company's: set your own)",
    )
    report_suite: str = Field(
        default="northlightstreamprod", min_length=1, description="analytics.reportSuite"
    )
    org_id: str = Field(
        default="0123456789ABCDEF01234567@AdobeOrg",
        pattern=r"^[0-9A-F]{24}@AdobeOrg$",
        description="visitor.marketingCloudOrgId: 24 upper-case hex digits then @AdobeOrg",
    )
    enable_ssl: bool = Field(default=True, description="analytics.enableSSL")


class Content(_Section):
    """What is watched: the kind of title, its MCA content type, length and structure."""

    kind: Literal["movie", "episode", "live", "sports", "linear", "clip", "podcast"] = Field(
        description="which metadata to generate: a film, an episode of a series, a live news "
        "channel, a live sports event, a linear channel, a short clip, a podcast episode"
    )
    content_type: str = Field(
        min_length=1,
        description="media.contentType (vod, live, linear, ugc, dvod, song, podcast, ...)",
    )
    stream_type: Literal["video", "audio"] = Field(default="video", description="media.streamType")
    channel: str = Field(
        min_length=1, description="media.channel: where the content is distributed"
    )
    publisher: str | None = Field(default=None, description="media.publisher")
    length_seconds: Distribution | None = Field(
        default=None,
        description="media.length of each title; required for on-demand content, "
        "86400 (unknown length) for live when omitted",
    )
    titles: int = Field(
        default=40, ge=1, le=100_000, description="how many distinct titles the run draws from"
    )
    chapters: Distribution | None = Field(
        default=None,
        description="on-demand: how many chapters each title has (rounded; none when omitted)",
    )
    program_minutes: int | None = Field(
        default=None,
        ge=1,
        le=1440,
        description="live: each programme on this UTC grid is a chapter (none when omitted)",
    )
    live_latency_seconds: Distribution = Field(
        default_factory=lambda: Uniform(distribution="uniform", low=3, high=30),
        description="live: how far behind the live edge each viewer watches (HLS and DASH "
        "players sit 3-30 s behind), so breaks and programme changes reach viewers spread out",
    )

    @property
    def live(self) -> bool:
        """True when the playhead is the second of the UTC day (live and linear content)."""
        return self.content_type in LIVE_CONTENT_TYPES

    @model_validator(mode="after")
    def _length_for_on_demand(self) -> Self:
        if not self.live and self.length_seconds is None:
            raise ValueError(
                f"length_seconds is required for on-demand content (content_type "
                f"{self.content_type!r}); only live content may leave it out"
            )
        if self.live and self.chapters is not None:
            raise ValueError("chapters is for on-demand titles; live content uses program_minutes")
        if not self.live and self.program_minutes is not None:
            raise ValueError("program_minutes is for live content; on-demand titles use chapters")
        return self

    @property
    def length(self) -> Distribution:
        return self.length_seconds or Fixed(distribution="fixed", value=_DAY_SECONDS)

    @model_validator(mode="after")
    def _sensible_ranges(self) -> Self:
        _within(self.length_seconds, "length_seconds", 1, _WEEK)
        _within(self.chapters, "chapters", 0, 1000)
        return self


# A share of viewings or events: a number from 0 to 1 (`true` is not a share).
Share = Annotated[float, Field(ge=0, le=1, strict=True)]
_WEEK = 7 * _DAY_SECONDS


def _within(dist: Distribution | None, field: str, low: float, high: float) -> None:
    """Refuse a distribution whose stated numbers fall outside what the field can mean."""
    if dist is None:
        return
    for name, value in dist.numbers().items():
        if not low <= value <= high:
            raise ValueError(f"{field}.{name}: {value:g} is outside {low:g} .. {high:g}")


class Viewing(_Section):
    """How viewers behave: start-up, how long they stay, and what they do meanwhile."""

    @model_validator(mode="after")
    def _sensible_ranges(self) -> Self:
        _within(self.startup_seconds, "startup_seconds", 0, 600)
        _within(self.watch_seconds, "watch_seconds", 0, _WEEK)
        _within(self.pause_seconds, "pause_seconds", 0, _WEEK)
        _within(self.buffering_seconds, "buffering_seconds", 0, _DAY_SECONDS)
        _within(self.seek_seconds, "seek_seconds", 0, _WEEK)
        _within(self.continue_from, "continue_from", 0, 1)
        return self

    startup_seconds: Distribution = Field(
        description="time from sessionStart to the first frame (media.qoe.timeToStart)"
    )
    start_failure_rate: Share = Field(
        default=0.0, description="share of sessions whose playback never starts"
    )
    completion_rate: Share | None = Field(
        default=None,
        description="on-demand only: the share of sessions watched to the end (sessionComplete)",
    )
    watch_seconds: Distribution = Field(
        description="on-demand: how much content viewers who leave early watch; "
        "live: how long viewers stay (wall time from their first frame, ads included)"
    )
    pauses_per_hour: float = Field(default=0.0, ge=0, le=3600)
    pause_seconds: Distribution = Field(
        default_factory=lambda: LogNormal(distribution="lognormal", median=30, sigma=1.2),
        description="how long a pause lasts",
    )
    pause_abandon_rate: Share = Field(
        default=0.0,
        description="share of viewers who leave before the end by pausing and never coming "
        "back (the rest close the player mid-play)",
    )
    buffering_rate: Share = Field(
        default=0.0, description="share of sessions that rebuffer at least once"
    )
    buffering_per_hour: float = Field(
        default=2.0, ge=0, le=3600, description="rebuffering events per hour, in those sessions"
    )
    buffering_seconds: Distribution = Field(
        default_factory=lambda: LogNormal(distribution="lognormal", median=3, sigma=0.7, max=60),
        description="how long a rebuffering event lasts",
    )
    seeks_per_hour: float = Field(default=0.0, ge=0, le=3600)
    seek_seconds: Distribution = Field(
        default_factory=lambda: LogNormal(distribution="lognormal", median=60, sigma=1.0),
        description="how far a seek jumps",
    )
    seek_forward_rate: Share = Field(default=0.7)
    continue_rate: Share = Field(
        default=0.0,
        description="share of on-demand viewings that continue where the viewer left the title "
        "before (a 'continue watching' start, sent with media.resume)",
    )
    continue_from: Distribution = Field(
        # REALISM-SOURCES.md 3.3: no published figure; assumption (ours) from the same row:
        # resumed plays start anywhere over 5-90% of the title.
        default_factory=lambda: Uniform(distribution="uniform", low=0.05, high=0.9),
        description="where a continued viewing starts, as a share of the title's length",
    )
    errors_per_hour: float = Field(
        default=0.0, ge=0, le=3600, description="non-fatal player errors per hour"
    )


class Ads(_Section):
    """Ad load: pods before, during and after the content."""

    preroll_rate: Share = Field(default=0.0, description="share of sessions with a pre-roll")
    midroll_interval_seconds: float = Field(
        default=0.0,
        ge=0,
        le=_WEEK,
        description="a mid-roll every this many seconds of content (live: of the UTC day); "
        "0 = none",
    )
    postroll_rate: Share = Field(default=0.0)
    ads_per_pod: Distribution = Field(
        default_factory=lambda: Fixed(distribution="fixed", value=2), description="rounded, >= 1"
    )
    ad_seconds: Distribution = Field(
        default_factory=lambda: Choice(distribution="choice", values=[15, 30], weights=[1, 1]),
        description="the length of each ad creative",
    )
    # Assumption (ours): a day's campaign inventory on a mid-size ad-supported service, a few
    # hundred creatives from about a quarter as many advertisers.
    creatives: int = Field(default=300, ge=1, le=100_000, description="distinct ads per run")
    repeat_rate: Share = Field(
        default=0.0,
        description="chance that an ad is one this session has already shown (a sponsor, thin "
        "inventory); otherwise the ad server shows one not yet seen, while any is left",
    )
    preroll_ads_per_pod: Distribution | None = Field(
        default=None,
        description="ads in a pre-roll, rounded, >= 1 (default: as ads_per_pod): pre-rolls "
        "are shorter than mid-roll breaks",
    )
    fill_rate: Share = Field(
        default=1.0,
        description="share of a break's planned slots after the first that the ad server fills: "
        "breaks deliver fewer ads than planned",
    )
    skippable_rate: Share = Field(default=0.0, description="share of skippable ads")
    skip_after_seconds: float = Field(default=5.0, ge=0)
    skip_rate: Share = Field(default=0.5, description="share of skippable ads that viewers skip")
    granular_tracking: bool = Field(
        default=False, description="ping every second during ads instead of every 10 s"
    )
    preroll_abandonment: list[tuple[float, float]] = Field(
        default_factory=list,
        description="[pre-roll seconds, share of viewers who leave during it] points",
    )

    @model_validator(mode="after")
    def _abandonment_points(self) -> Self:
        interval = self.midroll_interval_seconds
        if 0 < interval < 10:
            raise ValueError(f"midroll_interval_seconds: {interval:g} s is too short (0 or >= 10)")
        _within(self.ads_per_pod, "ads_per_pod", 0, 50)
        _within(self.ad_seconds, "ad_seconds", 1, 3600)
        for seconds, share in self.preroll_abandonment:
            if seconds <= 0 or not 0 <= share <= 1:
                raise ValueError(
                    f"preroll_abandonment point [{seconds:g}, {share:g}] needs seconds > 0 "
                    "and a share between 0 and 1"
                )
        return self


class Qoe(_Section):
    """Quality of experience: the bitrate ladder, frame rate and dropped frames."""

    bitrates: list[Annotated[int, Field(gt=0)]] = Field(
        default_factory=lambda: [800_000, 1_600_000, 3_000_000, 5_000_000, 8_000_000],
        min_length=1,
        description="the bitrate ladder, bits per second",
    )

    @field_validator("bitrates")
    @classmethod
    def _lowest_first(cls, value: list[int]) -> list[int]:
        if value != sorted(set(value)):
            raise ValueError(f"list the rungs once each, lowest first (got {value})")
        return value

    bitrate_changes_per_hour: float = Field(
        default=0.0,
        ge=0,
        le=3600,
        description="switches after the climb: a drop on congestion, then back up",
    )
    # REALISM-SOURCES.md 4.2: players start from a bandwidth guess, not a measurement: hls.js
    # 500 kb/s, Shaka and ExoPlayer 1 Mb/s; so the first segment is usually a low-to-middle
    # rung. The spread around 1 Mb/s (a player that remembers the last session's throughput
    # guesses higher) is an assumption of ours.
    start_estimate_bps: Distribution = Field(
        default_factory=lambda: LogNormal(
            distribution="lognormal", median=1_000_000, sigma=0.6, min=64_000
        ),
        description="the player's first bandwidth guess: the first rung is the highest below it",
    )
    # REALISM-SOURCES.md 4.2: average delivered bitrate 3.9 Mb/s (Conviva, Q1 2018); most US
    # ISPs sustain 3.2-3.8 Mb/s (Netflix ISP index). The lognormal spread is ours.
    throughput_bps: Distribution = Field(
        default_factory=lambda: LogNormal(
            distribution="lognormal", median=4_000_000, sigma=0.6, min=100_000
        ),
        description="what a viewing's connection sustains: the player climbs to the highest "
        "rung at most 80% of it (the margin is ours) and settles there",
    )
    # REALISM-SOURCES.md 4.2: Apple's HLS authoring spec targets 6 s segments; a player moves
    # at most a rung per segment or two (ours).
    climb_seconds: Distribution = Field(
        default_factory=lambda: Uniform(distribution="uniform", low=4, high=12),
        description="time between the upward switches of the climb after the first frame",
    )
    # REALISM-SOURCES.md 4.2: no published bitrate by device; ours, after the section's
    # suggestion (mobile 1-2.5 Mb/s, desktop 3-4, CTV 4-6 on a 1080p ladder): a phone's player
    # caps the ladder at 720p (Apple's ladder: 3 Mb/s), a browser at 1080p30 (6 Mb/s), a TV
    # takes the whole ladder.
    device_max_bps: dict[str, Annotated[int, Field(gt=0)]] = Field(
        default_factory=lambda: {"ios": 3_000_000, "android": 3_000_000, "web": 6_000_000},
        description="the highest rung each device family plays (its screen and decoder); a "
        "family not named plays the whole ladder",
    )

    @field_validator("device_max_bps")
    @classmethod
    def _known_families(cls, value: dict[str, int]) -> dict[str, int]:
        _check_families(value, "device_max_bps")
        return value

    frames_per_second: int = Field(default=30, ge=0, le=240, description="0 for audio")
    frame_rates: dict[int, float] = Field(
        default_factory=dict,
        description="whole frame rates and their shares of titles (each title keeps its own); "
        "empty: every title at frames_per_second",
    )
    dropped_frames_per_minute: float = Field(
        default=0.0,
        ge=0,
        description="the average; each viewing drops at its own rate (a lognormal spread, "
        "sigma 1), frame by frame at random",
    )

    @field_validator("frame_rates")
    @classmethod
    def _rates_and_shares(cls, value: dict[int, float]) -> dict[int, float]:
        for rate, share in value.items():
            if not (0 < rate <= 240 and share >= 0):
                raise ValueError(f"{rate}: {share}: a frame rate in 1-240 and a share >= 0")
        if value and not sum(value.values()) > 0:
            raise ValueError("at least one frame rate needs a share above 0")
        return value


class PlayerStates(_Section):
    """Player states (fullscreen, mute, ...): which are on at the start, and how often they flip."""

    initial: dict[str, float] = Field(
        default_factory=dict,
        description="state name -> probability that it is on when playback starts",
    )
    names: list[str] = Field(
        default_factory=lambda: [
            "fullscreen",
            "mute",
            "closedCaptioning",
            "pictureInPicture",
            "inFocus",
        ],
        max_length=10,
        description="the states a viewer may toggle (at most 10 per session, MCA-SPEC.md 3)",
    )
    changes_per_hour: float = Field(default=0.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _names_valid(self) -> Self:
        for name in [*self.names, *self.initial]:
            if not _STATE_NAME.match(name):
                raise ValueError(f"state name {name!r} must match [a-zA-Z0-9_.]{{1,64}}")
        if self.changes_per_hour > 0 and not self.names:
            raise ValueError("changes_per_hour > 0 needs at least one name to toggle")
        unknown = sorted(set(self.initial) - set(self.names))
        if unknown:
            raise ValueError(f"initial state {unknown[0]!r} is not in names")
        return self


class Audience(_Section):
    """Who watches: the visitors, the devices they use, how often they come back, and binges."""

    visitors: int = Field(
        default=500,
        ge=1,
        le=200_000,
        description="distinct people per run; profiles of a run share the first ones",
    )
    activity_sigma: float = Field(
        default=1.0,
        ge=0,
        le=4,
        description="how unequal viewers are: the sigma of a lognormal of each person's activity "
        "(0: all alike; 1: a fifth of the people make over half the sessions)",
    )
    binge_rate: Share = Field(
        default=0.0,
        description="share of finished episodes that roll on into the next episode of the show",
    )
    next_episode_seconds: Distribution = Field(
        default_factory=lambda: Fixed(distribution="fixed", value=10.0),
        description="the autoplay countdown between one episode's end and the next one's start",
    )
    devices: dict[str, float] = Field(
        default_factory=lambda: {"web": 3.0, "ios": 2.0, "android": 2.0, "roku": 1.0, "tvos": 1.0},
        description="relative weight of each device family (web, ios, android, roku, tvos, firetv)",
    )
    locale: str = Field(default="en_US", description="Faker locale for names and titles")
    hours_per_day: float = Field(
        default=6.0,
        gt=0,
        le=24,
        description="the most a person watches in any 24 hours, across the run's profiles; a "
        "person past it (or watching something else) is not picked for a new viewing",
    )

    @field_validator("next_episode_seconds")
    @classmethod
    def _a_countdown(cls, value: Distribution) -> Distribution:
        if isinstance(value, Fixed) and not 0 <= value.value <= 86_400:
            raise ValueError(f"must be from 0 to 86400 seconds (got {value.value:g})")
        return value

    @model_validator(mode="after")
    def _known_devices(self) -> Self:
        if self.locale not in AVAILABLE_LOCALES:
            raise ValueError(
                f"locale {self.locale!r} is not a Faker locale (e.g. en_US, en_GB, de_DE, fr_FR)"
            )
        _check_families(self.devices, "devices")
        if not any(weight > 0 for weight in self.devices.values()) or any(
            weight < 0 for weight in self.devices.values()
        ):
            raise ValueError("devices weights must be >= 0 with at least one > 0")
        return self


class Offline(_Section):
    """Viewings watched on a downloaded copy, without a network: the player records the whole
    session and sends it, in one request, once the device is back online (the MCA's
    `/api/v1/downloaded`, the Media Edge API's `/ee/va/v1/downloaded`)."""

    share: Share = Field(
        default=0.0,
        description="share of on-demand viewings on the families below that are watched offline",
    )
    families: tuple[str, ...] = Field(
        default=("ios", "android"),
        description="device families whose apps can download (phones and tablets)",
    )
    delay_minutes: Distribution = Field(
        # No published figure for how long a downloaded viewing waits for a network: our
        # assumption, a commute to a long flight (median 2 h, a day at most).
        default_factory=lambda: LogNormal(
            distribution="lognormal", median=120, sigma=1.0, min=1, max=1440
        ),
        description="minutes from a downloaded viewing's end to its device being back online",
    )

    @model_validator(mode="after")
    def _known_families(self) -> Self:
        _check_families(self.families, "offline.families")
        _within(self.delay_minutes, "delay_minutes", 0, 7 * 1440)
        return self


_CUSTOM_KEY = r"^[a-zA-Z0-9_][a-zA-Z0-9_.]{0,99}$"


class CustomField(_Section):
    """One customMetadata key of sessionStart: its values, their weights, and what fixes it."""

    values: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        min_length=1, description="the values it takes"
    )
    weights: list[Annotated[float, Field(ge=0, le=1e9)]] | None = Field(
        default=None, description="relative weight of each value (default: all alike)"
    )
    per: Literal["session", "viewer", "title"] = Field(
        default="session",
        description="drawn for each session, once per viewer (a subscription tier: per "
        "account, or per device for someone not signed in), or once per title (a rights window)",
    )
    signed_out: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="the value for a viewer who is not signed in (default: drawn as for others)",
    )

    @model_validator(mode="after")
    def _weights_match(self) -> Self:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"{len(self.weights)} weights for {len(self.values)} values: give one each"
                )
            if not any(self.weights):
                raise ValueError("weights cannot all be 0")
        return self


class Arrivals(_Section):
    """When this audience arrives: its daily and weekly curve, in its own time zone."""

    hourly: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [1.0] * 24,
        min_length=24,
        max_length=24,
        description="24 multipliers, local midnight first; only their proportions matter",
    )
    weekly: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [1.0] * 7,
        min_length=7,
        max_length=7,
        description="7 multipliers, Monday first; only their proportions matter",
    )
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. America/New_York")
    regions: dict[str, Annotated[float, Field(ge=0, le=1e9)]] = Field(
        default_factory=dict,
        description="an audience spread over time zones: zone = share, each region on the curve "
        "in its own local time (empty: everyone in `timezone`)",
    )

    @field_validator("timezone")
    @classmethod
    def _a_zone(cls, value: str) -> str:
        Shape(timezone=value)  # raises ValueError naming the zone
        return value

    @model_validator(mode="after")
    def _a_shape(self) -> Self:
        self.shape()  # raises ValueError with the reason
        return self

    def shape(self) -> Shape:
        return Shape(
            hourly=tuple(self.hourly),
            weekly=tuple(self.weekly),
            timezone=self.timezone,
            regions=tuple(self.regions.items()),
        )

    def zones(self) -> tuple[tuple[str, float], ...]:
        """Where the audience lives: (time zone, share) pairs."""
        return tuple(self.regions.items()) or ((self.timezone, 1.0),)


class Timing(_Section):
    """How a real player's clock falls off the nominal instants.

    A player's ping timer runs on a busy main thread and fires a little late, each tick by its
    own amount; events a player sends together leave some milliseconds apart, not exactly one;
    a viewer who may skip an ad presses the button a moment after it appears. `exact` turns all
    of it off: pings on the 10 s grid from sessionStart, events sent together 1 ms apart, skips
    the moment they are allowed (what scripts use, so Adobe's timelines stay exact).
    """

    exact: bool = Field(
        default=False,
        description="every event on its nominal instant (scripts, and tests that want the grid)",
    )
    # REALISM-SOURCES.md 5: no measured distribution of foreground timer lateness exists;
    # assumption (ours, from the same row): 0-20 ms late typical (main-thread work), a tail
    # of 100 ms and more on busy pages and native TV SDKs. Capped below a second, so that no
    # two pings are more than a second further apart than the interval.
    ping_late_ms: Distribution = Field(
        default_factory=lambda: LogNormal(distribution="lognormal", median=12, sigma=1.1, max=900),
        description="how late each tick of the ping timer fires, milliseconds (at most 999)",
    )
    # Assumption (ours): the SDK's work between two calls (building and queueing a request) on
    # a device's main thread; a few milliseconds, rarely tens. However many events go together,
    # none is stamped more than 60 ms after the moment whose playhead it carries.
    burst_gap_ms: Distribution = Field(
        default_factory=lambda: LogNormal(
            distribution="lognormal", median=4, sigma=0.8, min=1, max=40
        ),
        description="milliseconds between events a player sends at one moment (at least 1)",
    )
    # REALISM-SOURCES.md 5 (IPG Media Lab, secondary): skippable pre-rolls are skipped on
    # average 5.5 s into a 15 s ad and 7.4 s into a 30 s ad, skip allowed at 5 s: most skips
    # come 0.5-2.5 s after the button appears. Median 1.2 s, and a tail.
    skip_reaction_seconds: Distribution = Field(
        default_factory=lambda: LogNormal(
            distribution="lognormal", median=1.2, sigma=0.6, min=0.2, max=20
        ),
        description="how long after an ad may be skipped the viewer skips it",
    )

    @field_validator("ping_late_ms")
    @classmethod
    def _under_a_second(cls, value: Distribution) -> Distribution:
        if value.max is None or value.max >= 1000:
            raise ValueError(
                "set a max below 1000: a ping timer more than a second late would leave a gap "
                "the back end counts as a missed ping"
            )
        return value

    @field_validator("burst_gap_ms")
    @classmethod
    def _at_least_a_millisecond(cls, value: Distribution) -> Distribution:
        if value.min is None or value.min < 1:
            raise ValueError("set a min of at least 1: events sent together stay in order")
        return value


class Profile(_Section):
    """A whole profile: one kind of content and the audience that watches it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    analytics: Analytics = Field(default_factory=Analytics)
    content: Content
    viewing: Viewing
    ads: Ads = Field(default_factory=Ads)
    qoe: Qoe = Field(default_factory=Qoe)
    states: PlayerStates = Field(default_factory=PlayerStates)
    audience: Audience = Field(default_factory=Audience)
    arrivals: Arrivals = Field(default_factory=Arrivals)
    timing: Timing = Field(default_factory=Timing)
    offline: Offline = Field(default_factory=Offline)
    custom_metadata: dict[Annotated[str, Field(pattern=_CUSTOM_KEY)], CustomField] = Field(
        default_factory=dict,
        description="sessionStart customMetadata: key = {values, weights, per}; the device's "
        "model, OS and app version are always sent",
    )

    @field_validator("custom_metadata")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, CustomField]) -> dict[str, CustomField]:
        for key in value:
            if key.startswith(("a.", "media.")):
                raise ValueError(
                    f"key {key!r}: 'a.' is reserved by Analytics and 'media.' by the MCA"
                )
            if key in DEVICE_KEYS:
                raise ValueError(
                    f"key {key!r} is the device's own (playersim sends it from the device)"
                )
        return value

    @model_validator(mode="after")
    def _completion_only_on_demand(self) -> Self:
        if self.content.live and self.viewing.completion_rate is not None:
            raise ValueError(
                "viewing.completion_rate applies to on-demand content only: live content "
                f"({self.content.content_type!r}) has no end to complete"
            )
        if self.content.live and self.offline.share:
            raise ValueError(
                "offline.share applies to on-demand content only: live content "
                f"({self.content.content_type!r}) cannot be downloaded"
            )
        if not self.content.live and self.viewing.completion_rate is None:
            raise ValueError(
                "viewing.completion_rate is required for on-demand content "
                f"({self.content.content_type!r})"
            )
        return self


# --- loading ----------------------------------------------------------------------------------


def bundled_profiles() -> dict[str, Path]:
    """The profiles that ship with playersim, by name."""
    return {path.stem: path for path in sorted(_bundled_dir().glob("*.toml"))}


@cache
def _bundled_dir() -> Path:
    installed = resources.files("playersim") / "profiles"
    if installed.is_dir():
        return Path(str(installed))
    # An editable install or a source checkout: the profiles sit beside the package.
    return Path(__file__).resolve().parents[2] / "profiles"


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a bundled profile by name (`"vod-movie"`) or any profile file by path.

    A profile file may build on another: `extends = "vod-movie"` (a bundled name, or a path
    relative to the file) takes every section of that profile, with the keys this file sets in
    a section replacing the base's (a key's value, table or list, replaced whole).
    """
    text = str(name_or_path)
    path = _locate(text)
    data = _read_with_bases(path, ())
    # A file's name is its default profile name, with anything a name may not hold made a dash.
    data.setdefault("name", re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-") or "profile")
    return profile_from_dict(data, source=str(path))


def _locate(text: str, relative_to: Path | None = None) -> Path:
    """The file a profile name or path means: a bare name is a bundled profile; a path says so
    with .toml or a directory part (relative to `relative_to`, for an `extends`)."""
    path = Path(text)
    if not (path.suffix == ".toml" or "/" in text or "\\" in text):
        known = bundled_profiles()
        if text not in known:
            raise ProfileError(
                text, [f"no bundled profile of that name (bundled: {', '.join(known) or 'none'})"]
            )
        return known[text]
    if relative_to is not None and not path.is_absolute():
        return relative_to / path
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProfileError(
            str(path), [f"not UTF-8 text: {exc.reason} at byte {exc.start}"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), [f"not valid TOML: {exc}"]) from None


def _read_with_bases(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The profile file's data over that of the profile it extends (and so on down)."""
    data = _read(path)
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base.strip():
        raise ProfileError(
            str(path), [f"extends: a bundled profile's name or a file's path (got {base!r})"]
        )
    try:
        base_path = _locate(base, relative_to=path.parent)
    except ProfileError as exc:
        raise ProfileError(str(path), [f"extends: {base!r}: {exc.problems[0]}"]) from None
    here = path.resolve()
    if base_path.resolve() in (*chain, here):
        raise ProfileError(
            str(path), [f"extends: {base!r} leads back to this profile (profiles extend in a line)"]
        )
    if len(chain) >= _MAX_EXTENDS:
        raise ProfileError(str(path), [f"extends: more than {_MAX_EXTENDS} profiles deep"])
    try:
        inherited = _read_with_bases(base_path, (*chain, here))
    except ProfileError as exc:
        if exc.source == str(base_path) or exc.source == base:
            raise ProfileError(
                str(path), [f"extends: {base!r}: {problem}" for problem in exc.problems]
            ) from None
        raise
    inherited.pop("name", None)  # a profile's name is its own (or its file's)
    merged = dict(inherited)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}  # a section: key by key
        else:
            merged[key] = value
    return merged


_MAX_EXTENDS: Final = 16


def profile_from_dict(data: dict[str, Any], *, source: str = "<profile>") -> Profile:
    """Validate a profile given as a dict (as parsed from TOML)."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(
            source, [_describe(error) for error in exc.errors(include_url=False)]
        ) from None


_DISTRIBUTION_TAGS = frozenset({"fixed", "uniform", "normal", "lognormal", "exponential", "choice"})


def _describe(error: Any) -> str:
    # Discriminated unions put the chosen tag in the location; a user never wrote it there.
    loc = [str(part) for part in error["loc"] if str(part) not in _DISTRIBUTION_TAGS]
    where = ".".join(loc) or "profile"
    kind = error["type"]
    if kind == "missing":
        return f"{where}: required"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "union_tag_invalid":
        tags = ", ".join(sorted(_DISTRIBUTION_TAGS))
        return f"{where}.distribution: {error['input'].get('distribution')!r} is not one of {tags}"
    if kind == "union_tag_not_found":
        kinds = ", ".join(sorted(_DISTRIBUTION_TAGS))
        return f"{where}: needs a 'distribution' key ({kinds})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), dict):
        # A rule about a whole section (or the whole profile): the message names the fields.
        return message if where == "profile" else f"{where}: {message}"
    return f"{where}: {message} (got {error['input']!r})"


def parse_weighted(given: str) -> tuple[str, float]:
    """`NAME_OR_PATH[:WEIGHT]` as the command lines take a profile: the name or path, and the
    weight (1 if none). A path may hold colons (`C:\\x.toml`); a weight is a number >= 0.
    ValueError says what is wrong.

    >>> parse_weighted("vod-episode:3")
    ('vod-episode', 3.0)
    >>> parse_weighted("C:/profiles/mine.toml")
    ('C:/profiles/mine.toml', 1.0)
    """
    name, colon, tail = given.rpartition(":")
    if not colon:
        return given, 1.0
    try:
        weight = float(tail)
    except ValueError:
        if any(mark in tail for mark in "/\\.") or not name:
            return given, 1.0  # not a weight: part of the path (`C:\\x.toml`, `a:b.toml`)
        raise ValueError(f"{given!r}: the weight {tail!r} is not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"{given!r}: the weight must be a number >= 0")
    return name, weight
