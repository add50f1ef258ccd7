"""The scenario file with the chosen placement added: its new stations and one new option.

The scenario's own text is kept, comments and all: the new stations go at the end of the
``stations`` block and the option at the end of ``options`` (each block added when the file
has none), and relative data-file paths are rewritten relative to the directory the new file
is written to. The text is read back and must give exactly the intended data; when it cannot
(a flow-style block, a scenario given as data), the scenario is written from its data instead,
without comments (:func:`scenario_text` says which).
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import ScenarioError
from ..schema.datapaths import DATA_FILE_FIELDS
from ..schema.yamlio import read_yaml

__all__ = ["flow", "scenario_text"]

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_YAML11 = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_STEP = "  "


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v} to a scenario")
        return np.format_float_positional(v, trim="0")
    if v is None:
        return "null"
    text = str(v)
    return text if _PLAIN.match(text) and text.lower() not in _YAML11 else json.dumps(text)


def flow(v: Any) -> str:
    """``v`` as one line of flow-style YAML."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return _scalar(v)


def _option_lines(name: str, option: dict[str, Any], indent: str, note: list[str]) -> list[str]:
    inner = indent + _STEP
    wrapped = [part for line in note for part in textwrap.wrap(line, 88)]
    out = [f"{indent}{_scalar(name)}:"] + [f"{inner}# {line}" for line in wrapped]
    for key, value in option.items():
        if isinstance(value, list):
            out.append(f"{inner}{key}:")
            out += [f"{inner}{_STEP}- {flow(item)}" for item in value]
        elif isinstance(value, dict):
            out.append(f"{inner}{key}:")
            out += [f"{inner}{_STEP}{_scalar(k)}: {flow(v)}" for k, v in value.items()]
        else:
            out.append(f"{inner}{key}: {flow(value)}")
    return out


def _block_end(lines: list[str], start: int) -> int:
    """Index after the last indented line of the top-level block whose key is on ``start``."""
    end = start + 1
    for i in range(start + 1, len(lines)):
        text = lines[i]
        if text.strip() and not text[0].isspace() and not text.startswith("#"):
            break
        if text.strip() and text[0].isspace():
            end = i + 1
    return end


def _child_indent(lines: list[str], start: int, end: int) -> str | None:
    """The indentation of the block's entries; None when the block is not a block mapping."""
    head = lines[start].split("#", 1)[0].rstrip()
    if not head.endswith(":"):
        return None  # a flow mapping or a value on the key's line
    for text in lines[start + 1 : end]:
        if text.strip() and not text.lstrip().startswith("#"):
            return text[: len(text) - len(text.lstrip())]
    return None


def _insert(lines: list[str], key: str, entries: list[str], keys: dict[Any, Any]) -> bool:
    """Put ``entries`` (indented with one step, re-indented to the block's) at the end of the
    top-level block ``key``; a new block at the end of the file when there is none."""
    if (key,) not in keys:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"{key}:", *(f"{_STEP}{e}" for e in entries)]
        return True
    start = keys[(key,)][0] - 1
    end = _block_end(lines, start)
    indent = _child_indent(lines, start, end)
    if indent is None:
        return False
    lines[end:end] = [f"{indent}{e}" for e in entries]
    return True


def _plain_end(text: str, col: int) -> int:
    """Where a plain scalar starting at ``col`` ends (a flow indicator, a comment, the line)."""
    m = re.search(r"[,}\]]|\s#", text[col:])
    return len(text.rstrip()) if m is None else col + m.start()


def _rewrite_paths(
    lines: list[str], values: dict[Any, Any], data: dict[str, Any], source: Path, out_dir: Path
) -> None:
    """Relative data-file paths made relative to ``out_dir`` instead of the source's folder."""
    for field in DATA_FILE_FIELDS:
        value = _at(data, field)
        if not isinstance(value, str):
            continue
        given = Path(value).expanduser()
        if given.is_absolute() or field not in values:
            continue
        file = os.path.abspath(source.parent / given)
        shared = os.path.commonpath([file, os.path.abspath(out_dir)])
        # relative when both lie under a common folder (they move together), else absolute
        target = os.path.relpath(file, out_dir) if shared != os.sep else file
        line, col = values[field]
        text = lines[line - 1]
        start = col - 1
        if text[start : start + 1] in ("'", '"'):
            stop = _quoted_end(text, start)
        else:
            stop = _plain_end(text, start)
        lines[line - 1] = text[:start] + json.dumps(target) + text[stop:]


def _quoted_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _expected(
    data: dict[str, Any], stations: dict[str, dict[str, Any]], name: str, option: dict[str, Any]
) -> dict[str, Any]:
    out = dict(data)
    out["stations"] = {**(data.get("stations") or {}), **stations}
    options = data.get("options") or {"base": {"description": "The scenario as written"}}
    out["options"] = {**options, name: option}
    return out


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _at(data: Any, field: tuple[str, ...]) -> Any:
    """The value at ``field`` (keys down to it), or None when a mapping on the way is missing."""
    for key in field:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _dropped(data: Any, field: tuple[str, ...]) -> Any:
    """``data`` without the key at ``field``; the mappings on the way are copied."""
    if not isinstance(data, dict):
        return data
    key, *rest = field
    if not rest:
        return {k: v for k, v in data.items() if k != key}
    return {**data, key: _dropped(data[key], tuple(rest))} if key in data else data


def _without_paths(data: dict[str, Any]) -> dict[str, Any]:
    out = data
    for field in DATA_FILE_FIELDS:
        out = _dropped(out, field)
    return out


def scenario_text(
    source: Path | None,
    data: dict[str, Any],
    stations: dict[str, dict[str, Any]],
    name: str,
    option: dict[str, Any],
    out_dir: Path,
    note: list[str],
) -> tuple[str, bool]:
    """The scenario of ``source`` (or of ``data``, the validated scenario as data with
    absolute paths) with ``stations`` and option ``name`` added, to be written into
    ``out_dir``; True when the source's text and comments were kept."""
    if source is not None:
        spliced = _spliced(source, stations, name, option, out_dir, note)
        if spliced is not None:
            return spliced, True
    full = _expected(data, stations, name, option)
    header = (
        "# Written by intersim site from the scenario's data (its comments could not be kept)\n"
    )
    return header + yaml.safe_dump(full, sort_keys=False, allow_unicode=True), False


def _spliced(
    source: Path,
    stations: dict[str, dict[str, Any]],
    name: str,
    option: dict[str, Any],
    out_dir: Path,
    note: list[str],
) -> str | None:
    try:
        located = read_yaml(source)
        raw = source.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, ScenarioError):  # unreadable now: write the data
        return None
    if not isinstance(located.data, dict):
        return None
    lines = raw.splitlines()
    _rewrite_paths(lines, located.values, located.data, source, out_dir)
    entries = [f"# Added by intersim site: {len(stations)} new station(s) of option {name}"]
    entries += [f"{_scalar(sid)}: {flow(entry)}" for sid, entry in stations.items()]
    option_lines = _option_lines(name, option, "", note)
    # the options block first: it lies below the stations block in most files, and inserting
    # lower lines first keeps the positions of the upper ones
    order = sorted(
        [("options", option_lines), ("stations", entries if stations else [])],
        key=lambda item: -located.keys.get((item[0],), (10**9, 0))[0],
    )
    for key, block in order:
        if block and not _insert(lines, key, block, located.keys):
            return None
    text = "\n".join(lines) + "\n"
    try:
        back = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    want = _expected(yaml.safe_load(raw), stations, name, option)
    if not isinstance(back, dict) or not _same(_without_paths(back), _without_paths(want)):
        return None
    return text
