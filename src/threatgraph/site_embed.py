"""mkdocs hook: put each diagram's SVG inline after Markdown has rendered the page.

Pages carry an empty placeholder `<div class="tg-diagram" data-diagram="NAME"></div>`; the SVG
(`diagram-NAME.svg`, written beside the pages) replaces it here. Markdown never parses the
SVG and the search index never holds it, which keeps the build fast; inline SVG keeps every
node and edge clickable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PLACEHOLDER = re.compile(r'<div class="tg-diagram" data-diagram="([A-Za-z0-9_.-]+)"></div>')


def placeholder(name: str) -> str:
    return f'<div class="tg-diagram" data-diagram="{name}"></div>'


def on_post_page(output: str, page: Any, config: Any, **_: Any) -> str:
    docs = Path(config["docs_dir"])

    def inline(m: re.Match[str]) -> str:
        path = docs / f"diagram-{m.group(1)}.svg"
        svg = path.read_text(encoding="utf-8") if path.is_file() else "<p>(diagram missing)</p>"
        return f'<div class="tg-diagram">{svg}</div>'

    return PLACEHOLDER.sub(inline, output)
