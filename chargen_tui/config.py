"""Every knob of a training run, in one dataclass (as nanoGPT keeps its knobs in one place).

The CLI builds its flags from these fields, the run folder stores them as `config.json`, and the
app will show them with their defaults. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import UserError


@dataclass
class Config:
    # Corpus
    corpus: str | None = None  # a text file; None trains on the embedded default corpus
    encoding: str = "utf-8"
    # Data
    seq_len: int = 50  # characters of context per training window (and the generation window)
    batch_size: int = 64
    val_fraction: float = 0.1  # the last part of the corpus, contiguous, never trained on
    # Model
    embedding_dim: int = 64
    units: int = 256
    layers: int = 1
    dropout: float = 0.2
    # Optimisation
    learning_rate: float = 3e-3
    clipnorm: float = 5.0  # gradient clipping by global norm keeps a char-LSTM from exploding
    weight_decay: float = 0.1  # AdamW's decoupled decay: the model overfits late in a 10-minute run
    ema_momentum: float = 0.998  # the saved model is this moving average of the weights; 0 = none
    # Cosine decay over the first `epochs` (by optimizer step) to this fraction of the rate; 1 = none
    final_lr_fraction: float = 0.1
    mixed_precision: bool = True  # bfloat16 products where the CPU has them natively; float32 weights
    epochs: int = 23  # tinyshakespeare: 23 epochs fit in 10 minutes on 2 cores (README, Quality: Q4)
    seed: int = 0  # fixes initial weights, data order and the per-epoch samples
    time_limit: float | None = None  # seconds of training in this session; stops cleanly after
    # Data pipeline (keras.utils.PyDataset)
    workers: int = 1
    use_multiprocessing: bool = True
    max_queue_size: int = 10
    # Per-epoch samples
    sample_length: int = 200
    sample_temperatures: tuple[float, ...] = field(default=(0.2, 0.5, 1.0, 1.2))

    def validate(self) -> "Config":
        """Raise UserError naming the first impossible setting; return self when all are fine."""
        positive = ("seq_len", "batch_size", "embedding_dim", "units", "layers", "epochs",
                    "max_queue_size", "sample_length")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"--{_flag(name)} must be a whole number of at least 1, not {value!r}")
        checks = [
            (0 < self.val_fraction < 0.5, "--val-fraction must be between 0 and 0.5 (e.g. 0.1)"),
            (0 <= self.dropout < 1, "--dropout must be at least 0 and below 1 (e.g. 0.2)"),
            (_finite(self.learning_rate) and self.learning_rate > 0,
             "--learning-rate must be a positive number (e.g. 0.002)"),
            (_finite(self.clipnorm) and self.clipnorm > 0, "--clipnorm must be a positive number"),
            (_finite(self.weight_decay) and self.weight_decay >= 0,
             "--weight-decay must be a number of at least 0 (0 = none)"),
            (_finite(self.ema_momentum) and 0 <= self.ema_momentum < 1,
             "--ema-momentum must be at least 0 and below 1 (e.g. 0.998; 0 = no averaging)"),
            (_finite(self.final_lr_fraction) and 0 <= self.final_lr_fraction <= 1,
             "--final-lr-fraction must be between 0 and 1 (1 = no decay)"),
            (isinstance(self.mixed_precision, bool), "mixed_precision must be true or false"),
            (self.time_limit is None or (_finite(self.time_limit) and self.time_limit > 0),
             "--time-limit must be a positive number of seconds"),
            (isinstance(self.workers, int) and self.workers >= 0,
             "--workers must be 0 (load batches in the training thread) or more"),
            (all(_finite(t) and t >= 0 for t in self.sample_temperatures),
             "sample temperatures must be numbers of at least 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Config":
        """Build from a dict, ignoring keys this version does not know (newer run folders)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name, value in _BEFORE_THE_KNOB.items():
            values.setdefault(name, value)
        if "sample_temperatures" in values:
            values["sample_temperatures"] = tuple(values["sample_temperatures"])
        return cls(**values)

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)


# One line per knob, for `--help` and the app's settings form.
HELP = {
    "epochs": "passes over the training text",
    "seq_len": "characters of context per training window, and the generation window",
    "batch_size": "windows per training step",
    "embedding_dim": "size of each character's learned vector",
    "units": "LSTM units per layer",
    "layers": "stacked LSTM layers",
    "dropout": "dropout after each LSTM layer (0 = off)",
    "learning_rate": "AdamW's step size (its peak: the cosine decay starts from it)",
    "clipnorm": "gradient clipping by global norm",
    "weight_decay": "AdamW's decoupled weight decay (0 = plain Adam)",
    "ema_momentum": "the model evaluated, sampled and saved is a moving average of the weights over "
                    "about 1/(1 - this) steps; 0 = the weights themselves",
    "final_lr_fraction": "the learning rate decays (cosine, by step) over the run's first --epochs to "
                         "this fraction of itself; 1 = constant",
    "mixed_precision": "bfloat16 matrix products (on CPUs with AVX512_BF16 or AMX; float32 weights and "
                       "logits); false = all float32",
    "seed": "fixes the initial weights, the data order and the samples",
    "val_fraction": "the last part of the text, held out for validation",
    "time_limit": "stop cleanly (resumable) after this many seconds of training",
    "workers": "data worker processes (threads with --no-multiprocessing); 0 = the training thread",
    "sample_length": "characters in each per-epoch sample",
}


# Settings that define the model, its optimiser and its data order: a resumed run must keep them.
# The others (epochs, time limit, pipeline, samples) may change between sessions of one run.
FIXED_ON_RESUME = ("seq_len", "batch_size", "val_fraction", "embedding_dim", "units", "layers",
                   "dropout", "learning_rate", "clipnorm", "weight_decay", "ema_momentum",
                   "final_lr_fraction", "mixed_precision", "seed")

# What a run folder written before a knob existed trained with: plain Adam, no weight average.
_BEFORE_THE_KNOB = {"weight_decay": 0.0, "ema_momentum": 0.0}


def resume_config(saved: Config, changes: dict[str, Any]) -> Config:
    """The saved config with `changes` applied, refusing changes a resumed run cannot take."""
    for name in FIXED_ON_RESUME:
        if name in changes and changes[name] != getattr(saved, name):
            raise UserError(f"--{_flag(name)} {changes[name]} differs from this run's {getattr(saved, name)}: "
                            "resume with the run's setting, or start a new --out")
    return saved.replace(**changes).validate()


def knob_type(name: str) -> type:
    """The type of a knob's value: bool, int or float (time_limit, default None, is a float)."""
    default = next(f.default for f in fields(Config) if f.name == name)
    if isinstance(default, bool):
        return bool
    return float if isinstance(default, float) or default is None else int


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _flag(name: str) -> str:
    return name.replace("_", "-")
