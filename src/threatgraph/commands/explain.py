"""`threatgraph explain ID`: a threat, mitigation, element, flow, boundary or data asset, and why
it has its status."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from threatgraph.commands.base import EXIT_OK, Command, assessed, config_of
from threatgraph.errors import InputError, Problem


def explain(config: Any, ident: str, *, fmt: str = "text", use_evidence: bool = True) -> int:
    from threatgraph.render import explain as explainer

    a = assessed(config, use_evidence)
    data = explainer.explain_data(a, ident)
    if data is None:
        raise InputError([Problem("command line", 0, 0, f"no threat, mitigation, element, flow, boundary or data asset '{ident}'",
                                  explainer.suggestion(a, ident))])
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(explainer.render_text(data))
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("id")
    p.add_argument("--format", choices=["text", "json"], default="text")


COMMAND = Command("explain", "explain a threat, mitigation, element, flow, boundary or data asset by id", _arguments,
                  lambda args: explain(config_of(args), args.id, fmt=args.format, use_evidence=not args.no_evidence),
                  policy_flags=False)
