"""Distribution specs: moments, medians, bounds, validation and round-trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from paxsim.sim.distributions import (
    Z90,
    Distribution,
    DistributionSpec,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    Triangular,
    Uniform,
    as_distribution,
)
from paxsim.sim.random import StreamFactory, StreamName

N = 40_000

CASES = {
    "uniform": Uniform(dist="uniform", low=2.0, high=7.0),
    "triangular-right": Triangular(dist="triangular", min=10.0, mode=40.0, max=50.0),
    "triangular-left": Triangular(dist="triangular", min=10.0, mode=12.0, max=50.0),
    "triangular-symmetric": Triangular(dist="triangular", min=0.0, mode=5.0, max=10.0),
    "lognormal": LogNormal(dist="lognormal", median=180.0, p90=400.0),
    "exponential": Exponential(dist="exponential", mean=30.0),
    "empirical": Empirical(dist="empirical", samples=[3.0, 1.0, 8.0, 5.0, 2.0]),
    "empirical-weighted": Empirical(
        dist="empirical", samples=[5.0, 1.0, 3.0], weights=[0.1, 0.2, 0.7]
    ),
}
CONTINUOUS = {
    "uniform",
    "triangular-right",
    "triangular-left",
    "triangular-symmetric",
    "lognormal",
    "exponential",
}

_ADAPTER = TypeAdapter(Distribution)
_SPEC = TypeAdapter(DistributionSpec)


def draw(dist: object, name: str, n: int = N) -> np.ndarray:
    rng = StreamFactory(20_240_601).stream(StreamName("test", f"dist:{name}", "draws"))
    return np.array([dist.sample(rng) for _ in range(n)])  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def samples() -> dict[str, np.ndarray]:
    return {name: draw(dist, name) for name, dist in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_sample_mean_matches_mean(name: str, samples: dict[str, np.ndarray]) -> None:
    x = samples[name]
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - CASES[name].mean()) < 4.5 * se


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_median_splits_the_draws_in_half(name: str, samples: dict[str, np.ndarray]) -> None:
    x = samples[name]
    below = float(np.mean(x <= CASES[name].median()))
    assert below == pytest.approx(0.5, abs=4.5 * 0.5 / math.sqrt(len(x)))
    assert float(np.median(x)) == pytest.approx(CASES[name].median(), rel=0.03)


@pytest.mark.parametrize("name", ["empirical", "empirical-weighted"])
def test_empirical_median_is_a_median(name: str, samples: dict[str, np.ndarray]) -> None:
    x = samples[name]
    m = CASES[name].median()
    tol = 4.5 * 0.5 / math.sqrt(len(x))
    assert np.mean(x < m) <= 0.5 + tol
    assert np.mean(x <= m) >= 0.5 - tol
    assert m in CASES[name].samples  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(CASES))
def test_draws_within_bounds(name: str, samples: dict[str, np.ndarray]) -> None:
    dist = CASES[name]
    x = samples[name]
    assert x.min() >= dist.lower_bound()
    assert x.max() <= dist.upper_bound()


@pytest.mark.parametrize(
    ("dist", "low", "high"),
    [
        (Fixed(value=3.5), 3.5, 3.5),
        (Uniform(dist="uniform", low=-1, high=4), -1.0, 4.0),
        (Triangular(dist="triangular", min=1, mode=2, max=9), 1.0, 9.0),
        (LogNormal(dist="lognormal", median=5, p90=9), 0.0, math.inf),
        (Exponential(dist="exponential", mean=2), 0.0, math.inf),
        (Empirical(dist="empirical", samples=[4, -2, 7]), -2.0, 7.0),
    ],
)
def test_bounds(dist: object, low: float, high: float) -> None:
    assert dist.lower_bound() == low  # type: ignore[attr-defined]
    assert dist.upper_bound() == high  # type: ignore[attr-defined]


def test_fixed_always_returns_its_value() -> None:
    d = Fixed(value=12.0)
    rng = np.random.default_rng(0)
    assert {d.sample(rng) for _ in range(10)} == {12.0}
    assert d.mean() == d.median() == 12.0


def test_fixed_does_not_consume_randomness() -> None:
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    Fixed(value=1.0).sample(a)
    assert a.random() == b.random()


def test_uniform_degenerate_is_allowed() -> None:
    d = Uniform(dist="uniform", low=3, high=3)
    assert d.sample(np.random.default_rng(0)) == 3.0


def test_triangular_median_matches_scipy() -> None:
    for a, c, b in [(10, 40, 50), (10, 12, 50), (0, 0, 1), (0, 1, 1), (0, 5, 10)]:
        d = Triangular(dist="triangular", min=a, mode=c, max=b)
        ref = stats.triang(c=(c - a) / (b - a), loc=a, scale=b - a)
        assert d.median() == pytest.approx(ref.median(), rel=1e-12)
        assert d.mean() == pytest.approx(ref.mean(), rel=1e-12)


def test_lognormal_p90_and_moments_match_scipy() -> None:
    d = LogNormal(dist="lognormal", median=180.0, p90=400.0)
    ref = stats.lognorm(s=d.sigma, scale=180.0)
    assert ref.ppf(0.9) == pytest.approx(400.0, rel=1e-12)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert d.sigma == pytest.approx(math.log(400 / 180) / Z90)
    assert stats.norm.ppf(0.9) == pytest.approx(Z90, rel=1e-14)


def test_lognormal_p90_from_draws(samples: dict[str, np.ndarray]) -> None:
    x = samples["lognormal"]
    frac = float(np.mean(x <= 400.0))
    assert frac == pytest.approx(0.9, abs=4.5 * math.sqrt(0.09 / len(x)))


def test_exponential_median_and_spread(samples: dict[str, np.ndarray]) -> None:
    d = CASES["exponential"]
    assert d.median() == pytest.approx(30.0 * math.log(2))
    x = samples["exponential"]
    assert x.std() / x.mean() == pytest.approx(1.0, abs=0.03)  # CV of the exponential


def test_empirical_weighted_frequencies(samples: dict[str, np.ndarray]) -> None:
    x = samples["empirical-weighted"]
    for value, p in [(5.0, 0.1), (1.0, 0.2), (3.0, 0.7)]:
        assert np.mean(x == value) == pytest.approx(p, abs=4.5 * math.sqrt(p * (1 - p) / len(x)))
    d = CASES["empirical-weighted"]
    assert d.mean() == pytest.approx(0.5 + 0.2 + 2.1)
    assert d.median() == 3.0


def test_empirical_weights_need_not_be_normalised() -> None:
    a = Empirical(dist="empirical", samples=[1, 2, 3], weights=[1, 1, 2])
    b = Empirical(dist="empirical", samples=[1, 2, 3], weights=[0.25, 0.25, 0.5])
    assert a.mean() == pytest.approx(b.mean())
    assert a.median() == b.median()
    assert 2.0 <= a.median() <= 3.0  # P(X <= 2) = 0.5 exactly: any of [2, 3] is a median


def test_empirical_zero_weight_value_never_drawn() -> None:
    d = Empirical(dist="empirical", samples=[1, 99], weights=[1, 0])
    rng = np.random.default_rng(0)
    assert {d.sample(rng) for _ in range(200)} == {1.0}
    assert d.mean() == 1.0


def test_sampling_is_reproducible() -> None:
    for name, dist in CASES.items():
        np.testing.assert_array_equal(draw(dist, name, 50), draw(dist, name, 50))


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "table",
    [
        {"dist": "triangular", "min": 5, "mode": 3, "max": 4},  # min > max
        {"dist": "triangular", "min": 1, "mode": 0, "max": 4},  # mode < min
        {"dist": "triangular", "min": 1, "mode": 5, "max": 4},  # mode > max
        {"dist": "triangular", "min": 2, "mode": 2, "max": 2},  # zero width
        {"dist": "lognormal", "median": 10, "p90": 10},  # p90 == median
        {"dist": "lognormal", "median": 10, "p90": 5},  # p90 < median
        {"dist": "lognormal", "median": 0, "p90": 5},  # median not positive
        {"dist": "lognormal", "median": -1, "p90": 5},
        {"dist": "empirical", "samples": [1, 2, 3], "weights": [1, 2]},  # length mismatch
        {"dist": "empirical", "samples": [1, 2], "weights": [1, 2, 3]},
        {"dist": "empirical", "samples": [1, 2], "weights": [1, -1]},  # negative weight
        {"dist": "empirical", "samples": [1, 2], "weights": [0, 0]},  # zero total
        {"dist": "empirical", "samples": []},  # nothing to resample
        {"dist": "uniform", "low": 3, "high": 2},
        {"dist": "exponential", "mean": 0},
        {"dist": "exponential", "mean": -2},
        {"dist": "uniform", "low": 1, "high": 2, "extra": 3},  # unknown field
        {"dist": "weibull", "shape": 2},  # unknown kind
        {"dist": "lognormal", "median": 10},  # missing p90
    ],
)
def test_bad_parameters_rejected(table: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _ADAPTER.validate_python(table)


@pytest.mark.parametrize(
    "table",
    [
        # accepted; sample() raises "Probabilities contain NaN"
        {"dist": "empirical", "samples": [1, 2], "weights": [1, math.nan]},
        {"dist": "empirical", "samples": [1, 2], "weights": [1, math.inf]},
        # accepted; draws NaN
        {"dist": "empirical", "samples": [1, math.nan]},
        {"dist": "triangular", "min": 0, "mode": 1, "max": math.inf},
        {"dist": "fixed", "value": math.nan},
        # accepted; sample() raises OverflowError
        {"dist": "uniform", "low": 0, "high": math.inf},
    ],
    ids=["weights-nan", "weights-inf", "samples-nan", "triangular-inf", "fixed-nan", "uniform-inf"],
)
def test_non_finite_parameters_rejected(table: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _ADAPTER.validate_python(table)


def test_error_messages_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="min <= mode <= max"):
        Triangular(dist="triangular", min=5, mode=3, max=4)
    with pytest.raises(ValidationError, match="median < p90"):
        LogNormal(dist="lognormal", median=10, p90=10)
    with pytest.raises(ValidationError, match=r"weights \(2\) must match samples \(3\)"):
        Empirical(dist="empirical", samples=[1, 2, 3], weights=[1, 2])


def test_distributions_are_frozen() -> None:
    d = Uniform(dist="uniform", low=0, high=1)
    with pytest.raises(ValidationError):
        d.low = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_through_a_table(name: str) -> None:
    dist = CASES[name]
    table = dist.model_dump(by_alias=True)
    assert _ADAPTER.validate_python(table) == dist
    assert _ADAPTER.validate_json(dist.model_dump_json(by_alias=True)) == dist


def test_lognormal_and_exponential_use_their_short_field_names() -> None:
    d = _ADAPTER.validate_python({"dist": "lognormal", "median": 10, "p90": 20})
    assert isinstance(d, LogNormal)
    assert d.median() == 10.0
    assert d.model_dump(by_alias=True) == {"dist": "lognormal", "median": 10.0, "p90": 20.0}
    e = _ADAPTER.validate_python({"dist": "exponential", "mean": 4})
    assert isinstance(e, Exponential)
    assert e.mean() == 4.0


def test_bare_number_spec_and_as_distribution() -> None:
    assert _SPEC.validate_python(3) == 3.0
    fixed = as_distribution(_SPEC.validate_python(3))
    assert isinstance(fixed, Fixed)
    assert fixed.value == 3.0
    assert as_distribution(7) == Fixed(value=7.0)
    tri = Triangular(dist="triangular", min=0, mode=1, max=2)
    assert as_distribution(tri) is tri
    parsed = as_distribution(_SPEC.validate_python({"dist": "uniform", "low": 0, "high": 1}))
    assert isinstance(parsed, Uniform)
    assert _ADAPTER.validate_python({"dist": "fixed", "value": 2}) == Fixed(value=2)


# ------------------------------------------------------------------ found by mutation testing
BLOCK_CASES = {**CASES, "fixed": Fixed(value=4.5)}


@pytest.mark.parametrize("name", list(BLOCK_CASES))
def test_sample_many_draws_what_sample_would(name: str) -> None:
    # The base class defines sample_many as repeated sample(); the overrides are
    # faster spellings of it and must give the same numbers from the same stream.
    dist = BLOCK_CASES[name]
    block = dist.sample_many(np.random.default_rng(11), 64)
    rng = np.random.default_rng(11)
    one_by_one = np.array([dist.sample(rng) for _ in range(64)])
    assert isinstance(block, np.ndarray) and block.shape == (64,)
    np.testing.assert_allclose(block, one_by_one, rtol=1e-12)
    assert len(dist.sample_many(np.random.default_rng(11), 0)) == 0


@pytest.mark.parametrize("name", list(BLOCK_CASES))
def test_every_distribution_is_frozen(name: str) -> None:
    # LogNormal and Exponential restate model_config; each must stay frozen (hashable).
    dist = BLOCK_CASES[name]
    field = next(iter(type(dist).model_fields))
    with pytest.raises(ValidationError):
        setattr(dist, field, 1.0)
    if not isinstance(dist, Empirical):  # its list fields make it unhashable, frozen or not
        assert hash(dist) == hash(dist.model_copy())


@pytest.mark.parametrize(
    "table",
    [
        {"dist": "lognormal", "median": 10, "p90": math.inf},
        {"dist": "lognormal", "median": math.nan, "p90": 20},
        {"dist": "exponential", "mean": math.inf},
    ],
    ids=["lognormal-p90-inf", "lognormal-median-nan", "exponential-inf"],
)
def test_non_finite_parameters_rejected_where_config_is_restated(table: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _ADAPTER.validate_python(table)


def test_small_positive_scales_are_accepted() -> None:
    assert Exponential(dist="exponential", mean=0.5).mean() == 0.5
    assert LogNormal(dist="lognormal", median=0.25, p90=0.5).median() == 0.25


@pytest.mark.parametrize("name", ["lognormal", "exponential"])
def test_field_names_are_accepted_beside_the_short_aliases(name: str) -> None:
    # populate_by_name: a dump without aliases (model_dump()'s default) reads back.
    dist = CASES[name]
    plain = dist.model_dump()
    assert "median_value" in plain or "mean_value" in plain
    assert type(dist).model_validate(plain) == dist
    assert _ADAPTER.validate_python(plain) == dist
