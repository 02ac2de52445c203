"""``paxsim batch`` and ``paxsim compare``: Monte Carlo studies from the command line.

Both are thin over :mod:`paxsim.batch`; everything printed here is also
written to ``--out`` as tables (Parquet and CSV), so nothing is screen-only.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from paxsim.batch import (
    ALL_REGIONS,
    BatchResults,
    Comparison,
    compare,
    make_backend,
    run_batch,
)
from paxsim.models.loader import load_scenario
from paxsim.sim.replications import (
    Backend,
    BackendUnavailableError,
    ReplicationStore,
    ResumeMismatchError,
    StoreExistsError,
)

__all__ = [
    "COMMANDS",
    "add_commands",
    "cmd_batch",
    "cmd_compare",
    "format_comparison",
    "format_phase_table",
    "format_report",
]

EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130


# ------------------------------------------------------------------------------ arguments
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
    p.add_argument("--reps", type=positive, default=100, help="replications (default 100)")
    p.add_argument("--seed", type=nonneg, default=0, help="batch seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish a batch in --out, running only what is missing",
    )
    where = p.add_argument_group("where replications run (default: local processes, all cores)")
    where.add_argument(
        "--workers", type=positive, default=None, help="local processes (1 = in this process)"
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
        type=positive,
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
        type=positive,
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
    if args.scheduler and args.dask_local:
        raise ValueError("--scheduler and --dask-local exclude each other")
    if args.scheduler and args.workers:
        raise ValueError("--workers sizes local pools; a scheduler's cluster has its own workers")
    return make_backend(args.workers, args.dask_local, args.scheduler)


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
    lines += ["", *_capacity_lines(results), _cause_line(results), _convergence_line(results)]
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


# ------------------------------------------------------------------------------ commands
def _default_out(kind: str, name: str, seed: int) -> Path:
    return Path("paxsim_results") / f"{name}_{kind}_seed{seed}"


def _interrupted(out: Path, n: int) -> int:
    done = len(ReplicationStore.open(out).done()) if ReplicationStore.exists(out) else 0
    print(
        f"paxsim: interrupted; {min(done, n)} of {n} replications are saved in {out}/. "
        "Run the same command with --resume to finish.",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _guarded(run: Callable[[], int], out: Path, n: int) -> int:
    """The batch errors a user can cause or fix, as one message and an exit code."""
    try:
        return run()
    except (StoreExistsError, ResumeMismatchError, BackendUnavailableError, ValueError) as exc:
        print(f"paxsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenProcessPool:
        print(
            "paxsim: error: a worker process died (out of memory?). Finished replications are "
            f"saved in {out}/; rerun with --resume (perhaps with fewer --workers).",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        return _interrupted(out, n)


def cmd_batch(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    out = args.out or _default_out("batch", scenario.name, args.seed)

    def run() -> int:
        results = run_batch(
            args.scenario,
            reps=args.reps,
            seed=args.seed,
            out=out,
            overrides=args.overrides,
            backend=_backend(args),
            resume=args.resume,
            chunk_size=args.chunk_size,
            until_halfwidth=args.until_halfwidth,
            max_reps=args.max_reps,
            progress=False if args.no_progress else None,
        )
        summary = results.phase_summary(args.target_date)
        written = results.write_summaries(target_date=args.target_date)
        if not args.quiet:
            print(format_report(results, summary))
            print()
        elif not results.failures.empty:
            print("\n".join(_failure_lines(results)))
        if results.completed and len(results.failures) == results.completed:
            print("paxsim: error: every replication failed; see the errors above", file=sys.stderr)
            return EXIT_FAILED
        report = results.report
        ran = (
            f"ran {report.ran} replications ({report.already_done} already done) " if report else ""
        )
        secs = f" in {report.seconds:.1f} s" if report else ""
        where = f"on {report.backend}" if report else ""
        print(f"{ran}{where}{secs}; wrote {len(written)} summary files to {written[0].parent}/")
        return 0

    return _guarded(run, out, args.reps)


def cmd_compare(args: argparse.Namespace) -> int:
    base = load_scenario(args.base, args.overrides)
    load_scenario(args.policy, [*args.overrides, *args.policy_overrides])
    out = args.out or _default_out("compare", base.name, args.seed)

    def run() -> int:
        comparison = compare(
            args.base,
            args.policy,
            reps=args.reps,
            seed=args.seed,
            out=out,
            overrides=args.overrides,
            policy_overrides=args.policy_overrides,
            backend=_backend(args),
            resume=args.resume,
            chunk_size=args.chunk_size,
            progress=False if args.no_progress else None,
        )
        written = comparison.write(out / "comparison")
        for side in (comparison.base, comparison.policy):
            written += side.write_summaries()
        if not args.quiet:
            print(format_comparison(comparison))
            print()
        for side in (comparison.base, comparison.policy):
            failures = _failure_lines(side)
            if failures:
                print("\n".join(failures))
        print(f"wrote {len(written)} files under {out}/ (comparison/, base/, policy/)")
        return 0

    return _guarded(run, out, args.reps)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "batch": cmd_batch,
    "compare": cmd_compare,
}
