"""pytm's own threat library as a threatgraph pack, compiled from the installed pytm.

The library (`pytm/threatlib/threats.json`) is read at run time, so threatgraph ships none of
its text and follows the pytm version installed. Each threat's `condition` is a Python
expression; it is parsed with `ast` into a tree and translated into a selector `where`
condition (threatgraph.conditions) with the same meaning. Nothing is evaluated. A condition
that uses a construct the translation does not know is reported with the reason and left out.

What pytm does around the condition is translated too: the threat's target classes become
`pytm_class` (subclasses count, as with isinstance), an element that is not `inScope` gets no
finding, and a `Finding` for the threat in an element's `overrides` makes the threat land there
even when the condition is false (for a flow, unless the override came from its ends).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from threatgraph import installed
from threatgraph.catalog.definitions import Threat
from threatgraph.errors import InputError, Problem
from threatgraph.location import Location
from threatgraph.packs.base import Pack, Untranslated

MAX_BYTES = 5 * 1024 * 1024
SEVERITY = {"very high": "critical", "high": "high", "medium": "medium", "low": "low", "very low": "info"}
LIKELIHOOD = {"high": "high", "medium": "medium", "low": "low"}
# pytm's library has no STRIDE categories; threatgraph assigns one from the id's prefix
STRIDE = {"INP": "tampering", "AC": "elevation_of_privilege", "AA": "spoofing", "CR": "information_disclosure",
          "DE": "information_disclosure", "DR": "information_disclosure", "DS": "information_disclosure",
          "DO": "denial_of_service", "HA": "tampering", "SC": "tampering", "LB": "tampering", "API": "tampering",
          "LLM": "tampering"}
ENUMS = frozenset({"Classification", "Lifetime", "TLSVersion", "DatastoreType", "Action"})
_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_OPS: dict[type, str] = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
                         ast.In: "in", ast.NotIn: "not_in"}


class Untranslatable(Exception):
    """A construct of a pytm condition that has no translation (the message says which)."""


class _Translator:
    """One condition's syntax tree into a `where` tree. `item` is the comprehension variable
    inside `any(... for d in target.data)`."""

    def __init__(self, item: str | None = None) -> None:
        self.item = item

    def path(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or not parts:
            return None
        parts.reverse()
        if node.id == "target":
            return ".".join(parts)
        if self.item is not None and node.id == self.item:
            return ".".join(["item", *parts])
        return None

    def operand(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return [self.operand(e) for e in node.elts]
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ENUMS):
            return {"enum": f"{node.value.id}.{node.attr}"}
        p = self.path(node)
        if p is not None:
            return {"attr": p}
        raise Untranslatable(f"operand {ast.unparse(node)!r}")

    def tree(self, node: ast.AST) -> dict[str, Any]:
        if isinstance(node, ast.Expression):
            return self.tree(node.body)
        if isinstance(node, ast.BoolOp):
            return {"all" if isinstance(node.op, ast.And) else "any": [self.tree(v) for v in node.values]}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return {"not": self.tree(node.operand)}
        if isinstance(node, ast.Compare):
            pairs = list(zip([node.left, *node.comparators], node.comparators, strict=False))
            leaves = [self.compare(left, op, right) for (left, right), op in zip(pairs, node.ops, strict=True)]
            return leaves[0] if len(leaves) == 1 else {"all": leaves}
        if isinstance(node, ast.Call):
            return self.call(node)
        p = self.path(node)
        if p is not None:
            return {"attr": p}
        raise Untranslatable(f"expression {ast.unparse(node)!r}")

    def compare(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> dict[str, Any]:
        lpath, rpath = self.path(left), self.path(right)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if lpath is None or not (isinstance(right, ast.Constant) and right.value in (True, False, None)):
                raise Untranslatable(f"identity test {ast.unparse(left)} is {ast.unparse(right)}")
            leaf = {"attr": lpath, "is": right.value}
            return leaf if isinstance(op, ast.Is) else {"not": leaf}
        test = _OPS.get(type(op))
        if test is None:
            raise Untranslatable(f"comparison {type(op).__name__}")
        if lpath is not None:
            return {"attr": lpath, test: self.operand(right)}
        if rpath is not None and test in _FLIP:
            return {"attr": rpath, _FLIP[test]: self.operand(left)}
        if rpath is not None and test in ("in", "not_in"):  # 'x' in target.list
            leaf = {"attr": rpath, "has": self.operand(left)}
            return leaf if test == "in" else {"not": leaf}
        raise Untranslatable(f"comparison without an attribute: {ast.unparse(left)} ? {ast.unparse(right)}")

    def call(self, node: ast.Call) -> dict[str, Any]:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "any" and len(node.args) == 1 and not node.keywords:
            gen = node.args[0]
            if (isinstance(gen, ast.GeneratorExp) and len(gen.generators) == 1 and not gen.generators[0].ifs
                    and isinstance(gen.generators[0].target, ast.Name) and not gen.generators[0].is_async):
                comp = gen.generators[0]
                over = self.path(comp.iter)
                if over is not None:
                    name = comp.target.id  # type: ignore[attr-defined]
                    return {"some": {"in": over, "where": _Translator(name).tree(gen.elt)}}
            raise Untranslatable(f"any() over {ast.unparse(node.args[0])!r}")
        method = self.path(func)
        if method == "hasDataLeaks" and not node.args:
            # pytm: any data item classified above the flow's, its source's or its sink's maximum
            return {"some": {"in": "data", "where": {"any": [
                {"attr": "item.classification", "gt": {"attr": bound}}
                for bound in ("source.maxClassification", "sink.maxClassification", "maxClassification")]}}}
        if method == "checkTLSVersion" and len(node.args) == 1:
            flows = self.path(node.args[0])
            if flows is not None:
                # pytm: any of the given flows uses a TLS version below the element's minimum
                return {"some": {"in": flows, "where": {"attr": "item.tlsVersion", "lt": {"attr": "minTLSVersion"}}}}
        raise Untranslatable(f"call {ast.unparse(node)!r}")


def translate(condition: str) -> dict[str, Any]:
    """The `where` tree for one pytm condition; Untranslatable says why not."""
    try:
        tree = ast.parse(condition, mode="eval")
    except SyntaxError as exc:
        raise Untranslatable(f"not a Python expression: {exc.msg}") from None
    return _Translator().tree(tree)


def _override(sid: str, flow: bool) -> dict[str, Any]:
    """pytm's resolve(): a Finding for the threat in the object's overrides makes it land,
    whatever the threat's target classes; on a flow, unless the override came from its ends."""
    own: dict[str, Any] = {"attr": "overrides", "has": sid}
    if not flow:
        return own
    return {"all": [own, {"not": {"safe": {"attr": "source.overrides", "has": sid}}},
                    {"not": {"safe": {"attr": "sink.overrides", "has": sid}}}]}


def _in_scope(condition: dict[str, Any]) -> dict[str, Any]:
    return {"all": [{"attr": "inScope"}, condition]}


def _threat(raw: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    sid = str(raw["SID"])
    classes = [str(c) for c in (raw["target"] if isinstance(raw["target"], list) else [raw["target"]])]
    flow_override, element_override = _override(sid, flow=True), _override(sid, flow=False)
    on_flows = {"any": [{"safe": condition}, flow_override]} if "Dataflow" in classes else flow_override
    others = [c for c in classes if c != "Dataflow"]
    on_elements: dict[str, Any] = {"where": _in_scope(element_override)}
    if others:
        on_elements = {"any": [{"pytm_class": others, "where": _in_scope({"safe": condition})}, on_elements]}
    applies = [{"flows": {"where": _in_scope(on_flows)}}, {"elements": on_elements}]
    prefix = re.match(r"[A-Z]+", sid)
    text = [str(raw.get(k) or "").strip() for k in ("details", "prerequisites", "example", "mitigations")]
    description = "\n\n".join(f"{label}: {t}" for label, t in zip(
        ("Details", "Prerequisites", "Example", "pytm's suggested mitigations"), text, strict=True) if t)
    links = re.findall(r"https?://[^\s,;\"'<>]+", str(raw.get("references") or ""))
    return {
        "id": sid, "title": (str(raw.get("description") or sid).strip() or sid)[:300],
        "description": description[:20_000],
        "stride": [STRIDE.get(prefix.group() if prefix else "", "tampering")],
        "severity": SEVERITY.get(str(raw.get("severity") or "").strip().lower(), "medium"),
        "likelihood": LIKELIHOOD.get(str(raw.get("Likelihood Of Attack") or "").strip().lower()),
        "references": {"links": [link[:2000] for link in links[:20]],
                       "notes": ["from pytm's threat library; STRIDE category assigned by threatgraph from the id prefix"]},
        "tags": ["pytm"],
        "applies_to": applies,
    }


def load() -> Pack:
    """The pack from the installed pytm: its threats, and the conditions it could not translate."""
    # Found, not imported: importing pytm costs a third of a second, and the library is data.
    spec = importlib.util.find_spec("pytm")
    if spec is None or not spec.submodule_search_locations:
        raise InputError([Problem("pyproject.toml", 1, 1, "the pytm pack needs pytm installed")])
    version = installed.version("pytm") or "unknown"  # None: importable, not installed as a distribution
    label = f"pytm-{version}/threatlib/threats.json"
    try:
        path = Path(next(iter(spec.submodule_search_locations))) / "threatlib" / "threats.json"
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(label, 1, 1, f"cannot read pytm's threat library: {exc}")]) from None
    if len(raw_bytes) > MAX_BYTES:
        raise InputError([Problem(label, 1, 1, "pytm's threat library is larger than 5 MB; not read")])
    text = raw_bytes.decode("utf-8", "replace")
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(label, exc.lineno, exc.colno, f"pytm's threat library is not JSON: {exc.msg}")]) from None
    lines = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"SID"\s*:\s*"([^"]+)"', text)}
    threats: list[tuple[Threat, Location]] = []
    untranslated: list[Untranslated] = []
    for raw in entries if isinstance(entries, list) else []:
        if not isinstance(raw, dict) or "SID" not in raw or "DEPRECATED" in raw:
            continue
        sid = str(raw["SID"])
        where = Location(label, lines.get(sid, 1))
        try:
            condition = translate(str(raw.get("condition") or ""))
            threats.append((Threat.model_validate(_threat(raw, condition)), where))
        except Untranslatable as exc:
            untranslated.append(Untranslated(sid, str(exc), where))
        except ValueError as exc:  # pydantic: a field the catalog's schema rejects
            untranslated.append(Untranslated(sid, f"not a valid threat: {exc}", where))
    return Pack("pytm", version, tuple(threats), tuple(untranslated))
