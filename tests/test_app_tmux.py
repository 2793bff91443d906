"""End to end in a real terminal: tmux runs `chargen-tui write`, types, and reads the screen back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from .app_helpers import Tmux, wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

TYPED = "The king and "


def test_the_ghost_text_is_drawn_in_italics_after_the_typed_text(tmp_path, trained_run):
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, tmp_path / "doc.txt")
    try:
        tmux.wait_for_model()
        tmux.type(TYPED)
        tmux.wait_for(lambda lines: lines[0].strip().startswith(TYPED) and len(lines[0].strip()) > len(TYPED),
                      "ghost text after the typed text")
        styled = tmux.screen(styles=True)[0]
        assert "\x1b[3m" in styled  # the ghost is drawn in italics (and dimmed), the typed text is not
        assert styled.index("\x1b[3m") > styled.index(TYPED[-4:])
        assert not any("oneDNN" in line or "cuda" in line for line in tmux.screen())  # TF's logs stay off
    finally:
        tmux.close()


def test_tab_accepts_the_ghost_text_and_ctrl_s_saves_it_atomically(tmp_path, trained_run):
    document = tmp_path / "doc.txt"
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document)
    try:
        tmux.wait_for_model()
        tmux.type(TYPED)
        first = tmux.wait_for(lambda lines: lines[0].strip().startswith(TYPED) and len(lines[0].strip()) > len(TYPED),
                              "ghost text after the typed text")[0].strip()
        tmux.press("Tab")
        tmux.press("C-s")
        wait_until(lambda: document.exists() and len(document.read_text(encoding="utf-8")) > len(TYPED),
                   "ctrl+s to save the accepted text")
        saved = document.read_text(encoding="utf-8")
        assert saved.startswith(TYPED) and first.startswith(saved.rstrip())
    finally:
        tmux.close()
    assert sorted(tmp_path.glob("*doc*")) == [document]  # the atomic save left no temporary file


def test_every_typed_character_is_saved_joiners_and_direction_marks_too(tmp_path, trained_run):
    document = tmp_path / "doc.txt"
    typed = "Q\u200dR\u202eS\u00a0T"  # zero-width joiner, right-to-left override, no-break space
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document)
    try:
        tmux.wait_for(lambda lines: any("doc.txt" in line for line in lines), "the editor")
        tmux.type(typed)
        tmux.type("!")  # the last key typed: once it is on screen, every key before it arrived
        tmux.wait_for(lambda lines: "!" in lines[0], "the typed text")
        tmux.press("C-s")
        wait_until(document.exists, "ctrl+s to save")
        assert document.read_text(encoding="utf-8") == typed + "!"
    finally:
        tmux.close()


def test_a_dropped_terminal_leaves_the_unsaved_text_in_the_autosave_copy(tmp_path, trained_run):
    from chargen_tui.document import Autosave

    document = tmp_path / "doc.txt"
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document, then=f"; touch {tmp_path / 'exited'}")
    try:
        tmux.wait_for(lambda lines: any("doc.txt" in line for line in lines), "the editor")
        tmux.type("Words never saved")
        tmux.wait_for(lambda lines: lines[0].strip().startswith("Words never saved"), "the typed text")
        pid = tmux("list-panes", "-t", "app", "-F", "#{pane_pid}").strip()
        app_pid = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()[0]
        os.kill(int(app_pid), signal.SIGHUP)  # what the terminal's end (an SSH link dropping) sends
        wait_until((tmp_path / "exited").exists, "the app to exit on SIGHUP")
    finally:
        tmux.close()
    assert not document.exists()  # nothing was written over the user's file
    assert Autosave(document, tmp_path / "cache" / "chargen-tui" / "autosave").read().text == "Words never saved"


def chinese_text(chars: int, seed: int = 0) -> str:
    """Lines of five characters, as Tang quatrains are, from a few dozen common ones."""
    import random

    common = "春風花月山水雲天人心明日夜年白長江上不有一無時來去歸見中行秋雨"
    rng = random.Random(seed)
    lines = []
    while sum(map(len, lines)) < chars:
        lines.append("".join(rng.choice(common) for _ in range(5)) + rng.choice("，。") + "\n")
    return "".join(lines)[:chars]


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory):
    from chargen_tui.run_dir import RunDir

    from .helpers import train_tiny

    run = RunDir(tmp_path_factory.mktemp("chinese") / "run")
    train_tiny(run, chinese_text(20000), epochs=2, units=32)
    return run


def test_double_width_text_gets_its_ghost_right_after_the_cursor(tmp_path, chinese_run):
    """CJK characters take two columns: the ghost must start at the cursor's column, Tab accept it,
    and the cursor land after it."""
    from .app_helpers import display_width

    document = tmp_path / "poem.txt"
    tmux = Tmux(tmp_path)
    tmux.write(chinese_run, document)
    typed = "春風花月"
    try:
        tmux.wait_for_model()
        tmux.type(typed)
        line = tmux.wait_for(lambda lines: lines[0].strip().startswith(typed) and len(lines[0].strip()) > len(typed),
                             "ghost text after the typed text")[0]
        left = len(line) - len(line.lstrip(" "))  # the screen's padding
        assert line[left + len(typed)] != " "  # drawn from the cursor's column on: no gap, nothing overwritten
        assert tmux.cursor() == (left + display_width(typed), 0)
        tmux.press("Tab")
        tmux.press("C-s")
        wait_until(lambda: document.exists() and len(document.read_text(encoding="utf-8")) > len(typed),
                   "ctrl+s to save the accepted text")
        accepted = document.read_text(encoding="utf-8")
        assert accepted.startswith(typed) and "\n" not in accepted
        assert tmux.cursor() == (left + display_width(accepted), 0)  # after the accepted text, in columns
        assert tmux.screen()[0][left:].startswith(accepted)
    finally:
        tmux.close()
