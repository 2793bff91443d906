"""`chargen-tui lsp`: the writing screen's ghost text in the writer's own editor, over the Language
Server Protocol (pygls, on stdio).

- `textDocument/inlineCompletion` (LSP 3.18: Neovim 0.12+, VS Code, Emacs lsp-mode 10+) answers
  with the ghost the writing screen would show at the cursor, inserted there;
- `textDocument/completion`, for editors without inline completion (Helix, eglot, older Neovims),
  answers with the writing screen's alternatives, each completing the word at the cursor.

Settings (settings.py) come in `initializationOptions` and `workspace/didChangeConfiguration`.
Whatever the document's language or size, a request reads only the text before the cursor that
the model's window needs (documents.py). A problem is shown to the writer as one line
(`window/showMessage`), through the same picture rule as the terminal's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from .. import __version__
from ..adapt import READ_FIRST
from ..control import printable
from ..run_dir import RunDir
from ..suggest import prefix_chars
from ..words import TYPED
from .documents import Documents
from .ghosts import SAVE_SECONDS, Ghosts
from .settings import Settings

NAME = "chargen-tui"


class GhostServer(LanguageServer):
    def __init__(self, run: RunDir, memory_folder: Path | None = None) -> None:
        super().__init__(NAME, __version__, protocol_cls=_Protocol)
        self.documents = Documents()
        self.ghosts = Ghosts(run, Settings(), memory_folder, say=self.show_problem)
        self._saving: asyncio.Task | None = None
        for method, (name, options) in FEATURES.items():
            self.feature(method, options)(_handler(name))

    # --- life -------------------------------------------------------------------------------
    def on_initialize(self, params: types.InitializeParams) -> None:
        self.documents.encoding = _position_encoding(params, self.workspace.position_encoding)
        self._apply(params.initialization_options)
        self.ghosts.start(asyncio.get_running_loop())
        self._saving = asyncio.ensure_future(self._keep_memory())

    def on_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        self._apply(params.settings)

    def _apply(self, given) -> None:
        settings, problems = self.ghosts.settings.updated(given)
        self.ghosts.configure(settings)
        for problem in problems:
            self.show_problem(problem, types.MessageType.Warning)

    async def _keep_memory(self) -> None:
        while True:
            await asyncio.sleep(SAVE_SECONDS)
            self.ghosts.save_memory()

    def on_shutdown(self, params: None) -> None:
        self.stop_suggesting()

    def stop_suggesting(self) -> None:
        """Stop the suggestions' thread and keep what was learned (on shutdown, or when the client left)."""
        if self._saving is not None:
            self._saving.cancel()
        self.ghosts.stop()

    def show_problem(self, problem: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=printable(f"{NAME}: {problem}")))

    # --- suggestions ------------------------------------------------------------------------
    async def on_inline_completion(self, params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        found = await self._suggest(params.text_document.uri, params.position, everything=False)
        if not found or not found[1]:
            return None
        here = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=text, range=here)
                                                 for text in found[1]])

    async def on_completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        found = await self._suggest(params.text_document.uri, params.position, everything=True)
        if not found:
            return None
        prefix, alternatives = found
        typed = TYPED.search(prefix)
        typed = typed.group() if typed else ""
        document = self.documents.open[params.text_document.uri]
        line, column = self.documents.place(document, params.position)
        start = types.Position(line, self.documents.units(document, line, column - len(typed)))
        word = types.Range(start=start, end=params.position)
        items, seen = [], {typed}
        for rest in alternatives:
            text = (typed + rest).rstrip()
            if text not in seen:
                seen.add(text)
                items.append(types.CompletionItem(label=text, kind=types.CompletionItemKind.Text, detail=NAME,
                                                  sort_text=f"{len(items):02d}", filter_text=text,
                                                  text_edit=types.TextEdit(range=word, new_text=text)))
        # incomplete: the next key asks again (the suggestions change with every character)
        return types.CompletionList(is_incomplete=True, items=items)

    async def _suggest(self, uri: str, position: types.Position, everything: bool) -> tuple[str, list[str]] | None:
        """The text before `position` that a request holds, and the suggestions there; None when there
        are none, or when the document changed while they were computed (they are stale)."""
        document = self.documents.open.get(uri)
        sampler = self.ghosts.sampler
        if document is None or sampler is None:
            return None
        place = self.documents.place(document, position)
        prefix, version = document.before(place, prefix_chars(sampler)), document.version
        alternatives = await self.ghosts.suggest(uri, prefix, everything, lambda: document.before(place, READ_FIRST))
        if alternatives is None or self.documents.open.get(uri) is not document or document.version != version:
            return None
        return prefix, alternatives


def _position_encoding(params: types.InitializeParams, agreed: str | None) -> str:
    """The units the client's positions count. Emacs' lsp-mode, until it offers encodings, counts
    characters whatever the protocol says (its issue #2080): after an emoji its every position on
    the line would be off by one."""
    general = params.capabilities.general
    offered = general.position_encodings if general else None
    if params.client_info and params.client_info.name == "emacs" and not offered:
        return types.PositionEncodingKind.Utf32
    return agreed or types.PositionEncodingKind.Utf16


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, but the open documents are kept by documents.py: pygls' own workspace splits
    a whole document again at every edit, which a long document would pay on every key."""

    _server: GhostServer

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._server.documents.did_open(params)
        path = to_fs_path(params.text_document.uri) if params.text_document.uri.startswith("file:") else None
        self._server.ghosts.opened(params.text_document.uri, Path(path) if path else None)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._server.documents.did_change(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._server.documents.did_close(params)
        self._server.ghosts.closed(params.text_document.uri)


# The protocol's methods this server answers: GhostServer's method for each, and its options.
FEATURES = {
    types.INITIALIZE: ("on_initialize", None),
    types.WORKSPACE_DID_CHANGE_CONFIGURATION: ("on_configuration", None),
    types.SHUTDOWN: ("on_shutdown", None),
    # pygls advertises inline completion only when it is registered with its options
    types.TEXT_DOCUMENT_INLINE_COMPLETION: ("on_inline_completion", types.InlineCompletionOptions()),
    types.TEXT_DOCUMENT_COMPLETION: ("on_completion", types.CompletionOptions()),
}


def _handler(name: str):
    """A function for pygls to register (it marks what it registers, which a bound method refuses;
    `ls` is the server) that calls the server's method `name`."""
    if asyncio.iscoroutinefunction(getattr(GhostServer, name)):
        async def handle(ls: GhostServer, params):
            return await getattr(ls, name)(params)
    else:
        def handle(ls: GhostServer, params):
            return getattr(ls, name)(params)
    return handle


def serve(run: RunDir, memory_folder: Path | None = None) -> None:
    """Answer the editor on stdin and stdout until it leaves."""
    server = GhostServer(run, memory_folder)
    try:
        server.start_io()
    finally:
        server.stop_suggesting()
