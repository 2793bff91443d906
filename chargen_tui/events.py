"""What a training run reports, as plain frozen dataclasses.

The training loop calls a subscriber with these; the CLI prints them, the app shows them. They live
apart from `training.py` so that a reader of events (the app's first paint) need not import
TensorFlow. `epoch` is the epoch a report is about, counted from 1 as a person counts; where
training stands is `epochs_done` (finished epochs) and `batches_done` (batches of the next one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union


def bits(nats: float) -> float:
    """Nats per character (Keras' cross-entropy) in bits per character."""
    return nats / math.log(2)


def duration(seconds: float | None) -> str:
    """Seconds as m:ss or h:mm:ss ("?" when unknown)."""
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def position(epochs_done: int, batches_done: int) -> str:
    """Where training stands, as a person says it: "after epoch 3" or "epoch 4, batch 120"."""
    return f"epoch {epochs_done + 1}, batch {batches_done}" if batches_done else f"after epoch {epochs_done}"


ONE_TEXT = "the texts mode finds one text only in this corpus: it trains as one long text"


def controls_removed(count: int) -> str:
    return (f"removed {count:,} terminal escape sequence{'s' if count != 1 else ''} and control "
            "characters from the corpus, so that the model never learns to write them")


def started_from(started: "TrainingStarted") -> str:
    """Which model a fine-tuned run starts from, and what it added to the model's vocabulary."""
    base = "the shipped model" if started.base == "default" else started.base
    added = f"{started.new_chars:,} new character{'s' if started.new_chars != 1 else ''}"
    return f"{base}'s weights, with {added if started.new_chars else 'no new characters'}"


@dataclass(frozen=True)
class TrainingStarted:
    run_dir: str
    corpus_name: str
    corpus_chars: int
    texts: int | None  # how many texts the corpus was cut into; None: one stream
    controls_removed: int  # terminal escape sequences and control characters taken out of the corpus
    train_chars: int
    val_chars: int
    vocab_size: int
    parameters: int
    epochs: int
    batches_per_epoch: int
    start_epoch: int  # 1 for a new run; later for a resumed one
    resumed_batches: int  # batches of start_epoch already done before this session
    base: str | None = None  # the model a new run started from ("default" or a folder); None: random weights
    new_chars: int = 0  # characters the base lacked, added to its vocabulary
    devices: str | None = None  # where it trains when that is not this machine's CPU: "GPU", "2 GPUs", ...


@dataclass(frozen=True)
class BatchProgress:
    epoch: int
    batch: int  # batches done in this epoch, counting those before a resume
    batches: int
    loss: float  # running mean over this epoch (this session's part of it)
    chars_per_sec: float  # training target characters per second, this epoch, after its first batch
    eta_seconds: float | None


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    loss: float  # nats per character, mean over the epoch's training batches
    val_loss: float
    seconds: float
    chars_per_sec: float
    is_best: bool


@dataclass(frozen=True)
class Samples:
    epoch: int
    prefix: str  # the training text the samples continue ("" in a texts run: they are whole new texts)
    texts: dict[float, str]  # temperature -> continuation


@dataclass(frozen=True)
class CheckpointSaved:
    epochs_done: int
    batches_done: int  # of the next epoch (after a mid-epoch stop)
    path: str
    best_path: str | None  # model.keras, when this epoch improved the validation loss


@dataclass(frozen=True)
class Stopped:
    reason: str  # "stop requested" or "time limit"
    epochs_done: int
    batches_done: int


@dataclass(frozen=True)
class Finished:
    epochs: int
    best_val_loss: float | None


@dataclass(frozen=True)
class Failed:
    """The loss became NaN or exploded; nothing was saved from the epoch it happened in."""
    epoch: int
    loss: float

    def describe(self) -> str:
        what = "became NaN" if math.isnan(self.loss) else f"exploded to {self.loss:.3g}"
        return f"the loss {what} in epoch {self.epoch}; the last good checkpoint is kept"


Event = Union[TrainingStarted, BatchProgress, EpochEnd, Samples, CheckpointSaved, Stopped, Finished, Failed]
Subscriber = Callable[[Event], None]
