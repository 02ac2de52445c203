"""Global sensitivity: which uncertain parameters move the full-power delay and GW online in 2030.

Outputs (one number per design point: the mean over its replications):

* ``mw_weighted_delay_days``: MW-weighted full-power delay of every named data-centre phase
  (a phase not online by the horizon counts at the horizon, so this is a lower bound);
* ``gw_online_2030_US`` / ``gw_online_2030_JP``: data-centre GW online at the end of 2030
  (national table; needs a horizon of 2031-01-01 or later, the default world runs to 2036).

Parameters (:func:`parameters`): ten multipliers on the default world, each 1 at the default,
chosen from the assumed and calibrated entries of docs/model.md section 3: magnet tonnes per
MW, transformer lead time, grid study durations, study teams, network-upgrade build time,
data-centre request volume, developers' cost tolerance, export-licence review time, new
separation plants' build and ramp, permitting review time. Each has a range with its reason.

Method:

* ``--method morris`` (default): Morris elementary effects, ``--trajectories R`` (6) at 4
  levels, R·(D+1) design points: a screening (mu_star, its bootstrap CI, sigma);
* ``--method sobol``: Saltelli's sampling of Sobol indices with second order, ``--n N`` (8,
  a power of two) base samples, N·(2D+2) design points: S1 and ST with bootstrap CIs.
  ``--params a,b,c`` restricts either to the named parameters (e.g. Morris's top four).

Every design point is the default world plus overrides, run as a batch of ``--reps``
replications with the *same* seeds (common random numbers: the indices measure the
parameters, not noise). A one-at-a-time tornado (2·D batches, each parameter at its low
and high end, the others at the default) is paired with the default world on the seed.

Usage::

    python -m experiments.sensitivity --reps 2 --workers 2 --out runs/sensitivity
    python -m experiments.sensitivity --method sobol --n 8 \
        --params magnet_t_per_mw,grid_study_days,dc_requests,upgrade_days --out runs/sobol

The cost (design points x replications) is printed before anything runs; batches are
cached by their inputs, so a rerun (or a Sobol run sharing ``--cache``) reuses them.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim.models.results.batch import BatchResults
from paxsim.models.results.metrics import mw_weighted_full_power_day, national_gw, paired
from paxsim.models.scenario import Scenario
from paxsim.sim.distributions import _Dist
from paxsim.sim.replications import REPLICATION
from paxsim.study import Arm, Study, StudyOptions, interval_text, run_study_main, study_parser

NAME = "sensitivity"
QUESTION = (
    "Which uncertain parameters drive the MW-weighted full-power delay of the named data-centre "
    "phases and the GW of data centres online in the US and Japan at the end of 2030, and "
    "which hardly matter?"
)
BASELINE = Arm("default", None, (), "the default world: every parameter at its default (x1)")

METHODS = ("morris", "sobol")
#: Morris grid levels (the usual p = 4; the step is p / (2 (p - 1)) = 2/3 of the range).
MORRIS_LEVELS = 4
#: Bootstrap resamples for the index confidence intervals.
BOOTSTRAP_RESAMPLES = 1000
#: Year of the GW outputs; the national table has it only if the run ends on or after 1 Jan.
GW_YEAR = 2030
GW_COUNTRIES = ("US", "JP")
#: CPU seconds one default-world replication (2025-2036) takes: the cost note's unit.
CPU_SECONDS_PER_REPLICATION = 5.0
#: Below these sizes the findings warn that indices and rankings are not yet stable.
MIN_TRAJECTORIES = 10
MIN_SOBOL_N = 256
#: Significant digits of a scaled value written to a scenario (0.45, not 0.44999999999999996).
SIGNIFICANT_DIGITS = 6
#: A parameter whose index is under this share of the largest counts as negligible.
NEGLIGIBLE_SHARE = 0.05
DELAY = "mw_weighted_delay_days"


@dataclass(frozen=True)
class Output:
    """One output of the design: a name, words for the findings and a unit."""

    name: str
    description: str
    unit: str


OUTPUTS = (
    Output(DELAY, "MW-weighted full-power delay of the named phases", "d"),
    *(
        Output(f"gw_online_{GW_YEAR}_{c}", f"data-centre GW online in {c} at end-{GW_YEAR}", "GW")
        for c in GW_COUNTRIES
    ),
)

OverrideFn = Callable[[Scenario, float], list[str]]


@dataclass(frozen=True)
class Parameter:
    """One uncertain input: a multiplier on default-world values (1 = the default).

    ``overrides(scenario, value)`` turns a value into ``--set`` strings, scaling what
    ``scenario`` (the resolved default world) holds, so a distribution is scaled as a
    whole (a triangular's min/mode/max, a lognormal's median and p90).
    """

    name: str
    description: str
    low: float
    high: float
    reason: str
    status: str
    apply: OverrideFn
    default: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"{self.name}: need 0 < low < high, got {self.low}, {self.high}")
        if not self.low <= self.default <= self.high:
            raise ValueError(
                f"{self.name}: default {self.default} outside [{self.low}, {self.high}]"
            )

    def overrides(self, scenario: Scenario, value: float) -> list[str]:
        """The ``--set`` strings that put this parameter at ``value`` (none at the default)."""
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{self.name}: a multiplier must be a positive number, got {value!r}")
        if value == self.default:
            return []
        return self.apply(scenario, value)


# ------------------------------------------------------------------------------ scaling
def toml_value(value: Any) -> str:
    """A Python value as a TOML inline value (what ``--set KEY=VALUE`` parses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no usable spelling for {value!r} in a scenario")
        return repr(float(f"{value:.{SIGNIFICANT_DIGITS}g}"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} {value!r} as TOML")


def scaled(spec: float | _Dist, factor: float) -> float | dict[str, Any]:
    """``spec`` (a number or a distribution) with every value multiplied by ``factor``.

    Scaling all of a distribution's location parameters together keeps its
    shape: a lognormal keeps its sigma (p90 / median), a triangular its
    skew; weights of an empirical table are left alone.
    """
    if factor <= 0 or not math.isfinite(factor):
        raise ValueError(f"scale factor must be a positive number, got {factor!r}")
    if isinstance(spec, _Dist):
        table = spec.model_dump(by_alias=True)
        out: dict[str, Any] = {}
        for key, value in table.items():
            if key in ("dist", "weights"):
                out[key] = value
            elif key == "samples":
                out[key] = [float(v) * factor for v in value]
            else:
                out[key] = float(value) * factor
        return out
    return float(spec) * factor


def scaled_text(spec: float | _Dist, factor: float) -> str:
    """:func:`scaled` as TOML text."""
    return toml_value(scaled(spec, factor))


def scaled_count(count: int, factor: float) -> int:
    """An integer count (teams, reviewers, units) scaled and rounded, never below 1."""
    return max(1, round(count * factor))


# ------------------------------------------------------------------------------ parameters
def _magnets(s: Scenario, f: float) -> list[str]:
    out = [
        f"datacenters.{name}.magnet_t_per_mw={toml_value(dc.magnet_t_per_mw * f)}"
        for name, dc in s.datacenters.items()
    ]
    for region, pipe in _pipelines(s):
        if pipe.magnet_t_per_mw > 0:
            key = f"grid.{region}.datacenter_pipeline.magnet_t_per_mw"
            out.append(f"{key}={toml_value(pipe.magnet_t_per_mw * f)}")
    return out


def _transformers(s: Scenario, f: float) -> list[str]:
    pool = s.transformers
    if pool is None:
        return []
    backlog = max(0, round(pool.initial_backlog * f))
    return [
        f"transformers.build_days={scaled_text(pool.build_days, f)}",
        f"transformers.initial_backlog={backlog}",
    ]


def _study_days(s: Scenario, f: float) -> list[str]:
    out = []
    for region, grid in s.grid.items():
        if grid.study_days is not None:
            out.append(f"grid.{region}.study_days={scaled_text(grid.study_days, f)}")
        if grid.study_phases:
            # the whole list: a scenario file replaces lists, it cannot index them
            phases = [
                {**_table(phase), "days": scaled(phase.days, f)} for phase in grid.study_phases
            ]
            out.append(f"grid.{region}.study_phases={toml_value(phases)}")
    return out


def _study_teams(s: Scenario, f: float) -> list[str]:
    return [
        f"grid.{region}.study_teams={scaled_count(grid.study_teams, f)}"
        for region, grid in s.grid.items()
    ]


def _upgrade_days(s: Scenario, f: float) -> list[str]:
    return [
        f"grid.{region}.upgrade_days={scaled_text(grid.upgrade_days, f)}"
        for region, grid in s.grid.items()
    ]


def _requests(s: Scenario, f: float) -> list[str]:
    out = []
    for region, pipe in _pipelines(s):
        steps = []
        for step in pipe.requests:
            table = _table(step)
            for unit in ("gw_per_year", "twh_per_year"):
                if unit in table:
                    table[unit] = float(table[unit]) * f
            steps.append(table)
        out.append(f"grid.{region}.datacenter_pipeline.requests={toml_value(steps)}")
    return out


def _cost_tolerance(s: Scenario, f: float) -> list[str]:
    return [
        f"grid.{region}.datacenter_pipeline.cost_tolerance_usd_per_kw="
        f"{scaled_text(pipe.cost_tolerance_usd_per_kw, f)}"
        for region, pipe in _pipelines(s)
        if pipe.cost_tolerance_usd_per_kw is not None
    ]


def _export_review(s: Scenario, f: float) -> list[str]:
    return [
        f"export_controls.{name}.review_days={scaled_text(control.review_days, f)}"
        for name, control in s.export_controls.items()
    ]


def _separation_build(s: Scenario, f: float) -> list[str]:
    out = []
    for name, plant in s.separation_plants.items():
        if plant.construction_days is None:
            continue  # operating plants: nothing to build
        out.append(
            f"separation_plants.{name}.construction_days={scaled_text(plant.construction_days, f)}"
        )
        if plant.ramp_days > 0:
            out.append(f"separation_plants.{name}.ramp_days={toml_value(plant.ramp_days * f)}")
    return out


def _permit_review(s: Scenario, f: float) -> list[str]:
    out = []
    for name, office in s.authorities.items():
        out.append(f"authorities.{name}.review_days={scaled_text(office.review_days, f)}")
        for kind, days in office.review_days_by_kind.items():
            key = f"authorities.{name}.review_days_by_kind.{kind}"
            out.append(f"{key}={scaled_text(days, f)}")
    return out


def _table(model: Any) -> dict[str, Any]:
    """A scenario entry as the table a file would hold (aliases, no unset fields)."""
    table: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True)
    return table


def _pipelines(s: Scenario) -> Iterator[tuple[str, Any]]:
    for region, grid in s.grid.items():
        if grid.datacenter_pipeline is not None:
            yield region, grid.datacenter_pipeline


def parameters() -> list[Parameter]:
    """The uncertain inputs, their ranges (multipliers) and why each range."""
    return [
        Parameter(
            "magnet_t_per_mw",
            "NdFeB tonnes per MW of data-centre equipment (fans, pumps, chillers), every named "
            "campus and pipeline (default 0.15 t/MW)",
            1 / 3,
            3.0,
            "not sourced (calibration gap): 0.15 t/MW puts data centres at ~0.6 % of world "
            "NdFeB, 'likely below 1 %'; 0.05-0.45 t/MW spans 0.2-1.8 %",
            "assumed",
            _magnets,
        ),
        Parameter(
            "transformer_lead",
            "large-power-transformer lead time: build days and the initial order backlog "
            "(default ~120 weeks in 2024)",
            0.75,
            1.5,
            "backlog calibrated to 120 weeks (2024); 2025 reports 128-143 weeks and 2026 up "
            "to 4 years: x1.5 ~ 3.5 yr, x0.75 an easing market",
            "calibrated",
            _transformers,
        ),
        Parameter(
            "grid_study_days",
            "interconnection study durations of every grid region (study_days, PJM's study phases)",
            0.5,
            2.0,
            "no sourced request-to-agreement median for PJM, MISO or Japan; ERCOT's ~6 months "
            "is an assumption",
            "assumed",
            _study_days,
        ),
        Parameter(
            "grid_study_teams",
            "study teams of every grid region",
            0.5,
            1.5,
            "sized by hand for ~80 % utilisation (sourced† / assumed); x0.5 overloads the "
            "studies, x1.5 leaves them at ~55 %",
            "assumed",
            _study_teams,
        ),
        Parameter(
            "upgrade_days",
            "network-upgrade build time of every grid region",
            0.7,
            1.5,
            "suggested table 3.0 / 5.0 yr; Dominion assumed shorter (800 d), Japan longer: "
            "x0.7-x1.5 covers 2-4.5 yr medians",
            "assumed (Dominion); sourced (others)",
            _upgrade_days,
        ),
        Parameter(
            "dc_requests",
            "data-centre request volume of every region's pipeline (GW a year, all steps)",
            0.5,
            1.5,
            "2025-26 volumes are sourced but hold duplicates (requests at 4-8x host peak); the "
            "volumes from 2027 on are assumed",
            "sourced (2025-26); assumed (2027 on)",
            _requests,
        ),
        Parameter(
            "cost_tolerance",
            "upgrade cost a data-centre developer will bear before withdrawing "
            "(pipelines, median 400 USD/kW)",
            0.5,
            2.0,
            "assumption: no survey of what developers pay; a campus costs ~USD 10,000/kW",
            "assumed",
            _cost_tolerance,
        ),
        Parameter(
            "export_review_days",
            "Chinese export-licence review time, both regimes (April 2025: 7/63/91 d)",
            0.5,
            2.0,
            "April regime sourced ('a week at best, up to 45 working days'); the October "
            "package's slower desk is assumed",
            "sourced (April); assumed (October)",
            _export_review,
        ),
        Parameter(
            "separation_build",
            "construction and ramp time of the new separation plants (MP heavy circuit, "
            "Energy Fuels phase 2, Iluka Eneabba)",
            0.75,
            2.0,
            "company schedules are plans; new plants outside China often start late "
            "(assumption: up to twice the plan)",
            "sourced (plans); range assumed",
            _separation_build,
        ),
        Parameter(
            "permit_review_days",
            "permitting review time of every authority (all kinds)",
            0.5,
            2.0,
            "mostly assumptions; the suggested DC permitting table (1.0 / 2.0 yr) is weak, "
            "syntheses say 6-18 months",
            "assumed",
            _permit_review,
        ),
    ]


def select(names: Sequence[str] | None) -> list[Parameter]:
    """The parameters named (all when ``names`` is None), in the given order."""
    every = {p.name: p for p in parameters()}
    if names is None:
        return list(every.values())
    unknown = [n for n in names if n not in every]
    if unknown:
        raise ValueError(f"unknown --params {', '.join(unknown)}; known: {', '.join(every)}")
    if len(set(names)) != len(names):
        raise ValueError(f"--params names a parameter twice: {', '.join(names)}")
    if len(names) < 2:
        raise ValueError("--params needs at least two parameters (one has no sensitivity ranking)")
    return [every[n] for n in names]


def parameter_table(params: Sequence[Parameter], base: Scenario) -> pd.DataFrame:
    """One row per parameter: name, description, range, reason, status, overrides at the ends."""
    return pd.DataFrame(
        [
            {
                "parameter": p.name,
                "description": p.description,
                "default": p.default,
                "low": round(p.low, 4),
                "high": p.high,
                "status": p.status,
                "range_reason": p.reason,
                "overrides_at_high": len(p.overrides(base, p.high)),
            }
            for p in params
        ]
    )


def problem(params: Sequence[Parameter]) -> dict[str, Any]:
    """The SALib problem: names and uniform bounds."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }


def point_overrides(
    params: Sequence[Parameter], values: Sequence[float], base: Scenario
) -> list[str]:
    """The ``--set`` strings of a design point: each parameter at its value."""
    if len(params) != len(values):
        raise ValueError(f"{len(values)} values for {len(params)} parameters")
    out: list[str] = []
    for p, v in zip(params, values, strict=True):
        out += p.overrides(base, float(v))
    return out


def scenario_text(name: str, description: str, overrides: Sequence[str]) -> str:
    """A scenario file holding ``overrides`` on the default world (TOML dotted keys).

    Every override sets a whole value under a dotted key (lists are written
    whole), so each ``--set`` string is one line of the file.
    """
    lines = [
        "# A design point of experiments/sensitivity.py (written by the study; do not edit).",
        f"name = {toml_value(name)}",
        f"description = {toml_value(description)}",
        'extends = "default"',
    ]
    for text in overrides:
        key, _, value = text.partition("=")
        lines.append(f"{key.strip()} = {value.strip()}")
    return "\n".join(lines) + "\n"


def point_arm(
    label: str,
    params: Sequence[Parameter],
    values: Sequence[float],
    base: Scenario,
    folder: Path,
) -> Arm:
    """A design point as an arm: a scenario file under ``folder`` (the default world + overrides).

    A file rather than ``--set`` overrides on the arm: a point sets ~100 values,
    which would otherwise be listed for every one of the ~90 arms in findings.md.
    The batch cache keys on the resolved scenario, so reruns still reuse it.
    """
    words = "; ".join(f"{p.name} x{float(v):.3g}" for p, v in zip(params, values, strict=True))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}.toml"
    text = scenario_text(f"{NAME}-{label}", words, point_overrides(params, values, base))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return Arm(label, path, (), words)


def check_study_overrides(
    overrides: Sequence[str], params: Sequence[Parameter], base: Scenario
) -> None:
    """Refuse a study-wide ``--set`` of a value a parameter varies.

    The study applies its ``--set`` after a design point's file, so it would
    silently pin the parameter at the same value in every point.
    """
    touched = {
        text.partition("=")[0].strip(): p.name for p in params for text in p.overrides(base, p.high)
    }
    for text in overrides:
        key = text.partition("=")[0].strip().rstrip("+-")
        for other, name in touched.items():
            if key == other or other.startswith(f"{key}.") or key.startswith(f"{other}."):
                raise ValueError(
                    f"--set {text} fixes {other}, which the parameter {name} varies; "
                    f"leave it out, or restrict --params to exclude {name}"
                )


# ------------------------------------------------------------------------------ design
def design(
    method: str, params: Sequence[Parameter], size: int, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """The design matrix (points x parameters) of ``method`` and its SALib problem.

    ``size`` is the number of Morris trajectories or Sobol base samples.
    """
    from SALib.sample import morris as morris_sample  # type: ignore[import-untyped]
    from SALib.sample import sobol as sobol_sample

    spec = problem(params)
    if method == "morris":
        x = morris_sample.sample(spec, N=size, num_levels=MORRIS_LEVELS, seed=seed)
    elif method == "sobol":
        x = sobol_sample.sample(spec, size, calc_second_order=True, seed=seed)
    else:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    return np.asarray(x, dtype=float), spec


def design_points(method: str, size: int, dims: int) -> int:
    """How many scenarios a design runs: R·(D+1) for Morris, N·(2D+2) for Sobol."""
    return size * (dims + 1) if method == "morris" else size * (2 * dims + 2)


def cost_note(method: str, size: int, dims: int, reps: int, horizon_days: float) -> str:
    """What the design will cost, said before it runs (Sobol grows fast with D)."""
    points = design_points(method, size, dims)
    tornado = 2 * dims + 1
    sims = (points + tornado) * reps
    share = min(1.0, horizon_days / (11 * 365.25))
    cpu_min = sims * CPU_SECONDS_PER_REPLICATION * share / 60
    formula = (
        f"R·(D+1) = {size}·{dims + 1}"
        if method == "morris"
        else (f"N·(2D+2) = {size}·{2 * dims + 2}")
    )
    return (
        f"{method}: {formula} = {points} design points + {tornado} tornado batches "
        f"(2D + the default world), x {reps} replications = {sims} simulations, "
        f"~{cpu_min:.0f} CPU minutes at ~{CPU_SECONDS_PER_REPLICATION:g} s per 11-year "
        "replication (divide by the workers; cached replications are reused)"
    )


# ------------------------------------------------------------------------------ outputs
def replication_outputs(batch: BatchResults) -> pd.DataFrame:
    """Per replication and output: the value (columns replication, output, value).

    GW outputs are absent when the run ends before the national table has
    ``GW_YEAR`` (end before 1 Jan of the following year); :func:`missing_outputs`
    says why.
    """
    delay = mw_weighted_full_power_day(batch.projects, batch.horizon_days, by=None)
    frames = [
        pd.DataFrame(
            {
                REPLICATION: delay[REPLICATION].to_numpy(),
                "output": DELAY,
                "value": delay[DELAY].to_numpy(dtype=float),
            }
        )
    ]
    national = batch.national
    if not national.empty and GW_YEAR in set(national["year"].astype(int)):
        gw = national_gw(national, GW_YEAR, by="country")
        gw = gw[gw["group"].isin(GW_COUNTRIES)]
        frames.append(
            pd.DataFrame(
                {
                    REPLICATION: gw[REPLICATION].to_numpy(),
                    "output": [f"gw_online_{GW_YEAR}_{g}" for g in gw["group"]],
                    "value": gw["gw_online"].to_numpy(dtype=float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def point_means(per_rep: pd.DataFrame) -> dict[str, float]:
    """Each output's mean over the replications of one design point (NaN when absent)."""
    means = per_rep.groupby("output")["value"].mean()
    return {o.name: float(means.get(o.name, np.nan)) for o in OUTPUTS}


def missing_note(output: Output, values: np.ndarray, end: date) -> str:
    """Why an output has no indices ("" when it has them): the horizon, or gaps."""
    if np.isnan(values).all():
        if output.unit == "GW":
            return (
                f"{output.description}: not available, the run ends {end} and the national "
                f"table needs an end on or after {GW_YEAR + 1}-01-01 (run without "
                "`--set time.end` or with a later end)"
            )
        return f"{output.description}: no value at any design point"
    if np.isnan(values).any():
        return (
            f"{output.description}: missing at {int(np.isnan(values).sum())} of "
            f"{values.size} design points, so no indices"
        )
    return ""


# ------------------------------------------------------------------------------ analysis
def analyse(
    method: str,
    spec: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """SALib's indices of one output, one row per parameter, with 95 % bootstrap CIs.

    Morris: mu_star (mean |elementary effect|), mu_star_conf (half-width),
    sigma (spread of the effects: interaction or non-linearity), mu. Sobol:
    S1 (first order), ST (total), each with its half-width.
    """
    from SALib.analyze import morris as morris_analyze  # type: ignore[import-untyped]
    from SALib.analyze import sobol as sobol_analyze

    if method == "morris":
        res = morris_analyze.analyze(
            spec,
            x,
            y,
            num_resamples=BOOTSTRAP_RESAMPLES,
            conf_level=0.95,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        cols = ("mu_star", "mu_star_conf", "sigma", "mu")
    elif method == "sobol":
        res = sobol_analyze.analyze(
            spec,
            y,
            calc_second_order=True,
            num_resamples=BOOTSTRAP_RESAMPLES,
            conf_level=0.95,
            seed=seed,
        )
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    frame = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in cols})
    frame.insert(0, "parameter", list(spec["names"]))
    return frame


def ranking_column(method: str) -> tuple[str, str]:
    """The index that ranks parameters and its CI column."""
    return ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")


def classify(indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """Sort by the ranking index and label each parameter dominant / minor / negligible.

    Negligible: index under :data:`NEGLIGIBLE_SHARE` of the largest, or its CI
    reaching zero. Dominant: the top parameters that together hold half of
    the summed index (at least the top one), if not negligible.
    """
    value, conf = ranking_column(method)
    out = indices.sort_values(value, ascending=False, kind="stable").reset_index(drop=True)
    v = out[value].to_numpy(dtype=float)
    top = float(np.nanmax(v)) if v.size else 0.0
    total = float(np.nansum(np.clip(v, 0.0, None)))
    negligible = (v < NEGLIGIBLE_SHARE * top) | (v - out[conf].to_numpy(dtype=float) <= 0)
    cum = np.cumsum(np.clip(v, 0.0, None))
    before = np.concatenate([[0.0], cum[:-1]])
    dominant = (before < 0.5 * total) & ~negligible if total > 0 else np.zeros(v.size, bool)
    out["role"] = np.where(dominant, "dominant", np.where(negligible, "negligible", "minor"))
    return out


# ------------------------------------------------------------------------------ tornado
def tornado(
    study: Study, params: Sequence[Parameter], base: Scenario, folder: Path
) -> tuple[pd.DataFrame, list[Arm]]:
    """One-at-a-time low and high of each parameter, paired with the default world on the seed.

    One row per output and parameter: the paired difference (policy - default)
    at the low and the high end with its 95 % half-width, and the swing
    |high - low|; rows are sorted by swing within each output.
    """
    base_frame = replication_outputs(study.run(BASELINE))
    rows: list[dict[str, Any]] = []
    arms: list[Arm] = []
    for p in params:
        ends: dict[str, dict[Hashable, dict[Hashable, Any]]] = {}
        for end, value in (("low", p.low), ("high", p.high)):
            arm = point_arm(f"{end}_{p.name}", [p], [value], base, folder)
            arms.append(arm)
            diff = paired(base_frame, replication_outputs(study.run(arm)), "value", "output")
            ends[end] = diff.set_index("output").to_dict("index")
        for o in OUTPUTS:
            if o.name in ends["low"] and o.name in ends["high"]:
                rows.append(tornado_row(p, o, ends["low"][o.name], ends["high"][o.name]))
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame, arms
    order = {o.name: i for i, o in enumerate(OUTPUTS)}
    frame = frame.assign(_o=frame["output"].map(order)).sort_values(
        ["_o", "swing"], ascending=[True, False], kind="stable"
    )
    return frame.drop(columns="_o").reset_index(drop=True), arms


def tornado_row(
    param: Parameter, output: Output, low: Mapping[Hashable, Any], high: Mapping[Hashable, Any]
) -> dict[str, Any]:
    """One tornado row from the paired differences at the low and the high end."""
    diff_low, diff_high = float(low["diff_mean"]), float(high["diff_mean"])
    return {
        "output": output.name,
        "unit": output.unit,
        "parameter": param.name,
        "low": param.low,
        "high": param.high,
        "default_mean": float(low["base_mean"]),
        "diff_low": diff_low,
        "halfwidth_low": float(low["halfwidth"]),
        "diff_high": diff_high,
        "halfwidth_high": float(high["halfwidth"]),
        "swing": abs(diff_high - diff_low),
        "n": int(min(low["n"], high["n"])),
        "warning": str(high.get("warning") or low.get("warning") or ""),
    }


# ------------------------------------------------------------------------------ figures
def tornado_figure(frame: pd.DataFrame, output: Output, context: str) -> Figure:
    """Change in ``output`` at each parameter's low and high end; the largest swing on top."""
    import matplotlib.pyplot as plt

    from paxsim.plots.style import STYLE, set_title

    sub = frame[frame["output"] == output.name].sort_values("swing", ascending=False)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(sub) + 2.0))
        y = np.arange(len(sub), dtype=float)
        for end, colour, dy in (("low", "#4c72b0", -0.18), ("high", "#dd8452", 0.18)):
            ax.barh(
                y + dy,
                sub[f"diff_{end}"].to_numpy(dtype=float),
                height=0.34,
                xerr=np.nan_to_num(sub[f"halfwidth_{end}"].to_numpy(dtype=float), nan=0.0),
                color=colour,
                ecolor="black",
                capsize=2,
                label=f"{end} end of the range",
            )
        labels = [
            f"{r.parameter} (x{r.low:.2g} / x{r.high:.2g})" for r in sub.itertuples(index=False)
        ]
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(f"change in {output.description} vs default ({output.unit}); 95 % CI")
        ax.legend(loc="best")
        set_title(fig, f"Tornado: {output.name}", context)
        fig.tight_layout()
    return fig


def indices_figure(indices: pd.DataFrame, method: str, output: Output, context: str) -> Figure:
    """Each parameter's sensitivity index with its 95 % bootstrap CI, largest on top."""
    import matplotlib.pyplot as plt

    from paxsim.plots.style import STYLE, set_title

    value, _ = ranking_column(method)
    sub = indices.sort_values(value, ascending=False, kind="stable")
    series = (
        (("mu_star", "mu_star_conf", "#4c72b0", "mu* (mean |effect|)"),)
        if method == "morris"
        else (
            ("S1", "S1_conf", "#4c72b0", "S1 (first order)"),
            ("ST", "ST_conf", "#dd8452", "ST (total)"),
        )
    )
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(sub) + 2.0))
        y = np.arange(len(sub), dtype=float)
        height = 0.8 / len(series)
        for i, (col, conf, colour, label) in enumerate(series):
            ax.barh(
                y + (i - (len(series) - 1) / 2) * height,
                sub[col].to_numpy(dtype=float),
                height=height * 0.9,
                xerr=np.nan_to_num(sub[conf].to_numpy(dtype=float), nan=0.0),
                color=colour,
                ecolor="black",
                capsize=2,
                label=label,
            )
        if method == "morris":
            ax.plot(sub["sigma"], y, "kx", label="sigma (interaction / non-linearity)")
            unit = f"{output.unit} per full range"
        else:
            unit = "share of variance"
        ax.set_yticks(y, list(sub["parameter"]))
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(f"{method} index of {output.name} ({unit}); bars: 95 % bootstrap CI")
        ax.legend(loc="best")
        set_title(fig, f"Sensitivity indices: {output.name}", context)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ findings
def index_text(row: Mapping[Hashable, Any], method: str, output: Output) -> str:
    """One parameter's index with its CI: ``grid_study_days mu* 120 d (95 % CI 80 to 160)``."""
    if method == "morris":
        digits = 2 if output.unit == "GW" else 0
        mu = _unsigned(
            interval_text(float(row["mu_star"]), float(row["mu_star_conf"]), output.unit, digits)
        )
        return f"{row['parameter']} mu* {mu}, sigma {float(row['sigma']):.{digits}f} {output.unit}"
    st = _unsigned(interval_text(float(row["ST"]), float(row["ST_conf"]), "", 2))
    s1 = _unsigned(interval_text(float(row["S1"]), float(row["S1_conf"]), "", 2))
    return f"{row['parameter']} ST {st}, S1 {s1}"


def _unsigned(text: str) -> str:
    """An index is not a change: drop interval_text's leading sign and the empty unit's space."""
    return text.lstrip("+").replace("  (", " (")


def _index_findings(study: Study, ranked: pd.DataFrame, method: str, output: Output) -> None:
    records: list[dict[Hashable, Any]] = ranked.to_dict("records")
    dominant = [index_text(r, method, output) for r in records if r["role"] == "dominant"]
    minor = [index_text(r, method, output) for r in records if r["role"] == "minor"]
    negligible = [index_text(r, method, output) for r in records if r["role"] == "negligible"]
    if dominant:
        rest = f"; then (minor) {'; '.join(minor)}" if minor else ""
        study.finding(
            f"**{output.name}** ({output.description}): dominated by " + "; ".join(dominant) + rest
        )
    elif minor:
        study.finding(
            f"**{output.name}** ({output.description}): no parameter dominates (the largest "
            f"indices are indistinguishable from zero); minor: {'; '.join(minor)}"
        )
    else:
        study.finding(
            f"**{output.name}** ({output.description}): no parameter stands out; every index "
            f"is indistinguishable from zero or below {NEGLIGIBLE_SHARE * 100:.0f} % of the largest"
        )
    if negligible:
        study.finding(
            f"**{output.name}**: negligible (index below {NEGLIGIBLE_SHARE * 100:.0f} % of the "
            "largest, or its 95 % CI reaches zero: indistinguishable from no effect): "
            + "; ".join(negligible)
        )


def _tornado_findings(study: Study, frame: pd.DataFrame, output: Output, top: int = 3) -> None:
    records: list[dict[Hashable, Any]] = (
        frame[frame["output"] == output.name].head(top).to_dict("records")
    )
    if not records:
        return
    digits = 2 if output.unit == "GW" else 0
    parts = []
    for r in records:
        texts, zero = [], []
        for end in ("low", "high"):
            d, h = float(r[f"diff_{end}"]), float(r[f"halfwidth_{end}"])
            texts.append(f"x{float(r[end]):.2g}: {interval_text(d, h, output.unit, digits)}")
            if math.isfinite(h) and abs(d) <= h:
                zero.append(end)
        note = f" ({' and '.join(zero)} indistinguishable from zero)" if zero else ""
        parts.append(f"{r['parameter']} " + ", ".join(texts) + note)
    study.finding(
        f"**{output.name}**, one at a time (largest swings; change vs the default world, "
        "paired on the seed): " + "; ".join(parts)
    )


def _size_warnings(method: str, size: int, reps: int) -> list[str]:
    warnings = []
    if method == "morris" and size < MIN_TRAJECTORIES:
        warnings.append(
            f"**Warning:** {size} Morris trajectories is a quick screening: with fewer than "
            f"{MIN_TRAJECTORIES} the ranking of parameters with close mu* can change from one "
            "sample to the next; read the CIs, and rerun with more `--trajectories` before "
            "quoting a rank"
        )
    if method == "sobol" and size < MIN_SOBOL_N:
        warnings.append(
            f"**Warning:** N = {size} Sobol base samples is far below the ~{MIN_SOBOL_N}-1000 "
            "that stable indices need; bootstrap CIs this wide (and negative S1) are sampling "
            "noise, so use these indices to rank, not to apportion variance"
        )
    if reps < 5:
        warnings.append(
            f"**Warning:** each design point averages only {reps} replications; with common "
            "random numbers this noise is shared across points, but it still inflates sigma "
            "(Morris) and ST (Sobol) a little"
        )
    return warnings


# ------------------------------------------------------------------------------ the study
def _method_options(extra: Mapping[str, Any]) -> tuple[str, int, list[str] | None]:
    """Check --method, --trajectories, --n and --params (clear errors before any work)."""
    method = str(extra.get("method", "morris"))
    if method not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "morris":
        size = int(extra.get("trajectories", 6))
        if size < 2:
            raise ValueError(f"--trajectories must be at least 2, got {size}")
    else:
        size = int(extra.get("n", 8))
        if size < 2 or size & (size - 1):
            raise ValueError(f"--n must be a power of two >= 2 (Sobol sequence), got {size}")
    raw = extra.get("params")
    names = [n.strip() for n in str(raw).split(",") if n.strip()] if raw else None
    return method, size, names


def run(options: StudyOptions) -> Study:
    method, size, names = _method_options(options.extra)
    params = select(names)
    study = Study(NAME, QUESTION, options, BASELINE)
    base = study.scenario(BASELINE)
    check_study_overrides(options.overrides, params, base)
    folder = options.out / "design"
    end = base.time.end
    horizon_days = float((end - base.time.start).days)
    print(cost_note(method, size, len(params), options.reps, horizon_days), file=sys.stderr)

    x, spec = design(method, params, size, options.seed)
    context = f"{NAME} ({method}) · n = {options.reps} replications per point, common seeds"
    rows = []
    for i, values in enumerate(x):
        arm = point_arm(f"{method}_{i:04d}", params, values, base, folder)
        means = point_means(replication_outputs(study.run(arm)))
        rows.append(
            {"point": i, "arm": arm.label, **dict(zip(spec["names"], values, strict=True)), **means}
        )
    outputs = pd.DataFrame(rows)
    study.table(parameter_table(params, base), "parameters")
    study.table(outputs[["point", "arm", *spec["names"]]], "design")
    study.table(outputs, "outputs")

    frames, notes = [], []
    for output in OUTPUTS:
        y = outputs[output.name].to_numpy(dtype=float)
        note = missing_note(output, y, end)
        if note:
            notes.append(note)
            continue
        ranked = classify(analyse(method, spec, x, y, options.seed), method)
        frames.append(ranked.assign(method=method, output=output.name, unit=output.unit))
        study.figure(indices_figure(ranked, method, output, context), f"indices_{output.name}")
        _index_findings(study, ranked, method, output)
    if frames:
        indices = pd.concat(frames, ignore_index=True)
        first = ["method", "output", "unit", "parameter", "role"]
        study.table(indices[[*first, *[c for c in indices if c not in first]]], "indices")

    swings, tornado_arms = tornado(study, params, base, folder)
    study.table(swings, "tornado")
    for output in OUTPUTS:
        if not swings.empty and output.name in set(swings["output"]):
            study.figure(tornado_figure(swings, output, context), f"tornado_{output.name}")
            _tornado_findings(study, swings, output)

    for note in notes:
        study.finding(f"**Not analysed:** {note}.")
    for warning in _size_warnings(method, size, options.reps):
        study.finding(warning)
    batches = len(x) + len(tornado_arms) + 1
    formula, letter = ("R·(D+1)", "R") if method == "morris" else ("N·(2D+2)", "N")
    reused = sum(a["replications_reused"] for a in study.arms.values())
    study.finding(
        f"**Cost:** {len(x)} {method} design points ({formula} with {letter} = {size}, "
        f"D = {len(params)}) + "
        f"{len(tornado_arms)} tornado batches + the default world = {batches} batches x "
        f"{options.reps} replications = {batches * options.reps} simulations "
        f"({reused} reused from the cache)."
    )
    study.section("How to read this", _how_to_read(method, params))
    return study


def _how_to_read(method: str, params: Sequence[Parameter]) -> list[str]:
    lines = [
        "Every parameter is a multiplier on default-world values (x1 = the default), drawn "
        "uniformly over its range; a distribution is scaled as a whole (a lognormal's median "
        "and p90, a triangular's min/mode/max). The ranges are judgements, listed with their "
        "reasons in tables/parameters.csv; indices rank parameters *over these ranges* and "
        "change if the ranges do.",
        "",
        "| parameter | range | status | why this range |",
        "|---|---|---|---|",
        *[f"| {p.name} | x{p.low:.2g}-x{p.high:.2g} | {p.status} | {p.reason} |" for p in params],
        "",
    ]
    if method == "morris":
        lines.append(
            "Morris: mu* is the mean absolute elementary effect, the change of the output for "
            "a step of 2/3 of the parameter's range scaled to the whole range (in the output's "
            "unit per full range), with a 95 % bootstrap CI; sigma is the spread of those "
            "effects (large: the effect depends on the other parameters or is non-linear). A "
            "screening: it ranks, it does not apportion variance."
        )
    else:
        lines.append(
            "Sobol: S1 is the share of the output's variance due to the parameter alone, ST "
            "the share including its interactions (ST - S1 large: interactions); 95 % "
            "bootstrap CIs. With small N the CIs are wide and S1 can come out negative."
        )
    lines += [
        "",
        "Each design point is one batch of replications with the same seeds as every other "
        "point (common random numbers); the output per point is the mean over them. The "
        "delay is MW-weighted over the named phases and counted at full power; a phase not "
        "online by the horizon counts at the horizon (a lower bound). GW online comes from "
        "the national table (installed base + pipeline sites + named phases).",
        "The tornado moves one parameter to each end of its range with the others at the "
        "default; its intervals are 95 % t intervals of the paired difference over "
        "replications.",
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = study_parser(NAME, __doc__ or "", default_reps=2)
    parser.add_argument("--method", choices=METHODS, default="morris", help="morris or sobol")
    parser.add_argument(
        "--trajectories", type=int, default=6, help="Morris trajectories R (R·(D+1) points)"
    )
    parser.add_argument(
        "--n", type=int, default=8, help="Sobol base samples N, a power of two (N·(2D+2) points)"
    )
    parser.add_argument(
        "--params",
        default=None,
        help="comma-separated parameter names (default: all); "
        + ", ".join(p.name for p in parameters()),
    )
    return run_study_main(parser, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
