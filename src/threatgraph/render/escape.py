"""Escaping per output context. Every name, id and description from a model or catalog goes
through one of these before it is written; none is ever interpreted."""

from __future__ import annotations

import html
import re

from threatgraph.safetext import code_point, reveal

_BREAKS = {"\n": "\\n", "\r": "\\r", "\t": " "}


def _shown(ch: str) -> str:
    return _BREAKS.get(ch) or code_point(ch)


def visible(text: object) -> str:
    """One line, made safe for a terminal or any single-line context: controls (C0 and C1),
    line and paragraph separators, bidirectional, zero-width and tag characters are shown as
    <U+XXXX>, line breaks as the two characters \\n, a tab as a space."""
    return reveal(str(text), _shown)


def flat(text: object) -> str:
    """Line breaks become spaces (for labels and table cells), then `visible`."""
    return visible(str(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " "))


def md(text: object) -> str:
    """Inline Markdown text: special characters backslash-escaped, HTML made inert, one line."""
    s = flat(text)
    s = html.escape(s, quote=True)
    # After html.escape, '&' starts entities; escape the rest of the Markdown syntax.
    return re.sub(r"([\\`*_{}\[\]()#+!|~])", r"\\\1", s)


def md_block(text: object) -> str:
    """A multi-line description: each line escaped, paragraphs kept."""
    return "\n".join(md(line) for line in str(text).splitlines())


def md_code(text: object) -> str:
    """Inline code that cannot be broken out of, whatever backticks it holds."""
    s = flat(text)
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def html_text(text: object) -> str:
    return html.escape(visible(str(text)), quote=True)


# Characters XML 1.0 cannot carry at all, not even as character references (GraphML, XLSX).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text XML can hold: a character it cannot is written as <U+XXXX>."""
    return _NOT_XML.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text) if _NOT_XML.search(text) else text
