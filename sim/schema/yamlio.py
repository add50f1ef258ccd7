"""Safe YAML reading that remembers where every value was written.

PyYAML's safe loader silently keeps the last of two equal keys and expands aliases without
limit; this reader rejects duplicate keys, bounds the expansion of aliases, the file size, the
nesting depth and the digits of an integer, refuses control characters in keys and values, and
returns, beside the plain data, the line and column of every value and key so that later errors
can point into the file.

Files are opened without blocking and read only when they are regular files (a FIFO, a device
or a directory is refused by its kind); every failure to open or read is one line. UTF-8 is
the format's encoding; UTF-16 and UTF-32 files with a byte-order mark, which YAML allows, are
read too.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, ScenarioError

__all__ = ["MAX_BYTES", "MAX_NODES", "Located", "read_input", "read_yaml"]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_INT_CHARS = 30  # an integer written with more characters is no count, seed or duration
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
# control characters: none in keys; in values only tab, line feed and carriage return
_KEY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_VALUE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

PathKey = tuple[str | int, ...]
_SEXAGESIMAL = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap")
# libyaml's parser when available: the pure-Python one takes seconds on a large file
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Located:
    """Plain data read from a file, with the position of every value and key."""

    file: str
    data: Any
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey, *, key: bool = False) -> tuple[int, int] | None:
        """Line and column (1-based) of the value at ``path``, or of its nearest parent."""
        table = self.keys if key and path in self.keys else self.values
        while path not in table and path:
            path = path[:-1]
            table = self.values
        return table.get(path)


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.located = Located(file, None)
        self.loader = loader
        self.nodes = 0
        self.aliases = False
        self.seen: set[int] = set()
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node, message: str) -> Problem:
        mark = node.start_mark
        return Problem(self.located.file, mark.line + 1, mark.column + 1, "", message)

    def fail(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError([self.problem(node, message)])

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            why = "; aliases (*name) expand too much" if self.aliases else ""
            raise self.fail(node, f"too many values (over {MAX_NODES:,}){why}")
        if len(path) > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        self.located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.CollectionNode):
            if node.tag not in _COLLECTION_TAGS:
                raise self.fail(node, f"tag {node.tag!r} is not allowed in a scenario")
            if id(node) in self.seen:
                self.aliases = True  # the same node again: it was reached through an alias
            self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag in _SEXAGESIMAL and ":" in str(node.value):
            return str(node.value)  # YAML 1.1 reads 8:59 as 539; intersim means a duration
        if node.tag == _INT_TAG and len(str(node.value)) > MAX_INT_CHARS:
            self.problems.append(
                self.problem(node, f"a number of {len(str(node.value)):,} digits is too large")
            )
            return None
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str):
            self._check_text(node, value, _VALUE_CONTROL, "value")
        return value

    def _check_text(self, node: yaml.Node, text: str, pattern: re.Pattern[str], what: str) -> bool:
        found = pattern.search(text)
        if found is not None:
            code = f"U+{ord(found.group()):04X}"
            self.problems.append(
                self.problem(node, f"a {what} holds the control character {code}; remove it")
            )
        return found is None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        self.loader.flatten_mapping(node)  # merged (<<) pairs first, then the mapping's own
        merged = len(node.value) - own
        out: dict[str, Any] = {}
        from_merge: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be a plain name, not a list or mapping")
            if key_node.tag == _INT_TAG and len(str(key_node.value)) > MAX_INT_CHARS:
                raise self.fail(key_node, "a key must be a name, not a number this long")
            key = self.loader.construct_object(key_node)
            key = str(key) if not isinstance(key, str) else key
            if not self._check_text(key_node, key, _KEY_CONTROL, "key"):
                continue
            if key in out:
                if key in from_merge and index >= merged:
                    from_merge.discard(key)  # the mapping's own key overrides a merged one
                elif index < merged:
                    continue  # of two merged mappings, the first one's key wins
                else:
                    first = self.located.keys[(*path, key)]
                    self.problems.append(
                        self.problem(key_node, f"duplicate key '{key}' (first at line {first[0]})")
                    )
                    continue
            elif index < merged:
                from_merge.add(key)
            self.located.keys[(*path, key)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = self.build(value_node, (*path, key))
        return out


def _decode(raw: bytes, file: str) -> str:
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                raise ScenarioError(
                    [Problem(file, None, None, "", f"not {name} text; save the file as UTF-8")]
                ) from None
    if b"\x00" in raw:
        raise ScenarioError([Problem(file, None, None, "", "binary file, not YAML text")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [Problem(file, line, None, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None


def _code(character: object) -> str:
    code = character if isinstance(character, int) else ord(str(character)[:1] or "?")
    return f"U+{code:04X}"


def _unreadable(file: str, why: str) -> ScenarioError:
    return ScenarioError([Problem(file, None, None, "", why)])


def _open_error(file: str, exc: OSError, what: str) -> ScenarioError:
    if isinstance(exc, FileNotFoundError):
        return _unreadable(file, "no such file")
    if isinstance(exc, NotADirectoryError):
        return _unreadable(file, "not a file: a part of the path is not a directory")
    if isinstance(exc, IsADirectoryError):
        return _unreadable(file, f"is a directory, not a {what}")
    return _unreadable(file, f"cannot read: {exc.strerror or exc}")


def read_input(path: str | Path, limit: int = MAX_BYTES, what: str = "scenario file") -> bytes:
    """The bytes of an input file, at most ``limit`` of them; ScenarioError (one line naming
    the file) if it is no regular file, cannot be read, or is larger."""
    file = os.fspath(path)
    try:  # without blocking: opening a FIFO must not wait for a writer
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        if isinstance(exc, ValueError):
            raise _unreadable(file, "not a file name (holds a NUL character)") from None
        raise _open_error(file, exc, what) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _unreadable(file, f"is a directory, not a {what}")
        for test, kind in _KINDS:
            if test(mode):
                raise _unreadable(file, f"is {kind}, not a {what}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise _open_error(file, exc, what) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > limit:
        kind = what.removesuffix(" file")
        raise _unreadable(file, f"larger than {limit / 2**20:g} MiB; not a {kind}")
    return raw


def read_yaml(path: str | Path) -> Located:
    """Read a YAML file into plain data with positions; raise ScenarioError on any problem."""
    file = os.fspath(path)
    text = _decode(read_input(file), file)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ScenarioError(
                [Problem(file, 1, 1, "", "empty file: expected a scenario mapping")]
            )
        if not isinstance(root, yaml.MappingNode):
            raise ScenarioError(
                [
                    Problem(
                        file,
                        root.start_mark.line + 1,
                        root.start_mark.column + 1,
                        "",
                        "expected a mapping of keys at the top level",
                    )
                ]
            )
        builder = _Builder(file, loader)
        builder.located.data = builder.build(root, ())
        if builder.problems:
            raise ScenarioError(builder.problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        start = exc.context_mark
        opened = start is not None and mark is not None and start.line != mark.line
        if opened and "flow" in (exc.context or ""):
            what += f" (opened at line {start.line + 1})"  # type: ignore[union-attr]
        raise ScenarioError([Problem(file, line, col, "", f"YAML syntax: {what}")]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ScenarioError(
            [Problem(file, line, None, "", f"YAML: character {_code(exc.character)} {exc.reason}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(file, None, None, "", f"YAML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(file, None, None, "", "nested too deeply")]) from None
    finally:
        loader.dispose()
    return builder.located
