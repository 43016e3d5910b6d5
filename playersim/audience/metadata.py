"""Plausible, seeded metadata: the pools a run's sessions draw from, and sessionStart params.

Faker is used once per run and content, to build pools: the catalogue
(`playersim.audience.catalog`) and the ad creatives; the people come from the run's audience
(`playersim.audience.visitors`). Players then
pick from the pools with their own session RNG and never call Faker per event: that keeps a
session's values consistent and a run byte-for-byte reproducible for a seed.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from faker import Faker

from playersim.audience.arrivals import Shape
from playersim.audience.catalog import AdCreative, Title, build_ads, build_titles
from playersim.audience.devices import hour_factor
from playersim.audience.profiles import CustomField, Profile
from playersim.audience.streams import Rng
from playersim.audience.visitors import Audience, Visitor, audience
from playersim.mca.wire import SESSION_START_KEYS, json_seconds

__all__ = [
    "DEFAULT_CATALOG_SEED",
    "MetadataPool",
    "Viewer",
    "Visitor",
    "day_part",
    "session_params",
]

# The catalogue (titles, shows, ads) and the people who watch are the same in every run unless a
# run asks for others: repeated demo runs and pipeline tests, whatever their traffic seed, see
# the same titles and the same viewers. The traffic seed decides who watches what, and when.
DEFAULT_CATALOG_SEED: Final = "0"


@dataclass(frozen=True, slots=True)
class _Region:
    """The viewers of one time zone: for each device family, its owners and their weights."""

    zone: str
    share: float
    shape: Shape
    families: tuple[str, ...]
    family_weights: tuple[float, ...]  # the profile's weight of each family
    people: tuple[tuple[int, ...], ...]  # per family: the people who can watch on it
    cumulative: tuple[tuple[float, ...], ...]  # per family: their running activity totals


@dataclass(frozen=True, slots=True)
class MetadataPool:
    """The titles, viewers and ads one profile draws from during a run."""

    titles: tuple[Title, ...]
    ads: tuple[AdCreative, ...]
    audience: Audience
    # Cumulative popularity of titles: rank r is watched in proportion to 1/(r+1) (Zipf), the
    # long-tailed shape of real catalogues, where a few hits get most of the views.
    _popularity: tuple[float, ...] = field(repr=False)
    _regions: tuple[_Region, ...] = field(repr=False)
    _next: dict[str, Title] = field(repr=False)
    _custom: tuple[tuple[str, CustomField], ...] = field(repr=False, default=())
    # The last instant `pick_viewer` was asked about, and its regions' weights then: a viewing
    # whose viewer is busy draws again at the same instant (`DeviceLedger.pick`), and the
    # weights are most of a draw's cost. One entry, [instant, region weights, {region: family
    # weights}], replaced whole for another instant (so a thread holding one reads its own).
    _at: list[list[Any]] = field(
        repr=False, default_factory=lambda: [[None, None, {}]], compare=False
    )

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

    def pick_title(self, rng: Rng) -> Title:
        return rng.choices(self.titles, cum_weights=self._popularity)[0]

    def pick_visitor(self, rng: Rng, at: int | None = None) -> Visitor:
        """A viewer for a session starting at `at`: a region as busy as its local hour makes
        it, a device family as used at that hour (TVs in the evening, desktops at lunch), then
        one of its people, the more active the likelier. Three draws from `rng`."""
        return self.visitor_of(self.pick_viewer(rng, at))

    def pick_viewer(self, rng: Rng, at: int | None = None) -> Viewer:
        """`pick_visitor`'s draws, before its `Visitor` is made: who (a person of the
        audience), on which device family, where. The same three draws from `rng`.

        Making the Visitor (its device, its ids, hashed from the audience's seed) is most of
        a pick's cost, so a caller that may turn the person away (`DeviceLedger.pick`, when
        they are watching already) asks this first, and `visitor_of` only for one it keeps.
        """
        regions = self._regions
        memo = self._at[0]
        if memo[0] != at or at is None:
            memo = self._at[0] = [at, None, {}]
        if len(regions) == 1:
            rng.random()  # the same draws with one region or several
            chosen = 0
        else:
            weights = memo[1]
            if weights is None:
                weights = [
                    r.share * (r.shape.multiplier(at) if at is not None else 1.0) for r in regions
                ]
                if not any(weights):
                    # Every region asleep by the profile's curve, yet an arrival (a run's own
                    # shape, a closed workload): the regions by their shares.
                    weights = [r.share for r in regions]
                memo[1] = weights
            chosen = _index(rng, weights)
        region = regions[chosen]
        weights = memo[2].get(chosen)
        if weights is None:
            hour = None if at is None else _local_hour(at, region.zone)
            weights = memo[2][chosen] = [
                w * (hour_factor(f, hour) if hour is not None else 1.0)
                for f, w in zip(region.families, region.family_weights, strict=True)
            ]
        which = _index(rng, weights)
        people = region.people[which]
        cumulative = region.cumulative[which]
        person = people[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
        return Viewer(person, region.families[which], region.zone)

    def visitor_of(self, viewer: Viewer) -> Visitor:
        """The Visitor a drawn viewer is: the person on their device of that family."""
        return self.audience.visitor(viewer.person, viewer.family, viewer.zone)

    def pick_ad(self, rng: Rng) -> AdCreative:
        return self.ads[rng.randrange(len(self.ads))]

    def next_title(self, title: Title) -> Title | None:
        """The episode after this one in its show, if any (what autoplay plays next)."""
        return self._next.get(title.media_id)

    def custom_metadata(self, visitor: Visitor, title: Title, session: str) -> dict[str, str]:
        """The sessionStart customMetadata: the device's, then the profile's own keys, each
        drawn per session, per person or per title as the profile says."""
        data = visitor.device.custom_metadata()
        seed = self.audience.seed
        for key, spec in self._custom:
            if spec.signed_out is not None and visitor.customer_id is None:
                data[key] = spec.signed_out  # an anonymous viewer's (a free tier, say)
                continue
            # Per viewer: per account (a person's, or on a shared TV the household's), or for
            # someone not signed in, per device (all an anonymous viewer is known by).
            viewer = visitor.customer_id or visitor.visitor_id
            which = {"session": session, "viewer": viewer, "title": title.media_id}
            rng = random.Random(f"{seed}:custom:{key}:{spec.per}:{which[spec.per]}")
            weights = spec.weights or [1.0] * len(spec.values)
            data[key] = spec.values[_index(rng, weights)]
        return data


def _index(rng: Rng, weights: Sequence[float]) -> int:
    """An index drawn with these weights (one draw; a weight of 0 is never drawn)."""
    point = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0 and weight > 0:
            return index
    return max(i for i, w in enumerate(weights) if w > 0)


class Viewer(NamedTuple):
    """A viewer drawn for a session (`MetadataPool.pick_viewer`), before their Visitor is made."""

    person: int  # which person of the audience
    family: str  # the device family they watch on
    zone: str  # the time zone they live in


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
    return MetadataPool(
        tuple(titles),
        tuple(ads),
        audience(seed),
        tuple(cumulative),
        _regions(audience(seed), profile),
        successor,
        tuple(profile.custom_metadata.items()),
    )


def _regions(people: Audience, profile: Profile) -> tuple[_Region, ...]:
    settings = profile.audience
    families = {family: w for family, w in settings.devices.items() if w > 0}
    zones = profile.arrivals.zones()
    shape = profile.arrivals.shape()
    owners: dict[tuple[str, str], list[int]] = {}
    weights: dict[tuple[str, str], list[float]] = {}
    for person in range(settings.visitors):
        zone = people.region(person, zones)
        activity = people.activity(person, settings.activity_sigma)
        for family in families:
            if people.owns(person, family):
                owners.setdefault((zone, family), []).append(person)
                weights.setdefault((zone, family), []).append(activity)
    regions = []
    for zone, share in zones:
        present = [f for f in families if (zone, f) in owners]
        if not present:
            continue  # nobody lives there, or nobody there owns a device this profile plays on
        regions.append(
            _Region(
                zone,
                share,
                shape.local(zone),
                tuple(present),
                tuple(families[f] for f in present),
                tuple(tuple(owners[zone, f]) for f in present),
                tuple(tuple(itertools.accumulate(weights[zone, f])) for f in present),
            )
        )
    if not regions:
        # Every person owns something, but maybe nothing this profile plays on: then they
        # watch on its likeliest device, rather than nobody at all.
        family = max(families, key=lambda f: families[f])
        everyone = tuple(range(settings.visitors))
        activities = [people.activity(p, settings.activity_sigma) for p in everyone]
        zone = zones[0][0]
        regions.append(
            _Region(
                zone, 1.0, shape.local(zone), (family,), (1.0,), (everyone,),
                (tuple(itertools.accumulate(activities)),),
            )
        )  # fmt: skip
    return tuple(regions)


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
    if visitor.app_installation_id is not None:
        params["appInstallationId"] = visitor.app_installation_id
    if visitor.customer_id is not None:
        params["visitor.customerIDs"] = {"userId": {"id": visitor.customer_id, "authState": 1}}
    if resume:
        params["media.resume"] = True
    params.update(title.metadata)
    if content.stream_type == "audio":
        params.pop("media.streamFormat", None)
    if content.live:
        # In the viewer's local time: prime time in New York is 20:00 there, not in UTC.
        params["media.dayPart"] = day_part(_local_hour(start_ms, visitor.timezone))
    params.update(title.start_params)  # a script's, as written
    # The model's key order, so that a body validated and dumped again is the same bytes.
    return {key: params[key] for key in SESSION_START_KEYS if params.get(key) is not None}
