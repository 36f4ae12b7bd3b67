"""The theme's templates compiled ahead (site/mkdocs_templates.py): served to the environment
mkdocs makes for the theme, so it compiles none of them again, rendering what a cold
environment renders; never served to an environment whose compile would differ."""

from __future__ import annotations

import marshal

import pytest

pytest.importorskip("material")

from mkdocs.theme import Theme  # noqa: E402

from threatgraph.site import mkdocs_templates  # noqa: E402


@pytest.fixture
def warmed(monkeypatch):
    monkeypatch.setattr(mkdocs_templates, "_warm", mkdocs_templates._Warm())
    monkeypatch.setattr(Theme, "get_env", Theme.get_env)  # restored after the test
    count = mkdocs_templates.warm()
    assert count > 20  # main.html and what it reaches: base.html, the partials
    return count


def _compiles(env, monkeypatch) -> list[str]:
    seen: list[str] = []
    real = type(env).compile

    def counting(self, source, name=None, filename=None, *a, **k):
        seen.append(name)
        return real(self, source, name, filename, *a, **k)
    monkeypatch.setattr(type(env), "compile", counting)
    return seen


def test_the_theme_environment_compiles_nothing_again_and_gets_the_same_code(warmed, monkeypatch):
    env = Theme(name="material").get_env()  # as mkdocs makes it, the warm cache handed over
    compiled = _compiles(env, monkeypatch)
    names = ("main.html", "base.html", "partials/nav.html", "partials/nav-item.html", "404.html")
    for name in names:
        env.get_template(name)
    assert compiled == []
    warm = mkdocs_templates._warm
    monkeypatch.undo()  # a cold environment: nothing handed over, everything compiled here
    cold = Theme(name="material").get_env()
    assert cold.bytecode_cache is None
    for name in names:
        source, filename, _ = cold.loader.get_source(cold, name)
        served = warm.cache.get_bucket(env, name, filename, source).code
        assert served is not None
        assert marshal.dumps(served) == marshal.dumps(cold.compile(source, name, filename)), name


def test_an_environment_with_another_filter_compiles_its_own(warmed, monkeypatch):
    env = Theme(name="material").get_env()
    env.filters["url"] = lambda value: value  # a plugin's own `url`: the compiled code may differ
    compiled = _compiles(env, monkeypatch)
    env.get_template("main.html")
    assert compiled == ["main.html"]


def test_an_edited_template_is_compiled_from_its_new_source(warmed, monkeypatch, tmp_path):
    (tmp_path / "main.html").write_text("custom {{ 1 + 1 }}", encoding="utf-8")
    theme = Theme(name="material", custom_dir=str(tmp_path))
    env = theme.get_env()
    compiled = _compiles(env, monkeypatch)
    assert env.get_template("main.html").render() == "custom 2" and compiled == ["main.html"]
