"""The numbers MCA-SPEC.md fixes, in one place, for the players that obey them and the
collectors that enforce them. Durations are milliseconds, the unit of `ts`."""

from __future__ import annotations

from typing import Final

__all__ = [
    "AD_PING_MS",
    "DAY_MS",
    "IDLE_TIMEOUT_MS",
    "MAX_STATES",
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
