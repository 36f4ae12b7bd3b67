"""`threatgraph paths`: invariants, attack paths and single points of failure."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from threatgraph.commands import formats
from threatgraph.commands.base import EXIT_OK, EXIT_POLICY, Command, assessed, config_of


def paths(config: Any, *, fmt: str = "text", use_evidence: bool = True) -> int:
    a = assessed(config, use_evidence)
    sys.stdout.write(formats.render(formats.PATHS, fmt, a))
    broken = a.analysis is not None and any(not i.holds for i in a.analysis.invariants)
    return EXIT_POLICY if broken else EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=list(formats.PATHS), default="text")


COMMAND = Command("paths", "invariants, attack paths and single points of failure", _arguments,
                  lambda args: paths(config_of(args), fmt=args.format, use_evidence=not args.no_evidence),
                  policy_flags=False)
