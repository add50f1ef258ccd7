"""The package layout follows the data flow: a module imports only from its own folder or from
stages before it, never from a later stage nor from another experiment, and never from the
top-level ``sim`` facade. Imports inside functions count too (they are walked like the rest)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sim"

# scenario file -> validated scenario -> compiled model -> engine -> metrics -> result files ->
# figures -> report; experiments wrap all of that from outside; the command line wraps them.
STAGES = {
    "errors": 0,
    "version": 0,
    "collector": 0,
    "schema": 1,
    "model": 2,
    "engine": 3,
    "analysis": 4,
    "results": 5,
    "plots": 6,
    "report": 7,
    "runs": 8,
    "comparison": 8,
    "sweeps": 8,
    "decide": 8,
    "data": 8,
    "siting": 8,
    "cli": 9,
}
EXPERIMENTS = {name for name, rank in STAGES.items() if rank == 8}
FACADE = {"sim", "sim.__main__"}  # the public API and `python -m sim` may import anything
ALLOWED: set[tuple[str, str]] = set()  # (importing module, imported module): none needed


def _module(path: Path) -> tuple[str, str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1]
    if parts[-1] == "__init__":
        parts = package = parts[:-1]
    return ".".join(parts), ".".join(package)


def _path_of(module: str) -> Path:
    return ROOT.joinpath(*module.split("."))


def _imports(path: Path) -> list[tuple[str, int]]:
    _, package = _module(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            for alias in node.names:  # `from . import module` imports that module
                name = f"{target}.{alias.name}"
                if _path_of(name).with_suffix(".py").is_file() or _path_of(name).is_dir():
                    found.append((name, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
    return [(t, line) for t, line in found if t == "sim" or t.startswith("sim.")]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module, _ = _module(path)
        if module in FACADE:
            continue
        here = _stage(module)
        assert here in STAGES, f"{module} lies in no known stage folder; add it to STAGES"
        for target, line in _imports(path):
            there = _stage(target)
            if there not in STAGES:  # sim itself, or a name imported from a stage's package
                if target == "sim" or _stage(target.rsplit(".", 1)[0]) is None:
                    problems.append(f"{module}:{line} imports the sim facade ({target})")
                continue
            if there == here or (module, target) in ALLOWED:
                continue
            if STAGES[there] > STAGES[here]:
                problems.append(f"{module}:{line} imports {target}, a later stage")
            elif there in EXPERIMENTS and here in EXPERIMENTS:
                problems.append(f"{module}:{line} imports {target}, another experiment")
    return problems


def test_no_module_imports_upstream_or_across_experiments() -> None:
    problems = _violations()
    assert not problems, "imports against the data flow:\n" + "\n".join(problems)


def test_every_stage_is_a_folder_and_in_the_readme_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## Development", 1)[1]
    for name in STAGES:
        path = PACKAGE / name
        assert path.is_dir() or path.with_suffix(".py").is_file(), f"sim/{name} should exist"
        if path.is_dir():
            assert f"{name}/" in tree, f"the README's development tree should explain sim/{name}/"


@pytest.mark.parametrize("folder", sorted(n for n in STAGES if (PACKAGE / n).is_dir()))
def test_no_folder_is_named_like_an_api_function(folder: str) -> None:
    # a subpackage `sim.compare` would replace the function `sim.compare` once imported
    import sim

    assert folder not in sim.__all__, f"sim/{folder}/ shadows sim.{folder}()"
