"""`threatgraph history`: replay every mitigation's evidence over BASE..HEAD of the target's git
history and name the commit of each flip."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from threatgraph.commands import formats
from threatgraph.commands.base import EXIT_OK, Command, config_of, emit
from threatgraph.errors import InputError, Problem


def history(config: Any, revisions: str, *, fmt: str = "text", output: Path | None = None) -> int:
    from threatgraph import pipeline
    from threatgraph.history import replay

    base, sep, head = revisions.partition("..")
    if not sep or not base or not head:
        raise InputError([Problem("command line", 0, 0, f"--source-ref {revisions!r} is not a range",
                                  "history takes --source-ref BASE..HEAD, e.g. b8596445..f5509576")])
    src = pipeline.source_path(config)
    if src is None:
        raise InputError([Problem("command line", 0, 0, "history needs --source (a git repository of the target)")])
    inputs = pipeline.load_inputs(config)
    emit(formats.render(formats.HISTORY, fmt, replay(inputs.catalog.mitigations, src, base, head)), output)
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=list(formats.HISTORY), default="text")
    p.add_argument("--output", type=Path, help="write the report to this file")


def _run(args: argparse.Namespace) -> int:
    revisions = args.source_ref or ""
    args.source_ref = None  # a range, not one revision: the configuration reads the source as a folder
    return history(config_of(args), revisions, fmt=args.format, output=args.output)


COMMAND = Command("history", "replay every mitigation's evidence over --source-ref BASE..HEAD; name each flip's commit",
                  _arguments, _run, policy_flags=False,
                  skip=frozenset({"--no-evidence"}))  # replaying evidence is all it does
