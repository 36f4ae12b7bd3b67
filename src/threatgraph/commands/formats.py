"""One format registry per command: the CLI's --format choices are derived from it, and each
format is one module's function. Modules are imported when a format is used, so a plain
`check` never imports the SARIF or OTM writers. (The registry sits with the commands, above
every layer it names, so no renderer needs to import another layer's types.)

To add a format: write `render(assessment) -> str` (bytes for a binary format) in a module of threatgraph.render and add
one `Format` line to the command's table below."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Format:
    name: str
    target: str  # "module:function"; a bare module name lies in threatgraph.render
    doc: str

    def load(self) -> Callable[..., str]:
        module, _, function = self.target.partition(":")
        full = module if "." in module else f"threatgraph.render.{module}"
        renderer: Callable[..., str] = getattr(importlib.import_module(full), function)
        return renderer


def _table(*formats: Format) -> dict[str, Format]:
    return {f.name: f for f in formats}


CHECK = _table(
    Format("text", "text:render", "the terminal summary"),
    Format("json", "json_report:render", "every pair, mitigation and violation"),
    Format("markdown", "markdown:render", "a report for a pull request or a job summary"),
    Format("sarif", "sarif:render", "SARIF 2.1.0 for code scanning in the threat-model repository"),
    Format("sarif-target", "sarif:render_target", "SARIF 2.1.0 located in the target's source, for code scanning there"),
)
PATHS = _table(
    Format("text", "paths:render_text", "invariants, attack paths, single points of failure"),
    Format("json", "paths:render_json", "the same, as JSON"),
    Format("markdown", "paths:render_markdown", "the same, as Markdown"),
)
DIFF = _table(
    Format("text", "threatgraph.diff:render_text", "what a change did to coverage"),
    Format("json", "threatgraph.diff:render_json", "the same, as JSON"),
    Format("markdown", "threatgraph.diff:render_markdown", "the same, as Markdown (a pull-request comment)"),
)
HISTORY = _table(
    Format("text", "history:render_text", "each mitigation's flips with commit, date and subject"),
    Format("json", "history:render_json", "the same, as JSON"),
    Format("markdown", "history:render_markdown", "the same, as a Markdown table"),
)
EXPORT = _table(
    Format("json", "export:render_json", "networkx node-link JSON of the model graph"),
    Format("graphml", "export:render_graphml", "GraphML of the model graph"),
    Format("otm", "otm:render", "Open Threat Model 0.2.0, with threats and their states"),
    Format("threat-dragon", "threat_dragon:render", "an OWASP Threat Dragon v2 model, to open in its GUI"),
    Format("csv", "tracking:render_csv", "one row per (threat, target) pair, for Jira, Azure DevOps or a spreadsheet"),
    Format("xlsx", "tracking:render_xlsx", "the same pairs as an Excel workbook (binary: give --out)"),
    Format("github-issues", "tracking:render_github_issues", "one issue body per open pair, with a marker to update"),
)


def render(table: dict[str, Format], name: str, *args: Any, **kwargs: Any) -> str:
    return table[name].load()(*args, **kwargs)

