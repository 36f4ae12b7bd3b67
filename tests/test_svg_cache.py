"""The drawing cache: an SVG drawn once per DOT text and Graphviz, the same output as a fresh
drawing, never used where threatgraph's caches are off, and a bad entry is drawn again."""

import json
import os
import subprocess
import sys

import pytest

from threatgraph.render import svg

from .conftest import REPO

DOT = 'digraph g { a [label="A <b>"]; b; a -> b [label="flow"]; }'


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.delenv("THREATGRAPH_NO_CACHE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("THREATGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def draws(monkeypatch):
    calls = []
    real = svg._draw

    def counting(source, chosen):
        calls.append(source)
        return real(source, chosen)

    monkeypatch.setattr(svg, "_draw", counting)
    return calls


def test_second_drawing_comes_from_the_cache_and_is_identical(cache_on, draws):
    first = svg.render_svg(DOT, "wasm")
    again = svg.render_svg(DOT, "wasm")
    assert first == again and len(draws) == 1 and "<svg" in first
    entries = list((cache_on / "svg").rglob("*.svg"))
    assert len(entries) == 1 and oct(entries[0].stat().st_mode & 0o777) == "0o600"
    svg.render_svg(DOT.replace("flow", "other"), "wasm")  # another DOT text, another entry
    assert len(draws) == 2 and len(list((cache_on / "svg").rglob("*.svg"))) == 2


def test_the_key_names_the_graphviz_that_drew(cache_on, monkeypatch):
    wasm = svg._entry(DOT, "wasm")
    monkeypatch.setattr(svg, "_drawer", lambda chosen: "wasm 999")
    assert svg._entry(DOT, "wasm") != wasm


def test_off_under_ci_and_no_cache(cache_on, draws, monkeypatch):
    for var in ("CI", "THREATGRAPH_NO_CACHE"):
        monkeypatch.setenv(var, "1")
        svg.render_svg(DOT, "wasm")
        svg.render_svg(DOT, "wasm")
        monkeypatch.delenv(var)
    assert len(draws) == 4 and not (cache_on / "svg").exists()


def test_a_bad_entry_is_drawn_again(cache_on, draws):
    good = svg.render_svg(DOT, "wasm")
    path = svg._entry(DOT, "wasm")
    for bad in (b"\xff\xfe not utf-8", b""):
        path.write_bytes(bad)
        assert svg.render_svg(DOT, "wasm") == good
    path.unlink()
    os.mkfifo(path)  # a special file is never opened (it would block)
    assert svg.render_svg(DOT, "wasm") == good
    assert len(draws) == 4


def test_with_the_cache_off_a_pool_draws_what_this_process_draws(monkeypatch):
    """A first build: the diagrams are drawn by forked workers sharing the Graphviz compiled
    here (svg.prepare), and come out exactly as drawn in one process."""
    from threatgraph import process
    from threatgraph.site import sources

    if not process.can_fork_helpers():
        pytest.skip("needs fork and a second core")
    monkeypatch.setenv("THREATGRAPH_NO_CACHE", "1")
    dots = {f"d{n}": DOT.replace("flow", f"flow {n}") for n in range(12)}
    assert svg.undrawn(list(dots.values()), "wasm") == 12  # nothing cached: the pool threshold is met

    def drawn(pool: bool) -> dict:
        monkeypatch.setattr(process, "can_fork_helpers", lambda: pool)
        d = sources.Diagrams("wasm")
        for name, text in dots.items():
            d.svg_for(name, lambda text=text: text)
        d.render_all()
        return d.items

    pooled, here = drawn(True), drawn(False)
    assert pooled == here and len(pooled) == 12 and all("<svg" in raw for _dot, raw in pooled.values())


def test_undrawn_counts_only_what_the_cache_lacks(cache_on):
    svg.render_svg(DOT, "wasm")
    assert svg.undrawn([DOT, DOT.replace("flow", "other")], "wasm") == 1


_DRAW_WITH = r"""
import hashlib, json, sys
from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import dot, svg
a = pipeline.check(load_config(__import__("pathlib").Path(sys.argv[1])), use_evidence=False)
sources = [dot.dfd(a), dot.summary(a)] + [dot.dfd(a, dot.threat_focus(a, t))
                                          for t in sorted(a.catalog.threats)[:6]]
compiler = svg._install_backend(cached=False, winch=sys.argv[2] == "winch") if sys.argv[2] != "default" else "default"
print(json.dumps([compiler, [hashlib.sha256(svg._draw(s, "wasm").encode()).hexdigest() for s in sources]]))
"""


def _drawn_with(compiler: str) -> tuple[str, list[str]]:
    env = {**os.environ, "THREATGRAPH_NO_CACHE": "1"}
    r = subprocess.run([sys.executable, "-c", _DRAW_WITH, str(REPO), compiler], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    name, digests = json.loads(r.stdout.strip().splitlines()[-1])
    return name, digests


def test_both_compilers_draw_the_same_svg_byte_for_byte():
    """A first build (caches off) may compile wasm Graphviz with Winch, a later one comes from
    Cranelift's cached compile: the firewall's diagrams come out identical, so the choice never
    shows in an output. Where Winch can be asked for, it really is the one installed."""
    quick, digests = _drawn_with("winch")
    default, expected = _drawn_with("default")
    assert digests == expected and len(set(expected)) == len(expected) > 3
    assert quick == ("winch" if svg._winch_possible() else None) and default == "default"


def test_the_quick_compiler_only_for_light_uncached_drawing(monkeypatch):
    installed = []
    monkeypatch.setattr(svg, "_install_backend", lambda cached, winch: installed.append((cached, winch)))
    light, heavy = ["digraph { a -> b }"] * 10, ["digraph { " + "a -> b; " * svg.LIGHT_EDGES + "}"]
    for caches, sources, expected in ((False, light, [(False, True)]), (False, heavy, []), (False, None, []),
                                      (True, light, [(True, False)]), (True, heavy, [(True, False)])):
        installed.clear()
        monkeypatch.setattr(svg, "_installed", False)
        if caches:
            monkeypatch.delenv("THREATGRAPH_NO_CACHE", raising=False)
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("THREATGRAPH_NO_CACHE", "1")
        svg._compiled_once(sources)
        assert installed == expected, (caches, sources and len(sources))
    assert svg._light(["digraph { " + "a -> b; " * (svg.LIGHT_EDGES - 1) + "}"])
    assert not svg._light(heavy)
