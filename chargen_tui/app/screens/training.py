"""The training screen: settings, Start / Stop / Resume, and the run shown live.

Keras `fit` runs in a thread worker and reports through the engine's events, posted here as
messages (thread-safe, never waiting). Batch progress arrives hundreds of times a second; the
messages merge and the widgets are redrawn at most 10 times a second, so a slow SSH link keeps up.
In watch mode the same widgets follow a run folder that another process is writing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from ...config import knobs
from ...errors import UserError
from ...events import (ONE_TEXT, BatchProgress, CheckpointSaved, EpochEnd, Event, Failed, Finished, Samples,
                       Stopped, TrainingStarted, controls_removed, duration, position, started_from)
from ...plan import RunPlan, plan_run
from ...run_dir import RunDir
from ..keys import also_in_a_browser
from ..wording import say, say_failed, shown
from ..widgets.loss_chart import LossChart
from ..widgets.samples_view import SamplesView
from ..widgets.settings_form import SettingsForm

REDRAW_SECONDS = 0.1  # 10 Hz at most
WATCH_SECONDS = 1.0
TRAINING_NICENESS = 10  # a training in the app yields the CPU to typing (measured: docs/experiments.md)
_BATCH_POINTS_PER_EPOCH = 100  # the running-loss line keeps this many points per epoch


@dataclass
class EngineEvent(Message):
    """An event of the training engine, from the worker thread."""

    event: Event

    def can_replace(self, message: Message) -> bool:
        # Only the newest of several pending progress reports matters.
        return isinstance(message, EngineEvent) and isinstance(message.event, BatchProgress) \
            and isinstance(self.event, BatchProgress)


class TrainingScreen(Screen):
    BINDINGS = [
        Binding(also_in_a_browser("f5"), "start", "Start"),
        Binding("f6", "resume", "Resume"),
        Binding("f7", "stop", "Stop"),
        Binding(also_in_a_browser("ctrl+t"), "app.switch_mode('write')", "Write"),
    ]

    @dataclass
    class BestModelSaved(Message):
        """Training saved a model better than the run's earlier ones: the one to write with next."""

        run: RunDir

    def __init__(self, watched: RunDir | None = None) -> None:
        super().__init__()
        self.watched = watched  # a run another process trains: shown, read only
        self.stop_event = threading.Event()
        self.worker: Worker | None = None
        self.epochs = 0
        self.progress: BatchProgress | None = None
        self.points: dict[str, list[tuple[float, float]]] = {"batch": [], "train": [], "val": []}
        self.needs_redraw = False
        self.watched_stamp: tuple = (None, None, None)

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="progress" if self.watched else "setup"):
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
        if self.watched:
            for button in self.query(Button):
                button.disabled = True
            self.query_one(SettingsForm).show(self.watched.read_config(), self.watched.path)
            self.query_one(SettingsForm).set_enabled(False)
            self._poll_run()
            self.set_interval(WATCH_SECONDS, self._poll_run)
        else:
            self.query_one("#corpus", Input).focus()  # typing goes straight into the first field

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # --- Start / Resume / Stop --------------------------------------------------------------
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        self._begin(resume=False)

    @on(Button.Pressed, "#resume")
    def action_resume(self) -> None:
        self._begin(resume=True)

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        if self.running and not self.stop_event.is_set():
            self.stop_event.set()
            self._status("stopping after this batch (a checkpoint is kept)...")

    def _begin(self, resume: bool) -> None:
        if self.watched or self.running:
            return
        form = self.query_one(SettingsForm)
        try:
            changes = form.changes()
            if resume:  # the run keeps its own settings; only the others (epochs, time limit...) apply
                fixed = {name for name, knob in knobs().items() if knob.fixed_on_resume}
                changes = {k: v for k, v in changes.items() if k not in fixed and k != "corpus"}
            plan = plan_run(RunDir(form.run_folder()), changes, resume)
        except UserError as error:
            self.query_one("#setup-message", Static).update(f"[b red]error:[/] {say(error)}")
            return
        form.show(plan.config, plan.run.path)
        self.query_one("#setup-message", Static).update("")
        self.stop_event.clear()
        self._set_running(True)
        self.query_one(TabbedContent).active = "progress"
        self._status(f"starting TensorFlow for {shown(plan.run.path)}...")
        self.worker = self._train(plan)

    @work(thread=True, exit_on_error=False, exclusive=True, group="training")
    def _train(self, plan: RunPlan):
        # Below the UI and the suggestions in the CPU's queue: the threads TensorFlow starts from
        # here, and the data workers forked from it, take this thread's niceness. (Linux: a thread's
        # id is a process id there; elsewhere the id could name another process.)
        if sys.platform == "linux":
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICENESS)
        from ...training import train  # imports TensorFlow: in this thread, never on the UI's

        return train(plan, lambda event: self.post_message(EngineEvent(event)), stop=self.stop_event)

    @on(Worker.StateChanged)
    def _training_ended(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self._set_running(False)
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self._status(f"[b red]error:[/] {say(error)}" if isinstance(error, UserError)
                         else f"[b red]error:[/] training failed: {type(error).__name__}: {shown(error)}")

    def _set_running(self, running: bool) -> None:
        self.query_one("#start", Button).disabled = running
        self.query_one("#resume", Button).disabled = running
        self.query_one("#stop", Button).disabled = not running
        self.query_one(SettingsForm).set_enabled(not running)

    @on(Input.Changed)
    def _check_settings(self) -> None:
        """Say what is wrong with the settings as they are typed (wrong fields turn red too)."""
        results = [field.validate(field.value) for field in self.query_one(SettingsForm).query(Input)]
        problems = [result.failure_descriptions[0] for result in results if result and not result.is_valid]
        self.query_one("#setup-message", Static).update(f"[b red]error:[/] {shown(problems[0])}" if problems else "")

    # --- events from the engine -------------------------------------------------------------
    @on(EngineEvent)
    def _show_event(self, message: EngineEvent) -> None:
        match message.event:
            case TrainingStarted() as started:
                self._show_start(started)
            case BatchProgress() as progress:
                self._add_progress(progress)
            case EpochEnd(epoch=epoch, loss=loss, val_loss=val_loss):
                self.points["train"].append((epoch, loss))
                self.points["val"].append((epoch, val_loss))
                self.needs_redraw = True
            case Samples(epoch=epoch, prefix=prefix, texts=texts):
                self.query_one(SamplesView).add(epoch, prefix, {str(t): sample for t, sample in texts.items()})
            case CheckpointSaved() as saved:
                self._show_checkpoint(saved)
            case Stopped() | Finished() | Failed() as ending:
                self._status(_ending(ending))

    def _show_start(self, started: TrainingStarted) -> None:
        self.epochs = started.epochs
        resumed_at = started.start_epoch - 1 + started.resumed_batches / started.batches_per_epoch
        self.points["batch"] = [p for p in self.points["batch"] if p[0] <= resumed_at]
        self._show_history(RunDir(started.run_dir))
        texts = f"{started.texts:,} texts, " if started.texts is not None else ""
        self._status(f"training {started.parameters:,} parameters on {shown(started.corpus_name)} "
                     f"({texts}{started.train_chars:,} characters, {started.vocab_size} tokens)"
                     + (f" on {started.devices}" if started.devices else ""))
        if started.base:
            self.notify(f"starting from {shown(started_from(started))}")
        if started.texts == 1:
            self.notify(ONE_TEXT, severity="warning")
        if started.controls_removed:
            self.notify(f"{controls_removed(started.controls_removed)} (the keep control switch keeps them)")

    def _show_checkpoint(self, saved: CheckpointSaved) -> None:
        if saved.best_path:
            self.post_message(self.BestModelSaved(RunDir(Path(saved.best_path).parent)))
        best = " and the best model" if saved.best_path else ""
        self._status(f"saved a checkpoint{best} ({position(saved.epochs_done, saved.batches_done)})")

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
        run_dir = self.watched
        stamp = tuple(_mtime(path) for path in (run_dir.metrics_path, run_dir.samples_path, run_dir.progress_path))
        if stamp[:2] != self.watched_stamp[:2]:
            self.epochs = run_dir.read_config().epochs  # a resumed run may have been given more
            self._show_history(run_dir)
        if stamp[2] != self.watched_stamp[2] and (progress := run_dir.read_progress()):
            self._add_progress(BatchProgress(**{f.name: progress[f.name] for f in fields(BatchProgress)}))
        self.watched_stamp = stamp
        updated = max(stamp) if any(stamp) else None
        age = f"updated {duration(time.time() - updated)} ago" if updated else "nothing written yet"
        self._status(f"watching {shown(run_dir.path)} · {age} · read only: ctrl+q leaves the run going")


def _progress_line(progress: BatchProgress, epochs: int) -> str:
    eta = duration(progress.eta_seconds)
    return (f"epoch {progress.epoch}/{epochs or '?'} · batch {progress.batch:,}/{progress.batches:,} · "
            f"loss {progress.loss:.3f} · {progress.chars_per_sec:,.0f} chars/s · ETA {eta}")


def _ending(event: Stopped | Finished | Failed) -> str:
    match event:
        case Finished(epochs=epochs, best_val_loss=best_val_loss):
            best = f"; best validation loss {best_val_loss:.4f}" if best_val_loss is not None else ""
            return f"[b green]finished[/] {epochs} epochs{best}: ctrl+t to write with it"
        case Stopped(reason=reason, epochs_done=epochs_done, batches_done=batches_done):
            return f"[b yellow]stopped[/] ({reason}), {position(epochs_done, batches_done)}: F6 resumes from there"
        case Failed():
            return f"[b red]failed:[/] {say_failed(event)}"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
