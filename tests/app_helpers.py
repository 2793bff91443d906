"""What the app tests share: starting the app, waiting for what a user would see, and reading it."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from textual.pilot import Pilot

from chargen_tui.app.app import ChargenApp
from chargen_tui.app.screens.writing import WritingScreen
from chargen_tui.app.widgets.ghost_editor import GhostEditor
from chargen_tui.suggest import SAMPLE

SAMPLE_SEED = 11  # the random seed the writing tests sample with: the same text, the same suggestions


async def wait_for(pilot: Pilot, condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Let the app run until `condition()` holds (the model loads, a suggestion arrives, an epoch ends)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def drawn_line(widget, y: int = 0) -> str:
    """The characters a widget draws on its line `y` (what the terminal shows there)."""
    return "".join(segment.text for segment in widget.render_line(y))


def drawn_text(widget) -> str:
    """What a widget draws, its lines joined and runs of spaces made one (so wrapping does not matter)."""
    return " ".join(" ".join(drawn_line(widget, y) for y in range(widget.size.height)).split())


# --- the writing screen -----------------------------------------------------------------------
def writing_app(run_dir, tmp_path: Path, document: str | None = "doc.txt", suggest_mode: str = SAMPLE,
                adapting: bool = False, **options) -> ChargenApp:
    """The app on its writing screen, suggesting with `run_dir`'s model and a fixed sample seed; in
    sample mode unless asked (a tiny model is rarely sure enough for predict mode to show a ghost);
    `options`: ChargenApp's others."""
    options.setdefault("memory_folder", tmp_path / "memory")  # what a test types teaches no other test
    return ChargenApp(mode="write", run=run_dir, document=tmp_path / document if document else None,
                      sample_seed=SAMPLE_SEED, autosave_folder=tmp_path / "autosave", suggest_mode=suggest_mode,
                      adapting=adapting, **options)


async def start_writing(pilot: Pilot, typed: str = "The king and ") -> tuple[WritingScreen, GhostEditor]:
    """Wait for the model, type `typed`, and wait for the ghost text that follows it."""
    screen = pilot.app.writing
    await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
    await pilot.press(*typed)
    await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion")
    return screen, screen.editor


async def type_as_a_terminal(pilot: Pilot, text: str) -> None:
    """Type `text` one key at a time, each key event carrying its character as Textual's terminal driver
    makes it (Pilot.press sends none for a character whose key name it cannot turn back, e.g. U+200D's)."""
    from textual import events
    from textual.keys import _character_to_key

    for character in text:
        name = character if character.isalnum() else _character_to_key(character)
        pilot.app._driver.send_message(events.Key(name, character))
        await pilot.pause()


def status_line(screen: WritingScreen) -> str:
    return drawn_text(screen.query_one("#status"))


def notifications(app: ChargenApp) -> str:
    """The text of the notifications on screen (Textual draws each as a Toast; run_test shows them only
    when given notifications=True)."""
    return " ".join(drawn_text(toast) for toast in app.screen.query("Toast"))


# --- a real terminal ----------------------------------------------------------------------------
class Tmux:
    """A tmux server of its own (its socket in the test's folder) running the app in an 80x24 pane.

    Its terminal obeys what a hostile text would send: OSC 52 writes tmux's clipboard (a buffer,
    `set-clipboard on`) and OSC 2 the pane's title, so a test can see whether any got through.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.socket = str(tmp_path / "tmux.sock")
        self.config = tmp_path / "tmux.conf"
        self.config.write_text("set -g set-clipboard on\nset -g allow-rename on\n")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, "-f", str(self.config), *args], capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def run(self, command: str) -> None:
        """Start `command` (a shell command line) in an 80x24 pane."""
        self("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command)

    def title(self) -> str:
        return self("display-message", "-p", "-t", "app", "#{pane_title}").strip()

    def clipboard(self) -> str:
        """tmux's paste buffers: where OSC 52 lands with set-clipboard on."""
        return self("list-buffers")

    def write(self, run_dir, document: Path, then: str = "") -> None:
        """Start `chargen-tui write` in an 80x24 session (its cache beside the socket); `then` runs after it."""
        cache = Path(self.socket).parent / "cache"
        self.run(f"XDG_CACHE_HOME={cache} {sys.executable} -m chargen_tui write {run_dir.path} "
                 f"--file {shlex.quote(str(document))} --mode sample --no-adapt{then}")

    def type(self, text: str) -> None:
        self("send-keys", "-t", "app", "-l", text)

    def press(self, key: str) -> None:
        self("send-keys", "-t", "app", key)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)

    def cursor(self) -> tuple[int, int]:
        """The cursor's (column, row) in the pane, columns as the terminal counts them."""
        x, y = self("display-message", "-p", "-t", "app", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

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

    def wait_for_model(self) -> None:
        self.wait_for(lambda lines: any("model: run" in line and "loading" not in line for line in lines),
                      "the model to load")


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
