"""Which gate held the phases back, and how much of it was waiting in a queue.

A phase's delay is split by cause along its critical path (the ``days_<cause>``
columns of ``projects``). Each cause's days are shared among that cause's
segments in proportion to their excess over nominal, and each segment names
its gate (``detail``: the permit office, the grid region, the upgrade, the
licence desk). Queue causes are those where a request waits for a server or
for capacity (permit queue, interconnection queue, grid capacity queue); the
rest is service (reviews, studies, builds) and supply.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["QUEUE_CAUSES", "delay_by_gate"]

#: Causes that are waiting in a queue, not being served.
QUEUE_CAUSES = frozenset({"permit_queue", "interconnection_queue", "grid_capacity_queue"})


def delay_by_gate(projects: pd.DataFrame, critical_path: pd.DataFrame) -> pd.DataFrame:
    """Attributed delay days by cause and gate over the phases that came online.

    Columns: ``cause``, ``gate``, ``queue`` (bool), ``days``, ``share`` (of all
    attributed delay days), ``phases`` (how many phases it delayed).
    """
    cols = ["cause", "gate", "queue", "days", "share", "phases"]
    online = projects[projects["online_by_horizon"].astype(bool)] if len(projects) else projects
    rows: list[tuple[str, str, float, str]] = []
    for pid, segments in critical_path.groupby("phase_id", sort=False):
        phase = online[online["phase_id"] == pid]
        if phase.empty:
            continue
        for cause, of_cause in segments.groupby("cause", sort=False):
            days = float(phase.iloc[0].get(f"days_{cause}", 0.0) or 0.0)
            if days <= 1e-9:
                continue
            excess = of_cause["excess_days"].clip(lower=0.0)
            if excess.sum() > 0:
                weights = excess / excess.sum()
            else:
                weights = pd.Series(1.0 / len(of_cause), index=of_cause.index)
            for gate, weight in zip(of_cause["detail"].fillna(""), weights, strict=True):
                rows.append((str(cause), str(gate) or str(cause), days * float(weight), str(pid)))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    frame = pd.DataFrame(rows, columns=["cause", "gate", "days", "phase_id"])
    out = frame.groupby(["cause", "gate"], as_index=False).agg(
        days=("days", "sum"), phases=("phase_id", "nunique")
    )
    out["queue"] = out["cause"].isin(QUEUE_CAUSES)
    out["share"] = out["days"] / out["days"].sum()
    return out.sort_values("days", ascending=False, ignore_index=True)[cols]
