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
