"""pytm's own attribute values, kept for conditions (the `where` and `pytm_class` selector
keys, and the pytm threat library compiled from pytm's conditions).

A pytm condition reads attributes with their defaults (`target.controls.sanitizesInput is
False` holds for an element that never mentions it) and follows links (`target.sink.inScope`).
So when a catalog uses conditions, the loader reads every scalar attribute of every pytm object
in the model's child process, defaults included, exactly as pytm would see it: per class one
layout (the attribute paths), per object one aligned tuple of values. Enum members keep their
type, name and rank; links to other pytm objects become `Ref`s to their threatgraph ids.
Nothing is evaluated: these are plain values read with getattr from pytm's own objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

MISSING: Any = object()


@dataclass(frozen=True)
class EnumValue:
    """An enum member of pytm (TLSVersion.TLSv12): equal by type and name, ordered by rank
    when pytm orders it (its ordered enums: TLSVersion, Classification)."""

    type: str
    name: str
    rank: int | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnumValue) and (self.type, self.name) == (other.type, other.name)

    def __hash__(self) -> int:
        return hash((self.type, self.name))

    def __str__(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(frozen=True)
class Ref:
    """A link to another object of the model, by its threatgraph id."""

    id: str


@dataclass(frozen=True)
class FactLayout:
    """The attribute paths read for one pytm class, and the class with its pytm bases."""

    classes: tuple[str, ...]  # most specific first, e.g. ("SetOfProcesses", "Process", "Asset", "Element")
    paths: tuple[str, ...]

    def index(self) -> Mapping[str, int]:
        return {p: i for i, p in enumerate(self.paths)}


@dataclass(frozen=True)
class Facts:
    layout: str  # key into Model.fact_layouts
    values: tuple[Any, ...]


_SCALARS = (bool, int, float, str)
_SCALAR_TYPES = frozenset(_SCALARS)  # exactly these types (a subclass, an Enum say, goes through plain_fact)
_SKIP = frozenset({"findings", "overrides", "assumptions", "uuid", "is_drawn", "controls"})


def _ordered(enum_cls: type) -> bool:
    return any(b.__name__ == "OrderedEnum" for b in enum_cls.__mro__)


def plain_fact(value: Any, ids: Mapping[int, str], enums: dict[str, dict[str, int]] | None = None) -> Any:
    """The value kept for one attribute, or MISSING for what conditions cannot read. Ordered
    enums met on the way are recorded whole in `enums` (type -> member -> rank), so a
    condition can order a constant it names (`{enum: TLSVersion.TLSv13}`)."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, Enum):
        cls = type(value)
        ordered = _ordered(cls) and isinstance(value.value, int)
        if ordered and enums is not None and cls.__name__ not in enums:
            enums[cls.__name__] = {m.name: m.value for m in cls if isinstance(m.value, int)}
        return EnumValue(cls.__name__, value.name, value.value if ordered else None)
    if id(value) in ids:
        return Ref(ids[id(value)])
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ in ("DataSet",):
        items = [plain_fact(v, ids, enums) for v in value]
        if any(i is MISSING for i in items):
            return MISSING
        return tuple(sorted(items, key=repr)) if isinstance(value, (set, frozenset)) else tuple(items)
    return MISSING


class FactReader:
    """Reads facts object by object, one layout per class (computed once)."""

    def __init__(self, ids: Mapping[int, str]) -> None:
        self.ids = ids
        self.layouts: dict[str, FactLayout] = {}
        self.enums: dict[str, dict[str, int]] = {}
        self._fields: dict[type, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}

    def _layout(self, cls: type, obj: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        found = self._fields.get(cls)
        if found is None:
            own = tuple(sorted(f for f in getattr(cls, "model_fields", {}) if f not in _SKIP))
            controls = getattr(obj, "controls", None)
            ctl = tuple(sorted(getattr(type(controls), "model_fields", {}))) if controls is not None else ()
            classes = tuple(c.__name__ for c in cls.__mro__
                            if c.__module__.startswith("pytm") or c is cls)
            key = f"{cls.__module__}.{cls.__qualname__}"
            paths = own + tuple(f"controls.{c}" for c in ctl) + ("overrides",)
            self.layouts[key] = FactLayout(tuple(dict.fromkeys(classes)), paths)
            found = self._fields[cls] = (key, own, ctl)
        return found

    def _values(self, obj: Any, names: tuple[str, ...], out: list[Any]) -> None:
        """Each attribute's fact: a field's value straight from the object's __dict__ where
        pydantic keeps it (getattr for anything else), scalars kept as they are."""
        stored = getattr(obj, "__dict__", {})
        ids, enums = self.ids, self.enums
        for name in names:
            try:
                value = stored[name] if name in stored else getattr(obj, name)
            except Exception:  # noqa: BLE001 - a property of foreign code failed: the fact is missing
                out.append(_MISSING_MARK)
                continue
            if value is not None and type(value) not in _SCALAR_TYPES:
                value = plain_fact(value, ids, enums)
                if value is MISSING:
                    value = _MISSING_MARK
            out.append(value)

    def read(self, obj: Any) -> Facts:
        key, own, ctl = self._layout(type(obj), obj)
        values: list[Any] = []
        self._values(obj, own, values)
        controls = getattr(obj, "controls", None)
        if ctl:
            self._values(controls, ctl, values)
        overrides = getattr(obj, "overrides", None) or ()
        values.append(tuple(str(getattr(f, "threat_id", "")) for f in overrides))
        return Facts(key, tuple(values))


class _Missing:
    """Stands for an attribute pytm does not have on this object (reading it would raise)."""

    def __reduce__(self) -> str:
        return "_MISSING_MARK"

    def __repr__(self) -> str:
        return "<missing>"


_MISSING_MARK = _Missing()
MISSING_MARK = _MISSING_MARK  # how a stored Facts tuple marks an attribute the object lacks


def fact(layouts: Mapping[str, FactLayout], facts: Facts | None, path: str) -> Any:
    """The value of one attribute path on one object, or MISSING (no facts, or no such attribute)."""
    if facts is None:
        return MISSING
    layout = layouts.get(facts.layout)
    if layout is None:
        return MISSING
    index = _INDEXES.get(facts.layout)
    if index is None or index[0] is not layout:
        index = _INDEXES[facts.layout] = (layout, layout.index())
    i = index[1].get(path)
    if i is None:
        return MISSING
    value = facts.values[i]
    return MISSING if value is _MISSING_MARK else value


_INDEXES: dict[str, tuple[FactLayout, Mapping[str, int]]] = {}

