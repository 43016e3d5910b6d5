"""Shared fixtures: a virtual clock, a collector on it, and an engine delivering to it."""

from __future__ import annotations

import pytest

from playersim import Collector, Engine, MemoryTransport, VirtualClock

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
