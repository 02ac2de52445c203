"""The ``paxsim`` command line: run, validate, show (batch and compare: see batch_cli).

Every user mistake ends in a one-paragraph message on stderr and exit code 2;
an unexpected failure says so plainly (exit 3) and shows the traceback only
with ``--debug``.

Start-up stays light: heavy modules (pandas, the simulation, plots, the batch
machinery) are imported inside the commands that use them, so ``paxsim --help``,
``paxsim validate`` and ``paxsim show`` load only the scenario loader.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_INTERNAL = 3


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
    run.add_argument("--seed", type=_nonnegative_int, default=0, help="random seed (default 0)")
    run.add_argument("--out", type=Path, default=None, help="output folder")
    run.add_argument("--csv", action="store_true", help="also write CSV files")
    run.add_argument("--quiet", action="store_true", help="do not print the project table")
    run.add_argument("--plots", action="store_true", help="also save standard figures (PNG)")

    validate = sub.add_parser("validate", help="check a scenario file and report problems")
    validate.add_argument("files", nargs="+", help="scenario files (or 'default')")
    validate.add_argument("--set", dest="overrides", action="append", default=[])

    show = sub.add_parser("show", help="print the resolved scenario (after extends and --set)")
    _add_scenario_args(show)

    if batch_commands:
        from paxsim import batch_cli

        batch_cli.add_commands(sub, _add_scenario_args, _nonnegative_int, _positive_int)
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


# ------------------------------------------------------------------------------ commands
def _default_out(name: str, seed: int) -> Path:
    return Path("paxsim_results") / f"{name}_seed{seed}"


def cmd_run(args: argparse.Namespace) -> int:
    from paxsim.api import load_scenario, simulate

    started = time.perf_counter()
    scenario = load_scenario(args.scenario, args.overrides)
    results = simulate(scenario, seed=args.seed)
    out = args.out or _default_out(scenario.name, args.seed)
    written = results.write(out, csv=args.csv)
    if args.plots:
        from paxsim.plots import save_standard_figures

        written += save_standard_figures(results, out)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(
            f"paxsim {results.meta['paxsim_version']} | scenario {scenario.name} | seed {args.seed}"
        )
        print(format_project_table(results.summary_table()))
        print()
    print(f"wrote {len(written)} files to {out}/ in {elapsed:.2f} s")
    return 0


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
    from paxsim.api import ScenarioError, load_scenario

    failures = 0
    for name in args.files:
        try:
            scenario = load_scenario(None if name == "default" else name, args.overrides)
        except ScenarioError as exc:
            failures += 1
            print(f"INVALID {name}\n{exc}", file=sys.stderr)
        else:
            print(f"OK {name}: scenario {scenario.name!r} is valid")
    return EXIT_USAGE if failures else 0


def cmd_show(args: argparse.Namespace) -> int:
    from paxsim.api import load_scenario, scenario_to_toml

    scenario = load_scenario(args.scenario, args.overrides)
    print(scenario_to_toml(scenario), end="")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "show": cmd_show}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    is_batch = _command_word(argv) in BATCH_COMMANDS
    args = build_parser(batch_commands=is_batch).parse_args(argv)  # --help exits here
    from paxsim.api import ScenarioError

    if args.command in BATCH_COMMANDS:
        from paxsim import batch_cli

        handler = batch_cli.COMMANDS[args.command]
    else:
        handler = COMMANDS[args.command]
    try:
        return handler(args)
    except ScenarioError as exc:
        print(f"paxsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"paxsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paxsim: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(
            f"paxsim: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in paxsim, not in your input; rerun with --debug for a traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
