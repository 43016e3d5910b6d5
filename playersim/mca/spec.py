"""The numbers MCA-SPEC.md fixes, in one place, for the players that obey them and the
collectors that enforce them. Durations are milliseconds, the unit of `ts`."""

from __future__ import annotations

from typing import Final

__all__ = [
    "AD_PING_MS",
    "DAY_MS",
    "GAP_SLACK_MS",
    "IDLE_TIMEOUT_MS",
    "LIVE_CONTENT_TYPES",
    "MAX_INTEGER",
    "MAX_STATES",
    "MAX_TS",
    "PING_MS",
    "RESTART_MS",
    "STALL_TIMEOUT_MS",
]

PING_MS: Final = 10_000  # a ping every 10 s in every state (section 5)
AD_PING_MS: Final = 1_000  # every second during ads with granular ad tracking (section 5)
IDLE_TIMEOUT_MS: Final = 10 * 60_000  # no event for 10 minutes closes a session (section 5)
STALL_TIMEOUT_MS: Final = 30 * 60_000  # no playhead change for 30 minutes closes it (section 5)
RESTART_MS: Final = 24 * 3_600_000  # SDKs restart a session after 24 hours (section 5)
MAX_STATES: Final = 10  # distinct player states a session keeps (section 3)
DAY_MS: Final = 86_400_000  # live playheads are the second of this UTC day (section 4)
# How far past the ping interval a gap between two events may run before the conformance report
# calls it one. A real player's ping timer runs on a busy main thread and its requests wait for a
# socket, so its pings land a little late; a second is what a real-time run, a Locust user or a
# real player needs (playersim's assumption: Adobe documents the interval, not a tolerance).
GAP_SLACK_MS: Final = 1_000
# `ts` is epoch milliseconds: the last millisecond of the year 9999, the end of ISO-8601's
# four-digit years (a `ts` of 10**30 is not an instant any player has).
MAX_TS: Final = 253_402_300_799_999
# Every other JSON integer stays within what every JSON reader holds exactly (RFC 7493, I-JSON:
# 2**53 - 1), which is also what a JavaScript player can send.
MAX_INTEGER: Final = 2**53 - 1

# Content whose playhead is the second of the UTC day rather than a position in the content
# (MCA-SPEC.md section 4). "linear" is a scheduled channel: live for this purpose.
LIVE_CONTENT_TYPES: Final = frozenset({"live", "linear", "radio"})
