"""The site built in two lanes: mkdocs renders the pages in its child process while this
process draws the diagrams (the slowest of threatgraph's own steps, more so on a first run,
when wasm Graphviz is compiled), then the diagrams go into the built pages. On a machine with
a second core the drawing costs the build no time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from threatgraph.assess import Assessment
from threatgraph.fsutil import write_new
from threatgraph.process import without_collection
from threatgraph.render import svg
from threatgraph.site import embed
from threatgraph.site.mkdocs_build import Mkdocs
from threatgraph.site.sources import Diagrams, write_sources


def publish(a: Assessment, src: Path, out: Path, site_dir: Path | None, renderer: str = "auto",
            mkdocs: Mkdocs | None = None, diagrams_out: Path | None = None,
            meanwhile: Callable[[], None] = lambda: None) -> Diagrams:
    """Sources into `src`, the site into `out` (both staging folders), the diagrams' DOT and
    SVG into `diagrams_out` when given; `meanwhile` is more work for this process while mkdocs
    builds. `mkdocs`: a child already started (its imports done while the model was checked);
    one is started here otherwise."""
    with ExitStack() as stack:
        stack.enter_context(without_collection())  # pages, DOT, SVG and reports make no cycles
        diagrams = write_sources(a, src, site_dir, renderer, draw=False, fresh=True)
        child = mkdocs or stack.enter_context(Mkdocs())
        # Two mkdocs workers share the pages when a second core is free (site.mkdocs_split). A
        # large model's site once kept one, while this process's lane (drawing, writing) was
        # the longer; with its pages written in two processes (site.page_split) it is the shorter.
        child.run(src, out)
        diagrams.render_all()
        if diagrams_out is not None:
            diagrams.write(diagrams_out)
        meanwhile()
        child.wait()
    place(out, diagrams)
    return diagrams


def place(out: Path, diagrams: Diagrams) -> None:
    """Each SVG beside the built pages, and inline where a page holds its placeholder."""
    svgs = {name: svg.link(raw, "") for name, (_dot, raw) in diagrams.items.items()}
    for name, text in sorted(svgs.items()):
        write_new(out / f"diagram-{name}.svg", text)
    for page in sorted(out.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        if 'data-diagram="' in html:
            write_new(page, embed.fill_diagrams(html, svgs.get))
