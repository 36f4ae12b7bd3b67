"""The README's "Your own system in five minutes", run word for word in an empty folder: its
model saved as tm.py, then each of its commands (threatgraph run as this interpreter's module,
so the test uses the code under test)."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO


def _section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split("## Your own system in five minutes", 1)[1].split("\n## ", 1)[0]


def test_the_quickstart_works_word_for_word(tmp_path):
    section = _section()
    model = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    commands = [line for line in re.search(r"```sh\n(.*?)```", section, re.S).group(1).splitlines() if line.strip()]
    assert commands == ["threatgraph init --model tm.py", "threatgraph check", "threatgraph build"]
    (tmp_path / "tm.py").write_text(model, encoding="utf-8")
    results = {}
    for line in commands:
        args = line.split()[1:]
        r = subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
        results[args[0]] = r
    init, check, build = results["init"], results["check"], results["build"]
    assert init.returncode == 0, init.stderr
    for written in ("pyproject.toml", "threats/example.yaml", "mitigations/example.yaml", ".pre-commit-config.yaml",
                    ".github/workflows/threatgraph.yml"):
        assert (tmp_path / written).is_file(), written
    # as the section says: pytm's findings, with coverage, and the gate fails until triage
    assert check.returncode == 1, check.stderr
    assert "pairs" in check.stdout and re.search(r"\bINP\d+ on web\b", check.stdout), check.stdout
    assert "EX-TRANSIT on order" in check.stdout  # init's example threat landed on the first flow
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "build" / "site" / "index.html").is_file()
    sarif = subprocess.run([sys.executable, "-m", "threatgraph", "check", "--format", "sarif"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert sarif.returncode == 1 and '"ruleId": "INP' in sarif.stdout
    again = subprocess.run([sys.executable, "-m", "threatgraph", "init", "--model", "tm.py"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "wrote" not in again.stdout  # never overwrites


def test_init_adds_its_table_to_an_existing_pyproject_and_rejects_a_missing_model(tmp_path):
    (tmp_path / "tm.py").write_text("from pytm import TM, Server\ntm = TM('x')\nweb = Server('Web')\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mine"\n')
    r = subprocess.run([sys.executable, "-m", "threatgraph", "init", "--model", "tm.py"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "mine"\n') and '[tool.threatgraph]\nmodel = "tm.py"' in text
    r = subprocess.run([sys.executable, "-m", "threatgraph", "check"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode in (0, 1) and "Web" not in r.stderr, r.stderr  # a model without flows still checks
    r = subprocess.run([sys.executable, "-m", "threatgraph", "init", "--model", "nope.py"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "model file 'nope.py' does not exist" in r.stderr
