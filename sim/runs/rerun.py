"""``intersim rerun DIR``: repeat a run from its manifest and check that the tables match.

The manifest records the command line and the scenario's SHA-256. The run is repeated into a
temporary directory with the same arguments, and every table (CSV and Parquet) is compared byte
for byte: the same scenario and seed must give identical bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..results.files import file_sha256

__all__ = ["RerunReport", "rerun"]

TABLE_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class RerunReport:
    identical: bool
    compared: list[str]
    differing: list[str]
    missing: list[str]

    @property
    def text(self) -> str:
        if self.identical:
            return f"identical: {len(self.compared)} tables match byte for byte"
        lines = [
            f"DIFFERENT: {len(self.differing) + len(self.missing)} of {len(self.compared)} tables"
        ]
        lines += [f"  differs: {name}" for name in self.differing]
        lines += [f"  missing: {name}" for name in self.missing]
        return "\n".join(lines)


def _manifest(directory: Path) -> dict[str, object]:
    path = directory / "manifest.json"
    if not directory.is_dir():
        raise InputError(f"{directory}: not a result directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{directory}: no manifest.json (not an intersim result directory)"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict) or "intersim_command" not in data:
        raise InputError(f"{path}: manifest has no recorded command")
    return data


def _arguments(command: str, out: Path) -> list[str]:
    words = shlex.split(command)[1:]  # drop "intersim"
    args: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--out":
            skip = True
            continue
        if word.startswith("--out=") or word == "--overwrite":
            continue
        args.append(word)
    return [*args, "--out", str(out)]


def rerun(directory: Path, main: Callable[[Sequence[str]], int]) -> RerunReport:
    """Repeat the run recorded in ``directory`` with ``main`` (the CLI) and compare tables."""
    manifest = _manifest(directory)
    scenario = Path(str(manifest.get("scenario_file", "")))
    if not scenario.is_file():
        raise InputError(f"{directory}: the scenario {scenario} is gone; cannot repeat the run")
    if file_sha256(scenario) != manifest.get("scenario_sha256"):
        raise InputError(f"{scenario}: changed since the run (SHA-256 differs); cannot repeat it")
    with tempfile.TemporaryDirectory(prefix="intersim-rerun-") as tmp:
        out = Path(tmp) / "again"
        with contextlib.redirect_stdout(io.StringIO()):  # the repeat's own report is not wanted
            code = main(_arguments(str(manifest["intersim_command"]), out))
        if code != 0:
            raise InputError(f"{directory}: repeating the run failed (exit code {code})")
        tables = sorted(
            p.relative_to(directory) for p in directory.rglob("*") if p.suffix in TABLE_SUFFIXES
        )
        differing = [
            str(t)
            for t in tables
            if (out / t).exists() and (out / t).read_bytes() != (directory / t).read_bytes()
        ]
        missing = [str(t) for t in tables if not (out / t).exists()]
    return RerunReport(not differing and not missing, [str(t) for t in tables], differing, missing)
