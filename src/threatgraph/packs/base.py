"""What a pack is: threats built from somewhere other than the project's YAML (a library
installed with a dependency), with the locations they come from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from threatgraph.catalog.definitions import Threat
from threatgraph.location import Location
from threatgraph.vocabulary import STRIDE_PER_KIND


@dataclass(frozen=True)
class PackContext:
    """What a pack may read from the project's configuration."""

    stride: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(STRIDE_PER_KIND))


@dataclass(frozen=True)
class Untranslated:
    """A library entry the pack could not turn into a threat, and why."""

    id: str
    reason: str
    location: Location


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    threats: tuple[tuple[Threat, Location], ...]
    untranslated: tuple[Untranslated, ...] = ()
