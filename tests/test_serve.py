"""`chargen-tui serve`: the app in a browser through textual-serve.

The end-to-end tests start the real server and talk to its websocket as the page's xterm.js does,
reading the screen with a terminal emulator (pyte). The checks of what the command refuses run
`main` in this process with the serving itself replaced: they never listen on a public address.
"""

from __future__ import annotations

import asyncio
import shlex
import socket

import aiohttp
import pytest
from textual.widgets import Footer

from chargen_tui import cli
from chargen_tui import serve as serving
from chargen_tui.app.app import ChargenApp
from chargen_tui.app.keys import BROWSER_KEYS
from chargen_tui.app.screens.training import TrainingScreen
from chargen_tui.app.screens.writing import WritingScreen
from chargen_tui.app.widgets.ghost_editor import GhostEditor

from .app_helpers import drawn_text, writing_app
from .served import CTRL_S, TAB, Server, Tab, document_text, free_port, wait_until

TYPED = "The king and "
# Keys a browser takes for itself: new tab, new window, close tab, print, reload.
RESERVED = ("ctrl+t", "ctrl+n", "ctrl+w", "ctrl+p", "f5")


def serve_app(run, tmp_path, document) -> Server:
    server = Server(str(run.path), "--file", str(document), "--mode", "sample", "--no-adapt",
                    env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    server.wait_until_listening()
    return server


async def test_served_app_shows_the_ghost_tab_accepts_it_and_ctrl_s_saves(tmp_path, trained_run):
    document = tmp_path / "doc.txt"
    server = serve_app(trained_run, tmp_path, document)
    try:
        async with Tab(server.url) as tab:
            await tab.wait_for_model()
            await tab.type(TYPED)
            ghost = (await tab.wait_for(lambda lines: lines[0].strip().startswith(TYPED)
                                        and len(lines[0].strip()) > len(TYPED), "the ghost after the typed text"))[0]
            await tab.type(TAB)
            await tab.type(CTRL_S)
            await asyncio.to_thread(wait_until, lambda: len(document_text(document)) > len(TYPED), "ctrl+s to save")
            saved = document_text(document)
            assert saved.startswith(TYPED) and ghost.strip().startswith(saved.rstrip())  # typed + accepted
            footer = tab.lines()[-1]  # served: the browser's keys, not the keys a browser keeps
            assert "^f Next" in footer and "^b Mode" in footer and "^n" not in footer and "f5" not in footer
    finally:
        server.stop()


async def test_closing_the_tab_keeps_the_unsaved_text_in_the_autosave_copy(tmp_path, trained_run):
    """A closed tab (Ctrl+W in a browser) ends the app as a hang-up does: nothing typed is lost."""
    from chargen_tui.document import Autosave

    document = tmp_path / "doc.txt"
    server = serve_app(trained_run, tmp_path, document)
    try:
        async with Tab(server.url) as tab:
            await tab.wait_for(lambda lines: any("doc.txt" in line for line in lines), "the editor")
            await tab.type("Words never saved")
            await tab.wait_for(lambda lines: "Words never saved" in lines[0], "the typed text")
        autosave = Autosave(document, tmp_path / "cache" / "chargen-tui" / "autosave")
        await asyncio.to_thread(wait_until, lambda: autosave.read() is not None, "the autosave copy", 10)
        assert autosave.read().text == "Words never saved" and not document.exists()
    finally:
        server.stop()


async def test_a_page_of_another_origin_may_not_open_the_websocket(tmp_path, trained_run):
    """Any web site the user visits could open ws://127.0.0.1:PORT/ws and drive the app."""
    server = serve_app(trained_run, tmp_path, tmp_path / "doc.txt")
    try:
        async with aiohttp.ClientSession() as session:
            for origin in ("http://evil.example", f"http://evil.example:{server.port}"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(f"ws://127.0.0.1:{server.port}/ws", headers={"Origin": origin})
                assert refused.value.status == 403
            # the server's own page, by whichever loopback name the browser used: its websocket names it
            page = await (await session.get(f"http://localhost:{server.port}/")).text()
            assert f'data-session-websocket-url="ws://localhost:{server.port}/ws"' in page
            socket_ = await session.ws_connect(f"ws://localhost:{server.port}/ws",
                                               headers={"Origin": f"http://localhost:{server.port}"})
            await socket_.close()
    finally:
        _, err = server.stop()
    assert "refused a websocket from a page of http://evil.example" in err


# --- what the command refuses, and what it says ------------------------------------------------------
@pytest.fixture
def served(monkeypatch) -> list[tuple]:
    """`chargen_tui.serve.serve` replaced: the calls it would have served, nothing listening."""
    calls: list[tuple] = []
    monkeypatch.setattr(serving, "serve", lambda *args: calls.append(args))
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_a_host_other_than_loopback_is_refused_without_the_flag(host, served, capsys):
    assert cli.main(["serve", "--host", host, "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: --host")
    assert "--public-no-password" in err and served == []


def test_with_the_flag_a_public_host_is_served_with_a_warning(served, capsys):
    """Checked without listening on all interfaces (a test should not expose an app with no password
    to the network, even briefly): the port check binds 0.0.0.0 without listening."""
    port = free_port()
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", str(port), "--public-no-password"]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("warning:") and "anyone who can reach this port" in err
    assert out == f"open http://{socket.gethostname()}:{port} in a browser (Ctrl-C here stops the server and " \
                  "its sessions)\n"
    assert served and served[0][1:] == ("0.0.0.0", port)


def test_on_loopback_it_says_where_to_open_it_and_over_ssh_how_to_tunnel(served, capsys, monkeypatch):
    port = free_port()
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    assert cli.main(["serve", "--port", str(port)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.splitlines() == [
        f"open http://127.0.0.1:{port} in a browser (Ctrl-C here stops the server and its sessions)",
        f"from your own machine: ssh -L {port}:127.0.0.1:{port} {socket.gethostname()}, then open "
        f"http://localhost:{port}"]
    command = served[0][0]
    assert command.endswith("-m chargen_tui write --mode=predict --encoding=utf-8")  # the shipped model


def test_the_command_passes_the_write_options_on_quoted(tmp_path, served, trained_run):
    document = tmp_path / "my draft; rm -rf ~.txt"
    assert cli.main(["serve", str(trained_run.path), "--file", str(document), "--mode", "sample", "--no-adapt",
                     "--encoding", "latin-1", "--port", str(free_port())]) == 0
    assert shlex.split(served[0][0])[3:] == ["write", str(trained_run.path.resolve()), "--file", str(document.resolve()),
                                             "--mode=sample", "--encoding=latin-1", "--no-adapt"]


@pytest.mark.parametrize("args, says", [
    (["--port", "0"], "--port must be from 1 to 65535"),
    (["--port", "70000"], "--port must be from 1 to 65535"),
    (["RUN_MISSING"], "is not a run folder"),
    (["--file", "FOLDER"], "is a folder"),
    (["--encoding", "no-such-codec"], "no-such-codec"),
    (["--port", "IN_USE"], "is in use on 127.0.0.1: choose another with --port"),
])
def test_bad_input_is_one_line_before_anything_listens(args, says, tmp_path, served, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        replace = {"RUN_MISSING": str(tmp_path / "missing"), "FOLDER": str(tmp_path),
                   "IN_USE": str(taken.getsockname()[1])}
        args = [replace.get(arg, arg) for arg in args]
        if "--port" not in args:
            args += ["--port", str(free_port())]
        assert cli.main(["serve", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error:") and says in err
    assert served == []


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("LOCALHOST.", True), ("::1", True),
    ("[::1]", True), ("::ffff:127.0.0.1", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False), ("", False), ("127.1", False),
])
def test_only_loopback_addresses_are_loopback(host, loopback):
    assert serving.is_loopback(host) is loopback


# --- the keys a browser keeps ---------------------------------------------------------------------------
def test_every_action_on_a_key_a_browser_keeps_has_a_free_second_key():
    """The app's own bindings (not Textual's) on a browser's key also answer to its browser key; that
    key is bound to nothing else in the app or the Textual widgets it uses."""
    from textual.widgets import Button, Input, OptionList, Select, TabbedContent, TextArea

    ours = [ChargenApp, WritingScreen, TrainingScreen, GhostEditor]
    for owner in ours:
        bindings = [(key, binding.action) for binding in owner.BINDINGS for key in binding.key.split(",")]
        for key, action in bindings:
            assert key not in RESERVED or (BROWSER_KEYS[key], action) in bindings, (owner.__name__, key)
    for reserved, second in BROWSER_KEYS.items():
        meant = {binding.action for owner in ours for key, binding in owner._merge_bindings() if key == reserved}
        for owner in [*ours, Button, Input, OptionList, Select, TabbedContent, TextArea]:
            bound = {binding.action for key, binding in owner._merge_bindings() if key == second}
            assert bound <= meant, (owner.__name__, second, bound)
        assert second not in RESERVED


def footer_text(app: ChargenApp) -> str:
    return " ".join(drawn_text(key) for key in app.screen.query_one(Footer).query("FooterKey"))


@pytest.mark.parametrize("web", [False, True])
async def test_the_footer_shows_the_browser_keys_only_when_served(web, tmp_path, trained_run, monkeypatch):
    if web:
        monkeypatch.setattr(ChargenApp, "is_web", property(lambda app: True))
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        writing = footer_text(app)
        placeholder = app.writing.editor.placeholder  # the empty page names the key that trains, as served
        assert ("Ctrl+G trains" if web else "Ctrl+T trains") in str(placeholder), placeholder
        await pilot.press("ctrl+g")  # the browser's key for ctrl+t, which works in a terminal too
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
        training = footer_text(app)
    browser = ["^f Next", "^b Mode", "^g Train"], ["^b Start", "^g Write"]
    terminal = ["^n Next", "f5 Mode", "^t Train"], ["f5 Start", "^t Write"]
    shown, hidden = (browser, terminal) if web else (terminal, browser)
    for footer, present, absent in zip((writing, training), shown, hidden):
        assert all(key in footer for key in present) and not any(key in footer for key in absent), footer
