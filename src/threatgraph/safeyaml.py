"""Safe, bounded YAML reading that remembers where every value came from.

PyYAML composes the document into nodes (which carry line and column); we build plain Python
values from those nodes ourselves so that: only standard tags are accepted (no object
construction), duplicate keys are errors, alias expansion is bounded (a "billion laughs"
document fails fast), and every value's position is kept for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from threatgraph.errors import InputError, Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

# libyaml's parser when installed (several times faster); both give nodes with line/column marks
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed document with the 1-based (line, col) of every mapping key and value."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[int, int]:
        """Position of the value at `path`, or of its nearest located ancestor."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))

    def key_where(self, path: Path_) -> tuple[int, int]:
        """Position of the mapping key at `path` (for unknown-key messages)."""
        return self.key_positions.get(tuple(path)) or self.where(path)

    def problem(self, path: Path_, message: str, hint: str = "", severity: str = "error",
                at_key: bool = False) -> Problem:
        line, col = self.key_where(path) if at_key else self.where(path)
        return Problem(self.file, line, col, message, hint, severity)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.count = 0
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()

    def _fail(self, node: Node, message: str, hint: str = "") -> None:
        self.problems.append(
            Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, message, hint)
        )

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self._fail(node, f"YAML tag '{node.tag}' is not allowed",
                           "catalogs hold plain data: strings, numbers, booleans, dates, lists and mappings")
                return None
            if node.tag == "tag:yaml.org,2002:str":
                return node.value  # most catalog values: no need for the generic constructor
            try:
                return self._constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:
                self._fail(node, f"invalid scalar: {exc}")
                return None
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                self._fail(node, f"YAML tag '{node.tag}' is not allowed")
                return None
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                self._fail(node, f"YAML tag '{node.tag}' is not allowed")
                return None
            result: dict[Any, Any] = {}
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    self._fail(key_node, "only plain scalar keys are allowed (no merge keys or complex keys)")
                    continue
                key = self.build(key_node, path + ("<key>",), depth + 1)
                if not isinstance(key, (str, int, bool)) or key is None:
                    self._fail(key_node, f"mapping key {key!r} must be a string")
                    continue
                if key in seen:
                    self._fail(key_node, f"duplicate key '{key}' (first defined on line {seen[key]})",
                               "remove one of the two entries")
                    continue
                seen[key] = key_node.start_mark.line + 1
                self.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, path + (key,), depth + 1)
            return result
        self._fail(node, "unsupported YAML node")
        return None


class _TooLarge(Exception):
    def __init__(self, node: Node):
        self.node = node


class _TooDeep(Exception):
    def __init__(self, node: Node):
        self.node = node


def _expanded_size(node: Node, memo: dict[int, int], depth: int) -> int:
    """How many values the document expands to, computed on the composed graph (each distinct
    node once), so an alias bomb is refused before it is expanded."""
    key = id(node)
    if key in memo:
        if memo[key] < 0:
            raise _TooDeep(node)  # an alias that contains itself
        return memo[key]
    if depth > MAX_DEPTH:
        raise _TooDeep(node)
    memo[key] = -1
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, memo, depth + 1) for child in node.value)
    elif isinstance(node, MappingNode):
        size += sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1) for k, v in node.value)
    if size > MAX_NODES:
        raise _TooLarge(node)
    memo[key] = size
    return size


def _mark_problem(file: str, mark: Any, message: str, hint: str = "") -> Problem:
    line = (mark.line + 1) if mark is not None else 1
    col = (mark.column + 1) if mark is not None else 1
    return Problem(file, line, col, message, hint)


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document from text; raise InputError listing every problem."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError([_mark_problem(file, mark, f"invalid YAML: {exc.problem or exc}",
                                        "check indentation, quoting and list dashes")]) from None
    except RecursionError:
        raise InputError([Problem(file, 1, 1, f"document nests deeper than the parser can follow (>{MAX_DEPTH} levels)",
                                  "flatten the structure")]) from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        # PyYAML lets some bad escapes (e.g. "\U00110000") escape as plain ValueError
        raise InputError([Problem(file, 1, 1, f"invalid YAML: {exc}", "check escape sequences in quoted strings")]) from None
    if node is None:
        return YamlDocument(file, None, {(): (1, 1)})
    builder = _Builder(file)
    try:
        _expanded_size(node, {}, 0)  # a bomb fails here, before anything is expanded
        data = builder.build(node, (), 0)
    except _TooLarge as exc:
        raise InputError([_mark_problem(
            file, exc.node.start_mark,
            f"document expands to more than {MAX_NODES} values (alias expansion bomb?)",
            "catalogs do not need YAML aliases at this scale; write the values out")]) from None
    except _TooDeep as exc:
        raise InputError([_mark_problem(
            file, exc.node.start_mark, f"document nests deeper than {MAX_DEPTH} levels (or refers to itself)",
            "flatten the structure")]) from None
    if builder.problems:
        raise InputError(builder.problems)
    return YamlDocument(file, data, builder.positions, builder.keys)


def read_text_capped(path: Path, display: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, refusing oversized files and reporting bad bytes by line."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError([Problem(display, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    _refuse_size(size, display, limit)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError([Problem(display, line, col, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                  "save the file as UTF-8")]) from None


def capped(text: str, display: str, limit: int = MAX_FILE_BYTES) -> str:
    """An in-memory file (an editor's buffer) held to the same size limit as one on disk."""
    _refuse_size(len(text.encode("utf-8", errors="surrogatepass")), display, limit)
    return text


def _refuse_size(size: int, display: str, limit: int) -> None:
    if size > limit:
        raise InputError([Problem(display, 1, 1, f"file is {size} bytes, over the {limit}-byte limit",
                                  "split the catalog into several files")])


def load_yaml_file(path: Path, display: str) -> YamlDocument:
    return parse_yaml(read_text_capped(path, display), display)
