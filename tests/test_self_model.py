"""threatgraph's own threat model (examples/self) is a real second model: it loads with no
firewall-specific code, its gate passes against this repository, and it fails when one of the
controls it relies on is removed from the code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from .conftest import REPO

CONFIG = REPO / "examples" / "self" / "pyproject.toml"


def _check(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "threatgraph", "check", "--config", str(CONFIG), "--format", "json",
                           *extra], capture_output=True, text=True, timeout=300)


def test_self_model_gate_passes_against_this_repository():
    r = _check()
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    doc = json.loads(r.stdout)
    assert doc["policy"]["passed"] and doc["drift"] == []
    assert doc["summary"]["pairs"] >= 30
    results = [e["result"] for m in doc["mitigations"] for e in m["evidence"]]
    assert results and set(results) == {"pass"}  # every item verified against the source


def test_self_model_fails_when_a_control_is_removed(tmp_path):
    copy = tmp_path / "repo"
    for rel in ("src", "examples", "site", "action.yml", "pyproject.toml"):
        src = REPO / rel
        (shutil.copytree if src.is_dir() else shutil.copy)(src, copy / rel)
    source = copy / "src/threatgraph/evidence/source.py"
    text = source.read_text()
    assert 'VCS_DIRS = frozenset({".git", ".hg", ".svn"' in text
    source.write_text(text.replace('VCS_DIRS = frozenset({".git", ".hg", ".svn"', 'VCS_DIRS = frozenset({".hg"'))
    r = _check("--source", str(copy))
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["drift"] == ["M-VCS-REFUSED"]


def test_self_model_names_nothing_of_the_firewall():
    text = "".join(p.read_text() for p in (REPO / "examples" / "self").rglob("*") if p.is_file())
    assert "firewall" not in text.lower() and "squid" not in text.lower()


def test_readme_counts_of_the_self_model_match_the_tool():
    import re

    doc = json.loads(_check().stdout)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"the Action: (\d+) threats, (\d+)\s+mitigations", readme)
    assert m, "the README's Hardening section states the self model's size"
    assert (int(m.group(1)), int(m.group(2))) == (len(doc["threats"]), len(doc["mitigations"]))
