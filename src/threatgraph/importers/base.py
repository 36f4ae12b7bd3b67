"""What every importer produces: a project (pyproject.toml, a pytm model file, a threats and a
mitigations catalog) described as plain values, then written without overwriting anything.

The model file is generated text, so every string in it is a Python literal (`repr`) and every
variable a sanitised identifier: nothing from the imported file is ever code."""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from threatgraph.errors import InputError, Problem
from threatgraph.fsutil import write_atomic

PYTM_CLASS = {"process": "Process", "datastore": "Datastore", "external_entity": "ExternalEntity", "actor": "Actor",
              "server": "Server", "lambda": "Lambda", "set_of_processes": "SetOfProcesses", "agent": "Agent",
              "llm": "LLM", "asset": "Asset"}
CLASSIFICATION = ("UNKNOWN", "PUBLIC", "RESTRICTED", "SENSITIVE", "SECRET", "TOP_SECRET")


class Reader:
    """The file's text, for locating problems at the line that holds an id or key."""

    def __init__(self, name: str, text: str):
        self.name, self.text, self.problems = name, text, []  # type: ignore[var-annotated]

    def line(self, *needles: str) -> int:
        for needle in needles:
            pos = self.text.find(json.dumps(needle)) if needle else -1
            if pos >= 0:
                return self.text.count("\n", 0, pos) + 1
        return 1

    def error(self, message: str, hint: str, *near: str) -> None:
        self.problems.append(Problem(self.name, self.line(*near), 1, message, hint))


def load_json(text: str, name: str, what: str) -> dict[str, Any]:
    """The file's top-level JSON object, or a located error naming `what` it should be."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(name, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}",
                                  f"{what} is a JSON document")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(name, 1, 1, f"{what} is a JSON object, not {type(doc).__name__}",
                                  "check the file is the right export")])
    return doc


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


_STRIDE_WORDS = (("spoof", "spoofing"), ("imperson", "spoofing"), ("tamper", "tampering"), ("inject", "tampering"),
                 ("integrity", "tampering"), ("repudiat", "repudiation"), ("disclos", "information_disclosure"),
                 ("leak", "information_disclosure"), ("confidential", "information_disclosure"),
                 ("exposure", "information_disclosure"), ("denial", "denial_of_service"),
                 ("availability", "denial_of_service"), ("dos", "denial_of_service"),
                 ("privilege", "elevation_of_privilege"), ("elevation", "elevation_of_privilege"),
                 ("escalat", "elevation_of_privilege"))


def stride_of(categories: list[Any]) -> list[str]:
    out: list[str] = []
    for c in categories:
        text = as_text(c).lower().replace("-", " ").replace("_", " ")
        exact = text.replace(" ", "_")
        hits = [exact] if exact in dict(_STRIDE_WORDS).values() else [s for w, s in _STRIDE_WORDS if w in text]
        out += [h for h in hits if h not in out]
    return out


@dataclass
class Zone:
    var: str
    name: str
    description: str = ""
    parent: str | None = None  # the parent zone's var


@dataclass
class Asset:
    var: str
    name: str
    classification: str = "UNKNOWN"
    description: str = ""


@dataclass
class Node:
    var: str
    name: str
    kind: str  # a key of PYTM_CLASS
    zone: str | None = None
    description: str = ""
    stores: list[str] = field(default_factory=list)


@dataclass
class Flow:
    var: str
    source: str
    sink: str
    name: str
    protocol: str = ""
    port: int | None = None
    data: list[str] = field(default_factory=list)
    attack: bool = False
    encrypted: bool = False
    authenticated: bool = False
    description: str = ""


@dataclass
class Imported:
    """A model and its catalogs, ready to be written."""

    name: str
    origin: str  # how the files name where they came from: "OTM file acme.otm.json"
    description: str = ""
    zones: list[Zone] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    threats: list[dict[str, Any]] = field(default_factory=list)
    mitigations: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the import had to decide, for the user to review


class Names:
    """Python identifiers for imported ids: the id itself when it is one, otherwise a sanitised
    form, never a keyword, a pytm name or one already taken."""

    RESERVED = {"tm", *PYTM_CLASS.values(), "TM", "Boundary", "Data", "Dataflow", "Classification"}

    def __init__(self) -> None:
        self.taken: set[str] = set(self.RESERVED)
        self.of: dict[str, str] = {}

    def __call__(self, ident: str, prefix: str = "x") -> str:
        if ident in self.of:
            return self.of[ident]
        base = re.sub(r"\W", "_", ident, flags=re.ASCII).strip("_") or prefix
        if base[0].isdigit() or keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base = f"{prefix}_{base}"
        name, n = base[:80], 2
        while name in self.taken:
            name, n = f"{base[:76]}_{n}", n + 1
        self.taken.add(name)
        self.of[ident] = name
        return name


def _lit(value: object) -> str:
    return repr(value)


def model_source(m: Imported) -> str:
    """The pytm model file: one variable per zone (outermost first), asset, element and flow."""
    classes = sorted({"TM", "Boundary", "Dataflow", *(["Data", "Classification"] if m.assets else []),
                      *(PYTM_CLASS[n.kind] for n in m.nodes)})
    out = [f'"""{_docstring(m.name)}: imported from {_docstring(m.origin)} by `threatgraph import`."""', "",
           f"from pytm import {', '.join(classes)}", "",
           f"tm = TM({_lit(m.name)}" + (f", description={_lit(m.description)}" if m.description else "")
           + ", isOrdered=False)", ""]
    if m.zones:
        out.append("# trust zones, outermost first")
    for z in m.zones:
        args = [_lit(z.name), *([f"inBoundary={z.parent}"] if z.parent else []),
                *([f"description={_lit(z.description)}"] if z.description else [])]
        out.append(f"{z.var} = Boundary({', '.join(args)})")
    if m.assets:
        out += ["", "# data assets"]
    for d in m.assets:
        args = [_lit(d.name), f"classification=Classification.{d.classification}",
                *([f"description={_lit(d.description)}"] if d.description else [])]
        out.append(f"{d.var} = Data({', '.join(args)})")
    if m.nodes:
        out += ["", "# components"]
    for n in m.nodes:
        args = [_lit(n.name), *([f"inBoundary={n.zone}"] if n.zone else []),
                *([f"data=[{', '.join(n.stores)}]"] if n.stores and n.kind == "datastore" else []),
                *([f"description={_lit(n.description)}"] if n.description else [])]
        out.append(f"{n.var} = {PYTM_CLASS[n.kind]}({', '.join(args)})")
    if m.flows:
        out += ["", "# data flows"]
    for f in m.flows:
        args = [f.source, f.sink, _lit(f.name), *([f"protocol={_lit(f.protocol)}"] if f.protocol else []),
                *([f"dstPort={f.port}"] if f.port is not None else []),
                *([f"data=[{', '.join(f.data)}]"] if f.data else []), *(["isAttack=True"] if f.attack else []),
                *([f"description={_lit(f.description)}"] if f.description else [])]
        out.append(f"{f.var} = Dataflow({', '.join(args)})")
        if f.encrypted:
            out.append(f"{f.var}.controls.isEncrypted = True")
        if f.authenticated:
            out.append(f"{f.var}.controls.authenticatesSource = True")
    return "\n".join(out) + "\n"


def _docstring(text: str) -> str:
    """Text safe inside a triple-quoted docstring."""
    return re.sub(r"[\\\"\x00-\x1f\x7f]", " ", text)[:200]


def _yaml(header: str, body: dict[str, Any]) -> str:
    return f"# {header}\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)


def files(m: Imported) -> dict[str, str]:
    """Relative path -> text of every file the import writes."""
    threats: dict[str, Any] = {"threats": m.threats}
    if m.decisions:
        threats["decisions"] = m.decisions
    return {
        "pyproject.toml": ('[tool.threatgraph]\nmodel = "model.py"\nthreats = "threats"\nmitigations = "mitigations"\n\n'
                           '[tool.threatgraph.policy]\nfail_on = "critical"\n'),
        "model.py": model_source(m),
        "threats/imported.yaml": _yaml(f"Threats imported from {_docstring(m.origin)}.", threats),
        "mitigations/imported.yaml": _yaml(f"Mitigations imported from {_docstring(m.origin)}; "
                                           "none carries evidence yet, so every mitigated pair is a claim.",
                                           {"mitigations": m.mitigations}),
    }


def write_project(m: Imported, folder: Path) -> list[Path]:
    """Write the files into `folder`, refusing (before writing anything) if any already exists."""
    planned = {folder / rel: text for rel, text in files(m).items()}
    existing = [p for p in planned if p.exists() or p.is_symlink()]
    if existing:
        raise InputError([Problem(str(p), 1, 1, "already exists; import never overwrites",
                                  "import into an empty folder with --dir") for p in existing])
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    return list(planned)
