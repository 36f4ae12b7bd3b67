"""The docs site's Markdown pages, generated from an Assessment (pure: returns text).

Pages are flat (`threat-T01.md`, `element-agent.md`, ...) so every page links to every other
with a bare file name, and diagrams' links need no per-folder prefix. Every model or catalog
string goes through `md()` / `md_code()`; page titles are set in front matter, stripped of
markup characters, because the theme prints titles unescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from threatgraph.assess import SUMMARY_KEY, STATUSES, Assessment, Pair
from threatgraph.catalog.definitions import SEVERITY_ORDER
from threatgraph.render import dot
from threatgraph.render.escape import md, md_block, md_code, visible
from threatgraph.render.pages import page
from threatgraph.site_embed import placeholder

SvgFor = Callable[[str, str], str]  # (diagram name, dot source) -> inline SVG


def plain_title(text: str) -> str:
    """A title safe to print unescaped: no markup characters, one line, bounded."""
    t = re.sub(r"[<>&\"'`\\{}\[\]]", "", visible(text)).replace("\n", " ").strip()
    return t[:120] or "untitled"


def _front(title: str, wide: bool = False) -> str:
    hide = "hide:\n  - navigation\n  - toc\n" if wide else ""
    return f"---\ntitle: {json.dumps(plain_title(title), ensure_ascii=False)}\n{hide}---\n\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _link(kind: str, ident: str, label: str | None = None) -> str:
    return f"[{md(label if label is not None else ident)}]({page(kind, ident)}.md)"


def _target_link(a: Assessment, ident: str) -> str:
    if ident in a.model.flows:
        return _link("flow", ident)
    if ident in a.model.boundaries:
        return _link("boundary", ident)
    return _link("element", ident)


def _figure(svg: str, name: str) -> str:
    """A placeholder the site_embed hook replaces with the SVG once Markdown has run."""
    del svg  # drawn and written beside the page as diagram-<name>.svg
    return placeholder(name) + f"\n\n[Open the diagram full size](diagram-{name}.svg)\n"


def _status(status: str) -> str:
    """A coloured badge (CSS classes only; the text stays readable without styles)."""
    return f'<span class="tg-badge tg-{status}">{status}</span>'


def generate(a: Assessment, svg_for: SvgFor) -> dict[str, str]:
    """Every page, by file name."""
    m, c = a.model, a.catalog
    pages: dict[str, str] = {}
    s = a.summary

    # --- overview ---------------------------------------------------------------------------
    out = [_front(m.name, wide=True), f"# {md(m.name)}\n", md_block(m.description) + "\n" if m.description else ""]
    verdict = "passed" if a.passed else f"failed ({len(a.violations)} violations)"
    out.append(f"**Policy {verdict}.** Coverage **{s['coverage']:.1%}** of {s['pairs']} (threat, target) pairs "
               f"over {s['threats']} threats. Evidence: {md(a.source_label) if a.source_label else 'unverified (no source given)'}.\n")
    out.append(_row(["status", "pairs"]))
    out.append(_row(["---", "---:"]))
    for st in STATUSES:
        out.append(_row([_status(st), str(s[SUMMARY_KEY[st]])]))
    out.append("")
    out.append(f"{len(m.elements)} [elements](elements.md) · {len(m.flows)} [flows](flows.md) · "
               f"{len(m.boundaries)} [boundaries](boundaries.md) · {len(c.threats)} [threats](threats.md) · "
               f"{len(c.mitigations)} [mitigations](mitigations.md) · [coverage matrix](matrix.md) · "
               f"[evidence](evidence.md) · [decisions](decisions.md)\n")
    out.append("## Data-flow diagram\n")
    out.append(_figure(svg_for("overview", dot.dfd(a, collapse_over=25, name="overview")), "overview"))
    if a.violations:
        out.append("## Policy violations\n")
        out += [f"- {md(v)}" for v in a.violations]
        out.append("")
    pages["index.md"] = "\n".join(out)

    # --- threats ------------------------------------------------------------------------------
    rows = [_front("Threats"), "# Threats\n", _row(["threat", "severity", "STRIDE", *STATUSES]),
            _row(["---"] * (3 + len(STATUSES)))]
    by_sev = sorted(c.threats.items(), key=lambda kv: (-SEVERITY_ORDER.index(kv[1].severity), kv[0]))
    for tid, t in by_sev:
        counts = a.by_threat[tid]
        rows.append(_row([f"{_link('threat', tid)} {md(t.title)}", t.severity, ", ".join(t.stride),
                          *(str(counts[st]) if counts[st] else "" for st in STATUSES)]))
    pages["threats.md"] = "\n".join(rows) + "\n"
    for tid in c.threats:
        pages[page("threat", tid) + ".md"] = _threat_page(a, tid, svg_for)

    # --- mitigations ----------------------------------------------------------------------------
    rows = [_front("Mitigations"), "# Mitigations\n", _row(["mitigation", "declared", "evidence", "threats"]),
            _row(["---"] * 4)]
    addressed: dict[str, list[str]] = {mid: [] for mid in c.mitigations}
    for tid, t in c.threats.items():
        for ref in t.mitigations:
            addressed[ref.id].append(tid)
    for mid, mit in c.mitigations.items():
        st = a.mitigation_states[mid]
        rows.append(_row([f"{_link('mitigation', mid)} {md(mit.title)}" + (" **drift**" if st.drift else ""),
                          mit.status, _status(st.evidence_state), ", ".join(_link("threat", t) for t in addressed[mid])]))
    pages["mitigations.md"] = "\n".join(rows) + "\n"
    for mid in c.mitigations:
        pages[page("mitigation", mid) + ".md"] = _mitigation_page(a, mid, addressed[mid])

    # --- model pages -------------------------------------------------------------------------------
    status = dot.worst_status(a)
    rows = [_front("Elements"), "# Elements\n", _row(["element", "kind", "boundary", "coverage"]), _row(["---"] * 4)]
    for eid, e in m.elements.items():
        b = _link("boundary", e.boundaries[0]) if e.boundaries else ""
        rows.append(_row([f"{_link('element', eid)} {md(e.name)}", e.kind, b, _status(status.get(eid, 'none'))]))
    pages["elements.md"] = "\n".join(rows) + "\n"
    for eid in m.elements:
        pages[page("element", eid) + ".md"] = _element_page(a, eid, svg_for)

    rows = [_front("Flows"), "# Flows\n", _row(["flow", "from", "to", "protocol", "crosses", "coverage"]),
            _row(["---"] * 6)]
    for fid, f in m.flows.items():
        label = f"{_link('flow', fid)} {md(f.name)}" + (" *(attack edge)*" if f.attack else "")
        rows.append(_row([label, _target_link(a, f.source), _target_link(a, f.sink),
                          md(f.protocol + (f":{f.port}" if f.port is not None else "")),
                          ", ".join(_link("boundary", b) for b in f.crosses), _status(status.get(fid, "none"))]))
    pages["flows.md"] = "\n".join(rows) + "\n"
    for fid in m.flows:
        pages[page("flow", fid) + ".md"] = _flow_page(a, fid, svg_for)

    rows = [_front("Boundaries"), "# Trust boundaries\n", _row(["boundary", "inside", "elements"]), _row(["---"] * 3)]
    for bid, b in m.boundaries.items():
        inside = _link("boundary", b.parent) if b.parent else ""
        count = sum(1 for e in m.elements.values() if bid in e.boundaries)
        rows.append(_row([f"{_link('boundary', bid)} {md(b.name)}", inside, str(count)]))
    pages["boundaries.md"] = "\n".join(rows) + "\n"
    for bid in m.boundaries:
        pages[page("boundary", bid) + ".md"] = _boundary_page(a, bid, svg_for)

    pages["matrix.md"] = _matrix(a)
    pages["paths.md"] = _paths(a, svg_for)
    pages["evidence.md"] = _evidence(a)
    pages["decisions.md"] = _decisions(a)
    pages["data.md"] = _data(a)
    return pages


def _pairs_table(a: Assessment, pairs: list[Pair], by: str) -> list[str]:
    rows = [_row([by, "severity", "status", "mitigations", "decision"]), _row(["---"] * 5)]
    for p in pairs:
        first = (_link("threat", p.threat) + " " + md(a.catalog.threats[p.threat].title)) if by == "threat" \
            else _target_link(a, p.target.id)
        mits = ", ".join(f"{_link('mitigation', mid)} ({a.mitigation_states[mid].declared})" for mid in p.mitigations)
        dec = ""
        if p.decision is not None:
            d = a.catalog.decisions[p.decision]
            dec = f"{d.decision} by {md(d.owner or '?')}" + (f", expires {d.expires}" if d.expires else "")
        rows.append(_row([first, p.severity, _status(p.status), mits, dec]))
    return rows


def _threat_page(a: Assessment, tid: str, svg_for: SvgFor) -> str:
    t = a.catalog.threats[tid]
    w = a.catalog.loc("threat", tid)
    out = [_front(f"{tid} {t.title}"), f"# {md(tid)}: {md(t.title)}\n",
           f"**Severity** {t.severity}" + (f" · likelihood {t.likelihood}" if t.likelihood else "")
           + (f" · impact {t.impact}" if t.impact else "") + f" · **STRIDE** {', '.join(t.stride)} · "
           f"declared in {md_code(f'{w.file}:{w.line}')}\n"]
    if t.description:
        out.append(md_block(t.description) + "\n")
    refs = t.references
    ref_bits = [f"[{r}](https://cwe.mitre.org/data/definitions/{r.split('-')[1]}.html)" for r in refs.cwe]
    ref_bits += [f"[{r}](https://capec.mitre.org/data/definitions/{r.split('-')[1]}.html)" for r in refs.capec]
    ref_bits += [f"[{r}](https://attack.mitre.org/techniques/{r.replace('.', '/')}/)" for r in refs.attack]
    ref_bits += [md(n) for n in refs.notes]
    if ref_bits:
        out.append("**References** " + " · ".join(ref_bits) + "\n")
    out.append("## Where it lands\n")
    from threatgraph.selectors import describe

    for item in t.applies_to:
        what, sel = next(iter(item.items()))
        out.append(f"- {what}: {md_code(describe(sel))}")
    out.append("")
    out += _pairs_table(a, a.pairs_of_threat(tid), "target")
    out.append("\n## Mitigations\n")
    if not t.mitigations:
        out.append("None declared.\n")
    for ref in t.mitigations:
        st = a.mitigation_states[ref.id]
        only = f" (only on {', '.join(md_code(x) for x in ref.targets)})" if ref.targets else ""
        out.append(f"- {_link('mitigation', ref.id)} {md(a.catalog.mitigations[ref.id].title)}: declared "
                   f"{st.declared}, evidence {_status(st.evidence_state)}{' — **drift**' if st.drift else ''}{only}")
    out.append("\n## Diagram\n")
    name = page("threat", tid)
    out.append(_figure(svg_for(name, dot.dfd(a, dot.threat_focus(a, tid), name="threat")), name))
    return "\n".join(out)


def _mitigation_page(a: Assessment, mid: str, threats: list[str]) -> str:
    mit = a.catalog.mitigations[mid]
    st = a.mitigation_states[mid]
    w = a.catalog.loc("mitigation", mid)
    out = [_front(f"{mid} {mit.title}"), f"# {md(mid)}: {md(mit.title)}\n",
           f"**Declared** {mit.status} · **type** {mit.type} · **evidence** {_status(st.evidence_state)} · "
           f"declared in {md_code(f'{w.file}:{w.line}')}\n"]
    if st.drift:
        out.append(f"!!! danger \"Drift\"\n    {md(st.note)}\n")
    elif st.note:
        out.append(f"!!! note \"Evidence\"\n    {md(st.note)}\n")
    if mit.description:
        out.append(md_block(mit.description) + "\n")
    out.append("## Evidence\n")
    if not st.evidence:
        out.append("No machine-checkable evidence declared.\n")
    else:
        out.append(_row(["result", "proves", "where", "detail"]))
        out.append(_row(["---"] * 4))
        for r in st.evidence:
            gap = " *(gap)*" if r.gap else ""
            out.append(_row([_status(r.result) + gap, md(r.proves), md_code(r.where) if r.where else "", md(r.detail)]))
        out.append("")
    out.append("## Addresses\n")
    for tid in threats:
        t = a.catalog.threats[tid]
        targets = ", ".join(_target_link(a, p.target.id) for p in a.pairs_of_threat(tid) if mid in p.mitigations)
        out.append(f"- {_link('threat', tid)} {md(t.title)} ({t.severity}) on {targets or 'no target'}")
    return "\n".join(out) + "\n"


def _flows_list(a: Assessment, flows: list[str]) -> list[str]:
    return [f"- {_link('flow', fid)} {md(a.model.flows[fid].name)}: {_target_link(a, a.model.flows[fid].source)} → "
            f"{_target_link(a, a.model.flows[fid].sink)}" for fid in flows]


def _element_page(a: Assessment, eid: str, svg_for: SvgFor) -> str:
    e = a.model.elements[eid]
    out = [_front(e.name), f"# {md(e.name)}\n", f"**Kind** {e.kind} · **id** {md_code(eid)}"
           + (f" · declared in {md_code(f'{e.location.file}:{e.location.line}')}" if e.location else "") + "\n"]
    if e.boundaries:
        out.append("**Inside** " + " ⊂ ".join(_link("boundary", b) for b in e.boundaries) + "\n")
    if e.description:
        out.append(md_block(e.description) + "\n")
    if e.data:
        out.append("**Holds** " + ", ".join(md(a.model.data[d].name) for d in e.data) + "\n")
    out.append("## Threats\n")
    pairs = a.pairs_on(eid)
    out += _pairs_table(a, pairs, "threat") if pairs else ["No threat lands on this element."]
    flows_out = sorted(f.id for f in a.model.flows.values() if f.source == eid)
    flows_in = sorted(f.id for f in a.model.flows.values() if f.sink == eid)
    out.append("\n## Flows out\n")
    out += _flows_list(a, flows_out) or ["None."]
    out.append("\n## Flows in\n")
    out += _flows_list(a, flows_in) or ["None."]
    out.append("\n## Neighbourhood\n")
    focus = dot.Focus(dot.neighbourhood(a, [eid]), frozenset({eid}), e.name)
    out.append(_figure(svg_for(page("element", eid), dot.dfd(a, focus, name="element")), page("element", eid)))
    return "\n".join(out)


def _flow_page(a: Assessment, fid: str, svg_for: SvgFor) -> str:
    f = a.model.flows[fid]
    data = ", ".join(f"{md(a.model.data[d].name)} ({a.model.data[d].classification})" for d in f.data) or "—"
    out = [_front(f.name), f"# {md(f.name)}\n",
           f"{_target_link(a, f.source)} → {_target_link(a, f.sink)} · **id** {md_code(fid)}"
           + (" · **attack edge**: a flow the design exists to block" if f.attack else "") + "\n",
           _row(["protocol", "port", "encrypted", "authenticated", "data"]), _row(["---"] * 5),
           _row([md(f.protocol) or "—", str(f.port) if f.port is not None else "—", "yes" if f.encrypted else "no",
                 "yes" if f.authenticated else "no", data]), ""]
    if f.crosses:
        out.append("**Crosses** " + ", ".join(_link("boundary", b) for b in f.crosses) + "\n")
    if f.description:
        out.append(md_block(f.description) + "\n")
    out.append("## Threats\n")
    pairs = a.pairs_on(fid)
    out += _pairs_table(a, pairs, "threat") if pairs else ["No threat lands on this flow."]
    out.append("\n## Diagram\n")
    focus = dot.Focus(frozenset({fid, f.source, f.sink}), frozenset({fid, f.source, f.sink}), f.name)
    out.append(_figure(svg_for(page("flow", fid), dot.dfd(a, focus, name="flow")), page("flow", fid)))
    return "\n".join(out)


def _boundary_page(a: Assessment, bid: str, svg_for: SvgFor) -> str:
    m = a.model
    b = m.boundaries[bid]
    out = [_front(b.name), f"# {md(b.name)}\n", f"**id** {md_code(bid)}"
           + (f" · inside {_link('boundary', b.parent)}" if b.parent else "") + "\n"]
    if b.description:
        out.append(md_block(b.description) + "\n")
    kids = sorted(k for k, x in m.boundaries.items() if x.parent == bid)
    if kids:
        out.append("**Contains** " + ", ".join(_link("boundary", k) for k in kids) + "\n")
    inside = sorted(e for e, x in m.elements.items() if bid in x.boundaries)
    out.append("## Elements inside\n")
    out += [f"- {_link('element', e)} {md(m.elements[e].name)}" for e in inside] or ["None."]
    crossing = sorted(f for f, x in m.flows.items() if bid in x.crosses)
    out.append("\n## Flows crossing it\n")
    out += _flows_list(a, crossing) or ["None."]
    pairs = a.pairs_on(bid)
    if pairs:
        out.append("\n## Threats\n")
        out += _pairs_table(a, pairs, "threat")
    out.append("\n## Diagram\n")
    focus = dot.Focus(dot.neighbourhood(a, inside) if inside else frozenset(), frozenset(inside) | {bid}, b.name)
    out.append(_figure(svg_for(page("boundary", bid), dot.dfd(a, focus, name="boundary")), page("boundary", bid)))
    return "\n".join(out)


def _matrix(a: Assessment) -> str:
    targets = sorted({p.target.id for p in a.pairs})
    cell = {(p.threat, p.target.id): f'<span class="tg-cell tg-{p.status}" title="{p.status}">{p.status[:1].upper()}</span>'
            for p in a.pairs}
    out = [_front("Coverage matrix", wide=True), "# Coverage matrix\n",
           "Rows are threats, columns the flows and elements they land on. "
           + " · ".join(_status(s) for s in STATUSES) + "\n",
           _row(["threat", *(_target_link(a, t) for t in targets)]), _row(["---"] * (len(targets) + 1))]
    for tid in a.catalog.threats:
        out.append(_row([_link("threat", tid), *(cell.get((tid, t), "") for t in targets)]))
    out.append("")
    return "\n".join(out)


def _evidence(a: Assessment) -> str:
    out = [_front("Evidence"), "# Evidence\n",
           f"Checked against: {md(a.source_label) if a.source_label else 'nothing (unverified: run with --source)'}.\n"]
    if a.drift:
        out.append("**Drift:** " + ", ".join(_link("mitigation", d) for d in a.drift) + "\n")
    out.append(_row(["mitigation", "declared", "result", "proves", "where"]))
    out.append(_row(["---"] * 5))
    for mid, st in a.mitigation_states.items():
        for r in st.evidence:
            out.append(_row([_link("mitigation", mid), st.declared, _status(r.result) + (" *(gap)*" if r.gap else ""),
                             md(r.proves), md_code(r.where) if r.where else ""]))
    return "\n".join(out) + "\n"


def _decisions(a: Assessment) -> str:
    out = [_front("Decisions"), "# Decisions\n", _row(["threat", "targets", "decision", "owner", "expires", "justification"]),
           _row(["---"] * 6)]
    for n, d in enumerate(a.catalog.decisions):
        exp = (d.expires.isoformat() if d.expires else "") + (" ⏰ **expired**" if n in a.expired_decisions else "")
        out.append(_row([_link("threat", d.threat), ", ".join(md_code(t) for t in d.targets), d.decision,
                         md(d.owner or ""), exp, md(d.justification)]))
    if not a.catalog.decisions:
        out.append("\nNo decisions recorded.")
    return "\n".join(out) + "\n"


def _data(a: Assessment) -> str:
    out = [_front("Data assets"), "# Data assets\n", _row(["data", "classification", "credentials", "carried by"]),
           _row(["---"] * 4)]
    for did, d in a.model.data.items():
        flows = ", ".join(_link("flow", f) for f, x in a.model.flows.items() if did in x.data)
        out.append(_row([md(d.name), d.classification, "yes" if d.is_credentials else "", flows]))
    return "\n".join(out) + "\n"


def _paths(a: Assessment, svg_for: SvgFor) -> str:
    from threatgraph.render import paths

    out = [_front("Attack paths and invariants"), "# Attack paths and invariants\n",
           "Computed with networkx from the model and the coverage: an attack edge is a path only while no "
           "full-strength mitigation blocks it; a step moves an attacker only where an open spoofing, tampering or "
           "elevation threat allows it, reads a store through an open disclosure threat, or leaks data out.\n",
           paths.render_markdown(a, links=True)]
    if a.analysis is not None and a.analysis.paths:
        out.append("## One diagram per path\n")
        for n, p in enumerate(a.analysis.paths, 1):
            ids = frozenset(p.nodes) | frozenset(s["flow"] for s in p.steps)
            title = f"Path {n}: " + " -> ".join(p.nodes)
            out.append(f"### Path {n}: {md(' → '.join(p.nodes))} ({'blocked' if p.blocked else 'open'})\n")
            name = f"path-{n}"
            out.append(_figure(svg_for(name, dot.dfd(a, dot.Focus(ids, ids, title), name="path")), name))
    return "\n".join(out)
