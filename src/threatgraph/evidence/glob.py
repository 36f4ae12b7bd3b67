"""Path globs matched in bounded time: no regular expression, no backtracking blow-up.

A catalog is untrusted input, so a glob such as `**?**?**?**?Q` must not be able to stall a
check. A glob is parsed once into segments (split at `/`); a segment `**` matches zero or
more whole folders, any other segment matches exactly one path segment, within which `*`
matches any run of characters, `?` one character and `[...]` / `[!...]` one character of a
class. `**` inside a longer segment is an ordinary `*` (as in `.gitignore`). Both levels are
matched by the greedy wildcard algorithm that remembers only the last star, which is exact
for these patterns and costs at most O(len(pattern) x len(path)) per path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_GLOB_CHARS = 1024
_STAR = ("*",)
_ANY = ("?",)


class GlobError(ValueError):
    """A glob that cannot be parsed; the message says what to write instead."""


Token = tuple[Any, ...]  # ("*",) | ("?",) | ("=", char) | ("[", negated, ((lo, hi), ...))
Segment = tuple[Token, ...]


def _parse_class(seg: str, i: int) -> tuple[Token, int]:
    """The class starting at seg[i] == '['; returns the token and the index after ']'."""
    j = i + 1
    negated = j < len(seg) and seg[j] in "!^"
    if negated:
        j += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while True:
        if j >= len(seg):
            raise GlobError(f"unclosed character class at column {i + 1} of '{seg}'; write '[[]' to match '['")
        ch = seg[j]
        if ch == "]" and not first:
            break
        first = False
        if j + 2 < len(seg) and seg[j + 1] == "-" and seg[j + 2] != "]":
            lo, hi = ch, seg[j + 2]
            if lo > hi:
                raise GlobError(f"character range '{lo}-{hi}' is reversed; write '[{hi}-{lo}]'")
            ranges.append((lo, hi))
            j += 3
        else:
            ranges.append((ch, ch))
            j += 1
    return ("[", negated, tuple(ranges)), j + 1


def _parse_segment(seg: str) -> Segment:
    tokens: list[Token] = []
    i = 0
    while i < len(seg):
        ch = seg[i]
        if ch == "*":
            if not tokens or tokens[-1] != _STAR:  # runs of stars are one star
                tokens.append(_STAR)
            i += 1
        elif ch == "?":
            tokens.append(_ANY)
            i += 1
        elif ch == "[":
            tok, i = _parse_class(seg, i)
            tokens.append(tok)
        else:
            tokens.append(("=", ch))
            i += 1
    return tuple(tokens)


def _one(tok: Token, ch: str) -> bool:
    kind = tok[0]
    if kind == "=":
        return bool(tok[1] == ch)
    if kind == "?":
        return True
    inside = any(lo <= ch <= hi for lo, hi in tok[2])
    return bool(inside != tok[1])


def _wildcard(tokens: Sequence[Any], items: Sequence[Any], star: object, one: Callable[[Any, Any], bool]) -> bool:
    """Greedy wildcard match with a single remembered star: exact when every token but the
    star consumes exactly one item, and never worse than O(len(tokens) x len(items))."""
    t = i = 0
    star_t, star_i = -1, 0
    n_tok, n_items = len(tokens), len(items)
    while i < n_items:
        if t < n_tok and tokens[t] != star and one(tokens[t], items[i]):
            t += 1
            i += 1
        elif t < n_tok and tokens[t] == star:
            star_t, star_i = t, i
            t += 1
        elif star_t >= 0:
            star_i += 1
            t, i = star_t + 1, star_i
        else:
            return False
    while t < n_tok and tokens[t] == star:
        t += 1
    return t == n_tok


def _segment_matches(tokens: Segment, name: str) -> bool:
    if len(tokens) == 1 and tokens[0][0] == "=":
        return bool(name == tokens[0][1])
    return _wildcard(tokens, name, _STAR, _one)


_DEEP = ("**",)


@dataclass(frozen=True)
class Glob:
    pattern: str
    segments: tuple[Any, ...]  # each: _DEEP or a Segment
    literal: bool  # no wildcard at all

    def match(self, path: str) -> bool:
        if self.literal:
            return path == self.pattern
        return _matches(self, path)


@lru_cache(maxsize=1 << 18)
def _matches(glob: Glob, path: str) -> bool:
    """Memoised: a history replay asks the same (glob, path) questions at every commit."""
    return _wildcard(glob.segments, path.split("/"), _DEEP, _segment_matches)


def _collapse(seg: str) -> Segment:
    tokens = _parse_segment(seg)
    # a literal segment becomes one token holding the whole name (compared in one step)
    if tokens and all(t[0] == "=" for t in tokens):
        return (("=", seg),)
    return tokens


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Glob:
    """Parse a glob (GlobError when it is malformed or over MAX_GLOB_CHARS)."""
    if len(pattern) > MAX_GLOB_CHARS:
        raise GlobError(f"glob is {len(pattern)} characters long; at most {MAX_GLOB_CHARS}")
    segments: list[Any] = []
    for seg in pattern.split("/"):
        if seg == "**":
            if not segments or segments[-1] != _DEEP:
                segments.append(_DEEP)
        else:
            segments.append(_collapse(seg))
    literal = not any(ch in pattern for ch in "*?[")
    return Glob(pattern, tuple(segments), literal)


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a valid glob, or None."""
    try:
        compile_glob(pattern)
    except GlobError as exc:
        return str(exc)
    return None
