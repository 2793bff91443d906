"""Small modal dialogs: a question with a few answers, and a path with validation."""

from __future__ import annotations

from typing import Callable, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

_Answer = TypeVar("_Answer")


class Dialog(ModalScreen[_Answer]):
    """A box in the middle of the screen, over the screen it asks about."""

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
    }
    .dialog {
        width: 72;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 1 2;
        & .answers {
            height: 1;
            margin-top: 1;
        }
        & Button {
            margin-right: 2;
        }
        & .error {
            color: $error;
        }
        & .hint {
            color: $text-muted;
        }
        & .question {
            width: 100%;
        }
    }
    """


class Choice(Dialog[str]):
    """Ask `question`; dismiss with the id of the answer chosen (`escape`, "cancel" by default, on Esc)."""

    BINDINGS = [Binding("escape", "dismiss_on_escape", "Cancel")]

    def __init__(self, question: str, answers: list[tuple[str, str]], escape: str = "cancel") -> None:
        super().__init__()
        self.question = question
        self.answers = answers  # (id, label), the first is the default
        self.escape = escape

    def action_dismiss_on_escape(self) -> None:
        self.dismiss(self.escape)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="answers"):
                for answer_id, label in self.answers:
                    yield Button(label, id=answer_id, compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class PathPrompt(Dialog[str | None]):
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

    @on(Input.Submitted, "#path")
    def _accept_if_valid(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        error = self.check(path)
        if error:
            self.query_one("#error", Label).update(error)
        else:
            self.dismiss(path)
