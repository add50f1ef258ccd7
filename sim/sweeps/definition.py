"""A sweep's definition: the scenario, the parameters, the design points and the task list.

The definition is built in the parent process and checked completely before anything runs:
every path must exist, every value must parse, and every design point must give a valid
scenario (a bad point is reported with its file position, the path and the value). Its hash
(SHA-256 of the canonical JSON of the scenario data, parameters, design, seed, replications,
options and points) is stored with the results, so that ``--resume`` continues only the same
sweep.

A sweep file (``intersim sweep STUDY.yaml``) holds the same settings::

    scenario: two_towns.yaml        # relative to the sweep file
    params:
      demand_scale: 0.8:1.4:4       # VALUES text, a YAML list, or one value (fixed)
      options.mutual_aid.dispatch.ambulance.reserve: [0, 1]
      run.horizon: 90 d
    design: grid                    # grid (default), lhs or random
    samples: 20                     # lhs and random only
    replications: 5                 # default: the scenario's run.replications
    seed: 7                         # default: the scenario's run.seed
    options: [separate, pooled]     # default: all options of the scenario
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..analysis.runsize import early_estimate
from ..errors import InputError, Problem, ScenarioError
from ..schema.load import scenario_from_data, validate_located
from ..schema.yamlio import Located, read_yaml
from .design import make_points
from .params import Param, Scalar, apply_point, check_path, parse_param

__all__ = ["SweepDefinition", "SweepFile", "Task", "build_definition", "is_sweep_file"]

MAX_REPORTED = 10
ScalarValue = bool | int | float | str | None


class SweepFile(BaseModel):
    """A sweep file: a scenario, the parameters to vary, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    scenario: str = Field(description="Scenario file, relative to the sweep file")
    description: str = ""
    params: dict[str, ScalarValue | list[ScalarValue]] = Field(
        min_length=1, description="Dotted path -> VALUES text, a list of values, or one value"
    )
    design: Literal["grid", "lhs", "random"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000)
    replications: int | None = Field(None, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0)
    options: list[str] | None = Field(None, min_length=1)


def is_sweep_file(located: Located) -> bool:
    """A sweep file names a scenario; a scenario file has communities."""
    return isinstance(located.data, dict) and "scenario" in located.data


@dataclass(frozen=True)
class Task:
    """One unit of work: a design point, a pooling option, a replication."""

    index: int
    point: int
    option: str
    replication: int


@dataclass(frozen=True)
class SweepDefinition:
    """Everything that determines a sweep's results."""

    name: str
    scenario_file: Path | None
    sweep_file: Path | None
    base: dict[str, Any]  # scenario data, with run.seed set to ``seed``
    params: tuple[Param, ...]
    design: str
    samples: int | None
    replications: int
    seed: int
    options: tuple[str, ...]
    services: tuple[str, ...]
    points: tuple[dict[str, Scalar], ...]
    # the estimated seconds of one task of each point: not a result, only the order in which
    # the tasks are sent (the longest first, so that no long task is left to run alone last)
    costs: tuple[float, ...] = field(repr=False, compare=False)
    base_json: str = field(repr=False, default="")

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.params]

    @property
    def varied(self) -> list[str]:
        """Paths that take more than one value across the points."""
        return [
            path for path in self.paths if len({json.dumps(pt[path]) for pt in self.points}) > 1
        ]

    @property
    def n_tasks(self) -> int:
        return len(self.points) * len(self.options) * self.replications

    def tasks(self) -> list[Task]:
        """Every task, indexed point-major, then option, then replication."""
        out = []
        i = 0
        for p in range(len(self.points)):
            for option in self.options:
                for r in range(self.replications):
                    out.append(Task(i, p, option, r))
                    i += 1
        return out

    def by_cost(self, tasks: list[Task]) -> list[Task]:
        """``tasks`` with the longest estimated first (stable: the tasks of a point stay
        together, so that a worker compiles each point it runs once)."""
        return sorted(tasks, key=lambda t: -self.costs[t.point])

    def point_json(self, point: int) -> str:
        return json.dumps(self.points[point], sort_keys=True)

    def spec(self) -> dict[str, Any]:
        """The canonical definition: what the hash covers."""
        return {
            "scenario": self.base,
            "params": [p.spec() for p in self.params],
            "design": self.design,
            "samples": self.samples,
            "replications": self.replications,
            "seed": self.seed,
            "options": list(self.options),
            "points": list(self.points),
        }

    def hash(self) -> str:
        text = json.dumps(self.spec(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _located_scenario(
    scenario: str | Path | dict[str, Any] | Located,
) -> tuple[Located, Path | None]:
    if isinstance(scenario, Located):
        return scenario, Path(scenario.file) if Path(scenario.file).is_file() else None
    if isinstance(scenario, dict):
        return Located("<scenario>", copy.deepcopy(scenario)), None
    return read_yaml(scenario), Path(scenario)


def _problem(
    located: Located | None, where: tuple[str | int, ...], message: str, label: str
) -> InputError:
    if located is None:
        return InputError(f"{label}: {message}")
    pos = located.position(where, key=True)
    line, col = pos if pos else (None, None)
    return ScenarioError([Problem(located.file, line, col, ".".join(map(str, where)), message)])


def build_definition(
    scenario: str | Path | dict[str, Any] | Located,
    params: Mapping[str, object] | None = None,
    *,
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    options: list[str] | None = None,
) -> SweepDefinition:
    """Read a scenario or a sweep file, apply explicit settings over the file's, and check it all.

    ``params`` maps a dotted path to VALUES text (``"1:3:3"``, ``"uniform(1,2)"``), a list of
    values, or one value; given here they override a sweep file's. Raise InputError (or
    ScenarioError, with file positions) on any problem.
    """
    sweep_loc: Located | None = None
    sweep_file: Path | None = None
    file_params: dict[str, object] = {}
    if isinstance(scenario, str | Path) and not Path(scenario).is_dir():
        first = read_yaml(scenario)
        if is_sweep_file(first):
            sweep_loc, sweep_file = first, Path(scenario)
            spec = validate_located(first, SweepFile)
            file_params = dict(spec.params)
            design = design or spec.design
            samples = samples if samples is not None else spec.samples
            replications = replications or spec.replications
            seed = seed if seed is not None else spec.seed
            options = options or spec.options
            target = Path(spec.scenario)
            scenario = target if target.is_absolute() else Path(scenario).parent / target
    located, scenario_file = _located_scenario(scenario)
    base_scenario = scenario_from_data(located)  # the scenario itself must be valid first
    design = design or "grid"
    sampled = design in ("lhs", "random")

    parsed: dict[str, Param] = {}
    for source, given, where_loc in (
        ("file", file_params, sweep_loc),
        ("args", params or {}, None),
    ):
        for path, value in given.items():
            label = f"--param {path}" if where_loc is None else path
            try:
                check_path(located.data, path)
                parsed[path] = parse_param(path, value, sampled=sampled)
            except ValueError as exc:
                raise _problem(where_loc, ("params", path), str(exc), label) from None
            if source == "args" and path in file_params:
                del file_params[path]  # given on the command line: overrides the file
    if not parsed:
        raise InputError(
            "sweep: give at least one --param PATH=VALUES (or params: in a sweep file)"
        )

    chosen = list(options) if options else list(base_scenario.options)
    unknown = [o for o in chosen if o not in base_scenario.options]
    if unknown:
        known = ", ".join(base_scenario.options)
        raise InputError(f"sweep: unknown option '{unknown[0]}' (known: {known})")
    if len(set(chosen)) < len(chosen):
        raise InputError("sweep: an option is listed twice")
    reps = replications or base_scenario.run.replications
    run_seed = base_scenario.run.seed if seed is None else seed

    try:
        points = make_points(list(parsed.values()), design, samples, run_seed)
    except ValueError as exc:
        raise InputError(f"sweep: {exc}") from None

    base = copy.deepcopy(located.data)
    base.setdefault("run", {})["seed"] = run_seed
    services = tuple(base_scenario.services)
    costs = _check_points(located, base, points)
    return SweepDefinition(
        name=base_scenario.name,
        scenario_file=scenario_file,
        sweep_file=sweep_file,
        base=base,
        params=tuple(parsed.values()),
        design=design,
        samples=samples if sampled else None,
        replications=reps,
        seed=run_seed,
        options=tuple(chosen),
        services=services,
        points=tuple(points),
        base_json=json.dumps(base, sort_keys=True),
        costs=tuple(costs),
    )


def _check_points(
    located: Located, base: dict[str, Any], points: list[dict[str, Scalar]]
) -> list[float]:
    """Validate the scenario of every design point; report the problems with path and value.
    Return the estimated seconds of one task of each point (one option, one replication)."""
    costs: list[float] = []
    problems: list[Problem] = []
    bad_points = 0
    seen: set[str] = set()
    for i, point in enumerate(points):
        data = apply_point(base, point)
        try:
            scenario = scenario_from_data(Located(located.file, data, located.values, located.keys))
            costs.append(early_estimate(scenario, 1, 1).seconds)
        except ScenarioError as exc:
            bad_points += 1
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            for p in exc.problems:
                key = str(p)
                if key in seen:
                    continue
                seen.add(key)
                if len(problems) < MAX_REPORTED:
                    problems.append(
                        Problem(
                            p.file,
                            p.line,
                            p.column,
                            p.field,
                            f"{p.message} (sweep point {i}: {shown})",
                        )
                    )
    if problems:
        if bad_points > 1:
            last = problems[-1]
            message = f"{last.message}; {bad_points} of {len(points)} points are invalid"
            problems[-1] = Problem(last.file, last.line, last.column, last.field, message)
        raise ScenarioError(problems)
    return costs
