"""``intersim rerun DIR``: repeat a run from its manifest and check that the tables match.

Checking results someone else made is what ``rerun`` is for, so the manifest is untrusted
input: its recorded command line is never executed. The run is rebuilt from validated fields
only: the command (``run`` or ``compare``), the scenario file (which must still have the
recorded SHA-256), the seed, the replications, the options and baseline (names of the
scenario's options), ``--precision`` / ``--max-replications``, ``--records`` (whether
``compare`` wrote the per-incident table), and the replay log arguments (files read as
data). Anything else the recorded command holds (``--dask ADDRESS``, ``--workers``,
``--force``, unknown words) is ignored and listed in the report. The run is
repeated into a temporary directory and every table (CSV and Parquet, regular files inside the
directory, links not followed) is compared byte for byte: the same scenario and seed must give
identical bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shlex
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, printable
from ..results.files import file_sha256
from ..schema import load_scenario
from ..schema.yamlio import read_input

__all__ = ["RerunReport", "rebuild_arguments", "rerun"]

TABLE_SUFFIXES = (".csv", ".parquet")
MANIFEST_BYTES = 4 * 2**20
COMMANDS = ("run", "compare")
# flags of the recorded command that are kept (after validation)
_REPLAY = ("--replay", "--replay-start", "--replay-tz", "--replay-mapping", "--replay-map")
_REPLACED = ("--seed", "--replications", "--option", "--baseline")  # taken from the manifest
_FLAGS = ("--overwrite", "--force", "--records")  # flags without a value


@dataclass(frozen=True)
class RerunReport:
    identical: bool
    compared: list[str]
    differing: list[str]
    missing: list[str]
    ignored: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        lines = []
        if self.ignored:
            lines.append(
                "ignored from the manifest (rerun repeats only the scenario, seed, options and "
                f"replications; it never runs or connects to what a manifest names): "
                f"{' '.join(shlex.quote(w) for w in self.ignored)}"
            )
        if self.identical:
            lines.append(f"identical: {len(self.compared)} tables match byte for byte")
        else:
            lines.append(
                f"DIFFERENT: {len(self.differing) + len(self.missing)} of {len(self.compared)} "
                "tables"
            )
            lines += [f"  differs: {name}" for name in self.differing]
            lines += [f"  missing: {name}" for name in self.missing]
        return "\n".join(printable(line) for line in lines)


def _manifest(directory: Path) -> dict[str, object]:
    path = directory / "manifest.json"
    if not directory.is_dir():
        raise InputError(f"{directory}: not a result directory")
    if not path.exists():
        raise InputError(f"{directory}: no manifest.json (not an intersim result directory)")
    raw = read_input(path, MANIFEST_BYTES, "manifest file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: unreadable manifest ({str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("intersim_command"), str):
        raise InputError(f"{path}: manifest has no recorded command")
    return data


def _count(value: object, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 2**63:
        raise InputError(f"manifest: {what} is not a whole number >= {low}: {str(value)[:40]!r}")
    return value


def _fraction(value: str, what: str) -> str:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 < number < 1:
        raise InputError(f"manifest: {what} is not a number between 0 and 1: {value[:40]!r}")
    return value


def _words(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"manifest: the recorded command cannot be read ({exc})") from None
    if len(words) < 2 or words[0] != "intersim" or words[1] not in COMMANDS:
        shown = " ".join(words[:2])[:60]
        raise InputError(
            f"manifest: rerun repeats 'intersim run' and 'intersim compare'; this directory was "
            f"written by {shown!r}"
        )
    return words[1:]


def _items(words: list[str]) -> list[tuple[str | None, str | None]]:
    """The recorded words as ``(flag, value)`` pairs in order; a positional word is
    ``(None, word)``, a flag without a value ``(flag, None)``."""
    items: list[tuple[str | None, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            items.append((name, value))
        elif word.startswith("--") and (word in _FLAGS or i + 1 == len(words)):
            items.append((word, None))
        elif word.startswith("--"):
            items.append((word, words[i + 1]))
            i += 1
        else:
            items.append((None, word))
        i += 1
    return items


def rebuild_arguments(manifest: dict[str, object], out: Path) -> tuple[list[str], list[str]]:
    """The arguments of the repeated run, built from validated manifest fields, and the words
    of the recorded command that were ignored."""
    command, *rest = _words(str(manifest["intersim_command"]))
    scenario_file = Path(str(manifest.get("scenario_file", "")))
    scenario = load_scenario(scenario_file)
    options = set(scenario.options)
    args = [command, str(scenario_file), "--out", str(out)]
    args += ["--seed", str(_count(manifest.get("seed"), "seed", low=0))]
    items = _items(rest)
    given = {name for name, _ in items if name is not None}
    precision = "--precision" in given and command == "compare"
    if not precision:
        args += ["--replications", str(_count(manifest.get("replications"), "replications"))]
    recorded = manifest.get("options")
    if command == "run" and "--option" in given:
        if not (isinstance(recorded, list) and len(recorded) == 1 and recorded[0] in options):
            raise InputError(
                f"manifest: options {str(recorded)[:60]} are not one of the scenario's"
            )
        args += ["--option", str(recorded[0])]
    baseline = manifest.get("baseline")
    if command == "compare" and baseline is not None:
        if baseline not in options:
            raise InputError(
                f"manifest: baseline {str(baseline)[:40]!r} is no option of the scenario"
            )
        args += ["--baseline", str(baseline)]
    ignored: list[str] = []
    scenario_seen = False
    for name, value in items:
        if name is None:  # the first positional word is the scenario: the manifest's is used
            if scenario_seen:
                ignored.append(str(value))
            scenario_seen = True
        elif name in _REPLACED or name == "--out":
            continue
        elif command == "compare" and name == "--precision" and value is not None:
            args += [name, _fraction(value, name)]
        elif command == "compare" and name == "--max-replications" and value is not None:
            number = int(value) if value.isdigit() and len(value) < 19 else None
            args += [name, str(_count(number, name))]
        elif command == "compare" and name == "--records" and value is None:
            args.append(name)  # the same tables again, incidents.parquet included
        elif name in _REPLAY and value is not None and not value.startswith("-"):
            args += [name, value]
        else:
            ignored += [name] if value is None else [name, value]
    return args, ignored


def _tables(directory: Path) -> list[Path]:
    """Regular table files inside ``directory`` (links are neither followed nor compared)."""
    found = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        for name in files:
            path = Path(root) / name
            if path.suffix in TABLE_SUFFIXES and not path.is_symlink() and path.is_file():
                found.append(path.relative_to(directory))
    return sorted(found)


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
        args, ignored = rebuild_arguments(manifest, out)
        with contextlib.redirect_stdout(io.StringIO()):  # the repeat's own report is not wanted
            code = main(args)
        if code != 0:
            raise InputError(f"{directory}: repeating the run failed (exit code {code})")
        tables = _tables(directory)
        differing = [
            str(t)
            for t in tables
            if (out / t).exists() and (out / t).read_bytes() != (directory / t).read_bytes()
        ]
        missing = [str(t) for t in tables if not (out / t).exists()]
    return RerunReport(
        not differing and not missing, [str(t) for t in tables], differing, missing, ignored
    )
