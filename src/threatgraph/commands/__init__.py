"""The subcommands, one module each: its flags and a typed function that runs it (testable
without argv). To add a command: a module here exporting COMMAND, and one line in MODULES.

A command's module is imported when that command is looked up, so running one command does
not pay for importing the others (a fifth of a repeated `check`'s 0.07 s); help that lists
them all imports them all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from threatgraph.commands.base import Command

# A command's name: its module here, in the order help lists them.
MODULES: dict[str, str] = {
    "check": "check",
    "report": "report",
    "build": "build",
    "site": "site",
    "list": "listing",
    "explain": "explain",
    "paths": "paths",
    "export": "export",
    "diff": "diff",
    "history": "history",
    "schema": "schema",
    "init": "init",
    "import": "importing",
    "validate": "validate",
    "lsp": "lsp",
}


class _Commands(Mapping[str, Command]):
    """Each name's COMMAND, its module imported on first lookup."""

    def __getitem__(self, name: str) -> Command:
        command: Command = import_module(f"{__name__}.{MODULES[name]}").COMMAND
        return command

    def __contains__(self, name: object) -> bool:  # without importing the command's module
        return name in MODULES

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


COMMANDS: Mapping[str, Command] = _Commands()
