"""The stages, wired once: config → model → catalog → mapping → evidence → assessment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from threatgraph import clock
from threatgraph.analysis.run import analyse
from threatgraph.assess import Assessment, assess
from threatgraph.catalog import scan
from threatgraph.catalog.loader import Catalog, load_catalog
from threatgraph.config import Config, Policy, where_set
from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.evidence import as_built
from threatgraph.evidence.runner import run_evidence
from threatgraph.evidence.source import SourceError, SourceTree, open_source
from threatgraph.evidence.spec import validate_item
from threatgraph.mapping import Target, map_threats
from threatgraph.model.loader import abandon, begin, load_model
from threatgraph.model.snapshot import LoadedModel
from threatgraph.model.types import Model
from threatgraph.packs import PACKS, Pack, PackContext
from threatgraph.policy import evaluate
from threatgraph.process import without_collection
from threatgraph.selectors import ModelIndex
from threatgraph.triage import import_triage, without_unused_pack_threats


@dataclass(frozen=True)
class Loaded:
    model: Model
    catalog: Catalog
    warnings: tuple[Problem, ...]


def load_packs(config: Config) -> tuple[list[Pack], tuple[Problem, ...]]:
    """The packs the configuration includes, and a warning per library entry left out."""
    unknown = [name for name in config.packs if name not in PACKS]
    if unknown:
        file, line = where_set(config, "packs")
        raise InputError([Problem(file, line, 1, f"unknown pack '{name}'", did_you_mean(name, PACKS))
                          for name in unknown])
    context = PackContext(stride=config.stride)
    packs = [PACKS[name](context) for name in config.packs]
    warnings = tuple(Problem(u.location.file, u.location.line, 1, f"{p.name} pack: {u.id} left out: {u.reason}",
                             "its condition uses a construct threatgraph does not translate", "warning")
                     for p in packs for u in p.untranslated)
    return packs, warnings


def uses_conditions(config: Config) -> bool:
    """Whether any threat file may use a condition on pytm's attribute values (catalog/scan.py)."""
    return scan.uses_conditions(config.path(config.threats))


def _no_project(config: Config) -> None:
    """Said in words when there is no configuration and no model where the defaults look, not
    blamed on a pyproject.toml that does not exist."""
    spec = config.model.partition(":")[0]
    if config.pyproject is None and spec.endswith(".py") and not (config.root / spec).exists():
        raise InputError([Problem("configuration", 0, 0, f"no pyproject.toml with [tool.threatgraph] in {config.root} "
                                  f"or any folder above it, and no {spec} there",
                                  "run `threatgraph init` to start a project here, or pass --config or --model")])


def load_inputs(config: Config, loaded: LoadedModel | None = None,
                unsaved: Mapping[Path, str] | None = None) -> Loaded:
    """The model (run in its child process, or `loaded` when the caller has it already) and
    the catalogs checked against it; `unsaved` holds an editor's buffers (threatgraph.editor)."""
    _no_project(config)
    packs, pack_warnings = load_packs(config)
    got: list[LoadedModel] = [loaded] if loaded is not None else []
    if not got:
        begin(config.model, config.root, config.model_timeout, facts=needs_facts(config, packs), cache=config.model_cache)

    model_warnings: list[Problem] = []

    def model() -> Model:
        """The model, once loaded (the catalogs are read while it runs); its own errors first."""
        if not got:
            got.append(load_model(config.model, config.root, config.model_timeout,
                                  facts=needs_facts(config, packs), cache=config.model_cache))
        problems = as_built.validate(got[0].model)
        if any(p.severity == "error" for p in problems):
            raise InputError(problems)
        model_warnings[:] = problems
        return got[0].model

    try:
        catalog = read_catalog(config, model, packs, unsaved)
    except BaseException:
        abandon()  # a model still running for a check that has already failed
        raise
    return Loaded(got[0].model, catalog, got[0].warnings + tuple(model_warnings) + catalog.warnings + pack_warnings)


def needs_facts(config: Config, packs: list[Pack]) -> bool:
    """Whether the model's pytm attribute values must be kept (for packs and conditions)."""
    return bool(packs) or uses_conditions(config)


def read_catalog(config: Config, model: Model | Callable[[], Model] | None, packs: list[Pack],
                 unsaved: Mapping[Path, str] | None = None) -> Catalog:
    """Both catalogs with the packs' threats, checked against `model` (None: without it, as
    `validate` does; a function: a model still loading, see load_catalog)."""
    return load_catalog(config.path(config.threats), config.path(config.mitigations), model, config.root,
                        evidence_validator=validate_item, unsaved=unsaved,
                        packs=[(p.name, threat, where) for p in packs for threat, where in p.threats])


def assessed_pairs(inputs: Loaded, index: ModelIndex | None = None
                   ) -> tuple[Catalog, Mapping[str, tuple[Target, ...]], tuple[Problem, ...]]:
    """The catalog as assessed (packs' threats that land nowhere left out, the model's own
    triage added as decisions) and the (threat, target) pairs."""
    mapping = map_threats(inputs.model, inputs.catalog, index or ModelIndex(inputs.model))
    catalog, mapping = without_unused_pack_threats(inputs.catalog, mapping)
    catalog, warnings = import_triage(inputs.model, catalog, mapping)
    return catalog, mapping, warnings


def source_path(config: Config) -> Path | None:
    if not config.source:
        return None
    p = Path(config.source).expanduser()
    return p if p.is_absolute() else (config.root / p)


def source_label(config: Config, source: SourceTree | None) -> str | None:
    """How outputs name the source: its configured name (or its folder's name) and the commit
    read; never the machine's path to it, so outputs are the same on every machine."""
    if source is None:
        return None
    path = source_path(config)
    name = config.source_name or (path.resolve().name if path is not None else "source")
    return f"{name}@{source.commit[:12]}" if source.commit else f"{name} (working tree)"


def check(config: Config, use_evidence: bool = True, inputs: Loaded | None = None) -> Assessment:
    """Everything `threatgraph check` computes, as one immutable Assessment. Once the inputs
    are in (the model ran with collection on: it is user code), cyclic collection is paused:
    the assessment is one large graph of values that stays to the end, and each pass over it
    found almost nothing to free (2.2 s of a 100,000-element check). The few cycles it makes
    (graphs) are collected when it resumes."""
    inputs = inputs or load_inputs(config)
    with without_collection():
        return _assessed(config, use_evidence, inputs)


def _assessed(config: Config, use_evidence: bool, inputs: Loaded) -> Assessment:
    catalog, mapping, triage_warnings = assessed_pairs(inputs)
    source = None
    src = source_path(config) if use_evidence else None
    if src is not None:
        try:
            source = open_source(src, config.source_ref)
        except SourceError as exc:
            raise InputError([Problem(str(src), 1, 1, f"cannot open source: {exc}",
                                      "--source takes a checkout of the target system; --source-ref a git revision")]) from None
    try:
        evidence = run_evidence(catalog.mitigations, source)
        model_evidence = as_built.run(inputs.model, source)
    finally:
        close = getattr(source, "close", None)
        if close:
            close()
    a = assess(inputs.model, catalog, mapping, evidence, config.policy, clock.today(),
               source_label(config, source), inputs.warnings + triage_warnings)
    a = replace(a, source_commit=source.commit if source else None, source_url=config.source_url)
    a = replace(a, model_evidence=model_evidence, stale=as_built.stale(model_evidence))
    return judge(replace(a, analysis=analyse(a, config.stride)), config.policy)


def judge(a: Assessment, policy: Policy, change: Any = None) -> Assessment:
    """The verdict: every policy rule evaluated once over the finished assessment (and, for
    `check --base`, the change since the base revision)."""
    return replace(a, violations=evaluate(a, policy, change))
