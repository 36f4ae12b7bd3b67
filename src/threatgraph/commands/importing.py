"""`threatgraph import otm|threat-dragon FILE`: a project from another tool's file: a pytm model file (one
variable per element, boundaries nested as in the file), a threats and a mitigations catalog
with the file's states as statuses and decisions, and the configuration. Never overwrites."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from threatgraph.commands.base import EXIT_OK, Command
from threatgraph.errors import InputError, Problem

FORMATS = ("otm", "threat-dragon")
MAX_BYTES = 50 * 1024 * 1024


def import_file(fmt: str, file: Path, folder: Path, accept_until: dt.date | None = None) -> int:
    from threatgraph.importers import base, otm, threat_dragon

    try:
        if not file.is_file():
            raise InputError([Problem(str(file), 1, 1, "is not a regular file", "name the exported file")])
        if file.stat().st_size > MAX_BYTES:
            raise InputError([Problem(str(file), 1, 1, f"is larger than {MAX_BYTES // 2**20} MiB",
                                      "split the model, or raise the limit in threatgraph.commands.importing")])
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem(str(file), 1, 1, "is not UTF-8 text", "OTM files are UTF-8 JSON")]) from None
    until = accept_until or (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90))
    imported = otm.parse(text, file.name, until) if fmt == "otm" else threat_dragon.parse(text, file.name)
    written = base.write_project(imported, folder)
    for path in written:
        print(f"wrote {path}")
    accepted = sum(1 for d in imported.decisions if d.get("decision") == "accept")
    print(f"imported {len(imported.nodes)} elements, {len(imported.flows)} flows, {len(imported.zones)} trust zones, "
          f"{len(imported.threats)} threats, {len(imported.mitigations)} mitigations, {len(imported.decisions)} "
          f"decisions" + (f" ({accepted} accepted risks, expiring {until.isoformat()} unless the file said)"
                          if accepted else ""))
    for note in imported.notes:
        print(f"note: {note}")
    print(f"next: cd {folder} && threatgraph check   (nothing imported carries evidence: mitigated pairs are claims)")
    return EXIT_OK


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=FORMATS, help="otm: Open Threat Model 0.1.0 or 0.2.0 (IriusRisk, startleft); "
                   "threat-dragon: an OWASP Threat Dragon v2 model")
    p.add_argument("file", type=Path, help="the file to import")
    p.add_argument("--dir", type=Path, default=Path("."), help="the folder to write the project into (default: here)")
    p.add_argument("--accept-until", type=_date, default=None,
                   help="review date for accepted risks the file gives no expiry for (default: 90 days from today)")


COMMAND = Command("import", "a project from another tool's file (Open Threat Model); never overwrites",
                  _arguments, lambda args: import_file(args.format, args.file, args.dir, args.accept_until),
                  inputs=False, writes=True)
