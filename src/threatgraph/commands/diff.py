"""`threatgraph diff BASE [HEAD]`: what a change did to threats, coverage and evidence."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from threatgraph.commands import formats
from threatgraph.commands.base import EXIT_OK, EXIT_POLICY, Command, config_of, emit


def diff(config: Any, base: str, head: str | None = None, *, fmt: str = "text", output: Path | None = None,
         source_base: str | None = None, use_evidence: bool = True) -> int:
    from threatgraph import diff as differ

    change = differ.compare_revisions(config, base, head, use_evidence=use_evidence, source_base=source_base)
    emit(formats.render(formats.DIFF, fmt, change), output)
    return EXIT_POLICY if differ.fails(change, config.policy) else EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", help="git revision to compare against (e.g. origin/main)")
    p.add_argument("head", nargs="?", help="git revision (default: the working tree)")
    p.add_argument("--source-base", help="revision of --source to read for the base side (default: as head)")
    p.add_argument("--format", choices=list(formats.DIFF), default="text")
    p.add_argument("--output", type=Path, help="write the report to this file")


COMMAND = Command("diff", "compare two revisions of this project (threats, coverage, evidence)", _arguments,
                  lambda args: diff(config_of(args), args.base, args.head, fmt=args.format, output=args.output,
                                    source_base=args.source_base, use_evidence=not args.no_evidence),
                  policy_flags=False)
