"""Threat packs a project includes by name (`packs = ["pytm"]` in [tool.threatgraph]): one
module per pack, one line in PACKS."""

from __future__ import annotations

from collections.abc import Callable

from threatgraph.packs import pytm
from threatgraph.packs.base import Pack, Untranslated

PACKS: dict[str, Callable[[], Pack]] = {
    "pytm": pytm.load,  # pytm's own threat library, compiled from the installed pytm
}

__all__ = ["PACKS", "Pack", "Untranslated"]
