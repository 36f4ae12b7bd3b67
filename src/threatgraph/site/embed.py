"""mkdocs hook: put generated HTML into pages after Markdown has rendered them.

Pages carry empty placeholders: `<div class="tg-diagram" data-diagram="NAME"></div>` for a
diagram (`diagram-NAME.svg`) and `<div class="tg-table" data-fragment="NAME"></div>` or
`<div class="tg-embed" ...>` for a generated table (one entry of `fragments.json`, written
beside mkdocs.yml, outside the docs). Markdown never parses them, which keeps the build fast.
A `tg-table` goes in before the search index reads the page (it is searchable); a diagram and
a `tg-embed` (a large site's model-sized table) after, so the index never holds them. When
threatgraph draws the diagrams while mkdocs builds (`build`, `site`), it fills their
placeholders in the built pages itself (`fill_diagrams`). Inline SVG keeps every node
clickable. Everything injected was escaped when it was generated."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatgraph.render import json_text

NAME = r'"([A-Za-z0-9_.~-]+)"'
TABLE = re.compile(r'<div class="tg-(table|embed)" data-fragment=' + NAME + r"></div>")
DIAGRAM = re.compile(r'<div class="tg-diagram" data-diagram=' + NAME + r"></div>")
FRAGMENTS = "fragments.json"
LATER = "threatgraph_diagrams_after_build"  # mkdocs.yml extra: leave diagram placeholders


def placeholder(name: str) -> str:
    return f'<div class="tg-diagram" data-diagram="{name}"></div>'


def fragment_placeholder(name: str, searchable: bool = False) -> str:
    return f'<div class="tg-{"table" if searchable else "embed"}" data-fragment="{name}"></div>'


def fill_tables(text: str, tables: dict[str, str], kinds: tuple[str, ...] = ("table", "embed")) -> str:
    """`text` with its table placeholders of the given kinds replaced by the tables."""
    def table(m: re.Match[str]) -> str:
        kind, name = m.group(1), m.group(2)
        return f'<div class="tg-{kind}">{tables.get(name, "<p>(missing)</p>")}</div>' if kind in kinds else m.group()

    return TABLE.sub(table, text)


_loaded: tuple[tuple[str, int, int], dict[str, str]] | None = None


def _fragments(config: Any) -> dict[str, str]:
    """The build's tables, read once per version of the file (`mkdocs serve` rewrites it)."""
    global _loaded
    path = Path(config["config_file_path"]).parent / FRAGMENTS
    try:
        st = path.stat()
    except OSError:
        return {}
    key = (str(path), st.st_mtime_ns, st.st_size)
    if _loaded is None or _loaded[0] != key:
        _loaded = (key, json_text.loads(path.read_bytes()))
    return _loaded[1]


def on_page_content(html: str, page: Any, config: Any, **_: Any) -> str:
    return fill_tables(html, _fragments(config), ("table",))


def fill_diagrams(text: str, svg_of: Callable[[str], str | None]) -> str:
    """`text` with each diagram placeholder replaced by its inline SVG."""
    def diagram(m: re.Match[str]) -> str:
        return f'<div class="tg-diagram">{svg_of(m.group(1)) or "<p>(missing)</p>"}</div>'

    return DIAGRAM.sub(diagram, text)


def on_post_page(output: str, page: Any, config: Any, **_: Any) -> str:
    docs = Path(config["docs_dir"])

    def svg_of(name: str) -> str | None:
        path = docs / f"diagram-{name}.svg"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    output = fill_tables(output, _fragments(config), ("embed",))
    if not (config.get("extra") or {}).get(LATER):  # else threatgraph draws them while mkdocs builds
        output = fill_diagrams(output, svg_of)
    # the pan-and-zoom box carries an inline handler (it only disables the context menu): the
    # site stays free of inline script
    return output.replace(' oncontextmenu="return false;"', "")
