"""The subcommands, one module each: its flags and a typed function that runs it (testable
without argv). To add a command: a module here exporting COMMAND, and one line in COMMANDS."""

from __future__ import annotations

from threatgraph.commands import (
    build,
    check,
    diff,
    explain,
    export,
    history,
    importing,
    init,
    listing,
    lsp,
    paths,
    report,
    schema,
    site,
    validate,
)
from threatgraph.commands.base import Command

COMMANDS: dict[str, Command] = {c.name: c for c in (
    check.COMMAND,
    report.COMMAND,
    build.COMMAND,
    site.COMMAND,
    listing.COMMAND,
    explain.COMMAND,
    paths.COMMAND,
    export.COMMAND,
    diff.COMMAND,
    history.COMMAND,
    schema.COMMAND,
    init.COMMAND,
    importing.COMMAND,
    validate.COMMAND,
    lsp.COMMAND,
)}
