"""`threatgraph lsp`: the language server for editors (threatgraph.editor), over stdio."""

from __future__ import annotations

import argparse

from threatgraph.commands.base import EXIT_OK, Command


def lsp() -> int:
    from threatgraph.editor.server import serve

    serve()
    return EXIT_OK


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true", help="talk over standard input and output (the default and only "
                   "transport; accepted because some editors pass it)")


COMMAND = Command("lsp", "a language server for the catalogs and the model (diagnostics, hover, go to definition, "
                  "completion), over stdio", _arguments, lambda args: lsp(), inputs=False, policy_flags=False,
                  lives_on=lambda _args: True)
