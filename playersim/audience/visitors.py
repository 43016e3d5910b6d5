"""The audience: households of people with stable ids, the devices they own, how often they watch.

A run has one audience. Person `n` is the same person in every profile of the run and in every
run with the same catalogue seed: their ids are derived from the seed and `n` (SHA-256), not
drawn in sequence, so a profile with 400 visitors and another with 600 share the first 400
people, and adding a profile to a mix changes nobody. People live in households (one to six
people, most of two or fewer); a household shares its living-room devices (a Roku, an Apple TV,
a Fire TV) and each person has their own browser and phone. The MCA ids follow how Adobe
identifies people:

- `visitor.customerIDs` (a signed-in account) belongs to the person on their own devices, and
  to the household's account holder on the shared TV devices, as streaming accounts work;
- `analytics.visitorId`, the ECID (`visitor.marketingCloudUserId`) and `appInstallationId`
  belong to one device, as a cookie or an app install does (a browser has no app install);
- each device keeps its model, OS, browser and app build (`playersim.audience.devices`).

People are unequally active (a lognormal weight), so a minority come back again and again and
many watch once: the shape of a real audience, and what returning-visitor reports need. A
household lives in one region (time zone), drawn from the profile's regions.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Final

from playersim.audience.devices import PLATFORMS, Device, device_for

__all__ = ["Audience", "Visitor"]

# Share of households (TV devices) or people (the rest) owning each device family: most people
# have a browser and a phone, fewer households a TV box (assumption, ours; Conviva counts 3.4
# streaming apps per household, REALISM-SOURCES 3.1). A person owns at least one family; a
# profile's viewers are the people owning one it plays on.
OWNERSHIP: Final[dict[str, float]] = {
    "web": 0.7,
    "ios": 0.45,
    "android": 0.5,
    "roku": 0.4,
    "tvos": 0.15,
    "firetv": 0.3,
}
# The living-room devices a household shares; the others are each person's own.
SHARED: Final = frozenset({"roku", "tvos", "firetv"})
# Household sizes, 1 to 6 people: US Census Bureau, America's Families and Living Arrangements
# (2023): 29 % one person, 35 % two, 15 % three, 12 % four, 6 % five, 3 % six or more.
HOUSEHOLD_SIZES: Final = (0.29, 0.35, 0.15, 0.12, 0.06, 0.03)
SIGNED_IN_SHARE: Final = 0.6
_MAX_CACHED_PEOPLE: Final = 200_000  # people whose activity and devices an audience remembers
_NORMAL: Final = NormalDist()


@dataclass(frozen=True, slots=True)
class Visitor:
    """One person on one device, with the ids that stay stable across their sessions."""

    visitor_id: str  # analytics.visitorId
    ecid: str  # visitor.marketingCloudUserId: 38 digits
    app_installation_id: str | None  # appInstallationId: one per app install; None in a browser
    device: Device
    customer_id: str | None  # a signed-in account, or None for an anonymous viewer
    person: int = 0  # which person of the audience
    household: int = 0  # which household: its people share its TV devices
    timezone: str = "UTC"  # where the household lives (the profile's region)


class Audience:
    """The people of a run: person `n`'s household, ids, devices and activity, from the seed.

    >>> audience = Audience(seed=1)
    >>> audience.visitor(7, "ios") == Audience(seed=1).visitor(7, "ios")
    True
    >>> audience.visitor(7, "ios").customer_id == audience.visitor(7, "web").customer_id
    True
    """

    def __init__(self, seed: int | str) -> None:
        self.seed = str(seed)
        self._people: dict[int, tuple[float, frozenset[str]]] = {}
        # The first person of each household, in order (extended as people are asked about).
        self._first: list[int] = [0]

    def _digest(self, *parts: object) -> bytes:
        material = ":".join(["playersim", self.seed, *map(str, parts)])
        return hashlib.sha256(material.encode()).digest()

    def _unit(self, *parts: object) -> float:
        """A uniform number in (0, 1) that is a fixed function of the seed and `parts`."""
        value = int.from_bytes(self._digest(*parts)[:7])
        return (value + 0.5) / 2**56

    def _units(self, *parts: object) -> list[float]:
        digest = self._digest(*parts)
        return [(int.from_bytes(digest[i : i + 4]) + 0.5) / 2**32 for i in range(0, 32, 4)]

    def household(self, person: int) -> int:
        """The household person `n` lives in: households are runs of consecutive people."""
        first = self._first
        while first[-1] <= person:
            unit = self._unit("household", len(first) - 1)
            size = 1
            for share in HOUSEHOLD_SIZES:
                unit -= share
                if unit < 0:
                    break
                size += 1
            first.append(first[-1] + min(size, len(HOUSEHOLD_SIZES)))
        low, high = 0, len(first) - 1  # first[low] <= person < first[high]
        while high - low > 1:
            middle = (low + high) // 2
            if first[middle] <= person:
                low = middle
            else:
                high = middle
        return low

    def _person(self, person: int) -> tuple[float, frozenset[str]]:
        """Person `n`'s activity draw (a uniform number) and the device families they can use:
        their own, and their household's."""
        cached = self._people.get(person)
        if cached is not None:
            return cached
        units = self._units("person", person)
        home = self._units("home", self.household(person))
        owned = set()
        for i, family in enumerate(OWNERSHIP):
            drawn = home[1 + i] if family in SHARED else units[1 + i]
            if drawn < OWNERSHIP[family]:
                owned.add(family)
        if not owned:
            # Everyone owns something: the family they came closest to owning.
            ratios = {f: units[1 + i] / OWNERSHIP[f] for i, f in enumerate(OWNERSHIP)}
            owned = {min(ratios, key=ratios.__getitem__)}
        result = (units[0], frozenset(owned))
        if len(self._people) < _MAX_CACHED_PEOPLE:
            self._people[person] = result
        return result

    def activity(self, person: int, sigma: float) -> float:
        """How much person `n` watches, relative to others: lognormal, median 1."""
        if sigma == 0:
            return 1.0
        return math.exp(sigma * _NORMAL.inv_cdf(self._person(person)[0]))

    def owns(self, person: int, family: str) -> bool:
        """Whether person `n` watches on this device family (theirs or their household's)."""
        return family in self._person(person)[1]

    def region(self, person: int, regions: Sequence[tuple[str, float]]) -> str:
        """The time zone person `n`'s household lives in, drawn with the regions' shares."""
        unit = self._unit("region", self.household(person)) * sum(s for _, s in regions)
        for zone, share in regions:
            unit -= share
            if unit < 0:
                return zone
        return regions[-1][0]

    def customer_id(self, person: int) -> str | None:
        if self._unit("signed-in", person) >= SIGNED_IN_SHARE:
            return None
        return self._digest("customer", person).hex()[:20]

    def visitor(self, person: int, family: str, timezone: str = "UTC") -> Visitor:
        """Person `n` on their device of this family (their household's, for a TV device)."""
        household = self.household(person)
        shared = family in SHARED
        # A shared device is the household's, signed in to the account holder's account.
        owner: tuple[object, ...] = ("home", household) if shared else (person,)
        account = self._first[household] if shared else person
        ids = self._digest("device", *owner, family)
        hexed = ids[:16].hex().upper()
        ecid_number = int.from_bytes(ids[16:32]) % (9 * 10**37) + 10**37  # 38 digits
        device = device_for(family, self._units("build", *owner, family))
        install = None
        if device.app_installed:
            install = str(uuid.UUID(bytes=self._digest("install", *owner, family)[:16], version=4))
        return Visitor(
            visitor_id=f"{hexed[:16]}-{hexed[16:]}",
            ecid=str(ecid_number),
            app_installation_id=install,
            device=device,
            customer_id=self.customer_id(account),
            person=person,
            household=household,
            timezone=timezone,
        )


@lru_cache(maxsize=8)  # a process runs a few seeds at most; older audiences go
def audience(seed: str) -> Audience:
    """The audience of a run with this seed (shared by every profile of the run)."""
    return Audience(seed)


assert set(OWNERSHIP) == set(PLATFORMS), "every platform can be owned"
