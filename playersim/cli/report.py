"""What the commands print when they are done: the summary, the exit status and why, and the
warnings a person should see (a pace not kept, an interruption)."""

from __future__ import annotations

import sys

from playersim.engines.summary import STOPPED, Ending, Lateness, RunStats

__all__ = ["BEHIND_MS", "fail", "interrupted", "say_if_behind", "status"]

# Past this lateness (p99, wall ms) a paced run or replay says it could not keep pace: a ping a
# second late is already beyond the slack the conformance report allows a real player.
BEHIND_MS = 1_000.0


def fail(prog: str, message: str, *, status: int = 2) -> int:
    """Say what is wrong on stderr, one line; the exit status (2: bad input)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def status(
    prog: str,
    stats: RunStats,
    aborted: str | None,
    problems: int,
    *,
    no_sessions: str = "no session arrived (a rate too low for the window?)",
) -> int:
    """Exit status 1, with a line saying why, when anything was lost, refused or non-conformant."""
    reasons = []
    if aborted:
        reasons.append(aborted)
    if not stats.sessions:
        reasons.append(no_sessions)
    if stats.failed:
        reasons.append(f"{stats.failed:,} requests were not accepted")
    # Events a stop (Ctrl-C, SIGTERM) left unsent are what was asked for: the summary counts
    # them, and the interruption is said on a line of its own.
    lost = [(reason, n) for reason, n in stats.dropped_by.most_common() if reason != STOPPED]
    if lost:
        why = ", ".join(f"{n:,} {reason}" for reason, n in lost)
        reasons.append(f"{sum(n for _, n in lost):,} events were not sent ({why})")
    if problems:
        reasons.append(f"{problems:,} conformance problems in the traffic")
    if reasons:
        print(f"{prog}: error: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


def interrupted(prog: str, status: int, ending: Ending | None) -> int:
    """Say what an interruption (130: Ctrl-C, 143: SIGTERM) did; its exit status."""
    name = "SIGTERM" if status == 143 else "Ctrl-C"
    said = ending.said() if ending is not None else "no session was open"
    print(f"{prog}: interrupted ({name}): {said}", file=sys.stderr)
    return status


def say_if_behind(prog: str, lateness: Lateness, pace: str) -> None:
    """A warning on stderr when requests went out well after their time: the traffic is still
    as recorded (the timestamps are), but its pace on the wire was not."""
    figures = lateness.summary()
    p99, worst = figures["p99_ms"], figures["max_ms"]
    if p99 is None or worst is None or p99 <= BEHIND_MS:
        return
    print(
        f"{prog}: warning: fell behind {pace}: 1% of requests went out more than "
        f"{p99 / 1000:,.1f} s late, the latest {worst / 1000:,.1f} s (the machine, or the "
        "endpoint, was too slow for this pace)",
        file=sys.stderr,
    )
