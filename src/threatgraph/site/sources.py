"""Generate the docs site's sources (pages, diagrams, mkdocs config) and build it with
`mkdocs build --strict`. The project's `site/` folder holds mkdocs.yml and hand-written
pages; generated pages are written to a staging folder, never into the source tree."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from threatgraph import process
from threatgraph.assess import Assessment
from threatgraph.errors import EnvironmentProblem, InputError, Problem
from threatgraph.fsutil import write_atomic, write_new
from threatgraph.render import json_text, svg
from threatgraph.site import embed as site_embed
from threatgraph.site import page_split
from threatgraph.site import pages as site_pages

CSS = """\
.md-grid { max-width: 90rem; }
.tg-diagram { overflow: auto; max-height: 85vh; margin: 1em 0; border: 1px solid #e0e0e0; border-radius: 4px; padding: 4px; }
.tg-diagram svg { max-width: 100%; height: auto; }
.md-typeset table:not([class]) { font-size: .72rem; }
.tg-badge, .tg-cell { border-radius: 3px; padding: 0 .35em; white-space: nowrap; border: 1px solid; }
.tg-cell { font-weight: bold; }
.tg-unmitigated, .tg-accepted-expired, .tg-fail { background: #fde2e1; border-color: #c0392b; color: #922b21; }
.tg-partially-mitigated, .tg-error { background: #fff1d6; border-color: #d68910; color: #9c640c; }
.tg-mitigated, .tg-pass { background: #ddf3e4; border-color: #1e8449; color: #196f3d; }
.tg-blocked { background: #e3f1e6; border-color: #2e7d32; color: #1b5e20; }
.tg-blocked-claimed { background: #f4f8e8; border-color: #8a9a5b; border-style: dashed; color: #5d6b36; }
.tg-mitigated-claimed { background: #f4f8e8; border-color: #8a9a5b; border-style: dashed; color: #5d6b36; }
.tg-accepted { background: #dde9f7; border-color: #2e6da4; color: #21618c; }
.tg-false-positive, .tg-unverified, .tg-none, .tg-gap-confirmed { background: #eeeeee; border-color: #7f8c8d; color: #515a5a; }
.tg-gap-closed { background: #fff1d6; border-color: #d68910; color: #9c640c; }
.tg-matrix { overflow: auto; max-height: 80vh; margin: .6em 0 1.6em; border: 1px solid #e0e0e0; border-radius: 4px; }
.tg-matrix table { border-collapse: separate; border-spacing: 0; font-size: .68rem; margin: 0; }
.tg-matrix th, .tg-matrix td { padding: .25em .45em; border-bottom: 1px solid #eeeeee; white-space: nowrap;
  text-align: left; background: var(--md-default-bg-color, #ffffff); }
.tg-matrix thead { position: sticky; top: 0; z-index: 2; }
.tg-matrix thead th { border-bottom: 2px solid #cccccc; vertical-align: bottom; }
.tg-matrix th.tg-group { border-left: 1px solid #cccccc; border-bottom: 1px solid #cccccc; font-weight: normal; color: #555555; }
.tg-matrix td:first-child, .tg-matrix th:first-child { position: sticky; left: 0; z-index: 1; max-width: 22rem;
  overflow: hidden; text-overflow: ellipsis; border-right: 1px solid #cccccc; }
.tg-matrix thead th:first-child { z-index: 3; }
@media print {
  .tg-diagram { max-height: none; overflow: visible; border: none; break-inside: avoid; }
  .md-typeset h2 { break-after: avoid; }
  .md-typeset tr { break-inside: avoid; }
  .md-typeset table:not([class]) { font-size: .6rem; }
  .md-typeset table:not([class]) th, .md-typeset table:not([class]) td { padding: .25em .5em; }
  .tg-matrix { max-height: none; overflow: visible; border: none; }
  .tg-matrix thead, .tg-matrix td:first-child, .tg-matrix th:first-child { position: static; }
}
"""
DEFAULT_CONFIG: dict[str, Any] = {
    "theme": {"name": "material", "features": ["navigation.sections", "navigation.top", "search.highlight"]},
    "markdown_extensions": ["tables", "admonition", "toc"],
}
NAV = [{"Overview": "index.md"}, {"Threats": "threats.md"}, {"Mitigations": "mitigations.md"},
       {"Coverage matrix": "matrix.md"}, {"STRIDE per element": "stride.md"}, {"Attack paths": "paths.md"},
       {"Evidence": "evidence.md"}, {"Decisions": "decisions.md"}, {"Compliance": "compliance.md"},
       {"Audit report": "report.md"},
       {"Model": [{"Elements": "elements.md"}, {"Flows": "flows.md"}, {"Boundaries": "boundaries.md"},
                  {"Data": "data.md"}]}]


WORKER_SHIM = "iframe-worker-threatgraph.js"  # search from file:// (see the file)
PARALLEL_OVER = 200  # diagrams read from the cache; below this a process pool costs more than it saves
DRAW_PARALLEL_OVER = 8  # diagrams to draw (about 12 ms each in wasm): over this, drawn by a pool


def _render(job: tuple[str, str, str]) -> tuple[str, str | None, str]:
    name, source, renderer = job
    try:
        return name, svg.render_svg(source, renderer), ""
    except svg.RenderError as exc:
        return name, None, str(exc)


@dataclass
class Diagrams:
    """Every diagram drawn for the pages: name -> (dot source, svg with link placeholders).
    Pages only need the name (they hold placeholders), so the DOT is written and drawn once
    the pages are (while mkdocs builds them), in parallel on large sites."""

    renderer: str = "auto"
    pending: dict[str, Callable[[], str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    items: dict[str, tuple[str, str]] = field(default_factory=dict)

    def svg_for(self, name: str, dot_source: Callable[[], str]) -> None:
        self.pending[name] = dot_source

    def render_all(self) -> None:
        """Write every pending diagram's DOT, then draw them all."""
        self.sources.update((name, source()) for name, source in sorted(self.pending.items()))
        self.pending.clear()
        jobs = [(name, src, self.renderer) for name, src in sorted(self.sources.items())]
        results: list[tuple[str, str | None, str]]
        dots = [src for _name, src, _r in jobs]
        try:
            to_draw = svg.undrawn(dots, self.renderer)
        except svg.RenderError:  # no such renderer: each job reports it
            to_draw = 0
        if to_draw:  # compiled here once, for what is to be drawn; forked workers share it
            svg.prepare(self.renderer, dots)
        if process.can_fork_helpers() and (len(jobs) > PARALLEL_OVER or to_draw >= DRAW_PARALLEL_OVER):
            with process.fork_pool(min(4, os.cpu_count() or 1)) as pool:
                results = list(pool.map(_render, jobs, chunksize=4 if to_draw else 16))
        else:
            results = [_render(job) for job in jobs]
        failed = [(name, err) for name, out, err in results if out is None]
        if failed:  # the renderer failed, not the inputs (names reach it escaped)
            shown = "; ".join(f"{name}: {err}" for name, err in failed[:5])
            raise EnvironmentProblem(f"the SVG renderer failed on {len(failed)} diagram(s): {shown}")
        self.items = {name: (self.sources[name], out) for name, out, _ in results if out is not None}

    def write(self, folder: Path, site_prefix: str = "../site/") -> None:
        for name, (dot_source, raw) in sorted(self.items.items()):
            write_new(folder / f"{name}.dot", dot_source)
            write_new(folder / f"{name}.svg", svg.link(raw, site_prefix))


def load_site_config(site_dir: Path | None, model_name: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(DEFAULT_CONFIG)
    if site_dir is not None and (site_dir / "mkdocs.yml").is_file():
        try:
            loaded = yaml.safe_load((site_dir / "mkdocs.yml").read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError([Problem(str(site_dir / "mkdocs.yml"), 1, 1, f"invalid mkdocs.yml: {exc}",
                                      "threatgraph reads it with a safe loader: no !!python tags")]) from None
        if not isinstance(loaded, dict):
            raise InputError([Problem(str(site_dir / "mkdocs.yml"), 1, 1, "mkdocs.yml must be a mapping")])
        config.update(loaded)
    config.setdefault("site_name", site_pages.plain_title(model_name))
    return config


def write_sources(a: Assessment, src: Path, site_dir: Path | None, renderer: str = "auto",
                  extra: dict[str, Any] | None = None, large: bool | None = None, draw: bool = True,
                  fresh: bool = False) -> Diagrams:
    """Pages, CSS and mkdocs.yml into `src` (a staging folder); returns the diagrams, drawn
    and written beside the pages, or with `draw=False` only their DOT, for the caller to draw
    while mkdocs builds and to put into the built pages (`publish`). `fresh`: `src` is new
    and nothing watches it, so files are written plainly (not compared with what is there,
    nor each through its own temporary file: at 10,000 elements that cost half a second)."""
    put = write_new if fresh else write_if_changed
    diagrams = Diagrams(renderer)
    writer = site_pages.SiteWriter(a, diagrams.svg_for, large)
    pages = page_split.generate(writer)
    if draw:
        diagrams.render_all()
    put(src / site_embed.FRAGMENTS, json_text.compact_bytes(writer.fragments))
    docs = src / "docs"
    hand = site_dir / "docs" if site_dir is not None else None
    nav = list(NAV)
    if hand is not None and hand.is_symlink():
        raise InputError([Problem(str(hand), 1, 1, "the hand-written pages folder is a symlink; it is not published",
                                  "make site/docs a real folder inside the project")])
    if hand is not None and hand.is_dir():
        extra_pages = []
        for path in _regular_files(hand):
            rel = path.relative_to(hand).as_posix()
            if rel in pages or rel in ("threatgraph.css", WORKER_SHIM):
                raise InputError([Problem(str(path), 1, 1, f"hand-written page '{rel}' has the name of a generated page",
                                          "rename it")])
            target = docs / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            if rel.endswith(".md"):
                extra_pages.append(rel)
        if extra_pages:
            nav.append({"About": extra_pages})
    for name, text in pages.items():
        put(docs / name, text)
    for name, (_dot, raw) in diagrams.items.items():
        put(docs / f"diagram-{name}.svg", svg.link(raw, ""))
    put(docs / "threatgraph.css", CSS)
    put(docs / WORKER_SHIM, (Path(__file__).parent / WORKER_SHIM).read_text(encoding="utf-8"))
    config = load_site_config(site_dir, a.model.name)
    _offline(config)
    config.update({"docs_dir": "docs", "use_directory_urls": False, "nav": nav,
                   "extra_css": [*config.get("extra_css", []), "threatgraph.css"],
                   "hooks": [*config.get("hooks", []), site_embed.__file__]})
    if not draw and isinstance(config.get("extra"), dict):
        config["extra"][site_embed.LATER] = True
    config.update(extra or {})
    put(src / "mkdocs.yml", yaml.safe_dump(config, sort_keys=True, allow_unicode=True))
    return diagrams


def _offline(config: dict[str, Any]) -> None:
    """The site works from file:// and asks nothing of the network: material's offline plugin
    (search without a server) and no web fonts."""
    plugins = config.get("plugins") or ["search"]
    names = [p if isinstance(p, str) else next(iter(p)) for p in plugins]
    if "search" not in names:
        plugins = ["search", *plugins]
    if "offline" not in names:
        plugins = [*plugins, "offline"]
    if "panzoom" not in names:  # diagrams pan and zoom in the page (mkdocs-panzoom-plugin, bundled JS)
        # one selector only: the plugin keeps them in a set, whose order would vary with the
        # hash seed and make builds differ
        plugins = [*plugins, {"panzoom": {"include_selectors": [".tg-diagram"], "exclude_selectors": [".d2"],
                                          "mermaid": False, "full_screen": True, "hint_location": "top"}}]
    config["plugins"] = plugins
    extra = config.setdefault("extra", {}) if isinstance(config.get("extra", {}), dict) else {}
    polyfills = extra.get("polyfills", [])
    if WORKER_SHIM not in polyfills:
        extra["polyfills"] = [*polyfills, WORKER_SHIM]
    theme = config.get("theme")
    if isinstance(theme, dict):
        theme["font"] = False


def _regular_files(folder: Path) -> list[Path]:
    """Regular files below `folder`, sorted; symlinks (to files or folders) are never followed,
    so a link cannot publish a file from outside the project."""
    out = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not (Path(here) / d).is_symlink()]
        for name in names:
            path = Path(here) / name
            if not path.is_symlink() and path.is_file():
                out.append(path)
    return sorted(out)


def site_folder(config: Any) -> Path:
    """The project's site folder (mkdocs.yml, hand-written pages), refused when it leads
    outside the project."""
    raw: Path = config.root / config.site
    if raw.is_symlink() or not _inside(raw.resolve(), config.root.resolve()):
        raise InputError([Problem(config.site, 1, 1, "the site folder leads outside the project (a symlink?)",
                                  "keep site/ a real folder inside the project")])
    return raw.resolve()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def write_if_changed(path: Path, text: str | bytes) -> None:
    """Rewrite only what changed, so `mkdocs serve` does not rebuild in a loop."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if path.is_file() and path.read_bytes() == data:
        return
    write_atomic(path, text)
