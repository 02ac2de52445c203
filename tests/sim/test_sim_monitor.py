"""Long-format time series."""

from __future__ import annotations

from paxsim.sim.monitor import TimeSeries


def test_observe_and_frame() -> None:
    ts = TimeSeries()
    ts.observe(0.0, "mine:A", "stock_t", 10)
    ts.observe(1.5, "mine:A", "stock_t", 7.25)
    ts.observe(1.5, "fab:B", "wip", 3)
    assert len(ts) == 3
    frame = ts.to_frame()
    assert list(frame.columns) == ["time", "entity", "variable", "value"]
    assert frame["value"].dtype == float
    assert frame["value"].tolist() == [10.0, 7.25, 3.0]
    wide = frame.pivot_table(index="time", columns="entity", values="value")
    assert wide.loc[1.5, "fab:B"] == 3.0


def test_empty_series_frame() -> None:
    frame = TimeSeries().to_frame()
    assert list(frame.columns) == ["time", "entity", "variable", "value"]
    assert len(frame) == 0
