"""Out-of-sample replay of US generation interconnection, 2000-2025.

One grid region stands for the US queues. Only the request volume changes
with the calendar: ``background_generation_steps`` replays the capacity that
entered the queues each year (``experiments/data/us_queue_volumes.csv``,
LBNL Queued Up and reports of it). Study durations, study capacity, build
times and withdrawal odds are constants, so any lengthening of request ->
operation has to come out of arrivals meeting finite study throughput.

Usage::

    python -m experiments.us_interconnection_history --reps 8 --out runs/us_history
    python -m experiments.us_interconnection_history --reps 8 --out DIR --hold-arrivals-at 2005

Writes, in the study folder layout ``paxsim report`` reads:
``tables/cohorts.csv`` (median request -> operation months by the year
projects reached operation), ``tables/completion.csv`` (share of each request
year that reached operation by the end of 2025), ``findings.md``,
``figures/cohorts.png`` (and SVG) and ``study.json``. ``--workers`` spreads
the replications over local processes, ``--scheduler`` over a Dask cluster;
the result does not depend on either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paxsim.models.calibration_checks import DAYS_PER_MONTH, grid_requests_alone
from paxsim.models.loader import validate_raw
from paxsim.models.scenario import Scenario

DATA = Path(__file__).parent / "data" / "us_queue_volumes.csv"
REGION = "us_queues"
START, END = 2000, 2026
#: Thinning: one model request stands for this much requested capacity (about
#: 4-5 real requests of the 2023 average of ~224 MW: 2,600 GW / 11,600
#: projects, LBNL Queued Up 2024). Fewer, larger requests keep a replication
#: to a few seconds; study capacity is in the same thinned units.
GW_PER_REQUEST = 1.0

# Every duration and probability below is constant over the calendar.
#: Serial (first come, first served) studies in three phases, as under the
#: FERC Order 2003 pro forma procedures most US queues used before 2020s reforms.
STUDY_PHASES = [
    {"name": "feasibility", "days": {"dist": "lognormal", "median": 60, "p90": 120}},
    {"name": "system_impact", "days": {"dist": "lognormal", "median": 120, "p90": 240}},
    {"name": "facilities", "days": {"dist": "lognormal", "median": 150, "p90": 300}},
]
#: Parallel study teams (thinned units). No public staffing series was found,
#: so this is a constant assumption: enough teams that the 2000-2015 volume
#: (122 requests/yr x ~0.59 team-years of study each, after withdrawals between
#: phases) loads them to 0.6, a queue that kept up. docs/model.md gives the
#: sensitivity (80-200 teams).
STUDY_TEAMS = 120
#: IA -> commercial operation. Calibrated: with the unloaded studies (~11
#: months) it puts request -> operation at ~20 months without congestion, the
#: 2005 (Brattle: 20 months) and 2008 (LBNL: under 2 years) figures.
BUILD_DAYS = {"dist": "lognormal", "median": 300, "p90": 600}
WITHDRAWAL = {"dist": "triangular", "min": 0.70, "mode": 0.78, "max": 0.87}
POST_STUDY_WITHDRAWAL = 0.2

#: LBNL's request -> operation figures by COD year (months), for comparison.
LBNL_MONTHS = {
    2008: (24.0, "< 2 years (LBNL Queued Up 2023/2024, via Switzer Network)"),
    2015: (36.0, "~3 years (same)"),
    2022: (60.0, "~5 years for projects built in 2022 and 2023 (same)"),
    2023: (60.0, "~5 years (same)"),
    2024: (55.0, "~55 months (LBNL Queued Up 2025, via Loopback Systems)"),
}


def volumes(hold_at: int | None = None) -> pd.DataFrame:
    """Capacity entering the queues per year (GW), frozen at ``hold_at``'s if given."""
    vol = pd.read_csv(DATA)
    if hold_at is not None:
        held = float(vol.loc[vol["year"] == hold_at, "gw_entering"].iloc[0])
        vol = vol.assign(gw_entering=held)
    return vol


def scenario(hold_at: int | None = None) -> Scenario:
    """The one-region US queue world, 2000-01-01 to 2026-01-01."""
    steps = [
        {
            "start": dt.date(int(row.year), 1, 1),
            "per_year": float(row.gw_entering) / GW_PER_REQUEST,
            "source": f"{row.basis}: {row.source}"[:400],
        }
        for row in volumes(hold_at).itertuples()
    ]
    region: dict[str, Any] = {
        "country": "US",
        "spare_mw": 0,
        "study_teams": STUDY_TEAMS,
        "study_phases": STUDY_PHASES,
        "connection_days": 0,
        "upgrade_days": 0,
        "upgrade_mw": 100,
        "background_generation_steps": steps,
        "background_generation_mw": GW_PER_REQUEST * 1000.0,
        "background_withdrawal_probability": WITHDRAWAL,
        "generation_post_study_withdrawal": POST_STUDY_WITHDRAWAL,
        "generation_build_days": BUILD_DAYS,
        "source": "LBNL Queued Up (volumes); durations constant, see experiment docstring",
    }
    raw = {
        "name": "us_interconnection_history",
        "time": {"start": dt.date(START, 1, 1), "end": dt.date(END, 1, 1)},
        "trust_coalition": "none",
        "countries": {"US": {"name": "United States"}},
        "coalitions": {"none": {"name": "none", "source": "assumption: no coalition needed"}},
        "materials": {},
        "grid": {REGION: region},
    }
    return validate_raw(raw, "us_interconnection_history", warn=False)


def _replay(hold_at: int | None, seeds: list[int]) -> pd.DataFrame:
    """One worker's share of the replications (a top-level function, so it pickles)."""
    scen = scenario(hold_at)
    years = (scen.time.end - scen.time.start).days / 365.25
    return grid_requests_alone(scen, [REGION], seeds, years)


def _pooled(
    reps: int, seed: int, hold_at: int | None, workers: int, scheduler: str | None
) -> pd.DataFrame:
    """Every replication's requests, run serially, on local processes or on a Dask cluster.

    Replication i always uses seed ``seed + i``, so the pooled rows are the
    same whatever the workers (they are sorted by replication).
    """
    seeds = list(range(seed, seed + reps))
    chunks = [seeds[i::workers] for i in range(workers) if seeds[i::workers]]
    if scheduler is not None:
        from distributed import Client

        with Client(scheduler, timeout="10s") as client:
            frames = client.gather(client.map(_replay, [hold_at] * len(chunks), chunks))
    elif len(chunks) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(chunks)) as pool:
            frames = list(pool.map(_replay, [hold_at] * len(chunks), chunks))
    else:
        frames = [_replay(hold_at, seeds)]
    pooled = pd.concat(frames, ignore_index=True)
    return pooled.sort_values("replication", kind="stable").reset_index(drop=True)


def run(
    reps: int,
    seed: int,
    hold_at: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Pooled generation requests of ``reps`` replications (seeds seed..seed+reps-1)."""
    req = _pooled(reps, seed, hold_at, workers, scheduler)
    origin = pd.Timestamp(scenario(hold_at).time.start)
    req = req[req["kind"] == "generation"].copy()
    req["request_year"] = (origin + pd.to_timedelta(req["arrival"], unit="D")).dt.year
    done = req["outcome"] == "operating"
    cod = origin + pd.to_timedelta(req["energized"].where(done, 0.0), unit="D")
    req["cod_year"] = cod.dt.year.where(done)
    req["ir_to_cod_months"] = ((req["energized"] - req["arrival"]) / DAYS_PER_MONTH).where(done)
    return req


def cohorts(req: pd.DataFrame) -> pd.DataFrame:
    done = req.dropna(subset=["cod_year"])
    out = (
        done.groupby(done["cod_year"].astype(int))["ir_to_cod_months"]
        .agg(median_ir_to_cod_months="median", n_projects="size")
        .reset_index()
    )
    return out[["cod_year", "median_ir_to_cod_months", "n_projects"]]


def completion(req: pd.DataFrame) -> pd.DataFrame:
    share = req.groupby("request_year")["outcome"].apply(lambda s: float((s == "operating").mean()))
    return share.rename("completion_share").reset_index()


def ratio_late_early(table: pd.DataFrame, early: range, late: range) -> float:
    """Median months of late COD years over early ones (medians of the yearly medians)."""
    med = table.set_index("cod_year")["median_ir_to_cod_months"]
    return float(med.reindex(late).median() / med.reindex(early).median())


def _findings(
    main: pd.DataFrame, held: pd.DataFrame | None, comp: pd.DataFrame, cmd: str, secs: float
) -> str:
    med = main.set_index("cod_year")["median_ir_to_cod_months"]
    lines = [
        "# US interconnection history (out of sample)",
        "",
        f"Command: `{cmd}` ({secs:.1f} s).",
        "",
        "## Median request -> operation (months) by COD year, against LBNL",
        "",
        "| COD year | simulated | LBNL | agreement |",
        "|---|---|---|---|",
    ]
    for year, (pub, label) in LBNL_MONTHS.items():
        sim = float(med.get(year, np.nan))
        gap = (sim - pub) / pub
        verdict = "within 20 %" if abs(gap) <= 0.2 else f"miss ({gap:+.0%})"
        if year == 2008:
            verdict = "calibrated (build time set to this)" if sim < 30 else f"miss ({gap:+.0%})"
        lines.append(f"| {year} | {sim:.1f} | {label} | {verdict} |")
    early, late = range(2005, 2011), range(2022, 2026)
    lines += [
        "",
        f"Late/early ratio (median of COD-year medians 2022-25 over 2005-10): "
        f"{ratio_late_early(main, early, late):.2f}.",
    ]
    if held is not None:
        lines += [
            "",
            "## Counterfactual: volumes frozen at 2005's",
            "",
            "| COD year | recorded volumes | frozen at 2005 |",
            "|---|---|---|",
        ]
        hmed = held.set_index("cod_year")["median_ir_to_cod_months"]
        for year in range(2004, 2026, 2):
            lines.append(f"| {year} | {med.get(year, np.nan):.1f} | {hmed.get(year, np.nan):.1f} |")
        lines.append("")
        lines.append(f"Late/early ratio frozen: {ratio_late_early(held, early, late):.2f}.")
    lines += [
        "",
        "## Completion by request year (operating by 2026-01-01)",
        "",
        ", ".join(f"{int(r.request_year)}: {r.completion_share:.2f}" for r in comp.itertuples()),
        "",
    ]
    return "\n".join(lines)


def _figure(main: pd.DataFrame, held: pd.DataFrame | None, folder: Path) -> list[Path]:
    """Median request -> operation by COD year against LBNL, as PNG and SVG."""
    import matplotlib.pyplot as plt

    from paxsim.plots import save_figure

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(main["cod_year"], main["median_ir_to_cod_months"], "o-", label="recorded volumes")
    if held is not None:
        ax.plot(held["cod_year"], held["median_ir_to_cod_months"], "s--", label="frozen at 2005")
    years = list(LBNL_MONTHS)
    ax.plot(years, [LBNL_MONTHS[y][0] for y in years], "k*", ms=12, label="LBNL")
    ax.set_xlabel("COD year")
    ax.set_ylabel("median request -> operation (months)")
    ax.set_title("US interconnection: request -> operation by COD year (out of sample)")
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, folder, "cohorts")


def _write_table(frame: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{name}.csv", index=False)
    frame.to_parquet(folder / f"{name}.parquet", index=False)
    return [folder / f"{name}.parquet", folder / f"{name}.csv"]


def _manifest(args: argparse.Namespace, secs: float, files: list[Path]) -> dict[str, Any]:
    """A study.json in the shape `paxsim report` reads (paxsim.study/1)."""
    from paxsim.models.simulation import PAXSIM_VERSION

    return {
        "format": "paxsim.study/1",
        "study": "us_interconnection_history",
        "question": "Does finite study throughput, meeting the recorded queue volumes, "
        "generate the lengthening of US request -> operation times (LBNL Queued Up)?",
        "reps": args.reps,
        "seed": args.seed,
        "paxsim_version": PAXSIM_VERSION,
        "baseline": "recorded volumes",
        "scenarios": [
            {
                "label": "recorded volumes",
                "name": "us_interconnection_history",
                "source": "built in experiments/us_interconnection_history.py from "
                "experiments/data/us_queue_volumes.csv",
                "overrides": [],
                "batch": "",
            }
        ],
        "wall_seconds": round(secs, 1),
        "command": " ".join(sys.argv),
        "figures": [str(p.relative_to(args.out)) for p in files if p.parent.name == "figures"],
        "tables": [str(p.relative_to(args.out)) for p in files if p.parent.name == "tables"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler address")
    parser.add_argument("--hold-arrivals-at", type=int, default=None, metavar="YEAR")
    parser.add_argument(
        "--with-counterfactual",
        action="store_true",
        help="also run volumes frozen at 2005 and put both in findings.md and the figure",
    )
    args = parser.parse_args(argv)
    if args.hold_arrivals_at is not None and not START <= args.hold_arrivals_at < END:
        parser.error(f"--hold-arrivals-at must be a year in {START}..{END - 1}")
    if args.reps < 1 or args.workers < 1:
        parser.error("--reps and --workers must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    parallel = {"workers": args.workers, "scheduler": args.scheduler}
    req = run(args.reps, args.seed, args.hold_arrivals_at, **parallel)
    table, comp = cohorts(req), completion(req)
    tables = args.out / "tables"
    files = _write_table(table, tables, "cohorts") + _write_table(comp, tables, "completion")
    held = None
    if args.with_counterfactual and args.hold_arrivals_at is None:
        held = cohorts(run(args.reps, args.seed, 2005, **parallel))
        files += _write_table(held, tables, "cohorts_hold_2005")
    secs = time.perf_counter() - began
    cmd = "python -m experiments.us_interconnection_history " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    (args.out / "findings.md").write_text(_findings(table, held, comp, cmd, secs))
    files += _figure(table, held, args.out / "figures")
    manifest = json.dumps(_manifest(args, secs, files), indent=2)
    (args.out / "study.json").write_text(manifest, encoding="utf-8")
    print((args.out / "findings.md").read_text())


if __name__ == "__main__":
    main()
