"""Flat records and their conversion to DataFrames."""

from __future__ import annotations

import pandas as pd
import pytest

from paxsim.sim.records import QueueRecord, RecordList, records_to_frame


def test_queue_record_wait_and_service() -> None:
    r = QueueRecord("grid:ERCOT", "dc1", "load", False, 10.0, 25.0, 40.5, "studied")
    assert r.wait == 15.0
    assert r.service == 15.5
    assert r.gate == "grid:ERCOT"
    assert r._asdict()["outcome"] == "studied"
    assert QueueRecord._fields == (
        "gate",
        "request_id",
        "kind",
        "background",
        "arrival",
        "start",
        "end",
        "outcome",
    )


def test_record_list_append_extend_len() -> None:
    rl = RecordList(["a", "b"])
    assert len(rl) == 0
    rl.append((1, "x"))
    rl.extend([(2, "y"), (3, "z")])
    assert len(rl) == 3
    assert rl.columns == ("a", "b")
    frame = rl.to_frame()
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1, 2, 3]
    assert frame["b"].tolist() == ["x", "y", "z"]


def test_record_list_columns_are_a_copy() -> None:
    cols = ["a"]
    rl = RecordList(cols)
    cols.append("b")
    assert rl.columns == ("a",)


def test_empty_frame_keeps_its_columns() -> None:
    frame = RecordList(["t", "v"]).to_frame()
    assert list(frame.columns) == ["t", "v"]
    assert len(frame) == 0
    assert records_to_frame([], ("x",)).columns.tolist() == ["x"]


def test_records_to_frame_from_named_tuples() -> None:
    rows = [
        QueueRecord("g", "r1", "k", True, 0.0, 1.0, 2.0, "done"),
        QueueRecord("g", "r2", "k", False, 0.5, 2.0, 3.0, "withdrawn"),
    ]
    frame = records_to_frame(rows, QueueRecord._fields)
    assert frame.shape == (2, 8)
    assert frame["background"].tolist() == [True, False]
    assert frame["end"].dtype == float
    pd.testing.assert_series_equal(
        frame["start"] - frame["arrival"], pd.Series([1.0, 1.5]), check_names=False
    )


def test_wrong_row_width_is_an_error() -> None:
    with pytest.raises((ValueError, AssertionError)):
        records_to_frame([(1, 2, 3)], ["a", "b"])
