"""`threatgraph list`: ids of threats, mitigations, elements, flows, boundaries or data."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from threatgraph.commands.base import EVIDENCE_FLAGS, EXIT_OK, Command, config_of
from threatgraph.render import json_text

KINDS = ["threats", "mitigations", "elements", "flows", "boundaries", "data"]


def list_ids(config: Any, what: str, *, fmt: str = "text") -> int:
    from threatgraph import pipeline
    from threatgraph.render import listing

    inputs = pipeline.load_inputs(config)
    items = listing.rows(what, inputs.model, inputs.catalog)
    if fmt == "json":
        sys.stdout.write(json_text.dumps(items))
    else:
        sys.stdout.write(listing.render_text(items))
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=KINDS)
    p.add_argument("--format", choices=["text", "json"], default="text")


COMMAND = Command("list", "list ids of threats, mitigations, elements, flows, boundaries or data", _arguments,
                  lambda args: list_ids(config_of(args), args.what, fmt=args.format), policy_flags=False,
                  skip=EVIDENCE_FLAGS)
