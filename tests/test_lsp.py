"""`threatgraph lsp` driven over stdio by pygls' client with lsprotocol messages, as an editor
would: a broken catalog's diagnostics with their exact ranges (UTF-16, as the protocol counts),
cleared when fixed; the model run on save; hover, go to definition and completion of ids."""

from __future__ import annotations

import asyncio
import sys
import textwrap

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.conftest import SMALL_MODEL, THREATS

BROKEN = THREATS.replace("severity: high", "severity: High") + textwrap.indent(textwrap.dedent('''
    - {id: TH-EMOJI, title: "\U0001F600 wide", stride: [spoofing], severity: Huge, applies_to: [{flows: {id: login}}]}
'''), "  ")


def _position(text: str, needle: str, nth: int = 0) -> types.Position:
    """Where `needle` starts, counted in UTF-16 code units as the protocol does."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return types.Position(line=line, character=len(text[start:at].encode("utf-16-le")) // 2)


class Editor:
    def __init__(self, root):
        self.root = root
        self.client = LanguageClient("test-editor", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.arrived = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.arrived.set()

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    async def wait(self, rel: str, check, timeout: float = 60.0) -> list[types.Diagnostic]:
        """The diagnostics of `rel` once `check` holds for them."""
        async def until() -> list[types.Diagnostic]:
            while True:
                got = self.diagnostics.get(self.uri(rel))
                if got is not None and check(got):
                    return got
                self.arrived.clear()
                await self.arrived.wait()
        return await asyncio.wait_for(until(), timeout)


async def _session(project) -> None:
    ed = Editor(project.root)
    await ed.client.start_io(sys.executable, "-m", "threatgraph", "lsp", cwd=str(project.root))
    try:
        await ed.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=ed.uri(""), process_id=None))
        ed.client.initialized(types.InitializedParams())

        threats_uri = ed.uri("threats/main.yaml")
        ed.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=threats_uri, language_id="yaml", version=1, text=BROKEN)))
        got = await ed.wait("threats/main.yaml", lambda d: len(d) == 2)
        by_message = {d.message.splitlines()[0]: d for d in got}
        high = by_message["'High' is not a valid severity"]
        start = _position(BROKEN, "High")
        assert (high.range.start, high.range.end) == (start, types.Position(line=start.line, character=start.character + 4))
        assert high.severity == types.DiagnosticSeverity.Error and "hint: did you mean 'high'?" in high.message
        huge = by_message["'Huge' is not a valid severity"]
        start = _position(BROKEN, "Huge")  # after an emoji: two UTF-16 units, one code point
        assert huge.range.start == start and huge.range.end.character == start.character + 4

        fixed = BROKEN.replace("severity: High", "severity: high").replace("severity: Huge", "severity: low")
        ed.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=threats_uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
        await ed.wait("threats/main.yaml", lambda d: list(d) == [])  # cleared as soon as it is typed, before a save

        (project.root / "threats/main.yaml").write_text(fixed, encoding="utf-8")
        ed.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=threats_uri)))
        hover = await _hover_until(ed, threats_uri, _position(fixed, "M-TLS"), "mitigation M-TLS")
        assert "declared implemented" in hover and "TH-SNIFF" in hover

        threat_hover = await ed.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=threats_uri), position=_position(fixed, "TH-SNIFF")))
        assert threat_hover is not None
        assert "lands on 1 target(s): 1 mitigated" in threat_hover.contents.value
        assert "`login`" in threat_hover.contents.value

        to_mitigation = await ed.client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=threats_uri), position=_position(fixed, "M-TLS")))
        mitigations_text = (project.root / "mitigations/main.yaml").read_text(encoding="utf-8")
        assert to_mitigation.uri == ed.uri("mitigations/main.yaml")
        assert to_mitigation.range.start.line == _position(mitigations_text, "id: M-TLS").line

        to_model = await ed.client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=threats_uri), position=_position(fixed, "password")))
        model_text = (project.root / "model.py").read_text(encoding="utf-8")
        assert to_model.uri == ed.uri("model.py")
        assert to_model.range.start.line == _position(model_text, "password = Data").line

        line = fixed.splitlines()[_position(fixed, "mitigations: [M-TLS]").line]
        completion = await ed.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=threats_uri),
            position=types.Position(line=_position(fixed, "mitigations: [M-TLS]").line, character=line.index("[") + 1)))
        assert [i.label for i in completion.items] == ["M-NET", "M-PARAM", "M-TLS"]

        model_uri = ed.uri("model.py")
        broken_model = SMALL_MODEL.lstrip("\n").replace('web = Process("Web server"', 'web = Proces("Web server"')
        ed.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=model_uri, language_id="python", version=1, text=broken_model)))
        (project.root / "model.py").write_text(broken_model, encoding="utf-8")
        ed.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=model_uri)))
        model_errors = await ed.wait("model.py", lambda d: len(d) >= 1)
        assert model_errors[0].range.start.line == _position(broken_model, "web = Proces(").line
        assert "Proces" in model_errors[0].message
        # the catalogs are checked without the broken model: no cascade of unknown ids
        assert list(ed.diagnostics.get(threats_uri, ["not published"])) == []
    finally:
        await ed.client.shutdown_async(None)
        ed.client.exit(None)
        await ed.client.stop()


async def _hover_until(ed: Editor, uri: str, position: types.Position, wanted: str, timeout: float = 60.0) -> str:
    """The hover once the save's model run has landed (the server answers in order, so the
    first hover after the save already sees it; the loop only guards a slow machine)."""
    end = asyncio.get_running_loop().time() + timeout
    while True:
        h = await ed.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position))
        if h is not None and wanted in h.contents.value:
            return h.contents.value
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"no hover with {wanted!r}: {h}")
        await asyncio.sleep(0.2)


def test_an_editor_session_over_stdio(project):
    asyncio.run(_session(project))
