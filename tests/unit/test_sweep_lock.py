"""The sweep's lock: one sweep per directory at a time, and none left behind when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import InputError
from sim.sweeps.store import LOCK_NAME, lock_store, unlock_store


def test_a_held_lock_refuses_a_second_sweep_and_is_removed_when_released(tmp_path: Path) -> None:
    path = tmp_path / LOCK_NAME
    fd = lock_store(path)
    assert fd is not None
    with pytest.raises(InputError, match="another sweep is running"):
        lock_store(path)
    unlock_store(fd, path)
    assert not path.exists(), "a finished sweep leaves no lock file behind"
    again = lock_store(path)  # and the directory can be locked again
    assert again is not None
    unlock_store(again, path)


def test_a_lock_file_replaced_under_a_waiter_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / LOCK_NAME
    fd = lock_store(path)
    unlock_store(fd, path)
    path.write_text("")  # a new file in place: the next lock must be on this one
    fd2 = lock_store(path)
    import os

    assert fd2 is not None
    assert os.fstat(fd2).st_ino == os.stat(path).st_ino
    unlock_store(fd2, path)
