"""The docs site: pages generated from the assessment (pages.py), their sources and mkdocs
configuration (sources.py), the mkdocs build and preview server (mkdocs_build.py, its child
mkdocs_worker.py; one build shared by two of them, mkdocs_split.py), the build in two lanes,
pages and diagrams at once (publish.py), and the two mkdocs hooks: SVGs and large tables put
in after Markdown (embed.py), rebuilds for `site --serve` (hook.py).

The names below are imported on first use, not with the package: the mkdocs worker (a
module of this package) and a build that starts it first thing import only mkdocs_build,
not the catalogs and pages behind publish (0.17 s of a worker's 0.28 s start here).
`publish` is imported from its module (threatgraph.site.publish): a lazy name would be
shadowed by the submodule of the same name once that is imported."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threatgraph.site.mkdocs_build import Mkdocs, build, serve
    from threatgraph.site.sources import CSS, Diagrams, load_site_config, site_folder, write_if_changed, write_sources

_HOME = {"Mkdocs": "mkdocs_build", "build": "mkdocs_build", "serve": "mkdocs_build",
         **dict.fromkeys(("CSS", "Diagrams", "load_site_config", "site_folder", "write_if_changed", "write_sources"),
                         "sources")}

__all__ = ["CSS", "Diagrams", "Mkdocs", "build", "load_site_config", "serve", "site_folder", "write_if_changed", "write_sources"]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
