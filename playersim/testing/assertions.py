"""Assertions that read like the domain, for tests of traffic a collector received.

Each raises `AssertionError` with a message that says what the session did instead, so a failing
test explains itself. They work on what `Collector(clock)` keeps (every accepted event); the
pytest plugin (`playersim.testing.pytest_plugin`) gives the fixtures that make one.

>>> from playersim import Collector, Engine, MemoryTransport, Player, VirtualClock, load_profile
>>> clock = VirtualClock(start="2026-11-27T12:00:00Z")
>>> collector = Collector(clock)
>>> engine = Engine(clock, MemoryTransport(collector))
>>> player = engine.add(Player(load_profile("ugc-clip"), seed=3))
>>> engine.run()
>>> session = collector.session(player.sid)
>>> assert_event_order(session, ["sessionStart", "play", "ping"])
>>> assert_ended(session)
>>> assert_no_problems(collector)
>>> assert_metrics(session, media_starts=1, content_starts=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from playersim.mca.collector import CollectedSession, Collector
from playersim.reporting.record import SessionRecord
from playersim.reporting.reporter import record_of_session

__all__ = [
    "assert_completed",
    "assert_ended",
    "assert_event_order",
    "assert_metrics",
    "assert_no_problems",
    "record_of",
]

_ENDINGS = ("sessionEnd", "sessionComplete")


def _describe(session: CollectedSession) -> str:
    types = session.event_types
    if len(types) > 8:
        shown = ", ".join(types[:4]) + ", ..., " + ", ".join(types[-3:])
        shown += f" ({len(types)} events)"
    else:
        shown = ", ".join(types) or "no events kept"
    return f"session {session.sid[:12]}... ({shown})"


def assert_completed(session: CollectedSession) -> None:
    """The viewer watched to the end: the session got its `sessionComplete`."""
    if not session.completed:
        last = session.event_types[-1] if session.event_types else "nothing"
        raise AssertionError(f"{_describe(session)} did not complete: its last event is {last}")


def assert_ended(session: CollectedSession) -> None:
    """The player closed the session itself (`sessionEnd` or `sessionComplete` last), rather
    than leaving it to the back end's timeouts."""
    types = session.event_types
    if not types or types[-1] not in _ENDINGS:
        raise AssertionError(f"{_describe(session)} was not ended by the player")


def assert_no_problems(target: Collector | CollectedSession) -> None:
    """No conformance problem (MCA-SPEC.md sections 4 and 5) in a session, or in every session
    of a collector."""
    if isinstance(target, CollectedSession):
        found = [(target.sid, problem) for problem in target.problems]
        total = len(found)
    else:
        found = target.problems()  # of forgotten sessions, only the last few are kept
        total = sum(target.counts().problems.values())
    if total:
        lines = [f"  {sid[:12]}...: {problem}" for sid, problem in found[:10]]
        more = f"\n  ... and {total - len(lines)} more" if total > len(lines) else ""
        raise AssertionError(f"{total} conformance problems:\n" + "\n".join(lines) + more)


def assert_event_order(session: CollectedSession, expected: Sequence[str]) -> None:
    """These event types came in this order (others may come between them)."""
    types = session.event_types
    at = 0
    for wanted in expected:
        try:
            at = types.index(wanted, at) + 1
        except ValueError:
            after = f" after {expected[expected.index(wanted) - 1]}" if at else ""
            raise AssertionError(
                f"{_describe(session)} has no {wanted}{after}; expected, in order: "
                + ", ".join(expected)
            ) from None


def record_of(target: CollectedSession | SessionRecord) -> SessionRecord:
    """Adobe's reporting record of a collected session (or the record itself)."""
    return target if isinstance(target, SessionRecord) else record_of_session(target)


_METRICS: Final = frozenset(
    name for name in SessionRecord.__slots__ if name not in ("ads", "chapters", "states")
)


def assert_metrics(target: CollectedSession | SessionRecord, **expected: object) -> None:
    """What Adobe will report for the session is what the test expects, metric by metric:
    `assert_metrics(session, content_starts=1, content_time_spent=pytest.approx(312, abs=1))`.

    Metrics are `SessionRecord`'s fields (docs/answer-key.md): counts and flags, times in
    seconds. Every metric that differs is named in the one message, with what it was.
    """
    unknown = sorted(set(expected) - _METRICS)
    if unknown:
        raise TypeError(
            f"no such metric: {', '.join(unknown)}; metrics are SessionRecord's fields, "
            "e.g. content_starts, content_time_spent, ad_completes"
        )
    record = record_of(target)
    wrong = [
        f"  {name}: expected {want!r}, got {getattr(record, name)!r}"
        for name, want in expected.items()
        if getattr(record, name) != want
    ]
    if wrong:
        raise AssertionError(
            f"session {record.sid[:12]}... would be reported otherwise:\n" + "\n".join(wrong)
        )
