"""Evidence on fixture trees written here (shaped like the firewall's layout, not copied from
it), in two states: control present and control removed; plus the hostile cases."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from threatgraph.evidence.base import Runner
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import DirSource, GitSource, SourceError

PRESENT = {
    "src/services/agent.ts": "export const agent = {\n  cap_drop: [\n    'NET_RAW', // no raw sockets\n  ],\n};\n",
    "src/squid/config.ts": "const lines = [\n  'http_access deny all',\n];\n",
    "src/squid/config.test.ts": "// tests mention 'apparmor:unconfined' but are excluded\n",
    "containers/agent/seccomp.json": json.dumps({"defaultAction": "SCMP_ACT_ERRNO",
                                                  "syscalls": [{"names": ["ptrace", "process_vm_readv"]}]}, indent=2),
    "compose/agent.yaml": "services:\n  agent:\n    cap_drop:\n      - NET_RAW\n    security_opt:\n      - no-new-privileges:true\n",
    "containers/agent/apparmor/agent.profile": "profile awf-agent {}\n",
}
REMOVED = {
    **PRESENT,
    "src/services/agent.ts": "export const agent = {\n  cap_drop: [],\n  security_opt: ['apparmor:unconfined'],\n};\n",
    "containers/agent/seccomp.json": json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}, indent=2),
    "compose/agent.yaml": "services:\n  agent:\n    cap_drop: []\n",
}
del REMOVED["containers/agent/apparmor/agent.profile"]


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel in ("compose", "containers", "src"):
        if (root / rel).exists() and files is REMOVED:
            import shutil
            shutil.rmtree(root / rel)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def run_item(root: Path, item: dict, timeout: float = 2.0):
    return Runner(DirSource(root), KINDS, timeout).run(item)


CASES = [
    {"kind": "regex", "path": "src/**/*.ts", "pattern": r"'NET_RAW',\s+//", "exclude": ["**/*.test.ts"]},
    {"kind": "regex", "path": "src/**/*.ts", "pattern": r"apparmor:unconfined", "expect": "no_match",
     "exclude": ["**/*.test.ts"]},
    {"kind": "json_pointer", "path": "containers/agent/seccomp.json", "pointer": "/defaultAction", "equals": "SCMP_ACT_ERRNO"},
    {"kind": "json_pointer", "path": "containers/agent/seccomp.json", "pointer": "/syscalls/0/names", "contains": "ptrace"},
    {"kind": "yaml_path", "path": "compose/agent.yaml", "pointer": "/services/agent/cap_drop", "contains": "NET_RAW"},
    {"kind": "yaml_path", "path": "compose/agent.yaml", "pointer": "/services/agent/security_opt", "exists": True},
    {"kind": "file_exists", "path": "containers/**/*.profile"},
    {"kind": "all", "items": [{"kind": "regex", "path": "src/squid/config.ts", "pattern": "^  'http_access deny all',$"},
                              {"kind": "json_pointer", "path": "containers/agent/seccomp.json", "pointer": "/defaultAction",
                               "equals": "SCMP_ACT_ERRNO"}]},
]


@pytest.mark.parametrize("item", CASES, ids=[f"{c['kind']}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_passes_when_present_and_fails_when_removed(tmp_path, item):
    good = run_item(tree(tmp_path / "good", PRESENT), item)
    bad = run_item(tree(tmp_path / "bad", REMOVED), item)
    assert good.result == "pass", good
    assert bad.result == "fail", bad
    assert good.file and bad.file


def test_locations_point_at_the_match_or_the_closest_place(tmp_path):
    good = run_item(tree(tmp_path / "g", PRESENT), CASES[0])
    assert (good.file, good.line) == ("src/services/agent.ts", 3)
    bad = run_item(tree(tmp_path / "b", REMOVED), CASES[1])
    assert (bad.file, bad.line) == ("src/services/agent.ts", 3) and "forbidden" in bad.detail
    ptr = run_item(tmp_path / "b", {"kind": "json_pointer", "path": "containers/agent/seccomp.json",
                                    "pointer": "/syscalls/0/names", "contains": "ptrace"})
    assert ptr.result == "fail" and ptr.line == 3  # stopped at /syscalls, declared on line 3
    yml = run_item(tmp_path / "g", CASES[4])
    assert yml.line == 4  # the list item NET_RAW


def test_errors_missing_file_invalid_json_and_binary(tmp_path):
    root = tree(tmp_path, {**PRESENT, "broken.json": "{\"a\": ", "blob.ts": "x"})
    (root / "src" / "image.ts").write_bytes(b"\x00\x01binary")
    missing = run_item(root, {"kind": "regex", "path": "src/nope.ts", "pattern": "x"})
    assert missing.result == "error" and "no file matches" in missing.detail
    broken = run_item(root, {"kind": "json_pointer", "path": "broken.json", "pointer": "/a", "exists": True})
    assert broken.result == "error" and "invalid JSON" in broken.detail
    binary = run_item(root, {"kind": "regex", "path": "src/image.ts", "pattern": "binary"})
    assert binary.result == "error" and "binary file" in binary.detail


def test_catastrophic_backtracking_is_cut_off(tmp_path):
    root = tree(tmp_path, {"slow.txt": "a" * 100_000 + "!"})
    start = time.monotonic()
    r = run_item(root, {"kind": "regex", "path": "slow.txt", "pattern": "(a+)+$"}, timeout=0.5)
    assert r.result == "error" and "timed out" in r.detail
    assert time.monotonic() - start < 10


def test_confinement(tmp_path):
    outside = tree(tmp_path / "outside", {"secret.txt": "TOKEN=abc\n"})
    root = tree(tmp_path / "root", PRESENT)
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    src = DirSource(root)
    for path in ("../outside/secret.txt", "/etc/passwd", "src/../../outside/secret.txt"):
        with pytest.raises(SourceError):
            src.select(path)
    r = run_item(root, {"kind": "regex", "path": "link.txt", "pattern": "TOKEN"})
    assert r.result == "error" and "outside the source root" in r.detail
    assert "linkdir/secret.txt" not in src.files()  # symlinked folders are not walked
    capped = DirSource(root, max_bytes=10)
    big = Runner(capped, KINDS).run({"kind": "regex", "path": "src/services/agent.ts", "pattern": "x"})
    assert big.result == "error" and "cap" in big.detail


def test_each_file_is_read_once(tmp_path):
    root = tree(tmp_path, PRESENT)
    runner = Runner(DirSource(root), KINDS)
    for item in CASES * 3:
        runner.run(item)
    assert runner.source.reads == len({"src/services/agent.ts", "src/squid/config.ts",
                                       "containers/agent/seccomp.json", "compose/agent.yaml"})


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}).stdout.strip()


def test_git_revisions_without_touching_the_work_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    tree(repo, PRESENT)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "present")
    first = git(repo, "rev-parse", "HEAD")
    tree(repo, REMOVED)
    os.symlink("../../outside.txt", repo / "src" / "escape.ts")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "removed")
    tree(repo, {"src/services/agent.ts": "uncommitted edit\n"})
    for rev, expected in ((first, "pass"), ("HEAD", "fail")):
        source = GitSource(repo, rev)
        runner = Runner(source, KINDS)
        assert runner.run(CASES[0]).result == expected
        assert runner.run(CASES[2]).result == expected
        source.close()
    head = GitSource(repo, "HEAD")
    r = Runner(head, KINDS).run({"kind": "regex", "path": "src/escape.ts", "pattern": "x"})
    assert r.result == "error" and "leaves the source root" in r.detail
    assert (repo / "src/services/agent.ts").read_text() == "uncommitted edit\n"
    with pytest.raises(SourceError):
        GitSource(repo, "--output=/tmp/x")


def test_cli_source_ref_and_drift_end_to_end(run, project, tmp_path):
    repo = tmp_path / "target"
    repo.mkdir()
    git(repo, "init", "-q")
    tree(repo, {"src/nginx.conf": "ssl on\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tls")
    tree(repo, {"src/nginx.conf": "ssl off\n"})
    git(repo, "commit", "-qam", "no tls")
    r = run("check", "--source", str(repo), "--source-ref", "HEAD~1", "--format", "json", cwd=project.root)
    doc = json.loads(r.out)
    assert doc["drift"] == [] and doc["source"].endswith(git(repo, "rev-parse", "HEAD~1")[:12])
    r = run("check", "--source", str(repo), "--source-ref", "HEAD", "--format", "json", cwd=project.root)
    doc = json.loads(r.out)
    tls = next(m for m in doc["mitigations"] if m["id"] == "M-TLS")
    assert doc["drift"] == ["M-TLS"] and r.code == 1
    assert tls["evidence"][0]["file"] == "src/nginx.conf" and tls["evidence"][0]["result"] == "fail"
    sniff = next(t for t in doc["threats"] if t["id"] == "TH-SNIFF")
    assert sniff["targets"][0]["status"] == "unmitigated"  # drift counts as not mitigating
    r = run("check", "--source-ref", "HEAD", cwd=project.root)
    assert r.code == 2 and "--source-ref needs --source" in r.err


def test_invalid_pattern_is_a_catalog_error(run, project):
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-TLS
            title: t
            status: implemented
            evidence:
              - {kind: regex, proves: p, path: a.conf, pattern: "([unclosed"}
          - {id: M-PARAM, title: p, status: partial}
          - {id: M-NET, title: n, status: planned}
        """)
    r = run("check", cwd=project.root)
    assert r.code == 2 and "mitigations/main.yaml:6:57: error: invalid regular expression" in r.err


def test_source_from_environment(run, project, monkeypatch, tmp_path):
    target = tree(tmp_path / "env-target", {"src/nginx.conf": "ssl on\n"})
    monkeypatch.setenv("THREATGRAPH_SOURCE", str(target))
    doc = json.loads(run("check", "--format", "json", cwd=project.root).out)
    tls = next(m for m in doc["mitigations"] if m["id"] == "M-TLS")
    assert doc["source"] == "env-target (working tree)" and tls["evidence"][0]["result"] == "pass"
    assert tls["evidence"][0]["file"] == "src/nginx.conf" and tls["evidence"][0]["line"] == 1
