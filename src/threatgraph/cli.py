"""The command line: parses argv, dispatches to a command (threatgraph.commands), and turns
what went wrong into an exit code and a message. Nothing else reads argv or picks exit codes.

Exit codes: 0 success (policy holds), 1 policy failed, 2 invalid input or usage, 3 internal error,
4 a tool or the environment stopped the work (full disk, git missing, renderer or mkdocs failing), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from threatgraph import __version__, process
from threatgraph.commands import COMMANDS
from threatgraph.commands.base import EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, input_flags
from threatgraph.errors import EnvironmentProblem, InputError, printable
from threatgraph.fsutil import ENVIRONMENT_ERRNOS, replaced


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"threatgraph: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: when it starts with a command's name, that command's alone (its
    module the only one imported, see threatgraph.commands); otherwise (None, help, --version,
    a mistyped name) every command's, so help and errors list them all."""
    parser = _Parser(prog="threatgraph", description="Threat models as code, with coverage gated in CI.")
    parser.add_argument("--version", action="version", version=f"threatgraph {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    named = argv[0] if argv and argv[0] in COMMANDS else None
    for command in (COMMANDS[named],) if named else COMMANDS.values():
        p = sub.add_parser(command.name, help=command.help)
        if command.inputs:
            input_flags(p, policy=command.policy_flags, skip=command.skip)
        command.arguments(p)
    return parser


def main(argv: Sequence[str] | None = None, *, ends_after: bool = False) -> int:
    """Run the command `argv` names; its exit code. `ends_after`: this process ends when the
    command does (`run`), so unless the command lives on (a watch, a server) what it keeps to
    the end is frozen rather than scanned by the collector (process.short_lived)."""
    process.configure()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    if ends_after and not COMMANDS[args.command].lives_on(args):
        process.short_lived()
    try:
        return COMMANDS[args.command].run(args)
    except InputError as exc:
        errors = sum(p.severity == "error" for p in exc.problems)
        warnings = [p for p in exc.problems if p.severity != "error"]
        for problem in (p for p in exc.problems if p.severity == "error"):  # the errors first, never buried
            print(problem.format(), file=sys.stderr)
        if warnings:
            print(f"threatgraph: {len(warnings)} warning(s) as well:", file=sys.stderr)
            for problem in warnings:
                print(problem.format(), file=sys.stderr)
        written = "; nothing was written" if COMMANDS[args.command].writes else ""
        print(f"threatgraph: {errors} error(s) in the inputs{written}", file=sys.stderr)
        return EXIT_INPUT
    except EnvironmentProblem as exc:
        print(f"threatgraph: {printable(exc)}; previous outputs are unchanged", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        done = replaced()
        print("threatgraph: interrupted; " + (f"{printable(str(done[-1]))} was already replaced by the new outputs"
                                              if done else "previous outputs are unchanged"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.errno in ENVIRONMENT_ERRNOS:
            print(f"threatgraph: {printable(exc.strerror)}: {printable(exc.filename or '')}; "
                  "previous outputs are unchanged", file=sys.stderr)
            return EXIT_ENVIRONMENT
        return _internal(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in threatgraph, not bad input
        return _internal(exc)


def run() -> NoReturn:
    """The console script and `python -m threatgraph`: `main` on the command line, then the
    process ends at once (`process.exit_now`); `main` itself returns, for callers in Python."""
    process.exit_now(main(ends_after=True))


def _internal(exc: Exception) -> int:
    if os.environ.get("THREATGRAPH_DEBUG"):
        raise exc
    print(f"threatgraph: internal error: {type(exc).__name__}: {printable(exc)}\n"
          "  set THREATGRAPH_DEBUG=1 for a traceback, and please report it", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    run()
