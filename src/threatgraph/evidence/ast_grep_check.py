"""`ast_grep`: a structural pattern over source code (ast-grep), so a locator survives the code
moving to another file, being reformatted or renamed around it.

`pattern` is ast-grep code with metavariables (`cap_drop: ['ALL']`, `execa('iptables', $ARGS)`);
`rule` is an ast-grep rule mapping (pattern, kind, regex, inside, has, not, all, any, ...) with
optional `constraints`. The rule is data: ast-grep matches it, nothing is executed; its regexes
are Rust regexes (no backtracking). The language comes from `language` or the file's ending.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from threatgraph.evidence.base import (
    ERROR,
    FAIL,
    PASS,
    EvidenceKind,
    EvidenceResult,
    Runner,
    exclude_checks,
    path_checks,
    searched_files,
)
from threatgraph.evidence.source import SourceError, SourceTree

# Languages ast-grep-py ships, by the file endings that imply them (an unknown name would crash
# the native library, so only these are accepted).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "typescript": (".ts", ".mts", ".cts"), "tsx": (".tsx",), "javascript": (".js", ".mjs", ".cjs", ".jsx"),
    "bash": (".sh", ".bash"), "python": (".py",), "yaml": (".yaml", ".yml"), "json": (".json",),
    "go": (".go",), "rust": (".rs",), "java": (".java",), "c": (".c", ".h"), "cpp": (".cc", ".cpp", ".hpp"),
    "html": (".html",), "css": (".css",), "ruby": (".rb",), "kotlin": (".kt",), "swift": (".swift",),
    "php": (".php",), "csharp": (".cs",), "lua": (".lua",), "scala": (".scala",),
}
_BY_SUFFIX = {suffix: lang for lang, suffixes in LANGUAGES.items() for suffix in suffixes}
MAX_RULE_CHARS = 20_000


def language_of(rel: str, item: dict[str, Any]) -> str | None:
    if item.get("language"):
        return str(item["language"])
    dot = rel.rfind(".")
    return _BY_SUFFIX.get(rel[dot:].lower()) if dot >= 0 else None


def _config(item: dict[str, Any]) -> Any:  # ast_grep_py.Config, a TypedDict built from catalog data
    rule = {"pattern": item["pattern"]} if "pattern" in item else dict(item["rule"])
    config: dict[str, Any] = {"rule": rule}
    if item.get("constraints"):
        config["constraints"] = item["constraints"]
    return config


def _static(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    out = path_checks(item)
    out += exclude_checks(item)
    lang = item.get("language")
    if lang is not None and lang not in LANGUAGES:
        out.append((("language",), f"unknown language '{lang}'", "one of: " + ", ".join(sorted(LANGUAGES))))
        return out
    if out or not isinstance(item.get("pattern", item.get("rule")), (str, dict)):
        return out
    if len(repr(item.get("rule", item.get("pattern")))) > MAX_RULE_CHARS:
        return [(("rule",), f"the rule is over {MAX_RULE_CHARS} characters", "split it into several items")]
    langs = [lang] if lang else sorted({_BY_SUFFIX[s] for s in _BY_SUFFIX if isinstance(item.get("path"), str)
                                        and item["path"].lower().endswith(s)}) or ["typescript"]
    from ast_grep_py import SgRoot

    try:  # ast-grep checks a rule when it first runs it: run it on an empty file at load time
        SgRoot("", langs[0]).root().find(config=_config(item))
    except Exception as exc:  # noqa: BLE001 - the library's own message says what is wrong
        key = "pattern" if "pattern" in item else "rule"
        return [((key,), f"invalid ast-grep {key}: {exc}", "see https://ast-grep.github.io/guide/rule-config.html")]
    return []


_METAVARIABLE = re.compile(r"\$(?:\$\$)?([A-Z][A-Z0-9_]*)")  # $NAME or $$$NAME; $_ and $$$ capture nothing


def _names(value: Any) -> Counter[str]:
    """How often each capturing metavariable occurs in a rule's strings."""
    found: Counter[str] = Counter()
    if isinstance(value, str):
        found.update(_METAVARIABLE.findall(value))
    elif isinstance(value, dict):
        for v in value.values():
            found += _names(v)
    elif isinstance(value, list):
        for v in value:
            found += _names(v)
    return found


def _nots(value: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    """Every `not` clause in a rule, with its path."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, sub in items:
        if key == "not" and isinstance(value, dict):
            out.append((path + (key,), sub))
        out += _nots(sub, path + (key,))
    return out


def _warnings(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    """A `not` that reuses a metavariable captured outside it matches only the very text
    captured there, so it excludes that text alone: `not: {has: {pattern: 'f($$$A)'}}` beside
    `has: {pattern: 'g($$$A)'}` lets any call of f with other arguments through. Seen on this
    project's own evidence: the rule passed with the call it was written to forbid present."""
    rule = item.get("rule")
    if not isinstance(rule, dict):
        return []
    everywhere = _names(rule)
    out = []
    for path, clause in _nots(rule, ("rule",)):
        inside = _names(clause)
        shared = sorted(name for name, n in inside.items() if everywhere[name] > n)
        if shared:
            shown = ", ".join(f"${name}" for name in shared)
            out.append((path, f"{shown} inside this `not` is also captured outside it: the `not` then excludes only "
                              "code with that very same text, and passes on anything else",
                        "to exclude any such code, use $$$ (or a name used nowhere else) inside the `not`"))
    return out


def run(item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    from ast_grep_py import SgRoot

    proves = item.get("proves", "")
    expect_match = item.get("expect", "match") == "match"
    files = searched_files("ast_grep", item, source)
    if isinstance(files, EvidenceResult):
        return files
    config = _config(item)
    searched, errors = 0, []
    for rel in files:
        lang = language_of(rel, item)
        if lang is None:
            errors.append(f"{rel}: no language for this file ending; set `language`")
            continue
        try:
            text = source.text(rel)
        except SourceError as exc:
            errors.append(str(exc))
            continue
        searched += 1

        def search(text: str = text, lang: str = lang, rel: str = rel) -> tuple[int, str] | None:
            # one parse per file version, shared by every rule that searches it
            root = runner.searched(("ast_grep_tree", lang, rel), text, lambda: SgRoot(text, lang).root())
            node = root.find(config=config)
            return None if node is None else (node.range().start.line + 1, node.text())

        found = runner.searched(("ast_grep", repr(config), lang, rel), text, search)
        if found is not None:
            line, matched = found
            snippet = matched.splitlines()[0][:120] if matched else ""
            if expect_match:
                return EvidenceResult(PASS, "ast_grep", proves, rel, line, f"matched: {snippet}")
            return EvidenceResult(FAIL, "ast_grep", proves, rel, line, f"forbidden structure found: {snippet}")
    if searched == 0:
        return EvidenceResult(ERROR, "ast_grep", proves, item["path"], None, "; ".join(errors[:3]))
    where = files[0] if len(files) == 1 else item["path"]
    if expect_match:
        return EvidenceResult(FAIL, "ast_grep", proves, where, None, f"structure not found in {searched} file(s)")
    return EvidenceResult(PASS, "ast_grep", proves, where, None, f"structure absent from {searched} file(s)")


KIND = EvidenceKind(
    name="ast_grep",
    doc="a structural code pattern (ast-grep) that must (expect: match) or must not (no_match) occur",
    required={"path": {"type": "string", "description": "file or glob of source files, relative to the source root"}},
    optional={"pattern": {"type": "string", "description": "ast-grep pattern, with $METAVARIABLES"},
              "rule": {"type": "object", "description": "an ast-grep rule: pattern, kind, regex, inside, has, not, "
                                                        "all, any, ..."},
              "constraints": {"type": "object", "description": "ast-grep constraints on metavariables"},
              "language": {"enum": sorted(LANGUAGES), "description": "default: from the file ending"},
              "expect": {"enum": ["match", "no_match"], "default": "match"},
              "exclude": {"type": "array", "items": {"type": "string"}, "description": "globs of files to leave out"}},
    run=run,
    static_check=_static,
    static_warnings=_warnings,
    exactly_one_of=("pattern", "rule"),
)
