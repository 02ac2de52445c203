"""One writer per batch folder: a lock file naming its owner, taken atomically.

Protocol (the file is ``<folder>/batch.lock``, JSON)::

    take     os.open(batch.lock, O_CREAT | O_EXCL)   -- exactly one process succeeds
             write {pid, host, started, token, proc_start, command}, fsync
    held     another process that finds the file reads the owner and is refused
             (BatchLockedError names the owner), or polls until it is free (wait)
    stale    the owner is on this host and its pid is gone (or is a zombie, or
             the pid was reused: /proc start time differs), or the file is
             unreadable and older than a grace period
    break    under a second O_EXCL file (batch.lock.break), re-read the lock and
             unlink it only if it still holds the same stale token; then take
             it as above. Two processes breaking the same stale lock cannot
             both win: only one holds batch.lock.break, and the O_EXCL create
             after it admits one owner.
    release  unlink the file if it still holds our token (on normal exit, on
             error, and on SIGINT/SIGTERM, which the CLI turns into exceptions)

A lock left by ``kill -9`` stays on disk and is taken over by the next
writer on the same host, which says so. A lock held from another host cannot
be checked; the error says which file to delete if that process is gone.

Re-entrant within one process: a batch that holds its folder's lock can call
code that takes it again (``run_batch`` over ``run_replications``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from paxsim.sim.safe_paths import terminal_safe

__all__ = [
    "LOCK_NAME",
    "BatchLock",
    "BatchLockedError",
    "LockOwner",
    "read_lock",
]

LOCK_NAME = "batch.lock"
BREAK_NAME = "batch.lock.break"
#: A lock file still empty or unreadable after this long was left by a process
#: that died between creating and writing it (writing takes microseconds).
UNREADABLE_GRACE_S = 10.0
#: A break file older than this was left by a process that died mid-takeover.
BREAK_GRACE_S = 30.0


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), to tell a reused pid from its owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2 :]
    return rest[:1] or None


@dataclass(frozen=True)
class LockOwner:
    """Who holds a batch folder."""

    pid: int
    host: str
    started: str
    token: str
    proc_start: str | None = None
    command: str = ""

    @classmethod
    def me(cls) -> LockOwner:
        argv = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
        if argv.startswith(("cli.py ", "__main__.py ")):  # python -m paxsim.cli
            argv = "paxsim " + argv.split(" ", 1)[1]
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            proc_start=_proc_start(os.getpid()),
            command=argv[:300],
        )

    def alive(self) -> bool | None:
        """True or False on this host; None (cannot tell) for another host."""
        if self.host != socket.gethostname() or os.name != "posix":
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # someone else's process: it exists
        if _proc_state(self.pid) in ("Z", "X"):
            return False
        now = _proc_start(self.pid)
        return not (self.proc_start and now and now != self.proc_start)

    def describe(self) -> str:
        started = self.started.replace("T", " ").replace("+00:00", " UTC")
        text = f"process {self.pid} on host {self.host}, started {started}"
        if self.command:
            text += f" ({self.command})"
        return terminal_safe(text, multiline=False)


#: A lock file that exists but cannot be read as an owner.
_UNREADABLE = LockOwner(pid=-1, host="?", started="?", token="")


def read_lock(folder: str | Path) -> LockOwner | None:
    """The owner recorded in ``folder``'s lock file (None if there is none)."""
    return _read(Path(folder) / LOCK_NAME)


def _read(path: Path) -> LockOwner | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return _UNREADABLE
    try:
        data = json.loads(text)
        return LockOwner(
            pid=int(data["pid"]),
            host=str(data["host"]),
            started=str(data["started"]),
            token=str(data["token"]),
            proc_start=data.get("proc_start"),
            command=str(data.get("command", "")),
        )
    except (ValueError, KeyError, TypeError):
        return _UNREADABLE


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class BatchLockedError(Exception):
    """Another process holds the folder's lock."""

    def __init__(self, folder: Path, owner: LockOwner, alive: bool | None) -> None:
        self.folder = folder
        self.owner = owner
        self.lock_path = folder / LOCK_NAME
        where = terminal_safe(str(folder), multiline=False)
        lock = terminal_safe(str(self.lock_path), multiline=False)
        if owner is _UNREADABLE:
            text = (
                f"{where} is in use: its lock file {lock} was just created by another process "
                "(or is damaged). Try again in a moment; if it stays, delete the lock file."
            )
        elif alive is None:
            text = (
                f"{where} is in use by {owner.describe()}, on another host, so paxsim cannot "
                f"tell whether it still runs. If it does not, delete {lock} and try again."
            )
        else:
            text = (
                f"{where} is in use: {owner.describe()} is still writing to it. "
                "Wait for it to finish; two writers would lose or duplicate replications."
            )
        super().__init__(text)


#: Locks this process holds: lock path -> (owner, depth).
_HELD: dict[str, tuple[LockOwner, int]] = {}


def _default_notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BatchLock:
    """The lock of one batch folder (a context manager; re-entrant in one process).

    ``wait`` is how long to wait for another owner, in seconds (0: refuse at
    once with :class:`BatchLockedError`; None: wait for ever). ``notify``
    receives the one-line notes "taking over a stale lock" and "waiting for".
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        wait: float | None = 0.0,
        poll: float = 0.25,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self.notify = notify or _default_notify
        self.owner: LockOwner | None = None
        self.took_over: LockOwner | None = None

    @property
    def _key(self) -> str:
        return os.path.realpath(self.path)

    # -- taking
    def acquire(self) -> BatchLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        held = _HELD.get(self._key)
        if held is not None and held[0].pid == os.getpid() and _read(self.path) == held[0]:
            _HELD[self._key] = (held[0], held[1] + 1)
            self.owner = held[0]
            return self
        deadline = None if self.wait is None else time.monotonic() + self.wait
        announced = False
        while True:
            me = LockOwner.me()
            if self._create(me):
                self.owner = me
                _HELD[self._key] = (me, 1)
                if self.took_over is not None:
                    self.notify(self._takeover_note(self.took_over))
                return self
            owner = _read(self.path)
            if owner is None:
                continue  # released between our attempt and our look: try again
            alive = self._judge(owner)
            if alive is False and self._break(owner):
                self.took_over = owner
                continue
            if alive is False:
                time.sleep(min(self.poll, 0.05))  # another process is breaking it
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise BatchLockedError(self.folder, owner, alive)
            if not announced:
                announced = True
                who = "another process" if owner is _UNREADABLE else owner.describe()
                self.notify(f"waiting for {who} to finish with {self._where()} ...")
            time.sleep(self.poll)

    def _where(self) -> str:
        return terminal_safe(str(self.folder), multiline=False)

    def _takeover_note(self, owner: LockOwner) -> str:
        if owner is _UNREADABLE:
            return f"note: {self._where()} had an unreadable, abandoned lock file; taking over"
        return (
            f"note: {self._where()} was locked by {owner.describe()}, which is no longer "
            "running; taking over its lock"
        )

    def _judge(self, owner: LockOwner) -> bool | None:
        """Is the owner alive (True), gone (False), or unknowable (None)?"""
        if owner is _UNREADABLE:
            return _age(self.path) < UNREADABLE_GRACE_S
        return owner.alive()

    def _create(self, me: LockOwner) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, (json.dumps(asdict(me), indent=1) + "\n").encode("utf-8"))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            raise
        os.close(fd)
        return True

    def _break(self, stale: LockOwner) -> bool:
        """Remove a stale lock, if it is still the one judged stale; True if removed."""
        brk = self.folder / BREAK_NAME
        try:
            fd = os.open(brk, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            breaker = _read(brk)
            dead = breaker is not None and breaker is not _UNREADABLE and breaker.alive() is False
            if dead or _age(brk) > BREAK_GRACE_S:  # its breaker died mid-takeover
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(brk)
            return False
        try:
            os.write(fd, json.dumps(asdict(LockOwner.me())).encode("utf-8"))
            os.close(fd)
            current = _read(self.path)
            if current is None:
                return True  # gone already: the O_EXCL create decides
            if current != stale:
                return False  # replaced meanwhile by a live owner
            os.unlink(self.path)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(brk)

    # -- releasing
    def release(self) -> None:
        if self.owner is None:
            return
        me, self.owner = self.owner, None
        owner, depth = _HELD.get(self._key, (me, 1))
        if depth > 1:
            _HELD[self._key] = (owner, depth - 1)
            return
        _HELD.pop(self._key, None)
        if _read(self.path) == me:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __enter__(self) -> BatchLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state: Any = self.owner.pid if self.owner else "not held"
        return f"BatchLock({str(self.folder)!r}, {state})"
