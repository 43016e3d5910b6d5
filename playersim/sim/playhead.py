"""The playhead: where in the content (or in the day) the player is, at any instant.

MCA-SPEC.md section 4: for on-demand content the playhead is the position in the content, moving
with the clock only while main content plays and never reaching `media.length`; for live and
linear content it is the second of the UTC day while playing, held while stopped, and back at the
current second when playback resumes. Positions are integer milliseconds so that arithmetic on
them is exact and the same seed always gives the same numbers.
"""

from __future__ import annotations

from playersim.mca.spec import DAY_MS

__all__ = ["Playhead"]


class Playhead:
    """The playhead of one session. It never reads a clock: callers pass the instant."""

    __slots__ = ("_held_ms", "_length_ms", "_live", "_since")

    def __init__(self, *, live: bool, length_ms: int, at: int, position_ms: int = 0) -> None:
        self._live = live
        self._length_ms = length_ms
        self._since: int | None = None  # the instant playback (re)started, while playing
        # On-demand content starts at `position_ms` (0, or where a continued viewing left off).
        self._held_ms = self._second_of_day(at) if live else position_ms

    @property
    def live(self) -> bool:
        return self._live

    @property
    def playing(self) -> bool:
        return self._since is not None

    def at(self, now: int) -> int:
        """The playhead in milliseconds at instant `now`, as sent on the wire."""
        if self._since is None:
            return self._held_ms
        if self._live:
            return self._second_of_day(now)
        # On-demand content stops just short of its end: 0 <= playhead < media.length.
        return min(self._held_ms + (now - self._since), self._length_ms - 1)

    def position(self, now: int) -> int:
        """Where on-demand content is at `now`, uncapped: `length` once it has reached the end.

        Mechanics (chapters, cue points, the end) reason about this; only the wire needs the
        playhead kept below `media.length`.
        """
        if self._since is None or self._live:
            return self._held_ms if self._since is None else self.at(now)
        return min(self._held_ms + (now - self._since), self._length_ms)

    def resume(self, now: int) -> None:
        """Main content starts (or restarts) playing at `now`."""
        if self._since is None:
            self._since = now

    def hold(self, now: int) -> None:
        """Main content stops at `now`: pause, buffering, an ad break, the end."""
        self._held_ms = self.at(now)
        self._since = None

    def seek(self, position_ms: int, now: int) -> None:
        """Jump to `position_ms` (on-demand), keeping the playing/held state."""
        clamped = max(0, min(position_ms, self._length_ms - 1))
        self._held_ms = clamped
        if self._since is not None:
            self._since = now

    @staticmethod
    def _second_of_day(now: int) -> int:
        # Whole seconds: "the current second of the day" (43200 at 12:00:00 UTC).
        return now % DAY_MS // 1000 * 1000
