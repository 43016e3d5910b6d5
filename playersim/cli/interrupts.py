"""Ctrl-C and SIGTERM on asyncio: both wind a run down the same way, and say which it was."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["TerminatedError", "interruptible"]

_T = TypeVar("_T")


class TerminatedError(Exception):
    """SIGTERM arrived: the work wound down as on Ctrl-C; exit status 143."""


async def interruptible(work: Coroutine[Any, Any, _T]) -> _T:
    """Await `work`; SIGTERM cancels it as Ctrl-C does (its own wind-down runs), and then
    raises `TerminatedError`."""
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated: list[bool] = []

    def on_sigterm() -> None:
        terminated.append(True)
        if main_task is not None:
            main_task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await work
    except asyncio.CancelledError:
        if terminated:
            raise TerminatedError from None
        raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
