"""`threatgraph export`: the model for other tools (GraphML, node-link JSON, Open Threat Model)
and its pairs for where work gets tracked (CSV, XLSX, GitHub issues)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from threatgraph.commands import formats
from threatgraph.commands.base import EXIT_INPUT, EXIT_OK, Command, assessed, config_of, emit

_NEEDS_ASSESSMENT = {"otm", "threat-dragon", "csv", "xlsx", "github-issues"}  # the others export the model graph alone


def export(config: Any, *, fmt: str = "json", out: Path | None = None, use_evidence: bool = True) -> int:
    from threatgraph import pipeline

    if fmt == "xlsx" and out is None and sys.stdout.isatty():
        print("threatgraph: error: an XLSX workbook is binary; write it to a file with --out pairs.xlsx",
              file=sys.stderr)
        return EXIT_INPUT
    subject = assessed(config, use_evidence) if fmt in _NEEDS_ASSESSMENT else pipeline.load_inputs(config).model
    rendered = formats.render(formats.EXPORT, fmt, subject)
    if out:
        emit(rendered, out)
    elif isinstance(rendered, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered)
    else:
        sys.stdout.write(rendered)
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=list(formats.EXPORT), default="json")
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")


COMMAND = Command("export", "export the model (graphml, json node-link, Open Threat Model) or its pairs "
                  "(csv, xlsx, github-issues)", _arguments,
                  lambda args: export(config_of(args), fmt=args.format, out=args.out, use_evidence=not args.no_evidence),
                  policy_flags=False, writes=True)
