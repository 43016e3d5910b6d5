"""Shared fixtures: a virtual clock, a collector on it, an engine delivering to it, and a port
of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from playersim import Collector, Engine, MemoryTransport, VirtualClock
from tests.ports import reserved_port

# `pytester` runs the pytest plugin in projects of its own (tests/test_pytest_plugin.py).
pytest_plugins = ["pytester"]

START = "2026-11-27T12:00:00Z"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=START)


@pytest.fixture
def collector(clock: VirtualClock) -> Collector:
    return Collector(clock=clock)


@pytest.fixture
def engine(clock: VirtualClock, collector: Collector) -> Engine:
    return Engine(clock, MemoryTransport(collector))


@pytest.fixture
def port() -> Iterator[int]:
    """A port on 127.0.0.1 that is the test's own from start to end (tests/ports.py): refused
    until a server of the test listens on it, and given to no other process meanwhile."""
    with reserved_port() as number:
        yield number
