"""`threatgraph history` reports: each mitigation's flips over a range, with the commit, its
date and subject; brittle locators (more flips than a real control has) flagged."""

from __future__ import annotations

from typing import Any

from threatgraph.history import BRITTLE_OVER, History
from threatgraph.history import utc_day as _date
from threatgraph.render import json_text
from threatgraph.render.escape import md, md_code, visible


def document(h: History) -> dict[str, Any]:
    return {"range": h.range, "commits": h.commits, "evaluations": h.evaluations,
            "mitigations": [{"id": t.mitigation, "declared": t.declared, "holds_at_start": t.holds_at_start,
                             "brittle": t.brittle,
                             "flips": [{"commit": f.commit.sha, "date": _date(f.commit.date),
                                        "subject": f.commit.subject, "holds": f.holds, "detail": f.detail}
                                       for f in t.flips]}
                            for t in h.timelines]}


def render_json(h: History) -> str:
    return json_text.dumps(document(h))


def render_text(h: History) -> str:
    flipped = [t for t in h.timelines if t.flips]
    lines = [f"history {visible(h.range)}: {h.commits} commits, {h.evaluations} evidence evaluations, "
             f"{len(flipped)} of {len(h.timelines)} mitigations flipped"]
    for t in flipped:
        mark = f"  BRITTLE: {len(t.flips)} flips (over {BRITTLE_OVER}); give it a better locator" if t.brittle else ""
        lines.append(f"  {visible(t.mitigation)} (declared {t.declared}){mark}")
        for f in t.flips:
            verb = "holds again" if f.holds else "stopped holding"
            lines.append(f"    {f.commit.sha[:10]} {_date(f.commit.date)} {verb}: {visible(f.commit.subject)}")
            if not f.holds:
                lines.append(f"      {visible(f.detail)}")
    return "\n".join(lines) + "\n"


def render_markdown(h: History) -> str:
    out = [f"### Evidence history {md(h.range)}", "",
           f"{h.commits} commits replayed, {h.evaluations} evidence evaluations.", ""]
    flipped = [t for t in h.timelines if t.flips]
    if not flipped:
        return "\n".join(out + ["No mitigation changed state over the range."]) + "\n"
    out += ["| mitigation | commit | date | change | subject |", "| --- | --- | --- | --- | --- |"]
    for t in flipped:
        for f in t.flips:
            change = "holds again" if f.holds else "**stopped holding**"
            brittle = " (brittle)" if t.brittle else ""
            out.append(f"| {md(t.mitigation)}{brittle} | {md_code(f.commit.sha[:10])} | {_date(f.commit.date)} | "
                       f"{change} | {md(f.commit.subject)} |")
    return "\n".join(out) + "\n"
