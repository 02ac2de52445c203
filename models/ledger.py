"""Material accounting: what was produced, consumed and is in transit.

The ledger lets tests check the balance identity for every material:
``produced = consumed + on hand + in transit`` (stockpile releases count as
produced when the stockpile is created).
"""

from __future__ import annotations

from collections import defaultdict

__all__ = ["Ledger"]


class Ledger:
    def __init__(self) -> None:
        self.produced: dict[str, float] = defaultdict(float)
        self.consumed: dict[str, float] = defaultdict(float)
        self.in_transit: dict[str, float] = defaultdict(float)
        self.shipped: dict[str, float] = defaultdict(float)
        self.denied: dict[str, float] = defaultdict(float)

    def as_rows(self) -> list[tuple[str, float, float, float, float, float]]:
        materials = sorted(set(self.produced) | set(self.consumed) | set(self.in_transit))
        return [
            (
                m,
                self.produced[m],
                self.consumed[m],
                self.in_transit[m],
                self.shipped[m],
                self.denied[m],
            )
            for m in materials
        ]
