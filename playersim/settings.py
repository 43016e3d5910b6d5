"""Your own Adobe settings, once: where a run's traffic is routed, for every profile of it.

A run sends to someone's Adobe setup: a tracking server, a report suite and an Experience Cloud
org (the Media Collection API routes each session by the three in its `sessionStart`), or, for
Adobe's Edge Network, a datastream. `AdobeSettings` holds them for a whole run: given to
`run(adobe=...)` (or `RunOptions.adobe`), they replace each profile's own `[analytics]` values
(the script's profile's too), so that a consultant writes them once instead of in every profile.

`AdobeSettings.load()` reads them the way `playersim run` does, each key from the first of these
that says it: the command line's flags (given to it as `flags`), the environment (`PLAYERSIM_*`,
for CI secrets), then a project file (`playersim.toml` in the directory, or else the
`[tool.playersim]` table of its `pyproject.toml`, or the file named by `config`). A run from
Python reads none of them unless asked: `run()` stays hermetic, the same inputs the same bytes.

Every value is checked as it is read, and a bad one is refused naming where it came from, the
key and the value (`SettingsError`):

>>> AdobeSettings.load(environ={"PLAYERSIM_ORG_ID": "abc"}, cwd="/nonexistent")
Traceback (most recent call last):
...
playersim.settings.SettingsError: PLAYERSIM_ORG_ID: 'abc' is not an Experience Cloud org id \
(24 upper-case hex digits then @AdobeOrg)
>>> from playersim import load_profile
>>> settings = AdobeSettings(report_suite="acme-demo", tracking_server="acme.sc.omtrdc.net")
>>> settings.apply(load_profile("vod-movie")).analytics.report_suite
'acme-demo'
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from playersim.audience.profiles import Profile
from playersim.errors import PlayersimError
from playersim.transports.http import check_base_url

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_EDGE_HOST",
    "ENV_PREFIX",
    "SETTING_KEYS",
    "AdobeSettings",
    "Api",
    "SettingsError",
    "check_tenant",
    "env_name",
    "flag_name",
    "is_loopback",
]

# Adobe's Edge Network host, where the Media Edge API is served unless a first-party domain
# (a CNAME of it) is given.
DEFAULT_EDGE_HOST: Final = "edge.adobedc.net"
CONFIG_FILE: Final = "playersim.toml"
ENV_PREFIX: Final = "PLAYERSIM_"
Api = Literal["mca", "edge"]

_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"^{_HOST_LABEL}(\.{_HOST_LABEL})*\.?$")
_REPORT_SUITE = re.compile(r"^[A-Za-z0-9_.-]+$")
_ORG_ID = re.compile(r"^[0-9A-F]{24}@AdobeOrg$")
_TENANT = re.compile(r"^_[A-Za-z0-9_]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class SettingsError(PlayersimError, ValueError):
    """A setting that cannot be used: the message names where it came from (a flag, an
    environment variable, or a file and its key), the key and the value."""


def _host(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError(f"{value!r} is not a host name: give the host alone ({what}), "
                             "with no scheme and no path")  # fmt: skip
        if len(value) > 253 or not _HOST_NAME.match(value):
            raise ValueError(f"{value!r} is not a host name ({what})")
        return value

    return check


def _report_suite(value: str) -> str:
    if "," in value:
        # One session is one report suite's: multi-suite tagging is for the AppMeasurement
        # libraries, and a run says one suite so that its notice says where it all goes.
        raise ValueError(
            f"{value!r}: give one report suite ID (a list, for multi-suite tagging, is not taken)"
        )
    if not _REPORT_SUITE.match(value):
        raise ValueError(
            f"{value!r} is not a report suite ID (letters, digits, '-', '_' and '.' only)"
        )
    return value


def _org_id(value: str) -> str:
    if not _ORG_ID.match(value):
        raise ValueError(
            f"{value!r} is not an Experience Cloud org id (24 upper-case hex digits then @AdobeOrg)"
        )
    return value


def _datastream(value: str) -> str:
    if not _UUID.match(value):
        raise ValueError(
            f"{value!r} is not a datastream ID (a UUID, e.g. 2cbc1b3a-04b2-4c6e-8f5c-1f0d2a9e6b7c)"
        )
    return value


def check_tenant(value: str) -> str:
    """`value` if it is an XDM tenant namespace (`_acme`), else ValueError saying what one is."""
    if not _TENANT.match(value):
        raise ValueError(
            f"{value!r} is not an XDM tenant namespace (an underscore, then letters, digits "
            "and underscores: e.g. _acme)"
        )
    return value


def _base_url(value: str) -> str:
    check_base_url(value)
    return value


_TrackingServer = Annotated[StrictStr, AfterValidator(_host("e.g. acme.sc.omtrdc.net"))]
_EdgeHost = Annotated[StrictStr, AfterValidator(_host("e.g. edge.adobedc.net"))]


class AdobeSettings(BaseModel):
    """A run's Adobe settings: every key optional (None: each profile's own value stays).

    - `tracking_server`, `report_suite`, `org_id`, `ssl`: the sessionStart's
      `analytics.trackingServer`, `analytics.reportSuite`, `visitor.marketingCloudOrgId` and
      `analytics.enableSSL`, for every profile of the run;
    - `api`: `"mca"` (the Media Collection API, the default) or `"edge"` (Adobe's Media Edge
      API, which needs a `datastream`, its `configId`, and is served at `edge_host`);
    - `to`: the endpoint's base URL (`RunOptions.to`, when that is not given itself);
    - for api `"edge"`: `edge_host`, given, is where it sends when `to` is not given
      (`https://` that host); `tenant`, the XDM tenant namespace put before each
      customMetadata name (`_acme.device.model`).

    Made directly, a value out of shape, or a key that does not apply to the api, raises
    pydantic's `ValidationError` (a ValueError) naming the key.

    >>> AdobeSettings(report_suite="acme-demo").analytics
    {'report_suite': 'acme-demo'}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking_server: _TrackingServer | None = None
    report_suite: Annotated[StrictStr, AfterValidator(_report_suite)] | None = None
    org_id: Annotated[StrictStr, AfterValidator(_org_id)] | None = None
    ssl: StrictBool | None = None
    api: Api = "mca"
    to: Annotated[StrictStr, AfterValidator(_base_url)] | None = None
    datastream: Annotated[StrictStr, AfterValidator(_datastream)] | None = None
    edge_host: _EdgeHost = DEFAULT_EDGE_HOST
    tenant: Annotated[StrictStr, AfterValidator(check_tenant)] | None = None

    @model_validator(mode="after")
    def _together(self, info: ValidationInfo) -> Self:
        # `load()` checks each source's values alone first, so as to name the source.
        if not (info.context or {}).get("each_alone"):
            edge_only = [key for key in _EDGE_ONLY[1:] if key in self.model_fields_set]
            problem = _together_problem(self.api, self.datastream, edge_only)
            if problem:
                raise ValueError(problem.format(api="api", **{key: key for key in _EDGE_ONLY}))
        return self

    @property
    def given(self) -> bool:
        """Whether any setting was given (an empty one changes nothing)."""
        return bool(self.model_fields_set)

    @property
    def analytics(self) -> dict[str, Any]:
        """The profile `[analytics]` keys these settings replace, and their values."""
        fields = {
            "tracking_server": self.tracking_server,
            "report_suite": self.report_suite,
            "org_id": self.org_id,
            "enable_ssl": self.ssl,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def apply(self, profile: Profile) -> Profile:
        """The profile routed by these settings: its `[analytics]` with the values given here
        in place of its own (the same profile, when none is given)."""
        update = self.analytics
        if not update:
            return profile
        analytics = profile.analytics.model_copy(update=update)
        return profile.model_copy(update={"analytics": analytics})

    @classmethod
    def load(
        cls,
        *,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config: str | os.PathLike[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> AdobeSettings:
        """The settings as `playersim run` reads them: each key from `flags` (a key's value,
        None when not given; named as `--key-name` in messages), else the environment
        (`environ`, default `os.environ`: `PLAYERSIM_` and the key in capitals; an empty
        variable is not set), else the project file: `config`, or `playersim.toml` in `cwd`
        (default: the current directory), or else the `[tool.playersim]` table of its
        `pyproject.toml`. SettingsError names the source, the key and the value."""
        layers = [
            _from_flags(flags or {}),
            _from_environ(os.environ if environ is None else environ),
            _from_file(config, Path.cwd() if cwd is None else Path(cwd)),
        ]
        merged: dict[str, tuple[Any, str, int]] = {}
        for rank, (values, where) in reversed(list(enumerate(layers))):
            for key, value in values.items():  # lowest first: a higher source overrides
                merged[key] = (value, where(key), rank)
        api, _, api_rank = merged.get("api", ("mca", "", len(layers)))
        if api == "mca":
            # An api said above them overrides the Edge-only keys of a source below it: a
            # flag's `--api mca` over a file written for Edge.
            for key in _EDGE_ONLY:
                if key in merged and merged[key][2] > api_rank:
                    del merged[key]
        if "edge_host" in merged and "to" in merged and merged["edge_host"][2] < merged["to"][2]:
            del merged["to"]  # an edge host said above an endpoint says where to send
        edge_only = [key for key in _EDGE_ONLY[1:] if key in merged]
        problem = _together_problem(api, merged.get("datastream", (None, "", 0))[0], edge_only)
        if problem:
            names = {key: merged[key][1] if key in merged else key for key in _EDGE_ONLY}
            said = merged["api"][1] if "api" in merged else "the default"
            raise SettingsError(problem.format(api=said, **names))
        return cls.model_validate({key: value for key, (value, _, _) in merged.items()})


SETTING_KEYS: Final = tuple(AdobeSettings.model_fields)


# The keys only the Media Edge API takes.
_EDGE_ONLY: Final = ("datastream", "edge_host", "tenant")
_WHAT: Final = {"datastream": "a datastream", "edge_host": "an edge host", "tenant": "a tenant"}


def _together_problem(api: str, datastream: str | None, edge_only: Sequence[str]) -> str | None:
    """What is wrong with the api and the keys that only one api takes, or None: a message
    naming the keys as `{api}`, `{datastream}`, `{edge_host}`, `{tenant}` (so that `load` can
    say where each came from). `edge_only`: the Edge-only keys given besides a datastream."""
    if api == "edge" and datastream is None:
        return (
            "{api}: 'edge' needs a datastream (the datastream ID, a UUID: --datastream, "
            "PLAYERSIM_DATASTREAM, or datastream in playersim.toml)"
        )
    given = (["datastream"] if datastream is not None else []) + list(edge_only)
    if api == "mca" and given:
        key = given[0]
        return (
            f"{{{key}}}: {_WHAT[key]} is for api 'edge' (Adobe's Edge Network), and does not "
            f"apply to api 'mca' ({{api}}): choose api 'edge', or leave it out"
        )
    return None


# A source's values, and how to name where a key of it came from.
_Layer = tuple[dict[str, Any], Callable[[str], str]]


def flag_name(key: str) -> str:
    """The `playersim run` flag of a setting."""
    return "--" + key.replace("_", "-")


def env_name(key: str) -> str:
    """The environment variable of a setting."""
    return ENV_PREFIX + key.upper()


def _checked(values: dict[str, Any], where: Callable[[str], str]) -> _Layer:
    """One source's values, each checked alone, or SettingsError naming the first bad one."""
    try:
        AdobeSettings.model_validate(values, context={"each_alone": True})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            raise SettingsError(
                f"{where(key)}: unknown key (the keys are: {', '.join(SETTING_KEYS)})"
            ) from None
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "literal_error":
            message = f"{error['input']!r} is not one of {', '.join(map(repr, get_args(Api)))}"
        elif not error["type"].startswith("value_error"):
            message = f"{message}, got {error['input']!r}"
        raise SettingsError(f"{where(key)}: {message}") from None
    return values, where


def _from_flags(flags: Mapping[str, Any]) -> _Layer:
    values = {key: value for key, value in flags.items() if value is not None}

    def where(key: str) -> str:
        if key == "ssl":
            return "--ssl" if values.get("ssl") else "--no-ssl"
        return flag_name(key)

    return _checked(values, where)


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _from_environ(environ: Mapping[str, str]) -> _Layer:
    values: dict[str, Any] = {}
    for key in SETTING_KEYS:
        text = environ.get(env_name(key), "").strip()
        if not text:
            continue  # unset, or set to nothing (a CI secret that is not there)
        if key == "ssl":
            if text.lower() not in _TRUE | _FALSE:
                raise SettingsError(
                    f"{env_name(key)}: {text!r} is not true or false (1/0, yes/no, on/off)"
                )
            values[key] = text.lower() in _TRUE
        else:
            values[key] = text
    return _checked(values, env_name)


def _from_file(config: str | os.PathLike[str] | None, cwd: Path) -> _Layer:
    """The project file's settings: `config`, else `playersim.toml`, else pyproject.toml's
    `[tool.playersim]` (none of them: no settings)."""
    if config is not None:
        path, explicit = Path(config), True
    elif (cwd / CONFIG_FILE).is_file():
        path, explicit = cwd / CONFIG_FILE, False
    elif (cwd / "pyproject.toml").is_file():
        path, explicit = cwd / "pyproject.toml", False
    else:
        return {}, str
    # Named as given, or, found in the current directory, by its name alone.
    shown = str(config) if explicit else (path.name if cwd == Path.cwd() else str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SettingsError(f"{shown}: cannot read the file: {reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{shown}: not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        shown += " [tool.playersim]"
        table = data.get("tool", {}).get("playersim", {})
        if not isinstance(table, dict):
            raise SettingsError(f"{shown}: must be a table of settings")
        data = table
    return _checked(data, lambda key: f"{shown}: {key}")


def is_loopback(url: str) -> bool:
    """Whether a base URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1.

    >>> is_loopback("http://127.0.0.2:8080"), is_loopback("https://acme.hb-api.omtrdc.net")
    (True, False)
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
