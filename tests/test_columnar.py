"""The whole-model condition evaluator (columnar.py) against the object-by-object one
(conditions.compile_safely), which stays the definition: on every condition of pytm's own
library over random pytm models, and on random condition trees that read missing attributes,
compare values that do not order, follow links and iterate lists."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatgraph import conditions
from threatgraph.columnar import bits_of, positions
from threatgraph.model.loader import load_model
from threatgraph.packs import pytm as pytm_pack
from threatgraph.selectors import ELEMENTS, FLOWS, ModelIndex

from .pytm_models import random_model


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ModelIndex:
    root = Path(tmp_path_factory.mktemp("columnar"))
    (root / "tm.py").write_text(random_model(11, elements=40, flows=90), encoding="utf-8")
    return ModelIndex(load_model("tm.py", root, facts=True).model)


def scalar(index: ModelIndex, cond: dict, what: str) -> list[int]:
    check = conditions.compile_safely(cond)
    m = index.model
    out = []
    for i, ident in enumerate(index.positions(what)):
        record = m.flows[ident] if what == FLOWS else (m.elements.get(ident) or m.boundaries[ident])
        if check(conditions.Scope(m, record)):
            out.append(i)
    return out


def wheres(selector: object) -> list[tuple[str, dict]]:
    """Every (flows|elements, where) inside a threat's applies_to item."""
    out: list[tuple[str, dict]] = []

    def walk(node: object, what: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "where":
                    out.append((what, value))
                elif key in ("all", "any"):
                    for sub in value:
                        walk(sub, what)
                elif key == "not":
                    walk(value, what)
    for item in selector:  # type: ignore[attr-defined]
        what, sel = next(iter(item.items()))
        walk(sel, what)
    return out


def test_bitsets_round_trip() -> None:
    flags = [i % 3 == 0 or i == 999 for i in range(1000)]
    assert positions(bits_of(flags)) == [i for i, f in enumerate(flags) if f]
    assert bits_of([]) == 0 and positions(0) == []


def test_every_condition_of_pytms_library_gives_the_object_by_object_result(index: ModelIndex) -> None:
    pack = pytm_pack.load()
    compared = holding = 0
    for threat, _ in pack.threats:
        for what, cond in wheres(threat.applies_to):
            want = scalar(index, cond, what)
            assert index.columns().holding(cond, what) == want, threat.id
            compared += 1
            holding += bool(want)
    assert compared > 150 and holding > 40  # the library is exercised, not vacuously equal


# --- random trees --------------------------------------------------------------------------

TARGET_PATHS = ["inScope", "isEncrypted", "protocol", "port", "isResponse", "controls.sanitizesInput",
                "controls.isHardened", "controls.usesEncryptionAlgorithm", "tlsVersion", "minTLSVersion",
                "maxClassification", "source.inScope", "sink.minTLSVersion", "sink.maxClassification",
                "source.controls.isHardened", "overrides", "data", "inputs", "name", "noSuchAttribute",
                "source.noSuchAttribute", "isResponse.source"]
ITEM_PATHS = ["item.classification", "item.format", "item.isPII", "item.tlsVersion", "item.isCredentials",
              "item.noSuchAttribute", "item.credentialsLife"]
CONSTANTS = st.one_of(st.none(), st.booleans(), st.integers(-1, 443), st.sampled_from(["HTTP", "JSON", "", "RSA"]),
                      st.sampled_from([{"enum": "TLSVersion.TLSv12"}, {"enum": "Classification.SECRET"},
                                       {"enum": "Lifetime.LONG"}]),
                      st.sampled_from([{"attr": p} for p in ("maxClassification", "minTLSVersion",
                                                             "source.maxClassification", "port")]))
TESTS = ["eq", "ne", "lt", "le", "gt", "ge"]


def leaves(paths: list[str], operands: st.SearchStrategy = CONSTANTS, has: tuple = ("INP02", "AC01", "x"),
           list_size: int = 3) -> st.SearchStrategy[dict]:
    """Every kind of leaf: truthiness, identity, each comparison, membership, `has`."""
    path = st.sampled_from(paths)
    return st.one_of(
        path.map(lambda p: {"attr": p}),
        st.tuples(path, st.sampled_from([True, False, None])).map(lambda t: {"attr": t[0], "is": t[1]}),
        st.tuples(path, st.sampled_from(TESTS), operands).map(lambda t: {"attr": t[0], t[1]: t[2]}),
        st.tuples(path, st.sampled_from(["in", "not_in"]), st.lists(operands, max_size=list_size))
        .map(lambda t: {"attr": t[0], t[1]: t[2]}),
        st.tuples(path, st.sampled_from(has)).map(lambda t: {"attr": t[0], "has": t[1]}),
    )


def trees(paths: list[str], depth: int = 3) -> st.SearchStrategy[dict]:
    def extend(inner: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map(lambda cs: {"all": cs}),
            st.lists(inner, min_size=1, max_size=4).map(lambda cs: {"any": cs}),
            inner.map(lambda c: {"not": c}),
            inner.map(lambda c: {"safe": c}),
        )
    return st.recursive(leaves(paths), extend, max_leaves=8)


def with_some(paths: list[str]) -> st.SearchStrategy[dict]:
    inner = trees(paths + ITEM_PATHS)
    some = st.tuples(st.sampled_from(["data", "inputs", "outputs", "sink.inputs", "protocol", "noSuchList"]), inner
                     ).map(lambda t: {"some": {"in": t[0], "where": t[1]}})
    return st.one_of(trees(paths), some, st.tuples(trees(paths), some).map(lambda t: {"any": list(t)}),
                     st.tuples(some, trees(paths)).map(lambda t: {"all": list(t)}))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cond=with_some(TARGET_PATHS), what=st.sampled_from([FLOWS, ELEMENTS]))
def test_random_conditions_give_the_object_by_object_result(index: ModelIndex, cond: dict, what: str) -> None:
    assert index.columns().holding(cond, what) == scalar(index, cond, what)


# --- random models too: values of every kind, missing attributes, links and lists ---------

def _model_and_records(draw: st.DrawFn) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    from threatgraph.model.facts import _MISSING_MARK, EnumValue, FactLayout, Facts, Ref

    n = draw(st.integers(1, 10))
    ids = [f"r{i}" for i in range(n)]
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "a", "b"]),
                        st.sampled_from([EnumValue("Level", "LOW", 1), EnumValue("Level", "HIGH", 3),
                                         EnumValue("Kind", "X", None)]),
                        st.just(_MISSING_MARK))
    refs = st.sampled_from(ids).map(Ref)
    value = st.one_of(scalars, refs, st.lists(refs, max_size=3).map(tuple),
                      st.lists(st.sampled_from(["a", "b", 1]), max_size=3).map(tuple))
    layouts = {"L": FactLayout(("L",), ("a", "b", "link", "items", "controls.x")), "M": FactLayout(("M",), ("a", "items"))}
    records = []
    for ident in ids:
        layout = draw(st.sampled_from(["L", "M"]))
        values = tuple(draw(value) for _ in layouts[layout].paths)
        records.append(SimpleNamespace(id=ident, facts=Facts(layout, values)))
    model = SimpleNamespace(fact_layouts=layouts, fact_enums={"Level": {"LOW": 1, "HIGH": 3}},
                            elements={r.id: r for r in records}, flows={}, boundaries={}, data={})
    return model, records


PATHS = ["a", "b", "link", "items", "controls.x", "link.a", "link.link.b", "link.items", "nothing"]
ITEMS = ["item.a", "item.b", "item.link.a", "item.items"]
OPERANDS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "a"]),
                     st.sampled_from([{"enum": "Level.LOW"}, {"enum": "Level.HIGH"}, {"enum": "Kind.X"},
                                      {"attr": "a"}, {"attr": "link.b"}, {"attr": "item.a"}]))


def _tree(paths: list[str]) -> st.SearchStrategy[dict]:
    def extend(inner: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
        some = st.tuples(st.sampled_from(["items", "link.items", "item.items", "a", "nothing"]), inner
                         ).map(lambda t: {"some": {"in": t[0], "where": t[1]}})
        return st.one_of(st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
                         st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
                         inner.map(lambda c: {"not": c}), inner.map(lambda c: {"safe": c}), some)
    return st.recursive(leaves(paths, OPERANDS, ("a", 1, None), 2), extend, max_leaves=10)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[SimpleNamespace, list[SimpleNamespace], dict]:
    model, records = _model_and_records(draw)
    return model, records, draw(_tree(PATHS + ITEMS * 3))


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(case=_cases())
def test_random_conditions_on_random_values_give_the_object_by_object_result(case: tuple) -> None:
    from threatgraph.columnar import ColumnarConditions

    model, records, cond = case
    check = conditions.compile_safely(cond)
    want = [i for i, r in enumerate(records) if check(conditions.Scope(model, r))]  # type: ignore[arg-type]
    assert ColumnarConditions(model, {"x": records}).holding(cond, "x") == want  # type: ignore[arg-type]


def test_some_takes_the_first_item_that_holds_or_raises() -> None:
    """any(item.a for item in items): an item that raises before one that holds makes it raise."""
    from threatgraph.columnar import ColumnarConditions
    from threatgraph.model.facts import _MISSING_MARK, FactLayout, Facts, Ref

    def record(ident: str, a: object, items: tuple) -> SimpleNamespace:
        return SimpleNamespace(id=ident, facts=Facts("L", (a, items)))
    records = [record("raises_first", None, (Ref("missing"), Ref("yes"))), record("holds_first", None, (Ref("yes"), Ref("missing"))),
               record("missing", _MISSING_MARK, ()), record("yes", True, ())]
    model = SimpleNamespace(fact_layouts={"L": FactLayout(("L",), ("a", "items"))}, fact_enums={},
                            elements={r.id: r for r in records}, flows={}, boundaries={}, data={})
    cond = {"some": {"in": "items", "where": {"attr": "item.a"}}}
    assert ColumnarConditions(model, {"x": records}).holding(cond, "x") == [1]  # type: ignore[arg-type]
