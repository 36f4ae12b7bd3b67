"""Writes that never leave a half-written file or folder behind, never clobber a folder
threatgraph did not make, never replace a special file, and honour the umask."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from threatgraph.errors import EnvironmentProblem, InputError, Problem

MARKER = ".threatgraph-output"
MARKER_TEXT = "made by threatgraph; the whole folder is replaced on each run\n"
_ACTIVE: set[Path] = set()  # staging folders this process is filling now
_REPLACED: list[Path] = []  # outputs this process has swapped in (see `replaced`)
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO}


@lru_cache(maxsize=1)
def umask() -> int:
    """The process umask, read without changing it where the platform tells it (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def file_mode() -> int:
    return 0o666 & ~umask()


def folder_mode() -> int:
    return 0o777 & ~umask()


def _refuse(path: Path, message: str, hint: str) -> InputError:
    return InputError([Problem(str(path), 1, 1, message, hint)])


def environment_error(path: Path | str, exc: OSError, doing: str) -> EnvironmentProblem:
    """An OSError from the file system, told plainly (a full or read-only disk is not a bug)."""
    return EnvironmentProblem(f"cannot {doing} {path}: {exc.strerror or exc}")


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `path` so that it is either the old file or the new one, never half of either.

    A pipe, a terminal or a device (`/dev/stdout`, `>(cat)`, `/dev/null`) is written to as a
    stream, never replaced; a folder is refused. A regular file keeps its permissions, a new
    one gets those the umask allows."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise _refuse(path, "a parent of this path is a file, not a folder", "choose a path inside a folder") from None
    except OSError as exc:
        raise environment_error(path, exc, "write") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _refuse(path, "is a folder; --output takes a file", "name a file inside it, e.g. report.txt")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(path, "wb", buffering=0) as fh:
                fh.write(data)
        except OSError as exc:
            raise environment_error(path, exc, "write to") from None
        return
    real = Path(os.path.realpath(path))  # a symlink to a file: write the file, keep the link
    mode = stat.S_IMODE(st.st_mode) if st is not None else file_mode()
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _refuse(path, "a parent of this path is a file, not a folder", "choose a path inside a folder") from None
    except OSError as exc:
        raise environment_error(real.parent, exc, "create the folder") from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
        os.replace(tmp, real)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise environment_error(path, exc, "write") from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise


def write_new(path: Path, text: str | bytes) -> None:
    """A file inside a staged folder: nothing else sees it before the swap, so a plain write is
    atomic enough (and the umask applies as for any new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8") if isinstance(text, str) else text)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the few system calls of a swap, so an interrupt lands before or
    after it, never between the two renames. Blocking them is not enough: an interrupt the
    kernel delivered just before, which Python has yet to raise, would be raised inside. So
    SIGINT's Python handler only notes it meanwhile, and the interrupt is raised after."""
    noted: list[int] = []
    try:
        handler: Any = signal.signal(signal.SIGINT, lambda signum, _frame: noted.append(signum))
    except (AttributeError, ValueError, OSError):  # not the main thread: its signals are not ours
        handler = False
    try:
        mask: set[int] | None = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):  # not on this platform
        mask = None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if handler is not False:
            signal.signal(signal.SIGINT, signal.SIG_DFL if handler is None else handler)
    if noted and callable(handler):
        handler(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt, now that it is safe


def _marker_pid(folder: Path) -> int | None:
    try:
        text = (folder / MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for word in text.split():
        if word.startswith("pid="):
            digits = word[4:].rstrip(";,.")
            return int(digits) if digits.isdigit() else None
    return 0  # a marker from an older threatgraph, which wrote no pid


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale(final: Path) -> list[Path]:
    """Remove what killed or failed runs left beside `final`: staging folders and displaced old
    outputs (`.NAME.*`) that carry threatgraph's marker and whose process is gone."""
    removed: list[Path] = []
    try:
        siblings = list(final.parent.iterdir())
    except OSError:
        return removed
    prefix = f".{final.name}."
    for entry in siblings:
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        pid = _marker_pid(entry)
        owner = entry.name[len(prefix):]
        if pid == 0 and owner.startswith("old.") and owner[4:].isdigit():
            pid = int(owner[4:])  # a displaced output, named after the process swapping it
        if pid is None or entry in _ACTIVE or (pid != os.getpid() and _alive(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


class StagedDir:
    """Build an output folder in a sibling temporary folder; swap it in only on success, so an
    error or an interrupt leaves the previous output whole. An existing folder is replaced only
    if threatgraph made it (it, or a folder it lies in, holds the marker file) or it is empty.

    The path is normalised first (`build/reports/../reports`, a symlink to the folder), so the
    two renames of the swap always name the same folder."""

    def __init__(self, final: Path):
        self.given = Path(final)
        self.final = Path(os.path.realpath(final))

    @staticmethod
    def made_by_threatgraph(folder: Path) -> bool:
        """The folder, or a folder it lies in (`build/reports` after `build`), holds the marker."""
        return any((f / MARKER).is_file() for f in (folder, *folder.resolve().parents))

    def __enter__(self) -> Path:
        final = self.final
        if final.exists() and not final.is_dir():
            raise _refuse(self.given, "is a file, not a folder; threatgraph writes a folder here",
                          "choose a folder path")
        if final.exists() and any(final.iterdir()) and not self.made_by_threatgraph(final):
            raise EnvironmentProblem(f"{self.given}: the output folder holds files threatgraph did not write; "
                                     "refusing to replace it (choose an empty folder, or one threatgraph made)")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise _refuse(self.given, "a parent of this path is a file, not a folder",
                          "choose a path inside a folder") from None
        except OSError as exc:
            raise environment_error(final.parent, exc, "create the folder") from None
        clean_stale(final)
        self.tmp: Path | None = None
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
            os.chmod(self.tmp, folder_mode())
            (self.tmp / MARKER).write_text(f"made by threatgraph pid={os.getpid()}; "
                                           "the whole folder is replaced on each run\n")
        except OSError as exc:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise environment_error(final.parent, exc, "stage output in") from None
        _ACTIVE.add(self.tmp)
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.tmp is None:
            return
        _ACTIVE.discard(self.tmp)
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
                raise environment_error(self.given, exc, "write") from None
            return
        old = self.final.with_name(f".{self.final.name}.old.{os.getpid()}")
        try:
            (self.tmp / MARKER).write_text(MARKER_TEXT)  # the output itself names no process
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise environment_error(self.given, exc, "write") from None
        with _signals_held():  # the swap, and the old output's removal: an interrupt waits for both
            try:
                if self.final.exists():
                    os.replace(self.final, old)
                os.replace(self.tmp, self.final)
            except OSError as exc:
                shutil.rmtree(self.tmp, ignore_errors=True)
                if old.exists() and not self.final.exists():
                    os.replace(old, self.final)
                raise environment_error(self.given, exc, "replace") from None
            _REPLACED.append(self.given)
            shutil.rmtree(old, ignore_errors=True)


def replaced() -> list[Path]:
    """The outputs this process has already swapped in: an interrupt after that must not say
    the previous outputs are unchanged."""
    return list(_REPLACED)
