"""What is installed, read from the names of the `.dist-info` folders on the path: a folder
listing per path entry, where `importlib.metadata` imports the email package and parses
metadata files (12 ms of a cold check that needs one version)."""

from __future__ import annotations

import os
import re
import sys
from contextlib import suppress

_SUFFIXES = (".dist-info", ".egg-info")


def _names(entry: str) -> list[str]:
    with suppress(OSError), os.scandir(entry or ".") as it:
        return [e.name for e in it if e.name.endswith(_SUFFIXES)]
    return []


def distributions() -> list[str]:
    """Every installed distribution with its version: the metadata folders' names, sorted."""
    return sorted({name for entry in sys.path for name in _names(entry)})


def _normal(name: str) -> str:
    """A distribution name as wheel folder names spell it (PEP 503, underscores)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def version(name: str) -> str | None:
    """The version of distribution `name` that `importlib.metadata.version` would report (the
    first on the path wins), None when it is not installed. A `name-version.dist-info` folder
    carries its version in its name; any other form is read by importlib.metadata."""
    wanted = _normal(name)
    for entry in sys.path:
        for folder in sorted(_names(entry)):
            stem = folder.rsplit(".", 1)[0]
            base, dash, ver = stem.partition("-")
            if _normal(base) != wanted:
                continue
            if folder.endswith(".dist-info") and dash and ver and "-" not in ver:
                return ver
            return _from_metadata(name)
    return _from_metadata(name)


def _from_metadata(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
