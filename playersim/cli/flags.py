"""Reading flags: argparse with one-line errors, and each flag's text as the value it stands for.

Each reader turns text into a value and refuses what no run could use, in the words the
options use for the same rule (`playersim.runner`), with the text as typed: `argument --sessions:
'0' must be at least 1`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

from playersim.audience.arrivals import Shape, parse_duration, parse_rate
from playersim.engines.shares import Share, parse_share
from playersim.runner import (
    MAX_REQUEST_RATE,
    MAX_SPAN,
    check_start,
    curve_problem,
    number_problem,
    rate_problem,
    span_problem,
)
from playersim.settings import check_tenant
from playersim.transports.http import check_base_url

__all__ = [
    "Parser",
    "above_zero",
    "instant",
    "latency",
    "multipliers",
    "port",
    "ramp",
    "rate",
    "request_rate",
    "share",
    "span",
    "timezone",
    "url",
    "whole",
]

# `serve --latency`: past a minute an answer is not slow, it is lost.
MAX_LATENCY_MS = 60_000


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), not a usage dump; and an
    argument a command does not take is refused by that command (`playersim run: error:
    unrecognized arguments: --bogus`), as its other errors are."""

    commands: Mapping[str, argparse.ArgumentParser]
    # Defaults read only when this parser is used (from an optional extra, say), and said in
    # the help of their flags then.
    late_defaults: Callable[[], dict[str, Any]] | None = None

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.late_defaults is not None:
            defaults, self.late_defaults = self.late_defaults(), None
            self.set_defaults(**defaults)
            for action in self._actions:
                if action.dest in defaults and action.help:
                    action.help += f" (default {_shown(defaults[action.dest])})"
        return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "commands", {})
            which = commands.get(getattr(parsed, "command", None) or "", self)
            which.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def _shown(value: object) -> str:
    """A default as a flag takes it: `10`, `0.5`, `20ms:200ms`."""
    if isinstance(value, tuple) and len(value) == 2:
        low, high = value
        return f"{low}ms" if low == high else f"{low}ms:{high}ms"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _refused(text: str, problem: str | None) -> None:
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")


def whole(low: int, high: float = math.inf) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        _refused(text, number_problem(value, least=low, most=high))
        return value

    return parse


def above_zero(most: float) -> Callable[[str], float]:
    """A number above 0 and at most `most` (inf and nan are neither)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        _refused(text, number_problem(value, above=0, most=most))
        return value

    return parse


def instant(text: str) -> str:
    """An ISO-8601 instant a run can start at, or `now` (kept as written: resolved when the
    run starts)."""
    if text != "now":
        try:
            check_start(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def span(*, zero: bool = False) -> Callable[[str], timedelta]:
    """A duration (`10m`, `90s`, `1h`): above 0 (or 0 too), at most 366 days."""

    def parse(text: str) -> timedelta:
        try:
            value = timedelta(milliseconds=parse_duration(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        _refused(text, span_problem(value, zero=zero))
        return value

    return parse


def rate(text: str) -> float:
    try:
        value = parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    _refused(text, rate_problem(value))
    return value


def request_rate(text: str) -> float:
    """Requests per second, written as a rate is (`5`, `10/s`, `600/min`)."""
    try:
        value = parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    _refused(text, number_problem(value, above=0, most=MAX_REQUEST_RATE))
    return value


def ramp(text: str) -> tuple[timedelta, timedelta]:
    """`UP[:DOWN]`: the ramp up, and the ramp down (0 if not given)."""
    up, _, down = text.partition(":")
    try:
        ramps = (
            timedelta(milliseconds=parse_duration(up or "0")),
            timedelta(milliseconds=parse_duration(down or "0")),
        )
    except ValueError:
        message = f"{text!r} is not a ramp (e.g. 10m, or 10m:5m to ramp down too)"
        raise argparse.ArgumentTypeError(message) from None
    if max(ramps) > MAX_SPAN:
        raise argparse.ArgumentTypeError(f"{text!r}: a ramp is at most 366 days")
    return ramps


def multipliers(size: int) -> Callable[[str], tuple[float, ...]]:
    """`size` numbers separated by commas: the multipliers of a curve."""

    def parse(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(part) for part in text.replace(",", " ").split())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None
        problem = curve_problem(values, size)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return values

    return parse


def timezone(text: str) -> str:
    try:
        Shape(timezone=text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def tenant(text: str) -> str:
    try:
        return check_tenant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def url(text: str) -> str:
    try:
        check_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def share(text: str) -> float:
    """A share: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 0 to 1")
    return value


def latency(text: str) -> tuple[int, int]:
    """`LOW[:HIGH]`, in ms: a latency, or the bounds of a uniform draw."""
    low, _, high = text.partition(":")
    try:
        bounds = parse_duration(low), parse_duration(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency (e.g. 50ms, 20ms:200ms)"
        ) from None
    if bounds[0] > bounds[1] or bounds[1] > MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"{text!r}: LOW <= HIGH, at most 60 s")
    return bounds


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return value


def shard_of(text: str) -> Share:
    """A share of a run: `K/N`, part K of N, from 1."""
    try:
        return parse_share(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
