"""Random quantities a profile can describe, in a form a user can read and tune.

In a profile each quantity is a small table naming its distribution, e.g.
`startup_seconds = { distribution = "lognormal", median = 1.5, sigma = 0.6, max = 20 }`.
Every distribution samples from the RNG it is given (a session's own `RandomStream`, or a
catalogue's `random.Random`), never from the global one, so sessions stay reproducible whatever
order they are simulated in.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

from playersim.audience.streams import Rng

__all__ = [
    "Choice",
    "Distribution",
    "Exponential",
    "Fixed",
    "LogNormal",
    "Normal",
    "Uniform",
]


_SHAPE_KEYS = frozenset({"sigma", "sd", "weights", "distribution"})


class _Distribution(BaseModel):
    # Aliases on output too, so a dumped profile loads back as the same profile.
    model_config = ConfigDict(
        extra="forbid", frozen=True, serialize_by_alias=True, allow_inf_nan=False
    )

    min: float | None = Field(default=None, description="Samples below this are raised to it.")
    max: float | None = Field(default=None, description="Samples above this are lowered to it.")

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self

    def sample(self, rng: Rng) -> float:
        """One draw, clamped to [min, max] where those are set."""
        value = self._draw(rng)
        if self.min is not None:
            value = max(value, self.min)
        if self.max is not None:
            value = min(value, self.max)
        return value

    def _draw(self, rng: Rng) -> float:
        raise NotImplementedError

    def numbers(self) -> dict[str, float]:
        """The numbers the profile states (value, low, mean, max, ...), by their key."""
        numbers: dict[str, float] = {}
        for name, value in self.model_dump(by_alias=True).items():
            if name in _SHAPE_KEYS or value is None:
                continue  # a spread (sigma, sd) is not a quantity in the field's unit
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers[name] = float(value)
            elif isinstance(value, list) and name == "values":
                numbers.update({f"values[{i}]": float(v) for i, v in enumerate(value)})
        return numbers


class Fixed(_Distribution):
    """Always the same value."""

    distribution: Literal["fixed"]
    value: float

    def _draw(self, rng: Rng) -> float:
        return self.value


class Uniform(_Distribution):
    """Any value between `low` and `high`, equally likely."""

    distribution: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _low_below_high(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is greater than high ({self.high:g})")
        return self

    def _draw(self, rng: Rng) -> float:
        return rng.uniform(self.low, self.high)


class Normal(_Distribution):
    """A bell curve around `mean` with standard deviation `sd`."""

    distribution: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(ge=0)

    def _draw(self, rng: Rng) -> float:
        return rng.gauss(self.mean_, self.sd)


class LogNormal(_Distribution):
    """Positive, right-skewed: most values near `median`, a long tail of large ones.

    The usual shape of durations people choose (how long they watch, how long they pause).
    `sigma` is the standard deviation of the logarithm: 0.5 is tight, 1.5 very spread.
    """

    distribution: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def _draw(self, rng: Rng) -> float:
        return rng.lognormvariate(math.log(self.median), self.sigma)


class Exponential(_Distribution):
    """Memoryless waiting times with the given `mean` (e.g. the time until a viewer leaves)."""

    distribution: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)

    def _draw(self, rng: Rng) -> float:
        return rng.expovariate(1 / self.mean_)


class Choice(_Distribution):
    """One of a few `values`, with optional relative `weights` (e.g. 15 s and 30 s ads)."""

    distribution: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Self:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries for {len(self.values)} values"
                )
            if any(w < 0 for w in self.weights) or not any(w > 0 for w in self.weights):
                raise ValueError("weights must be >= 0 with at least one > 0")
        return self

    def _draw(self, rng: Rng) -> float:
        return rng.choices(self.values, weights=self.weights)[0]


Distribution: TypeAlias = Annotated[
    Fixed | Uniform | Normal | LogNormal | Exponential | Choice,
    Field(discriminator="distribution"),
]
