"""Nothing a file, a path or a model contains reaches the terminal raw: escape sequences in a
document, a file name or a corpus are shown as pictures, and a document is saved byte for byte as
it was opened (its edits aside).

The terminal tests run the real app in tmux with `set-clipboard on`, where an OSC 52 sequence
would fill tmux's clipboard and an OSC 2 one retitle the pane.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys

import pytest

from chargen_tui.app.widgets.ghost_editor import GhostEditor
from chargen_tui.control import printable

from .app_helpers import Tmux, drawn_line, wait_until, writing_app
from .helpers import tiny
from .test_cli import cli

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

CLIPBOARD = "\x1b]52;c;RE9DQ0xJUA==\x1b\\"  # OSC 52: "DOCCLIP" onto the clipboard
TITLE = "\x1b]2;DOCTITLE\x1b\\"  # OSC 2: the terminal's title
HOSTILE = (f"first line\nclip:{CLIPBOARD} end\n{TITLE}second\n"
           "\x1b[2Jblanked?\x1b[5;5Hmoved?\x07\n")
HOSTILE_NAME = f"notes{TITLE}{CLIPBOARD}.txt"


def assert_terminal_untouched(tmux: Tmux) -> None:
    assert "DOCTITLE" not in tmux.title()
    assert tmux.clipboard() == ""  # no OSC 52 reached tmux
    for line in tmux.screen(styles=True):  # what is on screen holds only colours and styles
        assert "\x1b]" not in line and "\x1b[2J" not in line and "\x1b[5;5H" not in line


@needs_tmux
def test_a_hostile_document_is_shown_as_pictures_and_saved_byte_for_byte(tmp_path, trained_run):
    document = tmp_path / "hostile.txt"
    document.write_bytes(HOSTILE.encode())
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document)
    try:
        screen = tmux.wait_for(lambda lines: any("second" in line for line in lines), "the document")
        assert any("clip:␛]52;c;RE9DQ0xJUA==␛\\ end" in line for line in screen)
        assert any("␛]2;DOCTITLE␛\\second" in line for line in screen)
        assert any("␛[2Jblanked?␛[5;5Hmoved?␇" in line for line in screen)
        assert screen[0].strip().startswith("first line")  # nothing blanked the screen or moved the cursor
        assert_terminal_untouched(tmux)
        tmux.type("!")
        tmux.press("C-s")
        wait_until(lambda: document.read_bytes() == (HOSTILE + "!").encode(), "the save")
        assert_terminal_untouched(tmux)
    finally:
        tmux.close()


@needs_tmux
def test_a_hostile_file_name_is_shown_as_pictures_in_the_editor(tmp_path, trained_run):
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, tmp_path / HOSTILE_NAME)
    try:
        screen = tmux.wait_for(lambda lines: any("notes␛]2;DOCTITLE" in line for line in lines), "the status line")
        assert not any("notes.txt" in line for line in screen)
        assert_terminal_untouched(tmux)
    finally:
        tmux.close()


@needs_tmux
def test_a_hostile_corpus_path_is_shown_as_pictures_by_train(tmp_path):
    tmux = Tmux(tmp_path)
    missing = shlex.quote(str(tmp_path / HOSTILE_NAME))
    tmux.run(f"{sys.executable} -m chargen_tui train {missing} --out {tmp_path / 'run'}; sleep 30")
    try:
        screen = tmux.wait_for(lambda lines: any("error:" in line for line in lines), "the error line")
        assert "␛]2;DOCTITLE␛\\␛]52;c;RE9DQ0xJUA==␛\\.txt" in "".join(line.strip() for line in screen)
        assert_terminal_untouched(tmux)
    finally:
        tmux.close()


def test_train_shows_a_hostile_corpus_name_and_run_folder_as_pictures(tmp_path):
    from .helpers import make_text

    corpus = tmp_path / HOSTILE_NAME
    corpus.write_text(make_text(3000), encoding="utf-8")
    out = tmp_path / f"run{TITLE}[bold]"
    knobs = sum(([f"--{k.replace('_', '-')}", str(v)] for k, v in tiny().items()), [])
    result = cli("train", str(corpus), "--out", str(out), *knobs)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "notes␛]2;DOCTITLE" in result.stdout and "run␛]2;DOCTITLE␛\\[bold]" in result.stdout
    assert (out / "model.keras").exists()  # the folder itself has the name it was given


def test_an_error_quoting_a_hostile_path_is_one_line_of_pictures(tmp_path):
    result = cli("generate", str(tmp_path / HOSTILE_NAME))
    assert result.returncode == 2 and "\x1b" not in result.stderr
    assert result.stderr.count("\n") == 1 and "notes␛]2;DOCTITLE" in result.stderr


def test_bidi_controls_and_line_separators_are_shown_as_pictures():
    assert printable("a\u202eb\u2066c\u2069d\u2028e\u2029f") == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf"
    assert printable("عربى\u200dنص ‏x\tz\n") == "عربى\u200dنص ‏x\tz\n"  # letters, joiners, marks, tab, newline stay


def test_generate_jsonl_keeps_a_models_text_exact_and_the_terminal_safe(trained_run):
    result = cli("generate", str(trained_run.path), "--prefix", "The \u202eking\x1b", "--length", "5", "--jsonl")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert json.loads(result.stdout)["text"].startswith("The \u202eking\x1b")


# --- the editor, byte for byte ----------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "form\x0cfeed and a line\u2028separator, NEL\x85, a lone\rCR\n",
    "mixed\r\nline\nendings\r\n",
    "all\r\nCRLF\r\n",
    "old\rMac\r",
    "no newline at the end",
    "",
])
async def test_the_editor_keeps_a_documents_text_exactly(tmp_path, trained_run, text):
    document = tmp_path / "doc.txt"
    document.write_bytes(text.encode())
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.writing.editor
        assert editor.text == text
        await pilot.press("!", "backspace")  # an edit and its undoing, at the end
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert document.read_bytes() == text.encode()


async def test_the_cursor_stands_after_a_controls_picture(tmp_path, trained_run):
    """A picture takes a column: the cursor after it is drawn one column on, where the next
    character typed appears."""
    document = tmp_path / "doc.txt"
    document.write_bytes(b"a\x1bb")
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.writing.editor
        editor.autocomplete = False  # no ghost text between the characters
        assert drawn_line(editor, 0).lstrip().startswith("a␛b")
        editor.move_cursor((0, 2))
        await pilot.press("X")
        assert editor.text == "a\x1bXb"
        line = drawn_line(editor, 0)
        assert line.lstrip().startswith("a␛Xb")
        assert editor.cursor_screen_offset.x - editor.content_region.x == line.index("b")  # on the b, after the X


async def test_pasted_line_breaks_become_the_documents_own(tmp_path, trained_run):
    from textual import events

    document = tmp_path / "doc.txt"
    document.write_bytes(b"one\r\ntwo\r\n")
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.writing.query_one(GhostEditor)
        app.post_message(events.Paste("pasted\rfrom a\nterminal"))  # as the terminal sends it: CR, a line break
        await pilot.pause()
        assert editor.text == "one\r\ntwo\r\npasted\r\nfrom a\r\nterminal"


def test_the_apis_errors_and_models_quote_a_hostile_path_as_pictures(tmp_path, trained_run):
    import chargen_tui as cg
    from chargen_tui.errors import UserError

    with pytest.raises(UserError) as raised:  # a notebook or a script prints this in its traceback
        cg.load(tmp_path / HOSTILE_NAME)
    assert "\x1b" not in str(raised.value) and "notes␛]2;DOCTITLE" in str(raised.value)
    hostile_run = tmp_path / f"run{TITLE}"
    shutil.copytree(trained_run.path, hostile_run)
    assert "\x1b" not in repr(cg.load(hostile_run)) and "run␛]2;DOCTITLE" in repr(cg.load(hostile_run))


async def test_watch_shows_a_hostile_run_folder_as_pictures(tmp_path, trained_run):
    from chargen_tui.app.app import ChargenApp
    from chargen_tui.run_dir import RunDir

    from .app_helpers import drawn_text, wait_for

    hostile_run = tmp_path / f"run{TITLE}[b]"
    shutil.copytree(trained_run.path, hostile_run)
    app = ChargenApp(mode="train", watch=RunDir(hostile_run))
    async with app.run_test(size=(100, 30)) as pilot:
        status = app.training.query_one("#run-status")
        await wait_for(pilot, lambda: "watching" in drawn_text(status), what="the watch status")
        assert "run␛]2;DOCTITLE␛\\[b]" in drawn_text(status) and "\x1b" not in drawn_text(status)
