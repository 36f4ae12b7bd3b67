"""One `mkdocs build` shared by two processes: each renders about half of the pages (Markdown,
theme templates, the search plugin's reading of the page), so a second core halves the
slowest step of a build. The site is byte-identical to one process's build (tested).

Both processes read every file and build the same navigation. The lead builds the site as
mkdocs does, skipping the helper's pages; the helper builds only its pages, into a folder of
its own, and leaves, as its last act, a result file: the pages it wrote and the search
entries of each. Before its post-build plugins run, the lead waits for that file, moves the
helper's pages into the site and gives the search index every page's entries in mkdocs'
own page order; a helper that fails never writes it, and threatgraph then stops the lead.

On Linux the helper is not a second interpreter: the lead forks it once both have everything
they share (imports, configuration, the file list, the theme's files), where they would part
anyway, and it writes its pages straight into the site; the kernel ends it if the lead dies
(PR_SET_PDEATHSIG), and the lead reaps it and fails if it failed. Elsewhere the helper is a
process of its own from the start, writing into a folder of its own.

Which pages the helper takes is decided the same way in both: by source size, the larger
first, each to the lighter share. A page without a `title` in its front matter takes its
title from its rendered heading, which the other pages' navigation shows: both processes
render such pages, only one writes them.

This works through mkdocs' build steps (`mkdocs.commands.build`), which are internal:
`available()` says whether the installed mkdocs has them, and threatgraph builds in one
process when it does not."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WAIT_LIMIT = 600.0  # seconds the lead waits for the helper's result (threatgraph stops it sooner on failure)


def available() -> bool:
    """Whether the installed mkdocs and search plugin have the steps this module divides."""
    try:
        import mkdocs.commands.build as steps
        from material.plugins.search.plugin import SearchIndex, SearchPlugin
        from mkdocs.plugins import PluginCollection
    except ImportError:
        return False
    return all(callable(getattr(obj, name, None)) for obj, name in (
        (steps, "_populate_page"), (steps, "_build_page"), (steps, "get_navigation"), (steps, "_build_theme_template"),
        (steps, "_build_extra_template"), (PluginCollection, "on_post_build"), (SearchIndex, "add_entry_from_context"),
        (SearchPlugin, "on_post_build")))


def helper_pages(pages: list[tuple[str, int]]) -> set[str]:
    """The pages (source path, size) the helper renders: larger first, each to the lighter share."""
    lead = helper = 0
    out: set[str] = set()
    for uri, size in sorted(pages, key=lambda p: (-p[1], p[0])):
        cost = size + 2_000  # a page's templates cost about as much as 2 kB of Markdown
        if helper < lead:
            out.add(uri)
            helper += cost
        else:
            lead += cost
    return out


class _Share:
    """This process's part of the build, and what it keeps to hand over or merge."""

    def __init__(self, role: str, result: Path, helper_site: Path | None,
                 fork: Callable[[], None] | None = None) -> None:
        import mkdocs.commands.build as steps
        from material.plugins.search.plugin import SearchIndex, SearchPlugin
        from mkdocs.plugins import PluginCollection

        self.helper, self.result, self.helper_site = role == "helper", result, helper_site
        self.fork = fork  # the lead forks the helper, which then runs this (its guard), else None
        self.forked = False  # this process is a helper forked by the lead
        self.child: int | None = None  # the forked helper's pid, in the lead
        self.child_status: int | None = None
        self.alone = False  # a lead that could not fork builds every page itself
        self.helper_pages: set[str] = set()
        self.order: list[str] = []  # every page, in the order mkdocs builds them
        self.entries: dict[str, list[Any]] = {}  # the search entries of each page this process built
        self.theirs: dict[str, list[Any]] = {}  # the helper's, in the lead
        self.written: list[str] = []  # the helper's pages, as paths under its site folder
        self.real = {"navigation": vars(steps)["get_navigation"], "populate": steps._populate_page, "build": steps._build_page,
                     "add": SearchIndex.add_entry_from_context, "index": SearchPlugin.on_post_build,
                     "post_build": PluginCollection.on_post_build}

    def mine(self, page: Any) -> bool:
        return (page.file.src_uri in self.helper_pages) == self.helper

    def navigation(self, files: Any, config: Any) -> Any:
        self.helper_pages = helper_pages([(f.src_uri, os.path.getsize(f.abs_src_path)) for f in files.documentation_pages()])
        if self.fork is not None:
            self._fork_helper(self.fork)
        return self.real["navigation"](files, config)

    def _fork_helper(self, guard: Callable[[], None]) -> None:
        """The helper made from this process, here, where the two would part: the same
        imports, configuration and files, never loaded twice. With another thread running
        (a fork copies none, and a lock one holds would stay held) the lead builds alone."""
        if threading.active_count() > 1:
            self.helper_pages, self.alone = set(), True
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.child = pid
            signal.signal(signal.SIGTERM, lambda _signum, _frame: _end_with(pid))
            return
        guard()  # dies with the lead
        self.helper = self.forked = True
        _helper_only()

    def populate(self, page: Any, config: Any, files: Any, dirty: bool = False) -> None:
        if not self.mine(page):
            page.read_source(config)
            if "title" in page.meta:
                return  # its title is in its front matter: the other process renders it
        self.real["populate"](page, config, files, dirty)

    def build_page(self, page: Any, config: Any, doc_files: Any, nav: Any, env: Any, dirty: bool = False,
                   excluded: bool = False) -> None:
        self.order.append(page.file.src_uri)
        if self.mine(page):
            self.real["build"](page, config, doc_files, nav, env, dirty, excluded)
            if self.helper:
                self.written.append(page.file.dest_uri)

    def add_entry(self, index: Any, page: Any) -> None:
        start = len(index.entries)
        self.real["add"](index, page)
        self.entries[page.file.src_uri] = index.entries[start:]

    def write_index(self, plugin: Any, config: Any) -> None:
        if self.theirs:  # every page's entries, in the order one process would have added them
            plugin.search_index.entries = [e for uri in self.order
                                           for e in (self.entries.get(uri) or self.theirs.get(uri) or [])]
        self.real["index"](plugin, config=config)

    def post_build(self, plugins: Any, config: Any) -> None:
        if self.helper:
            _write_result(self.result, {"pages": self.written, "entries": self.entries})
            return  # the lead runs the post-build plugins, once, over the whole site
        if self.alone:
            self.real["post_build"](plugins, config=config)
            return
        found = _wait_for(self.result, self._helper_ended)
        if self.child is not None:
            status = self.child_status if self.child_status is not None else os.waitpid(self.child, 0)[1]
            if os.waitstatus_to_exitcode(status) != 0:  # its pages failed --strict: mkdocs said why above
                raise RuntimeError("the other mkdocs process failed on its pages")
        else:
            for rel in found["pages"]:
                target = Path(config.site_dir) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(self.helper_site or ".") / rel, target)
        self.theirs.update(found["entries"])
        self.real["post_build"](plugins, config=config)

    def _helper_ended(self) -> bool:
        """Whether the forked helper has exited (reaped, its status kept); False without one."""
        if self.child is None or self.child_status is not None:
            return self.child_status is not None
        pid, status = os.waitpid(self.child, os.WNOHANG)
        if pid:
            self.child_status = status
        return bool(pid)


def _end_with(helper: int) -> None:
    """The lead told to stop (threatgraph stopping the build): its helper killed and reaped
    first, so that when the lead is gone nothing of theirs writes into the site any more."""
    with contextlib.suppress(OSError):
        os.kill(helper, signal.SIGKILL)
        os.waitpid(helper, 0)
    os._exit(128 + signal.SIGTERM)


def install(role: str, result: Path, helper_site: Path | None = None,
            fork: Callable[[], None] | None = None) -> _Share:
    """Divide the next `mkdocs build` of this process: `role` is "lead" or "helper"; `result`
    the helper's result file; `helper_site` the helper's site folder (for the lead of a helper
    started on its own); `fork`, for a lead that forks its helper, what the helper runs first
    (its guard). Returns the share: `forked` says, after the build, that this is that helper."""
    import mkdocs.commands.build as steps
    from material.plugins.search.plugin import SearchIndex, SearchPlugin
    from mkdocs.plugins import PluginCollection

    share = _Share(role, result, helper_site, fork)
    patches: list[tuple[Any, str, Any]] = [
        (steps, "get_navigation", share.navigation), (steps, "_populate_page", share.populate),
        (steps, "_build_page", share.build_page),
        (SearchIndex, "add_entry_from_context", lambda self, page: share.add_entry(self, page)),
        (SearchPlugin, "on_post_build", lambda self, *, config: share.write_index(self, config)),
        (PluginCollection, "on_post_build", lambda self, *, config: share.post_build(self, config))]
    for owner, name, replacement in patches:  # this worker process's own mkdocs, for this one build
        setattr(owner, name, replacement)
    if share.helper:
        _helper_only()
    return share


def _helper_only() -> None:
    """The lead alone writes the theme's files, the static files and the extra templates."""
    import mkdocs.commands.build as steps
    from mkdocs.structure.files import Files

    nothing = lambda *a, **k: None  # noqa: E731
    for owner, name in ((steps, "_build_theme_template"), (steps, "_build_extra_template"), (Files, "copy_static_files")):
        setattr(owner, name, nothing)


def _write_result(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)  # the lead never reads half a file


def _wait_for(path: Path, ended: Callable[[], bool]) -> Any:
    """The helper's result, once it is there; an error if the helper ended without one."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not path.exists():
        if ended() and not path.exists():
            raise RuntimeError("the other mkdocs process ended without finishing its pages")
        if time.monotonic() > deadline:
            raise RuntimeError("the other mkdocs process did not finish its pages")
        time.sleep(0.005)
    return json.loads(path.read_text(encoding="utf-8"))
