"""`threatgraph report`: coverage.md and coverage.json into a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from threatgraph.commands.base import EXIT_OK, EXIT_POLICY, Command, assessed, config_of, summary


def write_reports(a: Any, folder: Path) -> list[Path]:
    from threatgraph.fsutil import StagedDir, write_new
    from threatgraph.render.reports import report_files

    files = report_files(a)
    with StagedDir(folder) as stage:
        for name, content in files.items():
            write_new(stage / name, content)
    return [folder / name for name in files]


def report(config: Any, *, out: Path | None = None, gate: bool = False, fmt: str = "text",
           use_evidence: bool = True) -> int:
    a = assessed(config, use_evidence)
    written = write_reports(a, out or (config.root / config.out / "reports"))
    summary(fmt, [str(p) for p in written], a.passed, float(a.summary["coverage"]), [str(v) for v in a.violations])
    return EXIT_POLICY if (gate and not a.passed) else EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="output folder (default: <out>/reports)")
    p.add_argument("--gate", action="store_true", help="exit 1 when the policy fails")
    p.add_argument("--format", choices=["text", "json"], default="text", help="how to report what was written")


COMMAND = Command("report", "write coverage.md and coverage.json", _arguments,
                  lambda args: report(config_of(args), out=args.out, gate=args.gate, fmt=args.format,
                                      use_evidence=not args.no_evidence), writes=True)
