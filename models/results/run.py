"""Collect a finished world into tidy tables, and write them out.

Each table is a pandas DataFrame; times are kept as simulation days (``*_day``
columns) and given as calendar dates (``*_date``) at this edge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paxsim.models.phase_outcome import CAUSES
from paxsim.models.results.national import national_table
from paxsim.models.world import World
from paxsim.sim.replications.store import MANIFEST, holds_batches
from paxsim.sim.safe_paths import (
    OutputPathError,
    check_output_dir,
    describe_os_error,
    is_resource_error,
    make_output_dir,
)

__all__ = [
    "RUN_FORMAT",
    "SUMMARY_COLUMNS",
    "TABLES",
    "Results",
    "check_run_folder",
    "collect",
    "is_run_folder",
]

#: The ``format`` of a run folder's manifest.json (a batch folder's is ``sim.replications/1``).
RUN_FORMAT = "paxsim.run/1"

#: The columns of ``projects`` that ``paxsim run`` prints and a run's report shows.
SUMMARY_COLUMNS = (
    "phase_id",
    "region",
    "it_mw",
    "planned_date",
    "online_date",
    "delay_days",
    "held_back_by",
)

#: Table name -> what it holds (the file names say it too).
TABLES = {
    "projects": "one row per data-center phase: full-power date (the headline) and first-power "
    "date, delay, days by cause",
    "critical_path": "one row per segment of each phase's critical path",
    "facility_timeseries": "per facility and sample period: output, stocks, shortfall",
    "queue_records": "one row per request at every gate: arrival, start, end, outcome",
    "capacity_online": "AI MW online by grid region at each sample time",
    "trusted_share": "output by material and sample period, and the trusted share",
    "provenance": "output by facility, material and provenance (countries passed through)",
    "shortages": "every order or use that could not be met, with its reason",
    "shipments": "every shipment: time, supplier, buyer, material, quantity",
    "licences": "every export-licence application of a modelled shipment and its outcome",
    "exports": "every lot crossing a border, when it cleared export control",
    "grid_requests": "every interconnection request: arrival, study, energisation, outcome",
    "headroom": "per grid region, every change of spare, reserved, being-built and waiting MW",
    "pipeline_requests": "every data-centre pipeline request: arrival, commitment, energisation, "
    "online date, assigned upgrade cost, outcome (pending at the horizon: censored)",
    "national": "by country, region and year: data-centre load online (GW, at year end) and "
    "energy (TWh in the year), installed base + pipeline sites + named campuses at full power",
    "events": "facility milestones: online, outages, supplier qualifications",
    "balance": "material accounting per material (produced, consumed, stocks, transit)",
}


@dataclass
class Results:
    """What one run produced. Every attribute named in ``TABLES`` is a DataFrame."""

    scenario_name: str
    seed: Any
    start: pd.Timestamp
    projects: pd.DataFrame
    critical_path: pd.DataFrame
    facility_timeseries: pd.DataFrame
    queue_records: pd.DataFrame
    capacity_online: pd.DataFrame
    trusted_share: pd.DataFrame
    provenance: pd.DataFrame
    shortages: pd.DataFrame
    shipments: pd.DataFrame
    licences: pd.DataFrame
    exports: pd.DataFrame
    grid_requests: pd.DataFrame
    headroom: pd.DataFrame
    pipeline_requests: pd.DataFrame
    national: pd.DataFrame
    events: pd.DataFrame
    balance: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    # ---------------------------------------------------------------- conveniences
    def delay_by_gate(self) -> pd.DataFrame:
        """Delay days by cause and gate, with the share spent waiting in queues."""
        from paxsim.models.results.delay_by_gate import delay_by_gate

        return delay_by_gate(self.projects, self.critical_path)

    def origin_share(self, country: str, materials: list[str] | None = None) -> pd.DataFrame:
        """Share of output, per year, whose provenance includes ``country``."""
        prov = self.provenance
        if materials is not None:
            prov = prov[prov["material"].isin(materials)]
        if prov.empty:
            return pd.DataFrame(columns=["year", "total", "with_country", "share"])
        has = prov["provenance"].str.split("+").apply(lambda tags: country in tags)
        frame = prov.assign(year=prov["date"].dt.year, with_country=prov["qty"].where(has, 0.0))
        out = frame.groupby("year").agg(total=("qty", "sum"), with_country=("with_country", "sum"))
        out["share"] = out["with_country"] / out["total"].where(out["total"] > 0)
        return out.reset_index()

    def summary_table(self) -> pd.DataFrame:
        """The table ``paxsim run`` prints."""
        return self.projects[list(SUMMARY_COLUMNS)].copy()

    def write(self, out_dir: str | Path, csv: bool = False) -> list[Path]:
        """Write every table (Parquet, and CSV if asked) and ``manifest.json`` into ``out_dir``.

        Raises :class:`~paxsim.sim.safe_paths.OutputPathError` (before writing
        anything) if ``out_dir`` is a file, cannot be created, or holds a batch
        or another program's manifest, and if the disk fills or a permission
        is missing while writing. Only files inside ``out_dir`` are written.
        """
        out = Path(out_dir)
        check_run_folder(out)
        make_output_dir(out)
        written: list[Path] = []
        try:
            for name, frame in self.tables().items():
                path = out / f"{name}.parquet"
                _parquet_safe(frame).to_parquet(path, index=False)
                written.append(path)
                if csv:
                    cpath = out / f"{name}.csv"
                    frame.to_csv(cpath, index=False)
                    written.append(cpath)
            manifest = out / MANIFEST
            meta = {"format": RUN_FORMAT, **self.meta}
            manifest.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
            written.append(manifest)
        except OSError as exc:
            if not is_resource_error(exc):
                raise
            raise OutputPathError(out, f"cannot write: {describe_os_error(exc)}") from None
        return written


def is_run_folder(path: str | Path) -> bool:
    """``path`` holds one run's tables (a manifest.json written by :meth:`Results.write`).

    Run folders written before :data:`RUN_FORMAT` existed are recognised by
    their manifest's keys.
    """
    try:
        data = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if "format" in data:
        return data["format"] == RUN_FORMAT
    return {"scenario_hash", "paxsim_version", "seed"} <= data.keys()


def check_run_folder(out: str | Path) -> None:
    """Raise :class:`~paxsim.sim.safe_paths.OutputPathError` if a run may not write into ``out``.

    A run may write into a new or empty folder, or over an earlier run. It may
    not write into a batch or comparison folder (its manifest would replace the
    batch's, and the batch could no longer be read or resumed), nor over a
    ``manifest.json`` it did not write. Nothing is created.
    """
    out = Path(out)
    check_output_dir(out)
    if not out.is_dir():
        return
    if holds_batches(out):
        raise OutputPathError(
            out,
            "is a batch folder (written by paxsim batch or compare); a run would overwrite the "
            "batch's manifest and the batch could no longer be read or resumed. "
            "Choose another folder",
        )
    if (out / MANIFEST).exists() and not is_run_folder(out):
        raise OutputPathError(
            out,
            f"holds a {MANIFEST} that paxsim run did not write; refusing to overwrite it. "
            "Choose another folder",
        )


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs one type per column: stringify object columns of mixed types."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            non_null = out[col].dropna()
            if len(non_null) and not all(isinstance(v, str) for v in non_null):
                out[col] = out[col].astype(str)
    return out


# ------------------------------------------------------------------------------ collect
def _dates(world: World, days: pd.Series) -> pd.Series:
    start = pd.Timestamp(world.calendar.start)
    return start + pd.to_timedelta(days.astype(float).round(6), unit="D")


def _projects(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    cal = world.calendar
    rows: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    recorded = {r.phase_id: r for r in world.recorder.phases}
    for project in world.datacenters.values():
        for index, phase in enumerate(project.spec.phases):
            pid = project.phase_id(index)
            start_day = max(0.0, cal.to_days(phase.start))
            unconstrained = start_day + project.unconstrained_days(index, start_day)
            planned = cal.to_days(phase.planned_online) if phase.planned_online else unconstrained
            row: dict[str, Any] = {
                "project": project.name,
                "phase": index + 1,
                "phase_id": pid,
                "country": project.country,
                "region": project.spec.grid_region,
                "it_mw": phase.it_mw,
                "grid_mw": phase.it_mw * project.spec.pue,
                "start_day": start_day,
                "planned_day": planned,
                "unconstrained_day": unconstrained,
            }
            rec = recorded.get(pid)
            if rec is None:
                row |= {
                    "online_day": np.nan,
                    "first_power_day": np.nan,
                    "initial_share": np.nan,
                    "online_by_horizon": False,
                    "delay_days": np.nan,
                    "first_power_delay_days": np.nan,
                    "delay_at_least_days": world.horizon_days - planned,
                    "delay_vs_unconstrained_days": np.nan,
                    "held_back_by": "not online by horizon "
                    f"({project.state.get(index, 'not started')})",
                    "culprit": project.waiting_on.get(pid, "")
                    if project.state.get(index) in ("equipment", "accelerators")
                    else "",
                }
                for cause in (*CAUSES, "plan_optimism", "unused_float"):
                    row[f"days_{cause}"] = np.nan
            else:
                days: dict[str, float] = rec.days
                online_day = rec.online_day
                row |= {
                    "online_day": online_day,
                    "first_power_day": rec.first_power_day,
                    "initial_share": rec.initial_share,
                    "online_by_horizon": True,
                    "delay_days": online_day - planned,
                    "first_power_delay_days": rec.first_power_day - planned,
                    "delay_at_least_days": online_day - planned,
                    "delay_vs_unconstrained_days": online_day - unconstrained,
                    "held_back_by": rec.critical_cause or "nothing (on plan)",
                    "culprit": rec.culprit,
                }
                for cause in (*CAUSES, "plan_optimism", "unused_float"):
                    row[f"days_{cause}"] = days.get(cause, 0.0)
                for order, seg in enumerate(rec.path):
                    segments.append(
                        {
                            "phase_id": pid,
                            "order": order,
                            "cause": seg.cause,
                            "start_day": seg.start,
                            "end_day": seg.end,
                            "actual_days": seg.actual,
                            "nominal_days": seg.nominal,
                            "excess_days": seg.excess,
                            "detail": seg.detail,
                        }
                    )
            row |= _trusted_shares(project, pid)
            rows.append(row)
    projects = pd.DataFrame(rows)
    if not projects.empty:
        for col in ("start", "planned", "unconstrained", "online", "first_power"):
            projects[f"{col}_date"] = _dates(world, projects[f"{col}_day"]).dt.date
    critical = pd.DataFrame(
        segments,
        columns=[
            "phase_id",
            "order",
            "cause",
            "start_day",
            "end_day",
            "actual_days",
            "nominal_days",
            "excess_days",
            "detail",
        ],
    )
    return projects, critical


def _trusted_shares(project: Any, pid: str) -> dict[str, float]:
    """Of the magnets and accelerators a phase received, the share trusted on arrival
    (NaN where nothing arrived)."""
    out = {}
    for label, material in (
        ("magnet", project.spec.magnet_material),
        ("accelerator", project.spec.accelerator_material),
    ):
        order = project.orders.get((pid, material))
        out[f"{label}_trusted_share"] = order.trusted_share() if order is not None else np.nan
    return out


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float) if len(frame) else np.array([])


def _capacity_online(world: World, projects: pd.DataFrame) -> pd.DataFrame:
    every = world.scenario.time.sample_every_days
    times = np.arange(0.0, world.horizon_days + every, every)
    times[-1] = min(times[-1], world.horizon_days)
    rows = []
    regions = sorted(world.grid)
    for region in regions:
        sub = projects[projects["region"] == region] if not projects.empty else projects

        online = np.nan_to_num(_column(sub, "first_power_day"), nan=np.inf)
        full = np.nan_to_num(_column(sub, "online_day"), nan=np.inf)
        share = np.nan_to_num(_column(sub, "initial_share"), nan=1.0)
        planned = _column(sub, "planned_day")
        mw = _column(sub, "it_mw")
        for t in times:
            # A flexible connection brings a share of the MW online first, the rest later.
            live = np.where(full <= t, 1.0, np.where(online <= t, share, 0.0))
            rows.append((float(t), region, float((mw * live).sum()), float(mw[planned <= t].sum())))
    frame = pd.DataFrame(rows, columns=["time", "region", "online_mw", "planned_mw"])
    frame["date"] = _dates(world, frame["time"])
    return frame


def _balance(world: World) -> pd.DataFrame:
    on_hand: dict[str, float] = {}

    def add(material: str, qty: float) -> None:
        on_hand[material] = on_hand.get(material, 0.0) + qty

    for fac in world.facilities.values():
        for m, stock in fac.outputs.items():
            add(m, stock.level)
        for m, slot in fac.inputs.items():
            add(m, slot.stock.level)
    for pile in world.stockpiles.values():
        add(pile.spec.material, pile.stock.level)
    for dem in world.demands.values():
        add(dem.spec.material, dem.slot.stock.level)
    rows = []
    for m, produced, consumed, in_transit, shipped, denied in world.ledger.as_rows():
        rows.append(
            {
                "material": m,
                "produced": produced,
                "consumed": consumed,
                "on_hand": on_hand.get(m, 0.0),
                "in_transit": in_transit,
                "shipped": shipped,
                "denied": denied,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["material", "produced", "consumed", "on_hand", "in_transit", "shipped", "denied"],
    )
    frame["imbalance"] = (
        frame["produced"] - frame["consumed"] - frame["on_hand"] - frame["in_transit"]
    )
    return frame


def _with_dates(world: World, frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    for src, dst in cols.items():
        if src in frame and len(frame):
            frame[dst] = _dates(world, frame[src])
        elif src in frame:
            frame[dst] = pd.Series(dtype="datetime64[ns]")
    return frame


def _trusted_share(provenance: pd.DataFrame) -> pd.DataFrame:
    cols = ["time", "date", "material", "output", "trusted_output", "trusted_share"]
    if provenance.empty:
        return pd.DataFrame(columns=cols)
    frame = provenance.assign(trusted_qty=provenance["qty"].where(provenance["trusted"], 0.0))
    out = frame.groupby(["time", "date", "material"], as_index=False).agg(
        output=("qty", "sum"), trusted_output=("trusted_qty", "sum")
    )
    out["trusted_share"] = out["trusted_output"] / out["output"].where(out["output"] > 0)
    return out[cols]


def collect(
    world: World, meta: dict[str, Any] | None = None, tables: Collection[str] | None = None
) -> Results:
    """Turn a finished world's records into tables.

    ``tables`` names the ones wanted (a batch keeps only a few; see
    :data:`~paxsim.models.results.compact.KEPT_TABLES`); the others are left
    empty and cost nothing. None builds them all.
    """
    wanted = set(TABLES) if tables is None else set(tables)
    unknown = wanted - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; known: {sorted(TABLES)}")
    if "capacity_online" in wanted:
        wanted.add("projects")
    if "trusted_share" in wanted:
        wanted.add("provenance")
    if "national" in wanted:
        wanted |= {"projects", "pipeline_requests"}
    recorder = world.recorder
    builders: dict[str, Callable[[], pd.DataFrame]] = {
        "facility_timeseries": lambda: _with_dates(
            world, recorder.timeseries.to_frame(), {"time": "date"}
        ),
        "queue_records": lambda: _with_dates(
            world, world.queue_log.to_frame(), {"arrival": "arrival_date", "end": "end_date"}
        ),
        "provenance": lambda: _provenance(world),
        "shortages": lambda: _with_dates(world, recorder.shortages.to_frame(), {"time": "date"}),
        "shipments": lambda: _with_dates(world, recorder.shipments.to_frame(), {"time": "date"}),
        "licences": lambda: _with_dates(
            world, recorder.licences.to_frame(), {"applied": "applied_date"}
        ),
        "exports": lambda: _with_dates(world, recorder.exports.to_frame(), {"time": "date"}),
        "grid_requests": lambda: _with_dates(
            world, recorder.grid_requests.to_frame(), {"arrival": "arrival_date"}
        ),
        "headroom": lambda: _with_dates(world, recorder.headroom.to_frame(), {"time": "date"}),
        "pipeline_requests": lambda: _with_dates(
            world,
            recorder.pipeline_requests.to_frame(),
            {"arrival": "arrival_date", "online": "online_date"},
        ),
        "events": lambda: _with_dates(world, recorder.events.to_frame(), {"time": "date"}),
        "balance": lambda: _balance(world),
    }
    frames: dict[str, pd.DataFrame] = {name: pd.DataFrame() for name in TABLES}
    if "projects" in wanted or "critical_path" in wanted:
        frames["projects"], frames["critical_path"] = _projects(world)
    for name, build in builders.items():
        if name in wanted:
            frames[name] = build()
    if "capacity_online" in wanted:
        frames["capacity_online"] = _capacity_online(world, frames["projects"])
    if "trusted_share" in wanted:
        frames["trusted_share"] = _trusted_share(frames["provenance"])
    if "national" in wanted:
        frames["national"] = national_table(
            world.scenario, frames["projects"], frames["pipeline_requests"]
        )
    return Results(
        scenario_name=world.scenario.name,
        seed=world.seed,
        start=pd.Timestamp(world.calendar.start),
        meta=dict(meta or {}),
        **frames,
    )


def _provenance(world: World) -> pd.DataFrame:
    provenance = _with_dates(world, world.recorder.provenance.to_frame(), {"time": "date"})
    if len(provenance):
        provenance["trusted"] = provenance["trusted"].astype(bool)
    return provenance
