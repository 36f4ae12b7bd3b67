"""Process-wide settings every threatgraph command runs under.

Kept in one place so the CLI and the benchmark (which times the same work stage by stage in
its own processes) run under identical settings.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# A threatgraph command is a short-lived process that builds one large, mostly acyclic object
# graph (pytm's objects, then the frozen model and its indexes) and keeps it to the end. With
# CPython's default threshold (700 allocations) the cyclic collector runs hundreds of times
# and rescans that whole graph on every full collection, a third of a check's own time at
# 1,000 elements, while finding almost nothing to free. A larger first threshold, as mypy
# uses for the same reason, keeps collection for the garbage that actually accumulates.
GC_THRESHOLD = (200_000, 30, 30)


def configure() -> None:
    """Apply the settings: call once, at the start of a command, before any work."""
    # Catalogs are untrusted input validated with pydantic: third-party pydantic plugins (which
    # pydantic discovers by scanning every installed package) have no business running on them,
    # and the scan costs a noticeable share of a cold `check`. A user who wants them sets the
    # variable explicitly.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.set_threshold(*GC_THRESHOLD)


# Whether this process ends when its command does (`short_lived`). Then what a paused stretch
# built is kept to the end, and resuming collection freezes it instead of scanning it.
_survivors_kept = False


def short_lived() -> None:
    """Declare this process a single command's (the console script's, ending with `exit_now`),
    not one that lives on (a caller in Python, a watch, a server): see `without_collection`."""
    global _survivors_kept
    _survivors_kept = True


@contextmanager
def without_collection() -> Iterator[None]:
    """Cyclic collection paused for a burst of allocation that makes no cycles to free (pages
    and reports: strings and lists, freed by reference counting), then resumed where it was.
    At 10,000 elements the collector took 0.8 s of the 4.4 s of page generation, finding
    nothing.

    Resuming alone would only defer that pass: everything the burst left is young, and the
    first allocation after it scans all of it (0.5 s after a 100,000-element model's snapshot
    is read, 0.8 s after its check, finding 955 objects to free and none). In a short-lived process
    (`short_lived`) what is left is the command's result, kept to the end, so it is frozen
    (gc.freeze): never scanned again, still freed by reference counting. A caller that lives
    on keeps ordinary collection of it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if _survivors_kept:
                gc.freeze()
            gc.enable()


# --- work begun while this process waits ----------------------------------------------------
# A build waits for its model's child with a core idle (2.5 s of a 10,000-element build, the
# model running alone). Work that needs no model and holds no lock across a fork's copy can
# be registered to begin there, in a thread, once the wait has lasted `after` seconds: a short
# wait (a small model) begins nothing. Such threads are joined (`settle`) before this process
# forks and before what they prepared is used.
_idle: list[tuple[float, Callable[[], None]]] = []
_begun: list[threading.Thread] = []


@contextmanager
def while_waiting(after: float, work: Callable[[], None]) -> Iterator[None]:
    """`work` may begin, once, in a thread, when a wait inside the block has lasted `after`
    seconds (`waited`). Its exceptions are its own: it must not raise."""
    entry = (after, work)
    _idle.append(entry)
    try:
        yield
    finally:
        if entry in _idle:
            _idle.remove(entry)


def next_idle(waited_so_far: float) -> float | None:
    """Seconds a wait that has lasted `waited_so_far` should sleep before calling `waited`
    again; None when nothing is registered."""
    return max(0.0, min(after for after, _ in _idle) - waited_so_far) if _idle else None


def waited(seconds: float) -> None:
    """A wait of this process has lasted `seconds`: begin the work whose time has come."""
    for entry in [e for e in _idle if e[0] <= seconds]:
        _idle.remove(entry)
        thread = threading.Thread(target=entry[1], name="threatgraph-while-waiting")
        _begun.append(thread)
        thread.start()


def settle() -> None:
    """Wait for the work begun while waiting: before a fork, and before its results are used."""
    while _begun:
        _begun.pop().join()


def can_fork_helpers() -> bool:
    """Whether work may go to processes forked from this one: `fork` exists, a second core is
    there to run them, and no other thread is running (a fork copies none of them, and a lock
    one of them held would stay held in the copy: `mkdocs serve` runs threads). Work begun
    while waiting is finished first."""
    import multiprocessing  # here, not at the top: every command imports this module, few fork (7 ms)

    settle()
    return ((os.cpu_count() or 1) > 1 and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods())


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of processes forked from this one (they inherit its memory: nothing is pickled
    to start them), with this process's buffered output flushed first so that no worker
    writes it again. Ask `can_fork_helpers` before."""
    import multiprocessing  # here, not at the top: every command imports this module
    from concurrent.futures import ProcessPoolExecutor

    settle()
    sys.stdout.flush()
    sys.stderr.flush()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def exit_now(code: int) -> NoReturn:
    """End the command's process as a normal exit does (other threads waited for, exit
    handlers run, output flushed) but without the interpreter freeing every object one by one
    first: that teardown took 0.09 s of each build here, a twentieth of the firewall's (mypy
    ends the same way, `mypy.util.hard_exit`). Waiting for another thread can be interrupted
    (130, as ever); the exit handlers cannot: the work is done and written, and an interrupt
    could only cut them short."""
    import atexit
    import signal

    me = threading.current_thread()
    try:
        for thread in threading.enumerate():
            if thread is not me and not thread.daemon:
                thread.join()
    except KeyboardInterrupt:
        os._exit(130)
    with suppress(ValueError, OSError):  # not the main thread, or no SIGINT here
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:  # another Python: the ordinary exit
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a reader that went away: nothing more to tell it
            stream.flush()
    os._exit(code)
