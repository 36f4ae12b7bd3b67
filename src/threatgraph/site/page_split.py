"""Page generation in two processes: on a large model the pages are most of a build's own
work (4.8 s of 13 s at 10,000 elements), done before mkdocs can start and on one core while
the other waits. A forked helper writes the model-sized pages (a page per boundary; the flow
and element pages, or on a large site their paged tables) and their diagrams' DOT while this
process writes the rest; the helper hands back its pages, its table fragments and its DOT.

The built site is the same either way: the helper's fragments are named in their own series
(names that only ever appear in the staging sources, where the HTML replaces them), and a
diagram is registered with the same name and DOT. The split needs `fork`, a second core and
no other thread in this process (`mkdocs serve` has some: a fork copies none of them, and a
lock one of them held would stay held in the helper); anywhere else, or for a small model,
the pages are written here in one pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from threatgraph.process import can_fork_helpers, fork_pool
from threatgraph.site.pages import SiteWriter

# The jobs the helper takes: each grows with the model and none reads the analyses computed on
# first use (attack paths, single points of failure), which this process needs for its reports.
HELPER_JOBS = ("boundary pages", "detail pages")
SPLIT_OVER = 400  # elements and flows; below this a fork costs more than it saves
HELPER_FRAGMENTS = "h"  # the helper's fragment names: h1, h2, ...

_writer: SiteWriter | None = None  # the writer the forked helper inherits (never pickled)


def available(writer: SiteWriter) -> bool:
    m = writer.a.model
    return len(m.elements) + len(m.flows) > SPLIT_OVER and can_fork_helpers()


Jobs = list[tuple[str, Callable[[], dict[str, str]]]]


def generate(writer: SiteWriter, split: bool | None = None) -> dict[str, str]:
    """Every page, as `writer.generate()` returns them; in two processes when `split` (by
    default, when `available`)."""
    jobs = writer.jobs()
    if not (available(writer) if split is None else split):
        return _in_order(jobs, _run(jobs))
    global _writer
    _writer = writer
    try:
        with fork_pool(1) as pool:
            helped = pool.submit(_helper, HELPER_JOBS)
            done = _run([(name, job) for name, job in jobs if name not in HELPER_JOBS])
            theirs, fragments, dots = helped.result()
    finally:
        _writer = None
    writer.fragments.update(fragments)
    for name, text in dots.items():
        writer.svg_for(name, functools.partial(str, text))  # the DOT, as the helper made it
    return _in_order(jobs, {**done, **theirs})


def _run(jobs: Jobs) -> dict[str, dict[str, str]]:
    return {name: job() for name, job in jobs}


def _in_order(jobs: Jobs, done: dict[str, dict[str, str]]) -> dict[str, str]:
    """The pages in the order one pass writes them."""
    return {page: text for name, _job in jobs for page, text in done[name].items()}


def _helper(names: tuple[str, ...]) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    """In the forked helper: the named jobs' pages, their fragments and their diagrams' DOT."""
    writer = _writer
    if writer is None:  # pragma: no cover - set before the fork
        raise RuntimeError("page helper started without a writer")
    sources: dict[str, Callable[[], str]] = {}
    writer.svg_for = sources.__setitem__
    writer.layout.fragments = writer.fragments = {}
    writer.layout.fragment_series = HELPER_FRAGMENTS
    pages = _run([(name, job) for name, job in writer.jobs() if name in names])
    return pages, writer.fragments, {name: source() for name, source in sorted(sources.items())}
