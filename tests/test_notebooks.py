"""The notebooks run top to bottom, show each figure inline once, and are stored clean.

Each notebook's first code cell is tagged ``parameters`` (REPS, OVERRIDES, ...);
the test inserts a cell after it with a cheap setting, as papermill would, so
the notebooks keep the settings an analyst should use while the test runs in
seconds. A 2029 horizon is the shortest whole-year end at which named phases
reach full power in the default world (at 2028 none does), so every figure
still has something to draw.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

#: Images each notebook must show at least (it may show more).
MIN_IMAGES = {
    "01_quickstart.ipynb": 5,
    "02_policy_comparison.ipynb": 3,
    "03_build_your_own_scenario.ipynb": 3,
}

#: Injected after the ``parameters`` cell: 2 replications, a 4-year horizon, no process pool.
CHEAP_PARAMETERS = 'REPS = 2\nOVERRIDES = ["time.end=2029-01-01"]\nWORKERS = 1'

#: A call that makes one figure: any function of paxsim.plots except save_standard_figures
#: (which saves and closes its figures), e.g. ``fig = plots.delay_by_cause(...)``.
FIGURE_CALL = re.compile(r"\bplots\.(?!save_standard_figures\b)\w+\(")


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _images(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def _parameters_index(nb: nbformat.NotebookNode) -> int:
    """Index in ``nb.cells`` of the one cell tagged ``parameters``: the first code cell."""
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters'"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert tagged[0] == first_code, "the 'parameters' cell must be the first code cell"
    return first_code


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(MIN_IMAGES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path: Path) -> None:
    """No outputs or execution counts in git, a python3 kernel, and knobs a test can override."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in _code_cells(nb):
        assert cell.outputs == [], cell.source[:60]
        assert cell.execution_count is None, cell.source[:60]
    params = nb.cells[_parameters_index(nb)].source
    assert re.search(r"^REPS = 20\b", params, re.MULTILINE)
    assert re.search(r"^OVERRIDES = \[\]", params, re.MULTILINE)
    assert "matplotlib.use" not in "".join(c.source for c in _code_cells(nb))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_figure_calls_are_counted(path: Path) -> None:
    """Guards the counting below: it must find the figures the notebook must show, one a cell."""
    calls = [len(FIGURE_CALL.findall(c.source)) for c in _code_cells(nbformat.read(path, 4))]
    assert sum(calls) >= MIN_IMAGES[path.name]
    assert max(calls) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    # As in Jupyter: the kernel picks its inline backend (a CI MPLBACKEND=Agg would hide figures).
    monkeypatch.delenv("MPLBACKEND", raising=False)
    # The notebooks write batches and scenario files to temporary folders: keep them in pytest's.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(_parameters_index(nb) + 1, nbformat.v4.new_code_cell(CHEAP_PARAMETERS))
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()
    code = _code_cells(nb)
    errors = [
        f"{out.get('ename')}: {out.get('evalue')}"
        for cell in code
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors

    # Each figure shows inline exactly once, in the cell that makes it: none missing, none twice.
    made = [len(FIGURE_CALL.findall(cell.source)) for cell in code]
    shown = [_images(cell) for cell in code]
    assert shown == made, (made, shown)
    assert sum(shown) >= MIN_IMAGES[path.name]
