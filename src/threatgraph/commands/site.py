"""`threatgraph site`: the docs site alone, built with mkdocs --strict; --serve previews it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from threatgraph.commands.base import EXIT_OK, Command, assessed, config_of, overrides
from threatgraph.commands.build import RENDERERS


def site(config: Any, *, out: Path | None = None, renderer: str = "auto", use_evidence: bool = True) -> int:
    from threatgraph.site.mkdocs_build import Mkdocs

    with Mkdocs() as mkdocs:  # first, so mkdocs' imports run on the other core while the model is checked
        from threatgraph.fsutil import StagedDir
        from threatgraph.site.publish import publish
        from threatgraph.site.sources import site_folder

        a = assessed(config, use_evidence)
        folder = out or (config.root / config.out / "site")
        with tempfile.TemporaryDirectory(prefix="threatgraph-site-") as tmp, StagedDir(folder) as stage:
            publish(a, Path(tmp), stage, site_folder(config), renderer, mkdocs)
    print(f"wrote {folder} (open {folder}/index.html)")
    return EXIT_OK


def serve(config: Any, session: Any, dev_addr: str) -> int:
    """Preview with live reload; the session (the command line's overrides) is handed to every
    rebuild explicitly (see threatgraph.site_hook)."""
    from threatgraph import pipeline
    from threatgraph import site as site_builder
    from threatgraph.site import hook as site_hook

    a = pipeline.check(config, use_evidence=session.use_evidence)
    with tempfile.TemporaryDirectory(prefix="threatgraph-serve-") as tmp:
        src = Path(tmp)
        site_builder.write_sources(a, src, site_builder.site_folder(config), session.renderer,
                                   extra=site_hook.serve_extra(config, session))
        print(f"serving on http://{dev_addr}/ ; edits to the model and catalogs rebuild the pages")
        return site_builder.serve(src, dev_addr)


def _run(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.serve:
        from threatgraph.site.hook import ServeSession

        session = ServeSession(start=str(Path.cwd()), explicit=str(args.config) if args.config else None,
                               overrides=overrides(args), use_evidence=not args.no_evidence, renderer=args.renderer)
        return serve(config, session, args.dev_addr)
    return site(config, out=args.out, renderer=args.renderer, use_evidence=not args.no_evidence)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="site folder (default: <out>/site)")
    p.add_argument("--renderer", choices=RENDERERS, default="auto")
    p.add_argument("--serve", action="store_true", help="preview with live reload while you edit the model and catalogs")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address for --serve")


COMMAND = Command("site", "generate the docs site and build it with mkdocs --strict", _arguments, _run, writes=True,
                  lives_on=lambda args: bool(args.serve))
