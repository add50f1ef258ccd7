"""SIGTERM handled like Ctrl-C: the command unwinds, every temporary output is removed, and
the exit code is 143 (128 + SIGTERM), as for a process the signal would have killed.

The handler raises :class:`~sim.errors.Terminated` (a KeyboardInterrupt) in the process that
installed it. Worker processes forked from it inherit the handler but not the role: in them
the signal keeps its default action, so that a pool can still stop its workers.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ..errors import Terminated

__all__ = ["EXIT_TERMINATED", "received", "sigterm_as_interrupt"]

EXIT_TERMINATED = 128 + signal.SIGTERM
_owner = 0


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _owner:  # a forked worker: die as the signal means
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    Terminated.requested = True
    raise Terminated()


def received() -> bool:
    """Whether SIGTERM arrived in this process (a command may have handled the interrupt,
    as a sweep does, keeping its finished tasks: its exit code is still 143)."""
    return Terminated.requested


def _quiet_when_terminated(unraisable: sys.UnraisableHookArgs) -> None:
    """Where the signal's exception cannot propagate (a finaliser), say nothing: the flag is
    set and the command stops at its next check."""
    if not isinstance(unraisable.exc_value, Terminated):
        sys.__unraisablehook__(unraisable)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated in this process; the previous handler is
    restored after it. Only the main thread can install signal handlers: elsewhere nothing
    changes."""
    global _owner
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner, _owner = _owner, os.getpid()
    if owner == 0:  # the outermost command: no signal yet
        Terminated.requested = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    hook, sys.unraisablehook = sys.unraisablehook, _quiet_when_terminated
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = hook
        _owner = owner
