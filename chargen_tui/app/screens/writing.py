"""The writing screen: an editor whose ghost text is the model's continuation of the text so far.

Work off the UI thread, in two workers: one loads the model (importing TensorFlow takes seconds;
the editor is usable meanwhile), one computes suggestions, always for the newest keystroke.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ...document import Autosave, open_document, save_document
from ...errors import UserError
from ...pretrained import default_run_dir
from ...run_dir import RunDir
from ...suggest import Request, Suggester
from ..widgets.ghost_editor import GhostEditor
from .dialogs import Choice, PathPrompt

AUTOSAVE_SECONDS = 5.0
TEMPERATURE_STEP = 0.1
TEMPERATURE_RANGE = (0.1, 2.0)


class ModelLoaded(Message):
    def __init__(self, sampler, name: str) -> None:
        super().__init__()
        self.sampler, self.name = sampler, name


class SuggestionsReady(Message):
    def __init__(self, prefix: str, alternatives: list[str]) -> None:
        super().__init__()
        self.prefix, self.alternatives = prefix, alternatives


class WritingScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("f2", "temperature(-1)", "T-", tooltip="lower the temperature: safer suggestions"),
        Binding("f3", "temperature(1)", "T+", tooltip="raise the temperature: bolder suggestions"),
        Binding("f4", "toggle_autocomplete", "Auto"),
        Binding("ctrl+o", "open_document", "Open", show=False),
        Binding("ctrl+l", "choose_model", "Model", show=False),
        Binding("ctrl+t", "app.switch_mode('train')", "Train"),
    ]

    def __init__(self, model: RunDir | None, document: Path | None, temperature: float = 0.5,
                 sample_seed: int | None = None, autosave_folder: Path | None = None) -> None:
        super().__init__()
        self.model = model
        self.document = document
        self.temperature = temperature
        self.sample_seed = sample_seed  # fixed: the same text always gets the same suggestions (tests)
        self.autosave_folder = autosave_folder
        self.sampler = None
        self.model_name = "none"
        self.model_note = "" if model else "(ctrl+l chooses a run folder)"
        self.saved_text = ""
        self.modified = False  # shown in the status line; `dirty` is the exact (slower) test
        self.autosave = Autosave(document, autosave_folder)
        self.suggester = Suggester()

    def compose(self) -> ComposeResult:
        yield GhostEditor(id="editor", compact=True)
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def editor(self) -> GhostEditor:
        return self.query_one(GhostEditor)

    def on_mount(self) -> None:
        self._open(self.document)
        self._compute_suggestions()
        if self.model is not None:
            self.load_model(self.model)
        self.set_interval(AUTOSAVE_SECONDS, self.write_autosave)
        self.editor.focus()

    # --- the model --------------------------------------------------------------------------
    def load_model(self, run_dir: RunDir) -> None:
        self.model_note = f"loading {run_dir.path.name}..."
        self._show_status()
        self._load_model(run_dir)

    @work(thread=True, exit_on_error=False, exclusive=True, group="model")
    def _load_model(self, run_dir: RunDir) -> None:
        from ...sampling import Sampler  # imports TensorFlow: here, never on the UI thread

        self.post_message(ModelLoaded(Sampler.from_run_dir(run_dir), _model_name(run_dir)))

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.sampler, self.model_name, self.model_note = message.sampler, message.name, ""
        self.editor.context_chars = max(256, message.sampler.seq_len)
        self._show_status()
        self.editor.request_suggestions()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, UserError):
            self.model_note = f"error: {error}"
        else:
            what = "the model could not be loaded" if event.worker.group == "model" else "suggestions stopped"
            self.model_note = f"error: {what} ({type(error).__name__}: {error})"
        self._show_status()

    # --- suggestions ------------------------------------------------------------------------
    def on_ghost_editor_suggestion_wanted(self, message: GhostEditor.SuggestionWanted) -> None:
        if self.sampler is not None:
            self.suggester.ask(Request(message.prefix, self.temperature, self.sample_seed, self.sampler))

    @work(thread=True, exit_on_error=False, group="suggest")
    def _compute_suggestions(self) -> None:
        worker = get_current_worker()
        self.suggester.serve(lambda prefix, alternatives: self.post_message(SuggestionsReady(prefix, alternatives)),
                             lambda: worker.is_cancelled)

    def on_suggestions_ready(self, message: SuggestionsReady) -> None:
        self.editor.show_suggestions(message.prefix, message.alternatives)

    def action_temperature(self, direction: int) -> None:
        low, high = TEMPERATURE_RANGE
        self.temperature = round(min(high, max(low, self.temperature + direction * TEMPERATURE_STEP)), 2)
        self._show_status()
        self.editor.request_suggestions()

    def action_toggle_autocomplete(self) -> None:
        self.editor.autocomplete = not self.editor.autocomplete
        self.editor.request_suggestions()
        self._show_status()

    def action_choose_model(self) -> None:
        default = str(self.app.last_run.path) if getattr(self.app, "last_run", None) else ""
        self.app.push_screen(PathPrompt("Run folder of the model to write with:", default, _model_problem),
                             lambda path: path and self.load_model(RunDir(path)))

    # --- the document -----------------------------------------------------------------------
    def _open(self, path: Path | None) -> None:
        text = open_document(path) if path else ""
        self.document, self.saved_text, self.modified = path, text, False
        self.autosave = Autosave(path, self.autosave_folder)
        self.editor.load_text(text)
        self.editor.move_cursor(self.editor.document.end)  # a writer goes on where the text ends
        recovery = self.autosave.read()
        if recovery and recovery.text != text:
            self.app.push_screen(
                Choice(f"Text not saved when the editor last closed ({recovery.describe()}, "
                       f"{len(recovery.text):,} characters). Recover it?",
                       [("recover", "Recover"), ("discard", "Discard")]),
                lambda answer: self._recover(answer, recovery.text))
        self._show_status()

    def _recover(self, answer: str, text: str) -> None:
        if answer == "recover":
            self.editor.load_text(text)  # modified: the recovered text is not in the file
            self.editor.move_cursor(self.editor.document.end)
        else:
            self.autosave.clear()
        self._show_status()

    @property
    def dirty(self) -> bool:
        return self.editor.text != self.saved_text

    def write_autosave(self) -> None:
        if self.dirty:
            self.autosave.write(self.editor.text)

    def action_save(self) -> None:
        if self.document is None:
            self.app.push_screen(PathPrompt("Save as:", "", _document_problem),
                                 lambda path: path and self.save(Path(path)))
        else:
            self.save(self.document)

    def save(self, path: Path) -> bool:
        text = self.editor.text
        try:
            save_document(path, text)
        except (UserError, OSError) as error:
            self.notify(f"not saved: {error}", severity="error")
            return False
        if path != self.document:
            self.autosave.clear()
            self.document, self.autosave = path, Autosave(path, self.autosave_folder)
        self.saved_text, self.modified = text, False
        self.autosave.clear()
        self._show_status()
        return True

    def discard_changes(self) -> None:
        """The user chose to quit without saving: the autosave copy goes too."""
        self.autosave.clear()

    def action_open_document(self) -> None:
        if self.dirty:
            self.notify("save first (ctrl+s): this document has unsaved changes", severity="warning")
            return
        self.app.push_screen(PathPrompt("Open a UTF-8 text file:", "", _document_problem),
                             lambda path: path and self._open_checked(Path(path)))

    def _open_checked(self, path: Path) -> None:
        try:
            self._open(path)
        except UserError as error:
            self.notify(str(error), severity="error")

    # --- status line ------------------------------------------------------------------------
    def on_text_area_changed(self) -> None:
        # Comparing the whole text costs O(document): do it only until the first change shows.
        if not self.modified and self.editor.text != self.saved_text:
            self.modified = True
            self._show_status()

    def _show_status(self) -> None:
        name = self.document.name if self.document else "untitled"
        saved = " (modified)" if self.modified else ""
        auto = "on" if self.editor.autocomplete else "off"
        model = f"{self.model_name} {self.model_note}".strip()
        self.query_one("#status", Static).update(
            f" {name}{saved} │ model: {model} │ temperature {self.temperature:.1f} │ autocomplete {auto}")


def _model_name(run_dir: RunDir) -> str:
    """The run folder's name; for the shipped model, what it learned from."""
    if run_dir.path.resolve() == default_run_dir().path.resolve():
        corpus = run_dir.read_config().corpus
        return f"{Path(corpus).stem if corpus else 'default'} (shipped)"
    return run_dir.path.name


def _model_problem(path: str) -> str | None:
    try:
        run_dir = RunDir(path)
        run_dir.read_config(), run_dir.read_vocab(), run_dir.require_model()
    except UserError as error:
        return str(error)
    return None


def _document_problem(path: str) -> str | None:
    if not path:
        return "give a file name"
    if Path(path).is_dir():
        return f"{path} is a folder: give a file name"
    return None
