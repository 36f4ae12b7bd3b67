"""Threat Dragon v2: the firewall exported for Threat Dragon's GUI keeps the structure its
published v2 schema requires, and reads back with the same boundaries (nesting rebuilt from the
boxes' geometry), elements, flows and mitigated pairs; a file drawn in Threat Dragon imports into
a project check accepts; a v1 file is refused with the way out."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

from threatgraph import pipeline
from threatgraph.config import load_config

from .conftest import REPO

# The required fields of Threat Dragon's published v2 schema (owasp.threat-dragon.schema.V2.json).
_THREAT = {"type": "object", "required": ["description", "mitigation", "severity", "status", "title", "type"]}
_CELL = {"type": "object", "required": ["id", "shape", "zIndex"], "properties": {
    "data": {"type": "object", "required": ["hasOpenThreats", "name", "type"],
             "properties": {"threats": {"type": "array", "items": _THREAT}}},
    "size": {"type": "object", "required": ["height", "width"],
             "properties": {"height": {"minimum": 10}, "width": {"minimum": 10}}}}}
TD_V2 = {"type": "object", "required": ["version", "summary", "detail"], "properties": {
    "version": {"type": "string", "maxLength": 10},
    "summary": {"type": "object", "required": ["title"]},
    "detail": {"type": "object", "required": ["contributors", "diagrams", "diagramTop", "reviewer", "threatTop"],
               "properties": {"diagrams": {"type": "array", "items": {
                   "type": "object", "required": ["diagramType", "id", "thumbnail", "title", "version"],
                   "properties": {"cells": {"type": "array", "items": _CELL}}}}}}}}


def _tg(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _box(cid, name, x, y, w, h):
    return {"id": cid, "shape": "trust-boundary-box", "zIndex": -1, "position": {"x": x, "y": y},
            "size": {"width": w, "height": h}, "data": {"type": "tm.BoundaryBox", "name": name, "hasOpenThreats": False}}


def _node(cid, shape, kind, name, x, y, threats=()):
    return {"id": cid, "shape": shape, "zIndex": 1, "position": {"x": x, "y": y}, "size": {"width": 160, "height": 80},
            "data": {"type": kind, "name": name, "hasOpenThreats": True, "threats": list(threats)}}


def _threat(title, kind, status, severity, mitigation=""):
    return {"title": title, "type": kind, "status": status, "severity": severity, "description": title,
            "mitigation": mitigation, "modelType": "STRIDE"}


DRAWN = {"version": "2.2.0", "summary": {"title": "Shop", "owner": "sec team", "description": "A web shop", "id": 0},
         "detail": {"contributors": [], "reviewer": "", "diagramTop": 1, "threatTop": 4, "diagrams": [{
             "id": 0, "title": "Main", "diagramType": "STRIDE", "version": "2.2.0", "thumbnail": "x.jpg", "cells": [
                 _box("b-cloud", "Cloud", 300, 0, 700, 500), _box("b-db", "Database subnet", 650, 250, 300, 200),
                 {"id": "curve", "shape": "trust-boundary-curve", "zIndex": 0, "data": {"type": "tm.Boundary",
                                                                                       "name": "Internet edge",
                                                                                       "hasOpenThreats": False}},
                 _node("u", "actor", "tm.Actor", "Customer", 20, 100),
                 _node("w", "process", "tm.Process", "Web app", 400, 100, [
                     _threat("Session hijack", "Spoofing", "Mitigated", "High", "Secure, HttpOnly cookies"),
                     _threat("Verbose errors", "Information disclosure", "NA", "Low", "Errors are generic")]),
                 _node("d", "store", "tm.Store", "Orders", 700, 300, [
                     _threat("SQL injection", "Tampering", "Open", "TBD", "Use prepared statements")]),
                 {"id": "f1", "shape": "flow", "zIndex": 2, "source": {"cell": "u"}, "target": {"cell": "w"},
                  "data": {"type": "tm.Flow", "name": "HTTPS", "protocol": "HTTPS", "isEncrypted": True,
                           "isBidirectional": True, "hasOpenThreats": False, "threats": []}},
                 {"id": "f2", "shape": "flow", "zIndex": 2, "source": {"cell": "w"}, "target": {"cell": "d"},
                  "data": {"type": "tm.Flow", "name": "Query", "protocol": "SQL", "hasOpenThreats": True,
                           "threats": [_threat("Query sniffing", "Information disclosure", "Open", "Medium")]}}]}]}}


def test_the_firewall_exports_what_threat_dragon_requires_and_reads_back_the_same(tmp_path):
    first = _tg("export", "--format", "threat-dragon", "--no-evidence")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    jsonschema.Draft202012Validator(TD_V2).validate(doc)
    assert _tg("export", "--format", "threat-dragon", "--no-evidence").stdout == first.stdout  # stable ids
    (tmp_path / "fw.json").write_text(first.stdout, encoding="utf-8")
    assert _tg("import", "threat-dragon", str(tmp_path / "fw.json"), "--dir", str(tmp_path / "proj")).returncode == 0
    a = pipeline.check(load_config(REPO), use_evidence=False)
    b = pipeline.check(load_config(tmp_path / "proj"), use_evidence=False)

    def zones(x):
        return {e.name: x.model.boundaries[e.boundaries[0]].name if e.boundaries else None
                for e in x.model.elements.values()}

    def nesting(x):
        return {z.name: x.model.boundaries[z.parent].name if z.parent else None for z in x.model.boundaries.values()}

    def flows(x):
        return sorted((x.model.elements[f.source].name, x.model.elements[f.sink].name, f.name)
                      for f in x.model.flows.values())

    assert zones(a) == zones(b) and nesting(a) == nesting(b) and flows(a) == flows(b)
    on_cells = [p for p in a.pairs if p.target.id not in a.model.boundaries]  # Threat Dragon has no zone threats
    assert len(b.pairs) == len(on_cells)
    # only mitigated pairs read Mitigated: accepted and partial ones come back open, never greener
    assert sum(p.status == "mitigated" for p in b.pairs) == sum(p.status == "mitigated" for p in on_cells)
    assert all(p.basis == "claimed" for p in b.pairs if p.status == "mitigated")


def test_a_model_drawn_in_threat_dragon_imports_and_checks(tmp_path):
    src = tmp_path / "shop.json"
    src.write_text(json.dumps(DRAWN, indent=2), encoding="utf-8")
    r = _tg("import", "threat-dragon", str(src), "--dir", str(tmp_path / "proj"))
    assert r.returncode == 0, r.stderr
    assert "curve 'Internet edge'" in r.stdout and "read as medium" in r.stdout  # what it could not take as is
    a = pipeline.check(load_config(tmp_path / "proj"), use_evidence=False)
    m = a.model
    zone = {e.name: m.boundaries[e.boundaries[0]].name if e.boundaries else None for e in m.elements.values()}
    assert zone == {"Customer": None, "Web app": "Cloud", "Orders": "Database subnet"}
    assert m.boundaries["database_subnet"].parent == "cloud"
    assert sorted(f.name for f in m.flows.values()) == ["HTTPS", "HTTPS (reverse)", "Query"]
    status = {a.catalog.threats[p.threat].title: p.status for p in a.pairs}
    assert status == {"Session hijack": "mitigated", "Verbose errors": "false-positive",
                      "SQL injection": "unmitigated", "Query sniffing": "unmitigated"}
    assert _tg("check", cwd=tmp_path / "proj").returncode in (0, 1)
    built = _tg("build", "--no-site", "--out", str(tmp_path / "out"), cwd=tmp_path / "proj")
    assert built.returncode in (0, 1), built.stderr
    assert (tmp_path / "out" / "reports" / "coverage.json").exists()


def test_a_v1_model_is_refused_with_the_way_out(tmp_path):
    src = tmp_path / "old.json"
    src.write_text(json.dumps({"summary": {"title": "Old"}, "detail": {"diagrams": [{"diagramJson": {}}]}}, indent=2))
    r = _tg("import", "threat-dragon", str(src), "--dir", str(tmp_path / "proj"))
    assert r.returncode == 2 and "old.json:2:" in r.stderr and "Threat Dragon 2" in r.stderr
    assert not (tmp_path / "proj").exists()
