"""`json_pointer` and `yaml_path`: an RFC 6901 pointer into a JSON or YAML file, with one
assertion: equals, contains, exists or absent."""

from __future__ import annotations

import json
from typing import Any

from threatgraph.errors import InputError
from threatgraph.evidence.base import ERROR, FAIL, PASS, EvidenceKind, EvidenceResult, Runner, path_checks
from threatgraph.evidence.source import SourceError, SourceTree
from threatgraph.safeyaml import YamlDocument, parse_yaml

ASSERTIONS = ("equals", "contains", "exists", "absent")


def parse_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer starts with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _static(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    if path_checks(item):
        return path_checks(item)
    if not isinstance(item.get("pointer", ""), str):
        return []
    try:
        parse_pointer(item.get("pointer", ""))
    except ValueError as exc:
        return [(("pointer",), str(exc), "for example /services/agent/cap_drop/0")]
    return []


def _load(kind: str, rel: str, source: SourceTree, runner: Runner) -> tuple[Any, YamlDocument | None]:
    key = (kind, rel)
    if key not in runner.parsed:
        text = source.text(rel)
        if kind == "json_pointer":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SourceError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
            except RecursionError:
                raise SourceError(f"{rel} nests too deeply to parse") from None
            except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit limit
                raise SourceError(f"{rel} cannot be parsed as JSON: {exc}") from None
            try:
                doc: YamlDocument | None = parse_yaml(text, rel)  # positions only
            except InputError:
                doc = None
        else:
            try:
                doc = parse_yaml(text, rel)
            except InputError as exc:
                raise SourceError(f"invalid YAML: {exc.problems[0].message} (line {exc.problems[0].line})") from None
            value = doc.data
        runner.parsed[key] = (value, doc)
    parsed: tuple[Any, YamlDocument | None] = runner.parsed[key]
    return parsed


def _walk(value: Any, tokens: list[str]) -> tuple[bool, Any, tuple[Any, ...]]:
    """(found, value, path reached): the deepest place the pointer could reach."""
    path: tuple[Any, ...] = ()
    for tok in tokens:
        if isinstance(value, dict) and tok in value:
            value = value[tok]
            path += (tok,)
        elif isinstance(value, list) and tok.isdigit() and int(tok) < len(value) and (tok == "0" or not tok.startswith("0")):
            value = value[int(tok)]
            path += (int(tok),)
        else:
            return False, None, path
    return True, value, path


def _line(doc: YamlDocument | None, path: tuple[Any, ...]) -> int | None:
    return doc.where(path)[0] if doc is not None else None


def _run(kind: str, item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    proves = item.get("proves", "")
    rel = item["path"]
    try:
        files = source.select(rel)
        if not files:
            return EvidenceResult(ERROR, kind, proves, rel, None, f"file '{rel}' does not exist")
        rel = files[0]
        value, doc = _load(kind, rel, source, runner)
    except SourceError as exc:
        return EvidenceResult(ERROR, kind, proves, rel, None, str(exc))
    pointer = item["pointer"]
    found, target, reached = _walk(value, parse_pointer(pointer))
    line = _line(doc, reached)
    if "absent" in item:
        if found:
            return EvidenceResult(FAIL, kind, proves, rel, line, f"{pointer} exists")
        return EvidenceResult(PASS, kind, proves, rel, line, f"{pointer} is absent")
    if not found:
        return EvidenceResult(FAIL, kind, proves, rel, line, f"{pointer} does not exist (stopped at /{'/'.join(map(str, reached))})")
    if "exists" in item:
        return EvidenceResult(PASS, kind, proves, rel, line, f"{pointer} exists")
    if "equals" in item:
        ok = target == item["equals"]
        return EvidenceResult(PASS if ok else FAIL, kind, proves, rel, line,
                              f"{pointer} is {json.dumps(target, default=str)[:120]}"
                              + ("" if ok else f", expected {json.dumps(item['equals'], default=str)[:120]}"))
    wanted = item["contains"]
    if isinstance(target, str):
        ok = isinstance(wanted, str) and wanted in target
    elif isinstance(target, (list, dict)):
        ok = wanted in target
    else:
        ok = False
    if ok and isinstance(target, list):
        line = _line(doc, reached + (target.index(wanted),))
    return EvidenceResult(PASS if ok else FAIL, kind, proves, rel, line,
                          f"{pointer} {'contains' if ok else 'does not contain'} {json.dumps(wanted, default=str)[:120]}")


def _schema_required() -> dict[str, dict[str, Any]]:
    return {"path": {"type": "string", "description": "file relative to the source root"},
            "pointer": {"type": "string", "description": "RFC 6901 pointer, e.g. /defaultAction"}}


_OPTIONAL: dict[str, dict[str, Any]] = {"equals": {"description": "the value must equal this"},
             "contains": {"description": "a list holds this item, a string this substring, a mapping this key"},
             "exists": {"const": True}, "absent": {"const": True}}

JSON_KIND = EvidenceKind(
    name="json_pointer", doc="a JSON file's value at a pointer equals / contains / exists / is absent",
    required=_schema_required(), optional=_OPTIONAL,
    run=lambda item, source, runner: _run("json_pointer", item, source, runner),
    static_check=_static, exactly_one_of=ASSERTIONS)
YAML_KIND = EvidenceKind(
    name="yaml_path", doc="a YAML file's value at a pointer equals / contains / exists / is absent",
    required=_schema_required(), optional=_OPTIONAL,
    run=lambda item, source, runner: _run("yaml_path", item, source, runner),
    static_check=_static, exactly_one_of=ASSERTIONS)
