"""The audience: people with stable ids, the devices they own, and how often they watch.

A run has one audience. Person `n` is the same person in every profile of the run and in every
run with the same seed: their ids are derived from the seed and `n` (SHA-256), not drawn in
sequence, so a profile with 400 visitors and another with 600 share the first 400 people, and
adding a profile to a mix changes nobody. The MCA ids follow how Adobe identifies people:

- `visitor.customerIDs` (a signed-in account) belongs to the person, on all their devices;
- `analytics.visitorId`, the ECID (`visitor.marketingCloudUserId`) and `appInstallationId`
  belong to one person on one device, as a cookie or an app install does.

People are unequally active (a lognormal weight), so a minority come back again and again and
many watch once: the shape of a real audience, and what returning-visitor reports need.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Final

from playersim.audience.devices import DEVICES, Device

__all__ = ["Audience", "Visitor"]

# Share of people who own each device family: most have a browser and a phone, fewer a TV box.
# A person owns at least one family; a profile's viewers are the people owning one it plays on.
OWNERSHIP: Final[dict[str, float]] = {
    "web": 0.7,
    "ios": 0.45,
    "android": 0.5,
    "roku": 0.25,
    "tvos": 0.15,
    "firetv": 0.2,
}
SIGNED_IN_SHARE: Final = 0.6
_MAX_CACHED_PEOPLE: Final = 200_000  # people whose activity and devices an audience remembers
_NORMAL: Final = NormalDist()


@dataclass(frozen=True, slots=True)
class Visitor:
    """One person on one device, with the ids that stay stable across their sessions."""

    visitor_id: str  # analytics.visitorId
    ecid: str  # visitor.marketingCloudUserId: 38 digits
    app_installation_id: str  # appInstallationId: one per app install
    device: Device
    customer_id: str | None  # a signed-in account, or None for an anonymous viewer
    person: int = 0  # which person of the audience


class Audience:
    """The people of a run: person `n`'s ids, devices and activity, derived from the seed.

    >>> audience = Audience(seed=1)
    >>> audience.visitor(7, "ios") == Audience(seed=1).visitor(7, "ios")
    True
    >>> audience.visitor(7, "ios").customer_id == audience.visitor(7, "web").customer_id
    True
    """

    def __init__(self, seed: int | str) -> None:
        self.seed = str(seed)
        self._people: dict[int, tuple[float, frozenset[str]]] = {}

    def _digest(self, *parts: object) -> bytes:
        material = ":".join(["playersim", self.seed, *map(str, parts)])
        return hashlib.sha256(material.encode()).digest()

    def _unit(self, *parts: object) -> float:
        """A uniform number in (0, 1) that is a fixed function of the seed and `parts`."""
        value = int.from_bytes(self._digest(*parts)[:7])
        return (value + 0.5) / 2**56

    def _person(self, person: int) -> tuple[float, frozenset[str]]:
        """Person `n`'s activity draw (a uniform number) and the device families they own.

        One digest per person gives both (its bytes sliced into uniform numbers), so building
        the pool of a profile with tens of thousands of people stays cheap.
        """
        cached = self._people.get(person)
        if cached is not None:
            return cached
        digest = self._digest("person", person)
        units = [(int.from_bytes(digest[i : i + 4]) + 0.5) / 2**32 for i in range(0, 28, 4)]
        owned = {f for f, u in zip(OWNERSHIP, units[1:], strict=True) if u < OWNERSHIP[f]}
        if not owned:
            # Everyone owns something: the family they came closest to owning.
            ratios = {f: u / OWNERSHIP[f] for f, u in zip(OWNERSHIP, units[1:], strict=True)}
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
        """Whether person `n` watches on this device family."""
        return family in self._person(person)[1]

    def customer_id(self, person: int) -> str | None:
        if self._unit("signed-in", person) >= SIGNED_IN_SHARE:
            return None
        return self._digest("customer", person).hex()[:20]

    def visitor(self, person: int, family: str) -> Visitor:
        """Person `n` on their device of this family."""
        ids = self._digest("device", person, family)
        hexed = ids[:16].hex().upper()
        ecid_number = int.from_bytes(ids[16:32]) % (9 * 10**37) + 10**37  # 38 digits
        install = uuid.UUID(bytes=self._digest("install", person, family)[:16], version=4)
        return Visitor(
            visitor_id=f"{hexed[:16]}-{hexed[16:]}",
            ecid=str(ecid_number),
            app_installation_id=str(install),
            device=DEVICES[family],
            customer_id=self.customer_id(person),
            person=person,
        )


@lru_cache(maxsize=8)  # a process runs a few seeds at most; older audiences go
def audience(seed: str) -> Audience:
    """The audience of a run with this seed (shared by every profile of the run)."""
    return Audience(seed)
