"""One table value. A page builds a `Table` of typed cell parts (text, code, link, badge, ...);
it becomes an HTML fragment injected after Markdown has run (Markdown tables were most of the
site's Markdown time, and thousands of rows of them are slow). Escaping lives here, per part,
so no page builds markup by hand."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from threatgraph.render.escape import flat, html_text
from threatgraph.render.pages import slug


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Emphasis:
    text: str


@dataclass(frozen=True)
class Link:
    kind: str  # threat, mitigation, element, flow, boundary
    ident: str
    label: str | None = None


@dataclass(frozen=True)
class External:
    """A link out of the site (a source line at its pinned commit), shown as inline code."""

    url: str
    text: str


@dataclass(frozen=True)
class Badge:
    """A status badge: CSS colours it, the word stays readable without styles."""

    status: str
    note: str = ""  # a trailing remark, e.g. "gap"


@dataclass(frozen=True)
class Mark:
    """A coloured matrix cell: a short text in the colour of a status, with a tooltip."""

    status: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Anchor:
    """A link target inside a page (a row other pages link to)."""

    prefix: str
    ident: str


Part = Text | Code | Emphasis | Link | External | Badge | Mark | Anchor
Cell = Sequence[Part]  # parts concatenated as they are: spaces are Text parts too
Href = Callable[[str, str, str], str]  # (kind, ident, extension) -> relative target


def badge(status: str) -> str:
    """A status badge as inline HTML (valid in Markdown too: the class and word are plain)."""
    return f'<span class="tg-badge tg-{html_text(status)}">{html_text(status)}</span>'


def _mark(p: Mark) -> str:
    title = f' title="{html_text(flat(p.title))}"' if p.title else ""
    return f'<span class="tg-cell tg-{html_text(p.status)}"{title}>{html_text(flat(p.text))}</span>'


def _text(text: str) -> str:
    """`html_text(flat(text))`, without its four calls for the common case: a printable text
    has no line break and nothing `visible` would change, so only HTML's characters are escaped."""
    return html.escape(text, quote=True) if text.isprintable() else html_text(flat(text))


def _part(p: Part, href: Href) -> str:
    if isinstance(p, Text):
        return _text(p.text)
    if isinstance(p, Link):
        label = p.label if p.label is not None else p.ident
        return f'<a href="{html_text(href(p.kind, p.ident, ".html"))}">{_text(label)}</a>'
    if isinstance(p, Code):
        return f"<code>{_text(p.text)}</code>"
    if isinstance(p, Emphasis):
        return f"<em>{_text(p.text)}</em>"
    if isinstance(p, External):
        return f'<a href="{html_text(p.url)}"><code>{_text(p.text)}</code></a>'
    if isinstance(p, Badge):
        return badge(p.status) + (f" <em>({_text(p.note)})</em>" if p.note else "")
    return _mark(p) if isinstance(p, Mark) else _anchor(p)


def _anchor(p: Anchor) -> str:
    return f'<a id="{p.prefix}-{slug(p.ident)}"></a>'


@dataclass(frozen=True)
class Table:
    headers: tuple[Cell, ...]  # a plain string header is one Text part
    rows: tuple[tuple[Cell, ...], ...]
    groups: tuple[tuple[str, int], ...] = ()  # a header row above: (label, columns spanned), HTML only

    @staticmethod
    def of(headers: Sequence[str | Cell], rows: Sequence[Sequence[Cell]],
           groups: Sequence[tuple[str, int]] = ()) -> Table:
        heads = tuple((Text(h),) if isinstance(h, str) else tuple(h) for h in headers)
        return Table(heads, tuple(tuple(tuple(c) for c in r) for r in rows), tuple(groups))

    def html(self, href: Href, cls: str = "") -> str:
        """An HTML table (a fragment injected after Markdown), wrapped in a `div` of class
        `cls` when one is given; every text escaped for HTML."""
        # A big table repeats its parts thousands of times: each distinct text, link and
        # matrix cell is rendered once, keyed by its fields (hashing the frozen part itself
        # costs more than rendering it).
        texts: dict[str, str] = {}
        keyed: dict[tuple[str, str, str | None], str] = {}

        def part(p: Part) -> str:
            if isinstance(p, Text):
                done = texts.get(p.text)
                if done is None:
                    done = texts[p.text] = _text(p.text)
                return done
            if isinstance(p, Link):
                key = (p.kind, p.ident, p.label)
            elif isinstance(p, Mark):
                key = ("\0mark", p.status + "\0" + p.text, p.title)
            else:
                return _part(p, href)
            done = keyed.get(key)
            if done is None:
                done = keyed[key] = _part(p, href)
            return done

        head = "".join(f"<th>{''.join(part(p) for p in h)}</th>" for h in self.headers)
        if self.groups:
            spans = "".join(f'<th colspan="{n}" class="tg-group">{html_text(flat(label))}</th>' for label, n in self.groups)
            head = f"{spans}</tr>\n<tr>{head}"
        body = "\n".join("<tr>" + "".join(f"<td>{''.join(part(p) for p in c)}</td>" for c in row) + "</tr>"
                         for row in self.rows)
        # a wrapped table carries a class too, so the theme's styles for plain tables leave it alone
        opening = '<table class="tg-grid">' if cls else "<table>"
        table = f"{opening}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
        return f'<div class="{html_text(cls)}">\n{table}</div>\n' if cls else table



def listed(parts: Sequence[Part], separator: str = ", ") -> list[Part]:
    """Parts with a separator between them (a cell listing threats, say)."""
    out: list[Part] = []
    for n, p in enumerate(parts):
        if n:
            out.append(Text(separator))
        out.append(p)
    return out
