"""Flat per-event records that turn straight into DataFrames (Ciw's data records).

Records are appended to plain lists of tuples during a run, because building a
DataFrame row by row is slow; ``to_frame`` converts once, at collect time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import pandas as pd

__all__ = ["QueueRecord", "RecordList", "records_to_frame"]


class QueueRecord(NamedTuple):
    """One request's passage through a gate."""

    gate: str
    request_id: str
    kind: str
    background: bool
    arrival: float
    start: float
    end: float
    outcome: str

    @property
    def wait(self) -> float:
        return self.start - self.arrival

    @property
    def service(self) -> float:
        return self.end - self.start


class RecordList:
    """An append-only list of same-shaped tuples with named columns."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.rows: list[tuple[Any, ...]] = []

    def append(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)

    def extend(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self.rows.extend(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_frame(self) -> pd.DataFrame:
        return records_to_frame(self.rows, self.columns)


def records_to_frame(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.DataFrame.from_records(rows, columns=list(columns))
