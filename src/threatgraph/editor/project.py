"""One project as the editor sees it: its located problems (from threatgraph's own loaders, all
at once), and what an id under the cursor means, where it is declared, and what may be typed.

Nothing here speaks the protocol; positions are 0-based lines and code-point columns, and the
server converts them. The model file runs only when the editor saves a file of the project
(or when the snapshot cache still holds it, which means it ran before on this very content);
opening a project never runs its code, and typing in a catalog re-reads the catalogs alone."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatgraph import pipeline
from threatgraph.assess import Assessment
from threatgraph.catalog.definitions import (
    Decision,
    MitigationFile,
    MitigationRef,
    NotApplicable,
    References,
    Threat,
    ThreatFile,
)
from threatgraph.catalog.definitions import Mitigation as MitigationEntry
from threatgraph.catalog.loader import Catalog
from threatgraph.config import Config, load_config
from threatgraph.errors import InputError, Problem, printable
from threatgraph.model import cache as model_cache
from threatgraph.model.loader import model_file
from threatgraph.model.out_of_process import load_model_out_of_process
from threatgraph.model.snapshot import LoadedModel
from threatgraph.model.types import CLASSIFICATIONS, Model
from threatgraph.render.escape import md, md_code
from threatgraph.render.explain import explain_data
from threatgraph.safeyaml import MAX_FILE_BYTES
from threatgraph.selectors import ELEMENT_KINDS, ELEMENTS, FLOWS, SELECTOR_KEYS

WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_KEY_LINE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w-]*)\s*:(\s|$)")
_SHOWN = 12  # targets or threats listed in a hover before "and N more"


@dataclass(frozen=True)
class Spot:
    """A range on one line of a file: 0-based line, code-point columns [start, end), and the
    line's text they were counted in (so the server converts them to the client's units
    without reading the file again)."""

    path: Path
    line: int
    start: int
    end: int
    text: str = ""


@dataclass(frozen=True)
class Diagnostic:
    spot: Spot
    severity: str  # "error" or "warning"
    message: str


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # "key", "id" or "value"
    detail: str = ""


@dataclass
class Project:
    """What the server knows of one project, found from the pyproject.toml above a file."""

    pyproject: Path
    config: Config | None = None
    loaded: LoadedModel | None = None
    catalog: Catalog | None = None
    assessment: Assessment | None = None
    model_note: str = "the model has not run yet: save a file of the project to run it"
    problems: list[Problem] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.pyproject.parent

    @property
    def model(self) -> Model | None:
        return self.loaded.model if self.loaded is not None else None

    # -- diagnostics --------------------------------------------------------------------------
    def refresh(self, unsaved: Mapping[Path, str], *, run_model: bool, read_source: bool) -> dict[Path, list[Diagnostic]]:
        """Every problem of the project now, by file: the configuration, the model (run when
        `run_model`, else the last good snapshot or the cache's), the catalogs with the
        editor's unsaved buffers, and the assessment's warnings (evidence only when
        `read_source`: on open and save, never while typing)."""
        problems: list[Problem] = []
        try:
            self.config = load_config(self.root, explicit=self.pyproject)
        except InputError as exc:
            self.config, self.problems = None, list(exc.problems)
            return self.diagnostics(unsaved)
        self._model(self.config, run_model, problems)
        inputs = None
        try:
            if self.loaded is not None:
                inputs = pipeline.load_inputs(self.config, self.loaded, unsaved)
                self.catalog = inputs.catalog
                problems += inputs.warnings
            else:
                packs, _ = pipeline.load_packs(self.config)
                self.catalog = pipeline.read_catalog(self.config, None, packs, unsaved)
        except InputError as exc:
            problems += exc.problems
        if inputs is not None and (read_source or not self.config.source):
            try:
                self.assessment = pipeline.check(self.config, use_evidence=read_source, inputs=inputs)
            except InputError as exc:
                problems += exc.problems
        self.problems = problems
        return self.diagnostics(unsaved)

    def _model(self, config: Config, run_model: bool, problems: list[Problem]) -> None:
        if not run_model and (self.loaded is not None or not model_cache.enabled(config.model_cache)):
            return  # typing, or opening with nothing cached: the last snapshot (or none) stands
        facts = pipeline.needs_facts(config, pipeline.load_packs(config)[0])
        if not run_model:
            self.loaded = model_cache.load(config.model, config.root, facts)
            if self.loaded is not None:
                self.model_note = ""
            return
        try:
            self.loaded = load_model_out_of_process(config.model, config.root, config.model_timeout,
                                                    facts=facts, cache=config.model_cache)
            self.model_note = ""
        except InputError as exc:
            # a broken model: the catalogs are checked without it, so its errors are not
            # followed by one "unknown element" per selector
            self.loaded, self.assessment = None, None
            self.model_note = "the model failed to load: see its errors"
            problems += exc.problems

    def diagnostics(self, unsaved: Mapping[Path, str]) -> dict[Path, list[Diagnostic]]:
        out: dict[Path, list[Diagnostic]] = {}
        files: dict[Path, list[str] | None] = {}  # each file read once, however many problems it has
        for p in sorted(set(self.problems)):
            path = self.file_of(p.file)
            text = _line(path, p.line - 1, unsaved, files) if path is not None else None
            if path is None or text is None:
                path, line, text = self.pyproject, 0, _line(self.pyproject, 0, unsaved, files) or ""
                where = "" if p.line <= 0 else f" ({p.file}:{p.line})"
                message, start = f"{p.file}{where}: {p.message}", 0
            else:
                line, message, start = p.line - 1, p.message, max(0, min(p.col - 1, len(text)))
            hint = f"\nhint: {printable(p.hint)}" if p.hint else ""  # one line each: a name cannot forge lines
            spot = Spot(path, line, start, _token_end(text, start), text)
            out.setdefault(path, []).append(Diagnostic(spot, p.severity, printable(message) + hint))
        return out

    def file_of(self, shown: str) -> Path | None:
        """The project file a problem names (shown relative to the root), or None for an
        origin that is no file ("command line", "configuration") or lies outside."""
        candidate = Path(shown)
        path = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        try:
            path.relative_to(self.root.resolve())
        except ValueError:
            return None
        return path if path.is_file() else None

    def owns(self, path: Path) -> bool:
        """Whether a save of `path` can change the model's result (a Python file beside the
        model, or the configuration), so the model must run again."""
        if path.resolve() == self.pyproject.resolve():
            return True
        if self.config is None or path.suffix != ".py":
            return False
        model = model_file(self.config.model, self.config.root)
        folder = model.parent if model is not None else self.root
        return path.resolve().is_relative_to(folder.resolve())

    def catalog_file(self, path: Path) -> str | None:
        """'threats' or 'mitigations' for a YAML file in a catalog folder, else None."""
        if self.config is None or path.suffix not in (".yaml", ".yml"):
            return None
        for kind, folder in (("threats", self.config.threats), ("mitigations", self.config.mitigations)):
            if path.resolve().is_relative_to(self.config.path(folder).resolve()):
                return kind
        return None

    # -- ids ----------------------------------------------------------------------------------
    def ids(self) -> dict[str, str]:
        """Every id the project declares, with what it is."""
        out: dict[str, str] = {}
        m = self.model
        if m is not None:
            out.update({i: f"data: {d.name}" for i, d in m.data.items()})
            out.update({i: f"boundary: {b.name}" for i, b in m.boundaries.items()})
            out.update({i: f"flow: {f.name}" for i, f in m.flows.items()})
            out.update({i: f"{e.kind}: {e.name}" for i, e in m.elements.items()})
        if self.catalog is not None:
            out.update({i: f"mitigation: {x.title}" for i, x in self.catalog.mitigations.items()})
            out.update({i: f"threat: {x.title}" for i, x in self.catalog.threats.items()})
        return out

    def definition(self, ident: str, unsaved: Mapping[Path, str] | None = None) -> Spot | None:
        """Where an id is declared: a catalog entry, or the model line that creates it (its
        line read as the editor holds it, as the catalogs were)."""
        c, m = self.catalog, self.model
        where = None
        if c is not None and ident in c.threats:
            where = c.locations.threat(ident)
        elif c is not None and ident in c.mitigations:
            where = c.locations.mitigation(ident)
        elif m is not None:
            for coll in (m.elements, m.flows, m.boundaries, m.data):
                if ident in coll:
                    where = coll[ident].location
                    break
        if where is None or where.line < 1:
            return None
        path = self.file_of(where.file)
        if path is None:
            return None
        text = _line(path, where.line - 1, unsaved or {}, {}) or ""
        at = text.find(ident, max(0, where.col - 1))  # the id itself on its line, else where the entry starts
        start = at if at >= 0 else max(0, where.col - 1)
        return Spot(path, where.line - 1, start, start + len(ident) if at >= 0 else _token_end(text, start), text)

    def hover(self, ident: str) -> str | None:
        """Markdown for an id: what it is, its status, and where it lands."""
        a = self.assessment
        data = explain_data(a, ident) if a is not None else None
        if data is None:
            what = self.ids().get(ident)
            if what is None:
                return None
            note = self.model_note or "not assessed yet: fix the errors, or save, to assess it"
            return f"{md_code(ident)} — {md(what)}\n\n*{md(note)}*"
        return _HOVER.get(data["type"], _target_hover)(data)

    # -- completion ---------------------------------------------------------------------------
    def completions(self, path: Path, text: str, line: int, col: int) -> list[Completion]:
        """Keys or values that fit where the cursor is in a catalog file (read from the
        indentation above it), ids of the right kind first."""
        kind = self.catalog_file(path)
        if kind is None:
            return []
        lines = text.splitlines()
        current = lines[line] if line < len(lines) else ""
        prefix = current[:col]
        ancestors = _ancestors(lines, line, prefix)
        inline = _flow_context(prefix)
        if inline is not None:  # inside [ ] or { } on this line
            typing_key, key, parents = inline
            ancestors = [*parents, *ancestors]
            return self._keys(kind, ancestors) if typing_key else self._values(key, ancestors)
        if re.fullmatch(r"\s*(-\s+)?[\w-]*", prefix):
            # a list item may be a value (`- C-X` under mitigations) or start a mapping (`- id:`)
            items = self._values(ancestors[0], ancestors) if ancestors and "-" in prefix else []
            return items or self._keys(kind, ancestors)
        m = re.match(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:", prefix)
        key = m.group(1) if m else (ancestors[0] if ancestors else "")
        return self._values(key, ancestors)

    def _keys(self, kind: str, ancestors: list[str]) -> list[Completion]:
        if not ancestors:
            return [Completion(k, "key") for k in (ThreatFile if kind == "threats" else MitigationFile).model_fields]
        inner = ancestors[0]
        if inner == "applies_to":
            return [Completion(FLOWS, "key", "a selector over flows"), Completion(ELEMENTS, "key", "a selector over elements")]
        if "applies_to" in ancestors:
            what = FLOWS if FLOWS in ancestors else ELEMENTS
            return [Completion(k, "key", s.doc) for k, s in SELECTOR_KEYS.items() if what in s.applies]
        cls = _ENTRY_FIELDS.get((ancestors[-1], inner))
        if cls is None:
            return []
        return [Completion(k, "key", f.description or "") for k, f in cls.model_fields.items()]

    def _values(self, key: str, ancestors: list[str]) -> list[Completion]:
        m, c = self.model, self.catalog
        ids: dict[str, str] = {}
        top = ancestors[-1] if ancestors else ""
        if key == "mitigations" and top in ("threats", "amend") and c is not None:
            ids = {i: x.title for i, x in c.mitigations.items()}
        elif key in ("threat", "exclude") and c is not None:
            ids = {i: x.title for i, x in c.threats.items()}
        elif m is not None and key in ("in_boundary", "crosses"):
            ids = {i: b.name for i, b in m.boundaries.items()}
        elif m is not None and key == "data":
            ids = {i: d.name for i, d in m.data.items()}
        elif m is not None and (key == "id" and "applies_to" in ancestors or key in (FLOWS, ELEMENTS)):
            ids = ({i: f.name for i, f in m.flows.items()} if FLOWS in (key, *ancestors) else
                   {**{i: e.name for i, e in m.elements.items()}, **{i: b.name for i, b in m.boundaries.items()}})
        elif m is not None and key == "targets":
            ids = {**{i: e.name for i, e in m.elements.items()}, **{i: f.name for i, f in m.flows.items()}}
        if ids:
            return [Completion(i, "id", name) for i, name in sorted(ids.items())]
        if "applies_to" in ancestors:
            choices = {"kind": list(ELEMENT_KINDS), "classification": list(CLASSIFICATIONS)}.get(key, [])
        else:
            choices = _choices_for(key, top)
        return [Completion(v, "value") for v in choices]


# -- hovers, one per kind of id ---------------------------------------------------------------

def _counts(statuses: Iterable[str]) -> str:
    found: dict[str, int] = {}
    for s in statuses:
        found[s] = found.get(s, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(found.items())) or "none"


def _evidence(state: str) -> str:
    return "no evidence declared" if state == "none" else f"evidence {md(state)}"


def _more(n: int) -> list[str]:
    return [f"- … and {n - _SHOWN} more (`threatgraph explain`)"] if n > _SHOWN else []


def _threat_hover(d: dict[str, Any]) -> str:
    out = [f"**threat {md(d['id'])}** — {md(d['title'])}", "",
           f"severity {md(d['severity'])} · {md(', '.join(d['stride']))} · declared at {md_code(d['declared_at'])}", "",
           f"lands on {len(d['targets'])} target(s): {md(_counts(t['status'] for t in d['targets']))}"]
    out += [f"- {md(t['status'])} {md_code(t['id'])}" for t in d["targets"][:_SHOWN]] + _more(len(d["targets"]))
    if d["mitigations"]:
        out += ["", "mitigations:"]
        out += [f"- {md_code(r['id'])} ({md(r['role'])}): declared {md(r['status'])}, {_evidence(r['evidence'])}"
                + (" — **drift**" if r["drift"] else "") for r in d["mitigations"]]
    else:
        out += ["", "no mitigation linked"]
    return "\n".join(out)


def _mitigation_hover(d: dict[str, Any]) -> str:
    out = [f"**mitigation {md(d['id'])}** — {md(d['title'])}", "",
           f"declared {md(d['status'])} · {_evidence(d['evidence_state'])}" + (" — **drift**" if d["drift"] else "")]
    if d["note"]:
        out += ["", md(d["note"])]
    out += ["", f"addresses: {', '.join(md_code(t) for t in d['addresses']) or 'no threat'}"]
    if d["evidence"]:
        out += ["", "evidence:"]
        out += [f"- {md(r['result'])} {md(r['kind'])}: {md(r['proves'])}" for r in d["evidence"][:_SHOWN]]
        out += _more(len(d["evidence"]))
    return "\n".join(out)


def _data_hover(d: dict[str, Any]) -> str:
    flags = [f for f, on in (("credentials", d["credentials"]), ("PII", d["pii"])) if on]
    out = [f"**data {md(d['id'])}** — {md(d['name'])}", "", f"classification {md(d['classification'])}"
           + (f" · {', '.join(flags)}" if flags else "")]
    for label, key in (("carried by", "carried_by"), ("held by", "held_by")):
        out += ["", f"{label}: " + (", ".join(md_code(w["id"]) for w in d[key]) or "nothing in the model")]
    return "\n".join(out)


def _target_hover(d: dict[str, Any]) -> str:
    threats = d["threats"]
    out = [f"**{md(d['kind'])} {md(d['id'])}** — {md(d['name'])}", "",
           f"{len(threats)} threat(s) land here: {md(_counts(t['status'] for t in threats))}"]
    out += [f"- {md(t['status'])} {md(t['severity'])} {md_code(t['id'])} {md(t['title'])}" for t in threats[:_SHOWN]]
    return "\n".join(out + _more(len(threats)))


def _boundary_hover(d: dict[str, Any]) -> str:
    def listed(items: list[dict[str, Any]]) -> str:
        shown = ", ".join(md_code(w["id"]) for w in items[:_SHOWN])
        return (shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")) or "nothing in the model"

    inside = f" · inside {md_code(d['parent'])}" if d["parent"] else ""
    out = [f"**boundary {md(d['id'])}** — {md(d['name'])}{inside}", "",
           f"holds: {listed(d['elements'])}", "", f"crossed by {len(d['crossed_by'])} flow(s): {listed(d['crossed_by'])}"]
    if d["threats"]:
        out += ["", f"{len(d['threats'])} threat(s) on the boundary itself: {md(_counts(t['status'] for t in d['threats']))}"]
    return "\n".join(out)


_HOVER = {"threat": _threat_hover, "mitigation": _mitigation_hover, "data": _data_hover, "boundary": _boundary_hover}

# (top-level key, innermost key) -> the entry whose fields complete there
_ENTRY_FIELDS: dict[tuple[str, str], Any] = {
    ("threats", "threats"): Threat, ("threats", "mitigations"): MitigationRef, ("threats", "references"): References,
    ("decisions", "decisions"): Decision, ("decisions", "references"): References,
    ("not_applicable", "not_applicable"): NotApplicable,
    ("mitigations", "mitigations"): MitigationEntry, ("mitigations", "references"): References,
}


def _literals(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return [v for arg in typing.get_args(annotation) for v in _literals(arg)]


def _choices_for(key: str, top: str) -> list[str]:
    """The allowed values of an enumerated field (stride, severity, status ...), from the
    catalog's own definitions."""
    for (t, _), cls in _ENTRY_FIELDS.items():
        if t == top and key in cls.model_fields:
            found = _literals(cls.model_fields[key].annotation)
            if found:
                return sorted(set(found))
    return []


# -- text positions ---------------------------------------------------------------------------

def _line(path: Path, n: int, unsaved: Mapping[Path, str], files: dict[Path, list[str] | None]) -> str | None:
    """Line `n` of a file as the editor holds it (else as on disk), through `files`, which
    keeps every file read; None past its end or when it cannot be read."""
    if path not in files:
        text = unsaved.get(path)
        if text is None:
            try:
                text = None if path.stat().st_size > MAX_FILE_BYTES else path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = None
        files[path] = text.splitlines() if text is not None else None
    lines = files[path]
    if lines is None:
        return None
    return lines[n] if 0 <= n < len(lines) else ("" if n == len(lines) else None)


def _token_end(text: str, start: int) -> int:
    """Where the word, key or quoted value starting at `start` ends (the whole rest of the
    line, trimmed, when it is neither)."""
    rest = text[start:]
    if not rest.strip():
        return len(text)
    if rest[0] in "'\"":
        close = rest.find(rest[0], 1)
        return start + (close + 1 if close > 0 else len(rest.rstrip()))
    m = re.match(r"[^\s:,\]\}#]+", rest)
    return start + (m.end() if m else len(rest.rstrip()))


def word_at(text: str, col: int) -> str | None:
    """The id under (or just before) the cursor."""
    for m in WORD.finditer(text):
        if m.start() <= col <= m.end():
            return m.group(0).rstrip(".")
    return None


_KEY_BEFORE = re.compile(r"([A-Za-z_][\w-]*)\s*:\s*$")


def _flow_context(prefix: str) -> tuple[bool, str, list[str]] | None:
    """Inside a YAML flow collection on the cursor's line (`[a, b]`, `{k: v}`): whether a key
    is being typed, the key whose value is, and the keys that open the enclosing collections
    (innermost first); None outside one."""
    opened: list[tuple[str, int]] = []
    for i, ch in enumerate(prefix):
        if ch in "[{":
            opened.append((ch, i))
        elif ch in "]}" and opened:
            opened.pop()
    if not opened:
        return None
    parents = []
    for _, i in reversed(opened):
        m = _KEY_BEFORE.search(prefix[:i])
        if m:
            parents.append(m.group(1))
    ch, i = opened[-1]
    part = prefix[i + 1:].rsplit(",", 1)[-1]
    if ch == "{":
        if ":" not in part:
            return True, "", parents
        return False, part.split(":", 1)[0].strip(), parents
    return False, parents[0] if parents else "", parents[1:]


def _ancestors(lines: list[str], line: int, prefix: str) -> list[str]:
    """The keys enclosing the cursor, innermost first, read from indentation (YAML's block
    structure: a key encloses the lines indented deeper than it)."""
    dash = re.match(r"^(\s*)(-\s+)?", prefix)
    indent = len(dash.group(0)) if dash else 0
    if dash and dash.group(2):  # an item of a list: enclosed by the key at the dash's indentation or less
        indent = len(dash.group(1)) + 1
    out: list[str] = []
    for n in range(min(line, len(lines)) - 1, -1, -1):
        m = _KEY_LINE.match(lines[n])
        if not m:
            continue
        column = len(m.group(1)) + len(m.group(2) or "")
        if column < indent:
            out.append(m.group(3))
            indent = len(m.group(1)) + (1 if m.group(2) else 0) if m.group(2) else column
            if indent == 0:
                break
    return out
