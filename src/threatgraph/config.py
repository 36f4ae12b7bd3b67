"""Find the project's pyproject.toml (walking up, as git and ruff do), read
[tool.threatgraph], and merge command-line overrides over it."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.vocabulary import SEVERITIES, STRIDE, STRIDE_PER_KIND  # noqa: E402


@dataclass(frozen=True)
class Policy:
    """What makes `threatgraph check` fail."""

    fail_on: str | None = "high"  # lowest severity of an unmitigated pair that fails; None: never
    min_coverage: float = 0.0
    fail_on_expired_acceptance: bool = True
    fail_on_drift: bool = True
    require_evidence: bool = False
    require_crossing_threats: bool = False
    no_new_unmitigated: bool = False
    require_verified: bool = False  # a pair counts as mitigated only when its evidence was checked
    fail_on_nothing_assessed: bool = True  # no (threat, target) pair at all fails instead of passing
    require_stride_per_element: bool = False  # every STRIDE-per-element cell has a threat or a not_applicable
    fail_on_stale_model: bool = True  # an element or flow whose own evidence no longer holds fails


@dataclass(frozen=True)
class Config:
    root: Path
    pyproject: Path | None
    model: str = "model.py"
    threats: str = "threats"
    mitigations: str = "mitigations"
    source: str | None = None
    source_ref: str | None = None
    source_name: str | None = None  # how outputs name the source (default: its folder's name)
    source_url: str | None = None  # link template for evidence: {commit}, {path}, {line}
    out: str = "build"
    site: str = "site"
    model_timeout: float = 60.0  # seconds the model file may take to load
    model_cache: bool | None = None  # reuse an unchanged model's snapshot (None: yes, except under CI)
    packs: tuple[str, ...] = ()  # threat packs included by name (threatgraph.packs), e.g. ("pytm",)
    stride: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType(dict(STRIDE_PER_KIND)))
    policy: Policy = field(default_factory=Policy)

    def path(self, value: str) -> Path:
        return (self.root / value).resolve()

    def display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


_TOP_KEYS = {"model", "threats", "mitigations", "source", "source_ref", "source_name", "source_url", "out", "site",
             "model_timeout", "model_cache", "packs", "stride", "policy"}
_POLICY_TYPES: dict[str, type | tuple[type, ...]] = {
    "fail_on": (str, type(None)),
    "min_coverage": (int, float),
    "fail_on_expired_acceptance": bool,
    "fail_on_drift": bool,
    "require_evidence": bool,
    "require_crossing_threats": bool,
    "no_new_unmitigated": bool,
    "require_verified": bool,
    "fail_on_nothing_assessed": bool,
    "require_stride_per_element": bool,
    "fail_on_stale_model": bool,
}
if set(_POLICY_TYPES) != {f.name for f in fields(Policy)}:  # a policy field without its type check
    raise RuntimeError("config._POLICY_TYPES and Policy disagree")


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.threatgraph] table."""
    here = start.resolve()
    for folder in [here, *here.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                return candidate  # report the parse error when it is loaded
            if "threatgraph" in data.get("tool", {}):
                return candidate
    return None


def where_set(config: Config, key: str) -> tuple[str, int]:
    """The configuration file and the line that sets `key` of [tool.threatgraph] (for errors
    found after loading, e.g. an unknown pack name)."""
    if config.pyproject is None:
        return ("pyproject.toml", 1)
    try:
        text = config.pyproject.read_text(encoding="utf-8")
    except OSError:
        return ("pyproject.toml", 1)
    return ("pyproject.toml", _line_of(text, key, "tool.threatgraph"))


def _line_of(text: str, key: str, section: str) -> int:
    """Best-effort line of `key` inside `[section]` (tomllib keeps no positions)."""
    lines = text.splitlines()
    in_section = False
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == section
            continue
        if in_section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return i
    for i, line in enumerate(lines, 1):
        if line.strip().strip("[] ") == section:
            return i
    return 1


def _read_table(pyproject: Path, shown: str) -> tuple[str, dict[str, Any]]:
    """The file's text and its [tool.threatgraph] table (empty when absent)."""
    try:
        text = pyproject.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise InputError([Problem(shown, 1, 1, "configuration file not found")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        raise InputError([Problem(shown, line, col, f"invalid TOML: {exc}")]) from None
    table = data.get("tool", {}).get("threatgraph", {})
    if not isinstance(table, dict):
        raise InputError([Problem(shown, 1, 1, "[tool.threatgraph] must be a table")])
    return text, table


def _top_values(table: dict[str, Any], text: str, shown: str, problems: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        line = _line_of(text, key, "tool.threatgraph")
        if key not in _TOP_KEYS:
            problems.append(Problem(shown, line, 1, f"unknown key '{key}' in [tool.threatgraph]",
                                    did_you_mean(key, _TOP_KEYS)))
        elif key == "model_cache":
            if not isinstance(value, bool):
                problems.append(Problem(shown, line, 1, "'model_cache' must be true or false",
                                        "false runs the model on every command (model/cache.py says when that matters)"))
            else:
                values[key] = value
        elif key == "model_timeout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400:
                problems.append(Problem(shown, line, 1, "'model_timeout' must be a number of seconds above 0",
                                        "for example: model_timeout = 120"))
            else:
                values[key] = float(value)
        elif key == "packs":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                problems.append(Problem(shown, line, 1, "'packs' must be a list of pack names",
                                        'for example: packs = ["pytm"]'))
            else:
                values[key] = tuple(dict.fromkeys(value))
        elif key == "stride":
            stride = _stride_table(value, text, shown, problems)
            if stride is not None:
                values[key] = stride
        elif key == "source_url" and (not isinstance(value, str) or not value.startswith("https://")
                                      or set(re.findall(r"\{(\w*)\}", value)) - {"commit", "path", "line"}):
            problems.append(Problem(shown, line, 1, "'source_url' must be an https:// template using only "
                                    "{commit}, {path} and {line}",
                                    'for example: "https://github.com/OWNER/REPO/blob/{commit}/{path}#L{line}"'))
        elif key != "policy" and not isinstance(value, str):
            problems.append(Problem(shown, line, 1, f"'{key}' must be a string (a path)"))
        elif key != "policy":
            values[key] = value
    return values


def _stride_table(value: Any, text: str, shown: str, problems: list[Problem]) -> Mapping[str, tuple[str, ...]] | None:
    """[tool.threatgraph.stride]: rows of the STRIDE-per-element table this project changes."""
    if not isinstance(value, dict):
        problems.append(Problem(shown, _line_of(text, "stride", "tool.threatgraph"), 1,
                                "stride must be a table: [tool.threatgraph.stride]"))
        return None
    table = dict(STRIDE_PER_KIND)
    ok = True
    for kind, cats in value.items():
        line = _line_of(text, kind, "tool.threatgraph.stride")
        if kind not in STRIDE_PER_KIND:
            problems.append(Problem(shown, line, 1, f"unknown kind '{kind}' in [tool.threatgraph.stride]",
                                    did_you_mean(kind, STRIDE_PER_KIND)))
            ok = False
        elif not isinstance(cats, list) or not all(c in STRIDE for c in cats):
            bad = [c for c in cats if c not in STRIDE] if isinstance(cats, list) else [cats]
            problems.append(Problem(shown, line, 1, f"'{kind}' takes a list of STRIDE categories",
                                    did_you_mean(str(bad[0]), STRIDE) if bad else ""))
            ok = False
        else:
            table[kind] = tuple(c for c in STRIDE if c in cats)
    return MappingProxyType(table) if ok else None


def _policy_problem(key: str, value: Any) -> tuple[str, str] | None:
    """What is wrong with one policy value (message, hint), or None."""
    expected = _POLICY_TYPES.get(key)
    if expected is None:
        return f"unknown policy key '{key}'", did_you_mean(key, _POLICY_TYPES)
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        return f"policy '{key}' has the wrong type ({type(value).__name__})", ""
    if key == "fail_on" and value not in (None, "never", *SEVERITIES):
        return f"fail_on '{value}' is not a severity", did_you_mean(str(value), (*SEVERITIES, "never"))
    if key == "min_coverage" and isinstance(value, (int, float)) and not 0 <= float(value) <= 1:
        return "min_coverage must be between 0 and 1", "write 0.8 for 80%"
    return None


def _policy_values(raw: Any, flags: dict[str, Any], text: str, shown: str, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(Problem(shown, _line_of(text, "policy", "tool.threatgraph"), 1,
                                "policy must be a table: [tool.threatgraph.policy]"))
        raw = {}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        wrong = _policy_problem(key, value)
        if wrong is not None:
            problems.append(Problem(shown, _line_of(text, key, "tool.threatgraph.policy"), 1, *wrong))
        else:
            values[key] = None if value == "never" else value
    for key, value in flags.items():  # a flag's value is the command line's, never a line of the file
        wrong = _policy_problem(key, value)
        if wrong is not None:
            message, hint = wrong
            problems.append(Problem("command line", 0, 0, f"--{key.replace('_', '-')} {value}: "
                                    f"{message.removeprefix(key + ' ')}", hint))
        else:
            values[key] = None if value == "never" else value
    return values


def load_config(start: Path, overrides: dict[str, Any] | None = None,
                explicit: Path | None = None) -> Config:
    """Read configuration; `overrides` (from flags) win over the file, the environment
    (THREATGRAPH_SOURCE) fills `source` when neither sets it."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    pyproject = explicit or find_pyproject(start)
    problems: list[Problem] = []
    table: dict[str, Any] = {}
    text = ""
    shown = "pyproject.toml"
    root = start.resolve()
    if pyproject is not None:
        root = pyproject.resolve().parent
        shown = str(pyproject) if explicit else "pyproject.toml"
        text, table = _read_table(pyproject, shown)
    values = _top_values(table, text, shown, problems)
    policy_values = _policy_values(table.get("policy", {}), overrides.pop("policy", {}), text, shown, problems)
    if problems:
        raise InputError(problems)

    values.update(overrides)
    if "source" not in values and os.environ.get("THREATGRAPH_SOURCE"):
        values["source"] = os.environ["THREATGRAPH_SOURCE"]
    return Config(root=root, pyproject=pyproject, policy=Policy(**policy_values), **values)
