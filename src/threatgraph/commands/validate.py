"""`threatgraph validate`: the catalogs alone, for a pre-commit hook that answers in well under a
second: YAML, the schema, duplicate ids, the references between threats, mitigations, decisions
and packs, and the form of every evidence item. The model is not loaded (so selectors' ids are
left to `check`) and no evidence runs."""

from __future__ import annotations

import argparse
from typing import Any

from threatgraph.commands.base import EVIDENCE_FLAGS, EXIT_OK, MODEL_FLAGS, Command, config_of


def validate(config: Any) -> int:
    from threatgraph.pipeline import load_packs, read_catalog

    packs, _ = load_packs(config)
    catalog = read_catalog(config, None, packs)
    for w in catalog.warnings:
        print(w.format())
    print(f"catalogs valid: {len(catalog.threats)} threats, {len(catalog.mitigations)} mitigations, "
          f"{len(catalog.decisions)} decisions (selector ids are checked by `threatgraph check`)")
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    pass


COMMAND = Command("validate", "the catalogs alone, without loading the model (a fast pre-commit hook)", _arguments,
                  lambda args: validate(config_of(args)), policy_flags=False,
                  skip=EVIDENCE_FLAGS | MODEL_FLAGS)
