"""Conditions evaluated over every flow (or every element) of a model at once.

`conditions.compile_safely` runs a condition object by object, which is what pytm does and
what makes a 113-threat library cost 113 x N evaluations. Here a condition is evaluated on
the whole model in one pass per node of its tree, and every node's result is kept, so the
leaves a library repeats (`inScope`, `controls.sanitizesInput is False`, ...) are worked out
once per model, not once per threat:

- an attribute path becomes a column (its value on each object, in a fixed order);
- a column is bucketed by value, and a leaf with a constant operand is tested once per
  distinct value (a few per column), not once per object;
- a node's result is two bitsets (Python ints, bit i = object i): where it holds, and where
  Python would raise (a missing attribute, values that do not compare). `all`, `any` and
  `not` combine the bitsets with the same short-circuit rules Python applies, so a raise in
  a branch Python never reaches does not count;
- `some` evaluates its `where` on the flattened (object, item) pairs and takes, per object,
  the first pair that holds or raises, as `any(... for item in ...)` does.

The object-by-object evaluator stays the definition: tests hold this one equal to it on
random conditions over random models. Nothing here evaluates code; the tree is data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

from threatgraph.conditions import Undefined, compare, path_keys, record_of, resolve_refs
from threatgraph.model.facts import MISSING, MISSING_MARK, EnumValue, Ref
from threatgraph.model.types import Model

_BITS = bytes.maketrans(b"\x00\x01", b"01")
_ONE = re.compile("1")
Result = tuple[int, int]  # (holds, raises) bitsets
_ERROR: Any = object()  # a test that raised, in the per-pair cache


def bits_of(flags: Sequence[bool]) -> int:
    """Bitset with bit i set where flags[i] is true (C speed: bytes, translate, int)."""
    if not flags:
        return 0
    return int(bytes(flags).translate(_BITS)[::-1], 2)


def positions(bits: int) -> list[int]:
    """The set bits of a bitset, lowest first."""
    if not bits:
        return []
    text = format(bits, "b")[::-1]
    return [m.start() for m in _ONE.finditer(text)]


@dataclass
class Domain:
    """The objects a node is evaluated on: the targets, and inside `some` the current items
    (one position per (target, item) pair; `parent` is the pair's position one level up)."""

    key: tuple[Any, ...]
    targets: Sequence[Any]
    items: Sequence[Any] | None = None
    parent: Sequence[int] | None = None
    not_list: int = 0  # a pair domain: the positions one level up whose `in` value is not a list
    columns: dict[str, list[Any]] = field(default_factory=dict)
    buckets: dict[str, list[tuple[Any, int]] | None] = field(default_factory=dict)
    groups: dict[str, list[tuple[str, list[int], list[tuple[Any, ...]]]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.targets)

    @property
    def mask(self) -> int:
        return (1 << self.size) - 1


def _truth(value: Any, _operand: Any) -> bool:
    return bool(value)


def _identity(expected: Any, value: Any, _operand: Any) -> bool:
    return value is expected


def _bits_at(where: list[int], size: int) -> int:
    flags = bytearray(size)
    for i in where:
        flags[i] = 1
    return int(flags.translate(_BITS)[::-1], 2)


def _hashable(value: Any) -> Any:
    """The bucket key of a value: its type with it (1, 1.0 and True test differently)."""
    return (type(value), value)


class ColumnarConditions:
    """One model's columns and node results, shared by every selector evaluated on it."""

    def __init__(self, model: Model, targets: Mapping[str, Sequence[Any]]) -> None:
        self.model = model
        self.domains = {what: Domain((what,), list(records)) for what, records in targets.items()}
        self._pairs: dict[tuple[Any, ...], Domain] = {}
        self._results: dict[tuple[tuple[Any, ...], str], Result] = {}

    # --- public --------------------------------------------------------------------------

    def holding(self, cond: Mapping[str, Any], what: str) -> list[int]:
        """Positions (in `targets[what]`) where the condition holds, a raise meaning false
        (how pytm applies a condition: conditions.compile_safely)."""
        holds, _ = self._eval(cond, self.domains[what], {})
        return positions(holds)

    # --- reading --------------------------------------------------------------------------

    @staticmethod
    def _groups(objs: Sequence[Any]) -> list[tuple[str, list[int], list[tuple[Any, ...]]]]:
        """The objects' positions and value tuples, per fact layout."""
        groups: dict[str, tuple[list[int], list[tuple[Any, ...]]]] = {}
        for p, obj in enumerate(objs):
            facts = getattr(obj, "facts", None)
            if facts is not None:
                group = groups.get(facts.layout)
                if group is None:
                    group = groups[facts.layout] = ([], [])
                group[0].append(p)
                group[1].append(facts.values)
        return [(layout, where, rows) for layout, (where, rows) in groups.items()]

    def _read(self, objs: Sequence[Any], key: str, groups: list[tuple[str, list[int], list[tuple[Any, ...]]]] | None = None
              ) -> list[Any]:
        """`key` on each object, MISSING where it has no such fact: per layout, one pass over
        its objects' value tuples."""
        out: list[Any] = [MISSING] * len(objs)
        layouts = self.model.fact_layouts
        for layout, where, rows in groups if groups is not None else self._groups(objs):
            fl = layouts.get(layout)
            i = fl.index().get(key, -1) if fl is not None else -1
            if i < 0:
                continue
            values = [MISSING if v is MISSING_MARK else v for v in map(itemgetter(i), rows)]
            if len(where) == len(objs):
                return values
            for p, v in zip(where, values, strict=True):
                out[p] = v
        return out

    def _record(self, value: Any) -> Any:
        return record_of(self.model, value.id) if isinstance(value, Ref) else None

    def column(self, domain: Domain, path: str) -> list[Any]:
        """The raw value of `path` at each position (links not yet resolved), MISSING where
        reading it would raise."""
        found = domain.columns.get(path)
        if found is not None:
            return found
        from_item, keys = path_keys(path)
        if from_item:
            objs: Sequence[Any] = domain.items if domain.items is not None else [None] * domain.size
        else:
            objs = domain.targets
        side = "items" if from_item else "targets"
        groups = domain.groups.get(side)
        if groups is None:
            groups = domain.groups[side] = self._groups(objs)
        values = self._read(objs, keys[0], groups)
        for key in keys[1:]:  # follow the link: read once per distinct object linked to
            linked = dict.fromkeys(values)
            records = [r for r in map(self._record, linked) if r is not None]
            read = dict(zip(map(id, records), self._read(records, key), strict=True))
            values = [read.get(id(r), MISSING) if r is not None else MISSING for r in map(self._record, values)]
        domain.columns[path] = values
        return values

    def _buckets(self, domain: Domain, path: str) -> list[tuple[Any, int]] | None:
        """A column's distinct values, each with the bitset of where it is (values of another
        type never share one: 1 and True differ under `is`); None if a value does not hash."""
        if path in domain.buckets:
            return domain.buckets[path]
        where: dict[Any, list[int]] = {}
        found: list[tuple[Any, int]] | None
        try:
            for i, v in enumerate(self.column(domain, path)):
                key = (type(v), v)
                hit = where.get(key)
                if hit is None:
                    where[key] = [i]
                else:
                    hit.append(i)
            found = [(v, _bits_at(at, domain.size)) for (_, v), at in where.items()]
        except TypeError:
            found = None
        domain.buckets[path] = found
        return found

    def _value(self, raw: Any) -> Any:
        return resolve_refs(raw, self.model)

    # --- leaves ---------------------------------------------------------------------------

    def _constant(self, spec: Any) -> Any:
        """The operand when it is the same for every object; MISSING when it reads a path."""
        if isinstance(spec, dict):
            if "attr" in spec:
                return MISSING
            kind, _, name = spec["enum"].partition(".")
            return EnumValue(kind, name, self.model.fact_enums.get(kind, {}).get(name))
        if isinstance(spec, list):
            parts = [self._constant(s) for s in spec]
            return MISSING if any(p is MISSING for p in parts) else tuple(parts)
        return spec

    def _operand_column(self, domain: Domain, spec: Any) -> list[Any]:
        """The operand at each position (resolved), MISSING where reading it raises."""
        if isinstance(spec, dict) and "attr" in spec:
            return [MISSING if v is MISSING else self._value(v) for v in self.column(domain, spec["attr"])]
        if isinstance(spec, list):
            cols = [self._operand_column(domain, s) for s in spec]
            return [MISSING if any(v is MISSING for v in row) else tuple(row) for row in zip(*cols, strict=True)]
        constant = self._constant(spec)
        return [constant] * domain.size

    def _leaf(self, cond: Mapping[str, Any], domain: Domain) -> Result:
        path = cond["attr"]
        tests = [k for k in cond if k != "attr"]
        if not tests:
            test: Callable[[Any, Any], bool] = _truth
            spec: Any = None
        elif tests[0] == "is":
            test, spec = partial(_identity, cond["is"]), None
        else:
            test, spec = partial(compare, tests[0]), cond[tests[0]]
        constant = self._constant(spec)
        buckets = self._buckets(domain, path) if constant is not MISSING else None
        if buckets is None:
            return self._leaf_by_object(test, self.column(domain, path), self._operand_column(domain, spec))
        holds = raises = 0  # a constant operand: tested once per distinct value
        for value, bits in buckets:
            outcome = self._outcome(test, value, constant)
            if outcome is True:
                holds |= bits
            elif outcome is _ERROR:
                raises |= bits
        return holds, raises

    def _leaf_by_object(self, test: Callable[[Any, Any], bool], values: list[Any], operands: list[Any]) -> Result:
        """A leaf whose operand differs from object to object (`{attr: ...}`)."""
        holds = [False] * len(values)
        raises = [False] * len(values)
        seen: dict[Any, Any] = {}
        for i, (raw, operand) in enumerate(zip(values, operands, strict=True)):
            if operand is MISSING:
                raises[i] = True
                continue
            try:
                key: Any = (_hashable(raw), _hashable(operand))
                outcome = seen.get(key)
                if outcome is None:
                    outcome = seen[key] = self._outcome(test, raw, operand)
            except TypeError:  # a value that does not hash: tested on its own
                outcome = self._outcome(test, raw, operand)
            if outcome is True:
                holds[i] = True
            elif outcome is _ERROR:
                raises[i] = True
        return bits_of(holds), bits_of(raises)

    def _outcome(self, test: Callable[[Any, Any], bool], raw: Any, operand: Any) -> Any:
        """True, False, or _ERROR for one (value, operand)."""
        if raw is MISSING:
            return _ERROR
        try:
            return bool(test(self._value(raw), operand))
        except Undefined:
            return _ERROR

    # --- combining ------------------------------------------------------------------------

    def _eval(self, cond: Mapping[str, Any], domain: Domain, keys: dict[int, str]) -> Result:
        key = (domain.key, _key(cond, keys))
        found = self._results.get(key)
        if found is not None:
            return found
        if "attr" in cond:
            result = self._leaf(cond, domain)
        else:
            op, value = next(iter(cond.items()))
            if op == "all":
                result = self._all([self._eval(c, domain, keys) for c in value])
            elif op == "any":
                result = self._any([self._eval(c, domain, keys) for c in value], domain.mask)
            elif op == "not":
                t, e = self._eval(value, domain, keys)
                result = (domain.mask & ~t & ~e, e)
            elif op == "safe":
                result = (self._eval(value, domain, keys)[0], 0)
            else:  # "some"
                result = self._some(value, domain, keys)
        self._results[key] = result
        return result

    @staticmethod
    def _all(parts: list[Result]) -> Result:
        """Python's all(): stops at the first false or raise."""
        reached = -1  # positions still being evaluated (every previous part held)
        raises = 0
        for t, e in parts:
            raises |= reached & e
            reached &= t
        return reached, raises

    @staticmethod
    def _any(parts: list[Result], mask: int) -> Result:
        """Python's any(): stops at the first true or raise."""
        reached = mask  # every previous part was false
        holds = raises = 0
        for t, e in parts:
            holds |= reached & t
            raises |= reached & e
            reached &= ~t & ~e
        return holds & mask, raises & mask

    def _pair_domain(self, domain: Domain, path: str) -> tuple[Domain, int]:
        """The (object, item) pairs of `some: {in: path}`, and where `path` is not a list."""
        key = (domain.key, "some", path)
        found = self._pairs.get(key)
        if found is not None:
            return found, found.not_list
        targets, items, parent = [], [], []
        not_list = [False] * domain.size
        for i, raw in enumerate(self.column(domain, path)):
            value = MISSING if raw is MISSING else self._value(raw)
            if not isinstance(value, tuple):
                not_list[i] = True
                continue
            for item in value:
                targets.append(domain.targets[i])
                items.append(item)
                parent.append(i)
        pairs = Domain(key, targets, items, parent, not_list=bits_of(not_list))
        self._pairs[key] = pairs
        return pairs, pairs.not_list

    def _some(self, value: Mapping[str, Any], domain: Domain, keys: dict[int, str]) -> Result:
        pairs, not_list = self._pair_domain(domain, value["in"])
        t, e = self._eval(value["where"], pairs, keys)
        holds = [False] * domain.size
        raises = [False] * domain.size
        decided: set[int] = set()
        parent = pairs.parent or ()
        for p in positions(t | e):
            owner = parent[p]
            if owner in decided:
                continue
            decided.add(owner)
            if (t >> p) & 1:
                holds[owner] = True
            else:
                raises[owner] = True
        return bits_of(holds), bits_of(raises) | not_list


def _key(cond: Any, memo: dict[int, str]) -> str:
    """A canonical text for a node, so equal subtrees of different threats share one result."""
    found = memo.get(id(cond))
    if found is None:
        if isinstance(cond, dict) and "attr" not in cond and len(cond) == 1:
            op, value = next(iter(cond.items()))
            if op in ("all", "any"):
                found = f"{op}({','.join(_key(c, memo) for c in value)})"
            elif op in ("not", "safe"):
                found = f"{op}({_key(value, memo)})"
            else:
                found = f"some({json.dumps(value['in'])},{_key(value['where'], memo)})"
        else:
            found = json.dumps(cond, sort_keys=True)
        memo[id(cond)] = found
    return found
