"""The ``paxsim`` command line: run, validate, show, report (batch and compare: see batch_cli).

Every user mistake ends in a one-paragraph message on stderr and exit code 2
(file-system, network and resource errors caused by the arguments included:
an unusable ``--out``, a full disk, an unreachable scheduler, too little
memory); an unexpected failure says so plainly (exit 3) and shows the
traceback only with ``--debug``. Ctrl-C exits 130, SIGTERM 143 (SIGHUP 129),
each saying so. Everything printed goes through
:func:`~paxsim.sim.safe_paths.terminal_safe`, so names from the input never
reach the terminal as escape codes or look-alikes.

Start-up stays light: heavy modules (pandas, the simulation, plots, the batch
machinery) are imported inside the commands that use them, so ``paxsim --help``,
``paxsim validate`` and ``paxsim show`` load only the scenario loader.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_INTERNAL = 3
#: The largest --seed: numpy's SeedSequence takes any integer, but 64 bits are
#: plenty of entropy and keep output-folder names short.
MAX_SEED = 2**64 - 1


class UsageError(Exception):
    """A bad command-line argument, reported without a traceback."""


def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _seed(text: str) -> int:
    value = _nonnegative_int(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**64 - 1 = {MAX_SEED}, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = _nonnegative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario TOML file (default: the embedded default world)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value by dotted path, e.g. --set grid.pjm_dominion.spare_mw=500",
    )


#: Commands that :mod:`paxsim.batch_cli` registers. It imports pandas and the batch
#: machinery, so it is imported only when one of these runs; otherwise the main parser lists
#: them with this help (tests/test_lazy_import.py checks it matches batch_cli's).
BATCH_COMMANDS = {
    "batch": "run many replications and summarise them (Monte Carlo)",
    "compare": "compare a policy with a base scenario (common random numbers)",
}


def build_parser(*, batch_commands: bool = True) -> argparse.ArgumentParser:
    """The full parser; ``batch_commands=False`` lists batch and compare without importing them."""
    parser = argparse.ArgumentParser(
        prog="paxsim",
        description="Discrete-event simulator of the AI supply chain, mine to megawatt.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one replication and write its tables")
    _add_scenario_args(run)
    run.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    run.add_argument("--out", type=Path, default=None, help="output folder")
    run.add_argument("--csv", action="store_true", help="also write CSV files")
    run.add_argument("--quiet", action="store_true", help="do not print the project table")
    run.add_argument("--plots", action="store_true", help="also save standard figures (PNG)")

    validate = sub.add_parser("validate", help="check a scenario file and report problems")
    validate.add_argument("files", nargs="+", help="scenario files (or 'default')")
    validate.add_argument("--set", dest="overrides", action="append", default=[])

    show = sub.add_parser("show", help="print the resolved scenario (after extends and --set)")
    _add_scenario_args(show)
    show.add_argument(
        "--diff",
        action="store_true",
        help="print what the scenario (and --set) changes against the scenario it extends",
    )

    report = sub.add_parser(
        "report",
        help="write one self-contained HTML page for a run, batch, comparison or study folder",
    )
    report.add_argument(
        "folder", type=Path, metavar="DIR", help="a run, batch, comparison or study folder"
    )
    report.add_argument(
        "--out", type=Path, default=None, metavar="FILE", help="the page (default DIR/report.html)"
    )
    report.add_argument("--quiet", action="store_true", help="do not say where the page went")

    if batch_commands:
        from paxsim import batch_cli

        batch_cli.add_commands(sub, _add_scenario_args, _seed, _positive_int)
    else:
        for name, text in BATCH_COMMANDS.items():
            sub.add_parser(name, help=text, add_help=False)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv``: its first word that is not an option (--debug takes no value)."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if not word.startswith("-"):
            return word
    return None


# ------------------------------------------------------------------------------ output folders
def _default_out(name: str, seed: int) -> Path:
    """``paxsim_results/<name>_seed<seed>``, the name made safe (no ``..``, ``/``, controls)."""
    from paxsim.sim.safe_paths import safe_name

    return Path("paxsim_results") / f"{safe_name(name)}_seed{seed}"


def out_error(exc: Exception, given: bool) -> UsageError:
    """An output-folder problem as a usage error naming --out (or saying how to choose one)."""
    if given:
        return UsageError(f"--out {exc}")
    return UsageError(f"output folder {exc}\n(this is the default folder; choose one with --out)")


def _print(text: str = "", file: TextIO | None = None) -> None:
    """print(), with non-printing and look-alike characters escaped."""
    from paxsim.sim.safe_paths import terminal_safe

    print(terminal_safe(text), file=file)


# ------------------------------------------------------------------------------ commands
def cmd_run(args: argparse.Namespace) -> int:
    from paxsim.api import load_scenario, simulate
    from paxsim.models.results.run import check_run_folder
    from paxsim.sim.safe_paths import OutputPathError, make_output_dir, remove_if_empty

    started = time.perf_counter()
    scenario = load_scenario(args.scenario, args.overrides)
    out = args.out or _default_out(scenario.name, args.seed)
    try:
        check_run_folder(out)  # before the run: a bad --out costs nothing
        created = make_output_dir(out)
        try:
            results = simulate(scenario, seed=args.seed)
        except BaseException:
            remove_if_empty(created)
            raise
        # What the run came from, so `paxsim report` can list the scenario's sources.
        results.meta["source"] = (
            "default" if args.scenario in (None, "default") else str(Path(args.scenario).resolve())
        )
        results.meta["overrides"] = list(args.overrides)
        written = results.write(out, csv=args.csv)
        if args.plots:
            from paxsim.plots import save_standard_figures

            written += save_standard_figures(results, out)
    except OutputPathError as exc:
        raise out_error(exc, args.out is not None) from None
    except OSError as exc:
        from paxsim.sim.safe_paths import describe_os_error, is_resource_error

        if not is_resource_error(exc):
            raise
        problem = OutputPathError(out, describe_os_error(exc))
        raise out_error(problem, args.out is not None) from None
    elapsed = time.perf_counter() - started
    if not args.quiet:
        _print(
            f"paxsim {results.meta['paxsim_version']} | scenario {scenario.name} | seed {args.seed}"
        )
        _print(format_project_table(results.summary_table()))
        _print()
        for line in national_lines(results.national):
            _print(line)
        _print()
    _print(f"wrote {len(written)} files to {out}/ in {elapsed:.2f} s")
    return 0


def national_lines(national: pd.DataFrame, every: int = 2) -> list[str]:
    """Data-centre load online (GW, year end) and energy (TWh) by country, every other year."""
    if national.empty:
        return []
    total = national[national["region"] == "all"]
    lines = ["Data-centre load online (GW at year end / TWh in the year), all regions:"]
    for country, rows in total.groupby("country", sort=True):
        rows = rows.iloc[::every]
        cells = [
            f"{int(y)} {g:.1f}/{t:.0f}"
            for y, g, t in zip(rows["year"], rows["gw_online"], rows["twh"], strict=True)
        ]
        lines.append(f"  {country}: " + ", ".join(cells))
    return lines


def format_project_table(table: pd.DataFrame) -> str:
    import pandas as pd

    shown = table.rename(
        columns={
            "phase_id": "phase",
            "it_mw": "IT MW",
            "planned_date": "planned",
            "online_date": "simulated online",
            "delay_days": "delay (days)",
            "held_back_by": "held back most by",
        }
    ).copy()
    shown["simulated online"] = shown["simulated online"].map(
        lambda d: "after horizon" if pd.isna(d) else str(d)
    )
    shown["delay (days)"] = shown["delay (days)"].map(lambda d: "-" if pd.isna(d) else f"{d:+.0f}")
    shown["IT MW"] = shown["IT MW"].map(lambda v: f"{v:g}")
    return shown.to_string(index=False)


def cmd_validate(args: argparse.Namespace) -> int:
    import warnings

    from paxsim.api import ScenarioError, load_scenario
    from paxsim.models.loader import ScenarioWarning, escaped
    from paxsim.models.scenario import shown_id

    failures = 0
    for name in args.files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            try:
                scenario = load_scenario(None if name == "default" else name, args.overrides)
            except ScenarioError as exc:
                failures += 1
                print(f"INVALID {escaped(name)}\n{exc}", file=sys.stderr)
                continue
        for warning in caught:
            if issubclass(warning.category, ScenarioWarning):
                print(f"WARNING {warning.filename}: {warning.message}", file=sys.stderr)
            else:
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        print(f"OK {escaped(name)}: scenario {shown_id(scenario.name)} is valid")
    return EXIT_USAGE if failures else 0


def cmd_show(args: argparse.Namespace) -> int:
    if args.diff:
        from paxsim.models.scenario_diff import diff_against_parent, format_diff

        heading, changes = diff_against_parent(args.scenario, args.overrides)
        print(format_diff(heading, changes), end="")
        return 0
    from paxsim.api import load_scenario, scenario_to_toml

    scenario = load_scenario(args.scenario, args.overrides)
    print(scenario_to_toml(scenario), end="")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the folder's page; a folder it cannot read or a page it cannot write is exit 2."""
    from paxsim.report import ReportError, build_report

    try:
        page = build_report(args.folder, args.out)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        _print(f"wrote {page}")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "show": cmd_show, "report": cmd_report}


def _print_scenario_warnings_plainly(kind: type[Warning]) -> None:
    """Every command prints a scenario warning as ``validate`` does: ``WARNING file: what``."""
    import warnings

    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, kind):
            print(f"WARNING {filename}: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    is_batch = _command_word(argv) in BATCH_COMMANDS
    args = build_parser(batch_commands=is_batch).parse_args(argv)  # --help exits here
    from paxsim.api import ScenarioError
    from paxsim.models.loader import ScenarioWarning

    _print_scenario_warnings_plainly(ScenarioWarning)

    if args.command in BATCH_COMMANDS:
        from paxsim import batch_cli

        handler = batch_cli.COMMANDS[args.command]
    else:
        handler = COMMANDS[args.command]
    from paxsim import signals
    from paxsim.sim.safe_paths import describe_os_error, is_resource_error

    restore_signals = signals.install()  # SIGTERM/SIGHUP end the command like Ctrl-C
    try:
        return handler(args)
    except ScenarioError as exc:
        _print(f"paxsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        _print(f"paxsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _print(f"paxsim: {signals.describe()}", file=sys.stderr)
        return signals.exit_code()
    except MemoryError:
        _print(
            "paxsim: error: out of memory. Ask for less at once: fewer --reps or --workers, "
            "or a smaller scenario (shorter horizon, smaller backlogs).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:  # `paxsim run | head`: the reader left; nothing to report
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 141
    except OSError as exc:
        if not is_resource_error(exc):
            return _internal_error(exc, args.debug)
        _print(f"paxsim: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        return _internal_error(exc, args.debug)
    finally:
        restore_signals()


def _internal_error(exc: Exception, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    _print(
        f"paxsim: internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in paxsim, not in your input; rerun with --debug for a traceback.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
