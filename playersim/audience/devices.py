"""The player builds a simulated audience uses: what `media.playerName` and `media.sdkVersion` say.

A profile weights these families; the names and versions are those of Adobe's Media SDKs and the
platform players they usually wrap, so reports segment by device the way real traffic does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DEVICES", "Device"]


@dataclass(frozen=True, slots=True)
class Device:
    """One player build on one device family."""

    family: str
    player_name: str  # media.playerName
    sdk_version: str  # media.sdkVersion
    library_version: str  # media.libraryVersion
    stream_format: str  # media.streamFormat


DEVICES: Final[dict[str, Device]] = {
    "web": Device("web", "html5-video", "js-3.0.5", "js-3.0.5", "DASH"),
    "ios": Device("ios", "AVPlayer", "ios-3.1.0", "ios-3.1.0", "HLS"),
    "android": Device("android", "ExoPlayer", "android-3.1.1", "android-3.1.1", "DASH"),
    "roku": Device("roku", "Roku Video Node", "roku-2.3.0", "roku-2.3.0", "HLS"),
    "tvos": Device("tvos", "AVPlayer tvOS", "tvos-3.1.0", "tvos-3.1.0", "HLS"),
    "firetv": Device("firetv", "ExoPlayer Fire TV", "android-3.1.1", "android-3.1.1", "DASH"),
}
