"""The devices a simulated audience owns: platform, model, OS and version, app and player build.

A real service's traffic comes from thousands of devices running dozens of builds: each app
release sits on a share of its platform that decays as people update, operating systems spread
over several versions (Android far more than iOS), and browsers update within weeks. A person's
device is drawn once from these tables (by the audience, from the catalogue seed) and then keeps
its model, OS, browser and app release in every session: reports that segment by device or
build see what they would see in production.

What goes on the wire (MCA-SPEC.md section 3): `media.playerName` (the app's player on that
platform), `media.sdkVersion` (the app release that embeds the player: its version and build),
`media.libraryVersion` (the Adobe Media library that release ships, older in older releases),
`media.streamFormat`, and the device itself as sessionStart `customMetadata` (model, OS and its
version, app version, browser), since the MCA has no standard parameters for them.

Sources (`../shared/REALISM-SOURCES.md` section 1.3): iOS adoption (Apple: newest major on
~60-80 % of devices, the previous on ~15-30 %, older under 10 %); Android's long tail (Google's
distribution chart, May 2023: no major version above a quarter); desktop browser shares
(StatCounter, spring 2023: Chrome 66 %, Safari 12 %, Edge 11 %, Firefox 6 %, Opera 3 %); browser
turnover (Chitika: over 80 % on the two newest versions). No published figures exist for app
release adoption, TV firmware or model shares within a platform (section 1.3 says so): those
shares are ours, stated as assumptions below, and the version names are a snapshot of late 2025.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["DEVICE_KEYS", "FAMILIES", "Device", "Platform", "device_for", "hour_factor"]

# The customMetadata keys a device sends (Device.custom_metadata): a profile's own keys may not
# take them.
DEVICE_KEYS: Final = frozenset(
    {"device.model", "device.os", "device.osVersion", "app.version", "browser.name",
     "browser.version"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Device:
    """One device: what it is, and the build of the app playing on it."""

    family: str  # the profile's device family: web, ios, android, roku, tvos, firetv
    player_name: str  # media.playerName
    sdk_version: str  # media.sdkVersion: the app release embedding the player
    library_version: str  # media.libraryVersion: the Adobe Media library of that release
    stream_format: str  # media.streamFormat
    model: str = ""  # "iPhone 15", "Roku Ultra", "" for a desktop browser
    os: str = ""
    os_version: str = ""
    app_version: str = ""
    browser: str = ""  # web only
    browser_version: str = ""

    @property
    def app_installed(self) -> bool:
        """An app install has an `appInstallationId`; a web browser does not."""
        return self.family != "web"

    def custom_metadata(self) -> dict[str, str]:
        """The device as sessionStart customMetadata: keys a report suite maps to eVars."""
        data = {"device.model": self.model, "device.os": self.os}
        data["device.osVersion"] = self.os_version
        data["app.version"] = self.app_version
        if self.browser:
            data["browser.name"] = self.browser
            data["browser.version"] = self.browser_version
        return {key: value for key, value in data.items() if value}


Weighted = Sequence[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Platform:
    """A device family's population: models, OS versions, and the app releases in use."""

    family: str
    player_name: str
    stream_format: str
    os: str
    # (model, weight) or (model, weight, first OS major, last OS major)
    models: Sequence[tuple[str, float] | tuple[str, float, int, int]]
    os_versions: Weighted
    # (app version, build number, Adobe library version, share), newest first.
    releases: Sequence[tuple[str, int, str, float]]


def _releases(
    newest: tuple[int, int, int],
    count: int,
    first_build: int,
    libraries: Sequence[str],
    *,
    keep: float,
    abis: int = 1,
) -> tuple[tuple[str, int, str, float], ...]:
    """The `count` app releases in use, newest first, walking back from version `newest`.

    Each older release is on `keep` times the share of the one after it (assumption, ours: most
    people update within weeks, and a tail of devices never does; Android's tail is longest).
    Every few releases ship an older Adobe library. `abis` > 1: each release is built once per
    CPU architecture with its own build number (Android's split APKs: 64-bit arm on 85 % of
    devices, 32-bit on the rest, ours).
    """
    major, minor, patch = newest
    share = 1.0
    out = []
    for age in range(count):
        library = libraries[min(age * len(libraries) // count, len(libraries) - 1)]
        build = first_build - 40 * age
        version = f"{major}.{minor}.{patch}"
        if abis == 1:
            out.append((version, build, library, share))
        else:
            out.append((version, build, library, share * 0.85))
            out.append((version, build - 1, library, share * 0.15))
        share *= keep
        # Back one release: a patch before it, or the previous minor's last patch.
        if patch:
            patch -= 1
        elif minor:
            minor, patch = minor - 1, (minor - 1) % 3
        else:
            major, minor, patch = major - 1, 19, 1
    return tuple(out)


# Model shares within a platform: no published figures (REALISM-SOURCES 1.3); ours, weighted
# toward the recent and the cheap models, as install bases are.
PLATFORMS: Final[dict[str, Platform]] = {
    "web": Platform(
        "web", "html5-video", "DASH", "",
        models=(("", 1.0),),
        os_versions=(("", 1.0),),
        releases=_releases((4, 38, 2), 8, 9120, ("js-3.1.1", "js-3.0.5"), keep=0.45),
    ),
    "ios": Platform(
        "ios", "AVPlayer", "HLS", "iOS",
        # (model, weight, first and last OS major it runs): an iPhone 16 shipped with iOS 18,
        # an iPhone XR stops at iOS 18 (Apple's support lists).
        models=(
            ("iPhone 16", 9, 18, 99), ("iPhone 16 Pro", 7, 18, 99),
            ("iPhone 16 Pro Max", 5, 18, 99),
            ("iPhone 15", 10, 17, 99), ("iPhone 15 Pro", 7, 17, 99), ("iPhone 14", 11, 16, 99),
            ("iPhone 13", 12, 15, 99), ("iPhone 12", 8, 14, 99), ("iPhone 11", 6, 13, 99),
            ("iPhone SE (3rd generation)", 4, 15, 99), ("iPhone XR", 3, 12, 18),
            ("iPhone 8", 1.5, 11, 16), ("iPad (10th generation)", 8, 16, 99),
            ("iPad Air (M2)", 5, 17, 99), ("iPad Pro 11-inch (M4)", 3, 17, 99),
            ("iPad mini (A17 Pro)", 2, 18, 99),
        ),
        # Apple: newest major ~76 % of recent devices (iOS 18, 2025), previous ~18 %, older ~6 %.
        os_versions=(
            ("26.1", 0.41), ("26.0.1", 0.2), ("26.0", 0.08), ("18.7.2", 0.11), ("18.6.2", 0.07),
            ("18.5", 0.04), ("17.7.10", 0.05), ("16.7.12", 0.03), ("15.8.5", 0.01),
        ),
        releases=_releases(
            (9, 14, 1), 18, 4415, ("ios-3.2.0", "ios-3.1.2", "ios-3.0.4"), keep=0.62
        ),
    ),
    "android": Platform(
        "android", "ExoPlayer", "DASH", "Android",
        models=(
            ("Samsung Galaxy S25", 5, 15, 99), ("Samsung Galaxy S24", 7, 14, 99),
            ("Samsung Galaxy S23", 6, 13, 99), ("Samsung Galaxy A55", 6, 14, 99),
            ("Samsung Galaxy A35", 6, 14, 99), ("Samsung Galaxy A15", 9, 14, 99),
            ("Samsung Galaxy A14", 7, 13, 99), ("Google Pixel 9", 4, 14, 99),
            ("Google Pixel 8a", 4, 14, 99), ("Google Pixel 7", 3, 13, 99),
            ("Motorola moto g power 5G (2024)", 6, 14, 99),
            ("Motorola moto g play (2023)", 5, 12, 14),
            ("OnePlus 12", 2, 14, 99), ("Samsung Galaxy Tab A9+", 5, 13, 99),
            ("Samsung Galaxy Tab S9 FE", 3, 13, 99), ("Lenovo Tab M10 Plus", 5, 10, 13),
            ("TCL 50 XE", 2, 14, 99), ("Samsung Galaxy A12", 8, 10, 13),
            ("Samsung Galaxy S10", 5, 9, 12), ("Google Pixel 4a", 3, 10, 13),
            ("Samsung Galaxy A10e", 4, 9, 11), ("Motorola moto g7", 3, 9, 10),
            ("Samsung Galaxy A32 5G", 5, 11, 13),
            ("Motorola moto g stylus (2021)", 3, 10, 12),
        ),
        # Google's chart (May 2023) shifted two releases on: a long tail, no major above 25 %.
        os_versions=(
            ("16", 0.13), ("15", 0.2), ("14", 0.2), ("13", 0.16), ("12", 0.12), ("11", 0.09),
            ("10", 0.06), ("9", 0.04),
        ),
        releases=_releases(
            (9, 14, 0), 26, 90_415,
            ("android-3.1.3", "android-3.1.1", "android-3.0.2", "android-2.3.4"),
            keep=0.76, abis=2,
        ),
    ),
    "roku": Platform(
        "roku", "Roku Video Node", "HLS", "Roku OS",
        models=(
            ("Roku Express", 16), ("Roku Express 4K+", 14), ("Roku Streaming Stick 4K", 18),
            ("Roku Ultra", 9), ("Roku Streambar", 3), ("TCL Roku TV", 17), ("Hisense Roku TV", 10),
            ("onn. Roku TV", 8), ("Sharp Roku TV", 5),
        ),
        # Firmware: 3-5 versions, the newest on 50-70 % (REALISM-SOURCES 1.3, ours).
        os_versions=(("15.0", 0.58), ("14.6", 0.24), ("14.5", 0.1), ("14.1", 0.05), ("13.1", 0.03)),
        releases=_releases(
            (7, 22, 0), 14, 2210, ("roku-2.4.0", "roku-2.3.1", "roku-2.3.0"), keep=0.66
        ),
    ),
    "tvos": Platform(
        "tvos", "AVPlayer tvOS", "HLS", "tvOS",
        models=(("Apple TV 4K (3rd generation)", 5), ("Apple TV 4K (2nd generation)", 3),
                ("Apple TV 4K (1st generation)", 1.5), ("Apple TV HD", 1)),
        os_versions=(("26.1", 0.52), ("26.0", 0.16), ("18.6", 0.2), ("17.6", 0.08), ("16.6", 0.04)),
        releases=_releases(
            (9, 14, 0), 14, 3305, ("tvos-3.2.0", "tvos-3.1.2", "tvos-3.0.4"), keep=0.62
        ),
    ),
    "firetv": Platform(
        "firetv", "ExoPlayer Fire TV", "DASH", "Fire OS",
        models=(
            ("Fire TV Stick 4K", 16), ("Fire TV Stick 4K Max", 10), ("Fire TV Stick Lite", 12),
            ("Fire TV Stick (3rd Gen)", 11), ("Fire TV Cube (3rd Gen)", 4),
            ("Amazon Fire TV Omni", 4),
            ("Insignia Fire TV", 7), ("Toshiba Fire TV", 5),
        ),
        os_versions=(("8.1.4.1", 0.42), ("8.1.3.3", 0.18), ("7.7.0.5", 0.22), ("7.6.9.1", 0.1),
                     ("6.2.9.5", 0.08)),
        releases=_releases(
            (9, 14, 0), 18, 70_212,
            ("android-3.1.3", "android-3.1.1", "android-3.0.2", "android-2.3.4"),
            keep=0.72,
        ),
    ),
}  # fmt: skip

# Desktop browsers (StatCounter, spring 2023), each on its OS; versions: newest ~75 %, previous
# ~18 %, older the rest (REALISM-SOURCES 1.3: Chitika's turnover, the split ours).
BROWSERS: Final = (
    ("Chrome", 0.66, (("142.0.7444.176", 0.52), ("142.0.7444.135", 0.23), ("141.0.7390.123", 0.18),
                      ("140.0.7339.208", 0.07))),
    ("Safari", 0.12, (("26.1", 0.6), ("26.0.1", 0.15), ("18.6", 0.2), ("17.6", 0.05))),
    ("Edge", 0.11, (("142.0.3595.94", 0.72), ("141.0.3537.99", 0.2), ("140.0.3485.94", 0.08))),
    ("Firefox", 0.06, (("145.0.1", 0.5), ("145.0", 0.22), ("144.0.2", 0.2), ("140.5.0esr", 0.08))),
    ("Opera", 0.03, (("123.0.5669.47", 0.7), ("122.0.5643.150", 0.3))),
)  # fmt: skip
# Desktop OS by browser (assumption, ours: Safari runs on macOS only; the others mostly Windows).
DESKTOP_OS: Final = {
    "Safari": (("macOS", "26.1", 0.5), ("macOS", "15.7.2", 0.35), ("macOS", "14.8.2", 0.15)),
    "Edge": (("Windows", "11", 0.62), ("Windows", "10", 0.33), ("macOS", "26.1", 0.05)),
    "other": (
        ("Windows", "11", 0.45), ("Windows", "10", 0.3), ("macOS", "26.1", 0.1),
        ("macOS", "15.7.2", 0.06), ("ChromeOS", "142.0", 0.05), ("Linux", "", 0.04),
    ),
}  # fmt: skip


def _choose(options: Sequence[tuple[str, float]], unit: float) -> str:
    total = sum(weight for _, weight in options)
    point = unit * total
    for name, weight in options:
        point -= weight
        if point < 0:
            return name
    return options[-1][0]


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


# Each distinct device, once: the tables allow a few hundred, and every viewing in progress
# holds one (a Device and its strings are a few hundred bytes: bench/memory.py).
_DEVICES: Final[dict[Device, Device]] = {}


def device_for(family: str, units: Sequence[float]) -> Device:
    """The device of this family that these five uniform numbers in [0, 1) pick."""
    device = _device_for(family, units)
    return _DEVICES.setdefault(device, device)


def _device_for(family: str, units: Sequence[float]) -> Device:
    platform = PLATFORMS[family]
    release = _choose([(str(i), r[3]) for i, r in enumerate(platform.releases)], units[0])
    app_version, build, library, _ = platform.releases[int(release)]
    prefix = "web" if family == "web" else platform.os.split()[0]
    model = _choose([(m[0], m[1]) for m in platform.models], units[1])
    spec = next(m for m in platform.models if m[0] == model)
    low, high = (spec[2], spec[3]) if len(spec) == 4 else (0, 999)
    # Only the OS versions this model runs: no iPhone 16 on iOS 15, no Galaxy S10 on 16.
    runs = [(v, w) for v, w in platform.os_versions if low <= _major(v) <= high]
    device = Device(
        family=family,
        player_name=platform.player_name,
        sdk_version=f"{prefix} {app_version} ({build})",
        library_version=library,
        stream_format=platform.stream_format,
        model=model,
        os="iPadOS" if model.startswith("iPad") else platform.os,
        os_version=_choose(runs or platform.os_versions, units[2]),
        app_version=app_version,
    )
    if family != "web":
        return device
    browser = _choose([(name, share) for name, share, _ in BROWSERS], units[1])
    versions = next(v for name, _, v in BROWSERS if name == browser)
    systems = DESKTOP_OS.get(browser, DESKTOP_OS["other"])
    choice = _choose([(str(i), s[2]) for i, s in enumerate(systems)], units[2])
    os_name, os_version, _ = systems[int(choice)]
    return Device(
        family=family,
        player_name=device.player_name,
        sdk_version=device.sdk_version,
        library_version=library,
        stream_format="HLS" if browser == "Safari" else device.stream_format,
        os=os_name,
        os_version=os_version,
        app_version=app_version,
        browser=browser,
        browser_version=_choose(versions, units[3]),
    )


# The device families a profile weights (its `[audience] devices`, `[qoe] device_max_bps`).
FAMILIES: Final = tuple(PLATFORMS)


# How each kind of screen's share moves through the day: FreeWheel's ad views by daypart and
# device, US, Q2 2015 (REALISM-SOURCES 1.2), per hour of each block (6-10, 10-16, 16-19, 19-01,
# 01-06 local): desktops lean to office hours, phones to the commute and lunch, TVs to the evening
# and the night. Tablets are counted as phones (their apps are the phone's).
_BLOCKS: Final = ((6, 10), (10, 16), (16, 19), (19, 25), (25, 30))
_DAYPART_SHARES: Final = {
    "tv": (13, 23, 16, 31, 17),
    "desktop": (11, 31, 20, 28, 10),
    "phone": (11, 27, 20, 31, 11),
}
_SCREEN: Final = {
    "web": "desktop", "ios": "phone", "android": "phone",
    "roku": "tv", "tvos": "tv", "firetv": "tv",
}  # fmt: skip


def _per_hour(shares: Sequence[int]) -> tuple[float, ...]:
    hours = [0.0] * 24
    for (start, end), share in zip(_BLOCKS, shares, strict=True):
        for hour in range(start, end):
            hours[hour % 24] = share / (end - start) * 24 / 100  # 1.0: an even day
    return tuple(hours)


_HOUR_FACTORS: Final = {screen: _per_hour(shares) for screen, shares in _DAYPART_SHARES.items()}


def hour_factor(family: str, hour: int) -> float:
    """How much more (or less) this family is used at this local hour than on an even day."""
    return _HOUR_FACTORS[_SCREEN[family]][hour]
