"""Escaping per output context. Every name, id and description from a model or catalog goes
through one of these before it is written; none is ever interpreted."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:=\"'])")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BREAKS = {"\n": "\\n", "\r": "\\r", "\t": " "}


def visible(text: object) -> str:
    """One line, made safe for a terminal or any single-line context: bidirectional overrides
    and control characters are shown as <U+XXXX>, line breaks as the two characters \\n."""
    s = str(text)
    if s.isprintable():  # fast path (C): no control, line-break or bidi formatting characters
        return s
    s = "".join(_BREAKS.get(ch, ch) for ch in s) if any(ch in s for ch in "\n\r\t") else s
    s = _BIDI.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", s)
    return _CONTROL.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", s)


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
