"""The writing screen: an editor whose ghost text is the model's continuation of the text so far.

A worker computes the suggestions, always for the newest keystroke, so typing never waits. The
model loads from model.npz in milliseconds; a run folder without it loads through Keras in a
second worker (TensorFlow's import takes seconds; the editor is usable meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from ...document import Autosave, open_document, save_document
from ...errors import UserError
from ...pretrained import default_run_dir
from ...run_dir import RunDir
from ...sampling import Sampler
from ...suggest import Request, Suggester
from ..widgets.ghost_editor import GhostEditor
from ..wording import say
from .dialogs import Choice, PathPrompt


AUTOSAVE_SECONDS = 5.0
TEMPERATURE_STEP = 0.1
TEMPERATURE_RANGE = (0.1, 2.0)


@dataclass
class ModelLoaded(Message):
    sampler: Sampler
    name: str


@dataclass
class SuggestionsReady(Message):
    prefix: str
    alternatives: list[str]


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

    # init=False: no watcher runs for the values given before the screen is mounted.
    run: reactive[RunDir | None] = reactive(None, init=False)
    """The run folder of the model to write with; setting it loads that model."""
    # What the status line shows (it follows each of them, and the editor's `autocomplete`):
    document: reactive[Path | None] = reactive(None, init=False)
    """The file the text is saved to; None until the untitled text is saved."""
    unsaved: reactive[bool] = reactive(False, init=False)
    """Unsaved changes: the text differs from the saved file. The first change sets it at once; text
    undone back to the saved one clears it when `check_unsaved` next compares (autosave, quit, open)."""
    temperature: reactive[float] = reactive(0.5, init=False)
    model_name: reactive[str] = reactive("none", init=False)
    model_note: reactive[str] = reactive("", init=False)
    """What the model is doing when not simply there: loading, failed, or not chosen yet."""

    def __init__(self, run: RunDir | None, document: Path | None, sample_seed: int | None = None,
                 autosave_folder: Path | None = None) -> None:
        super().__init__()
        self.set_reactive(WritingScreen.run, run)
        self.set_reactive(WritingScreen.document, document)
        self.set_reactive(WritingScreen.model_note, "" if run else "(ctrl+l chooses a run folder)")
        self.offered_run = run
        """The run folder Ctrl+L offers first: the one given at start, then the last one trained."""
        self.sample_seed = sample_seed  # fixed: the same text always gets the same suggestions (tests)
        self.autosave_folder = autosave_folder
        self.sampler: Sampler | None = None
        self.saved_text = ""
        self.suggester = Suggester()

    def compose(self) -> ComposeResult:
        yield GhostEditor(id="editor", compact=True)
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def editor(self) -> GhostEditor:
        return self.query_one(GhostEditor)

    def on_mount(self) -> None:
        for name in ("document", "unsaved", "temperature", "model_name", "model_note"):
            self.watch(self, name, self._show_status, init=False)
        self.watch(self.editor, "autocomplete", self._show_status, init=False)
        self._open(self.document)
        self._show_status()
        self._compute_suggestions()
        if self.run is not None:
            self._load_model(self.run)
        self.set_interval(AUTOSAVE_SECONDS, self.write_autosave)
        self.editor.focus()

    # --- the model --------------------------------------------------------------------------
    def watch_run(self, run: RunDir | None) -> None:
        if run is not None:
            self._load_model(run)

    def _load_model(self, run: RunDir) -> None:
        """model.npz loads in milliseconds, here; a run folder without it needs TensorFlow's import
        (seconds), in a worker. Loading here keeps the first ghost text from waiting on the worker
        while the first frames are drawn (measured: 0.1-0.15 s sooner)."""
        try:
            sampler = Sampler.from_npz(run)
        except UserError as error:
            self._model_failed(say(error))
            return
        if sampler is not None:
            self._use_model(ModelLoaded(sampler, _model_name(run)))
        else:
            self.model_note = f"loading {run.path.name}..."
            self._read_model(run)

    @work(thread=True, exit_on_error=False, exclusive=True, group="model")
    def _read_model(self, run: RunDir) -> None:
        self.post_message(ModelLoaded(Sampler.from_run_dir(run), _model_name(run)))

    @on(ModelLoaded)
    def _use_model(self, message: ModelLoaded) -> None:
        self.sampler, self.model_name, self.model_note = message.sampler, message.name, ""
        self.editor.context_chars = max(256, message.sampler.seq_len)
        self.editor.request_suggestions()

    @on(Worker.StateChanged)
    def _say_why_a_worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, UserError):
            self._model_failed(say(error))
        else:
            what = "the model could not be loaded" if event.worker.group == "model" else "suggestions stopped"
            self._model_failed(f"{what} ({type(error).__name__}: {error})")

    def _model_failed(self, message: str) -> None:
        """The whole message in a notification (it wraps); the status line keeps a short note."""
        self.notify(message, title="no suggestions", severity="error", timeout=15)
        self.model_note = "(not loaded: ctrl+l chooses a run folder)"

    def action_choose_model(self) -> None:
        default = str(self.offered_run.path) if self.offered_run else ""
        self.app.push_screen(PathPrompt("Run folder of the model to write with:", default, _model_problem),
                             self._use_run)

    def _use_run(self, path: str | None) -> None:
        if path:  # None: the dialog was cancelled
            self.run = RunDir(path)

    # --- suggestions ------------------------------------------------------------------------
    @on(GhostEditor.SuggestionWanted)
    def _ask_for_suggestions(self, message: GhostEditor.SuggestionWanted) -> None:
        if self.sampler is not None:
            self.suggester.ask(Request(message.prefix, self.temperature, self.sample_seed, self.sampler))

    @work(thread=True, exit_on_error=False, group="suggest")
    def _compute_suggestions(self) -> None:
        worker = get_current_worker()
        self.suggester.serve(lambda prefix, alternatives: self.post_message(SuggestionsReady(prefix, alternatives)),
                             lambda: worker.is_cancelled)

    @on(SuggestionsReady)
    def _show_suggestions(self, message: SuggestionsReady) -> None:
        self.editor.show_suggestions(message.prefix, message.alternatives)

    def action_temperature(self, direction: int) -> None:
        low, high = TEMPERATURE_RANGE
        self.temperature = round(min(high, max(low, self.temperature + direction * TEMPERATURE_STEP)), 2)

    def watch_temperature(self) -> None:
        self.editor.request_suggestions()

    def action_toggle_autocomplete(self) -> None:
        self.editor.autocomplete = not self.editor.autocomplete

    # --- the document -----------------------------------------------------------------------
    @property
    def autosave(self) -> Autosave:
        """The crash copy of the text under the document's current name."""
        return Autosave(self.document, self.autosave_folder)

    def _open(self, path: Path | None) -> None:
        text = open_document(path) if path else ""
        self.document, self.saved_text, self.unsaved = path, text, False
        self.editor.load_text(text)
        self.editor.move_cursor(self.editor.document.end)  # a writer goes on where the text ends
        recovery = self.autosave.read()
        if recovery and recovery.text != text:
            self.app.push_screen(
                Choice(f"Text not saved when the editor last closed ({recovery.describe()}, "
                       f"{len(recovery.text):,} characters). Recover it?",
                       [("recover", "Recover"), ("discard", "Discard")]),
                lambda answer: self._recover(answer, recovery.text))

    def _recover(self, answer: str, text: str) -> None:
        if answer == "recover":
            self.editor.load_text(text)  # unsaved: the recovered text is not in the file
            self.editor.move_cursor(self.editor.document.end)
        else:
            self.autosave.clear()

    @on(TextArea.Changed)
    def _note_change(self) -> None:
        # Comparing the whole text costs O(document): per keystroke only until the first change
        # shows. Back to the saved text (undo) shows at the next check: autosave's, or a quit's.
        if not self.unsaved:
            self.check_unsaved()

    def check_unsaved(self) -> bool:
        """Compare the text with the saved file now, and say whether it differs."""
        self.unsaved = self.editor.text != self.saved_text
        return self.unsaved

    def write_autosave(self) -> None:
        """Keep a crash copy of unsaved text (every few seconds, and when the terminal goes away)."""
        if self.check_unsaved():
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
            self.notify(f"not saved: {say(error) if isinstance(error, UserError) else error}", severity="error")
            return False
        self.autosave.clear()  # the copy under the name the text had (untitled, or another file's)
        self.document, self.saved_text, self.unsaved = path, text, False
        self.autosave.clear()  # and any copy left under the new name
        return True

    def discard_changes(self) -> None:
        """The user chose to quit without saving: the autosave copy goes too."""
        self.autosave.clear()

    def action_open_document(self) -> None:
        if self.check_unsaved():
            self.notify("save first (ctrl+s): this document has unsaved changes", severity="warning")
            return
        self.app.push_screen(PathPrompt("Open a UTF-8 text file:", "", _document_problem),
                             lambda path: path and self._open_checked(Path(path)))

    def _open_checked(self, path: Path) -> None:
        try:
            self._open(path)
        except UserError as error:
            self.notify(say(error), severity="error")

    # --- status line ------------------------------------------------------------------------
    def _show_status(self) -> None:
        name = self.document.name if self.document else "untitled"
        saved = " (modified)" if self.unsaved else ""
        auto = "on" if self.editor.autocomplete else "off"
        model = f"{self.model_name} {self.model_note}".strip()
        self.query_one("#status", Static).update(
            f" {name}{saved} │ model: {model} │ temperature {self.temperature:.1f} │ autocomplete {auto}")


def _model_name(run: RunDir) -> str:
    """The run folder's name; for the shipped model, what it learned from."""
    if run.path.resolve() == default_run_dir().path.resolve():
        corpus = run.read_config().corpus
        return f"{Path(corpus).stem if corpus else 'default'} (shipped)"
    return run.path.name


def _model_problem(path: str) -> str | None:
    try:
        RunDir(path).check_model()
    except UserError as error:
        return say(error)
    return None


def _document_problem(path: str) -> str | None:
    if not path:
        return "give a file name"
    if Path(path).is_dir():
        return f"{path} is a folder: give a file name"
    return None
