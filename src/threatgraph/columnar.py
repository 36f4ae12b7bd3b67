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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from threatgraph.conditions import Undefined, compare, path_keys, resolve_refs
from threatgraph.model.facts import MISSING, EnumValue, Ref, raw_value
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
    columns: dict[str, list[Any]] = field(default_factory=dict)
    buckets: dict[str, dict[Any, list[int]] | None] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.targets)

    @property
    def mask(self) -> int:
        return (1 << self.size) - 1


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
        self._layout_index: dict[tuple[str, str], int] = {}

    # --- public --------------------------------------------------------------------------

    def holding(self, cond: Mapping[str, Any], what: str) -> list[int]:
        """Positions (in `targets[what]`) where the condition holds, a raise meaning false
        (how pytm applies a condition: conditions.compile_safely)."""
        holds, _ = self._eval(cond, self.domains[what], {})
        return positions(holds)

    # --- reading --------------------------------------------------------------------------

    def _index_of(self, layout: str, key: str) -> int:
        found = self._layout_index.get((layout, key))
        if found is None:
            fl = self.model.fact_layouts.get(layout)
            found = fl.index().get(key, -1) if fl is not None else -1
            self._layout_index[(layout, key)] = found
        return found

    def _read(self, objs: Iterable[Any], key: str) -> list[Any]:
        out = []
        index_of = self._index_of
        for obj in objs:
            facts = getattr(obj, "facts", None)
            if facts is None:
                out.append(MISSING)
                continue
            i = index_of(facts.layout, key)
            out.append(MISSING if i < 0 else raw_value(facts.values[i]))
        return out

    def _record(self, value: Any) -> Any:
        if not isinstance(value, Ref):
            return None
        m = self.model
        return m.elements.get(value.id) or m.flows.get(value.id) or m.boundaries.get(value.id) or m.data.get(value.id)

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
        values = self._read(objs, keys[0])
        for key in keys[1:]:
            linked = [self._record(v) for v in values]
            read = self._read([o for o in linked if o is not None], key)
            it = iter(read)
            values = [next(it) if o is not None else MISSING for o in linked]
        domain.columns[path] = values
        return values

    def _buckets(self, domain: Domain, path: str) -> dict[Any, list[int]] | None:
        """Positions by distinct value of a column (None if a value does not hash)."""
        if path in domain.buckets:
            return domain.buckets[path]
        out: dict[Any, list[int]] | None = {}
        try:
            for i, v in enumerate(self.column(domain, path)):
                key = _hashable(v)
                hit = out.get(key)  # type: ignore[union-attr]
                if hit is None:
                    out[key] = [i]  # type: ignore[index]
                else:
                    hit.append(i)
        except TypeError:
            out = None
        domain.buckets[path] = out
        return out

    def _value(self, raw: Any) -> Any:
        return resolve_refs(raw, self.model)

    # --- leaves ---------------------------------------------------------------------------

    def _test(self, cond: Mapping[str, Any]) -> tuple[Callable[[Any, Any], bool], Any]:
        """The leaf's test as f(value, operand) and its operand spec."""
        tests = [k for k in cond if k != "attr"]
        if not tests:
            return (lambda v, _o: bool(v)), None
        test = tests[0]
        if test == "is":
            expected = cond["is"]
            return (lambda v, _o: v is expected), None
        return (lambda v, o: compare(test, v, o)), cond[test]

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
        test, spec = self._test(cond)
        path = cond["attr"]
        constant = self._constant(spec) if spec is not None else None
        n = domain.size
        holds = [False] * n
        raises = [False] * n
        buckets = self._buckets(domain, path) if constant is not MISSING else None
        if buckets is not None:
            for (_, raw), where in buckets.items():
                outcome = self._outcome(test, raw, constant)
                flags = holds if outcome is True else raises if outcome is _ERROR else None
                if flags is not None:
                    for i in where:
                        flags[i] = True
            return bits_of(holds), bits_of(raises)
        values = self.column(domain, path)
        operands = self._operand_column(domain, spec) if spec is not None else [None] * n
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
            except TypeError:  # an operand that does not hash: tested on its own
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
            return found, found.columns["\0not a list"][0]
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
        pairs = Domain(key, targets, items, parent)
        bad = bits_of(not_list)
        pairs.columns["\0not a list"] = [bad]
        self._pairs[key] = pairs
        return pairs, bad

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
