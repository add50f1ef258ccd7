"""Sweep parameters: dotted paths into the scenario's YAML structure, and their values.

A path such as ``services.ambulance.units.0.count`` walks the plain data read from the scenario
file: mapping keys by name, list items by index. It must end at a value (a number, a word, a
duration string, true/false), either written in the file or a field of the model at that place
that the file leaves at its default (``demand_scale``,
``options.pooled.dispatch.ambulance.reserve``).

Values are written as one of:

* a comma list: ``1,2,3`` or ``separate,pooled`` (a single value fixes the field);
* a range ``start:stop:steps``: ``steps`` evenly spaced values from start to stop inclusive;
  integers stay integers when start and stop are integers and the step is whole;
* for sampled designs (lhs, random) only: ``uniform(a,b)`` (floats) or ``int(a,b)`` (integers,
  both ends included); a list is then sampled from.

Sizes are bounded where they are written: a range of more than :data:`MAX_VALUES` steps and a
number of more than :data:`MAX_NUMBER_CHARS` characters are refused with their count, before
any value is made.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel

from ..errors import InputError
from ..schema.load import model_at

__all__ = [
    "FORBIDDEN",
    "Param",
    "apply_point",
    "check_path",
    "parse_param",
    "parse_scalar",
    "parse_values",
    "set_path",
]

Scalar = int | float | str | bool | None
Key = str | int
MAX_VALUES = 100_000  # values of one parameter, and points of a design (each validated: ~1 ms)
MAX_NUMBER_CHARS = 30  # a number written longer is no count, rate or duration

FORBIDDEN = {
    "run.replications": "the number of replications is a setting of the sweep "
    "(--replications or 'replications:'), not a parameter",
}

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DIST = re.compile(r"^\s*(uniform|int)\s*\((.*)\)\s*$", re.IGNORECASE)
_LOOKS_DIST = re.compile(r"^\s*[A-Za-z_]+\s*\(.*\)\s*$")


@dataclass(frozen=True)
class Param:
    """One swept field: a list of values, or a distribution to sample (lhs, random)."""

    path: str
    values: tuple[Scalar, ...] = ()
    dist: Literal["uniform", "int"] | None = None
    low: float = 0.0
    high: float = 0.0

    @property
    def fixed(self) -> bool:
        """One value only: the field is set, not varied."""
        return self.dist is None and len(self.values) == 1

    def describe(self) -> str:
        if self.dist is not None:
            return f"{self.dist}({_num(self.low)},{_num(self.high)})"
        return ",".join(str(v) for v in self.values)

    def spec(self) -> dict[str, Any]:
        """JSON-ready definition (part of the sweep's definition hash)."""
        if self.dist is not None:
            return {"path": self.path, "dist": self.dist, "low": self.low, "high": self.high}
        return {"path": self.path, "values": list(self.values)}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def parse_scalar(text: str) -> Scalar:
    """A word of a VALUES list: an integer, a number, true/false, or text as written."""
    t = text.strip()
    if (_INT.match(t) or _FLOAT.match(t)) and len(t) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(t):,} characters is too large")
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() in ("null", "none", "~"):
        return None
    return t


def _number(text: str, what: str) -> int | float:
    value = parse_scalar(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} {text.strip()!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{what} {text.strip()!r} is not finite")
    return value


def _range(text: str) -> list[Scalar]:
    parts = text.split(":")
    try:
        start, stop = _number(parts[0], "start"), _number(parts[1], "stop")
        steps = _number(parts[2], "steps")
    except ValueError as exc:
        raise ValueError(
            f"bad range {text.strip()!r}: {exc}; expected start:stop:steps, e.g. 0.8:1.2:5"
        ) from None
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"bad range {text.strip()!r}: steps must be a whole number >= 1")
    if steps > MAX_VALUES:
        raise ValueError(f"bad range {text.strip()!r}: {steps:,} steps (at most {MAX_VALUES:,})")
    if steps == 1 and start != stop:
        raise ValueError(f"bad range {text.strip()!r}: one step cannot reach from start to stop")
    if steps == 1:
        return [start]
    width = (stop - start) / (steps - 1)
    if isinstance(start, int) and isinstance(stop, int) and float(width).is_integer():
        return [start + int(width) * i for i in range(steps)]
    return [float(f"{start + (stop - start) * i / (steps - 1):.12g}") for i in range(steps)]


def parse_values(
    text: str, *, sampled: bool
) -> tuple[tuple[Scalar, ...], tuple[str, float, float] | None]:
    """Parse VALUES: a list of values, or (for sampled designs) a distribution."""
    m = _DIST.match(text)
    if m:
        kind = m.group(1).lower()
        args = m.group(2).split(",")
        if len(args) != 2:
            raise ValueError(f"{kind}(a,b) takes two numbers, got {text.strip()!r}")
        low, high = (_number(a, "bound") for a in args)
        if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
            raise ValueError(f"int(a,b) takes whole numbers, got {text.strip()!r}")
        if not low < high:
            raise ValueError(f"{text.strip()!r}: the lower bound must be below the upper bound")
        if not sampled:
            raise ValueError(
                f"{text.strip()!r} is a distribution: use it with --design lhs or "
                "random (a grid needs a list or a start:stop:steps range)"
            )
        return (), (kind, float(low), float(high))
    if _LOOKS_DIST.match(text):
        raise ValueError(f"unknown distribution {text.strip()!r} (use uniform(a,b) or int(a,b))")
    values: list[Scalar] = []
    for item in text.split(","):
        if not item.strip():
            raise ValueError(f"empty value in {text.strip()!r}")
        if item.count(":") == 2:
            values.extend(_range(item))
        else:
            values.append(parse_scalar(item))
        if len(values) > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES:,} values")
    return tuple(values), None


def parse_param(path: str, given: object, *, sampled: bool) -> Param:
    """A parameter from its VALUES text, a list of values, or one value (raise ValueError)."""
    if isinstance(given, str):
        values, dist = parse_values(given, sampled=sampled)
    elif isinstance(given, list | tuple):
        if not given:
            raise ValueError("an empty list of values")
        bad = [v for v in given if isinstance(v, dict | list)]
        if bad:
            raise ValueError(f"values must be numbers or words, got {bad[0]!r}")
        values, dist = tuple(_plain(v) for v in given), None
    elif isinstance(given, dict):
        raise ValueError("expected a value, a list of values or a string such as '1:3:3'")
    else:
        values, dist = (_plain(given),), None
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"value {v!r} is not finite")
    if dist is not None:
        return Param(path, (), dist[0], dist[1], dist[2])  # type: ignore[arg-type]
    unique = tuple(dict.fromkeys(values))
    if len(unique) < len(values):
        raise ValueError(f"a value is listed twice in {', '.join(map(str, values))}")
    return Param(path, unique)


def _plain(value: object) -> Scalar:
    """Numpy scalars and the like as plain Python values."""
    if hasattr(value, "item") and not isinstance(value, str | int | float | bool):
        value = value.item()
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(f"value {value!r} is not a number or a word")
    return value  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# paths


def _split(path: str) -> list[str]:
    return path.strip().split(".")


def _walk(data: Any, path: str) -> tuple[list[Key], Any, str | None]:
    """Keys of ``path`` in ``data``, the value there, and what went wrong (None if fine)."""
    keys: list[Key] = []
    node = data
    parts = _split(path)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part in node:
                keys.append(part)
                node = node[part]
                continue
            if last and _addable(data, keys, part):
                keys.append(part)
                return keys, None, None
            return keys, None, "no such field in the scenario"
        if isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                keys.append(int(part))
                node = node[int(part)]
                continue
            return keys, None, f"'{part}' is not an index of the list there (0 to {len(node) - 1})"
        return keys, None, "no such field in the scenario"
    if isinstance(node, dict | list):
        kind = "mapping" if isinstance(node, dict) else "list"
        return keys, node, f"is a {kind}, not a single value"
    return keys, node, None


def _scalar_type(tp: Any) -> bool:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (Union, types.UnionType):
        return any(_scalar_type(a) for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is Literal:
        return True
    return tp in (int, float, str, bool)


def _model_of(data: Any, keys: list[Key]) -> type[BaseModel] | None:
    """The model of the mapping at ``keys`` (a distribution's model is found by its tag)."""
    node = data
    for k in keys:
        node = node[k]
    loc: tuple[Key, ...] = tuple(keys)
    if isinstance(node, dict) and isinstance(node.get("dist"), str):
        loc = (*loc, node["dist"])
    return model_at(loc)


def _addable(data: Any, keys: list[Key], field: str) -> bool:
    """Whether ``field`` is a single-value field of the model at ``keys`` (left at its default)."""
    model = _model_of(data, keys)
    return (
        model is not None
        and field in model.model_fields
        and _scalar_type(model.model_fields[field].annotation)
    )


def _candidates(data: Any) -> Iterator[str]:
    """Every path a parameter may take: values in the data, and defaulted model fields."""

    def rec(node: Any, keys: list[Key]) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from rec(v, [*keys, k])
            model = _model_of(data, keys)
            if model is not None:
                for name, field in model.model_fields.items():
                    if name not in node and _scalar_type(field.annotation):
                        yield ".".join(map(str, [*keys, name]))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from rec(v, [*keys, i])
        elif keys:
            yield ".".join(map(str, keys))

    yield from rec(data, [])


def check_path(data: Any, path: str) -> list[Key]:
    """The keys of ``path`` in the scenario data; raise ValueError naming the nearest paths."""
    if path in FORBIDDEN:
        raise ValueError(FORBIDDEN[path])
    if not path or any(not p for p in _split(path)):
        raise ValueError("empty path (write keys separated by dots, e.g. run.warmup)")
    keys, _, problem = _walk(data, path)
    if problem is None:
        return keys
    valid = sorted(set(_candidates(data)))
    if problem.startswith("is a"):
        inside = [p for p in valid if p.startswith(path + ".")]
        hint = f"; e.g. {', '.join(inside[:5])}" if inside else ""
        raise ValueError(f"{problem}{hint}")
    near = difflib.get_close_matches(path, valid, n=5, cutoff=0.6)
    if not near:  # the paths below the deepest part that exists
        prefix = ".".join(map(str, keys))
        if prefix:
            near = [p for p in valid if p.startswith(prefix + ".")][:5]
        else:
            near = [p for p in valid if "." not in p][:5]
    hint = f"; nearest valid paths: {', '.join(near)}" if near else ""
    raise ValueError(f"{problem}{hint}")


def set_path(data: Any, keys: list[Key], value: Scalar) -> None:
    node = data
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value


def apply_point(data: dict[str, Any], point: dict[str, Scalar]) -> dict[str, Any]:
    """A copy of the scenario data with the point's values set (paths already checked)."""
    out = copy.deepcopy(data)
    for path, value in point.items():
        keys, _, problem = _walk(out, path)
        if problem is not None:
            raise InputError(f"{path}: {problem}")
        set_path(out, keys, value)
    return out
