"""mkdocs hook used by `threatgraph site --serve`: before each rebuild (triggered when an
architect saves a model or catalog file), regenerate the pages. Bad input is printed and the
last good pages stay, so the preview server never dies mid-edit."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def on_pre_build(config: Any, **_: Any) -> None:
    from threatgraph import pipeline, site
    from threatgraph.config import load_config
    from threatgraph.errors import InputError

    root = Path(os.environ["THREATGRAPH_ROOT"])
    try:
        cfg = load_config(root)
        a = pipeline.check(cfg, use_evidence=bool(cfg.source))
        site_dir = site.site_folder(cfg)
        site.write_sources(a, Path(config["config_file_path"]).parent, site_dir,
                           os.environ.get("THREATGRAPH_RENDERER", "auto"), extra=_serve_extra(cfg))
    except InputError as exc:
        for p in exc.problems:
            print(p.format(), file=sys.stderr)
        print("threatgraph: inputs have errors; showing the last good pages", file=sys.stderr)


def _serve_extra(cfg: Any) -> dict[str, Any]:
    from threatgraph import site_embed

    return {"hooks": [site_embed.__file__, __file__],
            "watch": sorted({str(cfg.path(cfg.model).parent if cfg.model.endswith('.py') else cfg.root),
                             str(cfg.path(cfg.threats)), str(cfg.path(cfg.mitigations))})}
