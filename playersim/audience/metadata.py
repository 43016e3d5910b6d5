"""Plausible, seeded metadata: the pools a run's sessions draw from, and sessionStart params.

Faker is used once per run and content, to build pools: the catalogue
(`playersim.audience.catalog`) and the ad creatives; the people come from the run's audience
(`playersim.audience.visitors`). Players then
pick from the pools with their own session RNG and never call Faker per event: that keeps a
session's values consistent and a run byte-for-byte reproducible for a seed.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from faker import Faker

from playersim.audience.catalog import AdCreative, Title, build_ads, build_titles
from playersim.audience.profiles import Profile
from playersim.audience.visitors import Audience, Visitor, audience
from playersim.mca.wire import SESSION_START_KEYS, json_seconds

__all__ = ["DEFAULT_CATALOG_SEED", "MetadataPool", "Visitor", "day_part", "session_params"]

# The catalogue (titles, shows, ads) and the people who watch are the same in every run unless a
# run asks for others: repeated demo runs and pipeline tests, whatever their traffic seed, see
# the same titles and the same viewers. The traffic seed decides who watches what, and when.
DEFAULT_CATALOG_SEED: Final = "0"


@dataclass(frozen=True, slots=True)
class MetadataPool:
    """The titles, viewers and ads one profile draws from during a run."""

    titles: tuple[Title, ...]
    ads: tuple[AdCreative, ...]
    audience: Audience
    # Cumulative popularity of titles: rank r is watched in proportion to 1/(r+1) (Zipf), the
    # long-tailed shape of real catalogues, where a few hits get most of the views.
    _popularity: tuple[float, ...] = field(repr=False)
    # The people who watch this profile, one entry per (person, device family) they can use it
    # on, with cumulative weights: their activity times the profile's weight for the device.
    _viewers: tuple[tuple[int, str], ...] = field(repr=False)
    _viewer_weights: tuple[float, ...] = field(repr=False)
    _next: dict[str, Title] = field(repr=False)

    @staticmethod
    def build(profile: Profile, catalog_seed: int | str = DEFAULT_CATALOG_SEED) -> MetadataPool:
        """Build (or reuse) the pool for this profile and catalogue seed (not the traffic's)."""
        key = (profile.model_dump_json(), str(catalog_seed))
        pool = _POOLS.get(key)
        if pool is None:
            pool = _build(profile, str(catalog_seed))
            if len(_POOLS) >= 64:  # a small cache: runs use a handful of profiles
                _POOLS.pop(next(iter(_POOLS)))
            _POOLS[key] = pool
        return pool

    def pick_title(self, rng: random.Random) -> Title:
        return rng.choices(self.titles, cum_weights=self._popularity)[0]

    def pick_visitor(self, rng: random.Random) -> Visitor:
        person, family = rng.choices(self._viewers, cum_weights=self._viewer_weights)[0]
        return self.audience.visitor(person, family)

    def pick_ad(self, rng: random.Random) -> AdCreative:
        return self.ads[rng.randrange(len(self.ads))]

    def next_title(self, title: Title) -> Title | None:
        """The episode after this one in its show, if any (what autoplay plays next)."""
        return self._next.get(title.media_id)


_POOLS: dict[tuple[str, str], MetadataPool] = {}


def _build(profile: Profile, seed: str) -> MetadataPool:
    # The catalogue depends on the content (and ad breaks) only, not on the profile's name, so
    # two profiles of the same content in one run watch the same titles under the same ids.
    content = profile.content.model_dump_json()
    fake = Faker(profile.audience.locale)
    fake.seed_instance(f"{seed}:catalog:{content}")
    # Numbers that are not Faker's (lengths, chapters, ad lengths) come from their own RNG, so
    # adding a Faker field later does not shift every length of every run.
    numbers = random.Random(f"{seed}:numbers:{content}")
    titles = build_titles(fake, profile, numbers)
    ads_config = profile.ads.model_dump_json()
    fake.seed_instance(f"{seed}:ads:{ads_config}")
    ads = build_ads(fake, profile, random.Random(f"{seed}:ad-numbers:{ads_config}"))
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(titles))))
    successor = {
        a.media_id: b
        for a, b in itertools.pairwise(titles)
        if "media.show" in a.metadata and a.metadata.get("media.show") == b.metadata["media.show"]
    }
    viewers, weights = _viewers(audience(seed), profile)
    return MetadataPool(
        tuple(titles), tuple(ads), audience(seed), tuple(cumulative), viewers, weights, successor
    )


def _viewers(
    people: Audience, profile: Profile
) -> tuple[tuple[tuple[int, str], ...], tuple[float, ...]]:
    settings = profile.audience
    families = {family: w for family, w in settings.devices.items() if w > 0}
    viewers: list[tuple[int, str]] = []
    weights: list[float] = []
    for person in range(settings.visitors):
        owned = [f for f in families if people.owns(person, f)]
        if not owned:
            continue  # watches on devices this service does not serve
        share = people.activity(person, settings.activity_sigma) / sum(families[f] for f in owned)
        for family in owned:
            viewers.append((person, family))
            weights.append(share * families[family])
    if not viewers:
        # Every person owns something, but maybe nothing this profile plays on: then the
        # first people watch on its likeliest device, rather than nobody at all.
        family = max(families, key=lambda f: families[f])
        viewers = [(person, family) for person in range(settings.visitors)]
        weights = [people.activity(p, settings.activity_sigma) for p in range(settings.visitors)]
    return tuple(viewers), tuple(itertools.accumulate(weights))


def day_part(hour: int) -> str:
    """The broadcast day part of an hour of the viewer's local day (media.dayPart)."""
    if 6 <= hour < 10:
        return "Morning"
    if 10 <= hour < 16:
        return "Daytime"
    if 16 <= hour < 20:
        return "Early Fringe"
    if 20 <= hour < 23:
        return "Primetime"
    return "Late Night"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_hour(instant_ms: int, timezone: str) -> int:
    return datetime.fromtimestamp(instant_ms / 1000, _zone(timezone)).hour


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
        # In the audience's local time: prime time in New York is 20:00 there, not in UTC.
        params["media.dayPart"] = day_part(_local_hour(start_ms, profile.arrivals.timezone))
    # The model's key order, so that a body validated and dumped again is the same bytes.
    return {key: params[key] for key in SESSION_START_KEYS if key in params}
