"""Read and validate a scenario file: YAML -> plain data -> typed :class:`Scenario`.

Every problem of a file is reported at once with its file, line, column and field path:
first the shape and values (pydantic), then, if those are sound, the cross-references. Later
stages that find a problem in what they derive from a scenario (the compiled model) report it
at the field it comes from with :func:`scenario_error`: a validated scenario remembers where
it was read from.
"""

from __future__ import annotations

import difflib
import types
import typing
import weakref
from pathlib import Path
from typing import Any, TypeVar, Union

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from ..errors import Problem, ScenarioError
from .datapaths import resolve_data_paths
from .geography import survey
from .references import check_references
from .scenario import Scenario
from .travelcheck import travel_problems
from .yamlio import Located, read_yaml

__all__ = [
    "load_scenario",
    "peek_scenario",
    "scenario_error",
    "scenario_from_data",
    "scenario_from_dict",
    "validate_located",
]

PathKey = tuple[str | int, ...]
_M = TypeVar("_M", bound=BaseModel)
_SOURCES: dict[int, Located] = {}  # id of a validated scenario -> where it was read from


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and return the scenario in ``path``; raise ScenarioError otherwise."""
    return scenario_from_data(read_yaml(path))


def peek_scenario(path: str | Path) -> Scenario | None:
    """The scenario in ``path`` validated in shape only: no cross-reference checked and no
    data file read (zones, boundaries, travel matrix), or None if it is not a sound scenario
    (:func:`load_scenario` then says why). Enough to size a run before its data files are
    read, in a few milliseconds."""
    try:
        located = read_yaml(path)
        file = Path(located.file)
        data = resolve_data_paths(located.data, file.parent if file.is_file() else Path.cwd())
        return Scenario.model_validate(data)
    except Exception:  # any problem at all: the full load reports it, with its place
        return None


def scenario_from_dict(data: dict[str, Any], name: str = "<scenario>") -> Scenario:
    """Validate a scenario given as plain Python data (errors carry no line numbers)."""
    return scenario_from_data(Located(name, data))


def scenario_from_data(located: Located) -> Scenario:
    """Validate data read by :func:`read_yaml` (or built in code, with empty positions).

    Data files the scenario names (zones, boundaries, travel matrix) are read and checked
    too; their relative paths are made absolute against the scenario file's folder (the
    working directory for data built in code), in ``located.data`` itself."""
    file = Path(located.file)
    located.data = resolve_data_paths(located.data, file.parent if file.is_file() else Path.cwd())
    try:
        scenario = Scenario.model_validate(located.data)
    except ValidationError as exc:
        raise ScenarioError(_problems(located, exc)) from None
    found_refs = list(dict.fromkeys(check_references(scenario)))  # options may repeat one
    problems = [_at(located, path, msg) for path, msg in found_refs]
    geo, found = survey(scenario)  # places, zones and their files
    if geo is not None:
        found += travel_problems(scenario, geo)
    problems += [f if isinstance(f, Problem) else _at(located, *f) for f in found]
    if problems:
        raise ScenarioError(problems)
    key = id(scenario)
    _SOURCES[key] = located
    weakref.finalize(scenario, _SOURCES.pop, key, None)
    return scenario


def scenario_error(scenario: Scenario, found: list[tuple[PathKey, str]]) -> ScenarioError:
    """Problems found in ``scenario`` (field path, message), placed in the file it was read
    from when known."""
    located = _SOURCES.get(id(scenario)) or Located("<scenario>", None)
    return ScenarioError([_at(located, path, msg) for path, msg in found])


def validate_located(located: Located, model: type[_M]) -> _M:
    """Validate data read by :func:`read_yaml` against any model of the format's style (e.g.
    a sweep file), with the same file:line:column problems as scenarios."""
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        raise ScenarioError(_problems(located, exc, model)) from None


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _at(located: Located, path: PathKey, message: str, *, key: bool = False) -> Problem:
    # a problem with a whole mapping or list points at its key, not at its first entry
    key = key or isinstance(_value_at(located.data, path), dict | list)
    pos = located.position(path, key=key)
    line, col = pos if pos else (None, None)
    return Problem(located.file, line, col, ".".join(str(p) for p in path), message)


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[PathKey, list[str | int]]:
    """Split a pydantic location into the path that exists in the data and the union tags."""
    path: list[str | int] = []
    tags: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        else:
            tags.append(part)
    return tuple(path), tags


def model_at(
    loc: tuple[str | int, ...], root: type[BaseModel] = Scenario
) -> type[BaseModel] | None:
    """The model class that the mapping at ``loc`` is validated against."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    return _as_model(current, None)


def _as_model(tp: Any, tag: str | int | None) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _as_model(typing.get_args(tp)[0], tag)
    if origin in (Union, types.UnionType):
        models = [m for a in typing.get_args(tp) if (m := _as_model(a, tag)) is not None]
        for m in models:
            field = m.model_fields.get("dist")
            if tag is None or (field is not None and tag in typing.get_args(field.annotation)):
                return m
        return models[0] if len(models) == 1 else None
    return None


def _tagged(tp: Any, part: str | int) -> Any:
    """The member of a tagged union (``Tag(part)``) that ``part`` selects, or None."""
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        if any(isinstance(m, Tag) and m.tag == part for m in args[1:]):
            return args[0]
        tp = args[0]
    if typing.get_origin(tp) in (Union, types.UnionType):
        for arg in typing.get_args(tp):
            found = _tagged(arg, part)
            if found is not None:
                return found
    return None


def _step(tp: Any, part: str | int) -> Any:
    tagged = _tagged(tp, part)
    if tagged is not None:
        return tagged
    model = _as_model(tp, part)
    if model is not None and isinstance(part, str):
        if part in model.model_fields:
            return model.model_fields[part].annotation
        if "dist" in model.model_fields:  # a discriminated-union tag: stay on the model
            return model
        return None
    inner = tp
    while typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    if typing.get_origin(inner) in (Union, types.UnionType):
        for arg in typing.get_args(inner):
            nxt = _step(arg, part)
            if nxt is not None:
                return nxt
        return None
    origin = typing.get_origin(inner)
    if origin is dict:
        return typing.get_args(inner)[1]
    if origin in (list, tuple):
        return typing.get_args(inner)[0]
    return None


def _unknown_key(
    located: Located, loc: tuple[str | int, ...], path: PathKey, root: type[BaseModel] = Scenario
) -> Problem:
    key = str(loc[-1])
    model = model_at(loc[:-1], root)
    path = path if path and path[-1] == loc[-1] else (*path, key)
    allowed = sorted(model.model_fields) if model else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = f" (allowed: {', '.join(allowed)})" if allowed else ""
    return _at(located, path, f"unknown key '{key}'{hint}{listing}", key=True)


def _message(err: ErrorDetails) -> str:
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys (key: value), got {_kind(err.get('input'))}"
    if err["type"] in ("list_type",):
        return f"expected a list, got {_kind(err.get('input'))}"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    msg = msg[:1].lower() + msg[1:]
    if err["type"] not in ("missing", "value_error") and not isinstance(
        err.get("input"), dict | list
    ):
        shown = repr(err.get("input"))
        msg += f" (got {shown[:60]})"
    return msg


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)[:60]


def _bad_tag(err: ErrorDetails) -> str:
    tag = str(err.get("ctx", {}).get("tag", ""))
    allowed = [t.strip(" '") for t in str(err.get("ctx", {}).get("expected_tags", "")).split(",")]
    close = difflib.get_close_matches(tag, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown distribution '{tag}'{hint} (allowed: {', '.join(allowed)})"


def _problems(
    located: Located, exc: ValidationError, root: type[BaseModel] = Scenario
) -> list[Problem]:
    by_path: dict[PathKey, list[str]] = {}
    from_union: set[PathKey] = set()
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path, tags = _data_path(located.data, loc)
        if err["type"] == "extra_forbidden":
            problems.append(_unknown_key(located, loc, path, root))
            continue
        if err["type"] == "missing":
            field = str(loc[-1])
            target = (*path, field)
            by_path.setdefault(target, []).append(f"missing required key '{field}'")
            continue
        if err["type"] == "union_tag_invalid":
            by_path.setdefault((*path, "dist"), []).append(_bad_tag(err))
            continue
        if err["type"] == "union_tag_not_found":
            by_path.setdefault(path, []).append(
                "a distribution needs 'dist' (fixed, exponential, lognormal, gamma, normal, "
                "uniform, triangular or empirical), or a plain number of minutes"
            )
            continue
        if tags:
            from_union.add(path)
        by_path.setdefault(path, []).append(_message(err))
    for shallow in from_union:  # a union branch that failed at the top hides a deeper reason
        if any(p[: len(shallow)] == shallow and p != shallow for p in by_path):
            by_path.pop(shallow, None)
    for path, messages in by_path.items():
        unique = list(dict.fromkeys(messages))
        if len(unique) > 1:  # union: drop the branches of another shape than the input's
            given = _value_at(located.data, path)
            unique = [
                m
                for m in unique
                if not (m.startswith("expected a mapping") and not isinstance(given, dict))
                and not (m.startswith("expected a list") and not isinstance(given, list))
            ] or unique
        text = unique[0] if len(unique) == 1 else "expected one of: " + "; or ".join(unique)
        problems.append(_at(located, path, text))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems
