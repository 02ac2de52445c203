"""``paxsim batch`` and ``paxsim compare`` (Monte Carlo; filled in by the batch work)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["COMMANDS", "add_commands"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def add_commands(sub: Any, add_scenario_args: Any, nonneg: Any, positive: Any) -> None:
    """Register batch subcommands on the main parser."""
