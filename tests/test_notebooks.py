"""Every notebook under notebooks/ executes top to bottom without error, figures inline."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))

#: A call that makes one figure: any function of paxsim.plots except save_standard_figures
#: (which saves and closes its figures), e.g. ``fig = plots.delay_by_cause(...)``.
FIGURE_CALL = re.compile(r"\bplots\.(?!save_standard_figures\b)\w+\(")


def _images(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    # As in Jupyter: the kernel picks its inline backend (a CI MPLBACKEND=Agg would hide figures).
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    errors = [
        out for cell in code for out in cell.get("outputs", []) if out.get("output_type") == "error"
    ]
    assert not errors

    # Each figure shows inline exactly once, in the cell that makes it: none missing, none twice.
    made = [len(FIGURE_CALL.findall(cell.source)) for cell in code]
    shown = [_images(cell) for cell in code]
    figure_cells = [i for i, n in enumerate(made) if n]
    assert all(shown[i] >= 1 for i in figure_cells), (made, shown)
    assert sum(shown) == sum(made), (made, shown)
    assert shown == made


def test_default_world_notebook_makes_four_figures() -> None:
    """Guards the counting above: it must find the figures the notebook makes."""
    nb = nbformat.read(NOTEBOOKS[0].parent / "explore_default_world.ipynb", as_version=4)
    calls = [len(FIGURE_CALL.findall(c.source)) for c in nb.cells if c.cell_type == "code"]
    assert sum(calls) == 4
    assert sum(n > 0 for n in calls) == 4
