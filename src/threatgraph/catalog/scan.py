"""A cheap look at the threat catalog before anything is parsed: whether it may use
conditions on pytm's attribute values, so the model's loader knows to keep them. Imports
nothing heavy, so a command can ask before the model's child is started."""

from __future__ import annotations

import re
from pathlib import Path

_CONDITION_KEYS = re.compile(r"\b(where|pytm_class)\s*:")


def uses_conditions(threats: Path) -> bool:
    """Whether any threat file under `threats` may use a condition (a text scan; a false
    alarm only costs the time to read the values)."""
    if not threats.is_dir():
        return False
    for path in sorted(threats.rglob("*.y*ml"))[:5_000]:
        try:
            if path.is_file() and path.stat().st_size < 10_000_000 and _CONDITION_KEYS.search(
                    path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False
