"""Where a command writes when no ``--out`` is given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

__all__ = ["default_out_dir"]


def default_out_dir(scenario_file: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario_file.stem}-{stamp}"
