"""The docs site: pages generated from the assessment (pages.py), their sources and mkdocs
configuration (sources.py), the mkdocs build and preview server (mkdocs_build.py, its child
mkdocs_worker.py; one build shared by two of them, mkdocs_split.py), the build in two lanes,
pages and diagrams at once (publish.py), and the two mkdocs hooks: SVGs and large tables put
in after Markdown (embed.py), rebuilds for `site --serve` (hook.py)."""

from threatgraph.site.mkdocs_build import Mkdocs, build, serve
from threatgraph.site.publish import publish
from threatgraph.site.sources import CSS, Diagrams, load_site_config, site_folder, write_if_changed, write_sources

__all__ = ["CSS", "Diagrams", "Mkdocs", "build", "publish", "load_site_config", "serve", "site_folder", "write_if_changed", "write_sources"]
