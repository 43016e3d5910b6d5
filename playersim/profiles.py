"""Profiles: what kind of content a simulated audience watches, and how it behaves.

A profile is a TOML file (see `profiles/` at the top of the repository, installed inside the
package). It is validated by the pydantic models below; any mistake is reported as a
`ProfileError` naming the file, the field and the value, never as a traceback. Unknown keys are
errors too: a misspelt `completion_rat` must not silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from playersim.devices import DEVICES
from playersim.distributions import Distribution, Fixed
from playersim.errors import ProfileError

__all__ = [
    "LIVE_CONTENT_TYPES",
    "Analytics",
    "Audience",
    "Content",
    "Profile",
    "Viewing",
    "bundled_profiles",
    "load_profile",
    "profile_from_dict",
]

# Content whose playhead is the second of the UTC day rather than a position in the content
# (MCA-SPEC.md section 4). "linear" is a scheduled channel: live for this purpose.
LIVE_CONTENT_TYPES = frozenset({"live", "linear", "radio"})
_DAY_SECONDS = 86_400.0


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Analytics(_Section):
    """Where the data is routed: the sessionStart `analytics.*` and `visitor.*` routing params."""

    tracking_server: str = Field(
        default="playersim.sc.omtrdc.net", min_length=1, description="analytics.trackingServer"
    )
    report_suite: str = Field(
        default="playersim-demo", min_length=1, description="analytics.reportSuite"
    )
    org_id: str = Field(
        default="0123456789ABCDEF01234567@AdobeOrg",
        pattern=r"^[0-9A-F]{24}@AdobeOrg$",
        description="visitor.marketingCloudOrgId: 24 upper-case hex digits then @AdobeOrg",
    )
    enable_ssl: bool = Field(default=True, description="analytics.enableSSL")


class Content(_Section):
    """What is watched: the kind of title, its MCA content type and length."""

    kind: Literal["movie", "episode", "live"] = Field(
        description="which metadata to generate: a film, an episode of a series, a live channel"
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
        return self

    @property
    def length(self) -> Distribution:
        return self.length_seconds or Fixed(distribution="fixed", value=_DAY_SECONDS)


class Viewing(_Section):
    """How viewers behave: start-up time, and how long they stay."""

    startup_seconds: Distribution = Field(
        description="time from sessionStart to the first frame (media.qoe.timeToStart)"
    )
    completion_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="on-demand only: the share of sessions watched to the end (sessionComplete)",
    )
    watch_seconds: Distribution = Field(
        description="on-demand: how long viewers who leave early watch; "
        "live: how long viewers stay before sessionEnd"
    )


class Audience(_Section):
    """Who watches: the size of the visitor pool and the devices they use."""

    visitors: int = Field(default=500, ge=1, le=1_000_000, description="distinct visitors per run")
    devices: dict[str, float] = Field(
        default_factory=lambda: {"web": 3.0, "ios": 2.0, "android": 2.0, "roku": 1.0, "tvos": 1.0},
        description="relative weight of each device family (web, ios, android, roku, tvos, firetv)",
    )
    locale: str = Field(default="en_US", description="Faker locale for names and titles")

    @model_validator(mode="after")
    def _known_devices(self) -> Self:
        unknown = sorted(set(self.devices) - set(DEVICES))
        if unknown:
            raise ValueError(
                f"unknown device {unknown[0]!r} in devices (known: {', '.join(DEVICES)})"
            )
        if not any(weight > 0 for weight in self.devices.values()) or any(
            weight < 0 for weight in self.devices.values()
        ):
            raise ValueError("devices weights must be >= 0 with at least one > 0")
        return self


class Profile(_Section):
    """A whole profile: one kind of content and the audience that watches it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    analytics: Analytics = Field(default_factory=Analytics)
    content: Content
    viewing: Viewing
    audience: Audience = Field(default_factory=Audience)

    @model_validator(mode="after")
    def _completion_only_on_demand(self) -> Self:
        if self.content.live and self.viewing.completion_rate is not None:
            raise ValueError(
                "viewing.completion_rate applies to on-demand content only: live content "
                f"({self.content.content_type!r}) has no end to complete"
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
    return Path(__file__).resolve().parent.parent / "profiles"


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a bundled profile by name (`"vod-movie"`) or any profile file by path."""
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix == ".toml" or path.exists() or "/" in text or "\\" in text):
        known = bundled_profiles()
        if text not in known:
            raise ProfileError(
                text, [f"no bundled profile of that name (bundled: {', '.join(known) or 'none'})"]
            )
        path = known[text]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProfileError(
            str(path), [f"not UTF-8 text: {exc.reason} at byte {exc.start}"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), [f"not valid TOML: {exc}"]) from None
    data.setdefault("name", path.stem)
    return profile_from_dict(data, source=str(path))


def profile_from_dict(data: dict[str, Any], *, source: str = "<profile>") -> Profile:
    """Validate a profile given as a dict (as parsed from TOML)."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(
            source, [_describe(error) for error in exc.errors(include_url=False)]
        ) from None


_DISTRIBUTION_TAGS = frozenset({"fixed", "uniform", "normal", "lognormal", "exponential"})


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
        return (
            f"{where}: needs a 'distribution' key (fixed, uniform, normal, lognormal, exponential)"
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), dict):
        # A rule about a whole section (or the whole profile): the message names the fields.
        return message if where == "profile" else f"{where}: {message}"
    return f"{where}: {message} (got {error['input']!r})"
