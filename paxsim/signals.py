"""SIGTERM and SIGHUP end a command the way Ctrl-C does: cleanly, saying so.

:func:`install` makes the first SIGTERM (or SIGHUP) raise :class:`Terminated`,
a :class:`KeyboardInterrupt`, in the main thread, so everything that already
handles Ctrl-C (stopping workers, keeping finished replications, releasing a
batch folder's lock, printing how to resume) handles them too. Later ones are
only recorded, so cleanup is not interrupted twice. :func:`exit_code` is the
conventional ``128 + signal number`` (130 for Ctrl-C, 143 for SIGTERM).

This is its own light module (no pandas) because both ``paxsim.cli`` (which
may run as ``__main__``) and ``paxsim.batch_cli`` read the same state.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

__all__ = ["Terminated", "describe", "exit_code", "install", "received"]

_HANDLED = tuple(
    s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None
)
_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """A termination signal, raised like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _record(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    for sig in _HANDLED:
        signal.signal(sig, _record)
    raise Terminated(signum)


def install() -> Callable[[], None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated`; return what restores the old handlers.

    Does nothing outside the main thread (Python delivers signals there only).
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    _received.clear()
    previous = {sig: signal.signal(sig, _raise) for sig in _HANDLED}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def received() -> int | None:
    """The first termination signal received (None: none, or only Ctrl-C)."""
    return _received[0] if _received else None


def describe() -> str:
    """The word for how the command ended: interrupted, or terminated (SIGTERM)."""
    sig = received()
    return "interrupted" if sig is None else f"terminated ({signal.Signals(sig).name})"


def exit_code() -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + (received() or signal.SIGINT)
