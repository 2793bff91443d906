"""The training settings: the corpus, the run folder and every knob config.py declares, defaults filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Function, ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from ...config import Config, default, knob_type, knobs, settings
from ...control import printable
from ...errors import UserError
from ...finetune import DEFAULT, SIZE, base_run_dir
from ..wording import field_name

# What a run starts from: the choices of the "start from" row (its folder field holds a run folder's path)
NOTHING, FOLDER = "nothing", "folder"
START_FROM = [("nothing", NOTHING), ("the shipped model", DEFAULT), ("a run folder", FOLDER)]


def _row(name: str, *fields: Widget, help_text: str = "") -> Horizontal:
    return Horizontal(Label(name, classes="name"), *fields, Label(help_text, classes="help"), classes="row")


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
        & #start-from-kind {
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
                   help_text="UTF-8 text to learn from")
        yield _row("run folder", Input(placeholder="runs/CORPUS_NAME", id="out", compact=True),
                   help_text="where the model and checkpoints go")
        for name, knob in settings().items():
            if name == "start_from":
                yield _row("start from", Select(START_FROM, value=NOTHING, allow_blank=False, compact=True,
                                                id="start-from-kind"),
                           Input(placeholder="runs/NAME", id="knob-start_from", compact=True, disabled=True),
                           help_text=knob.help)
                continue
            yield _row(field_name(name), Input(_text(default(name)), id=f"knob-{name}", compact=True,
                                               validators=[_KnobCheck(name)]), help_text=knob.help)

    @on(Select.Changed, "#start-from-kind")
    @on(Input.Changed, "#knob-start_from")
    def _start_from_changed(self) -> None:
        """A run that starts from a model takes its size, and the fine-tuning defaults (config.py)."""
        choice = self.query_one("#start-from-kind", Select)
        self.query_one("#knob-start_from", Input).disabled = choice.value != FOLDER or choice.disabled
        base = self._base_config(choice.value)
        for name, declared in knobs().items():
            if name in SIZE or declared.finetune is not None:
                value = default(name) if base is None else getattr(base, name) if name in SIZE else declared.finetune
                self.query_one(f"#knob-{name}", Input).value = _text(value)

    def _base_config(self, kind: str) -> Config | None:
        if kind == NOTHING:
            return None
        try:
            name = DEFAULT if kind == DEFAULT else self.query_one("#knob-start_from", Input).value.strip()
            return base_run_dir(name).read_config()
        except UserError:  # not a run (yet): F5 says so
            return None

    def _start_from(self) -> str | None:
        kind = self.query_one("#start-from-kind", Select).value
        return None if kind == NOTHING else DEFAULT if kind == DEFAULT else \
            self.query_one("#knob-start_from", Input).value.strip() or None

    def corpus(self) -> str | None:
        return self.query_one("#corpus", Input).value.strip() or None

    def run_folder(self) -> Path:
        out = self.query_one("#out", Input).value.strip()
        corpus = self.corpus()
        return Path(out) if out else Path("runs") / (Path(corpus).stem if corpus else "default")

    def changes(self) -> dict[str, Any]:
        """The knobs as typed, or UserError naming the first that is not a number."""
        values: dict[str, Any] = {"start_from": self._start_from()}
        for name in settings():
            if name != "start_from":
                values[name] = _parse(name, self.query_one(f"#knob-{name}", Input).value)
        if self.corpus():
            values["corpus"] = str(Path(self.corpus()).expanduser().resolve())
        return values

    def show(self, config: Config, run_folder: Path) -> None:
        """Fill the form with a run's own settings (when resuming it)."""
        # An Input draws its value raw: a path from a run folder is shown through the picture rule.
        self.query_one("#corpus", Input).value = printable(config.corpus or "")
        self.query_one("#out", Input).value = printable(str(run_folder))
        for name in settings():
            if name != "start_from":
                self.query_one(f"#knob-{name}", Input).value = _text(getattr(config, name))
        kind = NOTHING if config.start_from is None else DEFAULT if config.start_from == DEFAULT else FOLDER
        with self.prevent(Select.Changed, Input.Changed):  # the run's own values stay, not fine-tuning defaults
            self.query_one("#start-from-kind", Select).value = kind
            self.query_one("#knob-start_from", Input).value = printable(config.start_from) if kind == FOLDER else ""

    def set_enabled(self, enabled: bool) -> None:
        for field in self.query(Input):
            field.disabled = not enabled
        self.query_one("#start-from-kind", Select).disabled = not enabled
        kind = self.query_one("#start-from-kind", Select).value
        self.query_one("#knob-start_from", Input).disabled = not enabled or kind != FOLDER


def _parse(name: str, text: str) -> Any:
    """The value of a knob typed as `text`, or UserError saying what it should be."""
    if knob_type(name) is str and default(name) == "":  # characters (extra chars): taken as typed
        return text
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
    """A knob's value as its field shows it (an Input draws it raw: through the picture rule)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else printable(str(value))

