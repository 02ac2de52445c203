"""``paxsim batch`` and ``paxsim compare``: Monte Carlo studies from the command line.

Both are thin over :mod:`paxsim.batch`; everything printed here is also
written to ``--out`` as tables (Parquet and CSV), so nothing is screen-only.

Limits, checked before any work: ``--reps``, ``--max-reps`` and
``--chunk-size`` at most :data:`~paxsim.sim.replications.MAX_REPLICATIONS`,
``--workers`` at most :data:`MAX_WORKERS`. A folder is written by one process
at a time (its lock names the owner; ``--wait`` waits for it), and a run
folder is never taken for a batch.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from paxsim import signals
from paxsim.batch import (
    ALL_REGIONS,
    BatchResults,
    Comparison,
    check_batch_folder,
    compare,
    make_backend,
    run_batch,
)
from paxsim.models.loader import load_scenario
from paxsim.sim.replications import (
    MAX_REPLICATIONS,
    Backend,
    BackendUnavailableError,
    BatchLock,
    BatchLockedError,
    NotABatchError,
    ReplicationStore,
    ResumeMismatchError,
    StoreExistsError,
)
from paxsim.sim.replications.backends import SCHEDULER_TIMEOUT_S
from paxsim.sim.safe_paths import (
    OutputPathError,
    describe_os_error,
    is_resource_error,
    make_output_dir,
    safe_name,
    terminal_safe,
)

__all__ = [
    "COMMANDS",
    "add_commands",
    "cmd_batch",
    "cmd_compare",
    "format_comparison",
    "format_headlines",
    "format_phase_table",
    "format_report",
]

EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130

#: Most local worker processes: beyond 4 per core they add memory (each holds
#: its own simulation), not speed.
MAX_WORKERS = max(8, 4 * (os.cpu_count() or 1))
REPS_LIMIT_WHY = (
    "a batch keeps every replication's tables and reads them all back to summarise them, "
    "about 56 KB of memory per replication of the default world (~6 GB, and ~19 CPU-hours, "
    "at 100,000). For more, run several batches with different --seed"
)


class BatchArgumentError(Exception):
    """A batch argument that cannot work (message names it); exit code 2."""


# ------------------------------------------------------------------------------ arguments
def _at_most(parse: Any, limit: int, why: str) -> Any:
    """``parse``, then refuse values above ``limit`` with the reason."""

    def bounded(text: str) -> int:
        value: int = parse(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"at most {limit:,}, got {value:,}: {why}")
        return value

    return bounded


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _add_run_args(p: argparse.ArgumentParser, nonneg: Any, positive: Any) -> None:
    p.add_argument(
        "--reps",
        type=_at_most(positive, MAX_REPLICATIONS, REPS_LIMIT_WHY),
        default=100,
        help=f"replications (default 100, at most {MAX_REPLICATIONS:,})",
    )
    p.add_argument("--seed", type=nonneg, default=0, help="batch seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish a batch in --out, running only what is missing",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="if another paxsim process is writing to --out, wait for it instead of refusing",
    )
    where = p.add_argument_group("where replications run (default: local processes, all cores)")
    where.add_argument(
        "--workers",
        type=_at_most(
            positive, MAX_WORKERS, "4 per CPU core; more processes add memory, not speed"
        ),
        default=None,
        help=f"local processes (1 = in this process; at most {MAX_WORKERS})",
    )
    where.add_argument(
        "--dask-local", action="store_true", help="use a local Dask cluster (paxsim[dask])"
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a running Dask scheduler, tcp://host:8786",
    )
    p.add_argument(
        "--chunk-size",
        type=_at_most(positive, MAX_REPLICATIONS, "the most replications a batch holds"),
        default=None,
        help="replications per part (default: ~5 s each)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")


def add_commands(sub: Any, add_scenario_args: Any, nonneg: Any, positive: Any) -> None:
    """Register ``batch`` and ``compare`` on the main parser."""
    batch = sub.add_parser(
        "batch",
        help="run many replications and summarise them (Monte Carlo)",
        description="Run replications 0..N-1 of a scenario (seeds from numpy SeedSequence), "
        "writing each finished chunk to --out, then print and write summary tables.",
    )
    add_scenario_args(batch)
    _add_run_args(batch, nonneg, positive)
    batch.add_argument(
        "--target-date", type=_iso_date, default=None, help="also report P(online by this date)"
    )
    batch.add_argument(
        "--until-halfwidth",
        type=_positive_float,
        default=None,
        metavar="DAYS",
        help="add replications until every phase's mean-delay 95%% CI is within ±DAYS",
    )
    batch.add_argument(
        "--max-reps",
        type=_at_most(positive, MAX_REPLICATIONS, REPS_LIMIT_WHY),
        default=None,
        help="cap for --until-halfwidth (default 20 x reps)",
    )
    batch.add_argument("--quiet", action="store_true", help="print only where results went")

    cmp = sub.add_parser(
        "compare",
        help="compare a policy with a base scenario (common random numbers)",
        description="Run BASE and POLICY with the same replication seeds and report paired "
        "differences policy - base with confidence intervals.",
    )
    cmp.add_argument("base", help="base scenario TOML (or 'default')")
    cmp.add_argument("policy", help="policy scenario TOML (or 'default')")
    cmp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value in both scenarios",
    )
    cmp.add_argument(
        "--policy-set",
        dest="policy_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value in the policy only",
    )
    _add_run_args(cmp, nonneg, positive)
    cmp.add_argument("--quiet", action="store_true", help="print only where results went")


def _backend(args: argparse.Namespace) -> Backend:
    if args.scheduler is not None and args.dask_local:
        raise BatchArgumentError("--scheduler and --dask-local exclude each other")
    if args.scheduler is not None and args.workers:
        raise BatchArgumentError(
            "--workers sizes local pools; a scheduler's cluster has its own workers"
        )
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    return make_backend(args.workers, args.dask_local, args.scheduler)


def check_scheduler(address: str) -> None:
    """Refuse a malformed or unreachable ``tcp://host:port`` before any work starts.

    One TCP connection attempt, to that address only (other schemes, such as
    ``tls://``, are left to Dask, which gives up after a timeout too).
    """
    shown = terminal_safe(address, multiline=False)
    scheme, sep, rest = address.strip().partition("://")
    if not sep:
        scheme, rest = "tcp", address.strip()
    if scheme != "tcp":
        return
    host, colon, port = rest.rstrip("/").rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BatchArgumentError(
            f"--scheduler {shown}: expected a Dask scheduler address like tcp://host:8786"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=SCHEDULER_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise BatchArgumentError(
            f"--scheduler {shown}: cannot connect ({reason}). Is a Dask scheduler running "
            "there? Start one with `dask scheduler`, or leave out --scheduler to run on local "
            "processes."
        ) from None


# ------------------------------------------------------------------------------ formatting
def _date_text(value: Any) -> str:
    return "after horizon" if value is None or pd.isna(value) else str(value)


def _pct(value: float) -> str:
    return "-" if pd.isna(value) else f"{100 * value:.0f}%"


def format_phase_table(summary: pd.DataFrame) -> str:
    """The per-phase table ``paxsim batch`` prints (dates, delay ± CI, P(on time), causes)."""
    if summary.empty:
        return "(no data-center phases)"
    shown = pd.DataFrame(
        {
            "phase": summary["phase_id"],
            "MW": summary["it_mw"].map(lambda v: f"{v:g}"),
            "planned": summary["planned_date"].map(_date_text),
            "P10": summary["online_p10"].map(_date_text),
            "P50": summary["online_p50"].map(_date_text),
            "P90": summary["online_p90"].map(_date_text),
            "mean delay (d)": [
                ("≥" if late > 0 else "") + f"{m:+.0f} ± {h:.0f}" if pd.notna(h) else f"{m:+.0f}"
                for m, h, late in zip(
                    summary["mean_delay_days"],
                    summary["delay_halfwidth"],
                    summary["after_horizon"],
                    strict=True,
                )
            ],
            "P(on time)": summary["p_on_time"].map(_pct),
        }
    )
    if "p_by_target" in summary:
        shown[f"P(by {summary['target_date'].iloc[0]})"] = summary["p_by_target"].map(_pct)
    shown["top causes"] = summary["top_causes"]
    return shown.to_string(index=False)


def _capacity_lines(results: BatchResults) -> list[str]:
    fan = results.capacity_fan()
    if fan.empty:
        return []
    total = fan[fan["region"] == ALL_REGIONS].set_index("year")
    table = pd.DataFrame(
        {
            int(y): [f"{total.loc[y, c]:g}" for c in ("mw_p10", "mw_p50", "mw_p90")]
            for y in total.index
        },
        index=["P10", "P50", "P90"],
    )
    return [
        "AI MW online at year end, all regions (per region: summary/capacity_fan.csv):",
        table.to_string(),
    ]


def _national_lines(results: BatchResults) -> list[str]:
    """Data-centre load online by country at year end: P10 / P50 / P90 GW (and TWh)."""
    fan = results.national_fan()
    if fan.empty:
        return []
    total = fan[fan["region"] == ALL_REGIONS]
    lines = ["Data-centre load online at year end, GW P10/P50/P90 (summary/national_fan.csv):"]
    for country, rows in total.groupby("country", sort=True):
        cells = [
            f"{int(y)} {p10:.0f}/{p50:.0f}/{p90:.0f}"
            for y, p10, p50, p90 in zip(
                rows["year"], rows["gw_p10"], rows["gw_p50"], rows["gw_p90"], strict=True
            )
        ]
        lines.append(f"  {country}: " + ", ".join(cells))
    if (total["n"] < 10).any():
        lines.append("  (fewer than 10 replications: P10 and P90 are unreliable)")
    return lines


def _cause_line(results: BatchResults, k: int = 5) -> str:
    totals = results.cause_totals()
    top = totals[totals["mean"] > 0.5].head(k)
    if top.empty:
        return "Delay by cause: none recorded (no phase came online late)"
    cells = [
        f"{c} {m:.0f} ± {h:.0f}"
        for c, m, h in zip(top["cause"], top["mean"], top["halfwidth"], strict=True)
    ]
    return "Delay by cause (phase-days per replication, phases online): " + ", ".join(cells)


def _convergence_line(results: BatchResults) -> str:
    conv = results.convergence()
    if conv.empty:
        return ""
    last = conv.sort_values("n").groupby("phase_id").tail(1)
    worst = last.sort_values("halfwidth", ascending=False).iloc[0]
    ladder = conv[conv["phase_id"] == worst["phase_id"]]
    cells = [f"n={n}: ±{h:.0f}" for n, h in zip(ladder["n"], ladder["halfwidth"], strict=True)]
    return (
        f"Convergence of the widest mean-delay CI ({worst['phase_id']}), days: "
        + "  ".join(cells[1:] or cells)  # n=2 says little
    )


def _failure_lines(results: BatchResults, limit: int = 5) -> list[str]:
    failed = results.failures
    if failed.empty:
        return []
    lines = [
        f"WARNING: {len(failed)} of {results.completed} replications failed "
        f"(tracebacks in {results.out / 'manifest.json'}):"
    ]
    for rep, error in zip(
        failed["replication"].head(limit), failed["error"].head(limit), strict=True
    ):
        lines.append(f"  replication {rep}: {error}")
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more")
    return lines


def format_report(results: BatchResults, summary: pd.DataFrame) -> str:
    """Everything ``paxsim batch`` prints after the run."""
    ok = results.completed - len(results.failures)
    lines = [
        f"paxsim batch | scenario {results.scenario_name} | seed {results.seed} | "
        f"{ok} replications",
        format_phase_table(summary),
    ]
    if summary.empty:
        return "\n".join([*lines, *_failure_lines(results)])
    if (summary["after_horizon"] > 0).any():
        lines.append(
            "≥: some replications never came online before the horizon; their delay counts to "
            "the horizon, so the mean is a lower bound."
        )
    lines += ["", *_capacity_lines(results), *_national_lines(results)]
    lines += [_cause_line(results), _convergence_line(results)]
    if results.precision_status is not None:
        st = results.precision_status
        verdict = "reached" if st.reached else "NOT reached (hit --max-reps)"
        lines.append(
            f"Precision target ±{st.target:g} d {verdict} at n={st.n}: "
            f"widest ±{st.max_halfwidth:.1f} d ({st.worst_phase})"
        )
    lines += _failure_lines(results)
    return "\n".join(line for line in lines if line is not None)


def format_comparison(comparison: Comparison) -> str:
    """Paired differences policy - base: per phase, MW by year, variance reduction."""
    diffs = comparison.phase_differences()
    base = comparison.base.phase_summary().set_index("phase_id")
    policy = comparison.policy.phase_summary().set_index("phase_id")
    table = pd.DataFrame(
        {
            "phase": diffs["phase_id"],
            "base P50": [_date_text(base["online_p50"].get(p)) for p in diffs["phase_id"]],
            "policy P50": [_date_text(policy["online_p50"].get(p)) for p in diffs["phase_id"]],
            "Δ online (d)": [
                f"{d:+.0f} ± {h:.0f}"
                for d, h in zip(
                    diffs["online_day_diff"], diffs["online_day_halfwidth"], strict=True
                )
            ],
            "Δ P(on time)": [
                f"{100 * d:+.0f} ± {100 * h:.0f} pp"
                for d, h in zip(diffs["p_on_time_diff"], diffs["p_on_time_halfwidth"], strict=True)
            ],
            "var ratio": diffs["variance_ratio"].map(lambda v: "-" if pd.isna(v) else f"{v:.2f}"),
            "not moved because": diffs["binding_constraint"],
        }
    )
    cap = comparison.capacity_differences()
    cap = cap[cap["region"] == ALL_REGIONS]
    cells = [
        f"{int(y)}: {d:+.0f} ± {h:.0f}"
        for y, d, h in zip(cap["year"], cap["mw_diff"], cap["halfwidth"], strict=True)
    ]
    vr = comparison.variance_reduction()
    vr_text = "; ".join(
        f"{m}: var(paired) / (var(base) + var(policy)) = {r:.2f}"
        for m, r in zip(vr["metric"], vr["pooled_ratio"], strict=True)
        if pd.notna(r)
    )
    return "\n".join(
        [
            "paxsim compare | policy - base, paired on replication | "
            f"seed {comparison.base.seed} | {comparison.base.completed} replications each",
            "(online days censored at the horizon; ± is a 95% CI)",
            table.to_string(index=False),
            "",
            "Δ AI MW online at year end, all regions: " + "  ".join(cells),
            "Common random numbers: " + (vr_text or "not measurable (no variance)"),
        ]
    )


#: Headline rows ``paxsim compare`` prints (the CSV has every one, censored share included).
_HEADLINE_SHOWN = (
    "full_power_day",
    "mw_weighted_delay_days",
    "day_50pct_online",
    "day_90pct_online",
    "mw_years_lost",
    "stranded_mw_at_horizon",
    "p_on_time",
)


def _headline_value(row: pd.Series, side: str, lower_bound: bool) -> str:
    """One side's mean in the metric's unit: a date for days, "≥" when censored."""
    value = row[f"{side}_mean"]
    if pd.isna(value):
        return "-"
    censored = row.get(f"censored_{side}", 0)
    if censored > 0 and censored == row["n"]:
        return "after horizon"
    mark = "≥" if lower_bound or censored > 0 else ""
    unit = row["unit"]
    if row["metric"] == "p_on_time" and value in (0.0, 1.0):
        return "always late" if value == 0 else "always on time"  # not a 0% or 100% estimate
    if unit == "day":
        when = row.get(f"{side}_mean_date")
        return mark + (str(when.date()) if pd.notna(when) else f"day {value:.0f}")
    if unit == "share":
        return f"{100 * value:.0f}%"
    if unit == "GW":
        return f"{value:.2f} GW"
    return mark + f"{value:,.0f} {unit}"


def _headline_diff(row: pd.Series) -> str:
    if row.get("why_withheld"):
        return f"withheld: {row['why_withheld']}"
    diff, half = row["diff_mean"], row["halfwidth"]
    if row.get("censored_both", 0) > 0 and row["censored_both"] == row["n"]:
        return "unknown: both after horizon"
    if pd.isna(diff):
        return row["note"] or "-"
    scale, unit, digits = {
        "share": (100.0, "pp", 0),
        "GW": (1.0, "GW", 2),
        "day": (1.0, "d", 0),
        "days": (1.0, "d", 0),
    }.get(row["unit"], (1.0, row["unit"], 0))
    text = f"{scale * diff:+,.{digits}f}"
    if pd.notna(half):
        text += f" ± {scale * half:,.{digits}f}"
    return f"{text} {unit}"


def format_headlines(headlines: pd.DataFrame) -> str:
    """The headline metrics ``paxsim compare`` prints: base, policy, paired Δ ± 95% CI.

    Warnings are footnotes ([1], [2], ...) so the table stays narrow; with one
    country, its rows are the "all" rows and are printed once.
    """
    if headlines.empty:
        return "Headline metrics: none (no replication succeeded)"
    shown = headlines["metric"].isin(_HEADLINE_SHOWN) | headlines["metric"].str.startswith(
        "gw_online_"
    )
    rows = headlines[shown & (headlines["n"] > 0)]
    if len(set(rows["group"]) - {ALL_REGIONS}) == 1:
        rows = rows[rows["group"] != ALL_REGIONS]
    censored = headlines[headlines["metric"] == "censored_mw_share"].set_index("group")
    notes: dict[str, int] = {}
    cells = []
    for _, row in rows.iterrows():
        weighted = row["metric"] in ("full_power_day", "mw_weighted_delay_days")
        sides = [
            _headline_value(
                row,
                side,
                weighted and float(censored[f"{side}_mean"].get(row["group"], 0.0)) > 0,
            )
            for side in ("base", "policy")
        ]
        refs = [notes.setdefault(w, len(notes) + 1) for w in row["warning"].split("; ") if w]
        warn = ",".join(f"[{r}]" for r in refs)
        cells.append((row["metric"], row["group"], *sides, _headline_diff(row), warn))
    table = pd.DataFrame(cells, columns=["metric", "group", "base", "policy", "Δ ± CI", "warn"])
    lines = [
        "Headline metrics, policy - base paired on replication (comparison/headlines.csv):",
        table.to_string(index=False),
    ]
    if table[["base", "policy"]].map(lambda text: text.startswith("≥")).any(axis=None):
        lines.append("≥: some MW not online by the horizon, counted at it (a lower bound).")
    lines += [f"  [{i}] {text}" for text, i in notes.items()]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ commands
def _default_out(kind: str, name: str, seed: int) -> Path:
    return Path("paxsim_results") / f"{safe_name(name)}_{kind}_seed{seed}"


def _print(text: str = "", file: Any = None) -> None:
    """print(), with non-printing and look-alike characters escaped."""
    print(terminal_safe(text), file=file)


def _error(text: str) -> int:
    _print(f"paxsim: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def _note(text: str) -> None:
    _print(f"paxsim: {text}", file=sys.stderr)


def _lock(args: argparse.Namespace, out: Path) -> BatchLock:
    return BatchLock(out, wait=None if args.wait else 0.0, notify=_note)


def _saved(out: Path, n: int) -> int:
    try:
        stores = [out] if ReplicationStore.exists(out) else []
        stores += [out / side for side in ("base", "policy") if ReplicationStore.exists(out / side)]
        return sum(min(len(ReplicationStore.open(s).done()), n) for s in stores)
    except (OSError, ValueError):
        return 0


def _interrupted(out: Path, n: int, total: int) -> int:
    _print(
        f"paxsim: {signals.describe()}; {_saved(out, n)} of {total} replications are saved in "
        f"{out}/. Run the same command with --resume to finish.",
        file=sys.stderr,
    )
    return signals.exit_code()


def _guarded(run: Callable[[], int], out: Path, n: int, args: argparse.Namespace) -> int:
    """The batch errors a user can cause or fix, as one message and an exit code."""
    where = "--out" if args.out is not None else "output folder"
    hint = "" if args.out is not None else "\n(this is the default folder; choose one with --out)"
    total = n * (2 if args.command == "compare" else 1)
    try:
        return run()
    except BatchLockedError as exc:
        wait = "" if args.wait else "\nAdd --wait to wait for it instead."
        return _error(f"{where} {exc}{wait}")
    except (OutputPathError, NotABatchError, StoreExistsError) as exc:
        return _error(f"{where} {exc}{hint}")
    except ResumeMismatchError as exc:
        return _error(f"--resume: {exc}")
    except BackendUnavailableError as exc:
        flag = "--scheduler" if args.scheduler is not None else "--dask-local"
        return _error(f"{flag}: {exc}")
    except (BatchArgumentError, ValueError) as exc:
        return _error(str(exc))
    except BrokenProcessPool:
        if signals.received() is not None:  # the signal reached the workers first
            return _interrupted(out, n, total)
        _print(
            "paxsim: error: a worker process died (out of memory?). Finished replications are "
            f"saved in {out}/; rerun with --resume (perhaps with fewer --workers).",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        return _interrupted(out, n, total)
    except OSError as exc:
        if not is_resource_error(exc):
            raise
        return _error(
            f"{where} {out}: cannot write: {describe_os_error(exc)}.\nFinished replications "
            f"are saved in {out}/; fix this and rerun the same command with --resume."
        )


def cmd_batch(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    out = args.out or _default_out("batch", scenario.name, args.seed)

    def run() -> int:
        check_batch_folder(out)  # all before any work: the folder, the backend, the lock
        backend = _backend(args)
        make_output_dir(out)
        with _lock(args, out):
            return _batch_locked(args, out, backend)

    return _guarded(run, out, args.reps, args)


def _batch_locked(args: argparse.Namespace, out: Path, backend: Backend) -> int:
    results = run_batch(
        args.scenario,
        reps=args.reps,
        seed=args.seed,
        out=out,
        overrides=args.overrides,
        backend=backend,
        resume=args.resume,
        chunk_size=args.chunk_size,
        until_halfwidth=args.until_halfwidth,
        max_reps=args.max_reps,
        progress=False if args.no_progress else None,
    )
    summary = results.phase_summary(args.target_date)
    written = results.write_summaries(target_date=args.target_date)
    if not args.quiet:
        _print(format_report(results, summary))
        _print()
    elif not results.failures.empty:
        _print("\n".join(_failure_lines(results)))
    if results.completed and len(results.failures) == results.completed:
        _print("paxsim: error: every replication failed; see the errors above", file=sys.stderr)
        return EXIT_FAILED
    report = results.report
    ran = f"ran {report.ran} replications ({report.already_done} already done) " if report else ""
    secs = f" in {report.seconds:.1f} s" if report else ""
    where = f"on {report.backend}" if report else ""
    _print(f"{ran}{where}{secs}; wrote {len(written)} summary files to {written[0].parent}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    base = load_scenario(args.base, args.overrides)
    load_scenario(args.policy, [*args.overrides, *args.policy_overrides])
    out = args.out or _default_out("compare", base.name, args.seed)

    def run() -> int:
        check_batch_folder(out, comparison=True)
        backend = _backend(args)
        make_output_dir(out)
        with _lock(args, out):
            return _compare_locked(args, out, backend)

    return _guarded(run, out, args.reps, args)


def _compare_locked(args: argparse.Namespace, out: Path, backend: Backend) -> int:
    comparison = compare(
        args.base,
        args.policy,
        reps=args.reps,
        seed=args.seed,
        out=out,
        overrides=args.overrides,
        policy_overrides=args.policy_overrides,
        backend=backend,
        resume=args.resume,
        chunk_size=args.chunk_size,
        progress=False if args.no_progress else None,
    )
    written = comparison.write(out / "comparison")
    for side in (comparison.base, comparison.policy):
        written += side.write_summaries()
    if not args.quiet:
        _print(format_comparison(comparison))
        _print()
        _print(format_headlines(comparison.headlines()))
        _print()
    for side in (comparison.base, comparison.policy):
        failures = _failure_lines(side)
        if failures:
            _print("\n".join(failures))
    _print(f"wrote {len(written)} files under {out}/ (comparison/, base/, policy/)")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "batch": cmd_batch,
    "compare": cmd_compare,
}
