"""Conditions on pytm attribute values: the tree under a selector's `where` key.

pytm writes its threat conditions as Python expressions and evaluates them; threatgraph keeps
the same meaning as data, validated when the catalog loads and evaluated here, never by eval:

    where:
      all:
        - {attr: controls.sanitizesInput, is: false}
        - any: [{attr: protocol, eq: HTTP}, {attr: usesVPN, is: false}]
        - not: {attr: isResponse}
        - some: {in: data, where: {attr: item.format, eq: JSON}}

A leaf names an attribute path (`controls.x`, `source.inScope`, `item.x` inside `some`) and
one test: alone it is truthiness; `is` (true, false, null) is identity; `eq ne lt le gt ge in
not_in has` compare with a constant, a list, `{attr: other.path}` or `{enum: Type.NAME}`.
The semantics are Python's, so a condition means what the pytm expression it came from means:
reading an attribute the object does not have, or ordering values that do not order, makes the
whole condition false (pytm's evaluator does the same by catching the error); `safe` limits
that to one branch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from threatgraph.errors import Problem
from threatgraph.model.facts import MISSING, EnumValue, Ref, fact
from threatgraph.model.types import Model
from threatgraph.safeyaml import YamlDocument

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "has": lambda a, b: b in a,
}
COMBINATORS = ("all", "any", "not", "some", "safe")
MAX_DEPTH = 32


class Undefined(Exception):
    """Reading the condition failed where Python would raise: the condition does not hold."""


# --- checking -------------------------------------------------------------------------------

def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _check_operand(value: Any, where: tuple[Any, ...], doc: YamlDocument) -> list[Problem]:
    if isinstance(value, dict):
        if set(value) == {"attr"} and isinstance(value["attr"], str) and value["attr"]:
            return []
        if set(value) == {"enum"} and isinstance(value["enum"], str) and value["enum"].count(".") == 1:
            return []
        return [doc.problem(where, "an operand is a value, a list, {attr: path} or {enum: Type.NAME}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _check_operand(v, where + (i,), doc)]
    return [] if _scalar(value) else [doc.problem(where, "an operand is a value, a list, {attr: path} or {enum: Type.NAME}")]


def check(cond: Any, doc: YamlDocument, path: tuple[Any, ...], depth: int = 0) -> list[Problem]:
    """Every problem in a condition tree, located."""
    if depth > MAX_DEPTH:
        return [doc.problem(path, f"condition nested deeper than {MAX_DEPTH} levels")]
    if not isinstance(cond, dict) or not cond:
        return [doc.problem(path, "a condition is a mapping",
                            "for example {attr: controls.sanitizesInput, is: false}")]
    if "attr" in cond:
        return _check_leaf(cond, doc, path)
    if len(cond) != 1:
        return [doc.problem(path, "a condition has one key: all, any, not, some, safe, or attr with a test")]
    key, value = next(iter(cond.items()))
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            return [doc.problem(path + (key,), f"'{key}' takes a non-empty list of conditions")]
        return [p for i, c in enumerate(value) for p in check(c, doc, path + (key, i), depth + 1)]
    if key in ("not", "safe"):
        return check(value, doc, path + (key,), depth + 1)
    if key == "some":
        if not isinstance(value, dict) or set(value) != {"in", "where"} or not isinstance(value["in"], str):
            return [doc.problem(path + (key,), "'some' takes {in: <list attribute>, where: <condition on item.*>}")]
        return check(value["where"], doc, path + (key, "where"), depth + 1)
    from threatgraph.errors import did_you_mean

    return [doc.problem(path + (key,), f"unknown condition key '{key}'",
                        did_you_mean(str(key), [*COMBINATORS, "attr"]), at_key=True)]


def _check_leaf(cond: dict[str, Any], doc: YamlDocument, path: tuple[Any, ...]) -> list[Problem]:
    if not isinstance(cond["attr"], str) or not cond["attr"]:
        return [doc.problem(path + ("attr",), "'attr' takes an attribute path, e.g. controls.isHardened")]
    tests = [k for k in cond if k != "attr"]
    if len(tests) > 1:
        return [doc.problem(path, f"one test per leaf, not {', '.join(tests)}", "combine leaves with all/any")]
    if not tests:
        return []
    test = tests[0]
    if test == "is":
        return [] if cond["is"] in (True, False, None) else [doc.problem(path + ("is",), "'is' takes true, false or null")]
    if test not in COMPARISONS:
        from threatgraph.errors import did_you_mean

        return [doc.problem(path + (test,), f"unknown test '{test}'", did_you_mean(test, ["is", *COMPARISONS]),
                            at_key=True)]
    if test in ("in", "not_in") and not isinstance(cond[test], list):
        return [doc.problem(path + (test,), f"'{test}' takes a list")]
    return _check_operand(cond[test], path + (test,), doc)


def attribute_paths(cond: Any) -> set[str]:
    """Every attribute path a (valid) condition reads."""
    if not isinstance(cond, dict):
        return set()
    if "attr" in cond:
        out = {cond["attr"]}
        for v in cond.values():
            if isinstance(v, dict) and "attr" in v:
                out.add(v["attr"])
        return out
    out = set()
    for key, value in cond.items():
        if key in ("all", "any"):
            for c in value:
                out |= attribute_paths(c)
        elif key in ("not", "safe"):
            out |= attribute_paths(value)
        elif key == "some":
            out.add(value["in"])
            out |= attribute_paths(value["where"])
    return out


# --- evaluating -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What paths are read from: the target, and inside `some` the current item."""

    model: Model
    target: Any  # an Element, Boundary, Flow or DataAsset record
    item: Any = None


def record_of(model: Model, ident: str) -> Any:
    """The element, flow, boundary or data asset with this id, or None."""
    return (model.elements.get(ident) or model.flows.get(ident) or model.boundaries.get(ident)
            or model.data.get(ident))


def path_keys(path: str) -> tuple[bool, list[str]]:
    """Whether `path` starts at the current item (`item.x`), and the fact keys it follows:
    a dotted key kept flat ("controls.sanitizesInput") wins over following a link."""
    parts = path.split(".")
    from_item = parts[0] == "item"
    if from_item:
        parts = parts[1:]
    keys: list[str] = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and parts[i] == "controls":
            keys.append(f"controls.{parts[i + 1]}")
            i += 2
        else:
            keys.append(parts[i])
            i += 1
    return from_item, keys


def _path_reader(path: str) -> Callable[[Scope], Any]:
    """A reader for `path`, its parts worked out once: the value at `path`, following links
    (`sink.minTLSVersion`); Undefined when Python would raise AttributeError."""
    from_item, keys = path_keys(path)
    last = len(keys) - 1
    if last == 0 and not from_item:  # the common case, one attribute of the target: no loop
        key = keys[0]

        def one(scope: Scope) -> Any:
            value = fact(scope.model.fact_layouts, getattr(scope.target, "facts", None), key)
            if value is MISSING:
                raise Undefined(path)
            return resolve_refs(value, scope.model) if isinstance(value, tuple) else value

        return one

    def reader(scope: Scope) -> Any:
        obj = scope.target
        if from_item:
            if scope.item is None:
                raise Undefined(path)
            obj = scope.item
        model = scope.model
        for n, key in enumerate(keys):
            value = fact(model.fact_layouts, getattr(obj, "facts", None), key)
            if value is MISSING:
                raise Undefined(path)
            if n == last:
                return resolve_refs(value, model)
            if not isinstance(value, Ref):
                raise Undefined(path)
            obj = record_of(model, value.id)
            if obj is None:
                raise Undefined(path)
        raise Undefined(path)

    return reader


def read(path: str, scope: Scope) -> Any:
    """The value at `path` in `scope` (see _path_reader)."""
    return _path_reader(path)(scope)


def resolve_refs(value: Any, model: Model) -> Any:
    """A link read as a value stays a link (compared by id); lists of links become records."""
    if isinstance(value, tuple) and value and all(isinstance(v, Ref) for v in value):
        return tuple(record_of(model, v.id) for v in value)
    return value


def _operand(value: Any) -> Callable[[Scope], Any]:
    if isinstance(value, dict):
        if "attr" in value:
            return _path_reader(value["attr"])
        kind, _, name = value["enum"].partition(".")
        return lambda scope: EnumValue(kind, name, scope.model.fact_enums.get(kind, {}).get(name))
    if isinstance(value, list):
        parts = [_operand(v) for v in value]
        return lambda scope: tuple(p(scope) for p in parts)
    return lambda scope: value


def compare(test: str, left: Any, right: Any) -> bool:
    if isinstance(left, EnumValue) or isinstance(right, EnumValue):
        if test in ("lt", "le", "gt", "ge"):
            if not (isinstance(left, EnumValue) and isinstance(right, EnumValue) and left.type == right.type
                    and left.rank is not None and right.rank is not None):
                raise Undefined("values that do not order")
            return bool(COMPARISONS[test](left.rank, right.rank))
    try:
        return bool(COMPARISONS[test](left, right))
    except TypeError:
        raise Undefined("values that do not compare") from None


Check = Callable[[Scope], bool]


def compile_condition(cond: Mapping[str, Any]) -> Check:
    """The condition as a function of the scope, built once per selector and then run on every
    object: Python truthiness of the condition, raising Undefined where Python would raise. (The
    tree is data validated at load; nothing in it is ever evaluated as code.)"""
    if "attr" in cond:
        reader = _path_reader(cond["attr"])
        tests = [k for k in cond if k != "attr"]
        if not tests:
            return lambda scope: bool(reader(scope))
        test = tests[0]
        if test == "is":
            expected = cond["is"]
            return lambda scope: reader(scope) is expected
        operand = _operand(cond[test])
        return lambda scope: compare(test, reader(scope), operand(scope))
    key, value = next(iter(cond.items()))
    if key in ("all", "any"):
        parts = [compile_condition(c) for c in value]
        combine = all if key == "all" else any
        return lambda scope: combine(p(scope) for p in parts)
    if key == "not":
        inner = compile_condition(value)
        return lambda scope: not inner(scope)
    if key == "safe":
        return compile_safely(value)
    items_of, where, path = _path_reader(value["in"]), compile_condition(value["where"]), value["in"]

    def some(scope: Scope) -> bool:
        items = items_of(scope)
        if not isinstance(items, tuple):
            raise Undefined(path)
        return any(where(Scope(scope.model, scope.target, item)) for item in items)

    return some


def compile_safely(cond: Mapping[str, Any]) -> Check:
    """`compile_condition`, with a failed read meaning false (how pytm applies a condition)."""
    inner = compile_condition(cond)

    def check(scope: Scope) -> bool:
        try:
            return inner(scope)
        except Undefined:
            return False

    return check


def holds(cond: Mapping[str, Any], scope: Scope) -> bool:
    return compile_condition(cond)(scope)


def safely(cond: Mapping[str, Any], scope: Scope) -> bool:
    return compile_safely(cond)(scope)
