"""Installing paxsim claims one import name, and importing it changes nothing global."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_users_own_models_and_sim_folders_do_not_shadow_paxsim(tmp_path: Path) -> None:
    for folder in ("models", "sim"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("raise ImportError('user package')\n")
    done = _run(
        "import paxsim, paxsim.models.world, paxsim.sim.random; "
        "print(paxsim.models.world.__name__)",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "paxsim.models.world"


def test_only_paxsim_is_a_top_level_name() -> None:
    dist = metadata.distribution("paxsim")
    top = (dist.read_text("top_level.txt") or "paxsim").split()
    assert top == ["paxsim"]


def test_version_comes_from_package_metadata() -> None:
    import paxsim

    assert paxsim.__version__ == metadata.version("paxsim")


def test_import_switches_no_matplotlib_backend(tmp_path: Path) -> None:
    done = _run(
        "import matplotlib; before = matplotlib.get_backend(); "
        "import paxsim, paxsim.plots; print(before == matplotlib.get_backend())",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
