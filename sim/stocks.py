"""Stocks of material that remember where each unit came from.

A stock is a set of *pools*, one per ``(grade, provenance)`` pair, where
provenance is the frozenset of tags (countries, in the domain) the material
passed through. Pooling by provenance keeps memory bounded however many lots
arrive, while every unit still carries its origins. Takes draw from the
oldest pool first (pools keep the order in which they first appeared).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["EPS", "Parts", "PoolKey", "Stock"]

EPS = 1e-9

PoolKey = tuple[str, frozenset[str]]
Parts = list[tuple[PoolKey, float]]


class Stock:
    """A non-negative quantity split into provenance pools."""

    # ``level`` is a plain attribute, not a property: it is read ~100,000 times a
    # run; only put/take change it.
    __slots__ = ("level", "name", "pools")

    def __init__(self, name: str) -> None:
        self.name = name
        self.pools: dict[PoolKey, float] = {}
        self.level = 0.0

    def put(self, qty: float, key: PoolKey) -> None:
        if not qty >= 0:  # also rejects NaN
            raise ValueError(
                f"stock {self.name!r}: cannot put {qty}: quantities must be non-negative numbers"
            )
        if qty <= EPS:
            return
        self.pools[key] = self.pools.get(key, 0.0) + qty
        self.level += qty

    def put_parts(self, parts: Parts) -> None:
        for key, qty in parts:
            self.put(qty, key)

    def take(self, qty: float, accept: Callable[[PoolKey], bool] | None = None) -> Parts:
        """Remove up to ``qty`` (less if short); ``accept`` filters eligible pools."""
        return self.take_counted(qty, accept)[0]

    def take_counted(
        self, qty: float, accept: Callable[[PoolKey], bool] | None = None
    ) -> tuple[Parts, float]:
        """Like :meth:`take`, and also return the quantity taken (callers need it at once)."""
        if not qty >= 0:  # also rejects NaN
            raise ValueError(
                f"stock {self.name!r}: cannot take {qty}: quantities must be non-negative numbers"
            )
        taken: Parts = []
        pools = self.pools
        if not pools or qty <= EPS:
            return taken, 0.0
        remaining = qty
        got = 0.0
        for key in list(pools):
            if remaining <= EPS:
                break
            if accept is not None and not accept(key):
                continue
            have = pools[key]
            portion = have if have <= remaining else remaining
            left = have - portion
            if left <= EPS:
                del pools[key]
                portion = have
            else:
                pools[key] = left
            remaining -= portion
            got += portion
            taken.append((key, portion))
        level = self.level - got
        self.level = level if level > 0.0 and pools else 0.0
        return taken, got

    def available(self, accept: Callable[[PoolKey], bool] | None = None) -> float:
        if accept is None:
            return self.level
        return sum(q for k, q in self.pools.items() if accept(k))

    @staticmethod
    def total(parts: Parts) -> float:
        return sum(q for _, q in parts)
