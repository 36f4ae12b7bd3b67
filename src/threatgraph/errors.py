"""Problems as values: every input error carries a location and a hint, and is reported with
its siblings rather than one at a time."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from threatgraph.safetext import reveal


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def printable(text: object) -> str:
    """One line with control, separator, format and bidirectional characters shown as
    escapes, so a hostile name cannot forge extra lines or reorder text in a terminal or log."""
    return reveal(safe_str(text), _escape)


def safe_str(value: object) -> str:
    """str(value), even for an object whose __str__ raises (a model's own exception class)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - any failure of foreign code is answered the same way
        try:
            return f"<{type(value).__name__} whose str() failed>"
        except Exception:  # noqa: BLE001
            return "<an object whose str() failed>"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the inputs, located as precisely as the input format allows."""

    file: str
    line: int
    col: int
    message: str
    hint: str = ""
    severity: str = "error"  # "error" or "warning"

    def format(self) -> str:
        """`file:line:col: severity: message`; a problem with no line in a file (line 0: the
        command line, a missing configuration) is `origin: severity: message`."""
        where = f"{printable(self.file)}:{self.line}:{self.col}" if self.line > 0 else printable(self.file)
        text = f"{where}: {self.severity}: {printable(self.message)}"
        if self.hint:
            text += f"\n    hint: {printable(self.hint)}"
        return text


class InputError(Exception):
    """Raised with every problem found in one stage; the CLI prints them all and exits 2."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[Problem]]]:  # crosses the model process boundary
        return (InputError, (self.problems,))


class EnvironmentProblem(Exception):
    """The machine, not the inputs, stopped the work: a full or read-only disk, a missing tool,
    a renderer or mkdocs failure. The CLI says so plainly and exits 4."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known spelling, or listing the choices when few."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return ""


def raise_if_errors(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems)
