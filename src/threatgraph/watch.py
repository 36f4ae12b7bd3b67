"""`threatgraph check --watch`: re-run the check whenever the model, a catalog or the
configuration changes, and print only what changed in the verdict since the last run.

A run that fails on its inputs prints its errors and keeps the last good verdict, so fixing
the error shows the change against what held before it, not a whole report again."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatgraph.assess import Assessment
from threatgraph.config import Config
from threatgraph.diff import compare
from threatgraph.errors import InputError, printable
from threatgraph.model.loader import model_file

WATCHED_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".json")
_IGNORED_PARTS = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules", ".venv"}


def watched_paths(config: Config) -> list[Path]:
    """The configuration file, the model's folder (a model may import its siblings) and both
    catalog folders: what a verdict depends on, apart from the target's source."""
    model = model_file(config.model, config.root)
    paths = [config.pyproject] if config.pyproject is not None else []
    paths.append(model.parent if model is not None else config.root)  # a module: anything under the root
    paths += [config.path(config.threats), config.path(config.mitigations)]
    found: list[Path] = []
    for p in paths:
        if p is not None and p.exists() and p.resolve() not in {f.resolve() for f in found}:
            found.append(p)
    return found


def relevant(out: Path) -> Callable[[Any, str], bool]:
    """A watchfiles filter: source files only, never the build output or a tool's cache
    (a build writing into the watched tree must not trigger a rerun of itself)."""
    out = out.resolve()

    def keep(_change: Any, path: str) -> bool:
        p = Path(path)
        if p.suffix not in WATCHED_SUFFIXES or _IGNORED_PARTS & set(p.parts):
            return False
        try:
            p.resolve().relative_to(out)
            return False
        except ValueError:
            return True

    return keep


def verdict_lines(before: Assessment, after: Assessment) -> list[str]:
    """What changed in the verdict, one line each: policy and coverage, then the causes (model,
    catalog, declared status, evidence), then the pairs they moved."""
    c = compare(before, after)
    lines = []
    if before.passed != after.passed:
        lines.append(f"policy: {'passed' if before.passed else 'FAILED'} -> {'passed' if after.passed else 'FAILED'}")
    old = {str(v) for v in before.violations}
    new = {str(v) for v in after.violations}
    lines += [f"  + violation: {v}" for v in sorted(new - old)]
    lines += [f"  - violation gone: {v}" for v in sorted(old - new)]
    if c.coverage[0] != c.coverage[1]:
        lines.append(f"coverage {c.coverage[0]:.1%} -> {c.coverage[1]:.1%}")
    for kind in ("elements", "flows", "boundaries", "threats", "mitigations"):
        if c.added.get(kind):
            lines.append(f"{kind} added: {', '.join(c.added[kind])}")
        if c.removed.get(kind):
            lines.append(f"{kind} removed: {', '.join(c.removed[kind])}")
    for r in c.evidence_changed:
        if r.declared[0] != r.declared[1]:
            lines.append(f"{r.mitigation} declared {r.declared[0]} -> {r.declared[1]}")
        if r.before != r.after or r.items[0] != r.items[1]:
            lines.append(f"evidence of {r.mitigation}: {r.before} -> {r.after} (items {r.items[0]} -> {r.items[1]})"
                         f"{' (drift)' if r.drift else ''}")
    lines += [f"{r.threat} on {r.target}: {r.before} -> {r.status}" for r in c.status_changed]
    lines += [f"+ {r.threat} on {r.target}: {r.status} ({r.severity})" for r in c.pairs_added]
    lines += [f"- {r.threat} on {r.target} (was {r.status})" for r in c.pairs_removed]
    lines += [f"invariant {r.invariant}: {'holds' if r.after else 'broken'}" for r in c.invariants_changed]
    return [printable(line) for line in lines]


@dataclass
class Watcher:
    """The state between runs: the last good assessment, and whether the last run failed."""

    run: Callable[[], Assessment]  # loads the configuration afresh and checks
    say: Callable[[str], None]
    first: Callable[[Assessment], None]  # the whole report, once, for the first good run
    last: Assessment | None = None
    broken: bool = False
    warned: frozenset[str] = frozenset()

    def once(self, changed: Iterable[str] = ()) -> Assessment | None:
        names = sorted(set(changed))
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            self.say(f"-- changed: {printable(shown)}")
        try:
            a = self.run()
        except InputError as exc:
            for p in exc.problems:
                self.say(p.format())
            errors = sum(p.severity == "error" for p in exc.problems)
            kept = "; the last good verdict stands" if self.last is not None else ""
            self.say(f"threatgraph: {errors} error(s) in the inputs{kept}")
            self.broken = True
            return None
        warnings = {w.format() for w in a.warnings}
        new_warnings = sorted(warnings - self.warned)
        previous, was_broken = self.last, self.broken
        # The new verdict stands before it is shown: Ctrl-C while it prints (the moment a user
        # has read it) must exit with its code, not the last run's.
        self.last, self.broken, self.warned = a, False, frozenset(warnings)
        for w in new_warnings:
            self.say(w)
        if previous is None:
            self.first(a)
        else:
            if was_broken:
                self.say("inputs valid again")
            for line in verdict_lines(previous, a) or ["no change in the verdict"]:
                self.say(line)
        return a


def changes(paths: list[Path], keep: Callable[[Any, str], bool], ready: Callable[[], object]) -> Iterator[set[Path]]:
    """Each batch of changed files (watchfiles debounces an editor's burst of writes into one);
    ends quietly on Ctrl-C. `ready` is called once the watches are in place (the first quiet
    interval), so "watching" is never said before an edit would be seen."""
    import watchfiles

    told = False
    for batch in watchfiles.watch(*paths, watch_filter=keep, raise_interrupt=False, yield_on_timeout=True,
                                  rust_timeout=200):
        if not told:
            told = True
            ready()
        if batch:
            yield {Path(path) for _, path in batch}


def loop(config_of: Callable[[], Config], check: Callable[[Config], Assessment], say: Callable[[str], None],
         first: Callable[[Assessment], None], note: Callable[[str], None]) -> Watcher:
    """Run, then run again on every relevant change until Ctrl-C; the folders watched follow
    the configuration (a changed `threats = ...` is watched from the next run on)."""
    state: dict[str, Config] = {}

    def run() -> Assessment:
        state["config"] = config_of()
        return check(state["config"])

    watcher = Watcher(run, say, first)
    try:
        _watch(watcher, state, note)
    except KeyboardInterrupt:  # Ctrl-C during a run ends the watch as it does between runs
        pass
    return watcher


def _watch(watcher: Watcher, state: dict[str, Config], note: Callable[[str], None]) -> None:
    watcher.once()
    if "config" not in state:
        return  # no configuration to watch from
    while True:
        config = state["config"]
        paths = watched_paths(config)
        message = f"watching {', '.join(map(config.display, paths))} (Ctrl-C to stop)"
        for batch in changes(paths, relevant(config.path(config.out)), functools.partial(note, message)):
            watcher.once([config.display(p) for p in batch])
            if watched_paths(state["config"]) != paths:
                break  # the configuration moved a folder: watch the new ones
        else:
            return  # Ctrl-C
