"""Writing scenario YAML with comments: every fitted figure says where it comes from.

PyYAML cannot write comments, so this small emitter writes the subset of YAML that scenarios
use: block mappings, flow mappings and lists of scalars, block lists of flow mappings, and
comments above a key or after its value. Strings are written as double-quoted JSON strings
(valid YAML), keys that YAML 1.1 would read as booleans are quoted, and floats never use
exponents (PyYAML reads ``1e+03`` as a string).
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Node", "dump"]

_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_YAML11 = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
WIDTH = 96


@dataclass
class Node:
    """A value with comments: ``comment`` after it on its line, ``above`` on lines before it."""

    value: Any
    comment: str = ""
    above: list[str] = field(default_factory=list)
    flow: bool | None = None  # None: flow when short and flat


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _key(k: Any) -> str:
    k = str(k)
    if _PLAIN_KEY.match(k) and k.lower() not in _YAML11:
        return k
    return json.dumps(k, ensure_ascii=False)


def _scalar(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"cannot write {f} to a scenario")
        return np.format_float_positional(f, trim="0")
    if v is None:
        return "null"
    return _key(v)


def _unwrap(v: Any) -> Any:
    return v.value if isinstance(v, Node) else v


def _flat(v: Any) -> bool:
    v = _unwrap(v)
    if isinstance(v, dict):
        return all(not isinstance(x, Node) and _flat(x) for x in v.values())
    if isinstance(v, list):
        return all(not isinstance(x, dict | list | Node) for x in v)
    return True


def _flow(v: Any) -> str:
    v = _unwrap(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def _block(text: str, pad: str) -> str:
    """A comment on lines of its own, wrapped to the width of the file."""
    if not text:
        return ""
    width = max(40, WIDTH - len(pad) - 2)
    return "\n".join(f"{pad}# {line}" for line in textwrap.wrap(_clean(text), width))


def _comment(text: str) -> str:
    return f"  # {_clean(text)}" if text else ""


def _emit(data: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for k, raw in data.items():
        node = raw if isinstance(raw, Node) else Node(raw)
        out += [_block(line, pad) for line in node.above]
        v = node.value
        head = f"{pad}{_key(k)}:"
        if isinstance(v, list) and v and _flat(v):
            out += _wrapped(head, v, pad, _comment(node.comment))
        elif isinstance(v, dict | list) and v:
            flow = node.flow
            if flow is None:
                flow = _flat(v) and len(head) + len(_flow(v)) + 1 <= WIDTH
            if flow:
                out.append(f"{head} {_flow(v)}{_comment(node.comment)}")
            elif isinstance(v, dict):
                out.append(f"{head}{_comment(node.comment)}")
                _emit(v, indent + 2, out)
            else:
                out.append(f"{head}{_comment(node.comment)}")
                for item in v:
                    inode = item if isinstance(item, Node) else Node(item)
                    out += [_block(line, pad + "  ") for line in inode.above]
                    out.append(f"{pad}  - {_flow(inode.value)}{_comment(inode.comment)}")
        elif isinstance(v, dict | list):
            out.append(f"{head} {'{}' if isinstance(v, dict) else '[]'}{_comment(node.comment)}")
        else:
            out.append(f"{head} {_scalar(v)}{_comment(node.comment)}")


def _wrapped(head: str, values: list[Any], pad: str, comment: str) -> list[str]:
    """A flow list, continued on further lines (indented deeper) when it is long."""
    items = [_scalar(x) for x in values]
    lines, line = [], f"{head} ["
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "]")
        if len(line) + len(piece) > WIDTH and not line.endswith("["):
            lines.append(line.rstrip())
            line = pad + "    "
        line += piece
    lines.append(line + comment)
    return lines


def dump(data: dict[str, Any], header: list[str] | None = None) -> str:
    """YAML text of ``data`` (values may be :class:`Node`), after ``header`` comment lines."""
    out = [_block(line, "") if line else "#" for line in header or []]
    if out:
        out.append("")
    _emit(data, 0, out)
    return "\n".join(out) + "\n"
