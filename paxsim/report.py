"""``paxsim report DIR``: one self-contained HTML page for a run, batch, comparison or study folder.

Analysts send pages round, so the page carries everything in itself: figures
inline as base64 PNG, no external URLs, scripts or fonts, and a Content
Security Policy that allows only the page's own tiny script (which counts
the figures that loaded, so a headless browser test can read the count).
Every text that comes from the folder (scenario and study names, findings,
file names, table cells) is user-controlled and is HTML-escaped; findings are
a small Markdown subset converted here, never passed through.

The kind of folder is told by its manifest (see :func:`folder_kind`). Figures
are the folder's ``figures/*.png``; a run, batch or comparison folder without
any gets them made by :mod:`paxsim.plots` into ``DIR/figures`` (delete that
folder to have them remade). The scenario is re-resolved from the recorded
source and overrides to list its sources and show its TOML; if that is no
longer possible (the file moved or changed), the page says so rather than
failing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from paxsim.batch import load_batch
from paxsim.models.loader import ScenarioError, load_scenario, scenario_hash
from paxsim.models.results.batch import BatchResults
from paxsim.models.results.comparison import Comparison
from paxsim.models.results.run import RUN_FORMAT, SUMMARY_COLUMNS, TABLES, is_run_folder
from paxsim.models.scenario import Scenario
from paxsim.models.simulation import PAXSIM_VERSION
from paxsim.sim.replications.store import FORMAT as BATCH_FORMAT
from paxsim.sim.replications.store import MANIFEST, manifest_format
from paxsim.sim.safe_paths import OutputPathError, check_output_dir, describe_os_error
from paxsim.study import SCENARIOS as STUDY_SCENARIOS
from paxsim.study import STUDY_FORMAT

__all__ = [
    "ACCEPTED_FOLDERS",
    "FIGURE_SCRIPT",
    "MAX_ROWS",
    "REPORT_NAME",
    "FolderKind",
    "ReportError",
    "build_report",
    "caption_for",
    "folder_kind",
    "format_value",
    "markdown_to_html",
    "scenario_sources",
]

FolderKind = Literal["run", "batch", "comparison", "study"]

#: The page's default file name inside the folder.
REPORT_NAME = "report.html"
STUDY_MANIFEST = "study.json"
#: Rows shown per table: a page to read, not a data dump (the folder has the full tables).
MAX_ROWS = 40
#: What ``paxsim report`` reads, for error messages.
ACCEPTED_FOLDERS = (
    "paxsim report reads a run folder (paxsim run), a batch folder (paxsim batch), "
    "a comparison folder (paxsim compare: base/ and policy/) or a study folder "
    "(study.json, written by an experiment script)"
)
_KIND_TEXT: dict[FolderKind, str] = {
    "run": "run folder (paxsim run: one replication)",
    "batch": "batch folder (paxsim batch: Monte Carlo replications)",
    "comparison": "comparison folder (paxsim compare: base and policy, common random numbers)",
    "study": "study folder (an experiment script)",
}
#: Counts the figures that decoded (complete, with a width), once at parse time and again
#: at ``load``; a headless browser reads ``data-figures`` from the dumped DOM.
FIGURE_SCRIPT = (
    "(function () {\n"
    "  function count() {\n"
    '    var images = document.querySelectorAll("figure img");\n'
    "    var loaded = 0;\n"
    "    for (var i = 0; i < images.length; i++) {\n"
    "      if (images[i].complete && images[i].naturalWidth > 0) { loaded += 1; }\n"
    "    }\n"
    '    document.body.dataset.figures = loaded + "/" + images.length;\n'
    "  }\n"
    "  count();\n"
    '  window.addEventListener("load", count);\n'
    "})();\n"
)
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1d232a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header { border-bottom: 3px solid #2a6f97; margin-bottom: 1rem; }
h1 { margin: 0.2rem 0; font-size: 1.9rem; }
h2 { border-bottom: 1px solid #d5dde5; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.kind { color: #52606d; margin: 0 0 0.6rem; }
.question { font-size: 1.1rem; font-style: italic; }
nav a { margin-right: 1rem; color: #2a6f97; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.2rem; }
dl.provenance dt { font-weight: 600; color: #52606d; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
            font-size: 0.88em; background: #f3f5f7; border-radius: 3px; }
code { padding: 0 0.2em; }
pre { padding: 0.6rem; overflow-x: auto; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e8ec; }
figcaption { color: #52606d; font-size: 0.95rem; margin-top: 0.3rem; }
.table-wrap { overflow-x: auto; margin-bottom: 0.4rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { padding: 0.2rem 0.55rem; border-bottom: 1px solid #e4e8ec; text-align: left;
         vertical-align: top; }
th { background: #eef2f5; position: sticky; top: 0; }
td { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.long { white-space: normal; min-width: 16rem; }
.note { color: #52606d; font-size: 0.9rem; }
.problem { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 0.4rem 0.7rem; }
details { margin: 0.6rem 0; }
summary { cursor: pointer; color: #2a6f97; }
footer { margin-top: 3rem; color: #7b8794; font-size: 0.85rem; }
"""


class ReportError(Exception):
    """The folder cannot be reported on (missing, not paxsim's, unreadable) or the page
    cannot be written; the message names the path and what is accepted."""


# ------------------------------------------------------------------------------ what a page shows
@dataclass(frozen=True)
class Table:
    """A key table: a title, the frame as it is to be shown, and a note under it."""

    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class ScenarioRef:
    """A scenario as the folder recorded it: where from (None: not recorded) and how set."""

    label: str
    source: str | None
    overrides: tuple[str, ...] = ()
    expected_hash: str | None = None
    name: str = ""
    description: str = ""
    #: Where a bare file name may also be found (a study's shipped scenarios).
    search_dirs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario re-resolved for the page; ``toml`` is None when that was not possible."""

    ref: ScenarioRef
    name: str
    toml: str | None
    sources: tuple[str, ...] = ()
    note: str = ""
    problem: str = ""


@dataclass(frozen=True)
class FigureFile:
    path: Path
    caption: str


@dataclass
class Contents:
    """Everything a folder gives the page, before figures are made or scenarios resolved."""

    kind: FolderKind
    title: str
    provenance: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)
    scenarios: list[ScenarioRef] = field(default_factory=list)
    question: str = ""
    findings: str | None = None
    #: Makes figures into a folder and returns their paths (None: the folder brings its own).
    make_figures: Callable[[Path], list[Path]] | None = None
    #: File names in the order the folder lists them (others follow, sorted).
    figure_order: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ the entry point
def build_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the page for ``folder`` to ``out`` (default ``folder/report.html``); return its path.

    Raises :class:`ReportError` if ``folder`` is missing, not a paxsim folder or unreadable,
    or if the page or the figures cannot be written. The output is checked before any work.
    """
    root = Path(folder)
    kind = folder_kind(root)
    target = Path(out) if out is not None else root / REPORT_NAME
    _check_target(target)
    contents = read_folder(kind, root)
    figures = collect_figures(root, contents)
    scenarios = [resolve_scenario(ref) for ref in contents.scenarios]
    page = render_page(contents, figures, scenarios)
    _write_text(target, page)
    return target


def folder_kind(folder: Path) -> FolderKind:
    """What kind of paxsim folder ``folder`` is, told by its manifest; ReportError if none."""
    if not folder.exists():
        raise ReportError(f"{folder}: no such folder. {ACCEPTED_FOLDERS}")
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder. {ACCEPTED_FOLDERS}")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise ReportError(f"{folder}: cannot read this folder (permission denied)")
    study = folder / STUDY_MANIFEST
    if study.is_file():
        found = _read_json(study).get("format")
        if found != STUDY_FORMAT:
            raise ReportError(
                f"{study}: format {found!r} is not a study's ({STUDY_FORMAT!r}). {ACCEPTED_FOLDERS}"
            )
        return "study"
    found = manifest_format(folder)
    if found == RUN_FORMAT or (found is not None and is_run_folder(folder)):
        return "run"
    if found == BATCH_FORMAT:
        return "batch"
    if found is None and all(manifest_format(folder / s) == BATCH_FORMAT for s in _SIDES):
        return "comparison"
    if found is not None:
        raise ReportError(
            f"{folder / MANIFEST}: not a paxsim manifest (format {found or 'missing'!r}, or "
            f"unreadable). {ACCEPTED_FOLDERS}"
        )
    raise ReportError(
        f"{folder}: not a paxsim folder (no {MANIFEST}, {STUDY_MANIFEST}, or base/ and policy/ "
        f"batch folders). {ACCEPTED_FOLDERS}"
    )


_SIDES = ("base", "policy")


def _check_target(target: Path) -> None:
    """Refuse an output that cannot be written before any figure is made."""
    if target.is_dir():
        raise ReportError(f"{target}: is a folder; give the page's file name (e.g. report.html)")
    try:
        check_output_dir(target.parent)
    except OutputPathError as exc:
        raise ReportError(f"cannot write the page {target}: {exc}") from None


def _write_text(target: Path, text: str) -> None:
    """Write atomically, so a reader never sees half a page (and a failure leaves no debris)."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write the page {target}: {describe_os_error(exc)}") from None


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a folder; anything else is a ReportError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


# ------------------------------------------------------------------------------ reading folders
def read_folder(kind: FolderKind, root: Path) -> Contents:
    """The folder's contents for the page; a damaged folder is a ReportError naming it."""
    readers: dict[FolderKind, Callable[[Path], Contents]] = {
        "run": _run_contents,
        "batch": _batch_contents,
        "comparison": _comparison_contents,
        "study": _study_contents,
    }
    try:
        return readers[kind](root)
    except ReportError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged or foreign files
        raise ReportError(
            f"{root}: cannot read it as a {_KIND_TEXT[kind]}: {type(exc).__name__}: {exc}"
        ) from None


def _written_time(path: Path) -> str:
    """A file's modification time: when the folder does not record one, this is the best."""
    stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return stamp.isoformat(timespec="seconds") + " (file time)"


def _run_contents(root: Path) -> Contents:
    manifest = _read_json(root / MANIFEST)
    name = str(manifest.get("scenario", root.name))
    projects = pd.read_parquet(root / "projects.parquet")
    national = pd.read_parquet(root / "national.parquet")
    provenance = [
        ("paxsim version", str(manifest.get("paxsim_version", "not recorded"))),
        ("seed", str(manifest.get("seed", "not recorded"))),
        ("replications", "1 (a single run)"),
        ("scenario", name),
        ("scenario hash", str(manifest.get("scenario_hash", "not recorded"))),
        ("simulated", f"{manifest.get('start', '?')} to {manifest.get('end', '?')}"),
        ("wall time", _seconds(manifest.get("wall_seconds"))),
        ("written", _written_time(root / MANIFEST)),
    ]
    source = manifest.get("source")
    ref = ScenarioRef(
        label="run",
        source=None if source is None else str(source),
        overrides=_strings(manifest.get("overrides", ())),
        expected_hash=_optional_str(manifest.get("scenario_hash")),
        name=name,
    )
    seed = manifest.get("seed")

    def make(out: Path) -> list[Path]:
        from paxsim import plots

        return plots.save_run_figures(_run_tables(root), out, scenario=name, seed=seed)

    return Contents(
        kind="run",
        title=name,
        provenance=provenance,
        tables=[_run_projects_table(projects), _national_table(national, "gw_online")],
        scenarios=[ref],
        make_figures=make,
    )


def _run_tables(root: Path) -> dict[str, pd.DataFrame]:
    """The run's own tables (a Parquet file someone added beside them is not one)."""
    return {
        name: pd.read_parquet(root / f"{name}.parquet")
        for name in TABLES
        if (root / f"{name}.parquet").is_file()
    }


def _run_projects_table(projects: pd.DataFrame) -> Table:
    columns = list(SUMMARY_COLUMNS)
    frame = _pick(projects, columns)
    if "online_date" in frame:
        frame["online_date"] = _after_horizon(frame["online_date"])
    return Table(
        "Data-centre phases",
        frame,
        "Full-power date against the announced plan; delay in days (+ late, - early).",
    )


def _national_table(national: pd.DataFrame, gw_column: str) -> Table:
    """Country totals only (region 'all'): the per-region rows are in the folder's tables."""
    frame = national
    if "region" in national:
        frame = national[national["region"] == "all"].drop(columns="region")
    note = "Data-centre load online (GW at year end) and energy (TWh in the year), all regions."
    if "warning" in frame and frame["warning"].astype(bool).any():
        note += " " + "; ".join(sorted(set(frame["warning"]) - {""}))
        frame = frame.drop(columns="warning")
    keep = [c for c in frame.columns if c in ("country", "year", "n") or c.startswith(gw_column)]
    keep += [c for c in frame.columns if c.startswith("twh") and c not in keep]
    return Table("National data-centre load", frame[keep].reset_index(drop=True), note)


def _batch_provenance(batch: BatchResults, prefix: str = "") -> list[tuple[str, str]]:
    manifest = batch.store.manifest
    meta = manifest.get("meta", {})
    failed = len(manifest.get("failures", []))
    done = f"{batch.completed:,} of {batch.n:,} done"
    if failed:
        done += f", {failed:,} failed"
    return [
        (f"{prefix}scenario", batch.scenario_name),
        (f"{prefix}source", str(meta.get("source", "not recorded"))),
        (f"{prefix}overrides", _overrides_text(_strings(meta.get("overrides", ())))),
        (f"{prefix}replications", done),
        (f"{prefix}created", str(manifest.get("created", "not recorded"))),
        (f"{prefix}updated", f"{manifest.get('updated', '?')} ({manifest.get('status', '?')})"),
    ]


def _batch_ref(batch: BatchResults, label: str) -> ScenarioRef:
    meta = batch.store.manifest.get("meta", {})
    identity = batch.store.manifest.get("identity", {})
    source = meta.get("source")
    return ScenarioRef(
        label=label,
        source=None if source is None else str(source),
        overrides=_strings(meta.get("overrides", ())),
        expected_hash=_optional_str(identity.get("scenario_hash")),
        name=batch.scenario_name,
    )


def _batch_contents(root: Path) -> Contents:
    batch = load_batch(root)
    identity = batch.store.manifest.get("identity", {})
    provenance = [
        ("paxsim version", str(identity.get("paxsim_version", "not recorded"))),
        ("seed", str(batch.seed)),
        *_batch_provenance(batch),
    ]

    def make(out: Path) -> list[Path]:
        from paxsim import plots

        return plots.save_batch_figures(batch, out)

    return Contents(
        kind="batch",
        title=batch.scenario_name,
        provenance=provenance,
        tables=_batch_tables(batch),
        scenarios=[_batch_ref(batch, "batch")],
        make_figures=make,
    )


def _batch_tables(batch: BatchResults) -> list[Table]:
    phases = _pick(
        batch.phase_summary(),
        [
            "phase_id",
            "region",
            "it_mw",
            "n",
            "planned_date",
            "online_p10",
            "online_p50",
            "online_p90",
            "mean_delay_days",
            "delay_halfwidth",
            "after_horizon",
            "p_on_time",
            "top_causes",
        ],
    )
    for column in ("online_p10", "online_p50", "online_p90"):
        if column in phases:
            phases[column] = _after_horizon(phases[column])
    causes = _pick(batch.cause_totals(), ["cause", "n", "mean", "halfwidth"])
    queues = _pick(
        batch.queue_summary(), ["gate", "background", "n", "mean_wait", "halfwidth", "requests"]
    )
    return [
        Table(
            "Data-centre phases",
            phases,
            "Full-power date quantiles over replications; mean delay (days, censored at the "
            "horizon) ± the 95 % half-width; P(on time) against the announced plan.",
        ),
        _national_table(batch.national_fan(), "gw_p"),
        Table(
            "Delay by cause",
            causes,
            "Phase-days of delay per replication by cause, summed over phases online (mean ± "
            "95 % half-width).",
        ),
        Table("Queue waits", queues, "Mean wait (days) at each gate, mean over replications."),
    ]


def _comparison_contents(root: Path) -> Contents:
    base, policy = (load_batch(root / side) for side in _SIDES)
    comparison = Comparison(base, policy)
    identity = base.store.manifest.get("identity", {})
    provenance = [
        ("paxsim version", str(identity.get("paxsim_version", "not recorded"))),
        ("seed", f"{base.seed} (both, common random numbers)"),
        *_batch_provenance(base, "base "),
        *_batch_provenance(policy, "policy "),
    ]

    def make(out: Path) -> list[Path]:
        from paxsim import plots

        return plots.save_comparison_figures(comparison, out)

    return Contents(
        kind="comparison",
        title=_comparison_title(base.scenario_name, policy.scenario_name),
        provenance=provenance,
        tables=_comparison_tables(comparison),
        scenarios=[_batch_ref(base, "base"), _batch_ref(policy, "policy")],
        make_figures=make,
    )


def _comparison_title(base: str, policy: str) -> str:
    """A policy made by --set on the base has the base's name: say which side is which."""
    if base == policy:
        return f"{base}: policy against base"
    return f"{policy} against {base}"


def _comparison_tables(comparison: Comparison) -> list[Table]:
    phases = _pick(
        comparison.phase_differences(),
        [
            "phase_id",
            "n",
            "base_mean_day",
            "policy_mean_day",
            "online_day_diff",
            "online_day_halfwidth",
            "base_p_on_time",
            "policy_p_on_time",
            "p_on_time_diff",
            "binding_constraint",
        ],
    )
    capacity = comparison.capacity_differences()
    if "region" in capacity:
        capacity = capacity[capacity["region"] == "all"]
    capacity = _pick(
        capacity, ["region", "year", "n", "base_mw", "policy_mw", "mw_diff", "halfwidth"]
    )
    return [
        Table(
            "Phases: policy - base",
            phases,
            "Paired differences over replications (days; censored at the horizon) with 95 % "
            "half-widths; where the lever did not move a phase, what held it instead.",
        ),
        Table("AI capacity online at year end: policy - base (MW, all regions)", capacity),
        Table(
            "What pairing bought",
            comparison.variance_reduction(),
            "Variance of the paired difference over that of independent runs (< 1: common "
            "random numbers helped).",
        ),
    ]


def _study_contents(root: Path) -> Contents:
    manifest = _read_json(root / STUDY_MANIFEST)
    title = str(manifest.get("study") or root.name)
    provenance = [
        ("paxsim version", str(manifest.get("paxsim_version", "not recorded"))),
        ("seed", str(manifest.get("seed", "not recorded"))),
        ("replications", f"{manifest.get('reps', 'not recorded')} per scenario"),
        ("baseline", str(manifest.get("baseline", "not recorded"))),
        ("command", str(manifest.get("command") or "not recorded")),
        ("wall time", _seconds(manifest.get("wall_seconds"))),
        ("created", str(manifest.get("created") or _written_time(root / STUDY_MANIFEST))),
    ]
    if manifest.get("backend"):
        provenance.append(("ran on", str(manifest["backend"])))
    findings = root / "findings.md"
    return Contents(
        kind="study",
        title=title,
        question=str(manifest.get("question") or ""),
        provenance=provenance,
        findings=_without_title(findings.read_text(encoding="utf-8"), title)
        if findings.is_file()
        else None,
        tables=_study_tables(root, _strings(manifest.get("tables", ()))),
        scenarios=_study_refs(root, manifest.get("scenarios", [])),
        figure_order=tuple(Path(name).name for name in _strings(manifest.get("figures", ()))),
    )


def _without_title(markdown: str, title: str) -> str:
    """Findings open with ``# <study>``; the page's own title says it already."""
    first, _, rest = markdown.lstrip().partition("\n")
    return rest if first.strip() == f"# {title}" else markdown


def _study_tables(root: Path, listed: Sequence[str]) -> list[Table]:
    files = _ordered(sorted((root / "tables").glob("*.csv")), [Path(p).name for p in listed])
    return [Table(caption_for(path), pd.read_csv(path)) for path in files]


def _study_refs(root: Path, entries: object) -> list[ScenarioRef]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ReportError(f"{root / STUDY_MANIFEST}: 'scenarios' must be a list of objects")
    refs = []
    for entry in entries:
        source = entry.get("source")
        refs.append(
            ScenarioRef(
                label=str(entry.get("label", "")),
                source=None if source is None else str(source),
                overrides=_strings(entry.get("overrides", ())),
                expected_hash=_batch_hash(root, entry.get("batch")),
                name=str(entry.get("name", "")),
                description=str(entry.get("description", "")),
                search_dirs=(STUDY_SCENARIOS,),  # the harness's rule for a bare file name
            )
        )
    return refs


def _batch_hash(root: Path, batch: object) -> str | None:
    """The scenario hash a study arm's batch recorded (None: no readable batch)."""
    if not isinstance(batch, str) or not batch:
        return None
    try:
        manifest = json.loads((root / batch / MANIFEST).read_text(encoding="utf-8"))
        return _optional_str(manifest["identity"]["scenario_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ------------------------------------------------------------------------------ small helpers
def _strings(value: object) -> tuple[str, ...]:
    """A recorded list of strings (overrides, file names); anything else is a damaged file."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _seconds(value: object) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:,.1f} s"
    return "not recorded"


def _overrides_text(overrides: Sequence[str]) -> str:
    return " ".join(f"--set {o}" for o in overrides) if overrides else "none"


def _pick(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The named columns that exist, in that order (a summary may gain or lose columns)."""
    return frame[[c for c in columns if c in frame.columns]].reset_index(drop=True).copy()


def _after_horizon(dates: pd.Series) -> pd.Series:
    """A missing online date means the phase was not online by the horizon: say so."""
    return dates.astype(object).map(lambda d: "after horizon" if _missing(d) else d)


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # a list or array: not a missing scalar
        return False


def _ordered(paths: Sequence[Path], names: Sequence[str]) -> list[Path]:
    """``paths`` with those named in ``names`` first, in that order, then the rest as given."""
    rank = {name: i for i, name in enumerate(names)}
    return sorted(paths, key=lambda p: (rank.get(p.name, len(rank)), p.name))


# ------------------------------------------------------------------------------ figures
def collect_figures(root: Path, contents: Contents) -> list[FigureFile]:
    """The folder's figures/*.png; made first (run, batch, comparison) if there are none."""
    folder = root / "figures"
    order = list(contents.figure_order)
    if not _pngs(folder) and contents.make_figures is not None:
        try:
            made = contents.make_figures(folder)
        except OSError as exc:
            raise ReportError(
                f"cannot write figures into {folder}: {describe_os_error(exc)}"
            ) from None
        order = [p.name for p in made]
    return [FigureFile(p, caption_for(p)) for p in _ordered(_pngs(folder), order)]


def _pngs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.png") if p.is_file()) if folder.is_dir() else []


#: Words a caption writes as they are usually written.
_CAPTION_WORDS = {
    "ai": "AI",
    "ci": "CI",
    "gw": "GW",
    "mw": "MW",
    "twh": "TWh",
    "us": "US",
    "uk": "UK",
    "eu": "EU",
    "p10": "P10",
    "p50": "P50",
    "p90": "P90",
    "vs": "vs.",
    "s": "S",
}


def caption_for(path: str | Path) -> str:
    """A readable caption from a file name: ``02_national_gw_fan.png`` -> "National GW fan"."""
    stem = re.sub(r"^\d+[_\-. ]+", "", Path(path).stem)
    words = [w for w in re.split(r"[_\-\s]+", stem) if w]
    if not words:
        return Path(path).stem or "Figure"
    words = [_CAPTION_WORDS.get(w.lower(), w) for w in words]
    first = words[0]
    words[0] = first[:1].upper() + first[1:]
    return " ".join(words)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


# ------------------------------------------------------------------------------ scenarios
def resolve_scenario(ref: ScenarioRef) -> ResolvedScenario:
    """Re-resolve a recorded scenario for its sources and TOML, or say why it cannot be."""
    if ref.source is None:
        return _resolve_unrecorded(ref)
    if ref.source == "(Scenario object)":
        return ResolvedScenario(
            ref,
            ref.name,
            None,
            problem="it was run from a Scenario object in Python, not from a file, so it "
            "cannot be re-resolved here",
        )
    path = _scenario_path(ref.source, ref.search_dirs)
    try:
        scenario = load_scenario(path, list(ref.overrides))
    except (ScenarioError, OSError) as exc:
        return ResolvedScenario(
            ref,
            ref.name,
            None,
            problem=f"cannot re-resolve it from {ref.source!r} (moved, renamed or changed?): {exc}",
        )
    problem = ""
    if ref.expected_hash is not None and scenario_hash(scenario) != ref.expected_hash:
        problem = (
            f"{ref.source} has changed since this folder was written (hash "
            f"{scenario_hash(scenario)}, recorded {ref.expected_hash}); shown is the file as "
            "it is now, not what ran"
        )
    return _resolved(ref, scenario, problem=problem)


def _resolve_unrecorded(ref: ScenarioRef) -> ResolvedScenario:
    """A run folder records only the scenario's name and hash: the default world may match."""
    scenario = load_scenario(None, [])
    if ref.expected_hash is not None and scenario_hash(scenario) == ref.expected_hash:
        note = "The folder does not record its scenario file; the default world matches its hash."
        return _resolved(ref, scenario, note=note)
    return ResolvedScenario(
        ref,
        ref.name,
        None,
        problem="this folder records only the scenario's name and hash, not its file or --set "
        "overrides, and the default world does not match that hash, so it cannot be re-resolved",
    )


def _resolved(
    ref: ScenarioRef, scenario: Scenario, *, note: str = "", problem: str = ""
) -> ResolvedScenario:
    from paxsim.api import scenario_to_toml

    return ResolvedScenario(
        ref, scenario.name, scenario_to_toml(scenario), scenario_sources(scenario), note, problem
    )


def _scenario_path(source: str, search_dirs: Sequence[Path]) -> str | Path | None:
    """The file a recorded source names: "default" is the embedded world; else the path as
    recorded, or a bare name in one of ``search_dirs``."""
    if source == "default":
        return None
    path = Path(source)
    if path.exists():
        return path
    for folder in search_dirs:
        if (folder / path).is_file():
            return folder / path
    return path


def scenario_sources(scenario: Scenario) -> tuple[str, ...]:
    """Every distinct non-empty ``source`` string in the resolved scenario, sorted."""
    found: set[str] = set()
    stack: list[object] = [scenario.model_dump()]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if key == "source" and isinstance(value, str):
                    if value.strip():
                        found.add(value.strip())
                else:
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return tuple(sorted(found, key=str.casefold))


# ------------------------------------------------------------------------------ formatting
def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def format_value(value: object) -> str:
    """A table cell as text: dates as dates, floats to a sensible precision, missing as "–"."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _format_float(float(value))
    if _missing(value):  # before dates: NaT is a datetime
        return "–"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _format_float(value: float) -> str:
    """Whole numbers without decimals, large ones grouped, small ones to 3 significant figures."""
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    value += 0.0  # no "-0"
    size = abs(value)
    if size >= 10_000:
        return f"{value:,.0f}"
    if value == round(value) or size >= 100:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


# ------------------------------------------------------------------------------ markdown
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^ {0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^ {0,3}\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?(\s*:?-+:?\s*\|)+\s*(:?-+:?\s*)?\|?\s*$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC = re.compile(r"\*(?=[^\s*])([^*<>]+?)(?<=\S)\*|(?<!\w)_(?=[^\s_])([^_<>]+?)(?<=\S)_(?!\w)")


def markdown_to_html(text: str, heading_shift: int = 2) -> str:
    """A safe Markdown subset as HTML: headings, paragraphs, bullet and numbered lists,
    fenced code, pipe tables, and **bold**, *italic* and `code` inline.

    Every character of ``text`` is escaped; only the tags above are added, so nothing
    in a findings file can inject markup. Headings move down ``heading_shift`` levels
    (``#`` becomes ``<h3>``) to sit under the page's own section headings.
    """
    writer = _MarkdownWriter(heading_shift)
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        writer.feed(line)
    return writer.finish()


class _MarkdownWriter:
    """Line-by-line block state: a paragraph, a list, a table or a code fence being built."""

    def __init__(self, heading_shift: int) -> None:
        self.shift = heading_shift
        self.out: list[str] = []
        self.paragraph: list[str] = []
        self.items: list[str] = []
        self.list_tag = ""
        self.rows: list[str] = []
        self.code: list[str] | None = None

    def feed(self, line: str) -> None:
        if self.code is not None:
            self._feed_code(line)
            return
        heading, bullet = _HEADING.match(line), _BULLET.match(line)
        item = bullet or _NUMBERED.match(line)
        if _FENCE.match(line):
            self.flush()
            self.code = []
        elif not line.strip():
            self.flush()
        elif heading:
            self.flush()
            level = min(6, len(heading.group(1)) + self.shift)
            self.out.append(f"<h{level}>{inline_markdown(heading.group(2))}</h{level}>")
        elif item:
            self._feed_item("ul" if bullet else "ol", item.group(1))
        elif self.items and line[:1] in (" ", "\t"):
            self.items[-1] += " " + line.strip()
        elif _TABLE_ROW.match(line) and not self.paragraph:
            self._flush_list()
            self.rows.append(line)
        else:
            self._flush_list()
            self._flush_table()
            self.paragraph.append(line.strip())

    def _feed_code(self, line: str) -> None:
        assert self.code is not None
        if _FENCE.match(line):
            self.out.append(f"<pre><code>{_esc(chr(10).join(self.code))}</code></pre>")
            self.code = None
        else:
            self.code.append(line)

    def _feed_item(self, tag: str, text: str) -> None:
        self._flush_paragraph()
        self._flush_table()
        if self.items and tag != self.list_tag:
            self._flush_list()
        self.list_tag = tag
        self.items.append(text.strip())

    def flush(self) -> None:
        self._flush_paragraph()
        self._flush_list()
        self._flush_table()

    def _flush_paragraph(self) -> None:
        if self.paragraph:
            self.out.append(f"<p>{inline_markdown(' '.join(self.paragraph))}</p>")
            self.paragraph = []

    def _flush_list(self) -> None:
        if self.items:
            body = "".join(f"<li>{inline_markdown(item)}</li>" for item in self.items)
            self.out.append(f"<{self.list_tag}>{body}</{self.list_tag}>")
            self.items = []

    def _flush_table(self) -> None:
        if not self.rows:
            return
        cells = [_table_cells(row) for row in self.rows if not _TABLE_RULE.match(row)]
        has_header = len(self.rows) > 1 and bool(_TABLE_RULE.match(self.rows[1]))
        parts = []
        for i, row in enumerate(cells):
            tag = "th" if has_header and i == 0 else "td"
            parts.append("<tr>" + "".join(f"<{tag}>{inline_markdown(c)}</{tag}>" for c in row))
        self.out.append('<div class="table-wrap"><table>' + "".join(parts) + "</table></div>")
        self.rows = []

    def finish(self) -> str:
        if self.code is not None:  # an unclosed fence runs to the end, as in CommonMark
            self.out.append(f"<pre><code>{_esc(chr(10).join(self.code))}</code></pre>")
            self.code = None
        self.flush()
        return "\n".join(self.out)


def _table_cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def inline_markdown(text: str) -> str:
    """Escape ``text``, then mark up `code`, **bold** and *italic* (code spans are literal)."""
    text = text.replace("\x00", "")
    codes: list[str] = []

    def stash(match: re.Match[str]) -> str:
        codes.append(f"<code>{_esc(match.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    marked = _esc(_CODE_SPAN.sub(stash, text))
    marked = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", marked)
    marked = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", marked)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], marked)


# ------------------------------------------------------------------------------ the page
def render_page(
    contents: Contents, figures: Sequence[FigureFile], scenarios: Sequence[ResolvedScenario]
) -> str:
    """The whole page as one HTML string (no external resource of any kind)."""
    sections = [
        ("provenance", "Provenance", _provenance_html(contents.provenance)),
        ("findings", "Findings", markdown_to_html(contents.findings or "")),
        ("figures", "Figures", _figures_html(figures)),
        ("tables", "Key tables", "\n".join(_table_html(t) for t in contents.tables)),
        ("scenario", "Scenario and sources", _scenarios_html(scenarios)),
    ]
    shown = [(key, title, body) for key, title, body in sections if body]
    nav = " ".join(f'<a href="#{key}">{title}</a>' for key, title, _ in shown)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{title}</h2>\n{content}\n</section>'
        for key, title, content in shown
    )
    question = f'<p class="question">{_esc(contents.question)}</p>' if contents.question else ""
    made = datetime.now(UTC).isoformat(timespec="seconds")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(contents.title)} · paxsim {contents.kind} report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            "<header>",
            f"<h1>{_esc(contents.title)}</h1>",
            f'<p class="kind">{_esc(_KIND_TEXT[contents.kind])}</p>',
            question,
            f"<nav>{nav}</nav>",
            "</header>",
            body,
            f"<footer>Page made {made} by paxsim {_esc(PAXSIM_VERSION)} "
            "(paxsim report); self-contained, no external resources.</footer>",
            "</main>",
            f"<script>{FIGURE_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _csp() -> str:
    """Only inline styles, data: images and the page's own script (by hash) may load."""
    digest = base64.b64encode(hashlib.sha256(FIGURE_SCRIPT.encode("utf-8")).digest())
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest.decode('ascii')}'; base-uri 'none'; form-action 'none'"
    )


def _provenance_html(rows: Sequence[tuple[str, str]]) -> str:
    code_like = {"command", "overrides", "source"}
    items = []
    for label, value in rows:
        shown = f"<code>{_esc(value)}</code>" if label.split()[-1] in code_like else _esc(value)
        items.append(f"<dt>{_esc(label)}</dt><dd>{shown}</dd>")
    return '<dl class="provenance">' + "".join(items) + "</dl>"


def _figures_html(figures: Sequence[FigureFile]) -> str:
    if not figures:
        return ""
    return "\n".join(
        f'<figure><img src="{_data_uri(f.path)}" alt="{_esc(f.caption)}">'
        f'<figcaption>{_esc(f.caption)} <span class="note">({_esc(f.path.name)})</span>'
        "</figcaption></figure>"
        for f in figures
    )


def _table_html(table: Table, max_rows: int = MAX_ROWS) -> str:
    frame = table.frame
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    head = "".join(f"<th>{_esc(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    rows = []
    for values in frame.head(max_rows).itertuples(index=False, name=None):
        cells = "".join(_cell(v, num) for v, num in zip(values, numeric, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    notes = [table.note] if table.note else []
    if len(frame) > max_rows:
        notes.append(f"first {max_rows} of {len(frame):,} rows")
    if frame.empty:
        notes.append("no rows")
    note = f'<p class="note">{_esc(". ".join(notes))}</p>' if notes else ""
    return (
        f"<h3>{_esc(table.title)}</h3>\n"
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>\n{note}"
    )


def _cell(value: object, numeric: bool) -> str:
    """Numbers right-aligned; long text may wrap (short cells do not, so dates stay whole)."""
    text = format_value(value)
    kind = ' class="num"' if numeric else ' class="long"' if len(text) > 40 else ""
    return f"<td{kind}>{_esc(text)}</td>"


def _scenarios_html(scenarios: Sequence[ResolvedScenario]) -> str:
    if not scenarios:
        return ""
    parts = [_scenario_html(s) for s in scenarios]
    sources = sorted({s for r in scenarios for s in r.sources}, key=str.casefold)
    if sources:
        items = "".join(f"<li>{_esc(s)}</li>" for s in sources)
        parts.append(
            f'<h3>Sources</h3>\n<p class="note">{len(sources)} distinct sources cited '
            f'by the scenario values.</p>\n<ul class="sources">{items}</ul>'
        )
    return "\n".join(parts)


def _scenario_html(resolved: ResolvedScenario) -> str:
    ref = resolved.ref
    rows = [
        ("scenario", resolved.name or ref.name or "not recorded"),
        ("source", ref.source if ref.source is not None else "not recorded"),
        ("overrides", _overrides_text(ref.overrides)),
    ]
    if ref.description:
        rows.append(("description", ref.description))
    parts = [
        f"<h3>{_esc(ref.label)}: {_esc(resolved.name or ref.name)}</h3>",
        _provenance_html(rows),
    ]
    if resolved.note:
        parts.append(f'<p class="note">{_esc(resolved.note)}</p>')
    if resolved.problem:
        parts.append(f'<p class="problem">Scenario: {_esc(resolved.problem)}</p>')
    if resolved.toml is not None:
        parts.append(
            f"<details><summary>Resolved scenario TOML ({_esc(resolved.name)})</summary>"
            f"<pre><code>{_esc(resolved.toml)}</code></pre></details>"
        )
    return "\n".join(parts)
