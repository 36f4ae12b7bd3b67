"""Result rows as frozen values: the analyses and `diff` return these rather than bare dicts,
so a renderer that misspells a field fails in mypy, and JSON is derived in one place."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def to_json(value: Any) -> Any:
    """Plain JSON data for a row, a tuple of rows, or anything nested in them."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


class Row:
    """Mixin: `to_json()` for a frozen dataclass, field names as JSON keys."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = to_json(self)
        return out
