"""The one place evidence kinds are registered; validation, schema and runs read it."""

from __future__ import annotations

from threatgraph.evidence import ast_grep_check, combine, file_check, jsonpath_check, pointer_check, regex_check
from threatgraph.evidence.base import EvidenceKind

KINDS: dict[str, EvidenceKind] = {k.name: k for k in (
    regex_check.KIND,
    pointer_check.JSON_KIND,
    pointer_check.YAML_KIND,
    jsonpath_check.JSON_PATH_KIND,
    ast_grep_check.KIND,
    file_check.EXISTS,
    file_check.ABSENT,
    combine.ALL,
    combine.ANY,
)}
