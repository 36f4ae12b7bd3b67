"""`python -m threatgraph.site.mkdocs_worker`: a `mkdocs build --strict` that starts before it
knows what to build. It imports mkdocs, the theme and the usual plugins at once, compiles
the theme's templates (site/mkdocs_templates.py; THREATGRAPH_SITE_WARMUP=0 skips it), then reads
one line from stdin, `{"config": ..., "site": ...}` (with `"split"`, its share of a build
two processes make, site/mkdocs_split.py), and builds exactly as the mkdocs command line does;
an empty stdin (threatgraph stopped before the site) ends it with nothing done.
threatgraph starts it first thing, so those imports run on another core while the model is
checked and the pages written. It dies with its parent (a killed build): at once on Linux, within a twentieth of
a second elsewhere, so it never writes into a staging folder the next build has removed; so
does the helper it forks on Linux to share a build (site/mkdocs_split.py), with it."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time

WARM = ("mkdocs.__main__", "mkdocs.commands.build", "mkdocs.structure.pages", "material",
        "material.plugins.search.plugin", "material.plugins.offline.plugin", "mkdocs_panzoom_plugin.plugin",
        "markdown.extensions.tables", "markdown.extensions.admonition", "markdown.extensions.toc")


def _orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.05)
    os._exit(3)  # the build that wanted this site is gone: stop writing into its folder


def _die_with_parent() -> bool:
    """On Linux the kernel kills this process the moment its parent dies (PR_SET_PDEATHSIG):
    True when that is set."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            return bool(ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return False
    return False


def guard(parent: int) -> None:
    """This process ends when `parent` does: by the kernel where it can (no thread, so the
    lead can still fork its helper), else by a polling thread; and at once if `parent` is
    already gone."""
    if not _die_with_parent():
        threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:
        os._exit(3)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        guard(int(sys.argv[1]))
    from threatgraph import process

    process.configure()  # threatgraph's collector threshold: 166 collections, 0.04 s of each process's build, gone
    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:  # a plugin the project does not use; mkdocs reports what it needs
            pass
    if os.environ.get("THREATGRAPH_SITE_WARMUP", "").strip() != "0":
        from threatgraph.site import mkdocs_templates

        mkdocs_templates.warm()  # the theme's templates compiled while the job is not yet known
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    job = json.loads(line)
    split = job.get("split")
    share = None
    if split:  # half of the pages, the other process the other half (site/mkdocs_split.py)
        from pathlib import Path

        from threatgraph.site import mkdocs_split

        if not mkdocs_split.available():
            print("threatgraph cannot share this mkdocs build between two processes (mkdocs' build steps have "
                  "changed); set THREATGRAPH_SITE_WORKERS=1", file=sys.stderr)
            return 1
        lead = os.getpid()
        share = mkdocs_split.install(split["role"], Path(split["result"]),
                                     Path(split["helper_site"]) if split.get("helper_site") else None,
                                     (lambda: guard(lead)) if split.get("fork") else None)
    from mkdocs.__main__ import cli

    code = 0
    try:
        # not --quiet: it silences the warnings --strict counts, and the build would pass with them
        cli.main(args=["build", "--strict", "-f", job["config"], "-d", job["site"]], prog_name="mkdocs")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    if share is not None and share.forked:  # the lead's copy: none of its exit handlers run twice
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
