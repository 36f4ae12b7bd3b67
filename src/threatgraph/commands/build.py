"""`threatgraph build`: the main job: check, reports, diagrams and site into one folder."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatgraph.commands.base import EXIT_OK, EXIT_POLICY, Command, config_of, print_warnings, summary
from threatgraph.render.escape import visible

RENDERERS = ["auto", "dot", "wasm"]


def terminal_progress(stream: Any = None) -> Callable[[str], None]:
    """One status line on a terminal, rewritten at each stage and cleared at the end; nothing
    when standard error is not a terminal or in CI. (Four stages on one line: a progress
    library would outweigh it.) Dimmed unless NO_COLOR is set to a non-empty value."""
    stream = stream if stream is not None else sys.stderr
    if not getattr(stream, "isatty", lambda: False)() or os.environ.get("CI"):
        return lambda _stage: None
    dim, reset = ("", "") if os.environ.get("NO_COLOR") else ("\x1b[2m", "\x1b[0m")

    def show(stage: str) -> None:
        stream.write("\r\x1b[2K" + (f"{dim}threatgraph build: {visible(stage)}…{reset}" if stage else ""))
        stream.flush()
    return show


def build(config: Any, *, out: Path | None = None, gate: bool = False, renderer: str = "auto",
          with_site: bool = True, fmt: str = "text", use_evidence: bool = True, since: str | None = None) -> int:
    from threatgraph.site.mkdocs_build import Mkdocs

    # The site's workers first, before the rest of threatgraph is imported: their own imports
    # (mkdocs, the theme, Markdown) then run on the other core from the start.
    mkdocs = Mkdocs() if with_site else None
    try:
        from threatgraph import build as builder
    except BaseException:
        if mkdocs is not None:
            mkdocs.stop()
        raise
    folder = out or (config.root / config.out)
    log = (lambda _msg: None) if fmt == "json" else print
    result = builder.build_all(config, folder, use_evidence=use_evidence, renderer=renderer, with_site=with_site,
                               log=log, since=since, progress=terminal_progress(), mkdocs=mkdocs)
    print_warnings(result.warnings)
    written = [str(folder / "reports"), str(folder / "diagrams")] + ([str(folder / "site")] if with_site else [])
    summary(fmt, written if fmt == "json" else [], result.passed, result.coverage,
            [str(v) for v in result.violations], diagrams=result.diagrams, timings=result.timings)
    return EXIT_POLICY if (gate and not result.passed) else EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="output folder (default: [tool.threatgraph] out, or build)")
    p.add_argument("--gate", action="store_true", help="exit 1 when the policy fails")
    p.add_argument("--renderer", choices=RENDERERS, default="auto",
                   help="SVG renderer: system dot, embedded Graphviz (wasm), or auto (dot when installed)")
    p.add_argument("--no-site", action="store_true", help="reports and diagrams only")
    p.add_argument("--format", choices=["text", "json"], default="text", help="how to report what was written")
    p.add_argument("--since", metavar="REV", help="replay the target's git history from REV: timelines on the site, "
                   "and the commit where each drifted control stopped holding")


COMMAND = Command("build", "the main job: check, reports, diagrams and site into build/", _arguments,
                  lambda args: build(config_of(args), out=args.out, gate=args.gate, renderer=args.renderer,
                                     with_site=not args.no_site, fmt=args.format, use_evidence=not args.no_evidence,
                                     since=args.since), writes=True)
