"""Probability distributions that scenario files can name.

Each distribution is a small pydantic model (so it validates itself and
serialises back to TOML/JSON) with ``sample(rng)``. A bare number means a
fixed value. The engine is unit-free: the field that holds a distribution
carries the unit in its name (``review_days``).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Distribution",
    "DistributionSpec",
    "Empirical",
    "Exponential",
    "Fixed",
    "LogNormal",
    "Triangular",
    "Uniform",
    "as_distribution",
]

Z90 = 1.2815515655446004  # standard normal 90th percentile


class _Dist(BaseModel):
    # allow_inf_nan=False: TOML can spell nan and inf, and neither is a usable parameter.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws at once (for exogenous streams drawn in blocks)."""
        return np.array([self.sample(rng) for _ in range(n)], dtype=float)

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def median(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def lower_bound(self) -> float:  # pragma: no cover - abstract
        """Smallest value the distribution can produce."""
        raise NotImplementedError

    def upper_bound(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Fixed(_Dist):
    dist: Literal["fixed"] = "fixed"
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=float)

    def mean(self) -> float:
        return self.value

    def median(self) -> float:
        return self.value

    def lower_bound(self) -> float:
        return self.value

    def upper_bound(self) -> float:
        return self.value


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low <= self.high:
            raise ValueError(f"uniform needs low <= high, got low={self.low}, high={self.high}")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def median(self) -> float:
        return self.mean()

    def lower_bound(self) -> float:
        return self.low

    def upper_bound(self) -> float:
        return self.high


class Triangular(_Dist):
    dist: Literal["triangular"]
    min: float
    mode: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.min <= self.mode <= self.max) or self.min == self.max:
            raise ValueError(
                "triangular needs min <= mode <= max with min < max, "
                f"got min={self.min}, mode={self.mode}, max={self.max}"
            )
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.min, self.mode, self.max))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.min, self.mode, self.max, size=n)

    def mean(self) -> float:
        return (self.min + self.mode + self.max) / 3.0

    def median(self) -> float:
        a, c, b = self.min, self.mode, self.max
        if c >= (a + b) / 2:
            return a + math.sqrt((b - a) * (c - a) / 2)
        return b - math.sqrt((b - a) * (b - c) / 2)

    def lower_bound(self) -> float:
        return self.min

    def upper_bound(self) -> float:
        return self.max


class LogNormal(_Dist):
    """Lognormal given by its median and 90th percentile (how reports quote delays)."""

    dist: Literal["lognormal"]
    median_value: float = Field(alias="median")
    p90: float

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if not 0 < self.median_value < self.p90:
            raise ValueError(
                f"lognormal needs 0 < median < p90, got median={self.median_value}, p90={self.p90}"
            )
        return self

    @cached_property
    def sigma(self) -> float:
        return math.log(self.p90 / self.median_value) / Z90

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.median_value * math.exp(self.sigma * rng.standard_normal()))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.median_value * np.exp(self.sigma * rng.standard_normal(n))

    def mean(self) -> float:
        return self.median_value * math.exp(0.5 * self.sigma**2)

    def median(self) -> float:
        return self.median_value

    def lower_bound(self) -> float:
        return 0.0

    def upper_bound(self) -> float:
        return math.inf


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean_value: float = Field(alias="mean", gt=0)

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_value))

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_value, size=n)

    def mean(self) -> float:
        return self.mean_value

    def median(self) -> float:
        return self.mean_value * math.log(2.0)

    def lower_bound(self) -> float:
        return 0.0

    def upper_bound(self) -> float:
        return math.inf


class Empirical(_Dist):
    """Resamples observed values, optionally with weights (a table)."""

    dist: Literal["empirical"]
    samples: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.samples):
                raise ValueError(
                    f"empirical weights ({len(self.weights)}) must match samples "
                    f"({len(self.samples)})"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("empirical weights must be non-negative with a positive sum")
        return self

    def _probs(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.samples), 1.0 / len(self.samples))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator) -> float:
        if self.weights is None:
            return float(self.samples[int(rng.integers(len(self.samples)))])
        return float(rng.choice(self.samples, p=self._probs()))

    def mean(self) -> float:
        return float(np.dot(self._probs(), self.samples))

    def median(self) -> float:
        order = np.argsort(self.samples)
        cum = np.cumsum(self._probs()[order])
        return float(np.asarray(self.samples)[order][int(np.searchsorted(cum, 0.5))])

    def lower_bound(self) -> float:
        return float(min(self.samples))

    def upper_bound(self) -> float:
        return float(max(self.samples))


Distribution = Annotated[
    Fixed | Uniform | Triangular | LogNormal | Exponential | Empirical,
    Field(discriminator="dist"),
]

#: What a scenario field accepts: a bare number (fixed) or a distribution table.
DistributionSpec = float | Distribution


def as_distribution(spec: float | _Dist) -> _Dist:
    """Normalise a bare number to :class:`Fixed`."""
    if isinstance(spec, _Dist):
        return spec
    return Fixed(value=float(spec))
