"""Threat packs a project includes by name (`packs = ["pytm"]` in [tool.threatgraph]): one
module per pack, one line in PACKS."""

from __future__ import annotations

from collections.abc import Callable

from threatgraph.packs import pytm, stride
from threatgraph.packs.base import Pack, PackContext, Untranslated

PACKS: dict[str, Callable[[PackContext], Pack]] = {
    "pytm": lambda context: pytm.load(),  # pytm's own threat library, compiled from the installed pytm
    "stride": stride.load,  # STRIDE-per-element prompts: questions for every cell of the grid
}

__all__ = ["PACKS", "Pack", "PackContext", "Untranslated"]
