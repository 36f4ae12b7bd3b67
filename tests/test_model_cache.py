"""The model snapshot cache (model/cache.py): a hit only when nothing the model read has
changed, never across versions, never from an entry that is not what it claims, and outputs
byte-identical to a run without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from threatgraph.model import cache
from threatgraph.model.loader import load_model

from .conftest import REPO, Project
from .pytm_models import random_model


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("THREATGRAPH_CACHE_DIR", str(folder))
    monkeypatch.delenv("THREATGRAPH_NO_CACHE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(cache, "RACY_NS", -10**15)  # files written just now count as settled (one test says otherwise)
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted((folder / "snapshots").glob("*.json")) if (folder / "snapshots").is_dir() else []


def runs_model(root: Path, spec: str = "model.py", facts: bool = False) -> bool:
    """Whether loading runs the model (a miss) or not (a hit): a hit never forks a child, so
    a counter the model file bumps on disk tells them apart."""
    before = (root / "ran").read_text() if (root / "ran").exists() else ""
    load_model(spec, root, facts=facts, cache=None)
    return ((root / "ran").read_text() if (root / "ran").exists() else "") != before


COUNTER = "\nimport pathlib as _p\n_f = _p.Path(__file__).with_name('ran')\n_f.write_text(_f.read_text() + 'x' if _f.exists() else 'x')\n"


def test_an_unchanged_model_is_not_run_again_and_loads_the_same(project: Project, cache_dir: Path) -> None:
    model = project.root / "model.py"
    model.write_text(model.read_text() + COUNTER)
    fresh = load_model("model.py", project.root, cache=False)
    assert runs_model(project.root)  # first: a miss, the entry written
    assert len(entries(cache_dir)) == 1
    assert not runs_model(project.root)  # then: a hit
    hit = load_model("model.py", project.root, cache=None)
    codec = cache._Codec()
    assert codec.encode(hit) == codec.encode(fresh)


def test_any_change_to_what_the_model_read_runs_it(project: Project, cache_dir: Path) -> None:
    project.write("helpers.py", "NAME = 'Web server'\n")
    project.write("extra.txt", "Orders DB\n")
    model = project.root / "model.py"
    model.write_text("from helpers import NAME\nimport pathlib\n_extra = (pathlib.Path(__file__).parent / 'extra.txt')"
                     ".read_text().strip()\n" + model.read_text().replace('"Web server"', "NAME")
                     .replace('"Orders DB"', "_extra") + COUNTER)
    assert runs_model(project.root) and not runs_model(project.root)
    project.write("helpers.py", "NAME = 'Web front'\n")  # an imported module
    assert runs_model(project.root) and not runs_model(project.root)
    project.write("extra.txt", "Orders store\n")  # a data file the model opened
    assert runs_model(project.root) and not runs_model(project.root)
    assert load_model("model.py", project.root, cache=None).model.elements["db"].name == "Orders store"
    model.write_text(model.read_text() + "\n# a comment\n")  # the model file itself
    assert runs_model(project.root)


def test_a_model_that_reads_outside_its_project_is_never_cached(project: Project, cache_dir: Path,
                                                                tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("Web server")
    model = project.root / "model.py"
    model.write_text(f"_name = open({str(outside)!r}).read()\n" + model.read_text().replace('"Web server"', "_name")
                     + COUNTER)
    assert runs_model(project.root) and runs_model(project.root)
    assert entries(cache_dir) == []


def test_the_folder_threatgraph_is_imported_from_is_listed_and_checked(project: Project, cache_dir: Path,
                                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An editable checkout's `src` (outside the project, not part of the installation) is
    listed when a model imports threatgraph.declare: its listing is kept and checked like a
    project folder's, instead of making every such model uncacheable; any other outside folder
    still does."""
    folder = tmp_path / "src"
    folder.mkdir()
    model = project.root / "model.py"
    model.write_text(f"import os as _os\n_os.listdir({str(folder)!r})\n" + model.read_text() + COUNTER)
    assert runs_model(project.root) and runs_model(project.root) and entries(cache_dir) == []  # outside: never cached
    monkeypatch.setattr(cache, "IMPORT_FOLDER", str(folder))
    assert runs_model(project.root) and not runs_model(project.root)  # kept, then a hit
    (folder / "new_module.py").write_text("")
    assert runs_model(project.root)  # the listing changed: a miss


def test_the_key_holds_all_of_threatgraphs_code(cache_dir: Path) -> None:
    """The model runs threatgraph.declare, not only the snapshot code: an edit anywhere in the
    package (or an upgrade that changes any file) is another key."""
    import threatgraph

    package = Path(threatgraph.__file__).resolve().parent
    assert (package / "declare.py").is_file()
    assert cache.versions()["threatgraph_code"] == cache.tree_digest(package)


def test_off_under_ci_and_when_configured_off(project: Project, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = project.root / "model.py"
    model.write_text(model.read_text() + COUNTER)
    monkeypatch.setenv("CI", "true")
    assert runs_model(project.root) and runs_model(project.root) and entries(cache_dir) == []
    assert cache.enabled(True) and not cache.enabled(None) and not cache.enabled(False)
    monkeypatch.delenv("CI")
    monkeypatch.setenv("THREATGRAPH_NO_CACHE", "1")
    assert not cache.enabled(True)


def test_an_entry_from_another_version_or_tampered_with_is_a_miss(project: Project, cache_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model = project.root / "model.py"
    model.write_text(model.read_text() + COUNTER)
    assert runs_model(project.root)
    [entry] = entries(cache_dir)
    doc = json.loads(entry.read_text())
    for bad in ('["c", "Nope", {}]', '["x"]', '{"not": "a model"'):
        entry.write_text(json.dumps({**doc, "loaded": "@"}).replace('"@"', bad))
        assert runs_model(project.root)  # an unreadable entry is a miss, the model runs and rewrites it
    assert not runs_model(project.root)
    real = cache.versions()
    monkeypatch.setattr(cache, "versions", lambda: {**real, "pytm": "0.0-other"})
    assert runs_model(project.root)  # never trusted across versions
    assert len(entries(cache_dir)) == 2  # an entry per version set


def test_a_cached_check_writes_byte_identical_outputs(tmp_path: Path, cache_dir: Path) -> None:
    """The firewall's reports from a cached snapshot equal the reports from running the model."""
    env = {**os.environ, "THREATGRAPH_CACHE_DIR": str(cache_dir)}
    env.pop("THREATGRAPH_NO_CACHE", None)
    env.pop("CI", None)

    def report(out: Path, *extra: str) -> dict[str, bytes]:
        subprocess.run([sys.executable, "-m", "threatgraph", "report", "--out", str(out), *extra], cwd=REPO, env=env,
                       check=True, capture_output=True)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    first = report(tmp_path / "a")
    assert len(entries(cache_dir)) == 1
    again = report(tmp_path / "b")
    assert sorted(first) == sorted(again)
    assert [k for k in first if first[k] != again[k]] == []
    assert "coverage.json" in first and "coverage.md" in first


def test_a_pytm_pack_model_with_facts_round_trips(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "tm.py").write_text(random_model(5, elements=20, flows=40) + COUNTER, encoding="utf-8")
    fresh = load_model("tm.py", tmp_path, facts=True, cache=False)
    assert runs_model(tmp_path, "tm.py", facts=True) and not runs_model(tmp_path, "tm.py", facts=True)
    assert runs_model(tmp_path, "tm.py", facts=False)  # facts or not: separate entries
    codec = cache._Codec()
    assert codec.encode(load_model("tm.py", tmp_path, facts=True, cache=None)) == codec.encode(fresh)


def test_a_model_whose_files_changed_as_it_ran_is_not_kept(project: Project, cache_dir: Path, monkeypatch) -> None:
    """A file modified within two seconds of the run may have changed after the model read it:
    its digest, taken afterwards, would vouch for content the snapshot never saw."""
    monkeypatch.setattr(cache, "RACY_NS", 2_000_000_000)
    load_model("model.py", project.root, cache=None)
    load_model("model.py", project.root, cache=None)
    assert entries(cache_dir) == []  # just written: never kept
    past = time.time_ns() - 60 * 10**9
    for path in [project.root, *project.root.rglob("*")]:
        os.utime(path, ns=(past, past))
    load_model("model.py", project.root, cache=None)
    (entry,) = entries(cache_dir)  # settled: kept
    written = entry.stat().st_mtime_ns
    hits = len(cache.used)
    load_model("model.py", project.root, cache=None)
    assert entry.stat().st_mtime_ns == written and len(cache.used) == hits + 1  # then reused, not rewritten
