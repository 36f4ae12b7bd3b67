"""`json_path`: an RFC 9535 JSONPath query (with filter expressions) over a JSON or YAML file,
so a locator names what it means ("the rule whose names contain ptrace") instead of where it
happens to sit in an array.

Assertions: `exists` (the query selects something), `absent` (it selects nothing), `equals`
(it selects something and every selected value equals this), `contains` (some selected list,
string or mapping contains this). Queries are parsed at load (a syntax error is a catalog
error) and evaluated with a time limit.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from threatgraph.errors import InputError
from threatgraph.evidence.base import ERROR, FAIL, PASS, EvidenceKind, EvidenceResult, Runner, path_checks, time_limit
from threatgraph.evidence.source import SourceError, SourceTree
from threatgraph.safeyaml import YamlDocument, parse_yaml

ASSERTIONS = ("equals", "contains", "exists", "absent")
MAX_QUERY_CHARS = 2_000
QUERY_SECONDS = 2.0


@lru_cache(maxsize=1)
def _environment() -> Any:
    """One strict environment for every query: building one compiles the library's lexer."""
    import jsonpath

    return jsonpath.JSONPathEnvironment(strict=True)  # RFC 9535 as written, no extensions


@lru_cache(maxsize=1024)
def _compiled(query: str) -> Any:
    """The parsed query (once per query: load-time validation and every run share it)."""
    return _environment().compile(query)


def _static(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    out = path_checks(item)
    query = item.get("query")
    if not isinstance(query, str):
        return out
    if len(query) > MAX_QUERY_CHARS:
        return out + [(("query",), f"the query is over {MAX_QUERY_CHARS} characters", "")]
    try:
        _compiled(query)
    except Exception as exc:  # noqa: BLE001 - the library names the syntax error and its position
        out.append((("query",), f"invalid JSONPath: {exc}",
                    "RFC 9535, e.g. $.syscalls[?@.names[?@ == 'ptrace']].action"))
    return out


def _load(rel: str, source: SourceTree, runner: Runner) -> tuple[Any, YamlDocument | None]:
    key = ("json_path", rel)
    if key not in runner.parsed:
        text = source.text(rel)
        if rel.lower().endswith((".yaml", ".yml")):
            try:
                doc = parse_yaml(text, rel)
            except InputError as exc:
                raise SourceError(f"invalid YAML: {exc.problems[0].message} (line {exc.problems[0].line})") from None
            runner.parsed[key] = (doc.data, doc)
        else:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SourceError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
            except (RecursionError, ValueError) as exc:
                raise SourceError(f"{rel} cannot be parsed as JSON: {exc}") from None
            try:
                positions: YamlDocument | None = parse_yaml(text, rel)
            except InputError:
                positions = None
            runner.parsed[key] = (value, positions)
    loaded: tuple[Any, YamlDocument | None] = runner.parsed[key]
    return loaded


def _holds(item: dict[str, Any], values: list[Any]) -> tuple[bool, str]:
    shown = json.dumps(values[:3], default=str)[:160]
    if "exists" in item:
        return bool(values), f"selects {len(values)} value(s)"
    if "absent" in item:
        return not values, f"selects {len(values)} value(s)" + (f": {shown}" if values else "")
    if "equals" in item:
        ok = bool(values) and all(v == item["equals"] for v in values)
        return ok, f"selects {shown}" + ("" if ok else f", expected every value to equal {json.dumps(item['equals'])}")
    wanted = item["contains"]
    ok = any((isinstance(v, str) and isinstance(wanted, str) and wanted in v) or
             (isinstance(v, (list, dict)) and wanted in v) for v in values)
    return ok, f"selects {shown}; {'contains' if ok else 'does not contain'} {json.dumps(wanted, default=str)}"


def run(item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    proves = item.get("proves", "")
    try:
        files = source.select(item["path"])
        if not files:
            return EvidenceResult(ERROR, "json_path", proves, item["path"], None, f"file '{item['path']}' does not exist")
        rel = files[0]
        value, doc = _load(rel, source, runner)
    except SourceError as exc:
        return EvidenceResult(ERROR, "json_path", proves, item["path"], None, str(exc))
    try:
        with time_limit(QUERY_SECONDS):
            matches = list(_compiled(item["query"]).finditer(value))
    except TimeoutError:
        return EvidenceResult(ERROR, "json_path", proves, rel, None, f"query timed out after {QUERY_SECONDS}s")
    except Exception as exc:  # noqa: BLE001 - a query that fails on this document is an error result
        return EvidenceResult(ERROR, "json_path", proves, rel, None, f"query failed: {exc}")
    ok, detail = _holds(item, [m.obj for m in matches])
    line = doc.where(tuple(matches[0].parts))[0] if matches and doc is not None else None
    return EvidenceResult(PASS if ok else FAIL, "json_path", proves, rel, line, f"{item['query']} {detail}")


JSON_PATH_KIND = EvidenceKind(
    name="json_path", doc="an RFC 9535 JSONPath query over a JSON or YAML file: exists / absent / equals / contains",
    required={"path": {"type": "string", "description": "a JSON or YAML file relative to the source root"},
              "query": {"type": "string", "description": "RFC 9535 JSONPath, e.g. $.syscalls[?@.action == 'X'].names"}},
    optional={"equals": {"description": "every selected value equals this"},
              "contains": {"description": "a selected list holds this item, string this substring, mapping this key"},
              "exists": {"const": True}, "absent": {"const": True}},
    run=run, static_check=_static, exactly_one_of=ASSERTIONS)
