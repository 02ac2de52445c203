"""Provenance-pooled stocks: put/take, FIFO pools, filters and conservation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxsim.sim.stocks import EPS, PoolKey, Stock

CN: PoolKey = ("oxide", frozenset({"CN"}))
US: PoolKey = ("oxide", frozenset({"US"}))
AU_MY: PoolKey = ("oxide", frozenset({"AU", "MY"}))
METAL_CN: PoolKey = ("metal", frozenset({"CN"}))


def not_china(key: PoolKey) -> bool:
    return "CN" not in key[1]


def test_new_stock_is_empty() -> None:
    s = Stock("yard")
    assert s.level == 0.0
    assert s.pools == {}
    assert s.take(5.0) == []
    assert s.available() == 0.0


def test_put_then_take_everything() -> None:
    s = Stock("yard")
    s.put(10.0, CN)
    s.put(5.0, US)
    assert s.level == 15.0
    assert s.available() == 15.0
    parts = s.take(15.0)
    assert parts == [(CN, 10.0), (US, 5.0)]
    assert Stock.total(parts) == 15.0
    assert s.level == 0.0
    assert s.pools == {}


def test_same_key_accumulates_in_one_pool() -> None:
    s = Stock("yard")
    s.put(2.0, CN)
    s.put(3.0, CN)
    assert s.pools == {CN: 5.0}
    assert s.level == 5.0


def test_partial_take_leaves_the_rest_in_the_pool() -> None:
    s = Stock("yard")
    s.put(10.0, CN)
    assert s.take(4.0) == [(CN, 4.0)]
    assert s.pools[CN] == pytest.approx(6.0)
    assert s.level == pytest.approx(6.0)
    assert s.take(4.0) == [(CN, 4.0)]
    assert s.level == pytest.approx(2.0)


def test_take_spans_pools_in_fifo_order() -> None:
    s = Stock("yard")
    s.put(3.0, US)
    s.put(4.0, CN)
    s.put(5.0, AU_MY)
    parts = s.take(9.0)
    assert parts == [(US, 3.0), (CN, 4.0), (AU_MY, 2.0)]
    assert list(s.pools) == [AU_MY]
    assert s.level == pytest.approx(3.0)


def test_topping_up_a_pool_keeps_its_place() -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    s.put(1.0, US)
    s.put(5.0, CN)  # CN is still the oldest pool
    assert [k for k, _ in s.take(6.5)] == [CN, US]


def test_an_emptied_pool_rejoins_at_the_back() -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    s.put(1.0, US)
    s.take(1.0)  # empties CN
    s.put(1.0, CN)
    assert list(s.pools) == [US, CN]
    assert s.take(1.5) == [(US, 1.0), (CN, 0.5)]


def test_short_take_returns_what_there_is() -> None:
    s = Stock("yard")
    s.put(2.0, CN)
    parts = s.take(10.0)
    assert parts == [(CN, 2.0)]
    assert s.level == 0.0


def test_accept_filter_skips_ineligible_pools() -> None:
    s = Stock("yard")
    s.put(10.0, CN)
    s.put(3.0, US)
    s.put(4.0, AU_MY)
    assert s.available(not_china) == 7.0
    parts = s.take(5.0, accept=not_china)
    assert parts == [(US, 3.0), (AU_MY, 2.0)]
    assert s.pools[CN] == 10.0  # untouched
    assert s.level == pytest.approx(12.0)
    assert s.available(not_china) == pytest.approx(2.0)


def test_accept_filter_by_grade() -> None:
    s = Stock("yard")
    s.put(3.0, CN)
    s.put(3.0, METAL_CN)
    parts = s.take(10.0, accept=lambda k: k[0] == "metal")
    assert parts == [(METAL_CN, 3.0)]
    assert s.level == 3.0


def test_accept_filter_with_nothing_eligible() -> None:
    s = Stock("yard")
    s.put(4.0, CN)
    assert s.take(2.0, accept=not_china) == []
    assert s.level == 4.0
    assert s.available(not_china) == 0.0


@pytest.mark.parametrize("qty", [-1.0, -1e-12, -math.inf])
def test_negative_quantities_rejected(qty: float) -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    with pytest.raises(ValueError, match="negative"):
        s.put(qty, US)
    with pytest.raises(ValueError, match="negative"):
        s.take(qty)
    assert s.level == 1.0
    assert s.pools == {CN: 1.0}


def test_nan_put_rejected() -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    with pytest.raises(ValueError):
        s.put(math.nan, US)
    assert s.level == 1.0


def test_nan_take_rejected() -> None:
    s = Stock("yard")
    s.put(5.0, CN)
    s.put(3.0, US)
    with pytest.raises(ValueError):
        s.take(math.nan)
    assert s.pools == {CN: 5.0, US: 3.0}
    assert s.level == 8.0


def test_zero_and_tiny_quantities_are_no_ops() -> None:
    s = Stock("yard")
    s.put(0.0, CN)
    s.put(EPS / 2, US)
    assert s.pools == {}
    assert s.level == 0.0
    s.put(1.0, CN)
    assert s.take(0.0) == []
    assert s.level == 1.0


def test_a_crumb_below_eps_is_swept_into_the_take() -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    parts = s.take(1.0 - EPS / 10)
    assert parts == [(CN, 1.0)]
    assert s.pools == {}
    assert s.level == 0.0


def test_put_parts_restores_what_was_taken() -> None:
    a, b = Stock("a"), Stock("b")
    a.put(3.0, CN)
    a.put(2.0, US)
    b.put_parts(a.take(4.0))
    assert b.pools == {CN: 3.0, US: 1.0}
    assert a.level + b.level == pytest.approx(5.0)


def test_level_never_negative_after_many_small_takes() -> None:
    s = Stock("yard")
    s.put(1.0, CN)
    for _ in range(30):
        s.take(0.1)
        assert s.level >= 0.0
    assert s.level == 0.0
    assert s.pools == {}


# --------------------------------------------------------------------------- properties
KEYS: list[PoolKey] = [CN, US, AU_MY, METAL_CN, ("metal", frozenset())]
FILTERS = {
    "all": None,
    "not_china": not_china,
    "metal": lambda k: k[0] == "metal",
    "none": lambda k: False,
}

quantities = st.one_of(
    st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, EPS / 2, EPS, 2 * EPS, 1.0, 0.1, 0.2, 0.3]),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), quantities, st.integers(0, len(KEYS) - 1)),
        st.tuples(st.just("take"), quantities, st.sampled_from(sorted(FILTERS))),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, database=None)
@given(operations)
def test_stock_conserves_quantity_and_stays_non_negative(ops: list[tuple]) -> None:
    s = Stock("prop")
    put_total = 0.0
    taken_total = 0.0
    for op, qty, arg in ops:
        if op == "put":
            s.put(qty, KEYS[arg])
            if qty > EPS:
                put_total += qty
        else:
            accept = FILTERS[arg]
            eligible_before = [k for k in s.pools if accept is None or accept(k)]
            available = s.available(accept)
            others_before = {k: q for k, q in s.pools.items() if k not in eligible_before}
            parts = s.take(qty, accept)
            got = Stock.total(parts)
            taken_total += got
            # only eligible pools, each at most once, in the pools' FIFO order
            keys = [k for k, _ in parts]
            assert keys == eligible_before[: len(keys)]
            # every pool before the last one drawn from was emptied
            for k in keys[:-1]:
                assert k not in s.pools
            # ineligible pools are untouched
            assert {k: q for k, q in s.pools.items() if k in others_before} == others_before
            # take gives min(qty, available), up to the EPS crumbs it sweeps up
            assert got == pytest.approx(min(qty, available), rel=1e-9, abs=10 * EPS)
            assert all(q > 0 for _, q in parts)
        assert s.level >= 0.0
        assert all(q > EPS for q in s.pools.values())
        assert s.level == pytest.approx(sum(s.pools.values()), rel=1e-9, abs=1e-6)
        assert s.level + taken_total == pytest.approx(put_total, rel=1e-9, abs=1e-6)


# ------------------------------------------------------------------ found by mutation testing
def test_take_counted_returns_the_quantity_it_took() -> None:
    s = Stock("yard")
    assert s.take_counted(5.0) == ([], 0.0)  # nothing in stock
    s.put(3.0, CN)
    s.put(2.0, US)
    assert s.take_counted(0.0) == ([], 0.0)  # nothing asked
    parts, got = s.take_counted(4.0)
    assert parts == [(CN, 3.0), (US, 1.0)]
    assert got == pytest.approx(Stock.total(parts)) == pytest.approx(4.0)
    parts, got = s.take_counted(10.0, accept=not_china)
    assert got == pytest.approx(1.0) and s.level == 0.0


def test_dust_tolerance_is_a_small_positive_number() -> None:
    # The tests above scale with EPS; this one pins that crumbs are in fact swept.
    assert 0.0 < EPS <= 1e-6
    s = Stock("yard")
    s.put(1e-12, CN)
    assert s.pools == {} and s.level == 0.0
    s.put(1.0, CN)
    assert s.take(1.0 - 1e-12) == [(CN, 1.0)]  # the crumb left behind goes too
    assert s.pools == {} and s.level == 0.0


def test_emptying_the_last_pool_leaves_no_rounding_crumb() -> None:
    # 0.1 + 0.2 - 0.1 - 0.2 is 2.8e-17 in floating point: an empty stock must read 0.
    s = Stock("yard")
    s.put(0.1, CN)
    s.put(0.2, US)
    s.take(0.1)
    assert s.level > 0.2  # the running level carries the rounding
    s.take(0.2)
    assert s.pools == {}
    assert s.level == 0.0
