"""Plausible, seeded metadata: the pools a run's sessions draw from, and sessionStart params.

Faker is used once per run and profile, to build pools: the catalogue (`playersim.catalog`),
the ad creatives, and visitors with their ids and devices. Players then pick from the pools with
their own session RNG and never call Faker per event: that keeps a session's values consistent
and a run byte-for-byte reproducible for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from playersim.catalog import AdCreative, Title, build_ads, build_titles
from playersim.devices import DEVICES, Device
from playersim.profiles import Profile
from playersim.wire import SESSION_START_KEYS, json_seconds

__all__ = ["MetadataPool", "Visitor", "day_part", "session_params"]


@dataclass(frozen=True, slots=True)
class Visitor:
    """One viewer on one device, with the ids that stay stable across their sessions."""

    visitor_id: str  # analytics.visitorId
    ecid: str  # visitor.marketingCloudUserId: 38 digits
    app_installation_id: str  # appInstallationId: one per app install
    device: Device
    customer_id: str | None  # a signed-in account, or None for an anonymous viewer


@dataclass(frozen=True, slots=True)
class MetadataPool:
    """The titles and visitors one profile draws from during a run."""

    titles: tuple[Title, ...]
    visitors: tuple[Visitor, ...]
    ads: tuple[AdCreative, ...]
    # Cumulative popularity of titles: rank r is watched in proportion to 1/(r+1), the
    # long-tailed shape of real catalogues, where a few hits get most of the views.
    _popularity: tuple[float, ...] = field(repr=False)

    @staticmethod
    def build(profile: Profile, seed: int | str) -> MetadataPool:
        """Build (or reuse) the pool for this profile and run seed."""
        key = (profile.model_dump_json(), str(seed))
        pool = _POOLS.get(key)
        if pool is None:
            pool = _build(profile, str(seed))
            if len(_POOLS) >= 64:  # a small cache: runs use a handful of profiles
                _POOLS.pop(next(iter(_POOLS)))
            _POOLS[key] = pool
        return pool

    def pick_title(self, rng: random.Random) -> Title:
        return rng.choices(self.titles, cum_weights=self._popularity)[0]

    def pick_visitor(self, rng: random.Random) -> Visitor:
        return self.visitors[rng.randrange(len(self.visitors))]

    def pick_ad(self, rng: random.Random) -> AdCreative:
        return self.ads[rng.randrange(len(self.ads))]


_POOLS: dict[tuple[str, str], MetadataPool] = {}


def _build(profile: Profile, seed: str) -> MetadataPool:
    fake = Faker(profile.audience.locale)
    fake.seed_instance(f"{seed}:{profile.name}:metadata")
    # Numbers that are not Faker's (lengths, chapters, ad lengths) come from their own RNG, so
    # adding a Faker field later does not shift every length of every run.
    numbers = random.Random(f"{seed}:{profile.name}:numbers")
    titles = build_titles(fake, profile, numbers)
    ads = build_ads(fake, profile, numbers)
    cumulative: list[float] = []
    total = 0.0
    for rank in range(len(titles)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    devices = [DEVICES[name] for name in profile.audience.devices]
    weights = list(profile.audience.devices.values())
    visitors = tuple(
        _visitor(fake, fake.random.choices(devices, weights=weights)[0])
        for _ in range(profile.audience.visitors)
    )
    return MetadataPool(tuple(titles), visitors, tuple(ads), tuple(cumulative))


def _visitor(fake: Faker, device: Device) -> Visitor:
    signed_in = fake.random.random() < 0.6
    return Visitor(
        visitor_id=fake.hexify("^" * 16 + "-" + "^" * 16, upper=True),
        ecid=str(fake.random_int(1, 9)) + fake.numerify("#" * 37),
        app_installation_id=fake.uuid4(),
        device=device,
        customer_id=fake.sha1()[:20] if signed_in else None,
    )


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
        "media.length": json_seconds(round(title.length_seconds * 1000)),
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
    if content.stream_type == "audio":
        params.pop("media.streamFormat", None)
    if content.live:
        params["media.dayPart"] = day_part(start_ms // 3_600_000 % 24)
    # The model's key order, so that a body validated and dumped again is the same bytes.
    return {key: params[key] for key in SESSION_START_KEYS if key in params}
