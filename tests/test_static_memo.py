"""The memo of evidence items that passed their static checks (evidence/static_memo.py): an
unchanged item is not checked again, a failing one always is, a bad memo file is ignored,
and nothing is kept where the caches are off."""

from __future__ import annotations

import dataclasses
import json

import pytest

from threatgraph.evidence import static_memo
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.spec import validate_item
from threatgraph.safeyaml import parse_yaml

GOOD = {"kind": "regex", "path": "a.py", "pattern": "ptrace", "proves": "p"}
BAD = {"kind": "regex", "path": "a.py", "pattern": "(unclosed", "proves": "p"}


@pytest.fixture
def memo(tmp_path, monkeypatch):
    """A fresh memo in a private cache folder, and a count of the regex kind's real checks."""
    monkeypatch.delenv("THREATGRAPH_NO_CACHE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("THREATGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[dict] = []
    real = KINDS["regex"]

    def counting(item):
        calls.append(item)
        return real.static_check(item)

    monkeypatch.setitem(KINDS, "regex", dataclasses.replace(real, static_check=counting))
    monkeypatch.setattr(static_memo, "_passed", None)
    monkeypatch.setattr(static_memo, "_dirty", True)  # no atexit hook from a test
    static_memo._path.cache_clear()
    yield calls
    static_memo._path.cache_clear()


def _new_process(monkeypatch) -> None:
    """What a later run starts from: the memo file, nothing in memory."""
    static_memo._save()
    monkeypatch.setattr(static_memo, "_passed", None)


def _problems(item: dict) -> list[str]:
    doc = parse_yaml("x: 1\n", "mitigations/m.yaml")
    return [p.message for p in validate_item(item, doc, ())]


def test_an_item_that_passed_is_not_checked_again(memo, monkeypatch) -> None:
    assert _problems(GOOD) == [] and len(memo) == 1
    _new_process(monkeypatch)
    assert _problems(GOOD) == [] and len(memo) == 1  # from the memo
    assert _problems({**GOOD, "pattern": "ptrace|bpf"}) == [] and len(memo) == 2  # another text, checked


def test_a_failing_item_is_checked_every_time(memo, monkeypatch) -> None:
    assert any("invalid regular expression" in m for m in _problems(BAD))
    _new_process(monkeypatch)
    assert any("invalid regular expression" in m for m in _problems(BAD))
    assert len(memo) == 2


OVERSIZED = b"[" + (b'"' + b"a" * 64 + b'",') * 70_000  # over the size cap


@pytest.mark.parametrize("content", [b"not json", b'{"a": 1}', b'["short", 7]', OVERSIZED])
def test_a_damaged_memo_is_ignored(memo, content: bytes) -> None:
    path = static_memo._path()
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert _problems(GOOD) == [] and len(memo) == 1


def test_a_folder_in_place_of_the_memo_is_ignored(memo) -> None:
    path = static_memo._path()
    path.mkdir(parents=True)
    assert _problems(GOOD) == [] and len(memo) == 1
    static_memo._save()  # cannot replace a folder: nothing raised


def test_nothing_is_kept_where_the_caches_are_off(memo, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CI", "true")
    static_memo._path.cache_clear()
    assert static_memo._path() is None
    _problems(GOOD)
    _new_process(monkeypatch)
    _problems(GOOD)
    assert len(memo) == 2 and not (tmp_path / "cache").exists()


def test_the_memo_holds_digests_only(memo) -> None:
    _problems(GOOD)
    static_memo._save()
    entries = json.loads(static_memo._path().read_text())
    assert len(entries) == 1 and len(entries[0]) == 64 and "ptrace" not in static_memo._path().read_text()


def test_a_planted_entry_lets_a_bad_item_reach_its_run_where_it_is_an_error(memo, monkeypatch, tmp_path) -> None:
    """The memo's worst case: an entry for an item that does not parse. Validation then passes
    it, and running it reports an evidence error (never a pass, never a traceback)."""
    from threatgraph.evidence.base import ERROR, Runner
    from threatgraph.evidence.source import DirSource

    digest = static_memo._digest("regex", BAD)
    path = static_memo._path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([digest]))
    assert _problems(BAD) == [] and memo == []  # let through, unchecked
    (tmp_path / "a.py").write_text("ptrace\n")
    result = Runner(DirSource(tmp_path), KINDS).run(BAD)
    assert result.result == ERROR and result.kind == "regex" and "could not be run" in result.detail
