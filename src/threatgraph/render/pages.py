"""Stable, safe page names for ids, shared by the site and the diagrams' links."""

from __future__ import annotations

import hashlib
import re

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


def slug(ident: str) -> str:
    """The id itself when it is already a safe file name; otherwise a cleaned prefix plus a
    hash of the id, so distinct ids never share a page."""
    if _SAFE.match(ident):
        return ident
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", ident).strip("-")[:60] or "id"
    return f"{cleaned}-{hashlib.sha256(ident.encode('utf-8')).hexdigest()[:10]}"


def page(kind: str, ident: str) -> str:
    """Page file name (without extension) for a threat, mitigation, element, flow or boundary."""
    return f"{kind}-{slug(ident)}"
