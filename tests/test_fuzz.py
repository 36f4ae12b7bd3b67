"""Fuzzing every loader with hypothesis: catalogs (threats, mitigations, decisions, evidence,
selectors), raw YAML and the config table. Property: the outcome is success or InputError
whose problems all carry a file and a line, never any other exception.

The examples per test come from THREATGRAPH_FUZZ_EXAMPLES (default 3,000: 12,000 across the
four tests, about two and a half minutes); run just these with `pytest -m fuzz`, or skip them
with `pytest -m "not fuzz"`."""

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatgraph import pipeline
from threatgraph.analysis.run import analyse
from threatgraph.assess import assess
from threatgraph.catalog.loader import load_catalog
from threatgraph.config import Policy, load_config
from threatgraph.errors import InputError
from threatgraph.evidence.runner import run_evidence
from threatgraph.evidence.spec import validate_item
from threatgraph.mapping import map_threats
from threatgraph.safeyaml import parse_yaml

from .conftest import SMALL_MODEL

EXAMPLES = int(os.environ.get("THREATGRAPH_FUZZ_EXAMPLES", "3000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.fuzz

IDS = ["TH-1", "TH-2", "M-1", "M-2", "login", "web", "db", "app", "dmz", "inner", "*", "web*", ""]
WORDS = ["id", "title", "stride", "severity", "applies_to", "mitigations", "flows", "elements", "kind",
         "protocol", "port", "crosses", "in_boundary", "data", "classification", "source", "sink", "all", "any",
         "not", "attribute", "status", "evidence", "path", "pattern", "pointer", "equals", "contains", "exists",
         "absent", "items", "proves", "gap", "expect", "exclude", "flags", "decision", "owner", "justification",
         "expires", "targets", "threat", "references", "cwe", "likelihood", "impact", "type", "tags", "bogus"]
VALUES = ["high", "low", "critical", "tampering", "spoofing", "implemented", "partial", "planned", "regex",
          "json_pointer", "yaml_path", "file_exists", "all", "any", "accept", "false_positive", "process",
          "datastore", "boundary", "sql", "HTTPS", "secret", "/a/0", "src/**/*.conf", "../etc/passwd", "/etc/x",
          "(a+)+$", "([unclosed", "2020-01-01", "2099-12-31", "match", "no_match", "CWE-79", "\u202e", "<script>"]

scalars = st.one_of(st.sampled_from(VALUES + IDS), st.integers(-5, 70000), st.booleans(), st.none(),
                    st.text(max_size=30), st.tuples(st.sampled_from("x\u202e<\"|"), st.integers(1000, 30000)).map(
                        lambda t: t[0] * t[1]),
                    st.dates().map(str))
keys = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=12))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def _entry(kind):
    base = {"threats": {"id": st.sampled_from(IDS), "title": st.text(max_size=20),
                        "stride": st.lists(st.sampled_from(["tampering", "spoofing", "x"]), max_size=2),
                        "severity": st.sampled_from(["high", "low", "urgent"]),
                        "applies_to": st.lists(st.dictionaries(st.sampled_from(["flows", "elements", "nodes"]),
                                                               trees, min_size=1, max_size=2), max_size=3),
                        "mitigations": st.lists(st.one_of(st.sampled_from(IDS), trees), max_size=3)},
            "mitigations": {"id": st.sampled_from(IDS), "title": st.text(max_size=20),
                            "status": st.sampled_from(["implemented", "partial", "planned", "done"]),
                            "evidence": st.lists(st.one_of(trees, st.fixed_dictionaries(
                                {"kind": st.sampled_from(["regex", "json_pointer", "yaml_path", "file_exists", "all",
                                                          "any", "regexp"]),
                                 "proves": st.text(max_size=10), "path": st.sampled_from(VALUES),
                                 "pattern": st.sampled_from(VALUES), "pointer": st.sampled_from(["/a", "a", ""]),
                                 "items": st.lists(trees, max_size=2)})), max_size=3)},
            "decisions": {"threat": st.sampled_from(IDS), "decision": st.sampled_from(["accept", "false_positive", "no"]),
                          "owner": st.text(max_size=10), "justification": st.text(max_size=10),
                          "expires": st.sampled_from(["2020-01-01", "2099-01-01", "soon"]),
                          "targets": st.lists(st.sampled_from(IDS), max_size=3)}}[kind]
    # a valid-shaped entry with some keys dropped, some values replaced and junk keys added
    return st.fixed_dictionaries({}, optional={k: v for k, v in base.items()}).flatmap(
        lambda d: st.dictionaries(keys, trees, max_size=2).map(lambda junk: {**d, **junk}))


documents = st.one_of(
    st.fixed_dictionaries({}, optional={"threats": st.lists(_entry("threats"), max_size=4),
                                        "decisions": st.lists(_entry("decisions"), max_size=2),
                                        "mitigations": st.lists(_entry("mitigations"), max_size=3)}),
    trees,
)


@lru_cache(maxsize=1)
def _project():
    root = Path(tempfile.mkdtemp(prefix="tg-fuzz-"))
    (root / "model.py").write_text(SMALL_MODEL)
    (root / "pyproject.toml").write_text('[tool.threatgraph]\nmodel = "model.py"\n')
    (root / "src").mkdir()
    (root / "src" / "a.conf").write_text("on\n")
    return root, pipeline.load_model(load_config(root).model, root).model


def _located(exc: InputError) -> None:
    assert exc.problems
    for p in exc.problems:
        assert isinstance(p.file, str) and p.file and p.line >= 1 and p.col >= 1 and p.message


def _run_catalog(threats_text: str, mitigations_text: str) -> None:
    root, model = _project()
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        t, m = Path(tmp) / "threats", Path(tmp) / "mitigations"
        t.mkdir()
        m.mkdir()
        (t / "a.yaml").write_text(threats_text, encoding="utf-8")
        (m / "a.yaml").write_text(mitigations_text, encoding="utf-8")
        try:
            catalog = load_catalog(t, m, model, root, evidence_validator=validate_item)
            mapping = map_threats(model, catalog)
            from threatgraph.evidence.source import DirSource

            evidence = run_evidence(catalog.mitigations, DirSource(root), regex_timeout=0.2)
            import datetime

            a = assess(model, catalog, mapping, evidence, Policy(require_evidence=True), datetime.date(2025, 1, 1))
            analyse(a)
        except InputError as exc:
            _located(exc)


def _dump(value) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


@FUZZ
@given(threats=documents, mitigations=documents)
def test_fuzz_catalogs(threats, mitigations):
    _run_catalog(_dump(threats), _dump(mitigations))


@FUZZ
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                      st.tuples(st.sampled_from(["[", "{a: ", "- ", "a:\n" + " "]), st.integers(1, 1200)).map(
                          lambda t: t[0] * t[1] + ("]" * t[1] if t[0] == "[" else "}" * t[1] if t[0] == "{a: " else "x")),
                      trees.map(_dump).flatmap(lambda s: st.integers(0, max(0, len(s) - 1)).map(
                          lambda i: s[:i] + s[i + 1:] + s[i:i + 1]))))
def test_fuzz_raw_yaml(text):
    try:
        doc = parse_yaml(text, "fuzz.yaml")
    except InputError as exc:
        _located(exc)
        return
    assert doc.file == "fuzz.yaml"


@FUZZ
@given(dup=st.sampled_from(IDS), n=st.integers(2, 4), alias_depth=st.integers(0, 12),
       title=st.text(max_size=40), twice=st.booleans())
def test_fuzz_duplicates_and_aliases(dup, n, alias_depth, title, twice):
    repeat = f"    id: {dup!r}\n" if twice else ""
    threats = "threats:\n" + "".join(
        f"  - id: {dup!r}\n{repeat}    title: {title!r}\n    stride: [tampering]\n    severity: high\n"
        f"    applies_to: [{{flows: login}}]\n" for _ in range(n))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n" for i in range(alias_depth))
    _run_catalog(threats, "mitigations: []\n" + bomb)


toml_values = st.one_of(st.sampled_from(['"model.py"', '"high"', '"never"', '"hihg"', "0.5", "2", "true", "[]",
                                         '"../x"', "{}", '"a\\u202e"']), st.integers(-3, 3).map(str))
toml_keys = st.sampled_from(["model", "threats", "mitigations", "source", "out", "site", "modle", "fail_on",
                             "min_coverage", "require_evidence", "fail_on_drift", "weird key", "policy"])


@FUZZ
@given(top=st.dictionaries(toml_keys, toml_values, max_size=5), policy=st.dictionaries(toml_keys, toml_values, max_size=5),
       junk=st.text(max_size=40))
def test_fuzz_config_table(top, policy, junk):
    text = "[tool.threatgraph]\n" + "".join(f'"{k}" = {v}\n' for k, v in top.items())
    text += "[tool.threatgraph.policy]\n" + "".join(f'"{k}" = {v}\n' for k, v in policy.items()) + junk
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pyproject.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(Path(tmp), explicit=path)
        except InputError as exc:
            _located(exc)
