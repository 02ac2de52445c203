"""Time-series recording: ``(time, entity, variable, value)`` rows."""

from __future__ import annotations

import pandas as pd

from paxsim.sim.records import RecordList

__all__ = ["TimeSeries"]


class TimeSeries(RecordList):
    """Long-format observations; pivot at analysis time, not during the run."""

    def __init__(self) -> None:
        super().__init__(("time", "entity", "variable", "value"))

    def observe(self, time: float, entity: str, variable: str, value: float) -> None:
        self.rows.append((time, entity, variable, value))

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        if len(frame):
            frame["value"] = frame["value"].astype(float)
        return frame
