"""``paxsim report``: one page per folder kind, rendered in headless Chromium, plus its units.

The browser checks read what Chromium itself reports: ``--dump-dom`` gives the
DOM after the page's script set ``data-figures`` ("loaded/total"), the stderr
log carries console messages, and a screenshot shows something was drawn.
Chromium (156) logs every console message, whatever its level, and every
uncaught exception as an ``INFO:CONSOLE`` line; the page logs nothing of its
own, so any such line is an error. ``test_browser_checks_can_fail`` proves
both checks catch a broken page.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from paxsim.batch import compare, run_batch
from paxsim.cli import main
from paxsim.models.loader import load_scenario, scenario_hash
from paxsim.models.simulation import simulate
from paxsim.report import (
    FIGURE_SCRIPT,
    MAX_ROWS,
    ReportError,
    ScenarioRef,
    build_report,
    caption_for,
    format_value,
    markdown_to_html,
    resolve_scenario,
)
from paxsim.sim.replications import Backend
from paxsim.study import STUDY_FORMAT

REPO = Path(__file__).resolve().parents[1]
SHORT = ["time.end=2027-06-01"]
POLICY = ["grid.pjm_dominion.spare_mw=500"]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
    "--window-size=1280,2000",
)
#: Pixel standard deviation (values 0..1) below which a screenshot counts as blank.
BLANK_STD = 0.02


# ------------------------------------------------------------------------------ the browser
def _chromium() -> str:
    """The browser, or skip (fail under CI, which installs it: .ci/run)."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser tests")
        pytest.skip("chromium is not installed")
    return found


@dataclass(frozen=True)
class Rendered:
    dom: str
    stderr: str
    screenshot: Path

    @property
    def console(self) -> list[str]:
        """Console messages and uncaught errors, as Chromium logs them (any level)."""
        return [line for line in self.stderr.splitlines() if ":CONSOLE" in line]

    @property
    def figures(self) -> str | None:
        """``data-figures`` on <body>: "loaded/total", set by the page's script."""
        match = re.search(r"<body[^>]*\sdata-figures=\"([^\"]*)\"", self.dom)
        return match.group(1) if match else None

    def pixel_std(self) -> float:
        return float(np.std(matplotlib.image.imread(self.screenshot)[..., :3]))


def render(page: Path, scratch: Path) -> Rendered:
    """Load ``page`` once in headless Chromium: dumped DOM, log and a screenshot."""
    scratch.mkdir(parents=True, exist_ok=True)
    shot = scratch / "shot.png"
    done = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={scratch / 'profile'}",
            f"--screenshot={shot}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.is_file(), done.stderr[-3000:]
    return Rendered(done.stdout, done.stderr, shot)


def test_browser_checks_can_fail(tmp_path: Path) -> None:
    """A page with console errors, a thrown error and a broken figure fails every check."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>scratch</p>"
        '<script>console.error("deliberate console error");</script>'
        '<script>throw new Error("deliberate thrown error");</script>'
        '<figure><img src="data:image/png;base64,AAAA" alt="broken"></figure>'
        f"<script>{FIGURE_SCRIPT}</script></body></html>",
        encoding="utf-8",
    )
    rendered = render(page, tmp_path / "chromium")
    assert any("deliberate console error" in line for line in rendered.console)
    assert any("Uncaught Error: deliberate thrown error" in line for line in rendered.console)
    assert rendered.figures == "0/1"


# ------------------------------------------------------------------------------ folders
@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder of each kind: a short run, 2-replication batch and comparison, a fake study."""
    root = tmp_path_factory.mktemp("folders")
    simulate(load_scenario(overrides=SHORT), 0).write(root / "run")
    serial = Backend("serial")
    run_batch(None, reps=2, out=root / "batch", overrides=SHORT, backend=serial, progress=False)
    comparison = compare(
        None,
        None,
        reps=2,
        out=root / "comparison",
        overrides=SHORT,
        policy_overrides=POLICY,
        backend=serial,
        progress=False,
    )
    comparison.write(root / "comparison" / "comparison")
    make_study(root / "study")
    return {kind: root / kind for kind in ("run", "batch", "comparison", "study")}


def _figure(path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    try:
        ax.plot(np.arange(10), np.arange(10) ** 1.5, marker="o")
        ax.set_title(title)
        fig.savefig(path.with_suffix(".png"), dpi=80)
        fig.savefig(path.with_suffix(".svg"))
    finally:
        plt.close(fig)


def make_study(
    out: Path,
    name: str = "grid_lever",
    findings: str = "",
    label: str = "baseline",
    figure_names: tuple[str, ...] = ("01_online_date_by_arm", "national_gw_fan"),
) -> Path:
    """A small study folder in the format experiment scripts write (paxsim.study/1)."""
    for sub in ("figures", "tables", f"batches/{label}"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for figure in figure_names:
        _figure(out / "figures" / figure, figure)
    pd.DataFrame(
        {"phase_id": [f"campus/{i}" for i in range(50)], "diff_days": np.linspace(-90, 30, 50)}
    ).to_csv(out / "tables" / "phase_differences.csv", index=False)
    pd.DataFrame({"arm": [label, "moved"], "reps": [2, 2]}).to_csv(
        out / "tables" / "arms.csv", index=False
    )
    identity = {"scenario_hash": scenario_hash(load_scenario(overrides=SHORT))}
    (out / "batches" / label / "manifest.json").write_text(
        json.dumps({"format": "sim.replications/1", "identity": identity}), encoding="utf-8"
    )
    study = {
        "format": STUDY_FORMAT,
        "study": name,
        "question": "Does more spare grid capacity in PJM Dominion bring campuses forward?",
        "reps": 2,
        "seed": 7,
        "paxsim_version": "0.1.0",
        "baseline": label,
        "scenarios": [
            {
                "label": label,
                "name": "default",
                "source": "default",
                "overrides": SHORT,
                "batch": f"batches/{label}",
            },
            {
                "label": "moved",
                "name": "moved_policy",
                "source": "scenarios/moved_away_since.toml",
                "overrides": [],
                "batch": "batches/moved",
            },
        ],
        "wall_seconds": 12.5,
        "command": "python -m experiments.grid_lever --reps 2 --seed 7",
        "figures": [f"figures/{f}.png" for f in reversed(figure_names)],
    }
    (out / "study.json").write_text(json.dumps(study), encoding="utf-8")
    text = findings or (
        f"# {name}\n\n*The question.*\n\n## Findings\n\n"
        "- More spare MW brings **A1** forward by `-120 d` (95 % CI -150 to -90).\n"
        "- Nothing else moved.\n"
    )
    (out / "findings.md").write_text(text, encoding="utf-8")
    return out


# ------------------------------------------------------------------------------ the pages
@pytest.mark.parametrize("kind", ["run", "batch", "comparison", "study"])
def test_page_renders_with_every_figure(
    kind: str, folders: dict[str, Path], tmp_path: Path
) -> None:
    folder = folders[kind]
    page = build_report(folder)
    assert page == folder / "report.html"
    figures = sorted((folder / "figures").glob("*.png"))
    assert figures, "a report without figures tests nothing here"

    rendered = render(page, tmp_path / "chromium")
    assert rendered.console == []
    assert rendered.figures == f"{len(figures)}/{len(figures)}"
    for figure in figures:
        assert f"<figcaption>{html.escape(caption_for(figure), quote=False)} " in rendered.dom
    assert rendered.pixel_std() > BLANK_STD

    text = page.read_text(encoding="utf-8")
    assert_self_contained(text)
    assert f"{kind} folder" in text
    assert "<h2>Provenance</h2>" in text and "<h2>Key tables</h2>" in text
    assert "Scenario and sources" in text


def assert_self_contained(text: str) -> None:
    """Nothing the browser would fetch: only data: images, in-page links, no imports."""
    for attribute in re.findall(r"\s(?:src|href|srcset|action)=\"([^\"]*)\"", text):
        assert attribute.startswith(("data:image/png;base64,", "#")), attribute[:80]
    for fetch in ("<link", "@import", "url(", "<iframe", "<object", "<embed"):
        assert fetch not in text
    assert text.count("<script") == 1
    assert "default-src 'none'" in text  # the Content Security Policy


def test_study_page_shows_findings_tables_and_scenarios(folders: dict[str, Path]) -> None:
    text = build_report(folders["study"]).read_text(encoding="utf-8")
    assert "<h1>grid_lever</h1>" in text
    assert "Does more spare grid capacity in PJM Dominion bring campuses forward?" in text
    assert "<strong>A1</strong>" in text and "<code>-120 d</code>" in text
    assert "python -m experiments.grid_lever --reps 2 --seed 7" in text
    assert f"first {MAX_ROWS} of 50 rows" in text
    # the order study.json lists the figures in, not file-name order
    assert text.index("National GW fan") < text.index("Online date by arm")
    # the baseline resolves (its hash matches its batch); the moved file is reported, not fatal
    assert "Resolved scenario TOML (default)" in text
    assert "<h3>Sources</h3>" in text
    assert "cannot re-resolve it from &#x27;scenarios/moved_away_since.toml&#x27;" in text
    assert "has changed since" not in text


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>'
    folder = make_study(
        tmp_path / "study",
        name=hostile,
        label="<b onmouseover=alert(1)>arm</b>",
        findings=f"# {hostile}\n\n{hostile} and <img src=x onerror=alert(2)> **bold**\n",
        figure_names=("<img src=x onerror=alert(3)>",),
    )
    text = build_report(folder).read_text(encoding="utf-8")
    assert text.count("<script") == 1  # the page's own
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "<img src=x" not in text and "<b onmouseover" not in text
    assert "&lt;img src=x onerror=alert(2)&gt; <strong>bold</strong>" in text
    assert_self_contained(text)
    rendered = render(folder / "report.html", tmp_path / "chromium")
    assert rendered.console == []
    assert rendered.figures == "1/1"
    assert "<img src=x onerror=alert(3)>" not in rendered.dom


# ------------------------------------------------------------------------------ errors and CLI
def test_cli_refuses_a_folder_that_is_not_paxsims(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a run", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "paxsim.cli", "report", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(tmp_path) in proc.stderr
    assert "not a paxsim folder" in proc.stderr
    for kind in ("run folder", "batch folder", "comparison folder", "study folder"):
        assert kind in proc.stderr
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: None, "no such folder"),
        (
            lambda d: (d.mkdir(), (d / "manifest.json").write_text('{"format": "other/1"}')),
            "other/1",
        ),
        (lambda d: (d.mkdir(), (d / "study.json").write_text("[1, 2")), "cannot read it"),
        (lambda d: d.write_text("a file"), "not a folder"),
    ],
    ids=["missing", "foreign-manifest", "broken-study-json", "a-file"],
)
def test_cli_user_errors_exit_2(
    setup: Callable[[Path], object],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "dir"
    setup(folder)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("paxsim: error: ") and fragment in err and str(folder) in err


def test_cli_writes_the_page_where_asked(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "page.html"
    assert main(["report", str(folders["study"]), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(folders["study"]), "--out", str(tmp_path)]) == 2  # a folder
    assert "is a folder" in capsys.readouterr().err


def test_damaged_batch_is_a_report_error(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"format": "sim.replications/1"}', encoding="utf-8")
    with pytest.raises(ReportError, match="cannot read it as a batch folder"):
        build_report(folder)


# ------------------------------------------------------------------------------ units
def test_markdown_subset() -> None:
    text = (
        "# Title\n\nA *short* paragraph\ncontinued with `a_b < c` and __strong__.\n\n"
        "- one\n- two **bold**\n  continued\n\n1. first\n2. second\n\n"
        "| a | b |\n|---|---|\n| 1 | x_y |\n\n```\n<raw> **not bold**\n```\n"
    )
    out = markdown_to_html(text)
    assert "<h3>Title</h3>" in out
    assert (
        "<p>A <em>short</em> paragraph continued with <code>a_b &lt; c</code> and "
        "<strong>strong</strong>.</p>"
    ) in out
    assert "<ul><li>one</li><li>two <strong>bold</strong> continued</li></ul>" in out
    assert "<ol><li>first</li><li>second</li></ol>" in out
    assert "<tr><th>a</th><th>b</th><tr><td>1</td><td>x_y</td>" in out
    assert "<pre><code>&lt;raw&gt; **not bold**</code></pre>" in out
    assert "snake_case_name" in markdown_to_html("snake_case_name")  # no italics inside words


def test_format_value() -> None:
    assert format_value(float("nan")) == "–" and format_value(None) == "–"
    assert format_value(pd.NaT) == "–"
    assert format_value(float("inf")) == "∞"
    assert format_value(-0.0) == "0" and format_value(-61.0) == "-61"
    assert format_value(2025) == "2025" and format_value(np.int64(7)) == "7"
    assert format_value(18.9216) == "18.92" and format_value(0.65762) == "0.658"
    assert format_value(2750.44) == "2750" and format_value(1_000_000.0) == "1,000,000"
    assert format_value(np.bool_(True)) == "yes"
    assert format_value(pd.Timestamp("2027-08-01")) == "2027-08-01"


def test_caption_for() -> None:
    assert caption_for("figures/02_national_gw_fan.png") == "National GW fan"
    assert caption_for("delay-by-cause.png") == "Delay by cause"
    assert caption_for("ai_mw_online_vs_plan.png") == "AI MW online vs. plan"


def test_scenario_changed_since_the_folder_was_written() -> None:
    changed = resolve_scenario(ScenarioRef("batch", "default", tuple(SHORT), "0" * 16))
    assert "has changed since" in changed.problem and changed.toml is not None
    default_hash = scenario_hash(load_scenario())
    unrecorded = resolve_scenario(ScenarioRef("run", None, (), default_hash))
    assert unrecorded.problem == "" and "default world matches" in unrecorded.note
    assert unrecorded.sources and all(s.strip() for s in unrecorded.sources)
