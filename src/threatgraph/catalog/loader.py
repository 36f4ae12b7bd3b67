"""Read threats/*.yaml and mitigations/*.yaml into a validated Catalog, collecting every
problem (with file, line and a hint) before reporting any."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from threatgraph.catalog.definitions import (
    Amendment,
    Decision,
    Mitigation,
    MitigationFile,
    NotApplicable,
    Threat,
    ThreatFile,
)
from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.location import CatalogLocations, Location
from threatgraph.model.types import Model
from threatgraph.safeyaml import YamlDocument, capped, load_yaml_file, parse_yaml
from threatgraph.selectors import ELEMENTS, FLOWS, validate
from threatgraph.vocabulary import rated_severity

MAX_FILES = 5_000


@dataclass(frozen=True)
class Catalog:
    threats: Mapping[str, Threat]
    mitigations: Mapping[str, Mitigation]
    decisions: tuple[Decision, ...]
    locations: CatalogLocations = field(default_factory=CatalogLocations)
    warnings: tuple[Problem, ...] = ()
    packs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # threat id -> its pack
    not_applicable: tuple[NotApplicable, ...] = ()


def _pydantic_problems(exc: ValidationError, doc: YamlDocument, prefix: tuple[Any, ...],
                       model_cls: type[BaseModel]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        kind = err["type"]
        field_name = next((str(p) for p in reversed(err["loc"]) if not isinstance(p, int)), "")
        if kind == "extra_forbidden":
            owner = _model_at(model_cls, err["loc"][:-1])
            choices = [f.alias or n for n, f in owner.model_fields.items()] if owner else []
            problems.append(doc.problem(loc, f"unknown key '{field_name}'", did_you_mean(field_name, choices),
                                        at_key=True))
        elif kind == "missing":
            problems.append(doc.problem(loc[:-1], f"missing required key '{field_name}'"))
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
            given = str(err.get("input"))
            initial = [c for c in choices if len(given) == 1 and c[:1] == given.lower()]  # STRIDE's letters
            hint = (f"'{given}' is STRIDE's letter for {initial[0]}: write {initial[0]}"
                    if field_name == "stride" and len(initial) == 1 else did_you_mean(given, choices))
            problems.append(doc.problem(loc, f"'{given}' is not a valid {field_name or 'value'}", hint))
        elif kind == "string_pattern_mismatch":
            described = _description(model_cls, tuple(p for p in err["loc"] if not isinstance(p, int)))
            problems.append(doc.problem(loc, f"'{err.get('input')}' is not a valid {field_name}",
                                        f"it must match {err.get('ctx', {}).get('pattern', '')}"
                                        + (f" ({described})" if described else "")))
        else:
            problems.append(doc.problem(loc, f"{field_name or 'value'}: {err['msg']}"))
    return problems


def _description(model_cls: type[BaseModel], names: tuple[Any, ...]) -> str:
    """The schema description of the field at `names` (field names or aliases), or ''."""
    owner = _model_at(model_cls, names[:-1]) if names else None
    for name, f in (owner.model_fields.items() if owner else ()):
        if names[-1] in (name, f.alias):
            return f.description or ""
    return ""


def _model_at(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at `loc` (skipping list indexes)."""
    current: Any = model_cls
    for part in loc:
        if isinstance(part, int):
            continue
        fld = getattr(current, "model_fields", {}).get(part)
        if fld is None:
            return None
        ann = fld.annotation
        inner = getattr(ann, "__args__", None)
        candidates = [ann, *(inner or [])]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return None
    return current if isinstance(current, type) else None


def _known_target(doc: YamlDocument, path: tuple[Any, ...], target: str, model: Model) -> list[Problem]:
    """A `not_applicable` answer names an element or flow of the model."""
    if target in model.elements or target in model.flows:
        return []
    known = set(model.elements) | set(model.flows)
    return [doc.problem(path, f"no element or flow with id '{target}' in the model", did_you_mean(target, known))]


def _check_applies_to(items: list[Any], doc: YamlDocument, base: tuple[Any, ...], model: Model) -> list[Problem]:
    problems: list[Problem] = []
    for i, item in enumerate(items):
        ipath = base + ("applies_to", i)
        keys = list(item) if isinstance(item, dict) else []
        if len(keys) != 1 or keys[0] not in (FLOWS, ELEMENTS):
            problems.append(doc.problem(ipath, "each applies_to item is {flows: selector} or {elements: selector}",
                                        did_you_mean(str(keys[0]) if keys else "", (FLOWS, ELEMENTS))))
            continue
        problems += validate(item[keys[0]], doc, ipath + (keys[0],), model, keys[0])
    return problems


CATALOG_SUFFIXES = (".yaml", ".yml")
_QUIET_SUFFIXES = (".md", ".txt", ".rst")  # notes beside the catalog are expected, not read


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, RuntimeError, OSError):
        return False


def _yaml_files(folder: Path, root: Path, label: str) -> tuple[list[Path], list[Problem], list[Problem]]:
    """The catalog files under `folder` (.yaml/.yml in any case), with the problems of what
    cannot be read: a symlink leaving the project, a special file; and warnings for files
    that are skipped because of their name."""
    if not folder.exists():
        return [], [Problem(label, 1, 1, f"catalog folder '{label}' does not exist",
                            "create it, or point [tool.threatgraph] at the right folder")], []
    if not _inside(folder, root):
        return [], [Problem(label, 1, 1, f"catalog '{label}' lies outside the project (a symlink?); it is not read",
                            "keep catalogs inside the folder of pyproject.toml")], []
    if folder.is_file():
        return [folder], [], []
    files: list[Path] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(here) / name
            shown = _display(path, root)
            if not name.lower().endswith(CATALOG_SUFFIXES):
                if not name.startswith(".") and not name.lower().endswith(_QUIET_SUFFIXES):
                    warnings.append(Problem(shown, 1, 1, "not read: catalog files end in .yaml or .yml",
                                            "rename it, or move it out of the catalog folder", "warning"))
                continue
            if path.is_symlink() and not _inside(path, root):
                problems.append(Problem(shown, 1, 1, "is a symlink that leaves the project; it is not read",
                                        "copy the file into the project instead of linking to it"))
            elif not path.is_file():
                problems.append(Problem(shown, 1, 1, "is not a regular file (a FIFO, device or broken link); "
                                        "it is not read", "replace it with a YAML file"))
            else:
                files.append(path)
    if len(files) > MAX_FILES:
        return [], [Problem(label, 1, 1, f"more than {MAX_FILES} catalog files")], []
    return files, problems, warnings


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


_ENTRY_CLS: dict[str, type[BaseModel]] = {"threats": Threat, "decisions": Decision, "mitigations": Mitigation}


class _Loading:
    """The state of one catalog load: first every file and entry on its own, then the
    cross-references between entries (which need every entry known)."""

    def __init__(self, model: Model | Callable[[], Model] | None, root: Path, evidence_validator: Any,
                 packs: Sequence[tuple[str, Threat, Location]] = (), unsaved: Mapping[Path, str] | None = None) -> None:
        self.root, self.evidence_validator = root, evidence_validator
        # a model still loading (a function that waits for it): checks against it wait too
        self.model: Model | None = None if callable(model) else model
        self.pending_model: Callable[[], Model] | None = model if callable(model) else None
        self.deferred: list[Callable[[Model], list[Problem]]] = []
        self.unsaved = unsaved or {}  # resolved path -> an editor's buffer, read instead of the file
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.threat_at: dict[str, Location] = {}
        self.mitigation_at: dict[str, Location] = {}
        self.decision_at: list[Location] = []
        self.selector_at: dict[str, tuple[Location, ...]] = {}
        self.reference_at: dict[tuple[str, str], Location] = {}
        self.evidence_at: dict[str, tuple[Location, ...]] = {}
        self.threats: dict[str, Threat] = {}
        self.mitigations: dict[str, Mitigation] = {}
        self.decisions: list[Decision] = []
        self.docs: dict[tuple[str, str], tuple[YamlDocument, tuple[Any, ...]]] = {}
        # every id an entry declares, valid or not: a reference to an entry rejected for its
        # own fields is not a second error
        self.first_seen: dict[tuple[str, str], Location] = {}
        self.pack_of: dict[str, str] = {}  # threats from packs, until a file replaces or excludes them
        self.excludes: list[tuple[YamlDocument, tuple[Any, ...], str]] = []
        self.amends: list[tuple[YamlDocument, tuple[Any, ...], Amendment]] = []
        self.not_applicable: list[tuple[NotApplicable, Location]] = []
        for name, threat, where in packs:
            self.threats[threat.id] = threat
            self.threat_at[threat.id] = where
            self.selector_at[threat.id] = (where,) * len(threat.applies_to)
            self.pack_of[threat.id] = name

    def against_model(self, check: Callable[[Model], list[Problem]]) -> None:
        """A check that needs the model: run now, or once a model still loading has loaded
        (InputError sorts the problems, so when they were found does not show)."""
        if self.pending_model is not None:
            self.deferred.append(check)
        elif self.model is not None:
            self.problems += check(self.model)

    def model_loaded(self) -> None:
        """Wait for a model still loading (its own errors raised as they are) and run the checks
        that waited for it."""
        if self.pending_model is None:
            return
        self.model, self.pending_model = self.pending_model(), None
        for check in self.deferred:
            self.problems += check(self.model)
        self.deferred = []

    @staticmethod
    def located(doc: YamlDocument, path: tuple[Any, ...]) -> Location:
        line, col = doc.where(path)
        return Location(doc.file, line, col)

    # -- pass 1: files and entries ----------------------------------------------------------
    def read_folder(self, kind: str, folder: Path, file_cls: type[BaseModel]) -> None:
        files, errs, skipped = _yaml_files(folder, self.root, _display(folder, self.root))
        self.problems += errs
        self.warnings += skipped
        for path in files:
            shown = _display(path, self.root)
            try:
                text = self.unsaved.get(path.resolve())
                doc = load_yaml_file(path, shown) if text is None else parse_yaml(capped(text, shown), shown)
            except InputError as exc:
                self.problems += exc.problems
                continue
            self.read_file(doc, kind, file_cls)

    def read_file(self, doc: YamlDocument, kind: str, file_cls: type[BaseModel]) -> None:
        if doc.data is None:
            self.warnings.append(Problem(doc.file, 1, 1, "empty catalog file", severity="warning"))
            return
        if not isinstance(doc.data, dict):
            self.problems.append(doc.problem((), "a catalog file must be a mapping", f"start the file with `{kind}:`"))
            return
        for key, value in doc.data.items():  # entry by entry, so one bad entry does not hide the others
            if key not in file_cls.model_fields:
                self.problems.append(doc.problem((key,), f"unknown top-level key '{key}' in a {kind} file",
                                                 did_you_mean(str(key), file_cls.model_fields), at_key=True))
            elif not isinstance(value, list):
                self.problems.append(doc.problem((key,), f"'{key}' must be a list"))
            elif key in ("exclude", "amend"):
                self.read_pack_change(doc, key, value)
            elif key == "not_applicable":
                self.read_not_applicable(doc, value)
            else:
                for i, raw in enumerate(value):
                    self.read_entry(doc, key, i, raw)

    def read_not_applicable(self, doc: YamlDocument, value: list[Any]) -> None:
        for i, raw in enumerate(value):
            try:
                entry = NotApplicable.model_validate(raw)
            except ValidationError as exc:
                self.problems += _pydantic_problems(exc, doc, ("not_applicable", i), NotApplicable)
                continue
            for j, target in enumerate(entry.targets):
                if any(ch in target for ch in "*?["):
                    self.problems.append(doc.problem(
                        ("not_applicable", i, "targets", j), f"'{target}' is a pattern",
                        "name each element or flow: a blanket answer hides what was never looked at"))
                else:
                    self.against_model(functools.partial(_known_target, doc, ("not_applicable", i, "targets", j), target))
            self.not_applicable.append((entry, self.located(doc, ("not_applicable", i))))

    def read_pack_change(self, doc: YamlDocument, key: str, value: list[Any]) -> None:
        for i, raw in enumerate(value):
            if key == "exclude":
                if isinstance(raw, str) and raw:
                    self.excludes.append((doc, (key, i), raw))
                else:
                    self.problems.append(doc.problem((key, i), "'exclude' takes threat ids"))
                continue
            try:
                self.amends.append((doc, (key, i), Amendment.model_validate(raw)))
            except ValidationError as exc:
                self.problems += _pydantic_problems(exc, doc, (key, i), Amendment)

    def check_rating(self, doc: YamlDocument, path: tuple[Any, ...], t: Threat) -> None:
        """A declared severity that likelihood and impact rate otherwise is kept, with a warning."""
        rated = rated_severity(t.likelihood, t.impact)
        if rated is not None and rated != t.severity:
            p = doc.problem((*path, "severity"), f"threat '{t.id}': severity {t.severity}, but likelihood "
                            f"{t.likelihood} x impact {t.impact} rates {rated} (OWASP risk rating)",
                            "change one of them, or say in the description why the declared severity stands")
            self.warnings.append(Problem(p.file, p.line, p.col, p.message, p.hint, severity="warning"))

    def read_entry(self, doc: YamlDocument, key: str, i: int, raw: Any) -> None:
        self.check_nested(doc, key, i, raw)
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        label = key[:-1]
        if key == "threats" and isinstance(raw_id, str) and self.pack_of.pop(raw_id, None) is not None:
            del self.threats[raw_id]  # the project's own definition replaces the pack's
            del self.threat_at[raw_id], self.selector_at[raw_id]
        if key != "decisions" and isinstance(raw_id, str):
            if (label, raw_id) in self.first_seen:
                first = self.first_seen[(label, raw_id)]
                self.problems.append(doc.problem((key, i, "id"), f"duplicate {label} id '{raw_id}'",
                                                 f"first defined at {first.file}:{first.line}"))
                return
            self.first_seen[(label, raw_id)] = self.located(doc, (key, i))
        cls = _ENTRY_CLS[key]
        try:
            entry = cls.model_validate(raw)
        except ValidationError as exc:
            self.problems += _pydantic_problems(exc, doc, (key, i), cls)
            return
        if isinstance(entry, Decision):
            self.decision_at.append(self.located(doc, (key, i)))
            self.docs[("decision", str(len(self.decisions)))] = (doc, (key, i))
            self.decisions.append(entry)
            return
        table: dict[str, Any] = self.threats if key == "threats" else self.mitigations
        ident = getattr(entry, "id")  # noqa: B009 - Threat and Mitigation both have an id
        if isinstance(entry, Threat):
            self.check_rating(doc, (key, i), entry)
        table[ident] = entry
        (self.threat_at if key == "threats" else self.mitigation_at)[ident] = self.located(doc, (key, i))
        self.docs[(label, ident)] = (doc, (key, i))

    def check_nested(self, doc: YamlDocument, key: str, i: int, raw: Any) -> None:
        """Selectors and evidence, checked even on an entry pydantic rejects (all problems at once)."""
        if not isinstance(raw, dict):
            return
        if key == "threats" and isinstance(raw.get("applies_to"), list):
            self.against_model(functools.partial(_check_applies_to, raw["applies_to"], doc, (key, i)))
        if key == "mitigations" and self.evidence_validator is not None and isinstance(raw.get("evidence"), list):
            for k, item in enumerate(raw["evidence"]):
                for p in self.evidence_validator(item, doc, (key, i, "evidence", k)):
                    (self.warnings if p.severity == "warning" else self.problems).append(p)

    # -- pass 2: cross-references -----------------------------------------------------------
    def declared(self, label: str, ident: str) -> bool:
        return (label, ident) in self.first_seen or (label == "threat" and ident in self.pack_of)

    def apply_pack_changes(self) -> None:
        """`exclude` drops a pack threat; `amend` changes a threat defined anywhere."""
        for doc, path, tid in self.excludes:
            if tid in self.pack_of:
                del self.threats[tid], self.pack_of[tid]
            elif tid not in self.threats:
                self.problems.append(doc.problem(path, f"exclude names unknown threat '{tid}'",
                                                 did_you_mean(tid, self.threats)))
            else:
                self.problems.append(doc.problem(path, f"'{tid}' is this project's own threat, not a pack's",
                                                 "delete its definition instead of excluding it"))
        for doc, path, change in self.amends:
            threat = self.threats.get(change.id)
            if threat is None:
                self.problems.append(doc.problem(path + ("id",), f"amend names unknown threat '{change.id}'",
                                                 did_you_mean(change.id, self.threats)))
                continue
            update: dict[str, Any] = {k: getattr(change, k) for k in ("severity", "likelihood", "impact")
                                      if getattr(change, k) is not None}
            update["tags"] = [*threat.tags, *(t for t in change.tags if t not in threat.tags)]
            known = {ref.id for ref in threat.mitigations}
            added = [ref for ref in change.mitigations if ref.id not in known]
            update["mitigations"] = [*threat.mitigations, *added]
            for j, ref in enumerate(change.mitigations):
                if ref in added:
                    self.reference_at[(change.id, ref.id)] = self.located(doc, path + ("mitigations", j))
                    if not self.declared("mitigation", ref.id):
                        self.problems.append(doc.problem(path + ("mitigations", j), f"unknown mitigation '{ref.id}'",
                                                         did_you_mean(ref.id, self.mitigations)))
            self.threats[change.id] = threat.model_copy(update=update)

    def cross_reference(self) -> None:
        self.apply_pack_changes()
        self.threat_references()
        self.decision_references()
        for mid, mitigation in self.mitigations.items():
            doc, base = self.docs[("mitigation", mid)]
            self.evidence_at[mid] = tuple(self.located(doc, base + ("evidence", k))
                                          for k in range(len(mitigation.evidence)))
        used = {ref.id for t in self.threats.values() for ref in t.mitigations}
        # With an error in the catalogs, the threats that address a mitigation may be among the
        # entries (or the file) rejected: warning about it would only bury the real error.
        for mid in sorted(set(self.mitigations) - used) if not self.problems else ():
            w = self.mitigation_at[mid]
            self.warnings.append(Problem(w.file, w.line, w.col, f"mitigation '{mid}' addresses no threat",
                                         "list it under a threat's mitigations, or remove it", "warning"))

    def threat_references(self) -> None:
        for tid, threat in self.threats.items():
            if tid in self.pack_of:
                continue  # a pack's threat: its references are checked where a file amends it
            doc, base = self.docs[("threat", tid)]
            self.selector_at[tid] = tuple(self.located(doc, base + ("applies_to", i))
                                          for i in range(len(threat.applies_to)))
            for j, ref in enumerate(threat.mitigations):
                if not self.declared("mitigation", ref.id):
                    self.problems.append(doc.problem(base + ("mitigations", j), f"unknown mitigation '{ref.id}'",
                                                     did_you_mean(ref.id, self.mitigations)))
                self.reference_at[(tid, ref.id)] = self.located(doc, base + ("mitigations", j))

    def decision_references(self) -> None:
        for n, decision in enumerate(self.decisions):
            doc, base = self.docs[("decision", str(n))]
            if not self.declared("threat", decision.threat):
                self.problems.append(doc.problem(base + ("threat",), f"decision names unknown threat '{decision.threat}'",
                                                 did_you_mean(decision.threat, self.threats)))
            if decision.decision == "accept":
                for key in ("owner", "expires"):
                    if getattr(decision, key) is None:
                        self.problems.append(doc.problem(
                            base, f"an accepted risk needs '{key}'",
                            "accept risks with an owner and an expiry date, so they are reviewed"))

    def catalog(self) -> Catalog:
        if self.problems:
            raise InputError(self.problems + self.warnings)
        return Catalog(
            threats=MappingProxyType(dict(sorted(self.threats.items()))),
            mitigations=MappingProxyType(dict(sorted(self.mitigations.items()))),
            decisions=tuple(self.decisions),
            locations=CatalogLocations(
                threats=MappingProxyType(self.threat_at), mitigations=MappingProxyType(self.mitigation_at),
                decisions=tuple(self.decision_at), selectors=MappingProxyType(self.selector_at),
                references=MappingProxyType(self.reference_at), evidence=MappingProxyType(self.evidence_at),
                not_applicable=tuple(w for _, w in self.not_applicable)),
            warnings=tuple(sorted(self.warnings)),
            packs=MappingProxyType(dict(sorted(self.pack_of.items()))),
            not_applicable=tuple(e for e, _ in self.not_applicable),
        )


def load_catalog(threats_dir: Path, mitigations_dir: Path, model: Model | Callable[[], Model] | None, root: Path,
                 evidence_validator: Any = None, packs: Sequence[tuple[str, Threat, Location]] = (),
                 unsaved: Mapping[Path, str] | None = None) -> Catalog:
    """Load and cross-check both catalogs against the model (after the threats of included
    packs, which a file may replace, exclude or amend); raise InputError with every problem.
    Without a model (`threatgraph validate`) selectors' and answers' ids are not checked;
    given a function that waits for a model still loading, the files are read and checked while
    it loads, and the function is called once, after the last file, for the checks against it.
    `unsaved` (an editor's buffers by resolved path) is read in place of those files; only
    files that exist in the catalog folders are read at all."""
    loading = _Loading(model, root, evidence_validator, packs, unsaved)
    loading.read_folder("threats", threats_dir, ThreatFile)
    loading.read_folder("mitigations", mitigations_dir, MitigationFile)
    loading.model_loaded()
    loading.cross_reference()
    return loading.catalog()
