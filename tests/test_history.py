"""`threatgraph history` on small git repositories built here: it names exactly the commits
where a control was added and removed (none where it only moved or was reformatted), flags a
locator that flips too often, and the incremental replay agrees with a full evaluation at every
commit (property test on random histories)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatgraph.catalog.definitions import Mitigation
from threatgraph.history import replay

HARDENING = {"kind": "ast_grep", "proves": "the service drops every capability", "path": "src/**/*.ts",
             "rule": {"kind": "object", "has": {"pattern": {"context": "({ cap_drop: ['ALL'] })", "selector": "pair"}}}}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "target"
    repo.mkdir()
    _git(repo, "init", "-q")
    return repo


def _tls_catalog(project, path: str) -> None:
    """The project's mitigations: M-TLS, whose evidence is `ssl on` in `path`."""
    project.write("mitigations/main.yaml", f"""
        mitigations:
          - id: M-TLS
            title: TLS
            status: implemented
            evidence: [{{kind: regex, proves: tls on, path: "{path}", pattern: "^ssl on$"}}]
          - {{id: M-PARAM, title: p, status: partial}}
          - {{id: M-NET, title: n, status: planned}}
    """)


def _mitigation(*items: dict) -> dict[str, Mitigation]:
    return {"M-HARD": Mitigation.model_validate({"id": "M-HARD", "title": "t", "status": "implemented",
                                                "evidence": list(items)})}


def test_history_names_the_commits_that_add_and_remove_a_control_not_those_that_move_it(tmp_path):
    repo = _repo(tmp_path)
    base = _commit(repo, {"src/app.ts": "export const app = { image: 'x' };\n"}, "start")
    added = _commit(repo, {"src/app.ts": "export const app = { image: 'x', cap_drop: ['ALL'] };\n"}, "add the control")
    _commit(repo, {"src/app.ts": "export const app = { image: 'x' };\n",
                   "src/security.ts": "export const security = { cap_drop: ['ALL'] };\n"}, "move it to another file")
    _commit(repo, {"src/security.ts": "export const security = {\n  cap_drop: [\n    'ALL',\n  ],\n};\n"}, "reformat")
    _commit(repo, {"README.md": "docs\n"}, "unrelated")
    removed = _commit(repo, {"src/security.ts": "export const security = { cap_drop: [] };\n"}, "remove it")
    readded = _commit(repo, {"src/security.ts": "export const security = { cap_drop: ['ALL'] };\n"}, "re-add it")
    h = replay(_mitigation(HARDENING), repo, base, readded)
    (timeline,) = h.timelines
    assert timeline.holds_at_start is False
    assert [(f.commit.sha, f.holds) for f in timeline.flips] == [(added, True), (removed, False), (readded, True)]
    assert h.commits == 6
    # incremental: the README-only commit re-evaluates nothing
    assert h.evaluations < 1 + 6


def test_a_locator_that_keeps_flipping_is_flagged_brittle(tmp_path, project, run):
    repo = _repo(tmp_path)
    base = _commit(repo, {"conf/a.conf": "ssl on\n"}, "start")
    for n in range(3):
        _commit(repo, {"conf/a.conf": "ssl  on\n"}, f"reformat {n}")
        head = _commit(repo, {"conf/a.conf": "ssl on\n"}, f"back {n}")
    _tls_catalog(project, "conf/*.conf")
    r = run("history", "--source", str(repo), "--source-ref", f"{base}..{head}", "--format", "json", cwd=project.root)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    tls = next(m for m in doc["mitigations"] if m["id"] == "M-TLS")
    assert len(tls["flips"]) == 6 and tls["brittle"] is True
    assert tls["flips"][0]["subject"] == "reformat 0" and tls["flips"][0]["holds"] is False
    text = run("history", "--source", str(repo), "--source-ref", f"{base}..{head}", cwd=project.root).out
    assert "BRITTLE" in text and "reformat 0" in text
    r = run("history", "--source", str(repo), "--source-ref", head, cwd=project.root)
    assert r.code == 2 and "not a range" in r.err


_STEP = st.tuples(st.sampled_from(["src/a.ts", "src/b.ts", "src/sub/c.ts", "conf/x.json"]),
                  st.sampled_from([None, "export const s = { cap_drop: ['ALL'] };\n", "export const s = {};\n",
                                   '{"rules": [{"name": "ptrace", "action": "deny"}]}\n', '{"rules": []}\n']))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_STEP, min_size=1, max_size=3), min_size=2, max_size=7))
def test_incremental_replay_equals_full_evaluation_at_every_commit(tmp_path_factory, steps):
    repo = _repo(tmp_path_factory.mktemp("h"))
    base = _commit(repo, {"README.md": "x\n"}, "start")
    head = base
    present: set[str] = set()
    for n, changes in enumerate(steps):
        files = dict(changes)  # the last change of a path in a step wins
        files = {rel: text for rel, text in files.items() if text is not None or rel in present}
        for rel, text in files.items():
            (present.discard if text is None else present.add)(rel)
        head = _commit(repo, files, f"step {n}")
    items = (HARDENING, {"kind": "json_path", "proves": "ptrace denied", "path": "conf/x.json",
                         "query": "$.rules[?@.name == 'ptrace' && @.action == 'deny']", "exists": True},
             {"kind": "regex", "proves": "cap drop", "path": "src/**/*.ts", "pattern": "cap_drop"})
    for item in items:
        fast = replay(_mitigation(item), repo, base, head, incremental=True)
        full = replay(_mitigation(item), repo, base, head, incremental=False)
        key = [(t.holds_at_start, [(f.commit.sha, f.holds) for f in t.flips]) for t in fast.timelines]
        assert key == [(t.holds_at_start, [(f.commit.sha, f.holds) for f in t.flips]) for t in full.timelines]
        assert fast.evaluations <= full.evaluations


def test_check_since_names_the_commit_that_broke_a_drifted_control(tmp_path, project, run):
    repo = _repo(tmp_path)
    base = _commit(repo, {"conf/a.conf": "ssl on\n"}, "start")
    _commit(repo, {"conf/b.conf": "other\n"}, "unrelated")
    broke = _commit(repo, {"conf/a.conf": "ssl off\n"}, "turn TLS off")
    _tls_catalog(project, "conf/*.conf")
    r = run("check", "--source", str(repo), "--source-ref", "HEAD", "--since", base, "--format", "json",
            cwd=project.root)
    doc = json.loads(r.out)
    assert doc["drift"] == ["M-TLS"] and doc["drift_origin"]["M-TLS"].startswith(f"stopped holding at {broke[:10]}")
    assert "turn TLS off" in run("check", "--source", str(repo), "--source-ref", "HEAD", "--since", base,
                                 cwd=project.root).out


def test_the_site_shows_each_mitigations_timeline(tmp_path, project, run):
    repo = _repo(tmp_path)
    base = _commit(repo, {"conf/a.conf": "ssl on\n"}, "start")
    _commit(repo, {"conf/a.conf": "ssl off\n"}, "turn TLS off")
    _tls_catalog(project, "conf/*.conf")
    r = run("build", "--renderer", "wasm", "--source", str(repo), "--source-ref", "HEAD", "--since", base,
            cwd=project.root)
    assert r.code == 0, r.err
    page = (project.root / "build/site/mitigation-m-tls~u.html").read_text()
    assert "Timeline over" in page and "turn TLS off" in page and "stopped holding" in page
    evidence = (project.root / "build/site/evidence.html").read_text()
    assert "History over" in evidence and "turn TLS off" in evidence


def test_check_with_a_git_source_bisects_the_commit_that_broke_a_control(tmp_path, project, run):
    repo = _repo(tmp_path)
    _commit(repo, {"conf/a.conf": "ssl on\n"}, "start")
    for n in range(9):
        _commit(repo, {f"conf/n{n}.conf": "x\n"}, f"unrelated {n}")
    broke = _commit(repo, {"conf/a.conf": "ssl off\n"}, "turn TLS off")
    for n in range(5):
        _commit(repo, {f"conf/m{n}.conf": "x\n"}, f"later {n}")
    _tls_catalog(project, "conf/a.conf")
    doc = json.loads(run("check", "--source", str(repo), "--source-ref", "HEAD", "--format", "json",
                         cwd=project.root).out)
    assert doc["drift_origin"]["M-TLS"].startswith(f"stopped holding at {broke[:10]}")
    doc = json.loads(run("check", "--source", str(repo), "--source-ref", "HEAD", "--no-attribution", "--format",
                         "json", cwd=project.root).out)
    assert doc["drift_origin"] == {}
