"""The docs site: pages generated from the assessment (pages.py), their sources and mkdocs
configuration (sources.py), the mkdocs build and preview server (mkdocs_build.py), and the two
mkdocs hooks: SVGs and large tables put in after Markdown (embed.py), rebuilds for
`site --serve` (hook.py)."""

from threatgraph.site.mkdocs_build import build, serve
from threatgraph.site.sources import CSS, Diagrams, load_site_config, site_folder, write_if_changed, write_sources

__all__ = ["CSS", "Diagrams", "build", "load_site_config", "serve", "site_folder", "write_if_changed", "write_sources"]
