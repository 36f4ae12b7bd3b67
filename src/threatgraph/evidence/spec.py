"""Validation and JSON Schema of evidence items, derived from the registered kinds.

Nothing here names a kind's keys: each kind declares its keys with JSON Schema fragments
(checked here generically), its sub-items when it combines others (`$ref` to an evidence
item), and its own static checks for what a schema cannot say (a path that leaves the source,
a glob that does not parse, a pattern that does not compile)."""

from __future__ import annotations

from typing import Any

from threatgraph.errors import Problem, did_you_mean
from threatgraph.evidence import static_memo
from threatgraph.evidence.registry import KINDS
from threatgraph.safeyaml import YamlDocument

_COMMON: dict[str, dict[str, Any]] = {"kind": {"enum": sorted(KINDS)},
           "proves": {"type": "string", "minLength": 1, "description": "the sentence this item proves"},
           "gap": {"type": "boolean", "description": "asserts the part of the control still missing: expected to "
                   "fail while the mitigation is partial, planned or absent; passing means the gap has closed"}}
_EVIDENCE_REF = {"$ref": "#/$defs/evidence"}
_TYPES = {"string": (str,), "boolean": (bool,), "array": (list,), "object": (dict,)}


def value_problem(key: str, value: Any, schema: dict[str, Any]) -> tuple[str, str] | None:
    """(message, hint) when `value` does not fit the schema fragment, for the subset kinds use:
    type, enum, const, minItems and string items."""
    if "enum" in schema and value not in schema["enum"]:
        choices = [str(c) for c in schema["enum"]]
        return f"{key} {value!r} is not one of: {', '.join(choices)}", did_you_mean(str(value), choices)
    if "const" in schema and value != schema["const"]:
        return f"'{key}' takes only {schema['const']!r}", ""
    kind = schema.get("type")
    if kind and not isinstance(value, _TYPES[kind]) or (kind == "string" and isinstance(value, bool)):
        return f"'{key}' must be {'a list' if kind == 'array' else 'true or false' if kind == 'boolean' else 'a ' + kind}", ""
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            return f"'{key}' needs at least {schema['minItems']} item(s)", ""
        items = schema.get("items", {})
        if items.get("type") == "string" and not all(isinstance(x, str) for x in value):
            return f"'{key}' must be a list of strings", ""
        if "enum" in items:
            bad = [x for x in value if x not in items["enum"]]
            if bad:
                return f"{key} {bad[0]!r} is not one of: {', '.join(items['enum'])}", did_you_mean(str(bad[0]), items["enum"])
    return None


def _shape(item: Any, doc: YamlDocument, path: tuple[Any, ...], nested: bool) -> list[Problem]:
    """The kind's keys: unknown, missing, exactly-one-of, and each value against its schema."""
    kind = KINDS[item["kind"]]
    keys: dict[str, dict[str, Any]] = {**_COMMON, **kind.required, **kind.optional}
    problems = [doc.problem(path + (key,), f"unknown key '{key}' for {kind.name} evidence",
                            did_you_mean(str(key), keys), at_key=True) for key in item if key not in keys]
    if not nested and not (isinstance(item.get("proves"), str) and item["proves"].strip()):
        problems.append(doc.problem(path, "evidence needs 'proves': the sentence it proves",
                                    "for example: proves: the agent drops NET_RAW"))
    problems += [doc.problem(path, f"{kind.name} evidence needs '{key}'") for key in kind.required if key not in item]
    if kind.exactly_one_of and sum(k in item for k in kind.exactly_one_of) != 1:
        problems.append(doc.problem(path, f"{kind.name} evidence takes exactly one of: " + ", ".join(kind.exactly_one_of)))
    for key, value in item.items():
        schema = keys.get(key)
        if key == "kind" or schema is None or schema.get("items") == _EVIDENCE_REF:
            continue
        found = value_problem(key, value, schema)
        if found:
            problems.append(doc.problem(path + (key,), *found))
    return problems


def validate_item(item: Any, doc: YamlDocument, path: tuple[Any, ...], nested: bool = False) -> list[Problem]:
    if not isinstance(item, dict):
        return [doc.problem(path, "an evidence item must be a mapping with a 'kind'")]
    kind_name = item.get("kind")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        return [doc.problem(path + (("kind",) if "kind" in item else ()),
                            f"unknown evidence kind {kind_name!r}" if kind_name else "evidence item has no 'kind'",
                            did_you_mean(str(kind_name or ""), KINDS))]
    problems = _shape(item, doc, path, nested)
    kind = KINDS[kind_name]
    for key, schema in kind.required.items():  # sub-items, for kinds that combine others
        if schema.get("items") == _EVIDENCE_REF and isinstance(item.get(key), list):
            for i, sub in enumerate(item[key]):
                problems += validate_item(sub, doc, path + (key, i), nested=True)
    for sub_path, message, hint in static_memo.checked(kind, item):  # each check guards the types it reads
        problems.append(doc.problem(path + sub_path, message, hint))
    if not problems:
        for sub_path, message, hint in kind.static_warnings(item):
            problems.append(doc.problem(path + sub_path, message, hint, severity="warning"))
    return problems


def evidence_schema() -> dict[str, Any]:
    variants = []
    for name, kind in sorted(KINDS.items()):
        props = {**_COMMON, "kind": {"const": name}, **kind.required, **kind.optional}
        variant: dict[str, Any] = {"type": "object", "description": kind.doc, "properties": props,
                                   "required": ["kind", *kind.required], "additionalProperties": False}
        if kind.exactly_one_of:
            variant["oneOf"] = [{"required": [k]} for k in kind.exactly_one_of]
        variants.append(variant)
    return {"oneOf": variants}
