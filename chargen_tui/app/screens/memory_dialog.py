"""The memory dialog: what the ghost learned of the words you write, and your say over it."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from ...memory import Memory
from ...words import Words
from ..wording import shown
from .dialogs import Choice, Dialog

LISTED = 1000  # words the list shows, the commonest (`chargen-tui memory --words` lists them all)


class MemoryDialog(Dialog[None]):
    """The words learned, commonest first: Delete forgets the one selected, P pauses (or resumes)
    learning from this document, a button forgets everything."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("delete", "forget_word", "Forget word"),
        Binding("p", "toggle_pause", "Pause learning"),
    ]
    DEFAULT_CSS = """
    MemoryDialog OptionList {
        height: 12;
        margin: 1 0;
    }
    """

    def __init__(self, memory: Memory, words: Words, document: Path | None) -> None:
        super().__init__()
        self.memory, self.words, self.document = memory, words, document

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(id="summary", classes="question")
            yield Label(id="learning")
            yield OptionList(id="words")
            yield Label("Delete forgets the word selected · P pauses learning here · Esc closes",
                        classes="hint")
            with Horizontal(classes="answers"):
                yield Button("Forget everything", id="forget-all", compact=True)

    def on_mount(self) -> None:
        self._show()
        self.query_one(OptionList).focus()

    def _show(self) -> None:
        learned = self.memory.words()
        self.query_one("#summary", Label).update(
            f"{len(learned):,} words learned from what you write (kept in {shown(self.memory.path)})")
        where = shown(self.document.name) if self.document else "this untitled text"
        self.query_one("#learning", Label).update(
            f"Learning from {where}: {'paused' if self.words.paused else 'on'}")
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([Option(shown(f"{word}  ({count})"), id=word) for word, count in learned[:LISTED]])
        if learned:
            options.highlighted = min(highlighted or 0, min(len(learned), LISTED) - 1)

    def action_forget_word(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        word = options.get_option_at_index(options.highlighted).id
        self.memory.forget(word)
        self.notify(f"forgot {shown(word)}")
        self._show()

    def action_toggle_pause(self) -> None:
        self.words.paused = not self.words.paused
        if self.document is not None:  # an untitled text's pause is kept when it is saved
            self.memory.pause(self.document, self.words.paused)
        self._show()

    @on(Button.Pressed, "#forget-all")
    def _ask_to_forget_everything(self) -> None:
        count = len(self.memory.words())
        self.app.push_screen(Choice(f"Forget all {count:,} words learned from what you write?",
                                    [("keep", "Keep them"), ("forget", "Forget everything")], escape="keep"),
                             self._forget_everything)

    def _forget_everything(self, answer: str) -> None:
        if answer == "forget":
            self.memory.forget_all()
            self.notify("forgot every word learned")
            self._show()
