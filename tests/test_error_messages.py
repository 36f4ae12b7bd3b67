"""Each error kind in site/docs/errors.md, produced from real bad input: the message shape
(file:line:col), the hint, exit code 2 and no traceback."""

import re

import pytest

from .conftest import REPO

DOC = (REPO / "site" / "docs" / "errors.md").read_text(encoding="utf-8")

T = "threats:\n  - {id: T1, title: t, stride: [tampering], severity: high, applies_to: [{flows: login}]}\n"
CASES = {
    "YAML syntax": ("threats/a.yaml", "threats:\n  - id: x\n- bad\n", "threats/a.yaml:3:1: error: invalid YAML:"),
    "YAML tag that would build an object": ("threats/a.yaml", "a: !!python/object/apply:os.system ['x']\n",
                                            "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    "duplicate key in a mapping": ("threats/a.yaml", "threats:\n  - title: a\n    title: b\n",
                                   "duplicate key 'title' (first defined on line 2)"),
    "alias expansion bomb": ("threats/a.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(6)),
        "document expands to more than 100000 values (alias expansion bomb?)"),
    "file too large": ("threats/a.yaml", "#" * (2 * 1024 * 1024 + 1), "over the 2097152-byte limit"),
    "not UTF-8": ("threats/a.yaml", b"threats:\xe9\n", "file is not valid UTF-8 (byte 0xe9)"),
    "unknown key": ("threats/a.yaml", T.replace("title: t", "titel: t"), "unknown key 'titel'"),
    "invalid value": ("threats/a.yaml", T.replace("high", "hgih"), "'hgih' is not a valid severity"),
    "missing key": ("threats/a.yaml", T.replace(", severity: high", ""), "missing required key 'severity'"),
    "duplicate id": ("threats/b.yaml", T, "duplicate threat id 'T1'"),
    "unknown reference": ("threats/a.yaml", T.replace("}\n", ", mitigations: [M-TSL]}\n"),
                          "unknown mitigation 'M-TSL'"),
    "unknown model id in a selector": ("threats/a.yaml", T.replace("{flows: login}", "{elements: wbe}"),
                                       "no element with id 'wbe' in the model"),
    "unknown selector key": ("threats/a.yaml", T.replace("{flows: login}", "{flows: {protocl: sql}}"),
                             "unknown selector key 'protocl'"),
    "selector that matches nothing": ("threats/a.yaml", T.replace("{flows: login}", "{flows: {protocol: sql, port: 443}}"),
                                      "this flow selector matches nothing"),
    "decision that matches nothing": ("threats/a.yaml", T + "decisions:\n  - {threat: T1, targets: [db], decision: "
                                      "false_positive, justification: x}\n", "decision on T1 matches no"),
    "accepted risk without owner or expiry": ("threats/a.yaml", T + "decisions:\n  - {threat: T1, decision: accept, "
                                              "justification: x}\n", "an accepted risk needs 'owner'"),
    "evidence kind": ("mitigations/a.yaml", "mitigations:\n  - {id: M-TLS, title: t, status: implemented, evidence: "
                      "[{kind: regexp, proves: x}]}\n", "unknown evidence kind 'regexp'"),
    "invalid regular expression": ("mitigations/a.yaml", "mitigations:\n  - {id: M-TLS, title: t, status: implemented, "
                                   "evidence: [{kind: regex, proves: p, path: a, pattern: '([unclosed'}]}\n",
                                   "invalid regular expression"),
    "evidence path leaving the source": ("mitigations/a.yaml", "mitigations:\n  - {id: M-TLS, title: t, status: "
                                         "implemented, evidence: [{kind: file_exists, proves: p, path: ../etc/passwd}]}\n",
                                         "'..' is not allowed"),
    "model code failed": ("model.py", "from pytm import TM\ntm = TM('x')\nraise ValueError('boom')\n",
                          "model.py:3:1: error: the model raised ValueError: boom"),
    "model syntax error": ("model.py", "from pytm import TM\ntm = TM('x'\n", "syntax error in model"),
    "duplicate element id": ("model.py", "from pytm import TM, Process\ntm = TM('x')\nProcess('Same name')\n"
                             "Process('Same name')\n", "duplicate id 'same_name'"),
    "boundaries in a cycle": ("model.py", "from pytm import TM, Boundary, Process\ntm = TM('x')\na = Boundary('A')\n"
                              "b = Boundary('B', inBoundary=a)\na.inBoundary = b\np = Process('P', inBoundary=a)\n",
                              "model.py:3:1: error: boundaries enclose each other in a cycle: a → b → a"),
    "configuration key": ("pyproject.toml", '[tool.threatgraph]\nmodle = "model.py"\n', "unknown key 'modle'"),
    "policy value": ("pyproject.toml", '[tool.threatgraph]\nmodel = "model.py"\n[tool.threatgraph.policy]\n'
                     'fail_on = "hihg"\n', "fail_on 'hihg' is not a severity"),
}


def test_every_documented_kind_has_a_case():
    documented = re.findall(r"^\| ([^|]+?) \| `", DOC, flags=re.M)
    extra = {"invariant names an unknown element", "source cannot be opened", "unknown git revision",
             "output folder not made by threatgraph"}  # produced in test_analysis / test_ci_formats / test_hardening
    assert set(documented) == set(CASES) | extra


@pytest.mark.parametrize("kind", sorted(CASES))
def test_error_kind(kind, project, run):
    rel, content, expected = CASES[kind]
    path = project.root / rel
    if rel == "threats/a.yaml":
        (project.root / "threats" / "main.yaml").unlink()
    if rel == "mitigations/a.yaml":
        (project.root / "mitigations" / "main.yaml").unlink()
        project.write("threats/main.yaml", T.replace("}\n", ", mitigations: [M-TLS]}\n"))
    if rel == "threats/b.yaml":
        project.write("threats/a.yaml", T)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    r = run("check", cwd=project.root)
    assert r.code == 2 and "Traceback" not in r.err
    assert expected in r.err, r.err
    errors = [line for line in r.err.splitlines() if ": error: " in line]
    assert errors and all(re.match(r"^[^:]+:\d+:\d+: error: ", line) for line in errors), errors
    assert expected.split(":")[-1].strip()[:20] in DOC or kind in DOC


# --- the real origin of an error (issue 22) ----------------------------------------------------

def test_a_flag_value_is_blamed_on_the_command_line_not_on_a_line_of_the_file(project, run):
    r = run("check", "--min-coverage", "1.5", cwd=project.root)
    assert r.code == 2 and "Traceback" not in r.err
    assert r.err.splitlines()[0] == "command line: error: --min-coverage 1.5: must be between 0 and 1"
    assert "pyproject.toml" not in r.err


def test_a_missing_configuration_is_said_in_words(tmp_path, run):
    r = run("check", cwd=tmp_path)
    assert r.code == 2
    assert r.err.splitlines()[0] == (f"configuration: error: no pyproject.toml with [tool.threatgraph] in {tmp_path.resolve()} "
                                     "or any folder above it, and no model.py there")
    assert "pyproject.toml:1:1" not in r.err


def test_only_commands_that_write_say_nothing_was_written(project, run):
    read_only = run("explain", "nosuch", cwd=project.root)
    assert read_only.code == 2
    assert read_only.err.splitlines()[0] == ("command line: error: no threat, mitigation, element, flow, boundary or "
                                             "data asset 'nosuch'")
    assert read_only.err.splitlines()[-1] == "threatgraph: 1 error(s) in the inputs"
    writing = run("report", "--min-coverage", "2", cwd=project.root)
    assert writing.err.splitlines()[-1] == "threatgraph: 1 error(s) in the inputs; nothing was written"


def test_a_stride_letter_is_named_with_its_category_and_the_field(project, run):
    project.write("threats/main.yaml", T.replace("stride: [tampering]", "stride: [S, tampering]"))
    r = run("check", cwd=project.root)
    assert r.code == 2
    assert "threats/main.yaml:2:" in r.err and "error: 'S' is not a valid stride" in r.err
    assert "hint: 'S' is STRIDE's letter for spoofing: write spoofing" in r.err


def test_a_broken_threats_file_is_not_buried_under_the_warnings_it_causes(project, run):
    """Its mitigations address no threat only because the file could not be read: one error."""
    project.write("threats/main.yaml", "threats:\n  - id: x\n- bad\n")
    r = run("check", cwd=project.root)
    assert r.code == 2
    assert r.err.splitlines()[0] == "threats/main.yaml:3:1: error: invalid YAML: did not find expected key"
    assert "addresses no threat" not in r.err
    assert r.err.splitlines()[-1] == "threatgraph: 1 error(s) in the inputs"
