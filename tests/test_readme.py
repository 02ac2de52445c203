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
