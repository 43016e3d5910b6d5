"""Where Adobe's definitions leave a choice, the one the answer key makes: all in one place.

Each field names the conflict or gap of `ADOBE-METRICS.md` (sections 4 and 5.4) it settles, the
reading playersim takes, and why. `ADOBE` is what every report uses unless told otherwise; a user
who knows their back end reads a point differently passes their own:
`Readings(marker_length="whole seconds")`. docs/answer-key.md lists the same choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ADOBE", "Readings"]


@dataclass(frozen=True, slots=True)
class Readings:
    """The answer key's choices where Adobe's pages disagree or are silent."""

    # 5.4.1: ads of a pre-roll accrue ad time (and media time) before the first `play`. Adobe's
    # Timeline 1 plays its pre-roll in the "playing" state and tells players not to send play
    # before a pre-roll, so a pre-roll is played time (Timeline 1: ad time 30 s, media 75 s).
    preroll_counts_before_play: bool = True
    # C6: progress markers compare the highest main-content playhead with each share of the
    # length as sent ("exact", a float) or as the reporting schema stores it ("whole seconds",
    # the integer). Exact: Timeline 1 reaches 10/25/50 % and not 75 % (45 < 45.25).
    marker_length: Literal["exact", "whole seconds"] = "exact"
    # C6: a marker is reached when the playhead is at or past its threshold (">=": "first
    # reaches"), or only beyond it (">": "crosses").
    marker_at_threshold: bool = True
    # C7: the numerator of average minute audience: content time spent (the metric's page, the
    # XDM page and the Edge example's 48/100), or media time spent (the older AA table).
    ama_numerator: Literal["content", "media"] = "content"
    # C13: a stall is main content playing (not paused, buffering or in an ad break) whose
    # playhead stays put across this many consecutive events at least `stall_event_gap_ms`
    # apart (events a millisecond apart, as one instant's several are sent, are one event).
    stall_events: int = 3
    stall_event_gap_ms: int = 1_000
    # C1: a sessionStart flagged `media.resume` still counts a media start (the Media starts
    # page: one per session), besides setting Content resumes.
    resume_counts_media_start: bool = True
    # C11: Buffer events count every `bufferStart` (the current page), not only a change into
    # buffering from another state (the retired one); they differ only for a repeated one.
    count_repeated_buffer_starts: bool = True
    # C3: `sessionComplete` does not close the session (current pages): the back end closes it
    # at the idle timeout after the last event, so seconds since last call is 600 unless a
    # `sessionEnd` followed. Playback time stops accruing at the complete either way.
    complete_closes_session: bool = False
    # G4: an `error` while main content plays stops playback until the next `play` (Adobe's
    # Timeline 2 plays again "after recovering from the error"), unless the playhead moves on
    # meanwhile: then the player played through it, and that time is content time.
    error_stops_playback: bool = True
    # G7: live and linear content (length 86400, the playhead the second of the day) gets its
    # markers as any other: Adobe documents no exception, so a viewer tuning in at noon has
    # reached 50 %. False leaves live and linear sessions without progress markers.
    live_progress_markers: bool = True


# The readings every report uses unless a caller passes its own.
ADOBE: Final = Readings()
