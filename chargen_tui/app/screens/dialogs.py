"""Small modal dialogs: a question with a few answers, and a path with validation."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class Choice(ModalScreen[str]):
    """Ask `question`; dismiss with the id of the answer chosen ("cancel" on Esc)."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def __init__(self, question: str, answers: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.answers = answers  # (id, label), the first is the default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="answers"):
                for answer_id, label in self.answers:
                    yield Button(label, id=answer_id, compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class PathPrompt(ModalScreen[str | None]):
    """Ask for a path; `check(path)` returns an error to show, or None to accept it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, value: str, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="question")
            yield Input(self.value, id="path", compact=True)
            yield Label("", id="error", classes="error")
            yield Label("Enter to accept, Esc to cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        error = self.check(path)
        if error:
            self.query_one("#error", Label).update(error)
        else:
            self.dismiss(path)
