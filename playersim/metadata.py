"""Plausible, seeded metadata: the titles a run's audience watches and the visitors who watch.

Faker is used here, once per run and profile, to build pools (titles with their standard
metadata, visitors with their ids and devices). Players then pick from the pools with their own
session RNG and never call Faker per event: that keeps a session's values consistent (the same
`media.id` always has the same name, show, genre and length) and a run byte-for-byte
reproducible for a seed. Dates are drawn between fixed bounds, never relative to "today", for the
same reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Final

from faker import Faker

from playersim.devices import DEVICES, Device
from playersim.profiles import Profile
from playersim.wire import SESSION_START_KEYS

__all__ = ["MetadataPool", "Title", "Visitor", "day_part", "session_params"]


@dataclass(frozen=True, slots=True)
class Visitor:
    """One viewer on one device, with the ids that stay stable across their sessions."""

    visitor_id: str  # analytics.visitorId
    ecid: str  # visitor.marketingCloudUserId: 38 digits
    app_installation_id: str  # appInstallationId: one per app install
    device: Device
    customer_id: str | None  # a signed-in account, or None for an anonymous viewer


@dataclass(frozen=True, slots=True)
class Title:
    """One piece of content and its standard metadata (MCA-SPEC.md section 3)."""

    media_id: str
    name: str
    length_seconds: float
    metadata: dict[str, str] = field(default_factory=dict)  # media.show, media.genre, ...


_MOVIE_GENRES: Final = (
    "Drama", "Comedy", "Action", "Thriller", "Documentary", "Horror", "Romance", "Animation",
    "Science Fiction", "Family",
)  # fmt: skip
_SERIES_GENRES: Final = (
    "Drama", "Comedy", "Crime", "Reality", "Documentary", "Science Fiction", "Kids", "Lifestyle",
)  # fmt: skip
_NEWS_GENRES: Final = ("News", "Business News", "Weather", "Politics")
_TV_RATINGS: Final = ("TV-G", "TV-PG", "TV-14", "TV-MA")
_FILM_RATINGS: Final = ("G", "PG", "PG-13", "R")
_FEEDS: Final = ("East HD", "West HD", "National")
# Dates lie between fixed bounds so that the same seed gives the same dates on any day.
_EARLIEST: Final = date(1995, 1, 1)
_LATEST: Final = date(2026, 6, 30)


@dataclass(frozen=True, slots=True)
class MetadataPool:
    """The titles and visitors one profile draws from during a run."""

    titles: tuple[Title, ...]
    visitors: tuple[Visitor, ...]
    device_weights: tuple[float, ...]
    # Cumulative popularity of titles: rank r is watched in proportion to 1/(r+1), the
    # long-tailed shape of real catalogues, where a few hits get most of the views.
    _popularity: tuple[float, ...] = field(repr=False)

    @staticmethod
    def build(profile: Profile, seed: int | str) -> MetadataPool:
        """Build (or reuse) the pool for this profile and run seed."""
        return _build(profile.model_dump_json(), str(seed))

    def pick_title(self, rng: random.Random) -> Title:
        return rng.choices(self.titles, cum_weights=self._popularity)[0]

    def pick_visitor(self, rng: random.Random) -> Visitor:
        return self.visitors[rng.randrange(len(self.visitors))]


@lru_cache(maxsize=64)
def _build(profile_json: str, seed: str) -> MetadataPool:
    profile = Profile.model_validate_json(profile_json)
    fake = Faker(profile.audience.locale)
    fake.seed_instance(f"{seed}:{profile.name}:metadata")
    lengths = random.Random(f"{seed}:{profile.name}:lengths")
    maker = {"movie": _movies, "episode": _episodes, "live": _channels}[profile.content.kind]
    titles = maker(fake, profile, lengths)
    weights = [1 / (rank + 1) for rank in range(len(titles))]
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    devices = [DEVICES[name] for name in profile.audience.devices]
    device_weights = tuple(profile.audience.devices.values())
    visitors = tuple(
        _visitor(fake, fake.random.choices(devices, weights=device_weights)[0])
        for _ in range(profile.audience.visitors)
    )
    return MetadataPool(tuple(titles), visitors, device_weights, tuple(cumulative))


def _visitor(fake: Faker, device: Device) -> Visitor:
    signed_in = fake.random.random() < 0.6
    return Visitor(
        visitor_id=fake.hexify("^" * 16 + "-" + "^" * 16, upper=True),
        ecid=str(fake.random_int(1, 9)) + fake.numerify("#" * 37),
        app_installation_id=fake.uuid4(),
        device=device,
        customer_id=fake.sha1()[:20] if signed_in else None,
    )


def _headline(fake: Faker) -> str:
    """A title that reads like one: a few templates over Faker's words, names and places."""
    noun = fake.word(part_of_speech="noun").title()
    adjective = fake.word(part_of_speech="adjective").title()
    templates = (
        f"The {adjective} {noun}",
        f"{noun} of {fake.city()}",
        f"{fake.last_name()}'s {noun}",
        f"{fake.color_name()} {noun}",
        f"Return to {fake.city()}",
        f"{adjective} {noun}s",
    )
    return templates[fake.random.randrange(len(templates))]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _common(fake: Faker, profile: Profile) -> dict[str, str]:
    data = {"media.assetId": fake.uuid4()}
    if profile.content.publisher:
        data["media.publisher"] = profile.content.publisher
    return data


def _length(profile: Profile, rng: random.Random) -> float:
    # Lengths are kept to the millisecond: the playhead is computed in whole milliseconds.
    return max(1.0, round(profile.content.length.sample(rng), 3))


def _movies(fake: Faker, profile: Profile, lengths: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        name = _headline(fake)
        released = fake.date_between(_EARLIEST, _LATEST)
        metadata = _common(fake, profile) | {
            "media.genre": fake.random_element(_MOVIE_GENRES),
            "media.rating": fake.random_element(_FILM_RATINGS),
            "media.originator": f"{fake.last_name()} Pictures",
            "media.firstAirDate": released.isoformat(),
            "media.firstDigitalDate": (
                released + timedelta(days=fake.random_int(60, 400))
            ).isoformat(),
        }
        titles.append(
            Title(f"movie-{index:05d}-{_slug(name)}", name, _length(profile, lengths), metadata)
        )
    return titles


def _episodes(fake: Faker, profile: Profile, lengths: random.Random) -> list[Title]:
    titles: list[Title] = []
    while len(titles) < profile.content.titles:
        show = _headline(fake)
        network = (
            f"{fake.last_name()} {fake.random_element(('TV', 'Network', 'Channel', 'Studios'))}"
        )
        genre = fake.random_element(_SERIES_GENRES)
        rating = fake.random_element(_TV_RATINGS)
        premiere = fake.date_between(_EARLIEST, _LATEST - timedelta(days=3 * 365))
        show_id = f"series-{len(titles):05d}-{_slug(show)}"
        for season in range(1, fake.random_int(1, 4) + 1):
            season_start = premiere + timedelta(days=365 * (season - 1))
            for episode in range(1, fake.random_int(6, 12) + 1):
                if len(titles) == profile.content.titles:
                    break
                aired = season_start + timedelta(weeks=episode - 1)
                name = fake.sentence(nb_words=fake.random_int(2, 5)).rstrip(".")
                metadata = _common(fake, profile) | {
                    "media.show": show,
                    "media.season": str(season),
                    "media.episode": str(episode),
                    "media.genre": genre,
                    "media.rating": rating,
                    "media.network": network,
                    "media.originator": network,
                    "media.firstAirDate": aired.isoformat(),
                    "media.showType": "0",
                }
                media_id = f"{show_id}-s{season:02d}e{episode:02d}"
                titles.append(Title(media_id, name, _length(profile, lengths), metadata))
    return titles


def _channels(fake: Faker, profile: Profile, lengths: random.Random) -> list[Title]:
    titles = []
    for index in range(profile.content.titles):
        city = fake.city()
        network = f"{city} {fake.random_element(('News', 'Live', 'Now', 'One'))}"
        metadata = _common(fake, profile) | {
            "media.network": network,
            "media.genre": fake.random_element(_NEWS_GENRES),
            "media.rating": fake.random_element(_TV_RATINGS[:3]),
            "media.feed": fake.random_element(_FEEDS),
            "media.originator": network,
        }
        name = f"{network} 24/7"
        titles.append(
            Title(f"live-{index:05d}-{_slug(network)}", name, _length(profile, lengths), metadata)
        )
    return titles


def day_part(hour: int) -> str:
    """The broadcast day part of a UTC hour (media.dayPart)."""
    if 6 <= hour < 10:
        return "Morning"
    if 10 <= hour < 16:
        return "Daytime"
    if 16 <= hour < 20:
        return "Early Fringe"
    if 20 <= hour < 23:
        return "Primetime"
    return "Late Night"


def session_params(
    profile: Profile, title: Title, visitor: Visitor, *, start_ms: int, resume: bool = False
) -> dict[str, Any]:
    """The sessionStart `params` for one viewer watching one title, in a stable key order."""
    content = profile.content
    analytics = profile.analytics
    device = visitor.device
    params: dict[str, Any] = {
        "analytics.trackingServer": analytics.tracking_server,
        "analytics.reportSuite": analytics.report_suite,
        "visitor.marketingCloudOrgId": analytics.org_id,
        "analytics.visitorId": visitor.visitor_id,
        "analytics.enableSSL": analytics.enable_ssl,
        "visitor.marketingCloudUserId": visitor.ecid,
        "appInstallationId": visitor.app_installation_id,
        "media.id": title.media_id,
        "media.name": title.name,
        "media.length": _json_length(title.length_seconds),
        "media.contentType": content.content_type,
        "media.streamType": content.stream_type,
        "media.playerName": device.player_name,
        "media.channel": content.channel,
        "media.sdkVersion": device.sdk_version,
        "media.libraryVersion": device.library_version,
        "media.streamFormat": device.stream_format,
    }
    if visitor.customer_id is not None:
        params["visitor.customerIDs"] = {"userId": {"id": visitor.customer_id, "authState": 1}}
    if resume:
        params["media.resume"] = True
    params.update(title.metadata)
    if content.live:
        params["media.dayPart"] = day_part(start_ms // 3_600_000 % 24)
    # The model's key order, so that a body validated and dumped again is the same bytes.
    return {key: params[key] for key in SESSION_START_KEYS if key in params}


def _json_length(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds
