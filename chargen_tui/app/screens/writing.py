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

from ...control import printable
from ...document import Autosave, open_document, save_document
from ...errors import NotDecodable, UserError, word
from ...memory import Memory
from ...pretrained import default_run_dir
from ...run_dir import RunDir
from ...sampling import Sampler
from ...adapt import READ_FIRST
from ...predict import THRESHOLD, THRESHOLD_RANGE
from ...suggest import PREDICT, SAMPLE, TEMPERATURE_RANGE, Request, Suggester, prefix_chars
from ...words import Words
from ..keys import also_in_a_browser, key_name
from ..widgets.ghost_editor import GhostEditor
from ..wording import say, shown
from .dialogs import Choice, PathPrompt
from .memory_dialog import MemoryDialog


AUTOSAVE_SECONDS = 5.0
TEMPERATURE_STEP = 0.1
# Beyond either, Textual's editor takes two seconds or more here to lay the text out (on opening it,
# and again when the terminal is resized): the app says so. Typing is not slowed.
LONG_DOCUMENT_LINES = 150_000
LONG_DOCUMENT_CHARS = 4_000_000
# What an empty editor says (a newcomer's first screen): predict mode shows no ghost until the model
# is sure of something, so the page alone would say nothing.
EMPTY_PAGE = ("Write here. As you type, the model proposes what comes next in dim italics after the "
              "cursor: Tab takes it, Ctrl+Right one word, Esc hides it. Ctrl+S saves; {train} trains a "
              "model on your own text.")
THRESHOLDS = (THRESHOLD_RANGE[0], 0.1, 0.15, THRESHOLD, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, THRESHOLD_RANGE[1])  # F2 up, F3 down


@dataclass
class ModelLoaded(Message):
    sampler: Sampler
    run: RunDir


@dataclass
class SuggestionsReady(Message):
    prefix: str
    alternatives: list[str]


class WritingScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("f2", "bolder(-1)", "Safer", tooltip="predict: likelier suggestions only; sample: a lower temperature"),
        Binding("f3", "bolder(1)", "Bolder", tooltip="predict: less likely ones too; sample: a higher temperature"),
        Binding("f4", "toggle_autocomplete", "Auto"),
        Binding(also_in_a_browser("f5"), "switch_suggestions", "Mode", tooltip="predict (the likeliest words) or sample (inspiration)"),
        Binding("f8", "toggle_adapting", "Adapt", tooltip="a copy of the model learns from the text as you write"),
        Binding("f9", "show_memory", "Memory", tooltip="the words learned from what you write: forget them, "
                "or pause learning from this document"),
        Binding("ctrl+o", "open_document", "Open", show=False),
        Binding("ctrl+l", "choose_model", "Model", show=False),
        Binding(also_in_a_browser("ctrl+t"), "app.switch_mode('train')", "Train"),
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
    suggest_mode: reactive[str] = reactive(PREDICT, init=False)
    """predict: the likeliest continuation, shown when likely; sample: one sampled at `temperature`."""
    threshold: reactive[float] = reactive(THRESHOLD, init=False)
    temperature: reactive[float] = reactive(0.5, init=False)
    adapting: reactive[bool] = reactive(True, init=False)
    """Suggest with a copy of the model that learns from the document (the run folder is not changed)."""
    model_name: reactive[str] = reactive("none", init=False)
    model_note: reactive[str] = reactive("", init=False)
    """What the model is doing when not simply there: loading, failed, or not chosen yet."""

    def __init__(self, run: RunDir | None, document: Path | None, sample_seed: int | None = None,
                 autosave_folder: Path | None = None, suggest_mode: str = PREDICT, adapting: bool = True,
                 encoding: str = "utf-8", memory_folder: Path | None = None) -> None:
        super().__init__()
        self.memory_folder = memory_folder  # None: the user's data folder (memory.py)
        self.encoding = encoding  # of the documents read and saved (the autosave copy is always UTF-8)
        self.set_reactive(WritingScreen.suggest_mode, suggest_mode)
        self.set_reactive(WritingScreen.adapting, adapting)
        self.set_reactive(WritingScreen.run, run)
        self.set_reactive(WritingScreen.document, document)
        self.set_reactive(WritingScreen.model_note, "" if run else "(ctrl+l chooses a run folder)")
        self.offered_run = run
        """The run folder Ctrl+L offers first: the one given at start, then the last one trained."""
        self.sample_seed = sample_seed  # fixed: the same text always gets the same suggestions (tests)
        self.autosave_folder = autosave_folder
        self.sampler: Sampler | None = None
        self.saved_text = ""
        self.recovery_pending = False
        """The recovery question is open: its autosave copy must outlive a quit."""
        self.edited_since_copy = False
        """The text changed since the autosave copy was last written (or found not needed)."""
        self.suggester = Suggester()
        self.memory = Memory(None)  # until on_mount reads the writer's
        self.words: Words | None = None  # the model's words and the writer's (words.py), once a model is loaded

    def compose(self) -> ComposeResult:
        yield GhostEditor(id="editor", compact=True,
                          placeholder=EMPTY_PAGE.format(train=key_name("ctrl+t", self.app.is_web)))
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def editor(self) -> GhostEditor:
        return self.query_one(GhostEditor)

    def on_mount(self) -> None:
        self._read_memory()
        for name in ("document", "unsaved", "suggest_mode", "threshold", "temperature", "adapting", "model_name",
                     "model_note"):
            self.watch(self, name, self._show_status, init=False)
        self.watch(self.editor, "autocomplete", self._show_status, init=False)
        self._open(self.document)
        self._show_status()
        self._compute_suggestions()
        if self.run is not None:
            self._load_model(self.run)
        self.set_interval(AUTOSAVE_SECONDS, self._autosave_if_edited)
        self.set_interval(AUTOSAVE_SECONDS, self._save_memory)
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
            self._use_model(ModelLoaded(sampler, run))
        else:
            self.model_note = f"loading {shown(run.path.name)}..."
            self._read_model(run)

    @work(thread=True, exit_on_error=False, exclusive=True, group="model")
    def _read_model(self, run: RunDir) -> None:
        self.post_message(ModelLoaded(Sampler.from_run_dir(run), run))

    @on(ModelLoaded)
    def _use_model(self, message: ModelLoaded) -> None:
        self.sampler, self.model_name, self.model_note = message.sampler, _model_name(message.run), ""
        self.words = Words.for_run(message.run, message.sampler, self.memory.learned)
        self._learn_from_here()
        self.editor.context_chars = prefix_chars(message.sampler)
        self._adapt_anew()
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
            self._model_failed(f"{what} ({type(error).__name__}: {shown(error)})")

    def _model_failed(self, message: str) -> None:
        """The whole message in a notification (it wraps); the status line keeps a short note."""
        self.notify(message, title="no suggestions", severity="error", timeout=15)
        self.model_note = "(not loaded: ctrl+l chooses a run folder)"

    def action_choose_model(self) -> None:
        default = printable(str(self.offered_run.path)) if self.offered_run else ""  # an Input draws it raw
        self.app.push_screen(PathPrompt("Run folder of the model to write with:", default, _model_problem),
                             self._use_run)

    def _use_run(self, path: str | None) -> None:
        if path:  # None: the dialog was cancelled
            self.run = RunDir(path)

    # --- suggestions ------------------------------------------------------------------------
    @on(GhostEditor.SuggestionWanted)
    def _ask_for_suggestions(self, message: GhostEditor.SuggestionWanted) -> None:
        if message.kept and self.suggest_mode == SAMPLE:
            return  # a sample is inspiration: it stays while the typing follows it
        if self.sampler is not None:
            self.suggester.ask(Request(message.prefix, self.sampler, self.suggest_mode, self.threshold,
                                       self.temperature, self.sample_seed, self.adapting, self.words))

    @work(thread=True, exit_on_error=False, group="suggest")
    def _compute_suggestions(self) -> None:
        worker = get_current_worker()
        self.suggester.serve(lambda request, alternatives: self.post_message(SuggestionsReady(request.prefix, alternatives)),
                             lambda: worker.is_cancelled)

    @on(SuggestionsReady)
    def _show_suggestions(self, message: SuggestionsReady) -> None:
        self.editor.show_suggestions(message.prefix, message.alternatives)

    def action_bolder(self, direction: int) -> None:
        """direction 1: bolder suggestions, -1: safer ones, in the current mode's own terms."""
        if self.suggest_mode == PREDICT:
            place = min(range(len(THRESHOLDS)), key=lambda i: abs(THRESHOLDS[i] - self.threshold)) - direction
            self.threshold = THRESHOLDS[min(len(THRESHOLDS) - 1, max(0, place))]
        else:
            low, high = TEMPERATURE_RANGE
            self.temperature = round(min(high, max(low, self.temperature + direction * TEMPERATURE_STEP)), 2)

    def action_switch_suggestions(self) -> None:
        self.suggest_mode = SAMPLE if self.suggest_mode == PREDICT else PREDICT

    def action_toggle_adapting(self) -> None:
        self.adapting = not self.adapting

    def _adapt_anew(self) -> None:
        """A new document or model: adaptation starts again from the model as loaded, reading the
        text before the cursor (its last READ_FIRST characters) first."""
        self.suggester.restart_adaptation(self.editor.text_before_cursor(READ_FIRST))

    # --- the memory of the writer's words ---------------------------------------------------
    def _read_memory(self) -> None:
        try:
            self.memory = Memory.load(self.memory_folder)
        except UserError as error:  # a damaged file stays as it is; this session learns without keeping
            self.memory = Memory(None)
            self.notify(f"{say(error)}; until then, nothing learned is kept", severity="error", timeout=15)

    def _learn_from_here(self) -> None:
        """A document was opened (or a model loaded): learn from what is typed from the cursor on,
        unless learning from this document is paused."""
        if self.words is not None:
            self.words.skip_to()
            self.words.paused = self.memory.is_paused(self.document)

    def keep_memory(self) -> None:
        """On quitting: learn the last words typed (the suggestions' thread may not have seen them),
        and write what was learned."""
        if self.words is not None:
            self.words.follow(self.editor.text_before_cursor(self.editor.context_chars))
        self._save_memory()

    def _save_memory(self) -> None:
        """Write what was learned to the memory file, if it changed (every few seconds)."""
        try:
            self.memory.save_if_changed()
        except (UserError, OSError) as error:
            self.notify(f"what was learned is not kept: {say(error) if isinstance(error, UserError) else shown(error)}",
                        severity="error")

    def action_show_memory(self) -> None:
        if self.words is None:
            self.notify("no model yet: the memory opens once one is loaded", severity="warning")
            return
        self.app.push_screen(MemoryDialog(self.memory, self.words, self.document))

    def _settings_changed(self) -> None:
        self.editor.request_suggestions()

    watch_suggest_mode = watch_threshold = watch_temperature = watch_adapting = _settings_changed

    def action_toggle_autocomplete(self) -> None:
        self.editor.autocomplete = not self.editor.autocomplete

    # --- the document -----------------------------------------------------------------------
    @property
    def autosave(self) -> Autosave:
        """The crash copy of the text under the document's current name."""
        return Autosave(self.document, self.autosave_folder)

    def _open(self, path: Path | None) -> None:
        text = open_document(path, self.encoding) if path else ""
        self.document, self.saved_text, self.unsaved = path, text, False
        self.editor.load_text(text)
        self.editor.move_cursor(self.editor.document.end)  # a writer goes on where the text ends
        self._adapt_anew()
        self._learn_from_here()
        self._warn_if_long(path, text)
        recovery = self.autosave.read()
        if recovery and recovery.text != text:
            # Until answered, the copy stays whatever happens (Ctrl+Q, a hang-up): only Discard
            # removes it. Esc recovers: the file and the recovered text both stay, nothing is lost.
            self.recovery_pending = True
            self.app.push_screen(
                Choice(f"Text not saved when the editor last closed ({recovery.describe()}, "
                       f"{len(recovery.text):,} characters). Recover it?",
                       [("recover", "Recover"), ("discard", "Discard")], escape="recover"),
                lambda answer: self._recover(answer, recovery.text))

    def _warn_if_long(self, path: Path | None, text: str) -> None:
        # Textual's TextArea wraps every line of the document in Python when it opens it and at every
        # resize: ~0.5 s a megabyte here, 9-12 s at 20 MB (docs/experiments.md, 2026-12-05).
        lines = self.editor.document.line_count
        if lines > LONG_DOCUMENT_LINES or len(text) > LONG_DOCUMENT_CHARS:
            self.notify(f"{shown(path.name) if path else 'this text'} is long ({lines:,} lines, {len(text):,} "
                        "characters): opening it and resizing the window take seconds (typing does not); "
                        "split it into smaller files to avoid the wait",
                        severity="warning", timeout=20)

    def _recover(self, answer: str, text: str) -> None:
        self.recovery_pending = False
        if answer == "recover":
            self.editor.load_text(text)  # unsaved: the recovered text is not in the file
            self.editor.move_cursor(self.editor.document.end)
            self._adapt_anew()
        else:
            self.autosave.clear()

    @on(TextArea.Changed)
    def _note_change(self) -> None:
        # Comparing the whole text costs O(document): per keystroke only until the first change
        # shows. Back to the saved text (undo) shows at the next check: autosave's, or a quit's.
        self.edited_since_copy = True
        if not self.unsaved:
            self.check_unsaved()

    def check_unsaved(self) -> bool:
        """Compare the text with the saved file now, and say whether it differs."""
        self.unsaved = self.editor.text != self.saved_text
        return self.unsaved

    def write_autosave(self) -> None:
        """Keep a crash copy of unsaved text (every few seconds, and when the terminal goes away)."""
        if self.check_unsaved():  # the editor keeps its text joined until the next edit: no second join
            try:
                self.autosave.write(self.editor.text)
            except (UserError, OSError) as error:  # a full disk: say so, and try again at the next tick
                why = say(error) if isinstance(error, UserError) else shown(error)
                self.notify(f"no autosave copy: {why}", severity="error")
                return
        self.edited_since_copy = False

    def _autosave_if_edited(self) -> None:
        # An idle editor has nothing new to keep, and a copy of a long text takes long on this
        # thread (20 MB: ~0.2 s, most of it JSON's encoding).
        if self.edited_since_copy:
            self.write_autosave()

    def action_save(self) -> None:
        if self.document is None:
            self.app.push_screen(PathPrompt("Save as:", "", _document_problem),
                                 lambda path: path and self.save(Path(path)))
        else:
            self.save(self.document)

    def save(self, path: Path) -> bool:
        text = self.editor.text
        try:
            save_document(path, text, self.encoding)
        except (UserError, OSError) as error:
            self.notify(f"not saved: {say(error) if isinstance(error, UserError) else shown(error)}", severity="error")
            self.write_autosave()  # the text stays in the editor, and in the crash copy
            return False
        self.autosave.clear()  # the copy under the name the text had (untitled, or another file's)
        if self.words is not None and self.words.paused and path != self.document:
            self.memory.pause(path)  # an untitled text's pause goes on with its name
        self.document, self.saved_text, self.unsaved = path, text, False
        self.autosave.clear()  # and any copy left under the new name
        return True

    def discard_changes(self) -> None:
        """The user chose to quit without saving: the autosave copy goes too, unless it is the text
        the recovery question still offers (the user has not chosen to discard that one)."""
        if not self.recovery_pending:
            self.autosave.clear()

    def action_open_document(self) -> None:
        if self.check_unsaved():
            self.notify("save first (ctrl+s): this document has unsaved changes", severity="warning")
            return
        self.app.push_screen(PathPrompt(f"Open a {self.encoding} text file:", "", _document_problem),
                             lambda path: path and self._open_checked(Path(path)))

    def _open_checked(self, path: Path) -> None:
        try:
            self._open(path)
        except UserError as error:  # the app's own remedy for an encoding names the training form's field
            self.notify(shown(word(error, str, {NotDecodable: _open_in_its_encoding})), severity="error")

    # --- status line ------------------------------------------------------------------------
    def _show_status(self) -> None:
        name = shown(self.document.name) if self.document else "untitled"
        saved = " (modified)" if self.unsaved else ""
        auto = "on" if self.editor.autocomplete else "off"
        model = f"{shown(self.model_name)} {self.model_note}".strip()
        mode = (f"predict ≥{self.threshold:.0%}" if self.suggest_mode == PREDICT
                else f"sample, temperature {self.temperature:.1f}") + (", adapting" if self.adapting else "")
        self.query_one("#status", Static).update(f" {name}{saved} │ model: {model} │ {mode} │ autocomplete {auto}")


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


def _open_in_its_encoding(error: NotDecodable) -> str:
    """What to do about a file that is not in the editor's encoding (the writing screen's own remedy)."""
    example = ", e.g. --encoding latin-1" if error.utf8 else ""
    return f"start the editor with the file's encoding: chargen-tui write --file FILE --encoding NAME{example}"


def _document_problem(path: str) -> str | None:
    if not path:
        return "give a file name"
    if Path(path).is_dir():
        return f"{shown(path)} is a folder: give a file name"
    return None
