"""The docs site's Markdown pages, generated from an Assessment (pure: returns text).

Pages are flat (`threat-T01.md`, `element-agent.md`, ...), so pages and diagrams link with bare
file names. Every model or catalog string goes through `md()` / `md_code()`; page titles are
set in front matter, stripped of markup characters, because the theme prints titles unescaped.

A `Layout` decides where each element and flow is documented. Small models get a page (and a
diagram) per element and per flow. Large models (more than LARGE_ELEMENTS elements or
LARGE_FLOWS flows) keep the site buildable in seconds: elements are sections of their
boundary's page (one diagram per boundary), flows are rows of paged flow tables, threat
diagrams show their targets' neighbourhood, and the coverage matrix counts per boundary.
Every lookup goes through indexes built once, so no page costs time in the model's size.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from itertools import groupby
from urllib.parse import quote

from threatgraph.analysis.completeness import Cell as StrideCell
from threatgraph.assess import SUMMARY_KEY, Assessment, Pair, open_by_risk
from threatgraph.compliance import controls
from threatgraph.compliance import summary as control_summary
from threatgraph.evidence.base import EvidenceResult
from threatgraph.history import utc_day
from threatgraph.model.types import Model
from threatgraph.render import dot
from threatgraph.render.escape import md, md_block, md_code, visible
from threatgraph.render.pages import page, slug
from threatgraph.render.text import as_built_sentence, coverage_sentence, stride_sentence
from threatgraph.site.embed import fragment_placeholder, placeholder
from threatgraph.site.table import (
    Anchor,
    Badge,
    Cell,
    Code,
    Emphasis,
    External,
    Link,
    Mark,
    Part,
    Table,
    Text,
    badge,
    listed,
)
from threatgraph.vocabulary import (
    CLAIMED,
    FRAMEWORKS,
    MITIGATED,
    RISK,
    STATUSES,
    STRIDE,
    leaves_open,
    rated_severity,
    residual_risk,
    shown_status,
    worst_status,
)
from threatgraph.vocabulary import SEVERITIES as SEVERITY_ORDER

SvgFor = Callable[[str, Callable[[], str]], object]  # (diagram name, its DOT when asked): a diagram to draw
LARGE_ELEMENTS, LARGE_FLOWS = 400, 1000
ROWS_PER_PAGE = 500
OUTSIDE = "outside"


def plain_title(text: str) -> str:
    """A title safe to print unescaped: no markup characters, one line, bounded."""
    t = re.sub(r"[<>&\"'`\\{}\[\]]", "", visible(text)).strip()
    return t[:120] or "untitled"


def _front(title: str, wide: bool = False, searchable: bool = True) -> str:
    hide = "hide:\n  - navigation\n  - toc\n" if wide else ""
    search = "" if searchable else "search:\n  exclude: true\n"
    return f"---\ntitle: {json.dumps(plain_title(title), ensure_ascii=False)}\n{hide}{search}---\n\n"


HOME_OPEN = 10  # open pairs listed on the home page
CONTROL_CLASS = {"verified": "mitigated", "claimed": "mitigated-claimed", "partial": "partially-mitigated",
                 "absent": "unmitigated", "drifted": "unmitigated", "not-applicable": "false-positive"}


def _short(title: str, width: int = 60) -> str:
    return title[:width] + ("…" if len(title) > width else "")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _status(status: str) -> str:
    """A coloured badge (CSS classes only; the text stays readable without styles)."""
    return badge(status)


class Layout:
    """Where each thing is documented, and how a generated table is written. Two strategies:
    SmallLayout (a page per element and flow, every table searchable) and LargeLayout
    (elements as sections of their boundary's page, paged flow tables, model-sized tables kept
    out of the search index)."""

    large = False

    def __init__(self, a: Assessment):
        self.boundary_of = {e: (x.boundaries[0] if x.boundaries else OUTSIDE) for e, x in a.model.elements.items()}
        self.fragments: dict[str, str] = {}
        self.fragment_series = "t"  # fragment names: t1, t2, ... (site.page_split's helper has its own)

    def target(self, kind: str, ident: str, ext: str = ".md") -> str:
        return f"{page(kind, ident)}{ext}"

    def href(self, kind: str, ident: str) -> str:
        return self.target(kind, ident, ".html")

    def table(self, t: Table) -> list[str]:
        """A table that grows with the model: in the search index on small sites."""
        return self.fragment(t, searchable=True)

    def fragment(self, t: Table, cls: str = "", searchable: bool = False) -> list[str]:
        """A table written as HTML, never parsed by Markdown (Markdown tables were two thirds of
        the site's Markdown time): a placeholder now, the HTML once Markdown has run, before the
        search index reads the page when `searchable`, after it otherwise (large tables, and
        matrices, whose sticky headers need a class Markdown cannot give)."""
        name = f"{self.fragment_series}{len(self.fragments) + 1}"
        self.fragments[name] = t.html(self.target, cls)
        return [fragment_placeholder(name, searchable), ""]

    def detail_pages(self, w: SiteWriter) -> dict[str, str]:
        raise NotImplementedError

    def matrix(self, w: SiteWriter) -> str:
        raise NotImplementedError


class SmallLayout(Layout):
    def detail_pages(self, w: SiteWriter) -> dict[str, str]:
        m = w.a.model
        pages = {"flows.md": w.flow_table("Flows", sorted(m.flows), anchors=False)}
        for eid in m.elements:
            pages[page("element", eid) + ".md"] = w.element_page(eid)
        for fid in m.flows:
            pages[page("flow", fid) + ".md"] = w.flow_page(fid)
        return pages

    def matrix(self, w: SiteWriter) -> str:
        return w.matrix_by_target()


class LargeLayout(Layout):
    large = True

    def __init__(self, a: Assessment):
        super().__init__(a)
        m = a.model
        self.flow_page = {fid: f"flows-{i // ROWS_PER_PAGE + 1}" for i, fid in enumerate(sorted(m.flows))}
        loose = sorted(e for e, x in m.elements.items() if not x.boundaries)
        self.outside_page = {eid: f"{OUTSIDE}-{i // ROWS_PER_PAGE + 1}" for i, eid in enumerate(loose)}

    def target(self, kind: str, ident: str, ext: str = ".md") -> str:
        if kind in ("threat", "mitigation", "boundary"):
            return f"{page(kind, ident)}{ext}"
        if kind == "flow":
            return f"{self.flow_page[ident]}{ext}#f-{slug(ident)}"
        return f"{self.home(ident)}{ext}#e-{slug(ident)}"

    def home(self, eid: str) -> str:
        """The page an element lives on."""
        return self.outside_page.get(eid) or page("boundary", self.boundary_of[eid])

    def table(self, t: Table) -> list[str]:
        """A large generated table, kept out of the search index."""
        return self.fragment(t)

    def detail_pages(self, w: SiteWriter) -> dict[str, str]:
        pages = {}
        for name, fids in _chunks(self.flow_page).items():
            pages[name + ".md"] = w.flow_table(f"Flows ({name})", fids, anchors=True)
        pages["flows.md"] = w.flow_index(_chunks(self.flow_page))
        for name, eids in _chunks(self.outside_page).items():
            pages[name + ".md"] = w.outside_page(name, eids)
        return pages

    def matrix(self, w: SiteWriter) -> str:
        return w.matrix_by_boundary()


def is_large(model: Model) -> bool:
    """Whether a model gets the large layout (elements on their boundary's page)."""
    return len(model.elements) > LARGE_ELEMENTS or len(model.flows) > LARGE_FLOWS


def choose_layout(a: Assessment, large: bool | None = None) -> Layout:
    return LargeLayout(a) if (is_large(a.model) if large is None else large) else SmallLayout(a)


def _chunks(mapping: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for ident, name in sorted(mapping.items()):
        out[name].append(ident)
    return dict(out)


class SiteWriter:
    def __init__(self, a: Assessment, svg_for: SvgFor, large: bool | None = None):
        self.a = a
        self.svg_for = svg_for
        self.layout = choose_layout(a, large)
        self.fragments = self.layout.fragments
        self.ctx = dot.Context(a, self.layout.href)
        self.status = self.ctx.status
        self.addressed: dict[str, list[str]] = {mid: [] for mid in a.catalog.mitigations}
        for tid, t in a.catalog.threats.items():
            for ref in t.mitigations:
                self.addressed[ref.id].append(tid)
        self.flows_out: dict[str, list[str]] = defaultdict(list)
        self.flows_in: dict[str, list[str]] = defaultdict(list)
        self.crossing: dict[str, list[str]] = defaultdict(list)
        for fid, f in sorted(a.model.flows.items()):
            self.flows_out[f.source].append(fid)
            self.flows_in[f.sink].append(fid)
            for b in f.crosses:
                self.crossing[b].append(fid)
        self.inside: dict[str, list[str]] = defaultdict(list)
        for eid, e in sorted(a.model.elements.items()):
            for b in e.boundaries:
                self.inside[b].append(eid)

    # --- links -------------------------------------------------------------------------------
    def link(self, kind: str, ident: str, label: str | None = None) -> str:
        return f"[{md(label if label is not None else ident)}]({self.layout.target(kind, ident)})"

    def target_link(self, ident: str) -> str:
        return self.link(self.kind_of(ident), ident)

    def kind_of(self, ident: str) -> str:
        m = self.a.model
        return "flow" if ident in m.flows else "boundary" if ident in m.boundaries else "element"

    def to(self, ident: str, label: str | None = None) -> Link:
        """A table link to a flow, element or boundary, whichever `ident` names."""
        return Link(self.kind_of(ident), ident, label)

    def figure(self, name: str, source: Callable[[], str]) -> str:
        """A placeholder filled with the SVG once Markdown has run, and a link to the SVG alone
        (HTML, as the SVG may be drawn while mkdocs builds: mkdocs need not find it). The DOT
        is written when the diagram is drawn (`source`), not before mkdocs can start."""
        self.svg_for(name, source)
        return placeholder(name) + f'\n\n<p><a href="diagram-{name}.svg">Open the diagram full size</a></p>\n'


    # --- pages -------------------------------------------------------------------------------
    def generate(self) -> dict[str, str]:
        """Every page by file name, in one pass (`site.page_split.generate` may use two)."""
        pages: dict[str, str] = {}
        for _name, job in self.jobs():
            pages.update(job())
        return pages

    def jobs(self) -> list[tuple[str, Callable[[], dict[str, str]]]]:
        """Every page as a job that returns the pages it writes, in site order. Jobs share only
        what they add to (the table fragments, the diagrams), so they may run in two processes
        (`site.page_split`)."""
        a, m, c = self.a, self.a.model, self.a.catalog

        def one(name: str, make: Callable[[], str]) -> tuple[str, Callable[[], dict[str, str]]]:
            return name, lambda: {name: make()}

        def each(name: str, make: Callable[[], dict[str, str]]) -> tuple[str, Callable[[], dict[str, str]]]:
            return name, make

        def threats_md() -> str:
            threats = sorted(c.threats.items(), key=lambda kv: (-SEVERITY_ORDER.index(kv[1].severity), kv[0]))
            return self.listing("Threats", "# Threats", Table.of(
                ["threat", "severity", "STRIDE", *STATUSES],
                [[[Link("threat", tid), Text(" " + t.title)], [Text(t.severity)], [Text(", ".join(t.stride))],
                  *([Text(str(a.by_threat[tid][st]))] if a.by_threat[tid][st] else [] for st in STATUSES)]
                 for tid, t in threats]))

        def mitigations_md() -> str:
            return self.listing("Mitigations", "# Mitigations", Table.of(
                ["mitigation", "declared", "evidence", "threats"],
                [[[Link("mitigation", mid), Text(" " + mit.title),
                   *([Emphasis("drift")] if a.mitigation_states[mid].drift else [])],
                  [Text(mit.status)], [Badge(a.mitigation_states[mid].evidence_state)],
                  listed([Link("threat", t) for t in self.addressed[mid]])]
                 for mid, mit in c.mitigations.items()]))

        def elements_md() -> str:
            return self.listing("Elements", "# Elements", Table.of(
                ["element", "kind", "boundary", "coverage"],
                [[[Link("element", eid), Text(" " + e.name)], [Text(e.kind)],
                  [Link("boundary", e.boundaries[0])] if e.boundaries else [],
                  [Badge(self.status.get(eid, "none"))]] for eid, e in m.elements.items()]),
                searchable=not self.layout.large, generated=True)

        def boundaries_md() -> str:
            return self.listing("Boundaries", "# Trust boundaries", Table.of(
                ["boundary", "inside", "elements"],
                [[[Link("boundary", bid), Text(" " + zone.name)], [Link("boundary", zone.parent)] if zone.parent else [],
                  [Text(str(len(self.inside[bid])))]] for bid, zone in m.boundaries.items()]), generated=False)

        return [one("index.md", self.overview), one("threats.md", threats_md),
                each("threat pages", lambda: {page("threat", tid) + ".md": self.threat_page(tid) for tid in c.threats}),
                one("mitigations.md", mitigations_md),
                each("mitigation pages",
                     lambda: {page("mitigation", mid) + ".md": self.mitigation_page(mid) for mid in c.mitigations}),
                one("elements.md", elements_md), each("detail pages", lambda: self.layout.detail_pages(self)),
                one("boundaries.md", boundaries_md),
                each("boundary pages", lambda: {page("boundary", bid) + ".md": self.boundary_page(bid)
                                                for bid in m.boundaries}),
                one("matrix.md", lambda: self.layout.matrix(self)), one("stride.md", self.stride),
                one("evidence.md", self.evidence), one("decisions.md", self.decisions), one("report.md", self.report),
                one("compliance.md", self.compliance), one("data.md", self.data), one("paths.md", self.paths)]

    def listing(self, title: str, heading: str, t: Table, searchable: bool = True, generated: bool = False) -> str:
        """An index page: front matter, heading, one table (kept out of the search index on large
        sites when `generated` says the table grows with the model)."""
        lines = self.layout.table(t) if generated else self.indexed(t)
        return "\n".join([_front(title, searchable=searchable), heading + "\n", *lines])

    def indexed(self, t: Table) -> list[str]:
        """A table in the search index in every layout (catalog-sized, not model-sized)."""
        return self.layout.fragment(t, searchable=True)

    def overview(self) -> str:
        a, m, c, s = self.a, self.a.model, self.a.catalog, self.a.summary
        out = [_front(m.name, wide=True), f"# {md(m.name)}\n", md_block(m.description) + "\n" if m.description else ""]
        verdict = "passed" if a.passed else f"failed ({len(a.violations)} violations)"
        source = md(a.source_label) if a.source_label else "unverified (no source given)"
        out.append(f"**Policy {verdict}.** Coverage of {s['pairs']} (threat, target) pairs over {s['threats']} "
                   f"threats: **{md(coverage_sentence(a))}**. Evidence: {source}.\n")
        if not a.source_label:
            out.append('!!! warning "Nothing on this site was verified against the source"\n'
                       "    Every mitigated pair rests on the catalog's declarations alone (shown as *claimed*). "
                       "Build with `--source` (and `--source-ref`) to check each mitigation's evidence.\n")
        out += self.status_counts()
        out.append(f"{len(m.elements)} [elements](elements.md) · {len(m.flows)} [flows](flows.md) · "
                   f"{len(m.boundaries)} [boundaries](boundaries.md) · {len(c.threats)} [threats](threats.md) · "
                   f"{len(c.mitigations)} [mitigations](mitigations.md) · [coverage matrix](matrix.md) · "
                   f"[attack paths](paths.md) · [STRIDE per element](stride.md) · [evidence](evidence.md) · "
                   f"[decisions](decisions.md) · [compliance](compliance.md)\n")
        open_pairs = self.open_pairs()
        if open_pairs:
            out.append(f"## Most risk left open\n\nThe {min(len(open_pairs), HOME_OPEN)} of {len(open_pairs)} open pairs "
                       "with the most residual risk; each threat's page shows the controls and where their evidence "
                       "holds in the source.\n")
            out += self.open_pairs_table(open_pairs[:HOME_OPEN])
        out.append("[Audit report](report.md): the verdict, every open pair, the decisions and the diagram on "
                   "one printable page.\n")
        out.append("## Data-flow diagram\n")
        out.append(self.overview_figure())
        if a.violations:
            out.append("## Policy violations\n")
            out += [f"- {md(v)}" for v in a.violations[:200]]
            if len(a.violations) > 200:
                out.append(f"- ... and {len(a.violations) - 200} more (see the reports)")
            out.append("")
        return "\n".join(out)

    def status_counts(self) -> list[str]:
        """Pairs by status, mitigated split by what it rests on: a claim is never shown as proof."""
        s = self.a.summary
        out = [_row(["status", "pairs"]), _row(["---", "---:"])]
        for st in STATUSES:
            if st == MITIGATED:
                out.append(_row([_status(MITIGATED) + " verified", str(s["mitigated_verified"])]))
                out.append(_row([_status(CLAIMED) + " claimed only", str(s["mitigated_claimed"])]))
            else:
                out.append(_row([_status(st), str(s[SUMMARY_KEY[st]])]))
        return [*out, ""]

    def overview_figure(self) -> str:
        a = self.a
        out = []
        if self.layout.large:
            omitted = dot.summary_omitted(a)
            out.append("Each top-level boundary is drawn as one node (open its page for its inside); edges count the "
                       "flows between them" + (f"; the {omitted} lightest of the boundary pairs are not drawn" if omitted
                                                else "") + ".\n")
            out.append(self.figure("overview", partial(dot.summary, a, self.ctx)))
        else:
            out.append(self.figure("overview", partial(dot.dfd, a, collapse_over=25, name="overview", ctx=self.ctx)))
        return "\n".join(out)

    def report(self) -> str:
        """One printable page an auditor can file: the verdict and what it rests on, coverage by
        severity and STRIDE, every open pair with its reason, the decisions and their expiries,
        what drifted, and the overview diagram. Print it (or save it as PDF) from the browser."""
        from threatgraph import __version__

        a, m = self.a, self.a.model
        verdict = "passed" if a.passed else f"failed ({len(a.violations)} violations)"
        source = (f"Evidence checked against {md(a.source_label)}" if a.source_label else
                  "**Unverified**: no source was given, so every mitigated pair is a claim")
        out = [_front(f"Audit report: {m.name}"), f"# Audit report: {md(m.name)}\n",
               f"{source}; threatgraph {__version__}. **Policy {verdict}.**\n",
               "## Summary\n",
               f"- {md(coverage_sentence(a))}", f"- {md(stride_sentence(a))}", f"- {md(as_built_sentence(a))}",
               f"- {len(a.drift)} mitigations drifted (declared, but their evidence no longer holds)" if a.drift else
               "- no mitigation drifted", "", *self.status_counts(),
               "## Coverage by severity\n", *self.severity_summary(),
               "## Coverage by STRIDE category\n", *self.stride_summary()]
        open_pairs = self.open_pairs()
        out.append(f"## Open pairs ({len(open_pairs)})\n")
        out.append("Unmitigated, expired and partially mitigated pairs, the most residual risk first, each with why "
                   "it has its status.\n" if open_pairs else "None.\n")
        if open_pairs:
            out += self.open_pairs_table(open_pairs)
        out.append(f"## Decisions ({len(a.catalog.decisions)})\n")
        out += self.decision_rows() if a.catalog.decisions else ["No decisions recorded.\n"]
        if a.drift or a.stale:
            out.append("## Drift and stale model\n")
            out += [f"- mitigation {self.link('mitigation', d)} is declared but its evidence no longer holds" for d in a.drift]
            out += [f"- {self.target_link(t)} no longer exists as modelled in the source" for t in a.stale]
            out.append("")
        out += ["## Data-flow diagram\n", self.overview_figure()]
        return "\n".join(out) + "\n"

    def compliance(self) -> str:
        """Coverage per framework control: each control's state (as covered as the least of the
        mitigations that implement it) and those mitigations with theirs."""
        rows = controls(self.a)
        out = [_front("Compliance"), "# Compliance\n"]
        if not rows:
            return "\n".join(out) + ("\nNo mitigation maps to a framework control. A mitigation lists the controls it "
                                     "implements under `compliance:` (frameworks: "
                                     + ", ".join(md_code(f) for f in FRAMEWORKS) + ").\n")
        out.append("A control is as covered as the least of the mitigations that implement it (one that some hold "
                   "and others lack is *partial*): **verified** when their evidence passes against the source, "
                   "*claimed* when nothing was checked, *drifted* when evidence stopped holding.\n")
        for framework, counts in control_summary(rows).items():
            out.append(f"## {md(FRAMEWORKS[framework])}\n")
            out.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".\n")
            out += self.indexed(Table.of(["control", "state", "mitigations"], [
                [[Code(r.control)], [Mark(CONTROL_CLASS[r.state], r.state)],
                 listed([Link("mitigation", mid, f"{mid} ({state})") for mid, state in r.mitigations])]
                for r in rows if r.framework == framework]))
        return "\n".join(out) + "\n"

    def open_pairs(self) -> list[Pair]:
        """Unmitigated, expired and partial pairs, the most residual risk first."""
        return open_by_risk(self.a.pairs)

    def open_pairs_table(self, pairs: list[Pair]) -> list[str]:
        a = self.a
        return self.layout.table(Table.of(["threat", "target", "severity", "status", "why"], [
            [[Link("threat", p.threat), Text(" " + _short(a.catalog.threats[p.threat].title))], [self.to(p.target.id)],
             [Text(p.severity)], [Badge(p.status)], [Text(p.reason)]] for p in pairs]))

    def stride_summary(self) -> list[str]:
        """Pairs by STRIDE category (a pair counts under each of its threat's categories) and status."""
        shown = [st for s in STATUSES for st in ((s, CLAIMED) if s == MITIGATED else (s,))]
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for p in self.a.pairs:
            for category in self.a.catalog.threats[p.threat].stride:
                counts[(category, shown_status(p.status, p.basis))] += 1
        rows: list[list[Cell]] = [
            [[Text(c.replace("_", " "))], *([Mark(st, str(counts[(c, st)]))] if counts[(c, st)] else [Text("")]
                                            for st in shown)]
            for c in STRIDE if any(counts[(c, st)] for st in shown)]
        return self.indexed(Table.of(["STRIDE category", *shown], rows))

    def pairs_table(self, pairs: list[Pair], by: str) -> list[str]:
        a = self.a
        rows: list[list[Cell]] = []
        for p in pairs:
            first: list[Part] = [Link("threat", p.threat), Text(" " + a.catalog.threats[p.threat].title)] \
                if by == "threat" else [self.to(p.target.id)]
            mits: list[Part] = []
            for mid in p.mitigations:
                mits += [*([Text(", ")] if mits else []), Link("mitigation", mid),
                         Text(f" ({a.mitigation_states[mid].declared})")]
            dec: list[Part] = []
            if p.decision is not None:
                d = a.catalog.decisions[p.decision]
                dec = [Text(f"{d.decision} by {d.owner or '?'}" + (f", expires {d.expires}" if d.expires else ""))]
            rows.append([first, [Text(p.severity)], [Badge(p.status)], mits, dec])
        return self.layout.table(Table.of([by, "severity", "status", "mitigations", "decision"], rows))

    def threat_page(self, tid: str) -> str:
        from threatgraph.selectors import describe

        a = self.a
        t = a.catalog.threats[tid]
        w = a.catalog.locations.threat(tid)
        out = [_front(f"{tid} {t.title}"), f"# {md(tid)}: {md(t.title)}\n",
               f"**Severity** {t.severity}" + (f" · likelihood {t.likelihood}" if t.likelihood else "")
               + (f" · impact {t.impact}" if t.impact else "")
               + (f" (rated {rated}{', differs from the declared severity' if rated != t.severity else ''})"
                  if (rated := rated_severity(t.likelihood, t.impact)) else "") + f" · **STRIDE** {', '.join(t.stride)} · "
               f"declared in {md_code(f'{w.file}:{w.line}')}\n"]
        if t.description:
            out.append(md_block(t.description) + "\n")
        refs = t.references
        bits = [f"[{r}]({url})" for r, url in refs.linked()]
        bits += [md(n) for n in refs.notes]
        if bits:
            out.append("**References** " + " · ".join(bits) + "\n")
        out.append("## Where it lands\n")
        for item in t.applies_to:
            what, sel = next(iter(item.items()))
            out.append(f"- {what}: {md_code(describe(sel))}")
        out.append("")
        pairs = a.pairs_of_threat(tid)
        cap = 200 if self.layout.large else len(pairs)  # a large site lists the rest in coverage.json
        out += self.pairs_table(pairs[:cap], "target")
        if len(pairs) > cap:
            out.append(f"\n{len(pairs) - cap} more targets: see `coverage.json` or `threatgraph explain {md(tid)}`.")
        out.append("\n## Mitigations\n")
        if not t.mitigations:
            out.append("None declared.\n")
        for ref in t.mitigations:
            st = a.mitigation_states[ref.id]
            only = f" (only on {', '.join(md_code(x) for x in ref.targets)})" if ref.targets else ""
            out.append(f"- {self.link('mitigation', ref.id)} {md(a.catalog.mitigations[ref.id].title)}: declared "
                       f"{st.declared}, evidence {_status(st.evidence_state)}{' — **drift**' if st.drift else ''}{only}")
        out.append("\n## Diagram\n")
        name = page("threat", tid)
        focus = dot.threat_focus(a, tid, self.ctx)
        nodes = [n for n in (focus.include or ()) if n in a.model.elements]
        if self.layout.large and len(nodes) > 60:
            out.append(f"{len(nodes)} elements are involved: the diagram groups them by the boundary they sit in.\n")
            out.append(self.figure(name, partial(dot.summary, a, self.ctx, subset=nodes, group="innermost",
                                                     highlight=focus.highlight, title=f"Threat {tid}")))
        else:
            out.append(self.figure(name, partial(dot.dfd, a, focus, name="threat", ctx=self.ctx)))
        return "\n".join(out)

    def mitigation_page(self, mid: str) -> str:
        a = self.a
        mit = a.catalog.mitigations[mid]
        st = a.mitigation_states[mid]
        w = a.catalog.locations.mitigation(mid)
        out = [_front(f"{mid} {mit.title}"), f"# {md(mid)}: {md(mit.title)}\n",
               f"**Declared** {mit.status} · **type** {mit.type} · **evidence** {_status(st.evidence_state)} · "
               f"declared in {md_code(f'{w.file}:{w.line}')}\n"]
        if st.drift:
            out.append(f"!!! danger \"Drift\"\n    {md(st.note)}\n")
        elif st.note:
            out.append(f"!!! note \"Evidence\"\n    {md(st.note)}\n")
        if mit.description:
            out.append(md_block(mit.description) + "\n")
        mapped = mit.compliance.by_framework()
        if mapped:
            out.append("**Implements** " + "; ".join(f"{md(FRAMEWORKS[f])}: " + ", ".join(md_code(c) for c in ids)
                                                     for f, ids in mapped.items()) + " ([compliance](compliance.md))\n")
        out.append("## Evidence\n")
        if not st.evidence:
            out.append("No machine-checkable evidence declared.\n")
        else:
            out += self.indexed(Table.of(["result", "proves", "where", "detail"], [
                [self.evidence_badge(r), [Text(r.proves)], self.evidence_where(r), [Text(r.detail)]]
                for r in st.evidence]))
        timeline = next((t for t in a.history.timelines if t.mitigation == mid), None) if a.history else None
        if timeline is not None:
            out.append(f"## Timeline over {md_code(a.history.range)}\n" if a.history else "")
            start = "holds" if timeline.holds_at_start else "does not hold"
            out.append(f"At the start of the range the control {start}."
                       + (" Flagged **brittle**: it flips more often than a real control does." if timeline.brittle else "")
                       + "\n")
            if timeline.flips:
                out += [_row(["commit", "date", "change", "subject"]), _row(["---"] * 4)]
                out += [_row([self.commit_link(f.commit.sha), utc_day(f.commit.date),
                              "holds again" if f.holds else "**stopped holding**", md(f.commit.subject)])
                        for f in timeline.flips]
                out.append("")
            else:
                out.append("No change over the range.\n")
        out.append("## Addresses\n")
        for tid in self.addressed[mid]:
            t = a.catalog.threats[tid]
            targets = [p.target.id for p in a.pairs_of_threat(tid) if mid in p.mitigations]
            shown = ", ".join(self.target_link(x) for x in targets[:50]) + (f" and {len(targets) - 50} more"
                                                                         if len(targets) > 50 else "")
            out.append(f"- {self.link('threat', tid)} {md(t.title)} ({t.severity}) on {shown or 'no target'}")
        return "\n".join(out) + "\n"

    def flows_list(self, flows: list[str]) -> list[str]:
        if not flows:
            return []
        m = self.a.model
        return self.layout.table(Table.of(["flow", "from", "to"], [
            [[Link("flow", fid), Text(" " + m.flows[fid].name)], [self.to(m.flows[fid].source)],
             [self.to(m.flows[fid].sink)]] for fid in flows]))

    def evidence_where(self, r: EvidenceResult) -> list[Part]:
        """Where an item matched or failed: a link to that line at the pinned commit when the
        project gives a source_url template, else the location as code."""
        if not r.where:
            return []
        a = self.a
        if a.source_url and a.source_commit and r.file and r.line and not any(ch in r.file for ch in "*?["):
            url = a.source_url.format(commit=quote(a.source_commit), path=quote(r.file), line=r.line)
            return [External(url, r.where)]
        return [Code(r.where)]

    @staticmethod
    def evidence_badge(r: EvidenceResult) -> list[Part]:
        """A gap item (the missing part of a control) failing is the expected, consistent state:
        shown as a confirmed gap, not as a failure; passing, it says the catalog is behind."""
        if r.gap and r.result == "fail":
            return [Badge("gap-confirmed")]
        if r.gap and r.result == "pass":
            return [Badge("gap-closed", note="the catalog is out of date")]
        return [Badge(r.result)]

    def as_built(self, ident: str, heading: str) -> list[str]:
        """The evidence that the element or flow exists in the source, when the model gives it."""
        results = self.a.model_evidence.get(ident)
        if not results:
            return []
        state = "**stale**: the model no longer matches the source here" if ident in self.a.stale else (
            "holds" if self.a.source_label else "unverified (no source given)")
        rows: list[list[Cell]] = [[self.evidence_badge(r), [Text(r.proves)], self.evidence_where(r),
                                   [Text(r.detail)]] for r in results]
        return [f"\n{heading} Exists in the source\n", f"Its own evidence {state}.\n",
                *self.indexed(Table.of(["result", "proves", "where", "detail"], rows))]

    def element_section(self, eid: str, heading: str = "#") -> list[str]:
        a, e = self.a, self.a.model.elements[eid]
        out = [f"{heading} {md(e.name)}\n", f"**Kind** {e.kind} · **id** {md_code(eid)}"
               + (f" · declared in {md_code(f'{e.location.file}:{e.location.line}')}" if e.location else "") + "\n"]
        if e.boundaries:
            out.append("**Inside** " + " ⊂ ".join(self.link("boundary", b) for b in e.boundaries) + "\n")
        if e.description:
            out.append(md_block(e.description) + "\n")
        if e.data:
            out.append("**Holds** " + ", ".join(md(a.model.data[d].name) for d in e.data) + "\n")
        out.append(f"{heading}# Threats\n")
        pairs = a.pairs_on(eid)
        out += self.pairs_table(pairs, "threat") if pairs else ["No threat lands on this element."]
        out.append(f"\n{heading}# Flows out\n")
        out += self.flows_list(self.flows_out[eid]) or ["None."]
        out.append(f"\n{heading}# Flows in\n")
        out += self.flows_list(self.flows_in[eid]) or ["None."]
        out += self.as_built(eid, heading + "#")
        return out

    def element_page(self, eid: str) -> str:
        e = self.a.model.elements[eid]
        out = [_front(e.name), *self.element_section(eid), "\n## Neighbourhood\n"]
        focus = dot.Focus(dot.neighbourhood(self.a, [eid], self.ctx), frozenset({eid}), e.name)
        out.append(self.figure(page("element", eid), partial(dot.dfd, self.a, focus, name="element", ctx=self.ctx)))
        return "\n".join(out)

    def flow_page(self, fid: str) -> str:
        a, f = self.a, self.a.model.flows[fid]
        data = ", ".join(f"{md(a.model.data[d].name)} ({a.model.data[d].classification})" for d in f.data) or "—"
        out = [_front(f.name), f"# {md(f.name)}\n",
               f"{self.target_link(f.source)} → {self.target_link(f.sink)} · **id** {md_code(fid)}"
               + (" · **attack edge**: a flow the design exists to block" if f.attack else "") + "\n",
               _row(["protocol", "port", "encrypted", "authenticated", "data"]), _row(["---"] * 5),
               _row([md(f.protocol) or "—", str(f.port) if f.port is not None else "—", "yes" if f.encrypted else "no",
                     "yes" if f.authenticated else "no", data]), ""]
        if f.crosses:
            out.append("**Crosses** " + ", ".join(self.link("boundary", b) for b in f.crosses) + "\n")
        if f.description:
            out.append(md_block(f.description) + "\n")
        out.append("## Threats\n")
        pairs = a.pairs_on(fid)
        out += self.pairs_table(pairs, "threat") if pairs else ["No threat lands on this flow."]
        out += self.as_built(fid, "##")
        out.append("\n## Diagram\n")
        ids = frozenset({fid, f.source, f.sink})
        out.append(self.figure(page("flow", fid), partial(dot.dfd, a, dot.Focus(ids, ids, f.name), name="flow", ctx=self.ctx)))
        return "\n".join(out)

    def outside_page(self, name: str, eids: list[str]) -> str:
        out = [_front(f"Elements outside every boundary ({name})", searchable=False), "# Elements outside every boundary\n",
               *self.element_rows(eids)]
        return "\n".join(out) + "\n"

    def flow_table(self, title: str, fids: list[str], anchors: bool) -> str:
        m = self.a.model
        rows: list[list[Cell]] = []
        for fid in fids:
            f = m.flows[fid]
            first: list[Part] = [Anchor("f", fid), Text(f.name + " "), Code(fid)] if anchors else \
                [Link("flow", fid), Text(" " + f.name)]
            rows.append([first + ([Text(" "), Emphasis("(attack edge)")] if f.attack else []),
                         [self.to(f.source)], [self.to(f.sink)],
                         [Text(f.protocol + (f":{f.port}" if f.port is not None else ""))],
                         listed([Link("boundary", b) for b in f.crosses]), [Badge(self.status.get(fid, "none"))],
                         listed([Link("threat", p.threat) for p in self.a.pairs_on(fid)[:20]])])
        t = Table.of(["flow", "from", "to", "protocol", "crosses", "coverage", "threats"], rows)
        return "\n".join([_front(title, searchable=not anchors), f"# {md(title)}\n", *self.layout.table(t)]) + "\n"

    def flow_index(self, chunks: dict[str, list[str]]) -> str:
        out = [_front("Flows"), "# Flows\n", f"{len(self.a.model.flows)} flows, {ROWS_PER_PAGE} per page:\n"]
        out += [f"- [{name}]({name}.md): {md(fids[0])} … {md(fids[-1])}" for name, fids in chunks.items()]
        return "\n".join(out) + "\n"

    def boundary_page(self, bid: str) -> str:
        a, m = self.a, self.a.model
        b = m.boundaries[bid]
        out = [_front(b.name), f"# {md(b.name)}\n", f"**id** {md_code(bid)}"
               + (f" · inside {self.link('boundary', b.parent)}" if b.parent else "") + "\n"]
        if b.description:
            out.append(md_block(b.description) + "\n")
        kids = self.ctx.kids.get(bid, [])
        if kids:
            out.append("**Contains** " + ", ".join(self.link("boundary", k) for k in kids) + "\n")
        inside = self.inside[bid]
        own = self.ctx.members.get(bid, [])
        out.append("## Elements inside\n")
        if inside:
            out += self.layout.table(Table.of(["element", "kind"], [
                [[Link("element", e), Text(" " + m.elements[e].name)], [Text(m.elements[e].kind)]]
                for e in inside[:ROWS_PER_PAGE]]))
        else:
            out.append("None.")
        if len(inside) > ROWS_PER_PAGE:
            out.append(f"... and {len(inside) - ROWS_PER_PAGE} more in the nested boundaries\n")
        crossing = self.crossing[bid]
        out.append("\n## Flows crossing it\n")
        out += self.flows_list(crossing[:ROWS_PER_PAGE]) or ["None."]
        if len(crossing) > ROWS_PER_PAGE:
            out.append(f"... and {len(crossing) - ROWS_PER_PAGE} more (see the flow tables)\n")
        pairs = a.pairs_on(bid)
        if pairs:
            out.append("\n## Threats\n")
            out += self.pairs_table(pairs, "threat")
        out.append("\n## Diagram\n")
        if self.layout.large:  # its own elements and the flows among them; the rest is in the tables
            focus = dot.Focus(frozenset(own), frozenset(own) | {bid}, b.name)
        else:
            focus = dot.Focus(dot.neighbourhood(a, inside, self.ctx) if inside else frozenset(),
                              frozenset(inside) | {bid}, b.name)
        out.append(self.figure(page("boundary", bid), partial(dot.dfd, a, focus, name="boundary", ctx=self.ctx)))
        if self.layout.large and own:
            out.append("\n## Elements\n")
            out += self.element_rows(own)
        return "\n".join(out)

    def element_rows(self, eids: list[str]) -> list[str]:
        """Large layout: one table row per element (anchor, kind, coverage, threats, flows)."""
        a, m = self.a, self.a.model
        rows: list[list[Cell]] = []
        for eid in eids:
            e = m.elements[eid]
            pairs = a.pairs_on(eid)
            threats = listed([Link("threat", p.threat) for p in pairs[:5]]) + (
                [Text(f" +{len(pairs) - 5}")] if len(pairs) > 5 else [])
            rows.append([[Anchor("e", eid), Text(e.name + " "), Code(eid)], [Text(e.kind)],
                         [Badge(self.status.get(eid, "none"))], threats,
                         [Text(str(len(self.flows_out[eid])))], [Text(str(len(self.flows_in[eid])))]])
        return self.layout.table(Table.of(["element", "kind", "coverage", "threats", "flows out", "flows in"], rows))

    def _legend(self) -> str:
        return " · ".join(_status(s) for s in STATUSES)

    def zone_of(self, target_id: str) -> str:
        """The boundary a target sits in: an element's innermost, a flow's source's, a boundary
        itself; OUTSIDE for the rest."""
        m = self.a.model
        f = m.flows.get(target_id)
        e = m.elements.get(f.source if f else target_id)
        if e is not None:
            return e.boundaries[0] if e.boundaries else OUTSIDE
        return target_id if target_id in m.boundaries else OUTSIDE

    def matrix_by_boundary(self) -> str:
        """Large layout: rows are threats, columns the boundaries their targets sit in."""
        a = self.a
        cols = sorted({self.zone_of(p.target.id) for p in a.pairs})
        statuses: dict[tuple[str, str], list[str]] = defaultdict(list)
        for p in a.pairs:
            statuses[(p.threat, self.zone_of(p.target.id))].append(shown_status(p.status, p.basis))
        rows: list[list[Cell]] = [[[Link("threat", tid)], *([Mark(worst_status(statuses[(tid, b)]), str(len(statuses[(tid, b)])))]
                                           if (tid, b) in statuses else [] for b in cols)]
                for tid in sorted(a.catalog.threats, key=lambda t: (-self.open_risk(t), t))]
        return (_front("Coverage matrix", wide=True, searchable=False) + "# Coverage matrix\n\n"
                + "\n".join(self.summaries()) + "## Threat by boundary\n\n"
                "Rows are threats, the most risk left open first; columns the boundaries their targets sit in "
                "(count and least covered status). " + self._legend() + "\n\n"
                + "\n".join(self.layout.fragment(Table.of(["threat", *cols], rows), "tg-matrix")))

    def summaries(self) -> list[str]:
        """The two heat maps above either matrix, and where the STRIDE-per-element grid is."""
        return ["## By severity\n", *self.severity_summary(), "## By boundary and STRIDE category\n",
                "Open pairs (unmitigated, expired or partial) of all pairs, by the boundary the target sits in and "
                "the threat's categories, coloured by the least covered status. Which categories were considered "
                "at all, element by element, is on [STRIDE per element](stride.md).\n", *self.boundary_stride()]

    def boundary_stride(self) -> list[str]:
        """Boundary x STRIDE heat map: where the open risk concentrates."""
        cells: dict[tuple[str, str], list[tuple[str, bool]]] = defaultdict(list)
        for p in self.a.pairs:
            shown = shown_status(p.status, p.basis)
            for category in self.a.catalog.threats[p.threat].stride:
                cells[(self.zone_of(p.target.id), category)].append((shown, leaves_open(p.status)))
        zones = sorted({z for z, _ in cells}, key=lambda z: (z == OUTSIDE, z))

        def cell(zone: str, category: str) -> Cell:
            pairs = cells.get((zone, category))
            if not pairs:
                return [Text("")]
            opened = sum(o for _, o in pairs)
            return [Mark(worst_status(s for s, _ in pairs), f"{opened}/{len(pairs)}",
                         f"{opened} open of {len(pairs)} pairs")]

        rows: list[list[Cell]] = [[[self.zone_label(z)], *(cell(z, c) for c in STRIDE)] for z in zones]
        return self.indexed(Table.of(["boundary", *(c.replace("_", " ") for c in STRIDE)], rows))

    def zone_name(self, zone: str) -> str:
        b = self.a.model.boundaries.get(zone)
        return b.name if b is not None else "outside every boundary"

    def zone_label(self, zone: str) -> Part:
        return Link("boundary", zone, self.zone_name(zone)) if zone in self.a.model.boundaries else Text(self.zone_name(zone))

    def severity_summary(self) -> list[str]:
        """Pairs by severity and status, mitigated split into verified and claimed (a claim is
        never counted in the verified colour): the heat map above the detail."""
        shown = [st for s in STATUSES for st in ((s, CLAIMED) if s == MITIGATED else (s,))]
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for p in self.a.pairs:
            counts[(p.severity, shown_status(p.status, p.basis))] += 1
        rows: list[list[Cell]] = [
            [[Text(sev)], *([Mark(st, str(counts[(sev, st)]))] if counts[(sev, st)] else [Text("")] for st in shown)]
            for sev in reversed(SEVERITY_ORDER) if any(counts[(sev, st)] for st in shown)]
        return self.indexed(Table.of(["severity", *shown], rows))

    def open_risk(self, tid: str) -> int:
        """How much risk the threat leaves open on its worst target (for sorting rows)."""
        return max((RISK.index(residual_risk(p.severity, p.status)) for p in self.a.pairs_of_threat(tid)
                    if leaves_open(p.status)), default=0)

    def matrix_by_target(self) -> str:
        """Small layout: the heat maps, then one table per STRIDE category (a threat under its
        first): rows are threats, titled, the most open risk first; columns the targets that
        category's threats land on, grouped by boundary; headers stick while the table scrolls."""
        a = self.a
        cell = {(p.threat, p.target.id): Mark(shown_status(p.status, p.basis), p.status[:1].upper(), p.reason)
                for p in a.pairs}
        by_category: dict[str, list[str]] = defaultdict(list)
        for tid, t in a.catalog.threats.items():
            by_category[t.stride[0] if t.stride else "unclassified"].append(tid)
        out = [_front("Coverage matrix", wide=True), "# Coverage matrix\n", *self.summaries(),
               "## Threat by target\n",
               "One table per STRIDE category (a threat under its first). Rows are threats, the most risk left "
               "open first; columns the flows and elements they land on, grouped by boundary. "
               + self._legend() + "\n"]
        for category in (*STRIDE, "unclassified"):
            tids = sorted(by_category.get(category, []), key=lambda t: (-self.open_risk(t), t))
            if not tids:
                continue
            targets = sorted({p.target.id for t in tids for p in a.pairs_of_threat(t)},
                             key=lambda t: (self.zone_of(t) == OUTSIDE, self.zone_of(t), t))
            rows: list[list[Cell]] = [
                [[Link("threat", tid), Text(" " + _short(a.catalog.threats[tid].title))],
                 *([cell[(tid, t)]] if (tid, t) in cell else [] for t in targets)] for tid in tids]
            groups = [("", 1)] + [(self.zone_name(z), len(list(ts))) for z, ts in groupby(targets, key=self.zone_of)]
            out.append(f"### {category.replace('_', ' ').capitalize()} ({len(tids)} threats)\n")
            out += self.layout.fragment(Table.of(["threat", *([self.to(t)] for t in targets)], rows, groups),
                                        "tg-matrix")
        return "\n".join(out) + "\n"

    def stride(self) -> str:
        """The element x STRIDE grid: each applicable cell links to its threats, says why it
        cannot happen, or says that nobody considered it."""
        a = self.a
        out = [_front("STRIDE per element", wide=True), "# STRIDE per element\n"]
        if a.analysis is None:
            return "\n".join(out) + "\nNot analysed.\n"
        grid = a.analysis.stride
        out.append(f"{md(stride_sentence(a))}. A cell is a STRIDE category that applies to the element's kind "
                   "(— where it does not); it is considered when a threat of that category lands there, or "
                   "when a `not_applicable` answer names the element with a reason.\n")
        by_target: dict[str, dict[str, StrideCell]] = {}
        for cell in grid.cells:
            by_target.setdefault(cell.target, {})[cell.category] = cell
        rows: list[list[Cell]] = []
        for target, cells in by_target.items():
            row: list[Cell] = [[self.to(target)], [Text(next(iter(cells.values())).kind.replace("_", " "))]]
            for category in STRIDE:
                c = cells.get(category)
                if c is None:
                    row.append([Text("—")])
                elif c.state == "threats":
                    row.append(listed([Link("threat", t) for t in c.threats]))
                elif c.state == "not_applicable":
                    row.append([Mark("false-positive", "n/a", c.note)])
                else:
                    row.append([Mark("unmitigated", "not considered")])
            rows.append(row)
        out += self.layout.table(Table.of(["target", "kind", *(c.replace("_", " ") for c in STRIDE)], rows))
        return "\n".join(out) + "\n"

    def evidence(self) -> str:
        a = self.a
        out = [_front("Evidence"), "# Evidence\n",
               f"Checked against: {md(a.source_label) if a.source_label else 'nothing (unverified: run with --source)'}.\n"]
        if a.drift:
            out.append("**Drift:** " + ", ".join(self.link("mitigation", d) for d in a.drift) + "\n")
        out += self.indexed(Table.of(["mitigation", "declared", "result", "proves", "where", "detail"], [
            [[Link("mitigation", mid)], [Text(st.declared)], self.evidence_badge(r), [Text(r.proves)],
             self.evidence_where(r), [Text(r.detail)]] for mid, st in a.mitigation_states.items() for r in st.evidence]))
        if a.history is not None:
            h = a.history
            out.append(f"\n## History over {md_code(h.range)}\n")
            out.append(f"{h.commits} commits replayed ({h.evaluations} evidence evaluations). Each row is a commit "
                       "where a control stopped holding or held again.\n")
            flips = sorted(((f, t) for t in h.timelines for f in t.flips), key=lambda ft: (ft[0].commit.date, ft[1].mitigation))
            if flips:
                out += [_row(["date", "commit", "mitigation", "change", "subject"]), _row(["---"] * 5)]
                out += [_row([utc_day(f.commit.date), self.commit_link(f.commit.sha), self.link("mitigation", t.mitigation)
                              + (" *(brittle)*" if t.brittle else ""),
                              "holds again" if f.holds else "**stopped holding**", md(f.commit.subject)])
                        for f, t in flips]
            else:
                out.append("No control changed state.\n")
        return "\n".join(out) + "\n"

    def commit_link(self, sha: str) -> str:
        return md_code(sha[:10])

    def decisions(self) -> str:
        a = self.a
        out = [_front("Decisions"), "# Decisions\n", *self.decision_rows()]
        if not a.catalog.decisions:
            out.append("\nNo decisions recorded.")
        return "\n".join(out) + "\n"

    def decision_rows(self) -> list[str]:
        a = self.a
        out = [_row(["threat", "targets", "decision", "owner", "expires", "justification"]), _row(["---"] * 6)]
        for n, d in enumerate(a.catalog.decisions):
            exp = (d.expires.isoformat() if d.expires else "") + (" ⏰ **expired**" if n in a.expired_decisions else "")
            out.append(_row([self.link("threat", d.threat), ", ".join(md_code(t) for t in d.targets), d.decision,
                             md(d.owner or ""), exp, md(d.justification)]))
        return [*out, ""]

    def data(self) -> str:
        m = self.a.model
        carried: dict[str, list[str]] = defaultdict(list)
        for fid, f in sorted(m.flows.items()):
            for d in f.data:
                carried[d].append(fid)
        out = [_front("Data assets"), "# Data assets\n", _row(["data", "classification", "credentials", "carried by"]),
               _row(["---"] * 4)]
        for did, asset in m.data.items():
            flows = carried[did]
            shown = ", ".join(self.link("flow", f) for f in flows[:30]) + (f" and {len(flows) - 30} more"
                                                                           if len(flows) > 30 else "")
            out.append(_row([md(asset.name), asset.classification, "yes" if asset.is_credentials else "", shown]))
        return "\n".join(out) + "\n"

    def paths(self) -> str:
        from threatgraph.render import paths

        a = self.a
        out = [_front("Attack paths and invariants"), "# Attack paths and invariants\n",
               "Computed from the model and the coverage: an attack edge is a path only while no full-strength "
               "mitigation blocks it; a step moves an attacker only where an open spoofing, tampering or elevation "
               "threat allows it, reads a store through an open disclosure threat, or leaks data out.\n",
               paths.render_markdown(a, links=True, layout=self.layout)]
        if a.analysis is not None and a.analysis.paths:
            out.append("## One diagram per path\n")
            for n, p in enumerate(a.analysis.paths, 1):
                ids = frozenset(p.nodes) | frozenset(s["flow"] for s in p.steps)
                out.append(f"### Path {n}: {md(' → '.join(p.nodes))} ({'blocked' if p.blocked else 'open'})\n")
                out.append(self.figure(f"path-{n}", partial(dot.dfd, a, dot.Focus(ids, ids, f"Path {n}: " + " -> ".join(p.nodes)),
                                                                name="path", ctx=self.ctx)))
        return "\n".join(out)


def generate(a: Assessment, svg_for: SvgFor, large: bool | None = None) -> dict[str, str]:
    """Every page, by file name (use SiteWriter directly to get the table fragments too)."""
    return SiteWriter(a, svg_for, large).generate()
