"""Mutation testing, our own: which one-line changes to a module do the tests miss?

    python -m benchmarks.mutation MODULE_PATH... [--tests TESTS...] [--sample N --seed S]
                                  [--jobs J] [--timeout SEC] [--sandbox | --git-ref REV]
                                  [--report docs/mutation.md [--section NAME]] [--json out.json]
    python -m benchmarks.mutation MODULE_PATH... --list          # enumerate, run nothing
    python -m benchmarks.mutation MODULE_PATH... --show ID       # one mutant as a diff
    python -m benchmarks.mutation --restore                      # undo an interrupted run

Each module is parsed with :mod:`ast` and every *mutant* is enumerated: a
comparison swapped (``<`` to ``<=`` or ``>=``, ``==`` to ``!=``, ``in`` to
``not in``), an arithmetic operator swapped (``+ -``, ``* /``, ``//`` to
``/``, ``**`` to ``*``, also in ``+=`` and friends), ``and``/``or`` swapped,
a ``not`` dropped, a number ``c`` made ``c + 1`` or ``0``, ``True``/``False``
flipped, ``min``/``max`` swapped, ``return X`` made ``return None`` in a
function with a return annotation, and a statement inside a function (an
expression, an assignment, an augmented assignment) replaced by ``pass``.
Docstrings, annotations, f-strings, ``assert`` statements, ``if
TYPE_CHECKING:`` blocks and lines marked ``# pragma: no mutate`` are left
alone. ``--sample N --seed S`` draws N mutants per module reproducibly.

One mutant at a time is written over the module and the mapped tests run
(``python -m pytest -x -q -p no:cacheprovider TESTS``, a timeout per mutant;
a failure, an error or a timeout kills the mutant). Before any mutant the
tests run once on the untouched code and must pass, or nothing is measured.

Where the mutants are written:

* in place (the default): the file in the working tree. The original bytes
  are kept in memory and in a backup under the temp directory, a journal
  records the run, a ``finally`` (also reached on Ctrl-C and SIGTERM) writes
  the original back and checks its SHA-256, and the original mtime is
  restored so no stale bytecode can be taken for it. If the run is killed
  outright, ``--restore`` (or the next run) puts the original back. If
  someone else edits the file during the run, the tool stops and leaves
  their version alone.
* ``--sandbox``: a private copy of the tree in a temp directory; the working
  tree is never written. Use it when others are editing the same tree.
* ``--git-ref REV``: a sandbox filled from ``git archive REV`` (a committed
  snapshot, independent of uncommitted edits).

``--jobs J`` (J > 1) needs a sandbox and runs J mutants at once, each in its
own copy. Without ``--tests``, a module is mapped to the test files that
import it by its dotted name (``paxsim.sim.stocks`` for ``sim/stocks.py``).

The result per module is killed / total with a 95 % Wilson interval, and the
surviving mutants (file:line, the mutation) so they can become tests.
``--report PATH`` writes Markdown; if PATH already holds the markers
``<!-- mutation-report:begin -->`` / ``<!-- mutation-report:end -->`` only the
text between them is replaced, so hand-written notes around it survive a
re-run (a file without them gets the block appended). ``--section NAME``
uses markers of that name (``<!-- mutation-report:begin NAME -->``), so one
file can hold a block per set of modules (``sim``, ``gates``, ...), each
regenerated on its own. Standard library only, so it runs (and can be
tested) anywhere.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import datetime as dt
import difflib
import hashlib
import io
import json
import math
import os
import queue
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

__all__ = [
    "FileGuard",
    "Mutant",
    "Outcome",
    "enumerate_mutants",
    "main",
    "mutate_source",
    "sample_mutants",
    "wilson_interval",
]

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- mutation-report:begin -->"  # the unnamed section's markers (see markers())
END = "<!-- mutation-report:end -->"
PRAGMA = "pragma: no mutate"
KILLED = ("killed", "timeout", "error")

# ----------------------------------------------------------------------------- mutation operators
_CMP_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BIN_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
}
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Pow: "**",
    ast.And: "and",
    ast.Or: "or",
}


@dataclass(frozen=True)
class Mutant:
    """One change to one module: replace bytes ``start:end`` of the source by ``replacement``."""

    module: str  # path relative to the root, with forward slashes
    line: int
    index: int  # order among the mutants on this line (part of the id)
    kind: str
    description: str
    start: int  # byte offsets into the UTF-8 source
    end: int
    replacement: str
    code: str = ""  # the original line, stripped (for reports)

    @property
    def id(self) -> str:
        return f"{self.module}:{self.line}:{self.index}"


def _line_offsets(source: bytes) -> list[int]:
    """Byte offset of the start of each line, 1-based (index 0 unused)."""
    offsets = [0, 0]
    for i, byte in enumerate(source):
        if byte == 0x0A:
            offsets.append(i + 1)
    return offsets


class _Collector(ast.NodeVisitor):
    def __init__(self, source: bytes, module: str) -> None:
        self.source = source
        self.module = module
        self.offsets = _line_offsets(source)
        self.lines = source.decode("utf-8").splitlines()
        self.found: list[tuple[int, int, str, str, int, int, str]] = []
        self._returns: list[bool] = []  # per enclosing function: has a non-None return annotation
        self._depth = 0  # enclosing functions

    # -- helpers
    def _span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offsets[node.lineno] + node.col_offset  # type: ignore[attr-defined]
        end = self.offsets[node.end_lineno] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def _skipped(self, node: ast.AST) -> bool:
        line = self.lines[node.lineno - 1] if node.lineno - 1 < len(self.lines) else ""  # type: ignore[attr-defined]
        return PRAGMA in line

    def _add(self, node: ast.AST, kind: str, description: str, replacement: str) -> None:
        if self._skipped(node):
            return
        start, end = self._span(node)
        self.found.append(
            (node.lineno, node.col_offset, kind, description, start, end, replacement)  # type: ignore[attr-defined]
        )

    def _expr(self, node: ast.expr, kind: str, description: str, mutated: ast.expr) -> None:
        self._add(node, kind, description, f"({ast.unparse(mutated)})")

    # -- regions left alone
    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        returns = node.returns
        typed = returns is not None and not (
            isinstance(returns, ast.Constant) and returns.value is None
        )
        self._returns.append(typed)
        self._depth += 1
        body = node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self.visit(stmt)
        self._depth -= 1
        self._returns.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        body = node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self.visit(stmt)

    def visit_Module(self, node: ast.Module) -> None:
        body = node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and _assigns_all(stmt):
                continue
            self.visit(stmt)

    # -- statements
    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        # The annotation is not behaviour; the value is.
        if node.value is not None:
            self._delete(node)
            self.visit(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._delete(node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._delete(node)
        swap = _BIN_SWAPS.get(type(node.op))
        if swap is not None and not self._skipped(node):
            mutated = copy.deepcopy(node)
            mutated.op = swap()
            desc = f"{_SYMBOLS[type(node.op)]}= -> {_SYMBOLS[swap]}="
            self._add(node, "augassign", desc, ast.unparse(mutated))
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is Ellipsis):
            self._delete(node)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if (
            self._returns
            and self._returns[-1]
            and value is not None
            and not (isinstance(value, ast.Constant) and value.value is None)
        ):
            self._add(node, "return", "return ... -> return None", "return None")
        self.generic_visit(node)

    def _delete(self, node: ast.stmt) -> None:
        if self._depth > 0:
            first = ast.unparse(node).splitlines()[0]
            short = first if len(first) <= 60 else first[:57] + "..."
            self._add(node, "delete", f"delete `{short}`", "pass")

    # -- expressions
    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            for swap in _CMP_SWAPS.get(type(op), ()):
                mutated = copy.deepcopy(node)
                mutated.ops[i] = swap()
                desc = f"{_SYMBOLS[type(op)]} -> {_SYMBOLS[swap]}"
                self._expr(node, "compare", desc, mutated)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = _BIN_SWAPS.get(type(node.op))
        if swap is not None:
            mutated = copy.deepcopy(node)
            mutated.op = swap()
            desc = f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[swap]}"
            self._expr(node, "arith", desc, mutated)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        mutated = copy.deepcopy(node)
        mutated.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        desc = f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[type(mutated.op)]}"
        self._expr(node, "boolean", desc, mutated)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._expr(node, "not", "drop `not`", node.operand)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            flipped = ast.Constant(not value)
            self._expr(node, "bool", f"{value} -> {not value}", flipped)
        elif isinstance(value, int | float) and math.isfinite(value):
            plus = value + 1
            self._expr(node, "number", f"{value!r} -> {plus!r}", ast.Constant(plus))
            if value != 0:
                zero = 0.0 if isinstance(value, float) else 0
                self._expr(node, "number", f"{value!r} -> {zero!r}", ast.Constant(zero))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("min", "max"):
            other = "max" if func.id == "min" else "min"
            self._add(func, "minmax", f"{func.id} -> {other}", other)
        self.generic_visit(node)

    # -- annotations elsewhere
    def visit_arg(self, node: ast.arg) -> None:
        return

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _assigns_all(stmt: ast.Assign | ast.AnnAssign) -> bool:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def enumerate_mutants(source: bytes | str, module: str = "<module>") -> list[Mutant]:
    """Every mutant of ``source``, in source order (those that would not compile are dropped)."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    collector = _Collector(data, module)
    collector.visit(ast.parse(data))
    found = sorted(collector.found, key=lambda f: (f[0], f[1], f[4], -f[5], f[2], f[3]))
    mutants: list[Mutant] = []
    per_line: dict[int, int] = {}
    lines = data.decode("utf-8").splitlines()
    for line, _col, kind, desc, start, end, replacement in found:
        code = lines[line - 1].strip() if line <= len(lines) else ""
        candidate = Mutant(module, line, 0, kind, desc, start, end, replacement, code)
        try:
            compile(mutate_source(data, candidate), module, "exec")
        except SyntaxError:
            continue
        index = per_line.get(line, 0)
        per_line[line] = index + 1
        mutants.append(Mutant(module, line, index, kind, desc, start, end, replacement, code))
    return mutants


def mutate_source(source: bytes, mutant: Mutant) -> bytes:
    return source[: mutant.start] + mutant.replacement.encode("utf-8") + source[mutant.end :]


def sample_mutants(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """``n`` mutants drawn without replacement (all if ``n`` is None or large), in line order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    picked = random.Random(seed).sample(range(len(mutants)), n)
    return [mutants[i] for i in sorted(picked)]


def wilson_interval(killed: int, total: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion (sane at 0 and 1)."""
    if total <= 0:
        return (math.nan, math.nan)
    p = killed / total
    denom = 1.0 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# ----------------------------------------------------------------------------- safe file writes
class ConcurrentEditError(RuntimeError):
    """The file changed under us: someone else is editing it."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _state_dir() -> Path:
    """Backups and journals: $PAXSIM_MUTATION_STATE, else <tempdir>/paxsim-mutation."""
    default = Path(tempfile.gettempdir()) / "paxsim-mutation"
    path = Path(os.environ.get("PAXSIM_MUTATION_STATE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _journal_path(path: Path) -> Path:
    return _state_dir() / f"journal-{_sha(str(path.resolve()).encode())[:16]}.json"


class FileGuard:
    """Writes mutants over one file and always gives the original back.

    The original bytes stay in memory and in a backup file; a journal (in the
    temp directory) names the file, the backup and the hashes, so a run killed
    outright can be undone by :func:`restore_interrupted`. Each mutant gets its
    own mtime (original + k seconds) and the original's mtime is restored with
    its bytes, so a ``.pyc`` compiled from a mutant never validates for the
    original or for another mutant.
    """

    def __init__(self, path: Path, journal: bool = True) -> None:
        self.path = path
        self.original = path.read_bytes()
        self.digest = _sha(self.original)
        st = path.stat()
        self._times = (st.st_atime_ns, st.st_mtime_ns)
        self._current = self.digest
        self._writes = 0
        self._journal: Path | None = None
        self.backup: Path | None = None
        if journal:
            self._journal = _journal_path(path)
            if self._journal.exists():
                restore_interrupted(self._journal)
                self.original = path.read_bytes()
                self.digest = self._current = _sha(self.original)
            self.backup = _state_dir() / f"{self.digest[:16]}-{path.name}.orig"
            self.backup.write_bytes(self.original)
            self._write_journal()

    def _write_journal(self) -> None:
        if self._journal is None:
            return
        entry = {
            "path": str(self.path.resolve()),
            "backup": str(self.backup),
            "original_sha256": self.digest,
            "mutant_sha256": self._current,
            "mtime_ns": self._times[1],
            "pid": os.getpid(),
        }
        tmp = self._journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, self._journal)

    def _check_untouched(self) -> None:
        now = _sha(self.path.read_bytes())
        if now not in (self._current, self.digest):
            raise ConcurrentEditError(
                f"{self.path} changed during the mutation run (someone else is editing it); "
                f"left as is. The original this run started from is in {self.backup}"
            )

    def _replace(self, data: bytes, mtime_ns: int) -> None:
        tmp = self.path.with_name(f".{self.path.name}.mutation-tmp")
        tmp.write_bytes(data)
        os.utime(tmp, ns=(self._times[0], mtime_ns))
        os.replace(tmp, self.path)

    def write(self, data: bytes) -> None:
        self._check_untouched()
        self._writes += 1
        self._current = _sha(data)
        self._write_journal()  # journal first: a crash after it can still be undone
        self._replace(data, self._times[1] + self._writes * 1_000_000_000)

    def restore(self) -> None:
        if self._current == self.digest and _sha(self.path.read_bytes()) == self.digest:
            return
        self._check_untouched()
        self._replace(self.original, self._times[1])
        self._current = self.digest
        if _sha(self.path.read_bytes()) != self.digest:  # pragma: no cover - disk trouble
            raise RuntimeError(f"{self.path} not restored; the original is in {self.backup}")
        self._write_journal()

    def close(self) -> None:
        """Restore, then drop the backup and journal (only once the original is back)."""
        self.restore()
        self.path.with_name(f".{self.path.name}.mutation-tmp").unlink(missing_ok=True)
        if self._journal is not None:
            self._journal.unlink(missing_ok=True)
        if self.backup is not None:
            self.backup.unlink(missing_ok=True)

    @contextlib.contextmanager
    def mutated(self, data: bytes) -> Iterator[None]:
        try:
            self.write(data)
            yield
        finally:
            self.restore()


def restore_interrupted(journal: Path | None = None) -> list[str]:
    """Undo runs that were killed before their ``finally``; returns what was done."""
    journals = [journal] if journal is not None else sorted(_state_dir().glob("journal-*.json"))
    done = []
    for jpath in journals:
        if not jpath.exists():
            continue
        entry = json.loads(jpath.read_text(encoding="utf-8"))
        path, backup = Path(entry["path"]), Path(entry["backup"])
        if entry.get("pid") != os.getpid() and _alive(int(entry.get("pid", 0))):
            if journal is not None:
                raise ConcurrentEditError(
                    f"{path} is being mutated by another run (pid {entry['pid']}); wait for it"
                )
            done.append(f"{path}: in use by a live run (pid {entry['pid']}); left alone")
            continue
        current = _sha(path.read_bytes()) if path.exists() else ""
        if current == entry["original_sha256"]:
            done.append(f"{path}: already the original")
        elif current == entry["mutant_sha256"] and backup.exists():
            original = backup.read_bytes()
            if _sha(original) != entry["original_sha256"]:
                done.append(f"{path}: backup {backup} does not match its hash; left alone")
                continue
            path.write_bytes(original)
            os.utime(path, ns=(entry["mtime_ns"], entry["mtime_ns"]))
            done.append(f"{path}: mutant replaced by the original from {backup}")
        else:
            done.append(
                f"{path}: neither the original nor the last mutant (edited since?); left alone, "
                f"backup kept in {backup}"
            )
            continue
        jpath.unlink()
        backup.unlink(missing_ok=True)
    return done


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------- running tests
@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | error
    seconds: float
    detail: str = ""

    @property
    def killed(self) -> bool:
        return self.status in KILLED


_CHILDREN: set[int] = set()
_CHILDREN_LOCK = threading.Lock()


def run_tests(
    root: Path, tests: Sequence[str], timeout: float, extra_path: Path | None = None
) -> tuple[str, float, str]:
    """Run pytest on ``tests`` from ``root``: (passed|failed|error|timeout, seconds, tail)."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_path), env.get("PYTHONPATH", "")) if p
        )
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout ends all of it
    )
    with _CHILDREN_LOCK:
        _CHILDREN.add(proc.pid)
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = {0: "passed", 1: "failed"}.get(proc.returncode, "error")
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, _ = proc.communicate()
        status = "timeout"
    finally:
        if proc.poll() is None:
            _kill_group(proc.pid)
            proc.wait()
        with _CHILDREN_LOCK:
            _CHILDREN.discard(proc.pid)
    tail = "\n".join(out.decode("utf-8", "replace").strip().splitlines()[-15:])
    return status, time.perf_counter() - started, tail


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# ----------------------------------------------------------------------------- where to mutate
_IGNORE = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.pyc",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
    "*.egg-info",
    ".venv",
    "paxsim_results",
    ".ipynb_checkpoints",
)


def make_sandbox(root: Path, git_ref: str | None) -> Path:
    """A private copy of the tree (or of ``git archive git_ref``) in a temp directory."""
    if git_ref is not None:
        got = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", git_ref], capture_output=True
        )
        if got.returncode != 0:
            message = got.stderr.decode("utf-8", "replace").strip()
            raise SystemExit(f"git archive {git_ref} in {root} failed: {message}")
    where = Path(tempfile.mkdtemp(prefix="paxsim-mutation-"))
    tree = where / "tree"
    if git_ref is None:
        shutil.copytree(root, tree, symlinks=True, ignore=_IGNORE)
    else:
        tree.mkdir()
        with tarfile.open(fileobj=io.BytesIO(got.stdout)) as tar:
            tar.extractall(tree, filter="tar")
    return tree


def dotted_name(module: str) -> str:
    """``sim/stocks.py`` -> ``paxsim.sim.stocks`` (the namespace the tests import)."""
    parts = list(Path(module).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts and parts[0] in ("sim", "models"):
        parts = ["paxsim", *parts]
    return ".".join(parts)


def mapped_tests(root: Path, module: str) -> list[str]:
    """Test files that import ``module`` by its dotted name (or its last part from its package)."""
    name = dotted_name(module)
    package, _, last = name.rpartition(".")
    needles = (name, f"from {package} import {last}")
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(n in text for n in needles):
            found.append(path.relative_to(root).as_posix())
    return found


# ----------------------------------------------------------------------------- the run
@dataclass
class ModuleResult:
    module: str
    tests: list[str]
    enumerated: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def killed(self) -> int:
        return sum(o.killed for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.killed]


def _map(fn: Callable[[Mutant], Outcome], items: list[Mutant], jobs: int) -> Iterator[Outcome]:
    """``map`` in this thread for one job (Ctrl-C lands where the work is), else a pool.

    On an interrupt the pool's queued mutants are cancelled and the running
    pytest process groups killed, so each worker restores its file at once.
    """
    if jobs <= 1:
        yield from map(fn, items)
        return
    ex = ThreadPoolExecutor(max_workers=jobs)
    try:
        yield from ex.map(fn, items)
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        with _CHILDREN_LOCK:
            children = list(_CHILDREN)
        for pid in children:
            _kill_group(pid)
        ex.shutdown(wait=True)
        raise
    ex.shutdown(wait=True)


class _Trial:
    """Runs one module's mutants; each job takes a free tree from ``pool``."""

    def __init__(
        self,
        pool: queue.Queue[Path],
        tests: list[str],
        timeout: float,
        digest: str,
        sandboxed: bool,
    ) -> None:
        self.pool = pool
        self.tests = tests
        self.timeout = timeout
        self.digest = digest
        self.sandboxed = sandboxed
        self.guards: dict[Path, FileGuard] = {}
        self._lock = threading.Lock()

    def _guard(self, where: Path, module: str) -> FileGuard:
        with self._lock:
            guard = self.guards.get(where)
            if guard is None:
                guard = self.guards[where] = FileGuard(where / module, journal=not self.sandboxed)
        if guard.digest != self.digest:
            raise ConcurrentEditError(f"{guard.path} changed since it was parsed")
        return guard

    def one(self, mutant: Mutant) -> Outcome:
        where = self.pool.get()
        try:
            guard = self._guard(where, mutant.module)
            extra = where if self.sandboxed else None
            with guard.mutated(mutate_source(guard.original, mutant)):
                status, secs, tail = run_tests(where, self.tests, self.timeout, extra)
            verdict = {"passed": "survived", "failed": "killed"}.get(status, status)
            return Outcome(mutant, verdict, secs, tail if verdict == "error" else "")
        finally:
            self.pool.put(where)

    def close(self) -> None:
        for guard in self.guards.values():
            guard.close()


class _Interrupted(BaseException):
    pass


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def _relative(root: Path, path: str) -> str:
    p = Path(path)
    full = p if p.is_absolute() else (Path.cwd() / p)
    try:
        return full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def run(args: argparse.Namespace) -> tuple[list[ModuleResult], dict[str, object]]:
    root = Path(args.root).resolve()
    modules = [_relative(root, m) for m in args.modules]
    for m in modules:
        if not (root / m).is_file():
            raise SystemExit(f"no such module under {root}: {m}")
    tests_given = [_relative(root, t) for t in args.tests] if args.tests else None

    if args.git_ref is not None:  # pin the ref once: commits made during the run do not count
        got = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", f"{args.git_ref}^{{commit}}"],
            capture_output=True,
            text=True,
        )
        if got.returncode != 0:
            raise SystemExit(f"not a commit in {root}: {args.git_ref}")
        args.git_ref = got.stdout.strip()
    sandboxed = args.sandbox or args.git_ref is not None
    if args.jobs > 1 and not sandboxed:
        raise SystemExit("--jobs > 1 needs --sandbox or --git-ref (one private copy per job)")
    if not sandboxed:
        for note in restore_interrupted():
            print(f"# left by an earlier run: {note}")

    roots: list[Path] = []
    results: list[ModuleResult] = []
    info: dict[str, object] = {}
    try:
        if sandboxed:
            for _ in range(max(1, args.jobs)):
                roots.append(make_sandbox(root, args.git_ref))
            more = f" and {len(roots) - 1} more" if len(roots) > 1 else ""
            print(f"# sandbox: {roots[0].parent}{more}")
        else:
            roots.append(root)
        work = roots[0]
        plan: list[tuple[str, list[str], list[Mutant], int, str]] = []
        for m in modules:
            tests = tests_given or mapped_tests(work, m)
            if not tests:
                raise SystemExit(f"{m}: no test file imports {dotted_name(m)}; pass --tests")
            for t in tests:
                if not (work / t).exists():
                    raise SystemExit(f"no such test path under {work}: {t}")
            source = (work / m).read_bytes()
            every = enumerate_mutants(source, m)
            chosen = sample_mutants(every, args.sample, args.seed)
            if args.only:
                chosen = [mu for mu in every if mu.id in args.only]
            plan.append((m, tests, chosen, len(every), _sha(source)))

        extra = work if sandboxed else None
        baseline: dict[tuple[str, ...], float] = {}
        for _m, tests, _c, _n, _d in plan:
            key = tuple(tests)
            if key in baseline:
                continue
            status, secs, tail = run_tests(work, tests, args.baseline_timeout, extra)
            if status != "passed":
                raise SystemExit(
                    f"the tests fail on the unmutated code ({status}); nothing to measure:\n"
                    f"{' '.join(tests)}\n{tail}"
                )
            baseline[key] = secs
            print(f"# baseline: {' '.join(tests)} passed in {secs:.1f} s")
        info["baseline_seconds"] = {" ".join(k): round(v, 1) for k, v in baseline.items()}

        pool: queue.Queue[Path] = queue.Queue()
        for r in roots:
            pool.put(r)

        for m, tests, chosen, n_all, digest in plan:
            timeout = args.timeout or max(120.0, 5.0 * baseline[tuple(tests)])
            res = ModuleResult(m, tests, n_all)
            results.append(res)
            print(
                f"# {m}: {len(chosen)} of {n_all} mutants, tests {' '.join(tests)}, "
                f"timeout {timeout:.0f} s"
            )
            trial = _Trial(pool, tests, timeout, digest, sandboxed)
            try:
                for i, outcome in enumerate(_map(trial.one, chosen, args.jobs), 1):
                    res.outcomes.append(outcome)
                    mu = outcome.mutant
                    if args.verbose or not outcome.killed:
                        print(
                            f"  [{i}/{len(chosen)}] {outcome.status:8s} {mu.id} "
                            f"{mu.description} ({outcome.seconds:.1f} s)",
                            flush=True,
                        )
            finally:
                trial.close()
    finally:
        if sandboxed and not args.keep_sandbox:
            for r in roots:
                shutil.rmtree(r.parent, ignore_errors=True)
    return results, info


# ----------------------------------------------------------------------------- reporting
def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.0f} %"


def summary_rows(results: list[ModuleResult]) -> list[tuple[str, int, int, int, int, str, str]]:
    rows = []
    for res in results:
        lo, hi = wilson_interval(res.killed, res.total)
        score = res.killed / res.total if res.total else math.nan
        rows.append(
            (
                res.module,
                res.killed,
                res.total,
                res.enumerated,
                res.count("timeout"),
                _pct(score),
                f"{_pct(lo)} - {_pct(hi)}",
            )
        )
    killed = sum(r.killed for r in results)
    total = sum(r.total for r in results)
    lo, hi = wilson_interval(killed, total)
    rows.append(
        (
            "all",
            killed,
            total,
            sum(r.enumerated for r in results),
            sum(r.count("timeout") for r in results),
            _pct(killed / total if total else math.nan),
            f"{_pct(lo)} - {_pct(hi)}",
        )
    )
    return rows


HEADER = ("module", "killed", "run", "of", "timeouts", "score", "95 % CI (Wilson)")


def print_table(results: list[ModuleResult]) -> None:
    rows = [HEADER, *[tuple(str(c) for c in r) for r in summary_rows(results)]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(HEADER))]
    for k, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    survivors = [o for r in results for o in r.survivors]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
        for o in survivors:
            mu = o.mutant
            print(f"  {mu.module}:{mu.line}  {mu.description}  [{mu.id}]")
            print(f"      {mu.code}")


def markdown(results: list[ModuleResult], command: str, info: dict[str, object]) -> str:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"Generated {now} by",
        "",
        "```",
        command,
        "```",
        "",
    ]
    if info.get("commit"):
        lines += [f"Code measured: `{info['commit']}`.", ""]
    lines += [
        "Killed / run: mutants the mapped tests detect (a failure, an error or a timeout) out "
        "of those sampled; *of*: every mutant the module has.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    for row in summary_rows(results):
        cells = [f"`{row[0]}`" if row[0] != "all" else "**all**", *map(str, row[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Tests per module:", ""]
    for res in results:
        lines.append(f"- `{res.module}`: {', '.join(f'`{t}`' for t in res.tests)}")
    survivors = [o for r in results for o in r.survivors]
    lines += ["", f"Survivors ({len(survivors)}):", ""]
    if not survivors:
        lines.append("none")
    for o in survivors:
        mu = o.mutant
        code = mu.code.replace("`", "'")
        lines.append(f"- `{mu.module}:{mu.line}` {mu.description}: `{code}` (id `{mu.id}`)")
    return "\n".join(lines) + "\n"


def markers(section: str = "") -> tuple[str, str]:
    """The comment lines that delimit a report block (one block per section name)."""
    if section and not section.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"section names are letters, digits, - and _: {section!r}")
    tag = f" {section}" if section else ""
    return f"<!-- mutation-report:begin{tag} -->", f"<!-- mutation-report:end{tag} -->"


def write_report(path: Path, body: str, section: str = "") -> None:
    """Put ``body`` between the section's markers in ``path``, keeping everything else.

    No file: one is created. A file without this section: the block is appended.
    """
    begin, end = markers(section)
    block = f"{begin}\n{body}{end}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Mutation testing\n\n{block}\n", encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    if begin in text and end in text.split(begin, 1)[1]:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        path.write_text(head + block + tail, encoding="utf-8")
    else:
        sep = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        path.write_text(f"{text}{sep}{block}\n", encoding="utf-8")


def _commit(root: Path, git_ref: str | None) -> str:
    try:
        ref = git_ref or "HEAD"
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", ref],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if git_ref is not None:
            return sha
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return sha + (" plus uncommitted edits in the working tree" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return ""


# ----------------------------------------------------------------------------- CLI
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.mutation",
        description="Mutation testing: apply one mutant at a time, run the mapped tests.",
    )
    p.add_argument("modules", nargs="*", metavar="MODULE_PATH", help="e.g. sim/stocks.py")
    p.add_argument("--tests", nargs="+", help="test files/dirs for every module (else mapped)")
    p.add_argument("--sample", type=int, help="mutants drawn per module (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="mutants at once (needs a sandbox)")
    p.add_argument("--timeout", type=float, help="seconds per mutant (default max(120, 5 x base))")
    p.add_argument("--baseline-timeout", type=float, default=1800.0, help=argparse.SUPPRESS)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--sandbox", action="store_true", help="mutate a private copy of the tree")
    where.add_argument("--git-ref", help="mutate a copy of this commit (git archive)")
    p.add_argument("--keep-sandbox", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--root", default=str(REPO), help="project root (default: this repository)")
    p.add_argument("--only", nargs="+", metavar="ID", help="run just these mutant ids")
    p.add_argument("--list", action="store_true", help="list the (sampled) mutants and stop")
    p.add_argument("--show", metavar="ID", help="print one mutant as a diff and stop")
    p.add_argument("--restore", action="store_true", help="undo an interrupted in-place run")
    p.add_argument("--report", help="write a Markdown report here")
    p.add_argument(
        "--section",
        default="",
        help="name of the report block to replace (one file can hold several, e.g. sim, gates)",
    )
    p.add_argument("--json", help="write every outcome as JSON here")
    p.add_argument("-v", "--verbose", action="store_true", help="print every mutant's outcome")
    args = p.parse_args(argv)
    if not args.modules and not args.restore:
        p.error("give at least one MODULE_PATH (or --restore)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(args.root).resolve()
    if args.restore:
        notes = restore_interrupted()
        print("\n".join(notes) if notes else "nothing to restore")
        return 0
    if args.list or args.show:
        for m in args.modules:
            rel = _relative(root, m)
            source = (root / rel).read_bytes()
            every = enumerate_mutants(source, rel)
            if args.show:
                for mu in every:
                    if mu.id == args.show:
                        diff = difflib.unified_diff(
                            source.decode().splitlines(keepends=True),
                            mutate_source(source, mu).decode().splitlines(keepends=True),
                            f"a/{rel}",
                            f"b/{rel}",
                        )
                        print(f"# {mu.id}: {mu.description}")
                        sys.stdout.writelines(diff)
                continue
            chosen = sample_mutants(every, args.sample, args.seed)
            print(f"# {rel}: {len(chosen)} of {len(every)} mutants")
            for mu in chosen:
                print(f"{mu.id:32s} {mu.kind:9s} {mu.description}")
        return 0

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    started = time.perf_counter()
    try:
        results, info = run(args)
    except (KeyboardInterrupt, _Interrupted) as exc:
        name = exc.__class__.__name__
        print(f"\ninterrupted ({name} {exc}); originals restored", file=sys.stderr)
        return 130
    except ConcurrentEditError as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return 3
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    info["commit"] = _commit(root, args.git_ref)
    info["wall_seconds"] = round(time.perf_counter() - started, 1)
    print()
    print_table(results)
    print(f"\n# {info['wall_seconds']} s wall")
    argv_text = list(sys.argv[1:] if argv is None else argv)
    command = "python -m benchmarks.mutation " + shlex.join(argv_text)
    if args.report:
        report = Path(args.report)
        report = report if report.is_absolute() else Path.cwd() / report
        write_report(report, markdown(results, command, info), args.section)
        print(f"# report: {report}")
    if args.json:
        payload = {
            "command": command,
            "info": info,
            "modules": [
                {
                    "module": r.module,
                    "tests": r.tests,
                    "enumerated": r.enumerated,
                    "killed": r.killed,
                    "total": r.total,
                    "wilson95": wilson_interval(r.killed, r.total),
                    "outcomes": [
                        {**asdict(o.mutant), "id": o.mutant.id, "status": o.status}
                        for o in r.outcomes
                    ],
                }
                for r in results
            ],
        }
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
