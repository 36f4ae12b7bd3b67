"""`ast_grep` and `json_path` evidence hold where the control exists, wherever it moved and
however it is formatted, and fail where it is gone; bad rules and queries are catalog errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatgraph.evidence.base import Runner
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import DirSource

HARDENED = {"kind": "ast_grep", "proves": "sidecars drop every capability and set no-new-privileges",
            "path": "src/**/*.ts",
            "rule": {"kind": "object", "all": [
                {"has": {"pattern": {"context": "({ cap_drop: ['ALL'] })", "selector": "pair"}}},
                {"has": {"pattern": {"context": "({ security_opt: ['no-new-privileges:true'] })", "selector": "pair"}}}]}}
ONE_FILE = "export const api = { image: 'x', cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] };\n"
MOVED = ("// a helper shared by every sidecar\nexport function hardening() {\n  return {\n"
         "    security_opt: [\n      'no-new-privileges:true',\n    ],\n    cap_drop: [\n      'ALL',\n    ],\n  };\n}\n")
REMOVED = "export function hardening() {\n  return { security_opt: ['no-new-privileges:true'] };\n}\n"


def _run(tree: dict[str, str], tmp_path: Path, item: dict) -> tuple[str, str | None, int | None]:
    for rel, text in tree.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    r = Runner(DirSource(tmp_path), KINDS).run(item)
    return r.result, r.file, r.line


@pytest.mark.parametrize("tree, expected", [
    ({"src/compose.ts": ONE_FILE}, ("pass", "src/compose.ts", 1)),
    ({"src/compose.ts": "export const x = 1;\n", "src/services/security.ts": MOVED},  # moved and reformatted
     ("pass", "src/services/security.ts", 3)),
    ({"src/services/security.ts": REMOVED}, ("fail", "src/services/security.ts", None)),  # cap_drop gone
    ({"src/a.ts": "const comment = \"cap_drop: ['ALL'] security_opt: ['no-new-privileges:true']\";\n"},
     ("fail", "src/a.ts", None)),  # the words in a string are not the structure
])
def test_ast_grep_follows_the_structure(tmp_path, tree, expected):
    assert _run(tree, tmp_path, HARDENED) == expected


PTRACE = {"kind": "json_path", "proves": "a deny rule names ptrace", "path": "seccomp.json",
          "query": "$.syscalls[?@.action == 'SCMP_ACT_ERRNO' && @.names[?@ == 'ptrace']]", "exists": True}


@pytest.mark.parametrize("profile, expected", [
    ({"syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}, "pass"),
    ({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["accept"], "action": "SCMP_ACT_ALLOW"},
                   {"names": ["kexec_load", "ptrace"], "action": "SCMP_ACT_ERRNO"}]}, "pass"),  # moved in the array
    ({"syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW"}]}, "fail"),
    ({"syscalls": []}, "fail"),
])
def test_json_path_selects_by_meaning_not_index(tmp_path, profile, expected):
    result, _, _ = _run({"seccomp.json": json.dumps(profile, indent=2)}, tmp_path, PTRACE)
    assert result == expected


def test_json_path_on_yaml_reports_the_line(tmp_path):
    item = {"kind": "json_path", "proves": "p", "path": "compose.yml",
            "query": "$.services.agent.cap_drop[?@ == 'NET_RAW']", "exists": True}
    text = "services:\n  agent:\n    image: x\n    cap_drop:\n      - NET_ADMIN\n      - NET_RAW\n"
    assert _run({"compose.yml": text}, tmp_path, item) == ("pass", "compose.yml", 6)


@pytest.mark.parametrize("item, says", [
    ({"kind": "ast_grep", "proves": "p", "path": "a.ts", "rule": {"patern": "x"}}, "invalid ast-grep rule"),
    ({"kind": "ast_grep", "proves": "p", "path": "a.ts", "pattern": "x", "language": "cobol"}, "cobol"),
    ({"kind": "ast_grep", "proves": "p", "path": "a.ts", "pattern": "x", "rule": {"pattern": "x"}}, "exactly one of"),
    ({"kind": "json_path", "proves": "p", "path": "a.json", "query": "$.a[?@.b ==]", "exists": True}, "invalid JSONPath"),
    ({"kind": "json_path", "proves": "p", "path": ".git/config", "query": "$", "exists": True}, "version-control"),
])
def test_bad_rules_and_queries_are_located_catalog_errors(project, run, item, says):
    project.write("mitigations/main.yaml", "mitigations:\n  - id: M-TLS\n    title: t\n    status: implemented\n"
                  "    evidence:\n      - " + json.dumps(item) + "\n  - {id: M-PARAM, title: p, status: partial}\n"
                  "  - {id: M-NET, title: n, status: planned}\n")
    r = run("check", cwd=project.root)
    assert r.code == 2 and "mitigations/main.yaml:6" in r.err and says in r.err


def test_a_not_that_reuses_a_captured_metavariable_is_warned_about(tmp_path) -> None:
    """`not` with $$$A captured beside it excludes only the same text: here it passes with the
    call it was written to forbid present. The validator warns (the item still loads); with
    $$$ inside the `not` the rule does what it says, and nothing is warned."""
    from threatgraph.evidence.base import FAIL, PASS, Runner
    from threatgraph.evidence.registry import KINDS
    from threatgraph.evidence.source import DirSource
    from threatgraph.evidence.spec import validate_item
    from threatgraph.safeyaml import parse_yaml

    (tmp_path / "m.py").write_text("def f():\n    start(1)\n    forbidden(2)\n")

    def item(inner: str) -> dict:
        return {"kind": "ast_grep", "path": "m.py", "proves": "f starts and never calls forbidden",
                "rule": {"kind": "function_definition",
                         "all": [{"has": {"pattern": "start($$$A)", "stopBy": "end"}},
                                 {"not": {"has": {"pattern": f"forbidden({inner})", "stopBy": "end"}}}]}}

    doc = parse_yaml("x: 1\n", "mitigations/m.yaml")
    runner = Runner(DirSource(tmp_path), KINDS)
    reused, fresh = item("$$$A"), item("$$$")
    warned = validate_item(reused, doc, ())
    assert [p.severity for p in warned] == ["warning"] and "$A inside this `not`" in warned[0].message
    assert runner.run(reused).result == PASS  # the false green the warning is about
    assert validate_item(fresh, doc, ()) == [] and runner.run(fresh).result == FAIL


def test_the_warning_reaches_the_check_without_failing_it(project, run) -> None:
    from .conftest import MITIGATIONS

    project.write("mitigations/main.yaml", MITIGATIONS.replace('''        pattern: "^ssl on$"
''', '''        pattern: "^ssl on$"
      - kind: ast_grep
        proves: the handler never calls forbidden
        path: src/app.py
        rule:
          kind: function_definition
          all:
          - has: {pattern: 'start($$$ARGS)', stopBy: end}
          - not: {has: {pattern: 'forbidden($$$ARGS)', stopBy: end}}
'''))
    r = run("check", "--no-evidence", cwd=project.root)
    assert r.code == 0, r.err
    assert "mitigations/main.yaml:" in r.err and "warning" in r.err and "$ARGS inside this `not`" in r.err
