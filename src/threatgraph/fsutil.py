"""Writes that never leave a half-written file or folder behind, and never clobber a folder
threatgraph did not make."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from threatgraph.errors import InputError, Problem

MARKER = ".threatgraph-output"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the few system calls of a swap, so an interrupt lands before or
    after it, never between the two renames."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # not on this platform or thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class StagedDir:
    """Build an output folder in a sibling temporary folder; swap it in only on success, so an
    error or an interrupt leaves the previous output whole. An existing folder is replaced only
    if threatgraph made it (it, or a folder it lies in, holds the marker file) or it is empty."""

    def __init__(self, final: Path):
        self.final = final

    @staticmethod
    def made_by_threatgraph(folder: Path) -> bool:
        """The folder, or a folder it lies in (`build/reports` after `build`), holds the marker."""
        return any((f / MARKER).is_file() for f in (folder, *folder.resolve().parents))

    def __enter__(self) -> Path:
        final = self.final
        if final.exists() and (not final.is_dir() or (any(final.iterdir()) and not self.made_by_threatgraph(final))):
            raise InputError([Problem(str(final), 1, 1, "output folder holds files threatgraph did not write; "
                                      "refusing to replace it", "choose an empty folder, or one threatgraph made")])
        final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        (self.tmp / MARKER).write_text("made by threatgraph; the whole folder is replaced on each run\n")
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = self.final.with_name(f".{self.final.name}.old.{os.getpid()}")
        with _signals_held():
            if self.final.exists():
                os.replace(self.final, old)
            os.replace(self.tmp, self.final)
        shutil.rmtree(old, ignore_errors=True)
