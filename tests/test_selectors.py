from pathlib import Path

import pytest

from threatgraph.model.loader import load_model
from threatgraph.selectors import ELEMENTS, FLOWS, ModelIndex, evaluate

from .conftest import SMALL_MODEL


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
