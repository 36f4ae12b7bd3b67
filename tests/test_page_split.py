"""Pages written by two processes (site/page_split.py): the same pages, tables and diagrams as
one pass writes, on both layouts; a helper that fails is reported, never waited on forever."""

from __future__ import annotations

import os

import pytest

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.site import page_split
from threatgraph.site.embed import fill_tables
from threatgraph.site.pages import SiteWriter

from .conftest import REPO, synthetic_project

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the split needs fork")


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory):
    root = synthetic_project(150, tmp_path_factory.mktemp("split") / "project")
    a = pipeline.check(load_config(root), use_evidence=False)
    assert len(a.model.elements) + len(a.model.flows) > page_split.SPLIT_OVER  # the split is on by default
    return a


def _written(a, large: bool, split: bool) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Pages with their tables put in (fragment names are each process's own), the fragments'
    names, and every diagram's DOT."""
    diagrams: dict[str, str] = {}
    writer = SiteWriter(a, lambda name, source: diagrams.__setitem__(name, source()), large)
    pages = page_split.generate(writer, split=split)
    filled = {name: fill_tables(text, writer.fragments) for name, text in pages.items()}
    return filled, dict.fromkeys(writer.fragments, ""), diagrams


@pytest.mark.parametrize("large", [False, True])
def test_two_processes_write_what_one_pass_writes(assessment, large: bool) -> None:
    one_pages, one_names, one_dots = _written(assessment, large, split=False)
    two_pages, two_names, two_dots = _written(assessment, large, split=True)
    assert list(two_pages) == list(one_pages)  # the same pages, in the same order
    assert two_pages == one_pages  # with the same tables in them
    assert "(missing)" not in "".join(two_pages.values())
    assert two_dots == one_dots
    assert len(two_names) == len(one_names)
    helper = [n for n in two_names if n.startswith(page_split.HELPER_FRAGMENTS)]
    assert helper and len(helper) < len(two_names)  # both processes wrote tables
    assert any(p.startswith("boundary-") for p in one_pages) and one_dots


def test_the_one_pass_writer_agrees(assessment) -> None:
    """`SiteWriter.generate` (one pass, used below the threshold) is the split's reference."""
    diagrams: dict[str, str] = {}
    writer = SiteWriter(assessment, lambda name, source: diagrams.__setitem__(name, source()))
    pages = writer.generate()
    assert pages == page_split.generate(SiteWriter(assessment, lambda n, s: None), split=False)


def test_a_failing_helper_is_reported(assessment, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, bid: str) -> str:
        raise ValueError("boundary page failed")

    monkeypatch.setattr(SiteWriter, "boundary_page", broken)  # the helper inherits it through fork
    with pytest.raises(ValueError, match="boundary page failed"):
        page_split.generate(SiteWriter(assessment, lambda n, s: None), split=True)


def test_small_models_and_single_cores_are_written_in_one_pass(assessment, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = SiteWriter(assessment, lambda n, s: None)
    assert page_split.available(writer)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not page_split.available(writer)
    monkeypatch.undo()
    a = pipeline.check(load_config(REPO), use_evidence=False)  # the firewall: a few dozen elements
    assert not page_split.available(SiteWriter(a, lambda n, s: None))
