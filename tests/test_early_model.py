"""The model starts loading before the rest of threatgraph is imported, and the catalogs are
read while it runs (model/loader.py `begin`, catalog/loader.py): the same problems as a load
that waited for the model, the model's own errors still first, one child per
check, and no child left running when a check fails before it collects the model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from threatgraph.catalog.loader import load_catalog
from threatgraph.errors import InputError, Problem
from threatgraph.model import loader
from threatgraph.model.loader import load_model

from .conftest import Project

MISTAKES = {
    "threats/a.yaml": """
        threats:
          - id: TH-A
            title: A
            stride: [tampering]
            severity: hgih
            applies_to:
              - elements: {id: wbe}
              - flows: {crosses: dmzz}
            mitigations: [M-NOPE]
        not_applicable:
          - {targets: [nobody], stride: [spoofing], owner: me, justification: x}
          - {targets: ["we*"], stride: [spoofing], owner: me, justification: x}
        """,
    "threats/b.yaml": """
        threats:
          - id: TH-B
            title: B
            stride: [spoofing]
            severity: low
            applies_to:
              - flows: {protocl: sql}
              - elements: {id: dbb}
        """,
}


def _problems(project: Project, model: object) -> list[Problem]:
    with pytest.raises(InputError) as err:
        load_catalog(project.root / "threats", project.root / "mitigations", model, project.root)  # type: ignore[arg-type]
    return list(err.value.problems)


def test_catalog_problems_are_the_same_while_the_model_loads(project: Project) -> None:
    for rel, text in MISTAKES.items():
        project.write(rel, textwrap.dedent(text))
    model = load_model("model.py", project.root).model
    waited = _problems(project, model)  # the oracle: the model there from the start
    calls: list[int] = []

    def loading():
        calls.append(1)
        return model

    assert _problems(project, loading) == waited
    assert calls == [1]  # asked for once, after the files
    messages = " ".join(p.message for p in waited)
    assert "no element with id 'wbe'" in messages and "no element or flow with id 'nobody'" in messages
    assert "no element with id 'dbb'" in messages and "'hgih' is not a valid severity" in messages


def test_the_models_own_error_is_what_a_failed_load_reports(project: Project) -> None:
    for rel, text in MISTAKES.items():
        project.write(rel, textwrap.dedent(text))
    broken = InputError([Problem("model.py", 3, 1, "the model raised NameError: x")])

    def loading():
        raise broken

    with pytest.raises(InputError) as err:
        load_catalog(project.root / "threats", project.root / "mitigations", loading, project.root)
    assert err.value is broken


PROBE = """
import os, sys
forks = []
real = os.fork
def fork():
    forks.append(sorted(m for m in ("threatgraph.pipeline", "threatgraph.assess", "threatgraph.catalog.loader",
                                    "pydantic") if m in sys.modules))
    return real()
os.fork = fork
from threatgraph import cli
code = cli.main(["check", "--no-evidence"])
print(code, forks, file=sys.__stderr__)
"""


def test_a_check_forks_one_child_before_it_imports_the_pipeline(project: Project) -> None:
    env = {**os.environ, "THREATGRAPH_NO_CACHE": "1"}
    r = subprocess.run([sys.executable, "-c", PROBE], cwd=project.root, capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.stderr.strip().splitlines()[-1] == "0 [[]]", r.stderr


def test_a_load_begun_and_never_collected_is_stopped(project: Project) -> None:
    model = project.root / "model.py"
    model.write_text("import time\ntime.sleep(60)\n" + model.read_text())
    loader.begin("model.py", project.root, 90.0)
    (_, children), = loader._begun.values()
    pid = children[0].pid
    assert pid is not None and os.waitpid(pid, os.WNOHANG) == (0, 0)  # running
    loader.abandon()
    assert loader._begun == {}
    with pytest.raises(ChildProcessError):  # killed and reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)


def test_begin_then_load_model_runs_the_model_once(project: Project, tmp_path: Path) -> None:
    counter = tmp_path / "ran"
    model = project.root / "model.py"
    model.write_text(model.read_text() + f"\nopen({str(counter)!r}, 'a').write('x')\n")
    loader.begin("model.py", project.root)
    first = load_model("model.py", project.root)
    assert counter.read_text() == "x" and loader._begun == {}
    assert sorted(first.model.elements) == sorted(load_model("model.py", project.root).model.elements)
    assert counter.read_text() == "xx"  # a load not begun runs on its own
