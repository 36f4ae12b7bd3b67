"""The verdict cache (verdict_cache.py): a check whose inputs are unchanged prints the verdict
without computing it; any change to an input computes it again, and the output is always the
one a run without the cache prints (the oracle: the same check with THREATGRAPH_NO_CACHE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatgraph import pipeline
from threatgraph.verdict_cache import REPLAYED, tree_digest

from .conftest import Project, Result


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run):
    """Runs `check` with both caches on and says whether the verdict was computed; each run is
    compared with the same check computed without any cache."""
    monkeypatch.setenv("THREATGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CI", raising=False)
    calls: list[int] = []
    real = pipeline.check

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(pipeline, "check", counting)

    def _check(project: Project, *args: str, settled: bool = True) -> tuple[Result, bool]:
        if settled:  # every file last changed a minute ago, not while a check might be reading it
            age(project.root)
        monkeypatch.delenv("THREATGRAPH_NO_CACHE", raising=False)
        before = len(calls)
        got = run("check", *args, cwd=project.root)
        computed = len(calls) > before
        assert (REPLAYED in got.err) is not computed  # a repeated verdict says so, on standard error
        monkeypatch.setenv("THREATGRAPH_NO_CACHE", "1")
        oracle = run("check", *args, cwd=project.root)
        assert (got.code, got.out, got.err.replace(REPLAYED + "\n", "")) == (oracle.code, oracle.out, oracle.err)
        return got, computed

    return _check


def age(root: Path) -> None:
    import os
    import time

    past = time.time_ns() - 60 * 10**9
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(past, past), follow_symlinks=False)


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "verdicts").glob("*.json"))


def test_an_unchanged_check_is_replayed_and_every_input_change_computes_again(project: Project, cached) -> None:
    first, computed = cached(project)
    assert computed and first.code == 0 and "policy: passed" in first.out
    assert cached(project)[1] is False  # replayed: the same output, nothing computed
    changes = [
        ("threats/main.yaml", lambda t: t.replace("severity: critical", "severity: low")),  # a catalog entry
        ("mitigations/extra.yaml", lambda t: "mitigations: []\n"),  # a new catalog file
        ("model.py", lambda t: t + "\nextra = Process('Audit log', inBoundary=inner)\n"),  # the model
        ("pyproject.toml", lambda t: t.replace('fail_on = "critical"', 'min_coverage = 0.99')),  # the policy
    ]
    verdicts = {first.out}
    for rel, edit in changes:
        path = project.root / rel
        path.write_text(edit(path.read_text() if path.exists() else ""))
        got, computed = cached(project)
        assert computed, f"an edit of {rel} was not seen"
        assert cached(project)[1] is False, f"after the edit of {rel} the verdict was not kept"
        verdicts.add(got.out)
    assert len(verdicts) > 2 and got.code == 1  # the edits changed the verdict, and the replay followed


def test_the_command_line_and_the_date_are_part_of_the_key(project: Project, cached, monkeypatch, tmp_path) -> None:
    project.write("threats/decisions.yaml", """
        decisions:
          - threat: TH-BYPASS
            decision: accept
            owner: alice
            justification: network team owns it
            expires: 2030-01-01
        """)
    import datetime as dt

    from threatgraph import clock

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr(clock, "today", lambda: dt.date(2030, 1, 1))  # still accepted
    before, computed = cached(project)
    assert computed and cached(project)[1] is False
    assert cached(project, "--format", "json")[1] is True  # another format: its own entry
    assert cached(project)[1] is False
    monkeypatch.setattr(clock, "today", lambda: dt.date(2030, 1, 2))  # a day later: the acceptance has expired
    after, computed = cached(project)
    assert computed and after.out != before.out
    assert len(entries(tmp_path)) == 2  # one per command line: the new verdict replaced the old


def test_checks_it_cannot_see_through_are_never_cached(project: Project, cached, monkeypatch, tmp_path) -> None:
    project.write("src/app.conf", "ssl on\n")
    assert all(cached(project, "--source", str(project.root))[1] for _ in range(2))  # evidence from a source
    out = tmp_path / "report.txt"
    assert all(cached(project, "--output", str(out))[1] for _ in range(2))  # a file written
    monkeypatch.setenv("CI", "true")
    assert all(cached(project)[1] for _ in range(2))  # under CI the gate computes its verdict
    assert entries(tmp_path) == []


def test_an_entry_that_is_not_what_it_claims_is_not_replayed(project: Project, cached, tmp_path) -> None:
    assert cached(project)[1]
    (entry,) = entries(tmp_path)
    body = json.loads(entry.read_text())
    entry.write_text(json.dumps({**body, "key": "0" * 64}))  # an entry under another key
    assert cached(project)[1]
    entry.unlink()
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps(body))
    entry.symlink_to(other)  # a link planted in the cache folder
    assert cached(project)[1]
    model_entry = Path(body["model_entry"])
    model_entry.write_text(model_entry.read_text().replace('"Orders DB"', '"Orders store"'))  # a forged snapshot
    assert cached(project)[1]


def test_tree_digest_sees_names_kinds_and_contents_without_opening_special_files(tmp_path: Path) -> None:
    import os

    top = tmp_path / "t"
    (top / "a").mkdir(parents=True)
    (top / "a" / "x.yaml").write_text("one")
    seen = {tree_digest(top)}
    (top / "a" / "x.yaml").write_text("two")
    seen.add(tree_digest(top))
    (top / "a" / "x.yaml").rename(top / "a" / "y.yaml")
    seen.add(tree_digest(top))
    (top / "b").mkdir()
    seen.add(tree_digest(top))
    os.mkfifo(top / "b" / "pipe")  # read, it would block
    seen.add(tree_digest(top))
    (top / "link").symlink_to("a")
    seen.add(tree_digest(top))
    assert len(seen) == 6
    assert tree_digest(tmp_path / "absent") != tree_digest(top) and tree_digest(top) in seen


def test_a_data_file_the_check_opened_outside_the_key_is_kept_and_checked(tmp_path: Path) -> None:
    """What a pack reads under site-packages, say, is in no key part: the entry keeps it."""
    from threatgraph import verdict_cache
    from threatgraph.model import cache

    data = tmp_path / "library.json"
    data.write_text("[1]")
    code = tmp_path / "module.py"
    code.write_text("x = 1")
    with cache.recording() as reads:
        data.read_text(), code.read_text(), sorted(p.name for p in tmp_path.iterdir())
    import time

    assert verdict_cache._read(reads, time.time_ns()) is None  # modified just before a run: nothing is kept
    entry = verdict_cache._read(reads, time.time_ns() + 10**10)  # a run ten seconds later: settled
    assert entry is not None
    assert [p for p, _ in entry["files"]] == [str(data.resolve())]  # code is the key's: not kept
    assert [p for p, _ in entry["folders"]] == [str(tmp_path.resolve())]
    assert cache.unchanged(entry)
    data.write_text("[2]")
    assert not cache.unchanged(entry)
    data.write_text("[1]")
    (tmp_path / "new").write_text("")
    assert not cache.unchanged(entry)


def test_a_verdict_read_from_files_changed_during_the_run_is_not_kept(project: Project, cached, tmp_path) -> None:
    """A file modified within two seconds of the run may have changed after it was read: the
    digest taken afterwards would vouch for content the verdict never saw."""
    assert cached(project)[1] and not cached(project)[1]
    project.write("threats/main.yaml", (project.root / "threats/main.yaml").read_text().replace("high", "low"))
    assert cached(project, settled=False)[1]  # just edited: computed, and not kept
    assert cached(project, settled=False)[1]
    assert cached(project)[1] and not cached(project)[1]  # settled: kept, then repeated
