"""Ctrl-C and SIGTERM on asyncio: both wind a run down the same way, and say which it was."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["TerminatedError", "interruptible", "quiet_second_interrupt"]

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
    loop.set_exception_handler(quiet_second_interrupt)
    try:
        return await work
    except asyncio.CancelledError:
        if terminated:
            raise TerminatedError from None
        raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def quiet_second_interrupt(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler during a run: a second Ctrl-C ends the loop at once by
    raising KeyboardInterrupt wherever the loop is, which may be inside a delivery task; that
    task then dies with it, and asyncio would print its traceback ("Task exception was never
    retrieved") as the process exits. The run says what the interruption did in its own words
    instead; anything else goes to asyncio's own handler.

    >>> loop = asyncio.new_event_loop()
    >>> quiet_second_interrupt(loop, {"message": "x", "exception": KeyboardInterrupt()})
    >>> loop.close()
    """
    if isinstance(context.get("exception"), KeyboardInterrupt):
        return
    loop.default_exception_handler(context)
