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
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from playersim.audience.catalog import AdCreative, Chapter, Title
from playersim.audience.metadata import MetadataPool
from playersim.audience.profiles import Profile, load_profile
from playersim.errors import ProfileError, ScriptError
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


class ScriptAd(_Model):
    """An ad of a scripted pod; a bare number in `ads` is its length."""

    length: float = Field(ge=1, le=3600, description="seconds")
    id: str | None = None
    name: str | None = None
    advertiser: str | None = None
    skip_after: float | None = Field(default=None, ge=0, description="the viewer skips it then")


class Step(_Model):
    """One action of the timeline."""

    do: Verb
    at: float | None = Field(default=None, ge=0, le=_WEEK, description="seconds since start")
    playhead: float | None = Field(default=None, ge=0, le=_WEEK, description="when reached")
    for_: float | None = Field(
        default=None, alias="for", gt=0, le=_WEEK, description="pause/buffer length"
    )
    to: float | None = Field(default=None, ge=0, le=_WEEK, description="seek: the new playhead")
    ads: list[float | ScriptAd] | None = Field(default=None, min_length=1)
    bitrate: int | None = Field(default=None, gt=0)
    id: str | None = Field(default=None, description="error: media.qoe.errorID")
    source: Literal["player", "external"] = "player"
    name: StateName | None = Field(default=None, description="stateStart/stateEnd: the state")
    start: list[StateName] = Field(default_factory=list, description="states: states that start")
    end: list[StateName] = Field(default_factory=list, description="states: states that end")

    @model_validator(mode="after")
    def _complete_for_its_verb(self) -> Self:
        if (self.at is None) == (self.playhead is None):
            raise ValueError(f"{self.do}: give exactly one of `at` or `playhead`")
        needs = {
            "seek": ("to", self.to),
            "adBreak": ("ads", self.ads),
            "bitrate": ("bitrate", self.bitrate),
            "error": ("id", self.id),
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
        stray = [
            name
            for name, value, wanted in (
                ("to", self.to, self.do == "seek"),
                ("ads", self.ads, self.do == "adBreak"),
                ("bitrate", self.bitrate, self.do == "bitrate"),
                ("id", self.id, self.do == "error"),
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
    chapters: list[tuple[float, float, str]] = Field(
        default_factory=list, description="[offset, length, name] of each chapter, in seconds"
    )
    states: list[StateName] = Field(
        default_factory=list, max_length=10, description="player states on at the start"
    )
    metadata: dict[str, str] = Field(default_factory=dict, description="extra sessionStart params")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        unknown = sorted(set(self.metadata) - _METADATA_KEYS)
        if unknown:
            raise ValueError(
                f"metadata: {unknown[0]!r} is not a standard metadata key (e.g. media.show)"
            )
        end = 0.0
        for index, (offset, span, _name) in enumerate(self.chapters):
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
        return self


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
            Chapter(i, round(offset * 1000), round(span * 1000), name)
            for i, (offset, span, name) in enumerate(self.session.chapters, start=1)
        )
        title = Title(
            self.session.media_id, self.session.name, length, dict(self.session.metadata), chapters
        )
        return Player(
            profile,
            seed=seed,
            index=index,
            start_at=start_at,
            metadata=pool,
            title=title,
            behaviour=ScriptedBehaviour(self, bitrate=profile.qoe.bitrates[0]),
        )


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
            if not view.state.playhead_advances:
                return None  # waits until content plays again (asked after every change)
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
        return Decision(at, self._action(step))

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

    def _action(self, step: Step) -> Action:
        match step.do:
            case "play":
                return Play()
            case "pause":
                return Pause()
            case "buffer":
                return Buffer()
            case "seek":
                assert step.to is not None
                return Seek(round(step.to * 1000))
            case "adBreak":
                assert step.ads is not None
                return StartAdBreak(tuple(self._ad(ad) for ad in step.ads))
            case "bitrate":
                assert step.bitrate is not None
                return BitrateChange(step.bitrate)
            case "error":
                assert step.id is not None
                return PlayerError(step.id, step.source)
            case "stateStart":
                assert step.name is not None
                return StateChange(start=(step.name,))
            case "stateEnd":
                assert step.name is not None
                return StateChange(end=(step.name,))
            case "states":
                return StateChange(start=tuple(step.start), end=tuple(step.end))
            case "complete":
                return Complete()
            case _:
                return Leave()

    def _ad(self, ad: float | ScriptAd) -> AdPlay:
        self._ad_number += 1
        spec = ad if isinstance(ad, ScriptAd) else ScriptAd(length=ad)
        params = {}
        if spec.name:
            params["media.ad.name"] = spec.name
        if spec.advertiser:
            params["media.ad.advertiser"] = spec.advertiser
        creative = AdCreative(spec.id or f"ad-{self._ad_number}", round(spec.length * 1000), params)
        skip = None if spec.skip_after is None else round(spec.skip_after * 1000)
        return AdPlay(creative, skip)
