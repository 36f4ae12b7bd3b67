"""SARIF 2.1.0: one result per unmitigated, drifted or expired (threat, target) pair, plus
drifted controls, a stale model, broken invariants and unanalysed boundary crossings. The
rule is the threat, with Markdown help. Two placements, for code scanning in two repositories:

- `sarif` (the default) locates every result in the threat-model repository (the catalog or
  model line), with the target's `file:line` where evidence failed as a related location;
- `sarif-target` locates in the target's repository the results that have a line there
  (drift, stale model, drifted pairs), for an upload to that repository.

Each carries its own `runAutomationDetails.id` (category), so both uploads, or two models,
never replace each other's results."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from threatgraph import __version__
from threatgraph.assess import Assessment, Pair
from threatgraph.evidence.as_built import failed
from threatgraph.render import json_text
from threatgraph.render.escape import md, visible
from threatgraph.vocabulary import EXPIRED, MITIGATED, UNMITIGATED

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
PROJECT, SOURCE = "PROJECTROOT", "SRCROOT"


def _text(value: object) -> str:
    return visible(str(value))


def artifact(path: str, base: str) -> dict[str, Any]:
    """An artifactLocation: a path relative to its base, percent-encoded (RFC 3986), or an
    absolute file URI for a file that lies outside both bases (a model outside the project)."""
    pure = PurePosixPath(path)
    if pure.is_absolute():
        return {"uri": "file://" + quote(pure.as_posix(), safe="/")}
    if ".." in pure.parts:
        return {"uri": quote(pure.as_posix(), safe="/")}  # relative, but to no base SARIF knows
    return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": base}


def _location(uri: str, line: int | None, base: str, message: str = "") -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact(uri, base)}
    if line:
        physical["region"] = {"startLine": max(1, int(line))}
    loc: dict[str, Any] = {"physicalLocation": physical}
    if message:
        loc["message"] = {"text": _text(message)}
    return loc


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def _failed_evidence(a: Assessment, mid: str) -> list[dict[str, Any]]:
    """Where a mitigation's evidence failed: the source file and line when known, otherwise
    the catalog line of the evidence item."""
    out = []
    for k, r in enumerate(a.mitigation_states[mid].evidence):
        if r.result not in ("fail", "error") or r.gap:
            continue
        if r.file and r.line and not any(ch in r.file for ch in "*?["):
            out.append(_location(r.file, r.line, SOURCE, f"{mid}: {r.proves} ({r.detail})"))
        else:
            w = a.catalog.locations.evidence_item(mid, k)
            out.append(_location(w.file, w.line, PROJECT, f"{mid}: evidence '{r.proves}' {r.result}: {r.detail}"))
    return out


def _pair_result(a: Assessment, p: Pair, drifted: list[str]) -> dict[str, Any]:
    t = a.catalog.threats[p.threat]
    if drifted:
        locations = [loc for mid in drifted for loc in _failed_evidence(a, mid)]
        kind = "drifted"
        text = (f"{p.severity} threat {p.threat} on {p.target.id} lost its mitigation: "
                + ", ".join(drifted) + " declared implemented, evidence no longer holds")
    else:
        locations = []
        kind = "expired" if p.status == EXPIRED else "unmitigated"
        text = f"{p.severity} threat {p.threat} is {p.status} on {p.target.id}: {t.title}"
    if p.status == EXPIRED and p.decision is not None:
        w = a.catalog.locations.decision(p.decision)
        locations.append(_location(w.file, w.line, PROJECT, "the expired acceptance"))
    w = a.catalog.locations.threat(p.threat)
    locations.insert(0, _location(w.file, w.line, PROJECT, f"threat {p.threat} declared here"))
    target = a.model.target(p.target.id)
    related = []
    if target is not None and target.location is not None:
        related.append(_location(target.location.file, target.location.line, PROJECT,
                                 f"{p.target.kind} {p.target.id} declared here"))
    result: dict[str, Any] = {
        "ruleId": p.threat, "level": LEVEL[p.severity], "message": {"text": _text(text)},
        "locations": locations[:1], "partialFingerprints": {"threatgraph/pair/v1": _fingerprint(p.threat, p.target.id)},
        "properties": {"status": p.status, "basis": p.basis, "reason": _text(p.reason), "kind": kind,
                       "target": _text(p.target.id), "targetKind": p.target.kind, "mitigations": list(p.mitigations)},
    }
    related = [*locations[1:], *related]
    if related:
        result["relatedLocations"] = [{**loc, "id": i + 1} for i, loc in enumerate(related)]
    return result


def _drift_results(a: Assessment) -> list[dict[str, Any]]:
    """Every control that stopped holding is its own finding, whatever it does to pair statuses
    (other layers may still hold a pair partially): located at the failing evidence line, with
    the mitigation's catalog line related."""
    out = []
    for mid in a.drift:
        s = a.mitigation_states[mid]
        w = a.catalog.locations.mitigation(mid)
        declared = _location(w.file, w.line, PROJECT, f"mitigation {mid} declared {s.declared} here")
        locations = [declared, *_failed_evidence(a, mid)]
        threats = sorted({p.threat for p in a.pairs if mid in p.mitigations})
        out.append({
            "ruleId": "threatgraph.drift", "level": "error",
            "message": {"text": _text(f"control {mid} stopped holding: declared {s.declared}, but its evidence "
                                      f"{'fails' if s.evidence_state == 'fail' else 'could not be checked'}; "
                                      f"threats relying on it: {', '.join(threats) or 'none'}")},
            "locations": locations[:1],
            "relatedLocations": [{"id": i + 1, **loc} for i, loc in enumerate(locations[1:])],
            "partialFingerprints": {"threatgraph/drift/v1": _fingerprint(mid)},
            "properties": {"mitigation": mid, "declared": s.declared, "threats": threats,
                           **({"origin": _text(a.drift_origin[mid])} if mid in a.drift_origin else {})},
        })
    return out


def _stale_results(a: Assessment) -> list[dict[str, Any]]:
    """An element or flow whose own evidence stopped holding: at the source line where it
    failed (when known), with the model line that declares it related."""
    out = []
    for ident in a.stale:
        target = a.model.target(ident)
        loc = target.location if target is not None else None
        declared = _location(loc.file if loc else a.model.file, loc.line if loc else 1, PROJECT,
                             f"{ident} declared here")
        broken = failed(a.model_evidence[ident])
        at = [_location(r.file, r.line, SOURCE, f"{ident}: {r.proves} ({r.detail})")
              for r in broken if r.file and r.line and not any(ch in r.file for ch in "*?[")]
        locations = [declared, *at]
        out.append({"ruleId": "threatgraph.stale-model", "level": "error",
                    "message": {"text": _text(f"stale model: {ident} no longer exists as modelled: "
                                              + "; ".join(f"{r.proves or r.kind} ({r.detail})" for r in broken[:2]))},
                    "locations": locations[:1],
                    "relatedLocations": [{"id": i + 1, **x} for i, x in enumerate(locations[1:])],
                    "partialFingerprints": {"threatgraph/stale/v1": _fingerprint(ident)},
                    "properties": {"target": _text(ident)}})
    return out


def _rules(a: Assessment, ids: list[str]) -> list[dict[str, Any]]:
    rules = []
    for tid in ids:
        if tid in a.catalog.threats:
            t = a.catalog.threats[tid]
            refs = ", ".join([*t.references.cwe, *t.references.capec, *t.references.attack])
            rules.append({
                "id": tid, "name": tid.replace("-", "_"), "shortDescription": {"text": _text(t.title)},
                "fullDescription": {"text": _text(t.description or t.title)},
                "help": {"text": _text(f"{t.description or t.title} Mitigations: "
                                       + (", ".join(r.id for r in t.mitigations) or "none declared")
                                       + (f". References: {refs}" if refs else "")),
                         "markdown": _help_markdown(a, tid)},
                "defaultConfiguration": {"level": LEVEL[t.severity]},
                "properties": {"security-severity": SCORE[t.severity], "tags": ["security", *t.stride],
                               "severity": t.severity},
            })
        else:
            rule: dict[str, Any] = dict(SPECIAL[tid])
            help_text: dict[str, str] = rule["help"]
            rule["help"] = {**help_text, "markdown": md(help_text["text"])}
            rules.append(rule)
    return rules


def _help_markdown(a: Assessment, tid: str) -> str:
    """A threat's help as code scanning renders it: what it is, the controls that act on it and
    the state each was found in, and its references as links."""
    t = a.catalog.threats[tid]
    out = [f"**{md(t.title)}** ({t.severity}; STRIDE: {', '.join(t.stride) or 'none'})", ""]
    if t.description:
        out += [md(t.description), ""]
    if t.mitigations:
        out.append("**Mitigations**")
        out.append("")
        for ref in t.mitigations:
            m, st = a.catalog.mitigations[ref.id], a.mitigation_states[ref.id]
            state = f"declared {st.declared}" + (", drifted" if st.drift else "") + (", verified" if st.verified else "")
            out.append(f"- `{ref.id}` {md(m.title)} ({ref.role}; {state})")
        out.append("")
    else:
        out += ["No mitigation is declared.", ""]
    refs = t.references
    links = [f"[{r}]({url})" for r, url in refs.linked()]
    if links:
        out.append("**References**: " + ", ".join(links))
    return "\n".join(out).strip() + "\n"


SPECIAL: dict[str, dict[str, Any]] = {
    "threatgraph.drift": {
        "id": "threatgraph.drift", "name": "ControlStoppedHolding",
        "shortDescription": {"text": "A mitigation declared present no longer holds in the source"},
        "help": {"text": "The mitigation's evidence fails (or cannot be checked) in the target's source. Every such "
                         "control is reported, also when other layers keep the threats it addresses partly "
                         "mitigated. Restore the control, or update the catalog if it moved or was removed."},
        "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "7.0", "tags": ["security"]},
    },
    "threatgraph.stale-model": {
        "id": "threatgraph.stale-model", "name": "StaleModel",
        "shortDescription": {"text": "An element or flow of the model no longer exists in the source as modelled"},
        "help": {"text": "The model gives this element or flow evidence that it exists in the target (the code that "
                         "creates it). That evidence no longer holds: update the model to the system, or the "
                         "evidence to where the code moved."},
        "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "5.0", "tags": ["security"]},
    },
    "threatgraph.invariant": {
        "id": "threatgraph.invariant", "name": "BrokenInvariant",
        "shortDescription": {"text": "An architecture invariant declared in the model does not hold"},
        "help": {"text": "The model declares an invariant (always_through, never_reaches or crossing_flows) that "
                         "the current model and coverage break; the message gives a counterexample path."},
        "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "8.0", "tags": ["security"]},
    },
    "threatgraph.unanalysed-crossing": {
        "id": "threatgraph.unanalysed-crossing", "name": "UnanalysedBoundaryCrossing",
        "shortDescription": {"text": "A flow crosses a trust boundary but no threat is mapped to it"},
        "help": {"text": "STRIDE-per-interaction: every flow crossing a trust boundary needs at least one threat. "
                         "Map a threat to the flow in threats/ (applies_to)."},
        "defaultConfiguration": {"level": "warning"}, "properties": {"security-severity": "5.5", "tags": ["security"]},
    },
}


def _in_target(result: dict[str, Any]) -> dict[str, Any] | None:
    """The result located at its first line in the target's source (the rest related), or
    None when it has none."""
    every = [*result.get("locations", []), *result.get("relatedLocations", [])]
    inside = [loc for loc in every if loc["physicalLocation"]["artifactLocation"].get("uriBaseId") == SOURCE]
    if not inside:
        return None
    primary = {k: v for k, v in inside[0].items() if k != "id"}
    rest = [{k: v for k, v in loc.items() if k != "id"} for loc in every if loc is not inside[0]]
    out = {**result, "locations": [primary]}
    out.pop("relatedLocations", None)
    if rest:
        out["relatedLocations"] = [{**loc, "id": i + 1} for i, loc in enumerate(rest)]
    return out


def category(a: Assessment, locate: str) -> str:
    """The code-scanning category: one per model and placement."""
    return _category(re.sub(r"[^a-z0-9]+", "-", a.model.name.lower()).strip("-")[:60] or "model", locate)


def _category(name: str, locate: str) -> str:
    return f"threatgraph{'-target' if locate == 'target' else ''}/{name}/"


def document(a: Assessment, locate: str = "model") -> dict[str, Any]:
    results = []
    for p in a.pairs:
        drifted = sorted(m for m in p.mitigations if a.mitigation_states[m].drift)
        if p.status in (UNMITIGATED, EXPIRED) or (drifted and p.status != MITIGATED):
            results.append(_pair_result(a, p, drifted))
    results += _drift_results(a)
    results += _stale_results(a)
    an = a.analysis
    if an is not None:
        decl = a.model.declarations
        for inv in an.invariants:
            if inv.holds:
                continue
            file, line = (decl.location.file, decl.location.line) if decl is not None else (a.model.file, 1)
            results.append({"ruleId": "threatgraph.invariant", "level": "error",
                            "message": {"text": _text(f"invariant broken: {inv.name}; counterexample: {inv.detail}")},
                            "locations": [_location(file, line, PROJECT)],
                            "partialFingerprints": {"threatgraph/invariant/v1": _fingerprint(inv.name)}})
        flagged = {v.subject for v in a.violations if v.rule == "require_crossing_threats"}
        for c in an.crossings:  # the crossings the policy flagged, located at the flow
            if c.flow in flagged:
                f = a.model.flows[c.flow]
                loc = f.location
                results.append({"ruleId": "threatgraph.unanalysed-crossing", "level": "warning",
                                "message": {"text": _text(f"flow {f.id} crosses {', '.join(f.crosses)} but no "
                                                          "threat is mapped to it")},
                                "locations": [_location(loc.file if loc else a.model.file, loc.line if loc else 1,
                                                        PROJECT)],
                                "partialFingerprints": {"threatgraph/crossing/v1": _fingerprint(f.id)}})
    if locate == "target":
        results = [r for r in (_in_target(x) for x in results) if r is not None]
    rule_ids = sorted({r["ruleId"] for r in results})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    for r in results:
        r["ruleIndex"] = index[r["ruleId"]]
    base_ids: dict[str, Any] = {PROJECT: {"description": {"text": "the threat-model repository (pyproject.toml)"}}}
    if a.source_label:
        base_ids[SOURCE] = {"description": {"text": _text(f"the target system's source: {a.source_label}")}}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "threatgraph", "version": __version__, "semanticVersion": __version__,
                                "rules": _rules(a, rule_ids)}},
            "automationDetails": {"id": category(a, locate)},
            "originalUriBaseIds": base_ids,
            "results": results,
            "properties": {"coverage": a.summary["coverage"], "verifiedCoverage": a.summary["verified_coverage"],
                           "assessed": a.summary["assessed"], "policyPassed": a.passed},
        }],
    }


def render(a: Assessment) -> str:
    return json_text.dumps(document(a))


def render_target(a: Assessment) -> str:
    return json_text.dumps(document(a, "target"))


def failure(problems: list[Any], locate: str = "model") -> str:
    """A SARIF run for inputs threatgraph could not read (exit 2): no results, the run marked
    unsuccessful, each problem a tool-execution notification at its file and line. So a
    workflow's upload step explains the failure instead of failing on a missing file."""
    notes = []
    for p in problems:
        loc = _location(p.file, p.line, PROJECT) if p.file and not p.file.startswith("command line") else None
        note: dict[str, Any] = {"level": "error" if p.severity == "error" else "warning",
                                "message": {"text": _text(p.message + (f" (fix: {p.hint})" if p.hint else ""))},
                                "descriptor": {"id": "threatgraph.input-error"}}
        if loc is not None:
            note["locations"] = [loc]
        notes.append(note)
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "threatgraph", "version": __version__, "semanticVersion": __version__,
                                         "rules": []}},
                     "automationDetails": {"id": _category("input-error", locate)},
                     "invocations": [{"executionSuccessful": False, "exitCode": 2,
                                      "toolExecutionNotifications": notes}],
                     "originalUriBaseIds": {PROJECT: {"description": {"text": "the threat-model repository"}}},
                     "results": []}]}
    return json_text.dumps(doc)
