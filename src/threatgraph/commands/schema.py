"""`threatgraph schema`: write (or --check) the catalogs' JSON Schemas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from threatgraph.commands.base import EXIT_OK, EXIT_POLICY, Command


def schema(out: Path, *, check: bool = False) -> int:
    from threatgraph.fsutil import write_atomic
    from threatgraph.schemas import render_schemas

    stale = []
    for name, content in render_schemas().items():
        path = out / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                stale.append(path)
        else:
            write_atomic(path, content)
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} is out of date; run `threatgraph schema`", file=sys.stderr)
    return EXIT_POLICY if stale else EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("schemas"))
    p.add_argument("--check", action="store_true", help="exit 1 if the files on disk are out of date")


COMMAND = Command("schema", "write the catalogs' JSON Schemas", _arguments,
                  lambda args: schema(args.out, check=args.check), inputs=False, writes=True)
