"""Policy rules are one table: each rule is a function beside its metadata, every Policy switch
has its rule, and the verdict every output prints is the typed, located list they return."""

from __future__ import annotations

import json
from dataclasses import fields

from threatgraph.config import Policy
from threatgraph.policy import RULES


def test_every_policy_switch_has_exactly_one_rule():
    rules = [r.id for r in RULES]
    assert len(rules) == len(set(rules))
    switches = {f.name for f in fields(Policy)}
    assert switches <= set(rules)  # and the one rule that needs no switch: declared invariants
    assert set(rules) - switches == {"invariants"}


def test_violations_are_typed_and_located_in_json(project, run):
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-TLS
            title: TLS everywhere
            status: partial
            evidence:
              - {kind: regex, proves: p, path: a.conf, pattern: "^ssl on$"}
          - {id: M-PARAM, title: p, status: partial}
          - {id: M-NET, title: n, status: planned}
    """)
    (project.root / "src").mkdir()
    (project.root / "src" / "a.conf").write_text("ssl off\n")
    r = run("check", "--source", str(project.root / "src"), "--fail-on", "never", "--format", "json",
            cwd=project.root)
    doc = json.loads(r.out)
    rules = doc["policy"]["rules"]
    assert [v["message"] for v in rules] == doc["policy"]["violations"]
    drift = next(v for v in rules if v["rule"] == "fail_on_drift")
    # the sentence says what was declared (before: "declared implemented" for a partial control)
    assert drift["message"] == "drift: mitigation M-TLS is declared partial but its evidence does not hold"
    assert drift["subject"] == "M-TLS" and drift["file"] == "mitigations/main.yaml" and drift["line"] == 2
