"""One definition of the characters a hostile name may not smuggle into a terminal, a CI log
or a one-line field: C0 and C1 controls, line and paragraph separators, bidirectional
overrides, zero-width and other format characters (tag characters included), surrogates,
private-use and unassigned code points. Both the error printer and every renderer use it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN


def reveal(text: str, shown: Callable[[str], str], keep: str = "") -> str:
    """`text` with every hidden character replaced by `shown(ch)` (characters in `keep` stay)."""
    if text.isprintable():  # C fast path: none of the above (it also rejects non-ASCII spaces)
        return text
    return "".join(shown(ch) if ch not in keep and hidden(ch) else ch for ch in text)


def code_point(ch: str) -> str:
    return f"<U+{ord(ch):04X}>"
