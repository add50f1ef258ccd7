"""Where a command writes when no ``--out`` is given (``results/<scenario>[-<kind>]-<time>``),
and the line that closes its report: the whole command's time and the size of what it wrote."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["checked_out_dir", "default_out_dir", "finished"]


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
    from ..results.files import claim_out_dir  # loads pandas: not with the parser

    path = Path(out) if out is not None else default_out_dir(Path(scenario_file), kind)
    claim_out_dir(path, overwrite)  # locked and reserved until the results are in place
    return path


def finished(out: Path, begun: float) -> str:
    """'done in 7.4 s; wrote results/x: 3.1 MB': the time since ``begun`` (a
    :func:`time.perf_counter` reading) and the size of the directory ``out``."""
    from ..results.display import fmt_size
    from ..results.files import directory_size

    seconds = time.perf_counter() - begun
    return f"done in {seconds:.1f} s; wrote {out}: {fmt_size(directory_size(out))}"
