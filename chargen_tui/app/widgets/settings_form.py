"""The training settings: the corpus, the run folder and every knob config.py declares, defaults filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Function, ValidationResult, Validator
from textual.widgets import Input, Label

from ...config import Config, default, knob_type, settings
from ...errors import UserError
from ..wording import field_name


def _row(name: str, field: Input, help_text: str = "") -> Horizontal:
    return Horizontal(Label(name, classes="name"), field, Label(help_text, classes="help"), classes="row")


class SettingsForm(VerticalScroll):
    """One row a setting: its name, the field, and what it does."""

    DEFAULT_CSS = """
    SettingsForm {
        & .row {
            height: 1;
        }
        & .name {
            width: 18;
        }
        & Input {
            width: 20;
            margin-right: 1;
        }
        & .help {
            width: 1fr;
            color: $text-muted;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    def compose(self) -> ComposeResult:
        yield _row("corpus", Input(placeholder="text file; empty = Python's docs", id="corpus", compact=True,
                                   validators=[Function(_is_file_or_empty, "no such file: give a text file's path")]),
                   "UTF-8 text to learn from")
        yield _row("run folder", Input(placeholder="runs/CORPUS_NAME", id="out", compact=True),
                   "where the model and checkpoints go")
        for name, knob in settings().items():
            yield _row(field_name(name), Input(_text(default(name)), id=f"knob-{name}", compact=True,
                                               validators=[_KnobCheck(name)]), knob.help)

    def corpus(self) -> str | None:
        return self.query_one("#corpus", Input).value.strip() or None

    def run_folder(self) -> Path:
        out = self.query_one("#out", Input).value.strip()
        corpus = self.corpus()
        return Path(out) if out else Path("runs") / (Path(corpus).stem if corpus else "default")

    def changes(self) -> dict[str, Any]:
        """The knobs as typed, or UserError naming the first that is not a number."""
        values: dict[str, Any] = {}
        for name in settings():
            values[name] = _parse(name, self.query_one(f"#knob-{name}", Input).value)
        if self.corpus():
            values["corpus"] = str(Path(self.corpus()).expanduser().resolve())
        return values

    def show(self, config: Config, run_folder: Path) -> None:
        """Fill the form with a run's own settings (when resuming it)."""
        self.query_one("#corpus", Input).value = config.corpus or ""
        self.query_one("#out", Input).value = str(run_folder)
        for name in settings():
            self.query_one(f"#knob-{name}", Input).value = _text(getattr(config, name))

    def set_enabled(self, enabled: bool) -> None:
        for field in self.query(Input):
            field.disabled = not enabled


def _parse(name: str, text: str) -> Any:
    """The value of a knob typed as `text`, or UserError saying what it should be."""
    text = text.strip()
    if text.lower() in ("", "none"):
        if default(name) is None:  # a knob that may be unset (time limit)
            return None
        raise UserError(f"{field_name(name)} is empty: give a value")
    kind = knob_type(name)
    if kind is bool and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    try:
        if kind is not bool:
            return kind(text)
    except ValueError:
        pass
    expected = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
    raise UserError(f"{field_name(name)}: {text!r} is not {expected}")


_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class _KnobCheck(Validator):
    """Marks a knob's field invalid as it is typed, with the reason `_parse` gives."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def validate(self, value: str) -> ValidationResult:
        try:
            _parse(self.name, value)
        except UserError as error:
            return self.failure(str(error))
        return self.success()


def _is_file_or_empty(text: str) -> bool:
    return not text.strip() or Path(text.strip()).expanduser().is_file()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)

