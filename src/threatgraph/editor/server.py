"""`threatgraph lsp`: the Language Server Protocol over standard input and output (pygls).

Each file the editor opens belongs to the project of the nearest pyproject.toml with
[tool.threatgraph] above it. Opening a file checks its project without running the model
(unless the snapshot cache holds it); saving a file runs the model again when the save can
change it, then re-checks everything; typing in a catalog re-reads the catalogs, with the
editor's unsaved text, against the last model. Every problem of the project is published
at once, and a file whose problems are gone is cleared."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from threatgraph import __version__
from threatgraph.config import find_pyproject
from threatgraph.editor.project import Completion, Diagnostic, Project, Spot, word_at
from threatgraph.errors import printable

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
_KIND = {"key": types.CompletionItemKind.Property, "id": types.CompletionItemKind.Reference,
         "value": types.CompletionItemKind.EnumMember}


class ThreatgraphServer(LanguageServer):
    """The projects open in the editor, and the files each last published problems for."""

    def __init__(self) -> None:
        super().__init__("threatgraph", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.projects: dict[Path, Project] = {}
        self.published: dict[Path, set[Path]] = {}

    def project_of(self, path: Path) -> Project | None:
        pyproject = find_pyproject(path.parent)
        if pyproject is None:
            return None
        pyproject = pyproject.resolve()
        if pyproject not in self.projects:
            self.projects[pyproject] = Project(pyproject)
        return self.projects[pyproject]

    def located(self, uri: str) -> tuple[Path, Project] | None:
        """The file a URI names and its project, or None outside any threatgraph project."""
        path = _path(uri)
        project = self.project_of(path) if path is not None else None
        return (path, project) if path is not None and project is not None else None

    def unsaved(self, project: Project) -> dict[Path, str]:
        """The text of every document the editor holds inside the project."""
        out = {}
        for uri, doc in list(self.workspace.text_documents.items()):
            path = _path(uri)
            if path is not None and path.resolve().is_relative_to(project.root.resolve()):
                out[path.resolve()] = doc.source
        return out

    def check(self, project: Project, *, run_model: bool, read_source: bool) -> None:
        unsaved = self.unsaved(project)
        found = project.refresh(unsaved, run_model=run_model, read_source=read_source)
        before = self.published.get(project.pyproject, set())
        # every open document hears the result, clean or not, so "checked" differs from "not yet"
        for path in sorted(before | set(found) | set(unsaved)):
            items = [self.diagnostic(d) for d in found.get(path, [])]
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=_uri(path), diagnostics=items))
        self.published[project.pyproject] = set(found)

    def to_range(self, spot: Spot) -> types.Range:
        """A code-point range as the client counts (UTF-16 unless it asked for another)."""
        codec, line = self.workspace.position_codec, [spot.text]
        start = codec.position_to_client_units(line, types.Position(line=0, character=spot.start))
        end = codec.position_to_client_units(line, types.Position(line=0, character=spot.end))
        return types.Range(start=types.Position(line=spot.line, character=start.character),
                           end=types.Position(line=spot.line, character=end.character))

    def diagnostic(self, d: Diagnostic) -> types.Diagnostic:
        return types.Diagnostic(range=self.to_range(d.spot), message=d.message,
                                severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Information),
                                source="threatgraph")

    def word(self, uri: str, position: types.Position) -> tuple[Project, str] | None:
        located = self.located(uri)
        if located is None:
            return None
        project = located[1]
        doc = self.workspace.get_text_document(uri)
        lines = list(doc.lines)
        if position.line >= len(lines):
            return None
        at = self.workspace.position_codec.position_from_client_units(lines, position)
        found = word_at(lines[position.line].rstrip("\r\n"), at.character)
        return (project, found) if found else None


def _path(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def _uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def _did_open(ls: ThreatgraphServer, params: types.DidOpenTextDocumentParams) -> None:
    found = ls.located(params.text_document.uri)
    if found is not None:
        ls.check(found[1], run_model=False, read_source=True)


def _did_change(ls: ThreatgraphServer, params: types.DidChangeTextDocumentParams) -> None:
    found = ls.located(params.text_document.uri)
    if found is not None and found[1].catalog_file(found[0]):  # the model waits for a save
        ls.check(found[1], run_model=False, read_source=False)


def _did_save(ls: ThreatgraphServer, params: types.DidSaveTextDocumentParams) -> None:
    found = ls.located(params.text_document.uri)
    if found is not None:
        path, project = found
        ls.check(project, run_model=project.loaded is None or project.owns(path), read_source=True)


def _did_close(ls: ThreatgraphServer, params: types.DidCloseTextDocumentParams) -> None:
    found = ls.located(params.text_document.uri)
    if found is not None and found[1].catalog_file(found[0]):  # back to what is on disk
        ls.check(found[1], run_model=False, read_source=False)


def _hover(ls: ThreatgraphServer, params: types.HoverParams) -> types.Hover | None:
    found = ls.word(params.text_document.uri, params.position)
    if found is None:
        return None
    text = found[0].hover(found[1])
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def _definition(ls: ThreatgraphServer, params: types.DefinitionParams) -> types.Location | None:
    found = ls.word(params.text_document.uri, params.position)
    spot = found[0].definition(found[1], ls.unsaved(found[0])) if found is not None else None
    if spot is None:
        return None
    return types.Location(uri=_uri(spot.path), range=ls.to_range(spot))


def _completion(ls: ThreatgraphServer, params: types.CompletionParams) -> types.CompletionList:
    located = ls.located(params.text_document.uri)
    if located is None:
        return types.CompletionList(is_incomplete=False, items=[])
    path, project = located
    doc = ls.workspace.get_text_document(params.text_document.uri)
    at = ls.workspace.position_codec.position_from_client_units(list(doc.lines), params.position)
    found = project.completions(path, doc.source, at.line, at.character)
    return types.CompletionList(is_incomplete=False, items=[_item(c) for c in found])


_FEATURES: list[tuple[str, Any, Any]] = [
    (types.TEXT_DOCUMENT_DID_OPEN, None, _did_open),
    (types.TEXT_DOCUMENT_DID_CHANGE, None, _did_change),
    (types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False), _did_save),
    (types.TEXT_DOCUMENT_DID_CLOSE, None, _did_close),
    (types.TEXT_DOCUMENT_HOVER, None, _hover),
    (types.TEXT_DOCUMENT_DEFINITION, None, _definition),
    (types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" ", "-", "[", ","]), _completion),
]


def build_server() -> ThreatgraphServer:
    """The server with one handler per protocol message it answers."""
    server = ThreatgraphServer()
    for name, options, handler in _FEATURES:
        server.feature(name, options)(handler)
    return server


def _item(c: Completion) -> types.CompletionItem:
    return types.CompletionItem(label=c.label, kind=_KIND.get(c.kind), detail=printable(c.detail)[:200] or None,
                                insert_text=f"{c.label}: " if c.kind == "key" else c.label)


def serve(stdin: Any = None, stdout: Any = None) -> None:
    """Serve one editor over standard input and output until it disconnects."""
    logging.basicConfig(level=logging.WARNING, format="threatgraph lsp: %(message)s")  # to stderr: the editor's log
    build_server().start_io(stdin, stdout)
