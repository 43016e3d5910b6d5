"""Scripted sessions: a viewing written as a timeline of actions, replayed exactly.

A script is how a bug report from an analytics pipeline becomes a test: "pre-roll of two ads,
play, buffer 3 s at 33 s, pause at playhead 31, complete". It is a TOML file (or the same data
as a dict) validated like a profile, with every mistake reported by file, field and value:

```toml
timeline = [
  { at = 0,  do = "adBreak", ads = [15, 7] },
  { at = 22, do = "play" },
  { at = 33, do = "buffer", for = 3 },
  { playhead = 31, do = "pause", for = 10 },
  { at = 88, do = "complete" },
]

[session]
profile = "vod-movie"   # routing, device and metadata come from this profile
length = 60.33          # media.length of the scripted content
granular_ad_tracking = true
```

`at` is seconds since the sessionStart (which is always at 0); `playhead` instead waits until
playing content reaches that second. `for` on `pause` and `buffer` adds the `play` that ends
them. The player still does all the mechanics (pings, ad lengths, chapters, `ts`, playheads),
and refuses steps the state machine forbids, naming the step.

A script can also write what a documented session carries that a profile would choose itself:
the sessionStart's params and customMetadata, a pod's friendly name, every ad field, a chapter's
customMetadata and a chapter reported late, the qoeData of a `play`, an `error` with no qoeData
or one that stops playback, and a `sessionEnd` after `sessionComplete`. Adobe's three MCA
timelines are written so in `examples/scripts/`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from playersim.audience.catalog import AdCreative, Chapter, Title
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import Profile, load_profile
from playersim.errors import ProfileError, ScriptError
from playersim.mca.states import State
from playersim.mca.wire import (
    SESSION_START_KEYS,
    CustomMetadata,
    QoeData,
    SessionStartParams,
    json_seconds,
)
from playersim.sim.behaviour import (
    Action,
    AdPlay,
    BitrateChange,
    Buffer,
    Complete,
    Decision,
    Leave,
    Pause,
    Play,
    PlayerError,
    PodKind,
    Seek,
    SessionView,
    StartAdBreak,
    StateChange,
)
from playersim.sim.player import Player

__all__ = ["Script", "ScriptedBehaviour", "load_script", "script_from_dict"]

Verb = Literal[
    "play", "pause", "buffer", "seek", "adBreak", "bitrate", "error", "stateStart", "stateEnd",
    "states", "complete", "end",
]  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


_WEEK = 7 * 86_400.0  # no step, length or pause in a script goes past a week
StateName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.]{1,64}$")]
# The standard metadata a script may add to its sessionStart (MCA-SPEC.md section 3); routing,
# ids and the content's own params come from the profile and the [session] table.
_METADATA_KEYS = frozenset(
    {
        "media.show", "media.season", "media.episode", "media.assetId", "media.genre",
        "media.firstAirDate", "media.firstDigitalDate", "media.rating", "media.originator",
        "media.network", "media.showType", "media.streamFormat", "media.adLoad",
        "media.pass.mvpd", "media.pass.auth", "media.dayPart", "media.feed", "media.artist",
        "media.album", "media.label", "media.author", "media.station", "media.publisher",
    }
)  # fmt: skip


def _not_media(custom: dict[str, str]) -> dict[str, str]:
    # The wire refuses keys of Analytics' own (`a.`); MCA-SPEC.md section 2 also says keys
    # "should not start with media.", and the conformance report flags them: a script, which
    # writes a documented session, may not.
    reserved = sorted(key for key in custom if key.startswith("media."))
    if reserved:
        raise ValueError(f"key {reserved[0]!r} starts with 'media.', the standard keys' prefix")
    return custom


# customMetadata as a script writes it: a table of strings (MCA-SPEC.md section 2).
Custom = Annotated[CustomMetadata, AfterValidator(_not_media)]

# The required sessionStart params: always sent, from the profile unless the script writes them.
_REQUIRED_START_KEYS = frozenset(
    str(info.alias) for info in SessionStartParams.model_fields.values() if info.is_required()
)


class ScriptAd(_Model):
    """An ad of a scripted pod; a bare number in `ads` is its length. Each field is the
    `media.ad.*` param of its adStart of the same name (`player_name`: `media.ad.playerName`)."""

    length: float = Field(ge=1, le=3600, description="seconds")
    id: str | None = None
    name: str | None = None
    advertiser: str | None = None
    campaign_id: str | None = None
    creative_id: str | None = None
    site_id: str | None = None
    creative_url: str | None = None
    placement_id: str | None = None
    player_name: str | None = Field(
        default=None, min_length=1, description="the session's player unless given"
    )
    skip_after: float | None = Field(default=None, ge=0, description="the viewer skips it then")
    custom: Custom = Field(default_factory=dict, description="customMetadata of its adStart")


def _ad_table(value: Any) -> Any:
    """An ad written as a bare number is the table of its length."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"length": value}
    return value


def _chapter_table(value: Any) -> Any:
    """A chapter written `[offset, length, name]` is the table of those three fields."""
    if isinstance(value, list | tuple):
        if len(value) != 3:
            raise ValueError(
                "a chapter is [offset, length, name], or a table { offset, length, name, ... }"
            )
        return dict(zip(("offset", "length", "name"), value, strict=True))
    return value


class ScriptChapter(_Model):
    """A chapter of the scripted content: `[offset, length, name]`, or a table that can also
    say where its chapterStart is sent and what customMetadata it carries."""

    offset: float = Field(ge=0, le=_WEEK, description="seconds")
    length: float = Field(ge=0, le=_WEEK, description="seconds")
    name: str
    start_playhead: float | None = Field(
        default=None,
        ge=0,
        le=_WEEK,
        description="the playhead its chapterStart is sent at, if later than its offset",
    )
    custom: Custom = Field(default_factory=dict, description="customMetadata of its chapterStart")


# Where customMetadata may go (MCA-SPEC.md section 2), for the step that tries elsewhere.
_CUSTOM_WHERE = (
    "customMetadata is carried only by sessionStart ([session] custom), adStart (an ad's "
    "`custom`) and chapterStart (a chapter's `custom`)"
)


class Step(_Model):
    """One action of the timeline."""

    do: Verb
    at: float | None = Field(default=None, ge=0, le=_WEEK, description="seconds since start")
    playhead: float | None = Field(default=None, ge=0, le=_WEEK, description="when reached")
    for_: float | None = Field(
        default=None, alias="for", gt=0, le=_WEEK, description="pause/buffer length"
    )
    to: float | None = Field(default=None, ge=0, le=_WEEK, description="seek: the new playhead")
    ads: list[Annotated[ScriptAd, BeforeValidator(_ad_table)]] | None = Field(
        default=None, min_length=1
    )
    bitrate: int | None = Field(default=None, gt=0)
    id: str | None = Field(default=None, description="error: media.qoe.errorID (none: no qoeData)")
    source: Literal["player", "external"] | None = Field(
        default=None, description="error: media.qoe.errorSource (player unless given)"
    )
    stops_playback: bool = Field(
        default=False, description="error: the playhead holds until the next play"
    )
    qoe: QoeData | None = Field(default=None, description="play: its qoeData, as written")
    pod_name: str | None = Field(
        default=None, min_length=1, description="adBreak: media.ad.podFriendlyName"
    )
    # Only so that a step's `custom` is refused saying where customMetadata does go.
    custom: dict[str, Any] | None = Field(default=None, description="not on a step")
    name: StateName | None = Field(default=None, description="stateStart/stateEnd: the state")
    start: list[StateName] = Field(default_factory=list, description="states: states that start")
    end: list[StateName] = Field(default_factory=list, description="states: states that end")

    @model_validator(mode="after")
    def _complete_for_its_verb(self) -> Self:
        if (self.at is None) == (self.playhead is None):
            raise ValueError(f"{self.do}: give exactly one of `at` or `playhead`")
        if self.custom is not None:
            raise ValueError(f"`custom` does not apply to {self.do}: {_CUSTOM_WHERE}")
        needs = {
            "seek": ("to", self.to),
            "adBreak": ("ads", self.ads),
            "bitrate": ("bitrate", self.bitrate),
            "stateStart": ("name", self.name),
            "stateEnd": ("name", self.name),
        }
        if self.do in needs and needs[self.do][1] is None:
            raise ValueError(f"{self.do} needs `{needs[self.do][0]}`")
        if self.for_ is not None and self.do not in ("pause", "buffer"):
            raise ValueError(f"`for` applies to pause and buffer, not {self.do}")
        if self.do == "states" and not (self.start or self.end):
            raise ValueError("states needs `start` and/or `end`")
        if self.do == "states" and set(self.start) & set(self.end):
            raise ValueError("states: a state cannot both start and end at once")
        if self.source is not None and self.id is None and self.do == "error":
            raise ValueError("error: `source` needs `id` (they are sent together, as qoeData)")
        stray = [
            name
            for name, value, wanted in (
                ("to", self.to, self.do == "seek"),
                ("ads", self.ads, self.do == "adBreak"),
                ("bitrate", self.bitrate, self.do == "bitrate"),
                ("id", self.id, self.do == "error"),
                ("source", self.source, self.do == "error"),
                ("stops_playback", self.stops_playback or None, self.do == "error"),
                ("qoe", self.qoe, self.do == "play"),
                ("pod_name", self.pod_name, self.do == "adBreak"),
                ("name", self.name, self.do in ("stateStart", "stateEnd")),
                ("start", self.start or None, self.do == "states"),
                ("end", self.end or None, self.do == "states"),
            )
            if value is not None and not wanted
        ]
        if stray:
            raise ValueError(f"`{stray[0]}` does not apply to {self.do}")
        return self


class ScriptSession(_Model):
    """The content and player the script runs on."""

    profile: str = Field(default="vod-movie", min_length=1, description="bundled name or path")
    content_type: str | None = Field(
        default=None, min_length=1, description="overrides the profile's"
    )
    length: float | None = Field(default=None, ge=1, le=_WEEK, description="media.length, s")
    media_id: str = Field(default="scripted-content", min_length=1)
    name: str = Field(default="Scripted content", min_length=1)
    granular_ad_tracking: bool | None = None
    downloaded_after: float | None = Field(
        default=None,
        ge=0,
        le=_WEEK,
        description="watched offline: the whole session goes, in one request (the API's "
        "downloaded endpoint), this many seconds after it ends",
    )
    chapters: list[Annotated[ScriptChapter, BeforeValidator(_chapter_table)]] = Field(
        default_factory=list, description="[offset, length, name] of each chapter, in seconds"
    )
    states: list[StateName] = Field(
        default_factory=list, max_length=10, description="player states on at the start"
    )
    metadata: dict[str, str] = Field(default_factory=dict, description="extra sessionStart params")
    # sessionStart params as written, over the profile's and the viewer's.
    player_name: str | None = Field(default=None, min_length=1, description="media.playerName")
    channel: str | None = Field(default=None, min_length=1, description="media.channel")
    sdk_version: str | None = Field(default=None, description="media.sdkVersion")
    visitor_id: str | None = Field(default=None, description="analytics.visitorId")
    enable_ssl: bool | None = Field(default=None, description="analytics.enableSSL")
    custom: Custom = Field(default_factory=dict, description="customMetadata of its sessionStart")
    only_written_params: bool = Field(
        default=False,
        description="the sessionStart carries only the params MCA requires and those written here",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        unknown = sorted(set(self.metadata) - _METADATA_KEYS)
        if unknown:
            raise ValueError(
                f"metadata: {unknown[0]!r} is not a standard metadata key (e.g. media.show)"
            )
        end = 0.0
        for index, chapter in enumerate(self.chapters):
            offset, span = chapter.offset, chapter.length
            if offset < end or span <= 0:
                raise ValueError(
                    f"chapters[{index}]: [{offset:g}, {span:g}] overlaps the previous chapter "
                    "or has no length"
                )
            end = offset + span
            if self.length is not None and end > self.length:
                raise ValueError(
                    f"chapters[{index}] ends at {end:g} s, after length {self.length:g}"
                )
            start = chapter.start_playhead
            if start is not None and not offset <= start < end:
                # Earlier than its offset, the chapter would start before it begins (the
                # conformance report's rule); at its end or later, it would never start.
                raise ValueError(
                    f"chapters[{index}]: start_playhead {start:g} is not inside the chapter "
                    f"[{offset:g}, {end:g})"
                )
        return self

    def start_params(self, length: float) -> dict[str, Any]:
        """The sessionStart params as written (None: a key left out), for `Title.start_params`."""
        written = {
            "media.playerName": self.player_name,
            "media.channel": self.channel,
            "media.sdkVersion": self.sdk_version,
            "analytics.visitorId": self.visitor_id,
            "analytics.enableSSL": self.enable_ssl,
        }
        params: dict[str, Any] = {key: value for key, value in written.items() if value is not None}
        if json_seconds(round(length * 1000)) != length:
            # A length finer than the millisecond (Adobe's 60.3333333333333) is sent as written.
            params["media.length"] = length
        if self.only_written_params:
            keep = _REQUIRED_START_KEYS | {"media.name", "media.resume", *params, *self.metadata}
            params.update({key: None for key in SESSION_START_KEYS if key not in keep})
        return params


class Script(_Model):
    """A scripted viewing: the session it runs on and its timeline."""

    timeline: list[Step] = Field(min_length=1)
    session: ScriptSession = Field(default_factory=ScriptSession)
    _source: str = PrivateAttr(default="<script>")

    @property
    def source(self) -> str:
        """Where the script came from (a file path), for messages."""
        return self._source

    def profile(self) -> Profile:
        """The profile the session runs on, with the script's overrides applied."""
        try:
            profile = load_profile(self.session.profile)
        except ProfileError as exc:
            raise ScriptError(self.source, [f"session.profile: {exc}"]) from None
        content = profile.content
        if self.session.content_type is not None:
            content = content.model_copy(update={"content_type": self.session.content_type})
        ads = profile.ads
        if self.session.granular_ad_tracking is not None:
            ads = ads.model_copy(update={"granular_tracking": self.session.granular_ad_tracking})
        # Exact timing: the instants the script writes are the instants sent (Adobe's
        # timelines, to the millisecond).
        timing = profile.timing.model_copy(update={"exact": True})
        return profile.model_copy(update={"content": content, "ads": ads, "timing": timing})

    def player(self, *, seed: int | str = 0, start_at: Any = None, index: int = 0) -> Player:
        """A player that performs this script (its visitor and device come from the seed)."""
        profile = self.profile()
        pool = MetadataPool.build(profile)
        length = self.session.length
        if length is None:
            if not profile.content.live:
                raise ScriptError(self.source, ["session.length: required for on-demand content"])
            length = 86_400.0
        chapters = tuple(
            Chapter(
                i,
                round(chapter.offset * 1000),
                round(chapter.length * 1000),
                chapter.name,
                None if chapter.start_playhead is None else round(chapter.start_playhead * 1000),
                dict(chapter.custom),
            )
            for i, chapter in enumerate(self.session.chapters, start=1)
        )
        title = Title(
            self.session.media_id,
            self.session.name,
            length,
            dict(self.session.metadata),
            chapters,
            start_params=self.session.start_params(length),
            custom=dict(self.session.custom),
        )
        player = Player(
            profile,
            seed=seed,
            index=index,
            start_at=start_at,
            metadata=pool,
            title=title,
            behaviour=ScriptedBehaviour(self, bitrate=profile.qoe.bitrates[0]),
        )
        # A script's sessionStart carries the customMetadata it writes, and nothing else.
        player.describes_device = False
        # Online unless the script says otherwise, whatever its profile's offline share.
        after = self.session.downloaded_after
        player.offline_delay_ms = None if after is None else round(after * 1000)
        return player


def script_from_dict(data: dict[str, Any], *, source: str = "<script>") -> Script:
    """Validate a script given as a dict (as parsed from TOML)."""
    try:
        script = Script.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = _where(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                problems.append(f"{where}: required")
            elif error["type"] == "extra_forbidden":
                problems.append(f"{where}: unknown field")
            elif isinstance(error.get("input"), dict):
                problems.append(f"{where}: {message}")
            else:
                problems.append(f"{where}: {message} (got {error['input']!r})")
        raise ScriptError(source, problems) from None
    script._source = source
    return script


def _where(loc: tuple[int | str, ...]) -> str:
    """A location as a person writes it: `timeline[2].at`, `session.chapters[1]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "script"


def load_script(path: str | Path) -> Script:
    """Load a script from a TOML file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(str(path), [f"cannot read the file: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(str(path), [f"not valid TOML: {exc}"]) from None
    return script_from_dict(data, source=str(path))


class ScriptedBehaviour:
    """Plays a script's timeline step by step: the behaviour of a scripted session."""

    def __init__(self, script: Script, *, bitrate: int) -> None:
        self.script = script
        self._bitrate = bitrate
        self._steps = self._expand(script.timeline)
        self._cursor = 0
        self._ad_number = 0
        self._acted_at = 0  # when the last step was carried out

    @staticmethod
    def _expand(timeline: list[Step]) -> list[tuple[int, Step, int | None]]:
        """Each step with its number (for messages) and the delay of a generated `play`."""
        steps: list[tuple[int, Step, int | None]] = []
        for number, step in enumerate(timeline):
            steps.append((number, step, None))
            if step.for_ is not None:
                steps.append((number, Step(do="play", at=0), round(step.for_ * 1000)))
        return steps

    def _fail(self, number: int, message: str) -> ScriptError:
        return ScriptError(
            self.script.source,
            [f"timeline[{number}] ({self.script.timeline[number].do}): {message}"],
        )

    def next(self, view: SessionView) -> Decision | None:
        if self._cursor >= len(self._steps):
            return None
        number, step, after = self._steps[self._cursor]
        if after is not None:
            at = self._acted_at + after  # the `play` that ends a pause or buffer `for` a while
        elif step.at is not None:
            at = view.started_at + round(step.at * 1000)
        else:
            assert step.playhead is not None
            target = round(step.playhead * 1000)
            if not (view.state.playhead_advances and view.viewer is State.PLAYING):
                # Waits until content plays again (asked after every change): after a pause,
                # an ad break, or an error that stopped playback.
                return None
            if target < view.playhead_ms:
                raise self._fail(
                    number,
                    f"playhead {step.playhead:g} has already passed ({view.playhead_ms / 1000:g})",
                )
            at = view.now + (target - view.playhead_ms)
        if at < view.now:
            raise self._fail(
                number,
                f"at {step.at:g} s is before the previous step "
                f"({(view.now - view.started_at) / 1000:g} s)",
            )
        return Decision(at, self._action(step, last=self._cursor + 1 == len(self._steps)))

    def acted(self, decision: Decision, view: SessionView) -> None:
        self._cursor += 1
        self._acted_at = decision.at

    def current(self) -> str:
        """The step being carried out (or next), as `timeline[i] (do)`, for messages."""
        if self._cursor >= len(self._steps):
            return "after the last step"
        number = self._steps[self._cursor][0]
        return f"timeline[{number}] ({self.script.timeline[number].do})"

    def unplayed(self) -> list[str]:
        """The steps that never ran (the session ended first), as `timeline[i] (do)`."""
        numbers = sorted({number for number, _, _ in self._steps[self._cursor :]})
        return [f"timeline[{n}] ({self.script.timeline[n].do})" for n in numbers]

    def pod(self, kind: PodKind, view: SessionView) -> tuple[AdPlay, ...]:
        return ()  # a script's ad breaks are its own steps

    def initial_states(self) -> tuple[str, ...]:
        return tuple(self.script.session.states)

    def start_position_ms(self) -> int:
        return 0  # a script's content starts at its beginning

    def initial_bitrate(self) -> int:
        return self._bitrate

    def _action(self, step: Step, *, last: bool) -> Action:
        match step.do:
            case "play":
                if step.qoe is None:
                    return Play()
                return Play(step.qoe.model_dump(by_alias=True, exclude_none=True))
            case "pause":
                return Pause()
            case "buffer":
                return Buffer()
            case "seek":
                assert step.to is not None
                return Seek(round(step.to * 1000))
            case "adBreak":
                assert step.ads is not None
                return StartAdBreak(tuple(self._ad(ad) for ad in step.ads), step.pod_name)
            case "bitrate":
                assert step.bitrate is not None
                return BitrateChange(step.bitrate)
            case "error":
                return PlayerError(
                    step.id, step.source or "player", stops_playback=step.stops_playback
                )
            case "stateStart":
                assert step.name is not None
                return StateChange(start=(step.name,))
            case "stateEnd":
                assert step.name is not None
                return StateChange(end=(step.name,))
            case "states":
                return StateChange(start=tuple(step.start), end=tuple(step.end))
            case "complete":
                # A step after it (a sessionEnd) keeps the session open for it.
                return Complete(keeps_open=not last)
            case _:
                return Leave()

    def _ad(self, spec: ScriptAd) -> AdPlay:
        self._ad_number += 1
        written = {
            # The player who renders the ad is the session's, as written, unless the ad says.
            "media.ad.playerName": spec.player_name or self.script.session.player_name,
            "media.ad.name": spec.name,
            "media.ad.advertiser": spec.advertiser,
            "media.ad.campaignId": spec.campaign_id,
            "media.ad.creativeId": spec.creative_id,
            "media.ad.siteId": spec.site_id,
            "media.ad.creativeURL": spec.creative_url,
            "media.ad.placementId": spec.placement_id,
        }
        params = {key: value for key, value in written.items() if value}
        creative = AdCreative(
            spec.id or f"ad-{self._ad_number}",
            round(spec.length * 1000),
            params,
            custom=dict(spec.custom),
        )
        skip = None if spec.skip_after is None else round(spec.skip_after * 1000)
        return AdPlay(creative, skip)
