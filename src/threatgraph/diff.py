"""`threatgraph diff BASE [HEAD]`: what a change to the threat model (or to the target's
source) did to coverage. Each revision of this project is extracted from git into a
temporary folder and loaded in isolation; both sides read evidence from the same source
unless `--source-base` names another revision of it."""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from threatgraph import pipeline
from threatgraph.assess import Assessment
from threatgraph.config import Config, Policy, load_config
from threatgraph.errors import InputError, Problem
from threatgraph.gitcmd import run_git
from threatgraph.render import json_text
from threatgraph.render.escape import md, md_code, visible
from threatgraph.rows import Row, to_json
from threatgraph.vocabulary import EXPIRED, UNMITIGATED

OPEN = (UNMITIGATED, EXPIRED)


@dataclass(frozen=True)
class PairRow(Row):
    threat: str
    target: str
    severity: str
    status: str


@dataclass(frozen=True)
class PairChange(Row):
    """A pair whose status changed, or that is newly open (`before` None: the pair is new)."""

    threat: str
    target: str
    severity: str
    status: str
    before: str | None


@dataclass(frozen=True)
class EvidenceChange(Row):
    mitigation: str
    before: str
    after: str
    declared: tuple[str, str]
    drift: bool
    items: tuple[int, int]
    where: tuple[str, ...]
    declared_at: str


@dataclass(frozen=True)
class UnanalysedFlow(Row):
    flow: str
    crosses: tuple[str, ...]
    declared_at: str


@dataclass(frozen=True)
class InvariantChange(Row):
    invariant: str
    before: bool | None
    after: bool
    detail: str


@dataclass(frozen=True)
class Change:
    base: str
    head: str
    added: dict[str, list[str]] = field(default_factory=dict)  # elements, flows, boundaries, threats, mitigations
    removed: dict[str, list[str]] = field(default_factory=dict)
    pairs_added: tuple[PairRow, ...] = ()
    pairs_removed: tuple[PairRow, ...] = ()
    status_changed: tuple[PairChange, ...] = ()
    newly_unmitigated: tuple[PairChange, ...] = ()
    evidence_changed: tuple[EvidenceChange, ...] = ()
    unanalysed_flows: tuple[UnanalysedFlow, ...] = ()
    invariants_changed: tuple[InvariantChange, ...] = ()
    coverage: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = to_json(self)
        out["coverage"] = {"base": self.coverage[0], "head": self.coverage[1]}
        return out

    @property
    def empty(self) -> bool:
        return not any([*self.added.values(), *self.removed.values(), self.pairs_added, self.pairs_removed,
                        self.status_changed, self.evidence_changed, self.invariants_changed])


def _git(cwd: Path, *args: str) -> bytes:
    proc = run_git(cwd, *args, needed_by="diff")  # revisions are checked and follow --end-of-options
    if proc.returncode != 0:
        raise InputError([Problem(str(cwd), 1, 1, f"git {args[0]} failed: "
                                  + proc.stderr.decode("utf-8", "replace").strip()[:300],
                                  "name a revision of this project's repository (a commit, branch or tag)")])
    return proc.stdout


@contextmanager
def materialise(root: Path, rev: str) -> Iterator[Path]:
    """This project's folder as of `rev`, extracted into a temporary folder (work tree untouched)."""
    if not rev or rev.startswith("-"):
        raise InputError([Problem("command line", 0, 0, f"invalid revision {rev!r}")])
    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
    commit = _git(root, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    rel = root.resolve().relative_to(top.resolve())
    archive = _git(top, "archive", "--format=tar", commit, "--", rel.as_posix() if str(rel) != "." else ".")
    with tempfile.TemporaryDirectory(prefix="threatgraph-rev-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter=_confined)  # noqa: S202 - tarfile's data filter, see _confined
        yield Path(tmp) / rel


def _confined(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's `data` filter, except that a member it refuses (a symlink leading outside the
    project, an absolute link) is left out instead of ending the diff: threatgraph never
    follows such a link anyway."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def _side(config: Config, root: Path | None, source_ref: str | None, use_evidence: bool) -> Assessment:
    if root is None:
        cfg = config
    else:
        at_rev = load_config(root)
        cfg = replace(at_rev, source=str(pipeline.source_path(config)) if config.source else None,
                      source_ref=config.source_ref, policy=config.policy)
    if source_ref is not None:
        cfg = replace(cfg, source_ref=source_ref)
    return pipeline.check(cfg, use_evidence=use_evidence)


def compare_revisions(config: Config, base: str, head: str | None, use_evidence: bool = True,
                      source_base: str | None = None) -> Change:
    with materialise(config.root, base) as base_root:
        before = _side(config, base_root, source_base, use_evidence)
    if head is None:
        after = _side(config, None, None, use_evidence)
    else:
        with materialise(config.root, head) as head_root:
            after = _side(config, head_root, None, use_evidence)
    return compare(before, after, base, head or "working tree")


def compare(before: Assessment, after: Assessment, base: str = "base", head: str = "head") -> Change:
    mb, ma = before.model, after.model
    added, removed = {}, {}
    for kind, b, a in (("elements", mb.elements, ma.elements), ("flows", mb.flows, ma.flows),
                       ("boundaries", mb.boundaries, ma.boundaries),
                       ("threats", before.catalog.threats, after.catalog.threats),
                       ("mitigations", before.catalog.mitigations, after.catalog.mitigations)):
        added[kind] = sorted(set(a) - set(b))
        removed[kind] = sorted(set(b) - set(a))
    pb = {(p.threat, p.target.id): p for p in before.pairs}
    pa = {(p.threat, p.target.id): p for p in after.pairs}

    def row(p: Any) -> PairRow:
        return PairRow(p.threat, p.target.id, p.severity, p.status)

    def change(p: Any, before: str | None) -> PairChange:
        return PairChange(p.threat, p.target.id, p.severity, p.status, before)

    pairs_added = tuple(row(pa[k]) for k in sorted(set(pa) - set(pb)))
    pairs_removed = tuple(row(pb[k]) for k in sorted(set(pb) - set(pa)))
    changed = tuple(change(pa[k], pb[k].status) for k in sorted(set(pa) & set(pb)) if pa[k].status != pb[k].status)
    newly = tuple(change(pa[k], pb[k].status if k in pb else None) for k in sorted(pa)
                  if pa[k].status in OPEN and (k not in pb or pb[k].status not in OPEN))
    evidence = []
    for mid in sorted(set(after.mitigation_states) & set(before.mitigation_states)):
        sb, sa = before.mitigation_states[mid], after.mitigation_states[mid]
        if (sb.evidence_state, sb.drift, sb.declared, len(sb.evidence)) != \
                (sa.evidence_state, sa.drift, sa.declared, len(sa.evidence)):
            where = tuple(r.where for r in sa.evidence if r.result != "pass" and r.where)
            evidence.append(EvidenceChange(mid, sb.evidence_state, sa.evidence_state, (sb.declared, sa.declared),
                                           sa.drift, (len(sb.evidence), len(sa.evidence)), where,
                                           str(after.catalog.locations.mitigation(mid))))
    unanalysed = []
    if after.analysis is not None:
        before_unanalysed = {c.flow for c in (before.analysis.crossings if before.analysis else []) if not c.threats}
        for c in after.analysis.crossings:
            if not c.threats and c.flow not in before_unanalysed:
                f = ma.flows[c.flow]
                unanalysed.append(UnanalysedFlow(f.id, c.crosses, str(f.location) if f.location else ma.file))
    inv_b = {i.name: i.holds for i in (before.analysis.invariants if before.analysis else [])}
    inv_changed = tuple(InvariantChange(i.name, inv_b.get(i.name), i.holds, i.detail)
                        for i in (after.analysis.invariants if after.analysis else []) if inv_b.get(i.name) != i.holds)
    return Change(base, head, added, removed, pairs_added, pairs_removed, changed, newly, tuple(evidence),
                  tuple(unanalysed), inv_changed, (float(before.summary["coverage"]), float(after.summary["coverage"])))


def fails(change: Change, policy: Policy) -> bool:
    return bool(policy.no_new_unmitigated and change.newly_unmitigated)


def render_json(change: Change) -> str:
    return json_text.dumps(change.to_json())


def render_markdown(change: Change) -> str:
    c = change
    out = [f"### Threat model: {md(c.base)} → {md(c.head)}", ""]
    out.append(f"Coverage {c.coverage[0]:.1%} → **{c.coverage[1]:.1%}**.")
    if c.empty and not c.newly_unmitigated:
        out += ["", "No change to the model, the threats or their coverage."]
        return "\n".join(out) + "\n"
    if c.newly_unmitigated:
        out += ["", f"#### ❌ {len(c.newly_unmitigated)} newly unmitigated pair(s)", "",
                "| severity | threat | target | before | now |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {r.severity} | {md(r.threat)} | {md_code(r.target)} | {r.before or 'new'} | "
                f"{r.status} |" for r in c.newly_unmitigated]
    if c.evidence_changed:
        out += ["", "#### Evidence", "", "| mitigation | evidence | declared | where |", "| --- | --- | --- | --- |"]
        for r in c.evidence_changed:
            drift = " **drift**" if r.drift else ""
            where = ", ".join(md_code(w) for w in r.where) or md_code(r.declared_at)
            out.append(f"| {md(r.mitigation)}{drift} | {r.before} → {r.after} (items {r.items[0]} → "
                       f"{r.items[1]}) | {r.declared[0]} → {r.declared[1]} | {where} |")
    if c.unanalysed_flows:
        out += ["", "#### Unanalysed boundary crossings", ""]
        out += [f"- {md_code(r.flow)} crosses {', '.join(md(b) for b in r.crosses)}, no threat mapped "
                f"({md_code(r.declared_at)})" for r in c.unanalysed_flows]
    if c.invariants_changed:
        out += ["", "#### Invariants", ""]
        out += [f"- {md(r.invariant)}: {'holds' if r.after else '**broken**'}"
                + ("" if r.after else f" ({md(r.detail)})") for r in c.invariants_changed]
    if c.status_changed:
        out += ["", "#### Status changes", "", "| threat | target | before | now |", "| --- | --- | --- | --- |"]
        out += [f"| {md(r.threat)} | {md_code(r.target)} | {r.before} | {r.status} |" for r in c.status_changed]
    model_lines = []
    for kind in ("elements", "flows", "boundaries", "threats", "mitigations"):
        if c.added.get(kind):
            model_lines.append(f"- {kind} added: " + ", ".join(md_code(x) for x in c.added[kind]))
        if c.removed.get(kind):
            model_lines.append(f"- {kind} removed: " + ", ".join(md_code(x) for x in c.removed[kind]))
    if c.pairs_added or c.pairs_removed:
        model_lines.append(f"- (threat, target) pairs: {len(c.pairs_added)} added, {len(c.pairs_removed)} removed")
    if model_lines:
        out += ["", "#### Model and catalog", "", *model_lines]
    return "\n".join(out) + "\n"


def render_text(change: Change) -> str:
    text = render_markdown(change).replace("**", "").replace("`", "").replace("\\", "")
    return "".join(visible(line) + "\n" for line in text.splitlines())
