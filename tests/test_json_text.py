"""The JSON writer against its oracle: `json.dumps(doc, indent=2, ensure_ascii=False)`, on
every JSON document the firewall's assessment gives, on hostile values and on random trees."""

import json
import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import json_report, json_text, otm, paths, sarif, threat_dragon, tracking

from .conftest import REPO


def oracle(doc, sort_keys=False):
    return json.dumps(doc, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"


def test_every_firewall_json_output_is_what_json_writes():
    a = pipeline.check(load_config(REPO), use_evidence=False)
    docs = {"coverage": json_report.coverage_document(a), "paths": paths.document(a), "sarif": sarif.document(a),
            "otm": otm.document(a), "threat dragon": threat_dragon.document(a),
            "issues": json.loads(tracking.render_github_issues(a))}
    for name, doc in docs.items():
        assert json_text.dumps(doc) == oracle(doc), name
    assert len(json_text.dumps(docs["coverage"])) > 100_000  # a real report, not an empty one


HOSTILE = {"controls": "a\x00b\x1f\x7f\x85\u2028\u2029\u200b\u202e\ufeff", "quotes": 'q"\\/\t\n\r',
           "emoji": "\U0001f600 naïve 日本", "empty": [{}, [], ""], "numbers": [0, -1, 2**63 - 1, -(2**63), 54.5, 0.0,
                                                                                   100.0, -1.25, 1e15, 0.001],
           "flags": [True, False, None], "tuple": (1, "two")}


def test_hostile_values_and_sorted_keys():
    assert json_text.dumps(HOSTILE) == oracle(HOSTILE)
    assert json_text.dumps({"b": 1, "a": {"d": 2, "c": 3}}, sort_keys=True) == oracle({"b": 1, "a": {"d": 2, "c": 3}}, True)


def test_what_orjson_refuses_is_written_by_json():
    for doc in ({"big": 2**64}, {"lone": "\ud800"}, {1: "int key"}, [2**70, {"x": "\udfff"}]):
        assert json_text.dumps(doc) == oracle(doc)


FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f) and not math.isinf(f))
LEAVES = st.none() | st.booleans() | st.integers() | FLOATS | st.text(st.characters(codec=None))
TREES = st.recursive(LEAVES, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
                     max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_random_trees(doc):
    assert json_text.dumps(doc) == oracle(doc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), st.text()))
@example({"a": "x\udc80y", "b": "é", "\ud800": ""})
def test_compact_json_reads_back_as_written_whatever_the_strings(doc):
    """The site's table fragments go through `compact_bytes` and `loads`: what comes back is
    what went in, lone surrogates included (those through `json`), and the bytes are the
    same for the same document in any key order."""
    data = json_text.compact_bytes(doc)
    assert json_text.loads(data) == doc
    assert json_text.compact_bytes(dict(reversed(list(doc.items())))) == data
    if any("\ud800" <= ch <= "\udfff" for text in [*doc, *doc.values()] for ch in text):
        assert data.isascii()  # the fallback: escaped, as orjson cannot write them
