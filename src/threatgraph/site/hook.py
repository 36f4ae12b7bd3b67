"""mkdocs hook used by `threatgraph site --serve`: before each rebuild (triggered when an
architect saves a model or catalog file), regenerate the pages. Bad input is printed and the
last good pages stay, so the preview server never dies mid-edit.

The session (the command line's overrides: --model, --threats, --source, --no-evidence, the
renderer...) travels explicitly inside the generated mkdocs.yml, never through environment
variables, and the configuration is re-read with those overrides on every rebuild, so an edit
to pyproject.toml is seen and no flag is silently dropped."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SESSION_KEY = "threatgraph_serve"


@dataclass(frozen=True)
class ServeSession:
    start: str  # the folder the command ran in (config discovery starts there)
    explicit: str | None  # --config
    overrides: dict[str, Any] = field(default_factory=dict)
    use_evidence: bool = True
    renderer: str = "auto"


def serve_extra(cfg: Any, session: ServeSession) -> dict[str, Any]:
    from threatgraph.site import embed as site_embed

    return {"hooks": [site_embed.__file__, __file__],
            "extra": {SESSION_KEY: asdict(session)},
            "watch": sorted({str(cfg.path(cfg.model).parent if cfg.model.endswith('.py') else cfg.root),
                             str(cfg.path(cfg.threats)), str(cfg.path(cfg.mitigations))})}


def on_pre_build(config: Any, **_: Any) -> None:
    from threatgraph import pipeline, site
    from threatgraph.config import load_config
    from threatgraph.errors import InputError

    session = ServeSession(**config["extra"][SESSION_KEY])
    try:
        cfg = load_config(Path(session.start), session.overrides,
                          explicit=Path(session.explicit) if session.explicit else None)
        a = pipeline.check(cfg, use_evidence=session.use_evidence)
        site.write_sources(a, Path(config["config_file_path"]).parent, site.site_folder(cfg), session.renderer,
                           extra=serve_extra(cfg, session))
    except InputError as exc:
        for p in exc.problems:
            print(p.format(), file=sys.stderr)
        print("threatgraph: inputs have errors; showing the last good pages", file=sys.stderr)
