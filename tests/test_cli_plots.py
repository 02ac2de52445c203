"""``paxsim run --plots`` writes valid PNG figures, headless (no display, no MPLBACKEND)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "scenarios" / "tiny.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STANDARD = {"delay_by_cause.png", "capacity_online.png", "grid_queue_lengths.png"}
PLOTS_ARGS = ("--plots", "--quiet", "--out")
WATERFALL = "waterfall_most_delayed.png"  # only when some phase is online by the horizon


def _headless_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _check_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 0, f"{path.name} is empty"
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert kind == b"IHDR" and length == 13, f"{path.name}: no IHDR header"
    assert width > 0 and height > 0
    assert data[-8:-4] == b"IEND", f"{path.name} is truncated"
    from PIL import Image  # a matplotlib dependency; decoding proves the data is whole

    with Image.open(path) as image:
        image.load()
        assert image.size == (width, height)


@pytest.mark.parametrize(
    ("overrides", "waterfall"),
    [(("--set", "time.end=2026-01-01"), False), (("--set", "time.end=2035-01-01"), True)],
    ids=["tiny-to-2026", "tiny-to-2035"],
)
def test_run_plots_writes_valid_pngs_headless(
    tmp_path: Path, overrides: tuple[str, ...], waterfall: bool
) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "paxsim.cli", "run", str(TINY), *overrides, *PLOTS_ARGS, str(out)],
        cwd=tmp_path,
        env=_headless_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"files to {out}" in done.stdout

    online = pd.read_parquet(out / "projects.parquet")["online_by_horizon"].any()
    assert online == waterfall  # each case covers what it is meant to
    expected = STANDARD | ({WATERFALL} if online else set())
    assert {p.name for p in out.glob("*.png")} == expected
    for name in sorted(expected):
        _check_png(out / name)
