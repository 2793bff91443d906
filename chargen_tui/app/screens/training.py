"""The training screen: settings, Start / Stop / Resume, and the run shown live.

Keras `fit` runs in a thread worker and reports through the engine's events, posted here as
messages (thread-safe, never waiting). Batch progress arrives hundreds of times a second; the
messages merge and the widgets are redrawn at most 10 times a second, so a slow SSH link keeps up.
In watch mode the same widgets follow a run folder that another process is writing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import fields
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from ...config import FIXED_ON_RESUME
from ...corpus import DEFAULT_CORPUS_NAME
from ...errors import UserError
from ...events import (BatchProgress, CheckpointSaved, EpochEnd, Failed, Finished, Samples, Stopped,
                       TrainingStarted, duration, position)
from ...run_dir import RunDir, prepare_run
from ..widgets.loss_chart import LossChart
from ..widgets.samples_view import SamplesView
from ..widgets.settings_form import SettingsForm

REDRAW_SECONDS = 0.1  # 10 Hz at most
WATCH_SECONDS = 1.0
_BATCH_POINTS_PER_EPOCH = 100  # the running-loss line keeps this many points per epoch


class EngineEvent(Message):
    """An event of the training engine, from the worker thread."""

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Only the newest of several pending progress reports matters.
        return isinstance(message, EngineEvent) and isinstance(message.event, BatchProgress) \
            and isinstance(self.event, BatchProgress)


class TrainingScreen(Screen):
    BINDINGS = [
        Binding("f5", "start", "Start"),
        Binding("f6", "resume", "Resume"),
        Binding("f7", "stop", "Stop"),
        Binding("ctrl+t", "app.switch_mode('write')", "Write"),
    ]

    def __init__(self, watch: RunDir | None = None) -> None:
        super().__init__()
        self.watch = watch
        self.stop_event = threading.Event()
        self.worker: Worker | None = None
        self.epochs = 0
        self.progress: BatchProgress | None = None
        self.points: dict[str, list[tuple[float, float]]] = {"batch": [], "train": [], "val": []}
        self.needs_redraw = False
        self.watched_stamp: tuple = (None, None, None)

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="progress" if self.watch else "setup"):
            with TabPane("Setup", id="setup"):
                yield SettingsForm(id="form")
                with Horizontal(id="buttons"):
                    yield Button("Start (F5)", id="start", compact=True)
                    yield Button("Resume (F6)", id="resume", compact=True)
                    yield Button("Stop (F7)", id="stop", compact=True, disabled=True)
                yield Static(id="setup-message", classes="message")
            with TabPane("Progress", id="progress"):
                yield Static("not started: set up a run and press F5", id="progress-line")
                yield ProgressBar(id="bar", show_eta=False)
                yield Static(id="run-status", classes="message")
                yield LossChart(id="chart")
                yield SamplesView(id="samples")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.set_interval(REDRAW_SECONDS, self._redraw)
        if self.watch:
            for button in self.query(Button):
                button.disabled = True
            self.query_one(SettingsForm).show(self.watch.read_config(), self.watch.path)
            self.query_one(SettingsForm).set_enabled(False)
            self._poll_run()
            self.set_interval(WATCH_SECONDS, self._poll_run)
        else:
            self.query_one("#corpus", Input).focus()  # typing goes straight into the first field

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # --- Start / Resume / Stop --------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"start": self.action_start, "resume": self.action_resume, "stop": self.action_stop}[event.button.id]()

    def action_start(self) -> None:
        self._begin(resume=False)

    def action_resume(self) -> None:
        self._begin(resume=True)

    def action_stop(self) -> None:
        if self.running and not self.stop_event.is_set():
            self.stop_event.set()
            self._status("stopping after this batch (a checkpoint is kept)...")

    def _begin(self, resume: bool) -> None:
        if self.watch or self.running:
            return
        form = self.query_one(SettingsForm)
        try:
            changes = form.changes()
            run_dir = RunDir(form.run_folder())
            if resume:  # the run keeps its own settings; only the others (epochs, time limit...) apply
                changes = {k: v for k, v in changes.items() if k not in FIXED_ON_RESUME and k != "corpus"}
                if not run_dir.has_run():
                    raise UserError(f"{run_dir.path} holds no run to resume: press Start for a new one")
            config, text = prepare_run(run_dir, changes, resume)
        except UserError as error:
            self.query_one("#setup-message", Static).update(f"[b red]error:[/] {error}")
            return
        form.show(config, run_dir.path)
        self.query_one("#setup-message", Static).update("")
        self.stop_event.clear()
        self._set_running(True)
        self.query_one(TabbedContent).active = "progress"
        self._status(f"starting TensorFlow for {run_dir.path}...")
        self.worker = self._train(config, text, run_dir, resume)

    @work(thread=True, exit_on_error=False, exclusive=True, group="training")
    def _train(self, config, text: str, run_dir: RunDir, resume: bool):
        from ...training import train  # imports TensorFlow: in this thread, never on the UI's

        return train(config, text, run_dir, lambda event: self.post_message(EngineEvent(event)),
                     resume=resume, stop=self.stop_event, corpus_name=config.corpus or DEFAULT_CORPUS_NAME)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self._set_running(False)
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self._status(f"[b red]error:[/] {error}" if isinstance(error, UserError)
                         else f"[b red]error:[/] training failed: {type(error).__name__}: {error}")

    def _set_running(self, running: bool) -> None:
        self.query_one("#start", Button).disabled = running
        self.query_one("#resume", Button).disabled = running
        self.query_one("#stop", Button).disabled = not running
        self.query_one(SettingsForm).set_enabled(not running)

    def on_input_changed(self) -> None:
        """Say what is wrong with the settings as they are typed (wrong fields turn red too)."""
        results = [field.validate(field.value) for field in self.query_one(SettingsForm).query(Input)]
        problems = [result.failure_descriptions[0] for result in results if result and not result.is_valid]
        self.query_one("#setup-message", Static).update(f"[b red]error:[/] {problems[0]}" if problems else "")

    # --- events from the engine -------------------------------------------------------------
    def on_engine_event(self, message: EngineEvent) -> None:
        event = message.event
        if isinstance(event, TrainingStarted):
            self.epochs = event.epochs
            resumed_at = event.start_epoch - 1 + event.resumed_batches / event.batches_per_epoch
            self.points["batch"] = [p for p in self.points["batch"] if p[0] <= resumed_at]
            self._show_history(RunDir(event.run_dir))
            self._status(f"training {event.parameters:,} parameters on {event.corpus_name} "
                         f"({event.train_chars:,} characters, {event.vocab_size} tokens)")
        elif isinstance(event, BatchProgress):
            self._add_progress(event)
        elif isinstance(event, EpochEnd):
            self.points["train"].append((event.epoch, event.loss))
            self.points["val"].append((event.epoch, event.val_loss))
            self.needs_redraw = True
        elif isinstance(event, Samples):
            self.query_one(SamplesView).add(event.epoch, event.prefix, {str(t): s for t, s in event.texts.items()})
        elif isinstance(event, CheckpointSaved):
            if event.best_path:
                self.app.last_run = RunDir(Path(event.best_path).parent)
            best = " and the best model" if event.best_path else ""
            self._status(f"saved a checkpoint{best} ({position(event.epochs_done, event.batches_done)})")
        elif isinstance(event, (Stopped, Finished, Failed)):
            self._status(_ending(event))

    def _add_progress(self, progress: BatchProgress) -> None:
        self.progress = progress
        x = progress.epoch - 1 + progress.batch / progress.batches
        batch_line = self.points["batch"]
        if not batch_line or x - batch_line[-1][0] >= 1 / _BATCH_POINTS_PER_EPOCH:
            batch_line.append((x, progress.loss))
        self.needs_redraw = True

    def _redraw(self) -> None:
        if not self.needs_redraw:
            return
        self.needs_redraw = False
        self.query_one(LossChart).set_points({name: list(points) for name, points in self.points.items()})
        progress = self.progress
        if progress is None:
            return
        self.query_one("#progress-line", Static).update(_progress_line(progress, self.epochs))
        self.query_one(ProgressBar).update(total=progress.batches, progress=progress.batch)

    def _show_history(self, run_dir: RunDir) -> None:
        """Earlier epochs of the run (a resumed one has some) from its files."""
        metrics = run_dir.read_metrics()
        self.points["train"] = [(row["epoch"], row["loss"]) for row in metrics]
        self.points["val"] = [(row["epoch"], row["val_loss"]) for row in metrics]
        samples = self.query_one(SamplesView)
        for row in run_dir.read_samples():
            samples.add(row["epoch"], row["prefix"], row["texts"])
        self.needs_redraw = True

    def _status(self, text: str) -> None:
        self.query_one("#run-status", Static).update(text)

    # --- watch mode -------------------------------------------------------------------------
    def _poll_run(self) -> None:
        run_dir = self.watch
        stamp = tuple(_mtime(path) for path in (run_dir.metrics_path, run_dir.samples_path, run_dir.progress_path))
        if stamp[:2] != self.watched_stamp[:2]:
            self.epochs = run_dir.read_config().epochs  # a resumed run may have been given more
            self._show_history(run_dir)
        if stamp[2] != self.watched_stamp[2] and (progress := run_dir.read_progress()):
            self._add_progress(BatchProgress(**{f.name: progress[f.name] for f in fields(BatchProgress)}))
        self.watched_stamp = stamp
        updated = max(stamp) if any(stamp) else None
        age = f"updated {duration(time.time() - updated)} ago" if updated else "nothing written yet"
        self._status(f"watching {run_dir.path} · {age} · read only: ctrl+q leaves the run going")


def _progress_line(progress: BatchProgress, epochs: int) -> str:
    eta = duration(progress.eta_seconds)
    return (f"epoch {progress.epoch}/{epochs or '?'} · batch {progress.batch:,}/{progress.batches:,} · "
            f"loss {progress.loss:.3f} · {progress.chars_per_sec:,.0f} chars/s · ETA {eta}")


def _ending(event) -> str:
    if isinstance(event, Finished):
        best = f"; best validation loss {event.best_val_loss:.4f}" if event.best_val_loss is not None else ""
        return f"[b green]finished[/] {event.epochs} epochs{best}: ctrl+t to write with it"
    if isinstance(event, Stopped):
        return f"[b yellow]stopped[/] ({event.reason}), {position(event.epochs_done, event.batches_done)}: " \
               "F6 resumes from there"
    return f"[b red]failed:[/] {event.message}"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
