"""How `chargen-tui train` shows training events: Rich live progress on a terminal, plain lines elsewhere."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from .control import printable
from .events import (ONE_TEXT, BatchProgress, CheckpointSaved, EpochEnd, Event, Failed, Finished, Samples,
                     Stopped, TrainingStarted, bits, controls_removed, duration, position, started_from)


class TrainingReport:
    """A subscriber for `training.train`: call it with each event.

    Piped output (logs, CI) gets a plain progress line every `plain_every` seconds within an epoch,
    so a long epoch still shows signs of life, instead of a live bar.
    """

    def __init__(self, console: Console, plain_every: float = 30.0):
        self.console = console
        self.live = console.is_terminal or console.is_jupyter  # Rich draws live progress in a notebook too
        self.plain_every = plain_every
        self.last_plain = time.monotonic()
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.epochs = 0

    def __call__(self, event: Event) -> None:
        match event:
            case TrainingStarted():
                self._started(event)
            case BatchProgress():
                self._progress(event)
            case EpochEnd():
                self._epoch_end(event)
            case Samples():
                self._samples(event)
            case CheckpointSaved():
                self._checkpoint(event)
            case Stopped() | Finished() | Failed():
                self.close()
                self.console.print(_ending(event), highlight=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _started(self, e: TrainingStarted) -> None:
        self.epochs = e.epochs
        where = f"resuming at epoch {e.start_epoch}" + (f", batch {e.resumed_batches + 1}" if e.resumed_batches
                                                       else "")
        self.console.print(
            f"[bold]{_shown(e.corpus_name)}[/]: {f'{e.texts:,} texts, ' if e.texts is not None else ''}"
            f"{e.corpus_chars:,} characters ({e.train_chars:,} train, "
            f"{e.val_chars:,} validation), {e.vocab_size} tokens; model {e.parameters:,} parameters; "
            f"{e.batches_per_epoch:,} batches an epoch{f' on {e.devices}' if e.devices else ''}; "
            f"{where if e.start_epoch > 1 or e.resumed_batches else 'new run'} -> {_shown(e.run_dir)}",
            highlight=False)
        if e.base:
            self.console.print(f"starting from {_shown(started_from(e))}", highlight=False)
        if e.texts == 1:
            self.console.print(f"note: {ONE_TEXT}", highlight=False)
        if e.controls_removed:
            self.console.print(f"note: {controls_removed(e.controls_removed)} (--keep-control keeps them)",
                               highlight=False)

    def _progress(self, e: BatchProgress) -> None:
        if not self.live:
            if time.monotonic() - self.last_plain >= self.plain_every:
                self.last_plain = time.monotonic()
                self.console.print(f"epoch {e.epoch}/{self.epochs or '?'}  batch {e.batch}/{e.batches}  loss {e.loss:.4f}  "
                                   f"{e.chars_per_sec:,.0f} chars/s  ETA {duration(e.eta_seconds)}",
                                   highlight=False)
            return
        if self.progress is None:
            self.progress = Progress(
                TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.3f}"),
                TextColumn("{task.fields[speed]:,.0f} chars/s"), TextColumn("ETA {task.fields[eta]}"),
                console=self.console, transient=True, refresh_per_second=4)
            self.progress.start()
            self.task = self.progress.add_task("", total=e.batches, epoch=e.epoch, epochs=self.epochs or "?",
                                               loss=e.loss, speed=e.chars_per_sec, eta="?")
        self.progress.update(self.task, completed=e.batch, total=e.batches, epoch=e.epoch, loss=e.loss,
                             speed=e.chars_per_sec, eta=duration(e.eta_seconds))

    def _epoch_end(self, e: EpochEnd) -> None:
        self.close()
        self.last_plain = time.monotonic()
        best = "  [green]best[/]" if e.is_best else ""
        self.console.print(
            f"epoch {e.epoch}/{self.epochs or '?'}  loss {e.loss:.4f} ({bits(e.loss):.3f} bits/char)  "
            f"val {e.val_loss:.4f} ({bits(e.val_loss):.3f} bits/char)  {e.chars_per_sec:,.0f} chars/s  "
            f"{e.seconds:.1f} s{best}", highlight=False)

    def _samples(self, e: Samples) -> None:
        prefix_tail = "…" + e.prefix[-40:].replace("\n", "↵") if e.prefix else ""  # its end as one line, for context
        for temperature, text in e.texts.items():
            self.console.rule(f"[dim]epoch {e.epoch} sample, temperature {temperature:g}", align="left",
                              style="dim")
            self.console.print(Text.assemble((printable(prefix_tail), "dim"), (printable(text), "bold")),
                               soft_wrap=True)

    def _checkpoint(self, e: CheckpointSaved) -> None:
        best = f"; best model -> {_shown(e.best_path)}" if e.best_path else ""
        self.console.print(f"[dim]checkpoint ({position(e.epochs_done, e.batches_done)}) -> {_shown(e.path)}{best}[/]",
                           highlight=False)


def _shown(text: str) -> str:
    """A string from outside (a path, a corpus' name) in Rich markup: its control characters as
    pictures, its brackets as text."""
    return escape(printable(text))


def _ending(event: Stopped | Finished | Failed) -> str:
    match event:
        case Stopped(reason=reason):
            return f"stopped ({reason}); continue with the same command and --resume"
        case Finished(epochs=epochs, best_val_loss=best):
            best_text = f"; best validation loss {best:.4f} nats/char ({bits(best):.3f} bits)" if best is not None else ""
            return f"[bold green]done[/]: {epochs} epoch{'s' if epochs != 1 else ''}{best_text}"
        case Failed():
            return f"[bold red]error:[/] {event.describe()}: start a new --out with a lower --learning-rate"
