"""`threatgraph init`: a working project in one command, in an empty folder or next to an
existing pytm model (`init --model tm.py`).

It writes the [tool.threatgraph] configuration (with pytm's threat library included), an
annotated example threat on one of the model's own flows and an example mitigation with
evidence, a pre-commit hook and a CI workflow. It never overwrites a file: what exists is kept
and reported (an existing pyproject.toml without the table gets the table appended)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from threatgraph import __version__
from threatgraph.commands.base import EXIT_OK, Command
from threatgraph.errors import InputError, Problem

STARTER_MODEL = '''"""A first threat model: replace these with your system's parts (pytm's classes)."""

from pytm import TM, Actor, Boundary, Dataflow, Datastore, Server

tm = TM("My system", description="What the system does, in one sentence.")

internet = Boundary("Internet")
cloud = Boundary("Cloud")

user = Actor("User", inBoundary=internet)
web = Server("Web application", inBoundary=cloud)
db = Datastore("Database", inBoundary=cloud)

login = Dataflow(user, web, "Login", protocol="HTTPS", dstPort=443)
query = Dataflow(web, db, "Query", protocol="SQL", dstPort=5432)
'''

CONFIG = '''
[tool.threatgraph]
model = "{model}"
threats = "threats"
mitigations = "mitigations"
# pytm's own threat library (compiled from the installed pytm), and STRIDE-per-element prompts:
# one question per STRIDE category on every element and flow it applies to
packs = ["pytm", "stride"]
# source = "../my-service"   # a checkout of the system, to check each mitigation's evidence

[tool.threatgraph.policy]
# The gate: fail when an open pair is at least this severe. Start here and tighten as you triage.
fail_on = "critical"
'''

THREATS = '''# Threats land on the model through selectors: data, never code. This one lands on one flow;
# a selector can also pick by boundary crossed, protocol, data carried, element kind, or a
# condition on pytm's attributes (where:). pytm's own library is included too (packs in
# pyproject.toml); a threats file adjusts it:
#   exclude: [DS02]                                   # a pytm threat this system cannot have
#   amend: [{{id: INP02, severity: low, mitigations: [M-EXAMPLE-TLS]}}]
threats:
  - id: EX-TRANSIT
    title: Traffic on "{flow_name}" read or changed in transit
    stride: [information_disclosure, tampering]
    severity: high
    applies_to:
      - flows: {{id: {flow}}}
    mitigations: [M-EXAMPLE-TLS]   # all listed mitigations must hold, unless one `prevents` alone

# A reviewed decision, when a risk is accepted (an owner and an expiry date are required):
# decisions:
#   - {{threat: EX-TRANSIT, targets: [{flow}], decision: accept, owner: you, expires: 2027-06-30,
#      justification: "why this is acceptable for now"}}
'''

NO_FLOW_THREATS = '''# Threats land on the model through selectors (data, never code). The model has no flow yet;
# pytm's own threat library (packs in pyproject.toml) applies to its elements meanwhile.
threats: []
'''

MITIGATIONS = '''# A mitigation says what is done, and points at evidence in the system's own source that
# threatgraph checks on every run with a source (`threatgraph check --source ../my-service`).
# Until it holds against the source, a mitigated pair is only "claimed".
mitigations:
  - id: M-EXAMPLE-TLS
    title: TLS 1.2 or later on "{flow_name}"
    status: planned          # implemented | partial | planned | absent | not-applicable
    evidence:
      - kind: regex
        proves: the server accepts TLS 1.2 and 1.3 only
        path: "**/*.conf"
        pattern: 'ssl_protocols\\s+TLSv1\\.[23]'
'''

PRE_COMMIT = '''# threatgraph's fast gate before each commit (model and catalogs; no evidence).
repos:
  - repo: local
    hooks:
      - id: threatgraph-check
        name: threatgraph check
        entry: threatgraph check --no-evidence
        language: system
        pass_filenames: false
        files: \\.(py|ya?ml|toml)$
'''

WORKFLOW = '''name: threat model
on: [pull_request, push]
permissions:
  contents: read
  security-events: write
jobs:
  threatgraph:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install "threatgraph=={version}"   # the version you run locally
      - name: gate
        run: threatgraph check --format markdown >> "$GITHUB_STEP_SUMMARY"
      - if: always()
        run: threatgraph check --format sarif --output threatgraph.sarif || true
      - if: always()
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: threatgraph.sarif
'''


def _first_flow(folder: Path, model: str) -> tuple[str, str] | None:
    from threatgraph.model.loader import load_model

    flows = load_model(model, folder).model.flows
    if not flows:
        return None
    f = next(iter(flows.values()))
    return f.id, f.name


def _write_new(path: Path, text: str, report: list[str], folder: Path) -> None:
    from threatgraph.fsutil import write_atomic

    shown = path.relative_to(folder).as_posix()
    if path.exists() or path.is_symlink():
        report.append(f"kept     {shown} (exists)")
        return
    write_atomic(path, text)
    report.append(f"wrote    {shown}")


def init(folder: Path, model: str | None) -> int:
    folder = folder.resolve()
    if not folder.is_dir():
        raise InputError([Problem(str(folder), 1, 1, "no such folder", "create it, or run init inside it")])
    if model is not None and not (folder / model).is_file():
        raise InputError([Problem("command line", 0, 0, f"model file '{model}' does not exist in {folder}",
                                  "give the path of your pytm model relative to the folder, e.g. --model tm.py")])
    report: list[str] = []
    if model is None:
        model = "model.py"
        _write_new(folder / model, STARTER_MODEL, report, folder)
    flow = _first_flow(folder, model)
    _config(folder, model, report)
    if flow is None:
        _write_new(folder / "threats" / "example.yaml", NO_FLOW_THREATS, report, folder)
    else:
        safe_name = re.sub(r'["\\\n\r]', " ", flow[1])[:120]
        _write_new(folder / "threats" / "example.yaml",
                   THREATS.format(flow=flow[0], flow_name=safe_name), report, folder)
        _write_new(folder / "mitigations" / "example.yaml", MITIGATIONS.format(flow_name=safe_name), report, folder)
    (folder / "mitigations").mkdir(exist_ok=True)
    _write_new(folder / ".pre-commit-config.yaml", PRE_COMMIT, report, folder)
    _write_new(folder / ".github" / "workflows" / "threatgraph.yml", WORKFLOW.format(version=__version__),
               report, folder)
    print("\n".join(report))
    print("\nnext: `threatgraph check` lists what is open; `threatgraph build` writes reports, diagrams and the site.")
    return EXIT_OK


def _config(folder: Path, model: str, report: list[str]) -> None:
    from threatgraph.fsutil import write_atomic

    path = folder / "pyproject.toml"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError([Problem(str(path), 1, 1, "pyproject.toml is not a regular file; not touched")])
    section = CONFIG.format(model=model.replace("\\", "/").replace('"', ""))
    if not path.exists():
        write_atomic(path, section.lstrip())
        report.append("wrote    pyproject.toml")
        return
    text = path.read_text(encoding="utf-8")
    if re.search(r"^\s*\[tool\.threatgraph[.\]]", text, re.M):
        report.append("kept     pyproject.toml (it has [tool.threatgraph])")
        return
    write_atomic(path, text.rstrip("\n") + "\n" + section)
    report.append("added    [tool.threatgraph] to pyproject.toml")


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="an existing pytm model file, relative to the folder (default: write model.py)")
    p.add_argument("--dir", type=Path, default=Path("."), help="the project folder (default: here)")


COMMAND = Command("init", "start a project: configuration, example catalogs, hooks (never overwrites)",
                  _arguments, lambda args: init(args.dir, args.model), inputs=False, writes=True)
