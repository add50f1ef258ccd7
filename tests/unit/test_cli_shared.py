"""The command line is defined once: shared arguments parse the same way in every command, the
table of subcommands matches their modules, a subcommand loads only its own module, and no
module of ``sim`` hides an import inside a function (but for a short, explained list)."""

from __future__ import annotations

import argparse
import ast
import importlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sim.cli.args import PARALLEL_SECONDS, non_negative_int, positive_int, workers_for_run
from sim.cli.main import COMMANDS, build_parser, main
from sim.cli.outdirs import default_out_dir
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "two_towns.yaml"

# option -> (type, metavar) every command that takes it must use
SHARED = {
    "--seed": (non_negative_int, "S"),
    "--replications": (positive_int, "N"),
    "--workers": (positive_int, "N"),
    "--dask": (None, "local|ADDRESS"),
    "--option": (None, "NAME"),
    "--overwrite": (None, None),
    "--quiet": (None, None),
    "--force": (None, None),
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _action(p: argparse.ArgumentParser, option: str) -> argparse.Action | None:
    return next((a for a in p._actions if option in a.option_strings), None)


def test_every_subcommand_of_the_table_is_defined_by_its_module() -> None:
    for name, (module, help_text) in COMMANDS.items():
        commands = importlib.import_module(f"sim.cli.{module}").COMMANDS
        assert name in commands, f"sim.cli.{module} should define '{name}'"
        assert help_text
    defined = {
        n
        for m in {m for m, _ in COMMANDS.values()}
        for n in importlib.import_module(f"sim.cli.{m}").COMMANDS
    }
    assert defined == set(COMMANDS), "every command a module defines is in the table"


@pytest.mark.parametrize("option", sorted(SHARED))
def test_shared_arguments_parse_the_same_way_everywhere(option: str) -> None:
    kind, metavar = SHARED[option]
    users = {n: a for n, p in _subparsers().items() if (a := _action(p, option)) is not None}
    assert len(users) >= 2, f"{option} should be shared by several commands"
    for name, action in users.items():
        assert action.type is kind, f"{name} {option}: type {action.type}"
        assert action.metavar == metavar, f"{name} {option}: metavar {action.metavar}"


def test_every_seed_rejects_the_same_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    parsers = _subparsers()
    with_seed = [n for n, p in parsers.items() if _action(p, "--seed") is not None]
    assert set(with_seed) >= {"run", "compare", "sweep", "size", "export-log", "backtest"}
    for name in with_seed:
        for bad in ("-1", "1.5", "x"):
            with pytest.raises(InputError, match="--seed"):
                parsers[name].parse_known_args(["--seed", bad])
    assert parsers["run"].parse_args([str(SCENARIO), "--seed", "7"]).seed == 7
    code = main(["run", str(SCENARIO), "--seed", "-1"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert line.startswith("error: intersim run: argument --seed")


def test_run_and_compare_take_workers_and_dask() -> None:
    parsers = _subparsers()
    for name in ("run", "compare", "sweep", "size", "coalitions"):
        for option in ("--workers", "--dask"):
            assert _action(parsers[name], option) is not None, f"{name} {option}"
    args = parsers["compare"].parse_args([str(SCENARIO), "--workers", "2", "--dask", "local"])
    assert (args.workers, args.dask) == (2, "local")


def test_default_output_directories() -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert default_out_dir(SCENARIO, now=now) == Path("results/two_towns-20250304-050607")
    assert default_out_dir(SCENARIO, "sweep", now=now) == Path(
        "results/two_towns-sweep-20250304-050607"
    )
    assert default_out_dir(SCENARIO, "backtest", ".csv", now=now) == Path(
        "results/two_towns-backtest-20250304-050607.csv"
    )


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_a_subcommand_loads_only_its_own_module() -> None:
    validate = _modules_after(
        f"from sim.cli.main import main\nassert main(['validate', {str(SCENARIO)!r}]) == 0"
    )
    assert "sim.cli.validate" in validate
    assert not {"pandas", "sim.cli.run", "sim.cli.estimate"} & validate
    estimate = _modules_after(
        f"from sim.cli.main import main\nassert main(['estimate', {str(SCENARIO)!r}]) == 0"
    )
    assert "sim.cli.estimate" in estimate
    assert not {m for m in estimate if m.split(".")[0] in ("matplotlib", "scipy", "tqdm")}
    assert not {"sim.cli.compare", "sim.cli.sweep", "sim.cli.decide"} & estimate


def test_compare_starts_without_plotting_or_writing_libraries() -> None:
    """Up to its simulation, compare needs neither matplotlib (worker processes draw the
    figures) nor the libraries that write the report, the workbook or the zone layer; its
    parser loads not even pandas (the comparison is imported once the workers start)."""
    command = "from sim.cli.main import _command\n_command('compare')"
    assert "pandas" not in _modules_after(command), "the parser: before the workers start"
    loaded = _modules_after(f"{command}\nimport sim.comparison.compare, sim.comparison.output")
    assert "sim.comparison.output" in loaded
    heavy = ("matplotlib", "PIL", "jinja2", "xlsxwriter", "geopandas", "pyogrio", "dask")
    assert not {m for m in loaded if m.split(".")[0] in heavy}
    assert not {m for m in _modules_after("import sim.plots") if m.startswith("matplotlib")}


def test_sweep_starts_its_workers_before_loading_the_parents_libraries() -> None:
    """The sweep command's parser loads neither pandas nor the engine: the command starts its
    workers' fork server first. The workers import the task module, which needs neither the
    design's scipy.stats nor matplotlib (the parent draws the figures)."""
    parser = _modules_after("from sim.cli.main import _command\n_command('sweep')")
    assert not {"pandas", "sim.engine.driver", "sim.sweeps.definition"} & parser
    worker = _modules_after("import sim.sweeps.task")
    assert "sim.engine.driver" in worker
    assert not {m for m in worker if m.split(".")[0] == "matplotlib" or m == "scipy.stats"}


# imports inside functions that stay, each for a reason given next to it in the code
LAZY_ALLOWED = {
    ("sim/engine/execute.py", "distributed"),  # only --dask needs it; slow to load
    ("sim/model/sampling.py", "scipy"),  # scipy.stats takes most of a second
    ("sim/sweeps/store.py", "fcntl"),  # POSIX only
    ("sim/__init__.py", None),  # the public API (kept light to import)
    # geography libraries load only for a scenario with zone, boundary or matrix files, so
    # that validating or running a plain scenario stays fast (geopandas alone takes ~1 s)
    *{("sim/model/zones.py", m) for m in ("geopandas", "pandas")},
    *{("sim/results/zonelayer.py", m) for m in ("geopandas", "shapely")},
    *{("sim/plots/zones.py", m) for m in ("geopandas", "pyogrio", "shapely")},  # zone maps
    ("sim/model/snap.py", "scipy"),  # the zones nearest to returning units: scenarios with zones
    ("sim/engine/relocation.py", "scipy"),  # compliance tables that fill several posts at once
    ("sim/data/zones.py", "scipy"),  # the zone index of a log placed by coordinates (replay)
    ("sim/data/zonecounts.py", "geopandas"),  # calibrate's zone file, for zones with polygons
    *{("sim/schema/geo.py", m) for m in ("pyproj",)},
    *{("sim/schema/geography.py", m) for m in ("zonefile",)},
    *{("sim/schema/matrixfile.py", m) for m in ("pandas", "pyarrow")},
    *{("sim/schema/zonefile.py", m) for m in ("geopandas", "pyogrio")},
    *{("sim/schema/zonesource.py", m) for m in ("geopandas", "shapely")},
    # road networks: the readers load only for a scenario with a road network file, scipy's
    # graphs only when its trips are built
    *{("sim/schema/roadfile.py", m) for m in ("osmium", "networkx", "xml")},
    ("sim/model/travel.py", "roads"),
    # compare loads what writes its results only once it writes them, and never the drawing
    # modules where worker processes draw: its simulation starts sooner
    *{("sim/comparison/output.py", m) for m in ("report", "zonelayer", "workbook")},
    ("sim/plots/__init__.py", "style"),  # matplotlib, where figures are drawn
    # the command modules that the parser imports load pandas (the comparison, the run and
    # its writers, the log readers, the result files) only when the command runs: compare
    # starts its workers' fork server first, so that their imports overlap its own
    ("sim/cli/compare.py", "comparison"),
    ("sim/cli/sweep.py", "sweeps"),  # sweep likewise: the design, the store, the figures
    # a sweep's worker imports its task module alone, not the parent's design and figures
    *{("sim/sweeps/__init__.py", m) for m in ("definition", "run", "workers", "pandas")},
    ("sim/cli/run.py", "runs"),
    ("sim/cli/replay.py", "data"),
    *{("sim/cli/outdirs.py", m) for m in ("results",)},
    ("sim/engine/execute.py", "multiprocessing"),  # the fork server: POSIX only
}


def test_no_import_hides_inside_a_function() -> None:
    found = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    parts = name.split(".")
                    if (rel, None) in LAZY_ALLOWED or any((rel, p) in LAZY_ALLOWED for p in parts):
                        continue
                    found.append(f"{rel}:{node.lineno}: {name}")
    assert not found, "imports inside functions hide the import graph:\n" + "\n".join(found)


def test_compare_runs_on_every_cpu_only_when_the_run_is_long_enough() -> None:
    def args(workers: int | None = None, dask: str | None = None) -> argparse.Namespace:
        return argparse.Namespace(workers=workers, dask=dask)

    assert workers_for_run(args(), PARALLEL_SECONDS / 2) == 1, "short: this process"
    assert workers_for_run(args(), PARALLEL_SECONDS * 2) is None, "long: every CPU"
    assert workers_for_run(args(workers=3), 0.1) == 3, "--workers decides"
    assert workers_for_run(args(workers=1), 1e6) == 1
    assert workers_for_run(args(dask="local"), 0.1) is None, "Dask's default"
