"""A site build shared by two mkdocs processes (site/mkdocs_split.py): byte-identical to one
process's build, the pages really divided, a failure in either reported without a hang."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from threatgraph import pipeline, site
from threatgraph.config import load_config
from threatgraph.errors import EnvironmentProblem
from threatgraph.site.mkdocs_build import Mkdocs, can_fork_helper
from threatgraph.site.mkdocs_split import helper_pages

from .conftest import REPO
from .test_site import HOSTILE_MODEL


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _sources(root: Path, src: Path) -> None:
    a = pipeline.check(load_config(root), use_evidence=False)
    site.write_sources(a, src, site.site_folder(load_config(root)), "wasm")


# the helper forked by the lead (Linux), or started as a process of its own (everywhere else)
MODES = [pytest.param(True, id="forked", marks=pytest.mark.skipif(not can_fork_helper(), reason="Linux only")),
         pytest.param(False, id="started")]


def _build(src: Path, out: Path, processes: int, fork: bool = False) -> dict | None:
    """The site, and (shared by two) the helper's result as the lead found it."""
    with Mkdocs(processes, fork=fork) as mkdocs:
        assert len(mkdocs.workers) == (1 if fork or processes == 1 else 2)
        mkdocs.run(src, out)
        if processes == 1:
            mkdocs.wait()
            return None
        for worker in mkdocs.workers:
            assert worker.finish() == 0, worker.output()
        assert mkdocs.scratch is not None
        result = json.loads((mkdocs.scratch / "result.json").read_text(encoding="utf-8"))
        mkdocs.wait()
        assert mkdocs.scratch is None  # its folder is gone
    return result


@pytest.mark.parametrize("fork", MODES)
@pytest.mark.parametrize("which", ["firewall", "hostile"])
def test_two_processes_build_the_same_bytes_as_one(which: str, fork: bool, project, tmp_path: Path,
                                                  monkeypatch) -> None:
    """...and one process with no template compiled ahead (site/mkdocs_templates.py) builds the
    same bytes as two with them."""
    if which == "hostile":
        project.write("model.py", HOSTILE_MODEL)
        project.write("threats/main.yaml", "threats: []\n")
        project.write("mitigations/main.yaml", "mitigations: []\n")
    root = REPO if which == "firewall" else project.root
    _sources(root, tmp_path / "src")
    monkeypatch.setenv("THREATGRAPH_SITE_WARMUP", "0")
    _build(tmp_path / "src", tmp_path / "one", 1)
    monkeypatch.delenv("THREATGRAPH_SITE_WARMUP")
    result = _build(tmp_path / "src", tmp_path / "two", 2, fork)
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one == two
    assert result is not None
    pages = [p for p in one if p.endswith(".html")]
    assert 0 < len(result["pages"]) < len(pages)  # the helper wrote some of the pages, not all
    assert set(result["pages"]) <= set(pages)
    index = json.loads(one["search/search_index.json"])
    helped = {p.removesuffix(".md") for p in result["entries"]}
    assert helped and any(d["location"].split("#")[0].removesuffix(".html") in helped for d in index["docs"])
    assert not list(tmp_path.glob(".tg-mkdocs-*"))


@pytest.mark.parametrize("fork", MODES)
def test_a_failure_in_the_helper_stops_the_lead_and_is_reported(fork: bool, project, tmp_path: Path) -> None:
    _sources(project.root, tmp_path / "src")
    for page in (tmp_path / "src" / "docs").glob("*.md"):  # every page breaks --strict: the helper's too
        page.write_text(page.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(EnvironmentProblem) as err, Mkdocs(2, fork=fork) as mkdocs:
        mkdocs.run(tmp_path / "src", tmp_path / "two")
        mkdocs.wait()
    assert "no-such-page.md" in str(err.value) and time.monotonic() - started < 120
    assert not list(tmp_path.glob(".tg-mkdocs-*"))
    assert all(w.proc.poll() is not None for w in mkdocs.workers)  # neither left running


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


@pytest.mark.skipif(not can_fork_helper() or not Path("/proc/self/task").is_dir(), reason="Linux only")
def test_the_forked_helper_dies_with_the_lead(tmp_path: Path) -> None:
    _sources(REPO, tmp_path / "src")
    with Mkdocs(2, fork=True) as mkdocs:
        lead = mkdocs.workers[0].proc
        mkdocs.run(tmp_path / "src", tmp_path / "two")
        deadline = time.monotonic() + 60
        while not (helpers := _children(lead.pid)) and lead.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert helpers, "the lead never forked its helper"
        os.kill(lead.pid, signal.SIGKILL)
        lead.wait()
        deadline = time.monotonic() + 0.5  # its own pages would take it over a second more
        while not _gone(helpers[0]) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _gone(helpers[0])  # ended with the lead, not left writing into the site
        mkdocs.stop()


def test_the_shares_are_balanced_and_the_same_in_both_processes() -> None:
    pages = [(f"p{i}.md", (i * 7919) % 5000) for i in range(300)]
    helper = helper_pages(pages)
    assert helper == helper_pages(list(reversed(pages)))  # the order files come in does not matter
    cost = {uri: size + 2_000 for uri, size in pages}
    mine, theirs = sum(cost[u] for u in helper), sum(cost[u] for u, _ in pages if u not in helper)
    assert abs(mine - theirs) <= max(cost.values())


_WORKER_START = r"""
import subprocess, sys
seen = []
real = subprocess.Popen.__init__
def init(self, args, *a, **k):
    if "threatgraph.site.mkdocs_worker" in args:
        seen.append(sorted(m for m in ("threatgraph.assess", "threatgraph.catalog.loader", "pydantic", "threatgraph.build")
                           if m in sys.modules))
    real(self, args, *a, **k)
subprocess.Popen.__init__ = init
from threatgraph.cli import main
code = main(["build", "--no-evidence", "--out", sys.argv[1]])
print(seen, code)
"""


def test_a_build_starts_the_site_workers_before_importing_the_rest(tmp_path: Path) -> None:
    """The mkdocs worker's imports run on the other core from the start: `build` starts it
    before threatgraph's catalogs, pydantic and the build module are imported, and the site
    package gives its names without importing them."""
    import subprocess
    import sys

    env = {**os.environ, "THREATGRAPH_NO_CACHE": "1"}
    r = subprocess.run([sys.executable, "-c", _WORKER_START, str(tmp_path / "out")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[[]] 0"
    assert (tmp_path / "out" / "site" / "index.html").is_file()
    bare = subprocess.run([sys.executable, "-c", "import sys, threatgraph.site.mkdocs_build as m; "
                           "print(m.Mkdocs is __import__('threatgraph.site', fromlist=['Mkdocs']).Mkdocs, "
                           "'threatgraph.assess' in sys.modules)"], env=env, capture_output=True, text=True, timeout=60)
    assert bare.stdout.split() == ["True", "False"], bare.stderr
