"""End to end in a real terminal: tmux runs `chargen-tui write`, types, and reads the screen back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

TYPED = "The king and "


class Tmux:
    def __init__(self, tmp_path):
        self.socket = str(tmp_path / "tmux.sock")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def write(self, run_dir, document, then: str = "") -> None:
        """Start `chargen-tui write` in an 80x24 session (its cache beside the socket); `then` runs after it."""
        cache = Path(self.socket).parent / "cache"
        self("new-session", "-d", "-s", "app", "-x", "80", "-y", "24",
             f"XDG_CACHE_HOME={cache} {sys.executable} -m chargen_tui write {run_dir.path} --file {document}{then}")

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)

    def screen(self, styles: bool = False) -> list[str]:
        return self("capture-pane", "-p", *(["-e"] if styles else []), "-t", "app").splitlines()

    def wait_for(self, condition, what: str, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.screen()
            if condition(lines):
                return lines
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen:\n" + "\n".join(self.screen()))


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_ghost_text_shows_dimmed_in_a_terminal_and_tab_accepts_it(tmp_path, trained_run):
    document = tmp_path / "doc.txt"
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document)
    try:
        tmux.wait_for(lambda lines: any("model: run" in line and "loading" not in line for line in lines),
                      "the model to load")
        tmux("send-keys", "-t", "app", "-l", TYPED)
        first = tmux.wait_for(lambda lines: lines[0].strip().startswith(TYPED) and len(lines[0].strip()) > len(TYPED),
                              "ghost text after the typed text")[0].strip()
        styled = tmux.screen(styles=True)[0]
        assert "\x1b[3m" in styled  # the ghost is drawn in italics (and dimmed), the typed text is not
        assert styled.index("\x1b[3m") > styled.index(TYPED[-4:])
        tmux("send-keys", "-t", "app", "Tab")
        tmux("send-keys", "-t", "app", "C-s")
        wait_until(lambda: document.exists() and len(document.read_text(encoding="utf-8")) > len(TYPED),
                   "ctrl+s to save the accepted text")
        saved = document.read_text(encoding="utf-8")
        assert saved.startswith(TYPED) and first.startswith(saved.rstrip())
        assert not any("oneDNN" in line or "cuda" in line for line in tmux.screen())  # TF's logs stay off
    finally:
        tmux.close()
    assert sorted(tmp_path.glob("*doc*")) == [document]  # the atomic save left no temporary file


def test_a_dropped_terminal_leaves_the_unsaved_text_in_the_autosave_copy(tmp_path, trained_run):
    from chargen_tui.document import Autosave

    document = tmp_path / "doc.txt"
    tmux = Tmux(tmp_path)
    tmux.write(trained_run, document, then=f"; touch {tmp_path / 'exited'}")
    try:
        tmux.wait_for(lambda lines: any("doc.txt" in line for line in lines), "the editor")
        tmux("send-keys", "-t", "app", "-l", "Words never saved")
        tmux.wait_for(lambda lines: lines[0].strip().startswith("Words never saved"), "the typed text")
        pid = tmux("list-panes", "-t", "app", "-F", "#{pane_pid}").strip()
        app_pid = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()[0]
        os.kill(int(app_pid), signal.SIGHUP)  # what the terminal's end (an SSH link dropping) sends
        wait_until((tmp_path / "exited").exists, "the app to exit on SIGHUP")
    finally:
        tmux.close()
    assert not document.exists()  # nothing was written over the user's file
    assert Autosave(document, tmp_path / "cache" / "chargen-tui" / "autosave").read().text == "Words never saved"
