"""For users' own tests: domain assertions on what a collector saw, and the pytest plugin's
fixtures (`playersim.testing.pytest_plugin`, active wherever playersim is installed)."""

from playersim.testing.assertions import (
    assert_completed,
    assert_ended,
    assert_event_order,
    assert_metrics,
    assert_no_problems,
    record_of,
)

__all__ = [
    "assert_completed",
    "assert_ended",
    "assert_event_order",
    "assert_metrics",
    "assert_no_problems",
    "record_of",
]
