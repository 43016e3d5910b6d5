"""Shares of an audience: one run's traffic made by several processes, or several machines.

A run's viewings are coupled: a viewer is picked only if their device is free, and a device is
free once the viewing on it has ended; the next episode follows the one before. So a part of an
audience cannot be simulated alone. Every process of a shared run therefore plays the whole
audience's schedule (the arrivals, the viewers, each viewing's events) but sends only its own
viewings' requests: the viewings whose first arrival number is `part` modulo `parts`. The others
(its shadow) are answered on the spot as a collector that accepts everything answers, and
counted nowhere; the line numbers they would have had in the recording are skipped. Each
process's recording lines carry the number the line has in the whole run's recording (`seq`),
so the parts merge into exactly the recording one process writes.

What this costs: each process generates every viewing's events (the player's work), and delivers
(validates, checks, records, or sends over HTTP) only its own; the delivery is the larger part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from playersim.engines.delivery import Dialect, Outbox
from playersim.mca.api import DOWNLOADED, SESSIONS_PATH, Response
from playersim.mca.wire import WireBody

if TYPE_CHECKING:
    from playersim.sim.player import Player

__all__ = ["Shadow", "Share", "parse_share"]

# The session a shadow's sessionStart opens: never sent anywhere, never recorded.
_SHADOW_SID: Final = "0" * 64
_204: Final = Response(204)
_SHARE: Final = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# More parts than this would leave each with a handful of viewings: a mistyped number.
MAX_PARTS: Final = 4096


@dataclass(frozen=True, slots=True)
class Share:
    """Part `part` (from 1) of `parts`: the viewings whose first arrival number is `part - 1`
    modulo `parts`, with the next episodes they go on to.

    >>> Share(1, 2).owns(4), Share(1, 2).owns("4.next"), Share(2, 2).owns(5)
    (True, True, True)
    """

    part: int
    parts: int

    def __post_init__(self) -> None:
        if not 1 <= self.parts <= MAX_PARTS or not 1 <= self.part <= self.parts:
            raise ValueError(
                f"a share is K/N with 1 <= K <= N <= {MAX_PARTS:,}, got {self.part}/{self.parts}"
            )

    def owns(self, index: int | str) -> bool:
        """Whether this share sends the viewing numbered `index` (an arrival's number, or
        `"12.next"` for the episode arrival 12 went on to)."""
        if type(index) is not int:
            head = str(index).split(".", 1)[0]
            index = int(head) if head.isdigit() else sum(head.encode())
        return index % self.parts == self.part - 1

    def __str__(self) -> str:
        return f"{self.part}/{self.parts}"


def parse_share(text: str) -> Share:
    """`"2/4"` as a `Share` (ValueError naming what is wrong).

    >>> parse_share("2/4")
    Share(part=2, parts=4)
    """
    matched = _SHARE.fullmatch(text)
    if matched is None:
        raise ValueError(f"a share is written K/N (part K of N, from 1), got {text!r}")
    return Share(int(matched[1]), int(matched[2]))


class Shadow:
    """The viewings another process sends: played, their requests answered on the spot as an
    accepting collector answers (so each player goes on as it would), and nothing counted.

    `lines` counts every request settled, the shadow's and the process's own alike, when the
    engine numbers its recording (the number of the next line of the whole run's recording).
    """

    __slots__ = ("_opened", "dialect", "lines", "share")

    def __init__(self, share: Share, dialect: Dialect) -> None:
        self.share = share
        self.dialect = dialect
        self.lines = 0
        # What an accepting collector answers a sessionStart (and a downloaded session) with.
        if getattr(dialect, "name", "mca") == "edge":
            self._opened = Response(200, session=_SHADOW_SID)
        else:
            self._opened = Response(201, location=f"{SESSIONS_PATH}/{_SHADOW_SID}")

    def owns(self, player: Player) -> bool:
        return self.share.owns(player.index)

    def send(self, player: Player, outbox: Outbox, bodies: list[WireBody]) -> None:
        """Queue `bodies` and settle every request they make at once, as answered."""
        outbox.push(bodies)
        if outbox.offline and not outbox.released:
            return  # watched offline: nothing goes until the device is back online
        opened, dialect = self._opened, self.dialect
        while (request := outbox.next_request()) is not None:
            opening = request.event_type == DOWNLOADED or dialect.is_start(request)
            response = opened if opening else _204
            outbox.settle(request, response)
            self.lines += 1
            if opening:
                player.on_response(request.event_type, response.status, sid=response.sid)
