"""ARCHITECTURE.md promises that a new evidence kind, output format, selector key, policy rule or
command is one module (or function) plus one registration line. This test keeps the promise:
it adds a trivial one of each to a temporary copy of the package, touching only those places,
and runs them through the real command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import REPO


def _add(path: Path, anchor: str, line: str) -> None:
    """Insert one registration line after `anchor` (which must exist exactly once)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(anchor) == 1, f"{path.name}: the registration point moved; update ARCHITECTURE.md and this test"
    path.write_text(text.replace(anchor, anchor + line, 1), encoding="utf-8")


def _write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def test_one_module_and_one_line_per_extension(tmp_path, project):
    pkg = tmp_path / "src" / "threatgraph"
    shutil.copytree(REPO / "src" / "threatgraph", pkg, ignore=shutil.ignore_patterns("__pycache__"))

    # an evidence kind: a module, and one line in evidence/registry.py
    _write(pkg / "evidence" / "always.py", '''
        from threatgraph.evidence.base import PASS, EvidenceKind, EvidenceResult
        KIND = EvidenceKind("always", "always holds", {}, {},
                            lambda item, source, runner: EvidenceResult(PASS, "always", item.get("proves", "")))
    ''')
    _add(pkg / "evidence" / "registry.py", "KINDS: dict[str, EvidenceKind] = {k.name: k for k in (\n",
         "    __import__('threatgraph.evidence.always', fromlist=['KIND']).KIND,\n")

    # an output format for check: a module, and one line in commands/formats.py
    _write(pkg / "render" / "count.py", '''
        def render(a):
            return f"{len(a.pairs)} pairs\\n"
    ''')
    _add(pkg / "commands" / "formats.py", "CHECK = _table(\n", '    Format("count", "count:render", "the number of pairs"),\n')

    # a selector key: its narrowing function, and one row in SELECTOR_KEYS (checks reuse the helpers)
    _add(pkg / "selectors.py", "SELECTOR_KEYS: dict[str, KeySpec] = {\n",
         '    "named": KeySpec(_BOTH, _STR_OR_LIST, "the name contains this text", _check_strings,\n'
         '                     lambda result, value, index, what: {i for i in result if value in '
         '(index.model.flows[i] if what == FLOWS else index.model.node(i)).name}),\n')

    # a policy rule: a function, and one row in RULES
    _add(pkg / "policy.py", "RULES: tuple[Rule, ...] = (\n",
         '    Rule("no_sql", "no pair on a SQL flow", lambda i: [Violation("no_sql", f"{p.threat} on {p.target.id}")\n'
         '         for p in i.assessment.pairs if p.target.id == "app_to_db"]),\n')

    # a command: a module, and one line in commands/__init__.py
    _write(pkg / "commands" / "hello.py", '''
        from threatgraph.commands.base import EXIT_OK, Command, config_of

        def hello(config):
            print(f"hello from {config.model}")
            return EXIT_OK

        COMMAND = Command("hello", "say hello", lambda p: None, lambda args: hello(config_of(args)))
    ''')
    _add(pkg / "commands" / "__init__.py", "MODULES: dict[str, str] = {\n", '    "hello": "hello",\n')

    project.write("threats/named.yaml", """
        threats:
          - id: TH-NAMED
            title: picked by the new key
            stride: [tampering]
            severity: low
            applies_to: [{elements: {named: Orders}}]
            mitigations: [M-ALWAYS]
    """)
    project.write("mitigations/always.yaml", """
        mitigations:
          - id: M-ALWAYS
            title: always
            status: implemented
            evidence: [{kind: always, proves: the new kind runs}]
    """)
    (project.root / "src").mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}

    def tg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=project.root, env=env,
                              capture_output=True, text=True, timeout=120)

    r = tg("hello")
    assert r.returncode == 0 and r.stdout == "hello from model.py\n", r.stderr
    r = tg("check", "--format", "count", "--fail-on", "never")
    assert r.stdout.endswith(" pairs\n"), r.stderr
    doc = json.loads(tg("check", "--format", "json", "--source", "src", "--fail-on", "never").stdout)
    named = next(t for t in doc["threats"] if t["id"] == "TH-NAMED")
    assert [t["id"] for t in named["targets"]] == ["db"]  # "Orders DB", picked by `named`
    always = next(m for m in doc["mitigations"] if m["id"] == "M-ALWAYS")
    assert always["evidence"][0]["result"] == "pass"
    assert any(v["rule"] == "no_sql" for v in doc["policy"]["rules"])
    # and the real package is untouched: the new names exist only in the copy
    assert "named" not in (REPO / "src/threatgraph/selectors.py").read_text()
