from pathlib import Path

import pytest

from threatgraph.model.loader import load_model
from threatgraph.selectors import ELEMENTS, FLOWS, ModelIndex, evaluate

from .conftest import SMALL_MODEL, synthetic_project


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> ModelIndex:
    folder: Path = tmp_path_factory.mktemp("sel")
    (folder / "m.py").write_text(SMALL_MODEL, encoding="utf-8")
    return ModelIndex(load_model("m.py", folder).model)


@pytest.mark.parametrize("selector,what,expected", [
    ({"id": "login"}, FLOWS, {"login"}),
    ("login", FLOWS, {"login"}),
    ({"id": "*_to_*"}, FLOWS, {"web_to_app", "app_to_db"}),
    ({"kind": "datastore"}, ELEMENTS, {"db"}),
    ({"kind": "boundary"}, ELEMENTS, {"internet", "dmz", "inner"}),
    ({"in_boundary": "dmz"}, ELEMENTS, {"web", "app", "db", "inner"}),
    ({"in_boundary": "dmz"}, FLOWS, {"web_to_app", "app_to_db"}),
    ({"crosses": "inner"}, FLOWS, {"web_to_app", "bypass"}),
    ({"crosses": "*"}, FLOWS, {"login", "web_to_app", "bypass"}),
    ({"protocol": "sql"}, FLOWS, {"app_to_db", "bypass"}),
    ({"port": [443, 8080]}, FLOWS, {"login", "web_to_app"}),
    ({"data": "order"}, FLOWS, {"web_to_app", "app_to_db"}),
    ({"classification": "secret"}, FLOWS, {"login"}),
    ({"credentials": True}, FLOWS, {"login"}),
    ({"credentials": False}, FLOWS, {"web_to_app", "app_to_db", "bypass"}),
    ({"encrypted": False, "attack": False}, FLOWS, {"web_to_app", "app_to_db"}),
    ({"source": {"kind": "external_entity"}}, FLOWS, {"login", "bypass"}),
    ({"sink": {"in_boundary": "inner"}}, FLOWS, {"web_to_app", "app_to_db", "bypass"}),
    ({"attribute": {"controls.isEncrypted": True}}, FLOWS, {"login"}),
    ({"any": [{"id": "login"}, {"protocol": "http"}]}, FLOWS, {"login", "web_to_app"}),
    ({"all": [{"protocol": "sql"}, {"not": {"attack": True}}]}, FLOWS, {"app_to_db"}),
    ({"not": {"kind": ["process", "boundary"]}}, ELEMENTS, {"user", "db"}),
])
def test_selector_keys(index, selector, what, expected):
    assert set(evaluate(selector, index, what)) == expected


# -- indexed evaluation against a brute-force reference ----------------------------------------

def _reference(selector, model, what):
    """The selector semantics written as one predicate per record, scanning everything: the
    oracle the set-based evaluator must agree with."""
    from threatgraph.model.types import CLASSIFICATIONS

    if isinstance(selector, (str, list)):
        selector = {"id": selector}
    records = dict(model.flows) if what == FLOWS else {**model.elements, **model.boundaries}

    def many(v):
        return v if isinstance(v, list) else [v]

    def enclosing(r):
        return r.chain if r.kind == "boundary" else r.boundaries

    def holds(r, key, value):
        import fnmatch

        if key == "id":
            return any(fnmatch.fnmatchcase(r.id, p) for p in many(value))
        if key == "kind":
            return r.kind in many(value)
        if key == "tag":
            return bool(set(getattr(r, "tags", ())) & set(many(value)))
        if key == "crosses":
            return any(b in r.crosses or (b == "*" and r.crosses) for b in many(value))
        if key == "in_boundary":
            if what == FLOWS:
                ends = [model.node(r.source), model.node(r.sink)]
                return all(set(enclosing(e)) & set(many(value)) for e in ends)
            return bool(set(enclosing(r)) & set(many(value)))
        if key == "protocol":
            return r.protocol.lower() in [str(v).lower() for v in many(value)]
        if key == "port":
            return r.port in many(value)
        if key == "data":
            return bool(set(getattr(r, "data", ())) & set(many(value)))
        if key == "classification":
            rank = CLASSIFICATIONS.index(value)
            return any(model.data[d].rank >= rank for d in getattr(r, "data", ()))
        if key == "credentials":
            return any(model.data[d].is_credentials for d in getattr(r, "data", ())) == bool(value)
        if key in ("encrypted", "authenticated", "attack"):
            return getattr(r, key) == bool(value)
        if key in ("source", "sink"):
            return getattr(r, key) in sub[key]
        if key == "all":
            return all(r.id in picked for picked in sub[key])
        if key == "any":
            return any(r.id in picked for picked in sub[key])
        if key == "not":
            return r.id not in sub[key]
        raise AssertionError(key)

    sub = {}  # nested selectors, each evaluated once
    for key, value in selector.items():
        if key in ("source", "sink"):
            sub[key] = _reference(value, model, ELEMENTS)
        elif key in ("all", "any"):
            sub[key] = [_reference(s, model, what) for s in value]
        elif key == "not":
            sub[key] = _reference(value, model, what)
    return {i for i, r in records.items() if all(holds(r, k, v) for k, v in selector.items())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = synthetic_project(120, tmp_path_factory.mktemp("gen") / "project")
    model = load_model("model.py", root).model
    return model, ModelIndex(model)


def _selectors(model):
    from hypothesis import strategies as st

    flows, elements = list(model.flows.values()), list(model.elements.values())
    bounds, data = sorted(model.boundaries), sorted(model.data)
    flow_leaf = st.one_of(
        st.fixed_dictionaries({"protocol": st.sampled_from(sorted({f.protocol for f in flows}))}),
        st.fixed_dictionaries({"port": st.sampled_from(sorted({f.port for f in flows if f.port is not None}))}),
        st.fixed_dictionaries({"crosses": st.sampled_from([*bounds, "*"])}),
        st.fixed_dictionaries({"in_boundary": st.lists(st.sampled_from(bounds), min_size=1, max_size=2)}),
        st.fixed_dictionaries({"data": st.sampled_from(data)}),
        st.fixed_dictionaries({"classification": st.sampled_from(["public", "restricted", "secret"])}),
        st.fixed_dictionaries({"credentials": st.booleans()}),
        st.fixed_dictionaries({"encrypted": st.booleans(), "attack": st.booleans()}),
        st.fixed_dictionaries({"id": st.sampled_from(["f1*", "*", "f2?", sorted(model.flows)[0]])}),
        st.fixed_dictionaries({"source": st.fixed_dictionaries({"kind": st.sampled_from(
            sorted({e.kind for e in elements}))})}),
    )
    return st.recursive(flow_leaf, lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": inner}),
        st.tuples(inner, inner).map(lambda ab: {**ab[0], **ab[1]}),
    ), max_leaves=6)


def test_indexed_evaluation_agrees_with_a_brute_force_scan(generated):
    from hypothesis import given, settings

    model, index = generated

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(_selectors(model))
    def check(selector):
        assert set(evaluate(selector, index, FLOWS)) == _reference(selector, model, FLOWS), selector

    check()
    for sel in ({"kind": "datastore", "in_boundary": sorted(model.boundaries)[3]}, {"id": "e1*"},
                {"not": {"kind": "boundary"}}, {"in_boundary": sorted(model.boundaries)[:2]}):
        assert set(evaluate(sel, index, ELEMENTS)) == _reference(sel, model, ELEMENTS), sel
