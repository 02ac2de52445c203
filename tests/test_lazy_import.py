"""``import paxsim`` and the light CLI commands load no heavy library (behaviour, not timing).

Each check runs in a fresh interpreter, since this test process has long since
imported everything. ``benchmarks/bench_import.py`` measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"
HEAVY = ("pandas", "scipy", "pyarrow", "matplotlib", "dask")

_REPORT = f"""
import json, sys
print(json.dumps({{
    "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules),
    "paxsim_submodules": sorted(m for m in sys.modules if m.startswith("paxsim.")),
}}))
"""


def _fresh(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a new interpreter, then report which modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\n" + _REPORT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_import_paxsim_loads_nothing_heavy() -> None:
    loaded = _fresh("import paxsim")
    assert loaded["heavy"] == []
    assert loaded["paxsim_submodules"] == []  # the public names wait for first use


def test_public_names_resolve_on_first_use() -> None:
    code = """
import paxsim
names = list(paxsim.__all__)
values = {name: getattr(paxsim, name) for name in names}
import paxsim.api as api
from importlib import metadata
assert paxsim.__version__ == metadata.version("paxsim") == api.PAXSIM_VERSION
for name in names:
    if name != "__version__":
        assert values[name] is getattr(api, name), name
from paxsim import Scenario, load_scenario, run_batch, simulate  # noqa: F401
assert callable(simulate) and callable(run_batch) and isinstance(Scenario, type)
assert set(names) <= set(dir(paxsim)) and set(api.__all__) <= set(dir(api))
try:
    paxsim.no_such_name
except AttributeError:
    pass
else:
    raise AssertionError("unknown names must raise AttributeError")
ns = {}
exec("from paxsim import *", ns)
assert set(names) <= set(ns)
"""
    _fresh(code)


def _cli(*argv: str) -> str:
    args = ", ".join(repr(a) for a in argv)
    return f"""
import contextlib, io
from paxsim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main([{args}])
    except SystemExit as exc:  # --help exits from argparse
        code = exc.code
assert code == 0, code
"""


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("validate", str(TINY)), ("validate", "default"), ("show", str(TINY))],
    ids=["help", "validate-tiny", "validate-default", "show"],
)
def test_light_commands_load_nothing_heavy(argv: tuple[str, ...]) -> None:
    loaded = _fresh(_cli(*argv))
    assert loaded["heavy"] == []
    assert "paxsim.batch_cli" not in loaded["paxsim_submodules"]


def test_help_lists_batch_commands_as_batch_cli_does() -> None:
    """The light parser's stand-ins for batch and compare read as the real ones do."""
    from paxsim.cli import build_parser

    light = build_parser(batch_commands=False).format_help()
    assert light == build_parser().format_help()
    assert "batch" in light and "compare" in light


def test_batch_commands_still_parse_after_global_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from paxsim.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--debug", "batch", "--help"])
    assert exc.value.code == 0
    assert "--reps" in capsys.readouterr().out
