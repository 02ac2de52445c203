"""Every example in the README runs as written (batch sizes cut to keep the suite fast)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from paxsim.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def _using_it_commands() -> list[str]:
    section = README[README.index("## Using it") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("paxsim ")]


def test_the_readme_opens_with_the_two_commands() -> None:
    first, second = _blocks("bash")[:2]
    assert first.strip() == "python -m pip install -e . && paxsim run"
    assert second.strip() == "python -m pip install -e '.[test]' && python -m pytest -q"
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert second.strip() in ci  # CI runs exactly the README's test command


def test_the_python_example_runs() -> None:
    (code,) = [b for b in _blocks("python") if "simulate(" in b][:1]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert "results" in namespace


@pytest.mark.parametrize("command", _using_it_commands())
def test_each_command_of_using_it_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    policy = next(b for b in _blocks("toml") if 'name = "faster-studies"' in b)
    (tmp_path / "my_policy.toml").write_text(policy, encoding="utf-8")
    argv = shlex.split(command)[1:]
    if argv[0] in ("batch", "compare"):  # the README's 200 replications, cut to 2
        argv[argv.index("--reps") + 1] = "2"
        argv += ["--workers", "1"]
    if argv[0] == "run" and "--quiet" not in argv:
        argv.append("--quiet")
    assert main(argv) == 0


def _studies_block() -> str:
    section = README[README.index("## Studies: one command per question") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def test_each_study_command_is_a_study_with_an_end_to_end_test() -> None:
    """Each `python -m experiments.<name> ...` line parses with that study's own parser, and
    the study runs end to end in its own test file (full-size runs are too slow for CI)."""
    import importlib

    commands = [
        shlex.split(line.split("#", 1)[0])
        for line in _studies_block().splitlines()
        if line.startswith("python -m experiments.")
    ]
    assert len(commands) == 7
    root = Path(__file__).resolve().parents[1]
    for argv in commands:
        name = argv[2].removeprefix("experiments.")
        module = importlib.import_module(f"experiments.{name}")
        assert (root / "tests" / f"test_study_{name}.py").exists() or name == (
            "us_interconnection_history"
        )
        if hasattr(module, "NAME"):  # the study harness's parser
            from paxsim.study import study_parser

            parser = study_parser(module.NAME, "", 10)
            parsed, _ = parser.parse_known_args(argv[3:])
            assert parsed.out == Path(argv[argv.index("--out") + 1])


def test_the_report_command_runs_on_a_study_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (line,) = [ln for ln in _studies_block().splitlines() if ln.startswith("paxsim report")]
    folder = Path(shlex.split(line.split("#", 1)[0])[2])
    monkeypatch.chdir(tmp_path)
    study = tmp_path / folder
    (study / "figures").mkdir(parents=True)
    (study / "study.json").write_text(
        '{"format": "paxsim.study/1", "study": "s", "question": "q", "reps": 2, "seed": 0, '
        '"paxsim_version": "x", "baseline": "b", "scenarios": [], "wall_seconds": 1.0, '
        '"command": "c"}',
        encoding="utf-8",
    )
    (study / "findings.md").write_text("# s\n\n- a finding\n", encoding="utf-8")
    assert main(shlex.split(line.split("#", 1)[0])[1:]) == 0
    assert (study / "report.html").exists()


def test_the_study_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = [b for b in _blocks("python") if "StudyOptions(" in b]
    cheap = code.replace(
        "reps=10, workers=2",
        "reps=2, workers=1, progress=False, overrides=('time.end=2027-07-01',)",
    )
    assert cheap != code
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(cheap, "README.md", "exec"), namespace)
    effects = namespace["effects"]
    assert set(effects["arm"]) == {"shot_clock"}  # type: ignore[index]


def _gallery() -> str:
    return README[README.index("## Gallery") : README.index("## Output folders and locks")]


def test_every_gallery_image_exists() -> None:
    root = Path(__file__).resolve().parents[1]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", _gallery())
    assert len(images) >= 8
    for image in images:
        assert (root / image).stat().st_size > 10_000, image


@pytest.mark.parametrize(
    "chain", sorted({c for c in re.findall(r"`(paxsim [^`]*&& paxsim report [^`]*)`", _gallery())})
)
def test_each_gallery_command_makes_its_figures(
    chain: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run / batch + report commands (cut to 2 replications and a 2029 horizon)."""
    monkeypatch.chdir(tmp_path)
    first, report = (shlex.split(part)[1:] for part in chain.split("&&"))
    first += ["--set", "time.end=2029-01-01", "--quiet"]
    if first[0] == "batch":
        first[first.index("--reps") + 1] = "2"
        first += ["--workers", "1"]
    assert main(first) == 0
    assert main(report) == 0
    figures = {p.stem for p in (tmp_path / report[1] / "figures").glob("*.png")}
    expected = {"deployment_s_curves"} if first[0] == "batch" else {"gantt", "headroom"}
    assert expected <= figures
