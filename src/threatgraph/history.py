"""Every mitigation's evidence replayed over a range of the target's git history, so each flip
(holds -> stops holding, or back) is attributed to the commit that caused it.

Incremental: the tree is followed commit by commit from `git log --name-status` (first parent),
files are read through one long-lived `git cat-file --batch`, and an evidence item is
re-evaluated only at commits that touch a path its globs can match; its last result stands
otherwise. The cost grows with the changes, not with commits x items. Per-file match results
are memoised by content, so a glob over hundreds of files re-searches only the files that
changed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threatgraph.assess import mitigation_state
from threatgraph.catalog.definitions import Mitigation
from threatgraph.errors import InputError, Problem
from threatgraph.evidence.base import EvidenceResult, Runner
from threatgraph.evidence.glob import compile_glob
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import MAX_FILE_BYTES, SourceError, SourceTree, check_relative, in_vcs_dir
from threatgraph.gitcmd import run_git

BRITTLE_OVER = 2  # flips over a range: a real control rarely comes and goes more often


def utc_day(seconds: int) -> str:
    """A commit time as its UTC date (reports are the same in every time zone)."""
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()


def origin_sentence(sha: str, seconds: int, subject: str) -> str:
    return f"stopped holding at {sha[:10]} ({utc_day(seconds)}, {subject})"


@dataclass(frozen=True)
class Commit:
    sha: str
    date: int  # committer time, seconds since the epoch (UTC)
    subject: str
    changes: tuple[tuple[str, str], ...]  # (status letter, path)


@dataclass(frozen=True)
class Flip:
    commit: Commit
    holds: bool  # the state after this commit
    detail: str


@dataclass
class Timeline:
    mitigation: str
    declared: str
    holds_at_start: bool
    flips: list[Flip] = field(default_factory=list)

    @property
    def brittle(self) -> bool:
        return len(self.flips) > BRITTLE_OVER


@dataclass(frozen=True)
class History:
    range: str
    commits: int
    evaluations: int  # evidence items evaluated over the whole replay
    timelines: tuple[Timeline, ...]


def _git(repo: Path, *args: str) -> str:
    proc = run_git(repo, *args, needed_by="history")
    if proc.returncode != 0:
        raise InputError([Problem(str(repo), 1, 1, f"git {args[0]} failed: "
                                  + proc.stderr.decode("utf-8", "replace").strip()[:300],
                                  "history takes --source-ref BASE..HEAD over a git repository")])
    return proc.stdout.decode("utf-8", "surrogateescape")


def commits_in(repo: Path, base: str, head: str) -> list[Commit]:
    """First-parent commits after `base` up to `head`, oldest first, with the paths each touches."""
    for rev in (base, head):
        if not rev or rev.startswith("-"):
            raise InputError([Problem("command line", 0, 0, f"invalid revision {rev!r}")])
    out = _git(repo, "log", "--first-parent", "--reverse", "--diff-merges=first-parent", "--name-status",
               "--no-renames", "--format=%x01%H%x00%ct%x00%s", f"{base}..{head}", "--")
    commits = []
    for record in out.split("\x01")[1:]:
        head_line, _, body = record.partition("\n")
        sha, date, subject = (head_line.split("\x00") + ["", ""])[:3]
        changes = []
        for line in body.splitlines():
            status, _, path = line.partition("\t")
            if path:
                changes.append((status[:1], path))
        commits.append(Commit(sha, int(date or 0), subject, tuple(changes)))
    return commits


class HistorySource(SourceTree):
    """The tree at one commit of a replay, moved forward commit by commit. Paths are read as
    `commit:path` through one `git cat-file --batch`; what a commit did not touch stays cached."""

    def __init__(self, repo: Path, start: str, max_bytes: int = MAX_FILE_BYTES):
        super().__init__()
        self.repo = repo.resolve()
        self.max_bytes = max_bytes
        self.commit = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{start}^{{commit}}").strip()
        listing = _git(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", self.commit)
        self.paths = {p for p in listing.split("\x00") if p and not in_vcs_dir(p)}
        self.label = f"{repo}@{self.short}"
        self._sorted: list[str] | None = None
        self._batch = subprocess.Popen(["git", "-C", str(self.repo), "cat-file", "--batch"],  # noqa: S603,S607
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def advance(self, commit: Commit) -> set[str]:
        """Move to `commit`; returns the paths it touched (their cached reads are dropped)."""
        touched = set()
        came_or_went = False
        for status, path in commit.changes:
            if in_vcs_dir(path):
                continue
            touched.add(path)
            if status == "D":
                self.paths.discard(path)
                came_or_went = True
            elif status != "M":
                came_or_went = came_or_went or path not in self.paths
                self.paths.add(path)
            self._cache.pop(path, None)
            self._text.pop(path, None)
        if came_or_went:
            self._selected.clear()  # a file came or went: globs select again
            self._sorted = None
        self.commit = commit.sha
        self.label = f"{self.repo}@{commit.sha[:12]}"
        return touched

    def forget_all(self) -> None:
        self._cache.clear()
        self._text.clear()
        self._selected.clear()
        self._sorted = None

    def files(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.paths)
        return self._sorted

    def _exists(self, rel: str) -> bool:
        return rel in self.paths and not check_relative(rel)

    def _read(self, rel: str) -> bytes:
        if check_relative(rel) or rel not in self.paths:
            raise SourceError(f"{rel} does not exist at {self.short}")
        stdin, stdout = self._batch.stdin, self._batch.stdout
        if stdin is None or stdout is None:
            raise SourceError("git cat-file --batch has no pipes")
        stdin.write(f"{self.commit}:{rel}\n".encode("utf-8", "surrogateescape"))
        stdin.flush()
        header = stdout.readline().split()
        if len(header) < 3:
            raise SourceError(f"{rel} could not be read at {self.short}")
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)
        if size > self.max_bytes:
            raise SourceError(f"{rel} is {size} bytes, over the {self.max_bytes}-byte cap; skipped")
        return data

    def close(self) -> None:
        if self._batch.stdin:
            self._batch.stdin.close()
        self._batch.wait(timeout=10)


def item_globs(item: Mapping[str, Any]) -> list[str]:
    """Every path or glob an item (and the items it combines) reads."""
    found = [item["path"]] if isinstance(item.get("path"), str) else []
    for sub in item.get("items", []) if isinstance(item.get("items"), list) else []:
        found += item_globs(sub)
    return found


def _touches(globs: Iterable[str], touched: set[str], seen: dict[str, bool]) -> bool:
    """Whether a touched path matches one of `globs` (`seen` memoises per glob for one commit)."""
    for g in globs:
        hit = seen.get(g)
        if hit is None:
            matcher = compile_glob(g)
            hit = seen[g] = any(matcher.match(path) for path in touched)
        if hit:
            return True
    return False


class _Replay:
    """The last result of every item, and re-evaluation of the items a commit touches."""

    def __init__(self, mitigations: Mapping[str, Mitigation], source: HistorySource):
        self.mitigations = mitigations
        self.source = source
        self.items = [(mid, k, item, item_globs(item)) for mid, m in mitigations.items()
                      for k, item in enumerate(m.evidence)]
        self.results: dict[tuple[str, int], EvidenceResult] = {}
        self.evaluations = 0
        self.runner = Runner(source, KINDS)

    def evaluate(self, touched: set[str] | None) -> set[str]:
        """Re-run the items `touched` can affect; with None, every item from nothing cached (the
        full evaluation the incremental one is tested against)."""
        if touched is None:
            self.runner = Runner(self.source, KINDS)
            self.source.forget_all()
        runner = self.runner
        if touched:
            runner.forget(touched)
        changed = set()
        seen: dict[str, bool] = {}
        for mid, k, item, globs in self.items:
            if touched is None or _touches(globs, touched, seen):
                self.results[(mid, k)] = runner.run(item)
                self.evaluations += 1
                changed.add(mid)
        return changed

    def holds(self, mid: str) -> tuple[bool, str]:
        m = self.mitigations[mid]
        results = tuple(self.results[(mid, k)] for k in range(len(m.evidence)))
        state = mitigation_state(mid, m.status, results)
        failing = [r for r in results if r.result != "pass" and not r.gap]
        detail = "; ".join(f"{r.proves}: {r.detail}" for r in failing[:2]) if state.drift else "holds"
        return not state.drift, detail


def drift_origins(history: History, drifted: Iterable[str]) -> dict[str, str]:
    """For each drifted mitigation, the commit of its last flip to not holding, as a sentence."""
    out = {}
    for t in history.timelines:
        last = next((f for f in reversed(t.flips) if not f.holds), None)
        if t.mitigation in drifted and last is not None:
            out[t.mitigation] = origin_sentence(last.commit.sha, last.commit.date, last.commit.subject)
    return out


def replay(mitigations: Mapping[str, Mitigation], repo: Path, base: str, head: str,
           incremental: bool = True) -> History:
    """Replay every mitigation with evidence over base..head (first parent)."""
    with_evidence = {mid: m for mid, m in mitigations.items() if m.evidence}
    commits = commits_in(repo, base, head)
    source = HistorySource(repo, base)
    try:
        state = _Replay(with_evidence, source)
        state.evaluate(None)
        now = {mid: state.holds(mid) for mid in with_evidence}
        timelines = {mid: Timeline(mid, m.status, now[mid][0]) for mid, m in with_evidence.items()}
        for commit in commits:
            touched = source.advance(commit)
            for mid in state.evaluate(touched if incremental else None):
                holds, detail = state.holds(mid)
                if holds != now[mid][0]:
                    timelines[mid].flips.append(Flip(commit, holds, detail))
                now[mid] = (holds, detail)
    finally:
        source.close()
    return History(f"{base}..{head}", len(commits), state.evaluations,
                   tuple(timelines[mid] for mid in sorted(timelines)))


def attach(a: Any, repo: Path, since: str, head: str | None) -> Any:
    """The assessment with the replay from `since` to `head` (default HEAD) attached: the site's
    timelines, and the commit where each drifted control stopped holding."""
    from dataclasses import replace
    from types import MappingProxyType

    h = replay(a.catalog.mitigations, repo, since, head or "HEAD")
    return replace(a, history=h, drift_origin=MappingProxyType(drift_origins(h, a.drift)))


def _holds_at(mitigation: Mitigation, repo: Path, sha: str) -> bool:
    from threatgraph.evidence.source import GitSource

    source = GitSource(repo, sha)
    try:
        runner = Runner(source, KINDS)
        results = tuple(runner.run(item) for item in mitigation.evidence)
    finally:
        source.close()
    return not mitigation_state(mitigation.id, mitigation.status, results).drift


def bisect_origin(mitigation: Mitigation, repo: Path, head: str, max_back: int = 100_000) -> str | None:
    """The first-parent commit at or before `head` where a drifted control stopped holding, found
    with O(log n) evaluations: step back geometrically (each step a quarter longer, so a window in
    which the control held is missed only when it is shorter than a fifth of its distance), then
    bisect. Assumes one transition in between; None when no probe finds it holding."""
    shas = _git(repo, "rev-list", "--first-parent", f"--max-count={max_back}", "--end-of-options", head).split()
    if len(shas) < 2:
        return None
    fails, step = 0, 1  # shas[fails] does not hold (the checked revision)
    holds = None
    while holds is None:
        probe = min(fails + step, len(shas) - 1)
        if _holds_at(mitigation, repo, shas[probe]):
            holds = probe
        elif probe == len(shas) - 1:
            return None
        else:
            fails, step = probe, max(step + 1, int(step * 1.25))
    while holds - fails > 1:
        mid = (fails + holds) // 2
        if _holds_at(mitigation, repo, shas[mid]):
            holds = mid
        else:
            fails = mid
    sha, date, subject = _git(repo, "log", "-1", "--format=%H%x00%ct%x00%s", shas[fails]).rstrip("\n").split("\x00")
    return origin_sentence(sha, int(date), subject)


def attribute(a: Any, repo: Path, head: str) -> Any:
    """The assessment with each drifted control's origin found by bisection (no range needed)."""
    from dataclasses import replace
    from types import MappingProxyType

    found = {}
    for mid in a.drift:
        origin = bisect_origin(a.catalog.mitigations[mid], repo, head)
        found[mid] = origin or ("no commit named: stepping back through the first-parent history found no earlier "
                                "commit where it held (a short-lived window can be missed); replay a range with "
                                "--since REV")
    return replace(a, drift_origin=MappingProxyType(found))
