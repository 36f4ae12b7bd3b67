"""Read-only, confined access to the target system's source: a directory, or any git revision
of a repository read straight from its object store (the work tree is never touched).

Every path is resolved inside the root: `..`, absolute paths and symlinks that leave the root
are refused; files over a size cap are refused; each file is read at most once.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import subprocess
from pathlib import Path

from threatgraph.evidence.glob import GlobError, compile_glob
from threatgraph.gitcmd import run_git

MAX_FILE_BYTES = 5 * 1024 * 1024
_GLOB_CHARS = re.compile(r"[*?\[]")
# Version-control metadata holds credentials (an `extraheader` left by actions/checkout, remote
# URLs with tokens) and is never evidence of a control: no path may enter these folders.
VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", ".jj", "_darcs"})


class SourceError(Exception):
    """A file could not be read for a reason worth reporting as an evidence error."""


def check_relative(path: str) -> str | None:
    """Why `path` is not an acceptable source-relative path, or None when it is."""
    if not path or "\x00" in path:
        return "path is empty or contains NUL"
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "absolute paths are not allowed; paths are relative to the source root"
    if "\\" in path:
        return "use forward slashes in paths"
    parts = path.split("/")
    if any(part == ".." for part in parts):
        return "'..' is not allowed; evidence stays inside the source tree"
    if any(part.lower() in VCS_DIRS for part in parts):
        return "version-control metadata (.git, .hg, .svn) is never read as evidence"
    return None


def in_vcs_dir(rel: str) -> bool:
    return any(part.lower() in VCS_DIRS for part in rel.split("/"))


class SourceTree:
    """Common interface: list files matching a path or glob, and read one file's bytes."""

    label = ""
    commit: str | None = None  # the revision read, for a git source

    @property
    def short(self) -> str:
        """The commit, abbreviated as outputs show it."""
        return (self.commit or "")[:12]

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}
        self._text: dict[str, str] = {}
        self._selected: dict[str, list[str]] = {}  # glob -> files, while the file set is unchanged
        self.reads = 0

    def files(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _read(self, rel: str) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def _exists(self, rel: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def select(self, path: str) -> list[str]:
        """The files a path or glob selects, sorted."""
        problem = check_relative(path)
        if problem:
            raise SourceError(problem)
        if not _GLOB_CHARS.search(path):
            return [path] if self._exists(path) else []
        hit = self._selected.get(path)
        if hit is not None:
            return hit
        try:
            glob = compile_glob(path)
        except GlobError as exc:
            raise SourceError(f"glob '{path}': {exc}") from None
        found = self._selected[path] = [f for f in self.files() if glob.match(f)]
        return found

    def select_excluding(self, path: str, exclude: list[str]) -> list[str]:
        """`select(path)` less the files any `exclude` glob matches (cached like select)."""
        key = "\x00".join([path, *exclude])
        hit = self._selected.get(key)
        if hit is not None:
            return hit
        excluded = [compile_glob(x) for x in exclude]
        found = self._selected[key] = [f for f in self.select(path) if not any(g.match(f) for g in excluded)]
        return found

    def read(self, rel: str) -> bytes:
        if rel not in self._cache:
            self.reads += 1
            self._cache[rel] = self._read(rel)
        return self._cache[rel]

    def text(self, rel: str) -> str:
        """The file as text; binary or non-UTF-8 files are refused, never decoded."""
        if rel not in self._text:
            raw = self.read(rel)
            if b"\x00" in raw[:8192]:
                raise SourceError(f"{rel} is a binary file; it is not searched as text")
            try:
                self._text[rel] = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SourceError(f"{rel} is not UTF-8 text (byte {exc.start})") from None
        return self._text[rel]


def _links_to_file(path: str) -> bool:
    """A symlink is listed when it leads to a regular file, or nowhere (a loop or a dangling
    link, reported as an error by the items that touch it); never when it leads to a folder
    or a special file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return True


class DirSource(SourceTree):
    """A folder on disk. Only regular files are listed and read (a FIFO would block, a device
    never ends), each through one descriptor checked after opening, never past the cap."""

    def __init__(self, root: Path, max_bytes: int = MAX_FILE_BYTES):
        super().__init__()
        self.root = root.resolve()
        self.label = str(root)
        self.max_bytes = max_bytes
        self._listing: list[str] | None = None
        if not self.root.is_dir():
            raise SourceError(f"source '{root}' is not a directory")

    def _inside(self, rel: str) -> Path:
        problem = check_relative(rel)
        if problem:
            raise SourceError(problem)
        try:
            target = (self.root / rel).resolve(strict=False)
        except (RuntimeError, OSError):  # a symlink loop
            raise SourceError(f"{rel}: symlink loop (too many levels of symbolic links)") from None
        try:
            inner = target.relative_to(self.root)
        except ValueError:
            raise SourceError(f"{rel} resolves outside the source root (symlink?)") from None
        if in_vcs_dir(inner.as_posix()):
            raise SourceError(f"{rel} leads into version-control metadata, which is never read")
        return target

    def files(self) -> list[str]:
        if self._listing is None:
            out: list[str] = []
            pending = [""]
            while pending:
                base = pending.pop()
                try:
                    entries = list(os.scandir(self.root / base if base else self.root))
                except OSError:
                    continue
                for entry in entries:
                    rel = f"{base}/{entry.name}" if base else entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name.lower() not in VCS_DIRS:
                                pending.append(rel)
                        elif entry.is_file(follow_symlinks=False) or (entry.is_symlink() and _links_to_file(entry.path)):
                            out.append(rel)  # a symlink is resolved, and confined, when read
                    except OSError:
                        continue
            self._listing = sorted(out)
        return self._listing

    def _exists(self, rel: str) -> bool:
        if check_relative(rel):
            return False
        try:
            st = os.lstat(self.root / rel)
        except (OSError, ValueError):
            return False
        return not stat.S_ISDIR(st.st_mode)  # reading says why a special file or a link is refused

    def _read(self, rel: str) -> bytes:
        target = self._inside(rel)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(target, flags)
        except OSError as exc:
            raise SourceError(f"{rel}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SourceError(f"{rel} is not a regular file (a FIFO, device or socket); it is never read")
            if st.st_size > self.max_bytes:
                raise SourceError(f"{rel} is {st.st_size} bytes, over the {self.max_bytes}-byte cap; skipped")
            chunks, total = [], 0
            while total <= self.max_bytes:
                chunk = os.read(fd, min(1 << 20, self.max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > self.max_bytes:
                raise SourceError(f"{rel} grew past the {self.max_bytes}-byte cap while being read; skipped")
            return b"".join(chunks)
        except OSError as exc:
            raise SourceError(f"{rel}: {exc.strerror}") from None
        finally:
            os.close(fd)


class GitSource(SourceTree):
    """A revision of a git repository, read with `git ls-tree` and `git cat-file --batch`."""

    def __init__(self, repo: Path, rev: str, max_bytes: int = MAX_FILE_BYTES):
        super().__init__()
        self.repo = repo.resolve()
        self.max_bytes = max_bytes
        if rev.startswith("-"):
            raise SourceError(f"invalid revision '{rev}'")
        self.commit = self._git("rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()
        self.label = f"{repo}@{self.short}"
        self._entries: dict[str, tuple[str, str, int]] = {}
        listing = self._git("ls-tree", "-r", "-z", "--long", "--full-tree", self.commit)
        for record in listing.split("\x00"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, sha, size = meta.split()
            if kind == "blob":
                self._entries[path] = (mode, sha, int(size) if size.isdigit() else 0)
        self._batch: subprocess.Popen[bytes] | None = None

    def _git(self, *args: str) -> str:
        proc = run_git(self.repo, *args, needed_by="--source-ref")  # revisions follow --end-of-options
        if proc.returncode != 0:
            raise SourceError(f"git {args[0]} failed in {self.repo}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def files(self) -> list[str]:
        return sorted(p for p, (mode, _, _) in self._entries.items() if mode != "120000" and not in_vcs_dir(p))

    def _resolve(self, rel: str, depth: int = 0) -> str:
        problem = check_relative(rel)
        if problem:
            raise SourceError(problem)
        entry = self._entries.get(rel)
        if entry is None:
            raise SourceError(f"{rel} does not exist at {self.short}")
        if entry[0] != "120000":
            return rel
        if depth > 8:
            raise SourceError(f"{rel}: too many levels of symlinks")
        target = self._blob(entry[1]).decode("utf-8", errors="replace")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if target.startswith("/") or joined.startswith("..") or joined == ".":
            raise SourceError(f"{rel} is a symlink that leaves the source root")
        return self._resolve(joined, depth + 1)

    def _exists(self, rel: str) -> bool:
        return rel in self._entries and not check_relative(rel)  # a symlink counts; reading it says where it leads

    def _blob(self, sha: str) -> bytes:
        if self._batch is None:
            self._batch = subprocess.Popen(["git", "-C", str(self.repo), "cat-file", "--batch"],  # noqa: S603,S607
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self._batch.stdin is None or self._batch.stdout is None:
            raise SourceError("git cat-file --batch has no pipes")
        self._batch.stdin.write(sha.encode() + b"\n")
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) < 3:
            raise SourceError(f"git cat-file could not read {sha}")
        size = int(header[2])
        data = self._batch.stdout.read(size)
        self._batch.stdout.read(1)
        return data

    def _read(self, rel: str) -> bytes:
        real = self._resolve(rel)
        mode, sha, size = self._entries[real]
        if size > self.max_bytes:
            raise SourceError(f"{rel} is {size} bytes, over the {self.max_bytes}-byte cap; skipped")
        return self._blob(sha)

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait(timeout=5)
            self._batch = None


def open_source(path: Path, rev: str | None) -> SourceTree:
    if rev:
        return GitSource(path, rev)
    return DirSource(path)
