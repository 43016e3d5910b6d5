"""Waiting for events, never for time: what tests use instead of sleeping.

A test that sleeps and then asserts fails on a machine busier than the author's; one that waits
for the event it needs (a line written, N requests seen, a port listening) passes on any machine,
and fails, naming what it waited for, only if the event never comes within a bound far beyond
any machine's pace (a hang, not slowness).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

# Far beyond what any event here takes on a loaded two-core machine: a bound for a hang only.
# (Two copies of the suite side by side, each on both cores, start a Python process in up to
# twenty seconds, and some events need several started: two minutes was seen to run out.)
BOUND_S = 300.0


def wait_until(condition: Callable[[], bool], what: str, *, within_s: float = BOUND_S) -> None:
    """Return as soon as `condition()` holds; fail saying `what` never happened otherwise."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within_s:g} s for {what}: it never happened")
        time.sleep(0.02)


def interrupted_when(
    command: list[str], condition: Callable[[], bool], what: str, sig: signal.Signals
) -> tuple[int, str, str]:
    """Start `command`, send it `sig` (Ctrl-C: SIGINT) once `condition()` holds, and return
    its exit status, stdout and stderr when it has exited."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # (A process that ended first never brings the event: said at once, with its output.)
        wait_until(lambda: condition() or process.poll() is not None, what)
        if process.poll() is not None and not condition():
            out, err = process.communicate(timeout=BOUND_S)
            raise AssertionError(f"exited {process.returncode} before {what}:\n{out}{err}")
        process.send_signal(sig)
        out, err = process.communicate(timeout=BOUND_S)
    finally:
        if process.poll() is None:  # (the wait failed: no process outlives its test)
            process.kill()
            process.communicate()
    return process.returncode, out, err
