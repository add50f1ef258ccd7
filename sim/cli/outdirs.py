"""Where a command writes when no ``--out`` is given: ``results/<scenario>[-<kind>]-<time>``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..results.files import claim_out_dir

__all__ = ["checked_out_dir", "default_out_dir"]


def default_out_dir(
    scenario_file: Path, kind: str = "", suffix: str = "", now: datetime | None = None
) -> Path:
    """``results/<scenario stem>-<kind>-<UTC time><suffix>`` (no ``-<kind>`` without one)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = "-".join(part for part in (Path(scenario_file).stem, kind, stamp) if part)
    return Path("results") / f"{name}{suffix}"


def checked_out_dir(out: str | None, scenario_file: str, overwrite: bool, kind: str = "") -> Path:
    """``--out`` or the default directory, refused (InputError) before any work if it cannot
    or must not be written."""
    path = Path(out) if out is not None else default_out_dir(Path(scenario_file), kind)
    claim_out_dir(path, overwrite)  # locked and reserved until the results are in place
    return path
