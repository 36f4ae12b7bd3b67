"""The stages, wired once: config → model → catalog → mapping → evidence → assessment."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from threatgraph.analysis.run import analyse
from threatgraph.assess import Assessment, assess
from threatgraph.catalog.definitions import today
from threatgraph.catalog.loader import Catalog, load_catalog
from threatgraph.config import Config, Policy
from threatgraph.errors import InputError, Problem
from threatgraph.evidence.runner import run_evidence
from threatgraph.evidence.source import SourceError, open_source
from threatgraph.evidence.spec import validate_item
from threatgraph.mapping import map_threats
from threatgraph.model.loader import load_model
from threatgraph.model.types import Model
from threatgraph.policy import evaluate
from threatgraph.selectors import ModelIndex


@dataclass(frozen=True)
class Loaded:
    model: Model
    catalog: Catalog
    warnings: tuple[Problem, ...]


def load_inputs(config: Config) -> Loaded:
    loaded = load_model(config.model, config.root, config.model_timeout)
    catalog = load_catalog(config.path(config.threats), config.path(config.mitigations), loaded.model,
                           config.root, evidence_validator=validate_item)
    return Loaded(loaded.model, catalog, loaded.warnings + catalog.warnings)


def source_path(config: Config) -> Path | None:
    if not config.source:
        return None
    p = Path(config.source).expanduser()
    return p if p.is_absolute() else (config.root / p)


def check(config: Config, use_evidence: bool = True, inputs: Loaded | None = None) -> Assessment:
    """Everything `threatgraph check` computes, as one immutable Assessment."""
    inputs = inputs or load_inputs(config)
    index = ModelIndex(inputs.model)
    mapping = map_threats(inputs.model, inputs.catalog, index)
    source = None
    src = source_path(config) if use_evidence else None
    if src is not None:
        try:
            source = open_source(src, config.source_ref)
        except SourceError as exc:
            raise InputError([Problem(str(src), 1, 1, f"cannot open source: {exc}",
                                      "--source takes a checkout of the target system; --source-ref a git revision")]) from None
    try:
        evidence = run_evidence(inputs.catalog.mitigations, source)
    finally:
        close = getattr(source, "close", None)
        if close:
            close()
    a = assess(inputs.model, inputs.catalog, mapping, evidence, config.policy, today(),
               source.label if source else None, inputs.warnings)
    return judge(replace(a, analysis=analyse(a)), config.policy)


def judge(a: Assessment, policy: Policy, change: Any = None) -> Assessment:
    """The verdict: every policy rule evaluated once over the finished assessment (and, for
    `check --base`, the change since the base revision)."""
    return replace(a, violations=evaluate(a, policy, change))
