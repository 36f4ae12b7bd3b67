"""Read-only, confined access to the target system's source: a directory, or any git revision
of a repository read straight from its object store (the work tree is never touched).

Every path is resolved inside the root: `..`, absolute paths and symlinks that leave the root
are refused; files over a size cap are refused; each file is read at most once.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from functools import lru_cache
from pathlib import Path

MAX_FILE_BYTES = 5 * 1024 * 1024
_GLOB_CHARS = re.compile(r"[*?\[]")


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
    if any(part == ".." for part in path.split("/")):
        return "'..' is not allowed; evidence stays inside the source tree"
    return None


@lru_cache(maxsize=1024)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` spans folders, `*` and `?` stay within one, `[...]` is a character class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


class SourceTree:
    """Common interface: list files matching a path or glob, and read one file's bytes."""

    label = ""

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}
        self._text: dict[str, str] = {}
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
        rx = glob_regex(path)
        return [f for f in self.files() if rx.match(f)]

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


class DirSource(SourceTree):
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
        target = (self.root / rel).resolve()
        try:
            target.relative_to(self.root)
        except ValueError:
            raise SourceError(f"{rel} resolves outside the source root (symlink?)") from None
        return target

    def files(self) -> list[str]:
        if self._listing is None:
            out: list[str] = []
            for folder, dirs, names in os.walk(self.root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                base = Path(folder).relative_to(self.root).as_posix()
                for name in names:
                    out.append(name if base == "." else f"{base}/{name}")
            self._listing = sorted(out)
        return self._listing

    def _exists(self, rel: str) -> bool:
        try:
            return self._inside(rel).is_file()
        except SourceError:
            return (self.root / rel).is_symlink() or False

    def _read(self, rel: str) -> bytes:
        target = self._inside(rel)
        try:
            size = target.stat().st_size
        except OSError as exc:
            raise SourceError(f"{rel}: {exc.strerror}") from None
        if size > self.max_bytes:
            raise SourceError(f"{rel} is {size} bytes, over the {self.max_bytes}-byte cap; skipped")
        try:
            return target.read_bytes()
        except OSError as exc:
            raise SourceError(f"{rel}: {exc.strerror}") from None


class GitSource(SourceTree):
    """A revision of a git repository, read with `git ls-tree` and `git cat-file --batch`."""

    def __init__(self, repo: Path, rev: str, max_bytes: int = MAX_FILE_BYTES):
        super().__init__()
        self.repo = repo.resolve()
        self.max_bytes = max_bytes
        if rev.startswith("-"):
            raise SourceError(f"invalid revision '{rev}'")
        self.commit = self._git("rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()
        self.label = f"{repo}@{self.commit[:12]}"
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
        try:
            proc = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, check=False,
                                  env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        except FileNotFoundError:
            raise SourceError("git is not installed; --source-ref needs it") from None
        if proc.returncode != 0:
            raise SourceError(f"git {args[0]} failed in {self.repo}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def files(self) -> list[str]:
        return sorted(p for p, (mode, _, _) in self._entries.items() if mode != "120000")

    def _resolve(self, rel: str, depth: int = 0) -> str:
        problem = check_relative(rel)
        if problem:
            raise SourceError(problem)
        entry = self._entries.get(rel)
        if entry is None:
            raise SourceError(f"{rel} does not exist at {self.commit[:12]}")
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
        return rel in self._entries  # a symlink counts; reading it says where it leads

    def _blob(self, sha: str) -> bytes:
        if self._batch is None:
            self._batch = subprocess.Popen(["git", "-C", str(self.repo), "cat-file", "--batch"],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._batch.stdin and self._batch.stdout
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
