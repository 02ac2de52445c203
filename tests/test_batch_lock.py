"""One writer per batch folder: the lock, stale-lock takeover, signals, concurrent --resume."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from paxsim.batch import load_batch
from paxsim.sim.replications import Backend, BatchLock, BatchLockedError, run_replications
from paxsim.sim.replications.lock import LOCK_NAME, LockOwner, _proc_start, read_lock

TINY = str(Path(__file__).parent / "scenarios" / "tiny.toml")
REPS = 20

#: ``paxsim`` with every replication slowed down (serial backend: --workers 1), so a
#: second process reliably meets the first one mid-batch.
SLOW_PAXSIM = """
import sys, time
import paxsim.batch as batch
real = batch.simulate
def slow(*args, **kwargs):
    time.sleep({delay})
    return real(*args, **kwargs)
batch.simulate = slow
from paxsim.cli import main
sys.exit(main(sys.argv[1:]))
"""

#: Take a folder's lock once ``go`` exists, report, hold it a while.
CONTENDER = """
import sys, time
from pathlib import Path
from paxsim.sim.replications import BatchLock, BatchLockedError
folder, go, hold = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
try:
    lock = BatchLock(folder, notify=lambda text: None).acquire()
except BatchLockedError:
    print("lost", flush=True)
else:
    print("won", flush=True)
    time.sleep(hold)
    lock.release()
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def paxsim(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paxsim.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def slow_batch(out: Path, *extra: str, delay: float = 0.3) -> subprocess.Popen[str]:
    argv = ["batch", TINY, "--reps", str(REPS), "--workers", "1", "--chunk-size", "2"]
    argv += ["--out", str(out), "--quiet"]
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_PAXSIM.format(delay=delay), *argv, "--no-progress", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )


def _wait_for(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _replications(out: Path) -> list[int]:
    """Every replication the manifest lists, with repeats (an empty list if none yet)."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return sorted(i for part in manifest["parts"] for i in part["replications"])


def _exactly_once(out: Path, n: int = REPS) -> None:
    assert _replications(out) == list(range(n))
    projects = load_batch(out).projects
    counts = projects.groupby("replication").size()
    assert list(counts.index) == list(range(n))
    assert counts.nunique() == 1  # every replication has the same phases, once


def _clean(proc: subprocess.CompletedProcess[str] | tuple[int, str, str]) -> None:
    text = proc.stderr if isinstance(proc, subprocess.CompletedProcess) else proc[2]
    assert "Traceback" not in text and "internal error" not in text


def _fake_owner(folder: Path, **fields: object) -> LockOwner:
    owner = LockOwner.me()
    data = {**owner.__dict__, **fields}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps(data))
    found = read_lock(folder)
    assert found is not None
    return found


# ------------------------------------------------------------------------------ the lock itself
def test_lock_file_names_its_owner_and_goes_away(tmp_path: Path) -> None:
    with BatchLock(tmp_path / "b") as lock:
        owner = read_lock(tmp_path / "b")
        assert owner == lock.owner
        assert owner is not None and owner.pid == os.getpid()
        assert owner.host == socket.gethostname() and owner.started and owner.token
        assert owner.alive() is True
    assert not (tmp_path / "b" / LOCK_NAME).exists()


def test_lock_is_reentrant_and_released_on_error(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    with pytest.raises(RuntimeError), BatchLock(folder):
        with BatchLock(folder):
            pass
        assert (folder / LOCK_NAME).exists()  # the outer hold is still on
        raise RuntimeError("boom")
    assert not (folder / LOCK_NAME).exists()


def test_live_owner_is_refused_then_dead_owner_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _fake_owner(folder, pid=sleeper.pid, proc_start=_proc_start(sleeper.pid))
        with pytest.raises(BatchLockedError) as info:
            BatchLock(folder).acquire()
        assert f"process {sleeper.pid} on host {socket.gethostname()}" in str(info.value)
        assert "still writing" in str(info.value)
    finally:
        sleeper.kill()
        sleeper.wait()
    notes: list[str] = []
    with BatchLock(folder, notify=notes.append) as lock:
        assert lock.took_over is not None and lock.took_over.pid == sleeper.pid
        assert read_lock(folder) == lock.owner
    assert len(notes) == 1 and "no longer running; taking over" in notes[0]
    assert str(sleeper.pid) in notes[0]


def test_reused_pid_is_not_mistaken_for_the_owner(tmp_path: Path) -> None:
    """Our own (live) pid, but another process start time: the owner is gone."""
    folder = tmp_path / "b"
    if _proc_start(os.getpid()) is None:
        pytest.skip("no /proc start times here")
    _fake_owner(folder, proc_start="1")
    notes: list[str] = []
    with BatchLock(folder, notify=notes.append) as lock:
        assert lock.took_over is not None
    assert notes


def test_owner_on_another_host_is_refused_and_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    owner = _fake_owner(folder, host="elsewhere.example", pid=1)
    with pytest.raises(BatchLockedError) as info:
        BatchLock(folder).acquire()
    assert "another host" in str(info.value) and "delete" in str(info.value)
    assert str(folder / LOCK_NAME) in str(info.value)
    assert read_lock(folder) == owner


def test_unreadable_lock_is_refused_while_fresh_and_taken_over_when_old(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / LOCK_NAME).write_text("")  # a writer between O_EXCL create and write
    with pytest.raises(BatchLockedError, match="just created"):
        BatchLock(folder).acquire()
    old = time.time() - 3600
    os.utime(folder / LOCK_NAME, (old, old))
    notes: list[str] = []
    with BatchLock(folder, notify=notes.append) as lock:
        assert lock.owner is not None and read_lock(folder) == lock.owner
    assert notes and "abandoned" in notes[0]


def test_wait_waits_for_the_owner_to_finish(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    holder = subprocess.Popen(
        [sys.executable, "-c", CONTENDER, str(folder), str(tmp_path), "1.5"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert holder.stdout is not None
        assert [holder.stdout.readline().strip() for _ in range(2)] == ["ready", "won"]
        notes: list[str] = []
        started = time.monotonic()
        with BatchLock(folder, wait=60, poll=0.05, notify=notes.append):
            waited = time.monotonic() - started
    finally:
        holder.wait(timeout=60)
    assert waited > 0.5
    assert len(notes) == 1 and notes[0].startswith(f"waiting for process {holder.pid}")


def test_many_processes_breaking_one_stale_lock_admit_one_owner(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake_owner(folder, pid=dead.pid, proc_start=None)
    go = tmp_path / "go"
    contenders = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, str(folder), str(go), "3"],
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for _ in range(3)
    ]
    for proc in contenders:  # all started and spinning on `go`
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = [proc.communicate(timeout=120)[0].strip() for proc in contenders]
    assert sorted(outcomes) == ["lost"] * 2 + ["won"], outcomes
    assert not (folder / LOCK_NAME).exists()


def test_run_replications_refuses_a_locked_folder_and_leaves_it_alone(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = _fake_owner(folder, pid=sleeper.pid, proc_start=_proc_start(sleeper.pid))
        with pytest.raises(BatchLockedError):
            run_replications(
                lambda i, s: {}, 3, 0, folder, backend=Backend("serial"), progress=False
            )
        assert read_lock(folder) == owner
        assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
    finally:
        sleeper.kill()
        sleeper.wait()


# ------------------------------------------------------------------------------ the CLI
def test_concurrent_resume_is_refused_and_nothing_is_lost_or_duplicated(tmp_path: Path) -> None:
    """The issue's scenario: `batch --resume` on a folder a batch is still writing to."""
    out = tmp_path / "b"
    # Slow enough (20 x 0.6 s) that both later processes, started at once, meet it mid-batch
    # even on a loaded machine where starting Python takes seconds.
    first = slow_batch(out, delay=0.6)
    try:
        _wait_for(lambda: len(_replications(out)) >= 1 or first.poll() is not None)
        assert first.poll() is None, first.communicate()
        wait_argv = ["batch", TINY, "--reps", str(REPS), "--workers", "1", "--out", str(out)]
        waiter = subprocess.Popen(
            [sys.executable, "-m", "paxsim.cli", *wait_argv, "--resume", "--wait", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        second = paxsim("batch", TINY, "--reps", REPS, "--workers", 1, "--out", out, "--resume")
        _, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode == 0, stderr
    assert second.returncode == 2, second.stderr
    _clean(second)
    assert "--out" in second.stderr and "is in use" in second.stderr
    assert f"process {first.pid} on host {socket.gethostname()}" in second.stderr
    assert "--wait" in second.stderr
    wait_out, wait_err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, wait_err
    assert f"waiting for process {first.pid}" in wait_err
    assert f"ran 0 replications ({REPS} already done)" in wait_out
    _exactly_once(out)
    summary = load_batch(out).phase_summary()
    assert (summary["n"] == REPS).all()
    assert not (out / LOCK_NAME).exists()


def test_sigterm_says_how_to_resume_and_resume_completes(tmp_path: Path) -> None:
    out = tmp_path / "b"
    proc = slow_batch(out)
    try:
        _wait_for(lambda: len(_replications(out)) >= 2 or proc.poll() is not None)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 143, stderr
    _clean((proc.returncode, "", stderr))
    assert "paxsim: terminated (SIGTERM)" in stderr
    assert "Run the same command with --resume to finish" in stderr
    saved = _replications(out)
    assert 2 <= len(saved) < REPS and saved == sorted(set(saved))
    assert f"{len(saved)} of {REPS} replications are saved" in stderr
    assert not (out / LOCK_NAME).exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    done = paxsim("batch", TINY, "--reps", REPS, "--workers", 1, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr
    assert f"({len(saved)} already done)" in done.stdout
    _exactly_once(out)


def test_sigterm_stops_a_process_pool_cleanly(tmp_path: Path) -> None:
    """Worker processes too (a batch far too long to finish first)."""
    out = tmp_path / "b"
    argv = ["batch", TINY, "--reps", "5000", "--workers", "2", "--chunk-size", "1"]
    argv += ["--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "paxsim.cli", *argv, "--quiet", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_replications(out)) >= 1 or proc.poll() is not None)
        os.killpg(proc.pid, signal.SIGTERM)  # like `timeout` or a service manager: the group
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 143, stderr
    _clean((proc.returncode, "", stderr))
    assert "terminated (SIGTERM)" in stderr and "--resume" in stderr
    assert not (out / LOCK_NAME).exists()
    saved = _replications(out)
    assert saved == sorted(set(saved)) and len(saved) < 5000


def test_kill_9_leaves_a_stale_lock_that_resume_takes_over(tmp_path: Path) -> None:
    out = tmp_path / "b"
    proc = slow_batch(out, delay=0.15)
    try:
        _wait_for(lambda: len(_replications(out)) >= 2 or proc.poll() is not None)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    owner = read_lock(out)
    assert owner is not None and owner.pid == proc.pid  # left behind
    saved = _replications(out)
    assert 2 <= len(saved) < REPS
    done = paxsim("batch", TINY, "--reps", REPS, "--workers", 1, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr
    _clean(done)
    assert f"was locked by process {proc.pid}" in done.stderr
    assert "no longer running; taking over its lock" in done.stderr
    assert f"({len(saved)} already done)" in done.stdout
    _exactly_once(out)
    assert not (out / LOCK_NAME).exists()
