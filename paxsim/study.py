"""The harness every study in ``experiments/`` shares: arms, batches, outputs, findings.

A study answers one question from the mission by running a baseline and
several policies ("arms") with common random numbers: replication ``i`` of
every arm gets the same seed, so a paired difference measures the lever, not
noise. This module gives each script the same command line

    python -m experiments.<name> --reps N --seed S --workers W --out DIR [--scheduler ADDR]
                                 [--cache DIR2] [--set key=value ...] [--quiet]

and the same folder (the study format ``paxsim.study/1``, which
``paxsim report DIR`` reads)::

    DIR/study.json        what ran: arms, sources, overrides, seed, reps, version, wall time
    DIR/findings.md       every finding with its interval
    DIR/figures/          PNG and SVG
    DIR/tables/           Parquet and CSV
    DIR/batches/<key>/    one batch folder per distinct arm (or under --cache)

An arm's batch folder is named by a hash of everything that changes what a
replication produces (the resolved scenario, the paxsim version, the batch
format), so a second study, or a rerun, with an arm of the same inputs
*reuses* its finished replications instead of running them again: point
several studies at one ``--cache`` to share their baseline.

Everything here is callable from a notebook: :class:`Study` takes a
:class:`StudyOptions`, not ``sys.argv``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from paxsim.batch import content_hash, make_backend, run_batch
from paxsim.models.loader import ScenarioError, load_scenario
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.compact import BATCH_FORMAT
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.metrics import headline_differences, headline_table
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import PAXSIM_VERSION
from paxsim.sim.replications import Backend, BackendUnavailableError, ReplicationStore
from paxsim.sim.safe_paths import OutputPathError, check_output_dir, terminal_safe

__all__ = [
    "STUDY_FORMAT",
    "Arm",
    "Study",
    "StudyOptions",
    "covers_zero",
    "difference_text",
    "effect_of",
    "effect_text",
    "effect_text_noting_zero",
    "interval_text",
    "level_text",
    "number",
    "row_where",
    "run_study_main",
    "study_main",
    "study_parser",
]

#: The ``format`` of a study folder's study.json.
STUDY_FORMAT = "paxsim.study/1"
#: Where the shipped scenario files live (``experiments/scenarios``).
SCENARIOS = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"


@dataclass(frozen=True)
class Arm:
    """One scenario of a study: a file (None: the default world) plus overrides.

    ``label`` names the arm in tables, figures and findings; ``description``
    says in words what the lever is, for the report.
    """

    label: str
    source: str | Path | None = None
    overrides: tuple[str, ...] = ()
    description: str = ""

    def with_overrides(self, *extra: str, label: str | None = None, description: str = "") -> Arm:
        """The same arm with more overrides (a variant: another date, another capacity)."""
        return Arm(
            label or self.label,
            self.source,
            (*self.overrides, *extra),
            description or self.description,
        )


@dataclass(frozen=True)
class StudyOptions:
    """What the command line of every study sets (the notebook builds one directly)."""

    out: Path
    reps: int = 20
    seed: int = 0
    workers: int | None = None
    scheduler: str | None = None
    cache: Path | None = None
    overrides: tuple[str, ...] = ()
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A notebook passes strings; the folders are used as paths throughout.
        object.__setattr__(self, "out", Path(self.out))
        if self.cache is not None:
            object.__setattr__(self, "cache", Path(self.cache))
        object.__setattr__(self, "overrides", tuple(self.overrides))

    @property
    def batch_root(self) -> Path:
        return self.cache if self.cache is not None else self.out / "batches"

    def backend(self) -> Backend:
        return make_backend(self.workers, scheduler=self.scheduler)


def study_parser(name: str, description: str, default_reps: int) -> argparse.ArgumentParser:
    """The options every study takes; a script may add its own before parsing."""
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments.{name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--reps", type=int, default=default_reps, help="replications per arm")
    parser.add_argument("--seed", type=int, default=0, help="root seed (common to every arm)")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes")
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler address")
    parser.add_argument(
        "--out", type=Path, default=Path("paxsim_results") / name, help="the study folder"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="where arms' batches live (default DIR/batches); share it between studies to reuse "
        "a baseline",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override applied to every arm (e.g. time.end=2031-01-01)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def options_from_args(args: argparse.Namespace) -> StudyOptions:
    """Check the shared arguments (clear errors, before any work) and build the options."""
    if args.reps < 2:
        raise ValueError(
            f"--reps must be at least 2 (a paired interval needs two), got {args.reps}"
        )
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    check_output_dir(args.out)
    if args.cache is not None:
        check_output_dir(args.cache)
    known = {"reps", "seed", "workers", "scheduler", "out", "cache", "overrides", "quiet"}
    return StudyOptions(
        out=args.out,
        reps=args.reps,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        cache=args.cache,
        overrides=tuple(args.overrides),
        progress=not args.quiet,
        extra={k: v for k, v in vars(args).items() if k not in known},
    )


def interval_text(mean: float, halfwidth: float, unit: str = "d", digits: int = 0) -> str:
    """``-120 d (95 % CI -150 to -90)``: a number never travels without its interval."""
    if not math.isfinite(mean):
        return "after the horizon" if mean > 0 else "n/a"
    if not math.isfinite(halfwidth):
        return f"{mean:+.{digits}f} {unit} (no interval: too few replications)"
    low, high = mean - halfwidth, mean + halfwidth
    return f"{mean:+.{digits}f} {unit} (95 % CI {low:+.{digits}f} to {high:+.{digits}f})"


def effect_of(effects: pd.DataFrame, arm: str, metric: str, group: str = "all") -> pd.Series:
    """The one row of an effects table for an arm, metric and group (KeyError if absent)."""
    rows = effects[
        (effects["arm"] == arm) & (effects["metric"] == metric) & (effects["group"] == group)
    ]
    if rows.empty:
        raise KeyError(f"no effect for arm {arm!r}, metric {metric!r}, group {group!r}")
    return rows.iloc[0]


def effect_text(
    effects: pd.DataFrame, arm: str, metric: str, group: str = "all", digits: int = 0
) -> str:
    """An effect as words with its interval, and the table's warning if it has one."""
    try:
        row = effect_of(effects, arm, metric, group)
    except KeyError:
        notes = effects.loc[(effects["arm"] == arm) & (effects["metric"] == metric), "note"]
        why = next((str(n) for n in notes if isinstance(n, str) and n), "not computed")
        return f"n/a ({why})"
    unit = {"day": "d", "days": "d"}.get(str(row.get("unit", "")), str(row.get("unit", "")))
    text = interval_text(float(row["diff_mean"]), float(row["halfwidth"]), unit, digits)
    warning = str(row.get("warning", "") or "")
    return f"{text} [{warning}]" if warning else text


def covers_zero(low: float, high: float) -> bool:
    """True when a 95 % interval contains zero (the effect is not distinguishable from 0).

    An interval with a missing or infinite end covers zero: it rules nothing out.
    """
    return not (math.isfinite(low) and math.isfinite(high)) or (low <= 0 <= high)


def level_text(mean: float, half: float, unit: str = "", digits: int = 2) -> str:
    """``0.85 (95 % CI 0.80 to 0.90)``: a level, not a difference, with its interval."""
    suffix = f" {unit}" if unit else ""
    if not math.isfinite(mean):
        return "n/a"
    if not math.isfinite(half):
        return f"{mean:.{digits}f}{suffix} (no interval: too few replications)"
    return (
        f"{mean:.{digits}f}{suffix} (95 % CI {mean - half:.{digits}f} to {mean + half:.{digits}f})"
    )


def number(value: object) -> float:
    """A table cell as a float (NaN for a missing or non-numeric one)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def row_where(frame: pd.DataFrame, **where: object) -> dict[str, Any]:
    """The first row of ``frame`` matching every ``column=value`` (KeyError if none)."""
    mask = np.ones(len(frame), dtype=bool)
    for col, value in where.items():
        mask &= (frame[col] == value).to_numpy()
    rows = frame[mask].to_dict("records")
    if not rows:
        raise KeyError(f"no row with {where}")
    return {str(k): v for k, v in rows[0].items()}


def _noting_zero(text: str, low: float, high: float) -> str:
    return f"{text}, indistinguishable from zero" if covers_zero(low, high) else text


def difference_text(
    row: Mapping[str, Any], unit: str, digits: int = 0, column: str = "diff_mean"
) -> str:
    """A paired difference with its interval, saying so when it is indistinguishable from 0.

    The mean is ``row[column]``, its half-width ``row["halfwidth"]`` (for ``diff_mean``)
    or ``row[f"{column}_halfwidth"]`` (any other column).
    """
    mean = number(row[column])
    half = number(row["halfwidth" if column == "diff_mean" else f"{column}_halfwidth"])
    return _noting_zero(interval_text(mean, half, unit, digits), mean - half, mean + half)


def effect_text_noting_zero(
    effects: pd.DataFrame, arm: str, metric: str, group: str = "all", digits: int = 0
) -> str:
    """:func:`effect_text`, plus "indistinguishable from zero" when its interval covers 0.

    Unlike :func:`effect_text`, a missing effect is a KeyError (from :func:`effect_of`).
    """
    row = effect_of(effects, arm, metric, group)
    text = effect_text(effects, arm, metric, group, digits)
    return _noting_zero(text, number(row.get("low")), number(row.get("high")))


class Study:
    """One study folder: runs (or reuses) arms' batches and collects figures, tables, findings."""

    def __init__(self, name: str, question: str, options: StudyOptions, baseline: Arm) -> None:
        self.name = name
        self.question = question
        self.options = options
        self.baseline = baseline
        self.findings: list[str] = []
        self.sections: list[tuple[str, list[str]]] = []
        self.arms: dict[str, dict[str, Any]] = {}
        self.figures: list[Path] = []
        self.tables: list[Path] = []
        self._batches: dict[str, BatchResults] = {}
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()

    # ---------------------------------------------------------------- scenarios and batches
    def scenario(self, arm: Arm) -> Scenario:
        source = _resolve_source(arm.source)
        return load_scenario(source, [*self.options.overrides, *arm.overrides])

    def batch_folder(self, scenario: Scenario) -> Path:
        """Named by what the replications depend on, so equal inputs share one batch."""
        key = f"{content_hash(scenario)}|{PAXSIM_VERSION}|{BATCH_FORMAT}|{self.options.seed}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in scenario.name)[:40]
        return self.options.batch_root / f"{safe}-{digest}"

    def run(self, arm: Arm) -> BatchResults:
        """The arm's batch: finished replications are reused, missing ones are run."""
        if arm.label in self._batches:
            return self._batches[arm.label]
        scenario = self.scenario(arm)
        folder = self.batch_folder(scenario)
        reused = _replications_done(folder)
        batch = run_batch(
            scenario,
            reps=self.options.reps,
            seed=self.options.seed,
            out=folder,
            backend=self.options.backend(),
            resume=folder.exists(),
            progress=self.options.progress,
        )
        self._batches[arm.label] = batch
        self.arms[arm.label] = {
            "label": arm.label,
            "name": scenario.name,
            "description": arm.description,
            "source": str(arm.source) if arm.source is not None else "default",
            "overrides": [*self.options.overrides, *arm.overrides],
            "batch": _relative(folder, self.options.out),
            "replications_reused": min(reused, self.options.reps),
        }
        return batch

    def compare(self, policy: Arm, base: Arm | None = None) -> Comparison:
        """Policy against the baseline (or ``base``), paired on the replication seed."""
        return Comparison(self.run(base or self.baseline), self.run(policy))

    def context(self) -> str:
        """What every figure of the study rests on (scenario line of its title)."""
        return f"{self.name} · n = {self.options.reps} paired replications per arm"

    def headlines(self, arms: Sequence[Arm], years: Sequence[int] = (2028, 2030)) -> pd.DataFrame:
        """Each arm's headline metrics (by country and "all"), one frame with an ``arm`` column."""
        frames = [headline_table(self.run(arm), years=years).assign(arm=arm.label) for arm in arms]
        return pd.concat(frames, ignore_index=True)

    def effects(
        self,
        policies: Sequence[Arm],
        base: Arm | None = None,
        years: Sequence[int] = (2028, 2030),
    ) -> pd.DataFrame:
        """Paired differences policy - base of every headline metric, one frame with ``arm``."""
        base_batch = self.run(base or self.baseline)
        frames = [
            headline_differences(base_batch, self.run(arm), years=years).assign(arm=arm.label)
            for arm in policies
        ]
        return pd.concat(frames, ignore_index=True)

    # ---------------------------------------------------------------- outputs
    def figure(self, fig: Figure, name: str) -> None:
        """Save a figure as PNG and SVG under figures/ (closed once saved)."""
        import matplotlib.pyplot as plt

        folder = self.options.out / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for suffix, dpi in ((".png", 110), (".svg", 72)):
                path = folder / f"{name}{suffix}"
                fig.savefig(path, bbox_inches="tight", dpi=dpi)
                self.figures.append(path)
        finally:
            plt.close(fig)

    def table(self, frame: pd.DataFrame, name: str) -> None:
        """Save a table as Parquet and CSV under tables/."""
        folder = self.options.out / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        frame = frame.reset_index(drop=True)
        csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
        frame.to_csv(csv, index=False)
        frame.to_parquet(parquet, index=False)
        self.tables += [parquet, csv]

    def finding(self, text: str) -> None:
        """One finding (Markdown), stated with its interval."""
        self.findings.append(text)

    def section(self, heading: str, lines: Sequence[str]) -> None:
        """A titled block of Markdown after the findings (method notes, caveats)."""
        self.sections.append((heading, list(lines)))

    def write(self) -> Path:
        """Write findings.md and study.json; return the folder."""
        out = self.options.out
        out.mkdir(parents=True, exist_ok=True)
        wall = time.perf_counter() - self._started
        cpu = time.process_time() - self._cpu_started
        (out / "findings.md").write_text(self._findings_markdown(), encoding="utf-8")
        manifest = {
            "format": STUDY_FORMAT,
            "study": self.name,
            "question": self.question,
            "reps": self.options.reps,
            "seed": self.options.seed,
            "paxsim_version": PAXSIM_VERSION,
            "baseline": self.baseline.label,
            "scenarios": list(self.arms.values()),
            "wall_seconds": round(wall, 1),
            "main_process_cpu_seconds": round(cpu, 1),
            "backend": self.options.backend().describe(),
            "command": " ".join(sys.argv) if sys.argv else "",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": {k: str(v) for k, v in asdict(self.options).items() if k != "extra"},
            "figures": [_relative(p, out) for p in self.figures],
            "tables": [_relative(p, out) for p in self.tables],
        }
        (out / "study.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return out

    def _findings_markdown(self) -> str:
        lines = [
            f"# {self.name}",
            "",
            f"*{self.question}*",
            "",
            f"{self.options.reps} replications per arm, seed {self.options.seed}, common random "
            f"numbers across arms; paxsim {PAXSIM_VERSION}. Baseline: {self.baseline.label}.",
            "Intervals are 95 % t intervals of the paired difference (policy - baseline) over "
            "replications. Phases not online by the horizon are counted at the horizon "
            "(censored), never dropped, so their dates are lower bounds.",
            "",
            "## Findings",
            "",
            *[f"- {text}" for text in self.findings],
            "",
            "## Arms",
            "",
        ]
        for arm in self.arms.values():
            overrides = ", ".join(f"`{o}`" for o in arm["overrides"]) or "none"
            lines.append(
                f"- **{arm['label']}** ({arm['source']}; overrides: {overrides}): "
                f"{arm['description']}".rstrip(": ")
            )
        for heading, body in self.sections:
            lines += ["", f"## {heading}", "", *body]
        return "\n".join(lines) + "\n"


def _resolve_source(source: str | Path | None) -> str | Path | None:
    """A bare file name means a shipped scenario under experiments/scenarios."""
    if source is None or str(source) == "default":
        return None
    path = Path(source)
    if not path.exists() and (SCENARIOS / path).exists():
        return SCENARIOS / path
    return path


def _replications_done(folder: Path) -> int:
    """How many replications the folder already holds (0 if none, or not a batch)."""
    try:
        return len(ReplicationStore.open(folder).done())
    except (OSError, ValueError):
        return 0


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def run_study_main(
    parser: argparse.ArgumentParser,
    body: Callable[[StudyOptions], Study],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse, run ``body``, write the folder; user mistakes exit 2 with a message, Ctrl-C 130.

    Finished replications are kept in their batch folders whatever happens,
    so running the same command again resumes where it stopped.
    """
    args = parser.parse_args(argv)
    try:
        options = options_from_args(args)
        study = body(options)
        out = study.write()
    except (ValueError, ScenarioError, OutputPathError, BackendUnavailableError) as exc:
        print(f"{parser.prog}: error: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"{parser.prog}: interrupted; finished replications are kept, run the same command "
            "to resume",
            file=sys.stderr,
        )
        return 130
    print(f"study written to {out}: findings.md, figures/, tables/, study.json")
    print((out / "findings.md").read_text(encoding="utf-8"))
    return 0


def study_main(
    name: str,
    description: str | None,
    body: Callable[[StudyOptions], Study],
    argv: Sequence[str] | None = None,
    default_reps: int = 20,
) -> int:
    """The whole ``main`` of a study that takes only the shared options.

    :func:`study_parser` then :func:`run_study_main`; a study with options of its own
    builds its parser and calls :func:`run_study_main` itself.
    """
    return run_study_main(study_parser(name, description or "", default_reps), body, argv)
