"""Validation and JSON Schema of evidence items, derived from the registered kinds."""

from __future__ import annotations

from typing import Any

from threatgraph.catalog.yamlfile import YamlDocument
from threatgraph.errors import Problem, did_you_mean
from threatgraph.evidence.glob import glob_problem
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import check_relative

_COMMON = {"kind": {"enum": sorted(KINDS)},
           "proves": {"type": "string", "minLength": 1, "description": "the sentence this item proves"},
           "gap": {"type": "boolean", "description": "asserts the part of the control still missing: expected to "
                   "fail while the mitigation is partial, planned or absent; passing means the gap has closed"}}


def validate_item(item: Any, doc: YamlDocument, path: tuple[Any, ...], nested: bool = False) -> list[Problem]:
    if not isinstance(item, dict):
        return [doc.problem(path, "an evidence item must be a mapping with a 'kind'")]
    kind_name = item.get("kind")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        return [doc.problem(path + (("kind",) if "kind" in item else ()),
                            f"unknown evidence kind {kind_name!r}" if kind_name else "evidence item has no 'kind'",
                            did_you_mean(str(kind_name or ""), KINDS))]
    kind = KINDS[kind_name]
    problems: list[Problem] = []
    allowed = {"kind", "proves", "gap", *kind.required, *kind.optional}
    for key in item:
        if key not in allowed:
            problems.append(doc.problem(path + (key,), f"unknown key '{key}' for {kind_name} evidence",
                                        did_you_mean(str(key), allowed), at_key=True))
    if not nested and not (isinstance(item.get("proves"), str) and item["proves"].strip()):
        problems.append(doc.problem(path, "evidence needs 'proves': the sentence it proves",
                                    "for example: proves: the agent drops NET_RAW"))
    for key in kind.required:
        if key not in item:
            problems.append(doc.problem(path, f"{kind_name} evidence needs '{key}'"))
    if kind.exactly_one_of:
        present = [k for k in kind.exactly_one_of if k in item]
        if len(present) != 1:
            problems.append(doc.problem(path, f"{kind_name} evidence takes exactly one of: "
                                        + ", ".join(kind.exactly_one_of)))
    for key in ("path", "pattern", "pointer", "proves"):
        if key in item and not isinstance(item[key], str):
            problems.append(doc.problem(path + (key,), f"'{key}' must be a string"))
    if isinstance(item.get("path"), str):
        why = check_relative(item["path"]) or glob_problem(item["path"])
        if why:
            problems.append(doc.problem(path + ("path",), f"path '{item['path']}': {why}"))
    if "gap" in item and not isinstance(item["gap"], bool):
        problems.append(doc.problem(path + ("gap",), "'gap' takes true or false"))
    if "expect" in item and item["expect"] not in ("match", "no_match"):
        problems.append(doc.problem(path + ("expect",), f"expect '{item['expect']}' is not match or no_match",
                                    did_you_mean(str(item["expect"]), ("match", "no_match"))))
    for key in ("flags", "exclude"):
        if key in item and not (isinstance(item[key], list) and all(isinstance(x, str) for x in item[key])):
            problems.append(doc.problem(path + (key,), f"'{key}' must be a list of strings"))
        elif key == "exclude" and key in item:
            for n, pattern in enumerate(item[key]):
                why = glob_problem(pattern)
                if why:
                    problems.append(doc.problem(path + ("exclude", n), f"exclude glob '{pattern}': {why}"))
    if kind_name in ("all", "any"):
        subs = item.get("items")
        if not isinstance(subs, list) or not subs:
            problems.append(doc.problem(path, f"'{kind_name}' needs a non-empty list of items"))
        else:
            for i, sub in enumerate(subs):
                problems += validate_item(sub, doc, path + ("items", i), nested=True)
    if not problems:
        for sub_path, message, hint in kind.static_check(item):
            problems.append(doc.problem(path + sub_path, message, hint))
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
