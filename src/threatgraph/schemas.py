"""JSON Schemas for the catalogs, generated from the loader's own definitions (pydantic
models, the selector table and the evidence registry), so editors check what the loader checks."""

from __future__ import annotations

import json
from typing import Any

from threatgraph.catalog.definitions import MitigationFile, ThreatFile
from threatgraph.evidence.spec import evidence_schema
from threatgraph.selectors import ELEMENTS, FLOWS, selector_schema

SCHEMA_FILES = {"threats.schema.json": "threats", "mitigations.schema.json": "mitigations"}


def _applies_to_item() -> dict[str, Any]:
    return {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
            "properties": {FLOWS: {"$ref": "#/$defs/flow_selector"},
                           ELEMENTS: {"$ref": "#/$defs/element_selector"}}}


def _rewrite_refs(node: Any, target: str) -> Any:
    """Selector schemas refer to themselves with '#'; point that at their $defs entry."""
    if isinstance(node, dict):
        return {k: (target if k == "$ref" and v == "#" else _rewrite_refs(v, target)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, target) for v in node]
    return node


def threats_schema() -> dict[str, Any]:
    schema = ThreatFile.model_json_schema()
    schema["$defs"]["Threat"]["properties"]["applies_to"]["items"] = _applies_to_item()
    schema["$defs"]["flow_selector"] = _rewrite_refs(selector_schema(FLOWS), "#/$defs/flow_selector")
    schema["$defs"]["element_selector"] = _rewrite_refs(selector_schema(ELEMENTS), "#/$defs/element_selector")
    schema["$defs"]["MitigationRef"] = {"oneOf": [{"type": "string"}, schema["$defs"]["MitigationRef"]]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "threatgraph threat catalog", **schema}


def mitigations_schema() -> dict[str, Any]:
    schema = MitigationFile.model_json_schema()
    schema["$defs"]["evidence"] = evidence_schema()
    schema["$defs"]["Mitigation"]["properties"]["evidence"]["items"] = {"$ref": "#/$defs/evidence"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "threatgraph mitigation catalog", **schema}


def render_schemas() -> dict[str, str]:
    return {"threats.schema.json": json.dumps(threats_schema(), indent=2, sort_keys=True) + "\n",
            "mitigations.schema.json": json.dumps(mitigations_schema(), indent=2, sort_keys=True) + "\n"}
