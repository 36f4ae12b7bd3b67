"""Pairs for where work gets tracked: CSV and XLSX (one row per (threat, target) pair, for
Jira, Azure DevOps or a spreadsheet) and GitHub issues (one Markdown body per open pair, with
a marker line so a re-run updates the issue it made instead of opening another).

Every cell is text a spreadsheet will not run: a value starting with `=`, `+`, `-`, `@`, tab
or carriage return is prefixed with `'` (the OWASP advice against formula injection), XLSX
cells are stored as strings whatever they look like, and characters XML cannot carry are
shown as `<U+XXXX>`. threatgraph makes no network call: `gh issue create` is the user's."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

from threatgraph.assess import Assessment, Pair, by_risk, open_by_risk
from threatgraph.render import json_text
from threatgraph.render.escape import md, visible, xml_text
from threatgraph.rows import Row
from threatgraph.vocabulary import residual_risk

COLUMNS = ("threat", "title", "target", "target_kind", "severity", "residual_risk", "stride", "status", "rests_on",
           "reason", "mitigations", "decision", "owner", "expires")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
MARKER = "<!-- threatgraph:pair {fingerprint} -->"


@dataclass(frozen=True)
class PairRow(Row):
    threat: str
    title: str
    target: str
    target_kind: str
    severity: str
    residual_risk: str
    stride: str
    status: str
    rests_on: str
    reason: str
    mitigations: str
    decision: str
    owner: str
    expires: str


def pair_rows(a: Assessment) -> list[PairRow]:
    """Every pair, the most residual risk first (then by threat and target)."""
    out = []
    for p in by_risk(a.pairs):
        t = a.catalog.threats[p.threat]
        d = a.catalog.decisions[p.decision] if p.decision is not None else None
        out.append(PairRow(
            threat=p.threat, title=t.title, target=p.target.id, target_kind=p.target.kind, severity=p.severity,
            residual_risk=residual_risk(p.severity, p.status), stride=", ".join(t.stride), status=p.status,
            rests_on=p.basis, reason=p.reason,
            mitigations=", ".join(f"{m} ({a.mitigation_states[m].declared})" for m in p.mitigations),
            decision=d.decision if d else "", owner=(d.owner or "") if d else "",
            expires=d.expires.isoformat() if d and d.expires else ""))
    return out


def cell(value: str) -> str:
    """A value a spreadsheet shows as text: never a formula, no character XML refuses."""
    text = xml_text(value)
    return "'" + text if text.startswith(_FORMULA) else text


def render_csv(a: Assessment) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180
    w.writerow(COLUMNS)
    for r in pair_rows(a):
        w.writerow([cell(str(getattr(r, c))) for c in COLUMNS])
    return buf.getvalue()


def render_xlsx(a: Assessment) -> bytes:
    """One sheet of pairs (header frozen, filters on), one of the summary; byte-identical for
    the same inputs (fixed document dates, fixed times in the zip)."""
    import datetime

    from openpyxl import Workbook  # imported only when an XLSX is written
    from openpyxl.cell.cell import TYPE_STRING

    wb = Workbook()
    ws = wb.active
    ws.title = "pairs"
    ws.append(list(COLUMNS))
    for r in pair_rows(a):
        ws.append([None] * len(COLUMNS))
        for col, name in enumerate(COLUMNS, start=1):
            c = ws.cell(row=ws.max_row, column=col)
            c.value = cell(str(getattr(r, name)))
            c.data_type = TYPE_STRING  # a value starting with '=' stays text
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    summary = wb.create_sheet("summary")
    for key in ("pairs", "mitigated", "mitigated_verified", "mitigated_claimed", "partially_mitigated", "unmitigated",
                "accepted", "accepted_expired", "false_positive", "coverage", "verified_coverage"):
        summary.append([key, a.summary.get(key, "")])
    summary.append(["source", cell(a.source_label or "unverified (no source given)")])
    fixed = datetime.datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "threatgraph"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry dated 1980-01-01, in the same order: openpyxl stamps
    the time of writing, which would make two builds of the same inputs differ."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets `modified` to the time of saving
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                              body)
            dst.writestr(fixed, body)
    return out.getvalue()


def fingerprint(p: Pair) -> str:
    return hashlib.sha256(f"{p.threat}\x00{p.target.id}".encode()).hexdigest()[:16]


def _issue(a: Assessment, p: Pair) -> dict[str, object]:
    t = a.catalog.threats[p.threat]
    mark = MARKER.format(fingerprint=fingerprint(p))
    lines = [mark, "", f"**{md(t.title)}** on `{visible(p.target.id)}` ({visible(p.target.kind)})", "",
             f"- severity: {p.severity}; residual risk: {residual_risk(p.severity, p.status)}",
             f"- status: {p.status}" + (f" ({p.basis})" if p.basis else "") + f": {md(p.reason)}",
             f"- STRIDE: {', '.join(t.stride) or 'none'}"]
    if t.description:
        lines += ["", md(t.description)]
    if p.mitigations:
        lines += ["", "**Mitigations**", ""]
        lines += [f"- `{m}` {md(a.catalog.mitigations[m].title)} (declared {a.mitigation_states[m].declared})"
                  for m in p.mitigations]
    where = a.catalog.locations.threat(p.threat)
    lines += ["", f"Declared in `{visible(where.file)}:{where.line}`."
              + (f" Evidence read at {md(a.source_label)}." if a.source_label else " Not verified against a source.")]
    return {"fingerprint": fingerprint(p), "marker": mark, "threat": p.threat, "target": p.target.id,
            "title": visible(f"[threat model] {p.threat} on {p.target.id}: {t.title}")[:250],
            "labels": ["threat-model", f"severity:{p.severity}", *(f"stride:{s}" for s in t.stride)],
            "body": "\n".join(lines) + "\n"}


def render_github_issues(a: Assessment) -> str:
    """A JSON list, one issue per open pair (unmitigated, expired, partial), ready for a script:
    search for the marker (`gh issue list --search "<fingerprint> in:body"`), then edit that issue
    or `gh issue create --title ... --body-file ...`."""
    return json_text.dumps([_issue(a, p) for p in open_by_risk(a.pairs)])
