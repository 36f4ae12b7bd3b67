"""Problems as values: every input error carries a location and a hint, and is reported with
its siblings rather than one at a time."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_UNSAFE = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def printable(text: object) -> str:
    """One line with control and bidirectional characters shown as escapes, so a hostile
    name cannot forge extra lines or reorder text in a terminal or CI log."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(text))


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
        text = f"{printable(self.file)}:{self.line}:{self.col}: {self.severity}: {printable(self.message)}"
        if self.hint:
            text += f"\n    hint: {printable(self.hint)}"
        return text


class InputError(Exception):
    """Raised with every problem found in one stage; the CLI prints them all and exits 2."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.format() for p in self.problems))


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
