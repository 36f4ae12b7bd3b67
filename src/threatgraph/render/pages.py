"""Page names for ids, shared by the site and the diagrams' links: stable, safe as file names
and URLs, and injective, so two ids never share a page (even on a case-insensitive disk).

The name is the id in lower case, with every character outside `[a-z0-9_-]` written as
`.XX` (two hex digits) or `.uXXXXXX` (six); when the id has capital letters, `~u` (all its letters are capitals) or `~MASK` (a hex
bit mask of the capital positions) follows. Each part can be read back, so the map is one to
one. A name that would be longer than 120 characters is `~~` and the id's SHA-256 instead
(which no other name can start with).
"""

from __future__ import annotations

import hashlib
import re

_PLAIN = re.compile(r"[a-z0-9_-]+\Z")  # \Z, not $: "0\n" is not plain
_MAX = 120


def slug(ident: str) -> str:
    if _PLAIN.match(ident) and len(ident) <= _MAX:
        return ident  # the common case: already a lower-case safe name
    body = []
    mask = 0
    letters = capitals = 0
    for i, ch in enumerate(ident):
        if "A" <= ch <= "Z":
            mask |= 1 << i
            capitals += 1
            letters += 1
            body.append(ch.lower())
        elif "a" <= ch <= "z":
            letters += 1
            body.append(ch)
        elif "0" <= ch <= "9" or ch in "_-":
            body.append(ch)
        elif ord(ch) < 0x100:
            body.append(f".{ord(ch):02x}")
        else:
            body.append(f".u{ord(ch):06x}")
    name = "".join(body)
    if capitals:
        name += "~u" if capitals == letters else f"~{mask:x}"
    if len(name) > _MAX:
        return "~~" + hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()
    return name


def page(kind: str, ident: str) -> str:
    """Page file name (without extension) for a threat, mitigation, element, flow or boundary."""
    return f"{kind}-{slug(ident)}"
