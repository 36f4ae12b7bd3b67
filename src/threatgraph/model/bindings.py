"""Where the model binds its objects: the variable names that become ids, and the lines that
locate them in messages (read as text, once per file)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from types import ModuleType

_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")


@lru_cache(maxsize=64)
def _lines_in(file: str, mtime_ns: int) -> dict[str, int]:
    text = Path(file).read_text(encoding="utf-8", errors="replace")
    lines: dict[str, int] = {}
    match = _ASSIGN.match
    for number, line in enumerate(text.split("\n"), 1):
        hit = match(line)
        if hit:
            lines.setdefault(hit.group(1), number)
    return lines


def _binding_lines(module: ModuleType) -> dict[str, int]:
    """Lines of top-level `name = ...` assignments in a module file, by name, for source
    locations (one regex pass, cached: a model of thousands of elements is a large file)."""
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return {}
    try:
        return _lines_in(file, Path(file).stat().st_mtime_ns)
    except OSError:
        return {}


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _by_file(modules: list[ModuleType]) -> list[ModuleType]:
    return sorted(modules, key=lambda m: getattr(m, "__file__", "") or "")


def _module_file(m: ModuleType, root: Path, shown: str) -> str:
    """The module's file as shown in messages (relative to the project root)."""
    file = getattr(m, "__file__", None)
    return _display(Path(file), root) if file else shown
