"""mkdocs hook: put generated HTML into pages after Markdown has rendered them.

Pages carry empty placeholders: `<div class="tg-diagram" data-diagram="NAME"></div>` for a
diagram (`diagram-NAME.svg`, written beside the pages) and `<div class="tg-embed"
data-fragment="NAME"></div>` for a large generated table (`fragments/NAME.html`, written
beside mkdocs.yml, outside the docs). Markdown never parses them and the search index never
holds them, which keeps large sites fast to build; inline SVG keeps every node clickable.
Everything injected was escaped when it was generated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PLACEHOLDER = re.compile(r'<div class="tg-(diagram|embed)" data-(?:diagram|fragment)="([A-Za-z0-9_.~-]+)"></div>')


def placeholder(name: str) -> str:
    return f'<div class="tg-diagram" data-diagram="{name}"></div>'


def fragment_placeholder(name: str) -> str:
    return f'<div class="tg-embed" data-fragment="{name}"></div>'


def on_post_page(output: str, page: Any, config: Any, **_: Any) -> str:
    docs = Path(config["docs_dir"])
    fragments = Path(config["config_file_path"]).parent / "fragments"

    def inline(m: re.Match[str]) -> str:
        kind, name = m.group(1), m.group(2)
        path = docs / f"diagram-{name}.svg" if kind == "diagram" else fragments / f"{name}.html"
        body = path.read_text(encoding="utf-8") if path.is_file() else "<p>(missing)</p>"
        return f'<div class="tg-{kind}">{body}</div>'

    # the pan-and-zoom box carries an inline handler (it only disables the context menu): the
    # site stays free of inline script
    return PLACEHOLDER.sub(inline, output).replace(' oncontextmenu="return false;"', "")
