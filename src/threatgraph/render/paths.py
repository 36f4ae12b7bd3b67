"""`threatgraph paths` and the report sections on invariants, attack paths, single points of
failure, defence in depth and boundary crossings (text, JSON and Markdown)."""

from __future__ import annotations

from typing import Any

from threatgraph.assess import Assessment
from threatgraph.render import json_text
from threatgraph.render.escape import md, md_code, visible


def document(a: Assessment) -> dict[str, Any]:
    return a.analysis.to_json() if a.analysis is not None else {
        "invariants": [], "paths": [], "single_points_of_failure": [], "defence_in_depth": [], "bypass": [],
        "crossings": []}


def render_json(a: Assessment) -> str:
    return json_text.dumps(document(a))


def _step_text(s: dict[str, Any]) -> str:
    state = "BLOCKED by " + ", ".join(s["blocked_by"]) if s["blocked"] else "open"
    threats = ", ".join(f"{t['threat']} ({t['status']})" for t in s["threats"]) or "no threat mapped"
    return f"{s['from']} -[{s['flow']}, {s['step']}]-> {s['to']}: {state}; {threats}"


def render_text(a: Assessment) -> str:
    d = document(a)
    v = visible
    lines = ["invariants:"]
    for i in d["invariants"] or [{"name": "(none declared)", "holds": True, "detail": ""}]:
        lines.append(f"  {'holds ' if i['holds'] else 'BROKEN'}  {v(i['name'])}")
        if not i["holds"]:
            lines.append(f"          counterexample: {v(i['detail'])}")
    lines.append("")
    lines.append("attack paths (open first):")
    for p in d["paths"]:
        lines.append(f"  {'blocked' if p['blocked'] else 'OPEN   '} risk {p['residual_risk']:<8} "
                     f"{v(' -> '.join(p['nodes']))}")
        for s in p["steps"]:
            lines.append(f"      {v(_step_text(s))}")
    lines.append("")
    lines.append("single points of failure (one control failing opens a path):")
    for s in d["single_points_of_failure"] or [{"mitigation": "(none)", "opens": []}]:
        opens = ", ".join(f"{o['entry']} -> {o['target']}" for o in s["opens"])
        lines.append(f"  {v(s['mitigation'])}" + (f": {v(opens)}" if opens else ""))
    for b in d["bypass"]:
        lines.append("")
        lines.append(f"if {', '.join(b['bypassed'])} is bypassed ({v(b['invariant'])}):")
        for x in b["still_blocked"]:
            lines.append(f"  {v(x['flow'])} still blocked by {', '.join(x['blocked_by'])}")
        for f in b["open"]:
            lines.append(f"  {v(f)} OPEN")
        if b["other_open_egress"]:
            lines.append(f"  other open egress: {v(', '.join(b['other_open_egress']))}")
    thin = [r for r in d["defence_in_depth"] if r["independent_mitigations"] <= 1]
    lines.append("")
    lines.append(f"high/critical pairs with at most one mitigation: {len(thin)} of {len(d['defence_in_depth'])}")
    for r in thin[:15]:
        lines.append(f"  {r['independent_mitigations']}  {v(r['threat'])} on {v(r['target'])} ({r['status']})")
    return "\n".join(lines) + "\n"


class _Links:
    """How ids are written: inline code in reports, links to their pages on the site."""

    def __init__(self, a: Assessment, links: bool, layout: Any):
        self.a, self.links, self.layout = a, links, layout

    def __call__(self, kind: str, ident: str) -> str:
        if not self.links:
            return md_code(ident)
        if self.layout is not None:
            return f"[{md(ident)}]({self.layout.target(kind, ident)})"
        from threatgraph.render.pages import page

        return f"[{md(ident)}]({page(kind, ident)}.md)"

    def node(self, ident: str) -> str:
        m = self.a.model
        return self("flow" if ident in m.flows else "boundary" if ident in m.boundaries else "element", ident)


def _invariants(d: dict[str, Any]) -> list[str]:
    out = [] if d["invariants"] else ["None declared in the model."]
    for i in d["invariants"]:
        mark = "holds" if i["holds"] else "**BROKEN**"
        out.append(f"- {mark}: {md(i['name'])}" + ("" if i["holds"] else f"; counterexample: {md_code(i['detail'])}"))
    return out


def _paths(d: dict[str, Any], link: _Links) -> list[str]:
    if not d["paths"]:
        return ["No entry points or targets declared, or no path between them."]
    out = ["| path | state | residual risk | steps |", "| --- | --- | --- | --- |"]
    for p in d["paths"]:
        path = " → ".join(link.node(n) for n in p["nodes"])
        steps = "<br>".join(
            f"{link('flow', s['flow'])} ({s['step']}): "
            + ("blocked by " + ", ".join(link("mitigation", m) for m in s["blocked_by"]) if s["blocked"] else "open")
            for s in p["steps"])
        out.append(f"| {path} | {'blocked' if p['blocked'] else '**open**'} | {p['residual_risk']} | {steps} |")
    return out


def _single_points(d: dict[str, Any], link: _Links) -> list[str]:
    if not d["single_points_of_failure"]:
        return ["No single control, failing alone, opens a path from an entry point to a target."]
    return [f"- {link('mitigation', s['mitigation'])} alone guards "
            + ", ".join(f"{link.node(o['entry'])} → {link.node(o['target'])}" for o in s["opens"])
            for s in d["single_points_of_failure"]]


def _bypass(b: dict[str, Any], link: _Links) -> list[str]:
    out = [f"- {link('flow', x['flow'])} is still blocked by " + ", ".join(link("mitigation", m) for m in x["blocked_by"])
           for x in b["still_blocked"]]
    out += [f"- {link('flow', f)} is **open**" for f in b["open"]]
    if b["other_open_egress"]:
        out.append("- other open egress: " + ", ".join(link("flow", f) for f in b["other_open_egress"]))
    return out


def _crossings(d: dict[str, Any], link: _Links) -> list[str]:
    crossings, out = d["crossings"], []
    if len(crossings) > 200:  # large models: the unanalysed ones are the finding
        unanalysed = [c for c in crossings if not c["threats"]]
        out += [f"{len(crossings)} flows cross a boundary; {len(crossings) - len(unanalysed)} have a threat mapped. "
                + ("Unanalysed:" if unanalysed else "None is unanalysed."), ""]
        crossings = unanalysed[:500]
    if crossings:
        out += ["| flow | crosses | threats |", "| --- | --- | --- |"]
    for c in crossings:
        threats = ", ".join(link("threat", t) for t in c["threats"]) or "**none (unanalysed)**"
        out.append(f"| {link('flow', c['flow'])} | {', '.join(md(b) for b in c['crosses'])} | {threats} |")
    return out


def render_markdown(a: Assessment, links: bool = False, heading: str = "##", layout: Any = None) -> str:
    """Report sections; with `links` (the site) ids link to their pages, placed by `layout`."""
    d = document(a)
    link = _Links(a, links, layout)
    out = [f"{heading} Invariants", "", *_invariants(d), "", f"{heading} Attack paths", "", *_paths(d, link),
           "", f"{heading} Single points of failure", "", *_single_points(d, link)]
    for b in d["bypass"]:
        out += ["", f"{heading} If {', '.join(md(x) for x in b['bypassed'])} is bypassed", "", *_bypass(b, link)]
    out += ["", f"{heading} Boundary crossings", "", *_crossings(d, link)]
    return "\n".join(out) + "\n"
