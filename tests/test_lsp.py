"""`chargen-tui lsp`: the ghost text in an editor, through pygls' own client talking to the real
server process (the shipped model: predict mode shows ghosts a tiny model is never sure of)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import stat
import sys
import time

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from chargen_tui import __version__
from chargen_tui.lsp.documents import Documents, OpenDocument
from chargen_tui.lsp.ghosts import Ghosts
from chargen_tui.lsp.settings import Settings
from chargen_tui.memory import MEMORY_FILE
from chargen_tui.pretrained import default_run_dir

NEW_WORD = "Quaxilbrant"  # in no word list: only the writer's memory can complete it


class Editor:
    """An editor as the server sees it: pygls' client, one document, what the server told the writer."""

    def __init__(self, client: LanguageClient, uri: str) -> None:
        self.client, self.uri, self.text, self.version, self.shown = client, uri, "", 0, []

    def open(self, text: str) -> None:
        self.text, self.version = text, 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="markdown", version=1, text=text)))

    def type(self, typed: str) -> None:
        """Type at the end of the text (one incremental change, as an editor sends a key)."""
        end = self.end()
        self.text, self.version = self.text + typed, self.version + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=end, end=end),
                                                                    text=typed)]))

    def end(self) -> types.Position:
        lines = self.text.split("\n")
        return types.Position(line=len(lines) - 1, character=self.units(lines[-1]))

    def units(self, line: str) -> int:
        return len(line.encode("utf-16-le")) // 2

    async def ghost(self) -> str | None:
        """The inline completion at the end of the text (its first item), None when there is none."""
        found = await self.client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri), position=self.end(),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        if found is None:
            return None
        assert all(item.range == types.Range(start=self.end(), end=self.end()) for item in found.items)
        return found.items[0].insert_text if found.items else None

    async def completions(self) -> list[types.CompletionItem]:
        found = await self.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri), position=self.end()))
        return found.items if found else []

    def configure(self, settings: dict) -> None:
        self.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))

    async def wait_for_model(self) -> str:
        """The ghost, once the model has loaded (until then the server answers with none)."""
        deadline = time.monotonic() + 60
        while (ghost := await self.ghost()) is None:
            assert time.monotonic() < deadline, "no ghost within a minute: the model did not load"
            await asyncio.sleep(0.05)
        return ghost


@contextlib.asynccontextmanager
async def editor(tmp_path, options: dict | None = None, data=None, client_info=None):
    """The server started as an editor starts it, initialized with `options`, and shut down cleanly
    after the test (its exit status checked); `data`: the writer's data folder (the memory)."""
    client = LanguageClient("test-editor", "1")
    env = {**os.environ, "XDG_DATA_HOME": str(data or tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    await client.start_io(sys.executable, "-m", "chargen_tui", "lsp", env=env)
    session = Editor(client, (tmp_path / "draft.md").as_uri())
    client.feature(types.WINDOW_SHOW_MESSAGE)(lambda params: session.shown.append(params.message))
    try:
        result = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options=options, client_info=client_info))
        assert result.server_info.version == __version__
        assert result.capabilities.inline_completion_provider is not None  # advertised: editors ask for it
        assert result.capabilities.completion_provider is not None
        client.initialized(types.InitializedParams())
        yield session
        await client.shutdown_async(None)
        client.exit(None)
        assert await asyncio.wait_for(client._server.wait(), 10) == 0
    finally:
        if client._server.returncode is None:  # a test failed before the server was told to exit
            client._server.kill()
        await client.stop()


async def test_the_editor_gets_the_ghost_inline_and_the_alternatives_as_completions(tmp_path):
    async with editor(tmp_path) as session:
        session.open("I paid with my credit c")
        assert await session.wait_for_model() == "ard"  # what the writing screen shows there
        items = await session.completions()
        card = next(item for item in items if item.label == "card")
        assert card.text_edit.new_text == "card"  # it replaces the word begun ("c"), so the client filters on it
        assert card.text_edit.range == types.Range(start=types.Position(line=0, character=22), end=session.end())
        session.type("ard. Once upon a ti")
        assert await session.ghost() == "me "
        session.type("me, 😀\nthe king said: once upon a ti")  # a new line, and a character of two UTF-16 units
        assert await session.ghost() == "me "


async def test_emacs_lsp_mode_counts_characters_and_is_understood(tmp_path):
    """lsp-mode offers no position encoding and counts characters, not UTF-16 units (its issue #2080)."""
    async with editor(tmp_path, client_info=types.ClientInfo(name="emacs", version="28.2")) as session:
        session.units = len  # this client's count
        session.open("😀 I paid with my credit c")  # the emoji is 2 UTF-16 units, 1 character
        assert await session.wait_for_model() == "ard"
        assert [item.text_edit.range.start.character for item in await session.completions()][:1] == [24]


async def test_settings_come_at_start_and_change_while_writing(tmp_path):
    async with editor(tmp_path, {"threshold": 0.9, "adapting": False, "tempo": 3}) as session:
        session.open("I paid with my credit c")
        session.configure({"chargen-tui": {"threshold": 0.05}})  # nested as VS Code and lsp-mode send them
        await session.wait_for_model()
        assert "'tempo' ignored: unknown" in " ".join(session.shown)  # said, and the others still apply
        session.configure({"threshold": 0.9})
        session.type(" and")
        assert await session.ghost() is None  # nothing is 90% likely there
        session.configure({"mode": "sample", "threshold": 2})
        assert await session.ghost()  # sample mode always shows one
        assert "'threshold' ignored: it is a number from 0.05 to 0.9" in " ".join(session.shown)


async def test_the_writers_words_are_remembered_across_sessions_and_only_when_wanted(tmp_path):
    data = tmp_path / "data"
    async with editor(tmp_path, data=data) as session:
        session.open("Once upon a ti")
        await session.wait_for_model()
        for _ in range(3):
            session.type(f"me the {NEW_WORD} said. Once upon a ti")
            await session.ghost()  # the server learns a word when it is finished, as it sees the text
    memory = data / "chargen-tui" / MEMORY_FILE
    assert NEW_WORD.lower() in json.loads(memory.read_text(encoding="utf-8"))["counts"]
    assert stat.S_IMODE(memory.stat().st_mode) == 0o600
    async with editor(tmp_path, data=data) as session:  # another day, another document
        session.open("And then Quax")
        assert (await session.wait_for_model()).startswith("ilbrant")
        session.configure({"memory": False})
        session.type("i")
        assert not (await session.ghost() or "").startswith("lbrant")


async def test_a_stale_request_is_answered_with_nothing():
    ghosts = Ghosts(default_run_dir(), Settings(adapting=False))
    ghosts.start(asyncio.get_running_loop())
    try:
        while ghosts.sampler is None:
            await asyncio.sleep(0.02)
        read = lambda: ""  # noqa: E731
        older, newer = await asyncio.gather(ghosts.suggest("doc", "I paid with my credit c", False, read),
                                            ghosts.suggest("doc", "Once upon a ti", False, read))
        assert (older, newer) == (None, ["me "])  # typing went on: the older answer would be stale
    finally:
        ghosts.stop()


def test_documents_are_edited_and_read_as_editors_count_positions():
    documents = Documents()
    document = OpenDocument.of("one\r\ntwo 😀 three\fstill two\rfour", version=1)
    assert len(document.lines) == 3  # a form feed is no line break to the protocol
    place = documents.place(document, types.Position(line=1, character=6))  # after the emoji (2 UTF-16 units)
    assert place == (1, 5)
    assert document.before(place, 9) == "one\ntwo 😀"
    assert document.before(place, 1000) == "one\ntwo 😀"
    document.edit((1, 4), (2, 2), "X\nY")  # from the emoji to "fo" of "four", across line breaks
    assert document.lines == ["one", "two X", "Yur"]
    assert documents.place(document, types.Position(line=9, character=0)) == (2, 3)  # past the end: the end


@pytest.mark.skipif(shutil.which("nvim") is None, reason="needs Neovim (`apt-get install neovim`; .ci/run installs it)")
def test_neovim_shows_the_ghost_and_completes_the_word(tmp_path):
    from .nvim_helpers import run_neovim

    document = tmp_path / "draft.txt"
    results = run_neovim(tmp_path, document, typed="I paid with my credit c")
    assert results["inline"] == "ard"
    assert "card" in results["completions"]
    assert document.read_text(encoding="utf-8") == "I paid with my credit card\n"  # the ghost accepted, then :w
