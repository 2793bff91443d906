"""Every knob of a training run, each declared once (as nanoGPT keeps its knobs in one block).

A knob is a field of `Config` with its default, a line of help, the values it accepts, whether a
resumed run must keep it, and the value a run folder written before it existed trained with. The
CLI's flags and `--help`, the app's settings form, validation and the resume checks are all
derived from these declarations. The run folder stores the values as `config.json`. Nothing here
imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from .errors import FixedOnResume, SettingError
from .texts import MODES, is_mode

_NOT_SET = object()


@dataclass(frozen=True)
class Check:
    """What a knob accepts: `accepts(value)`, and `requirement` in words ("a number of at least 0")."""
    accepts: Callable[[Any], bool]
    requirement: str


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


WHOLE = Check(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a whole number of at least 1")
POSITIVE = Check(lambda v: _number(v) and v > 0, "a positive number")
AT_LEAST_0 = Check(lambda v: _number(v) and v >= 0, "a number of at least 0")
SWITCH = Check(lambda v: isinstance(v, bool), "true or false")


def _control(char: str) -> bool:
    return char not in "\t\n" and unicodedata.category(char) == "Cc"


def _devices(value: Any) -> bool:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value is None or value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


def between(low: float, high: float, requirement: str, include_high: bool = False) -> Check:
    return Check(lambda v: _number(v) and low <= v and (v <= high if include_high else v < high), requirement)


@dataclass(frozen=True)
class Knob:
    help: str | None  # None: set in code only (not a flag, not in the app's form)
    check: Check | None
    fixed_on_resume: bool  # it defines the run's model, optimiser or data order
    before: Any  # what a run folder from before the knob trained with (_NOT_SET: the default)
    flag: str | None  # the CLI's and the form's name when it is not the field's
    metavar: str | None  # what --help calls its value, when not N, X or NAME
    finetune: Any  # the default of a run that starts from a base model (None: the same default)


def knob(default: Any, help: str | None = None, check: Check | None = None, *, fixed_on_resume: bool = False,
         before: Any = _NOT_SET, flag: str | None = None, metavar: str | None = None, finetune: Any = None) -> Any:
    return field(default=default, metadata={"knob": Knob(help, check, fixed_on_resume, before, flag, metavar,
                                                         finetune)})


@dataclass
class Config:
    corpus: str | None = None  # a text file; None trains on the embedded default corpus
    start_from: str | None = knob(None, "start from a trained model's weights and vocabulary: default (the model "
                                  "that ships with chargen-tui) or a run folder; the text's characters it lacks "
                                  "are added, and the model's size is its own", Check(
                                      lambda v: v is None or (isinstance(v, str) and v.strip() != ""),
                                      "default or a run folder"), fixed_on_resume=True, before=None, flag="from",
                                  metavar="RUN")
    start_from_sha256: str | None = knob(None)  # of the base's model.keras (set by the plan, not the user)
    encoding: str = knob("utf-8", "the corpus' text encoding")
    keep_control: bool = knob(False, "keep terminal escape sequences (colour codes...) and control characters "
                              "other than tab and newline in the corpus; by default they are removed", SWITCH,
                              fixed_on_resume=True, before=True)
    texts: str | None = knob(None, "read the corpus as many short texts, each ended by a token of its own: "
                             "lines (one per line), paragraphs (between blank lines) or sep:LINE (between "
                             "lines equal to LINE, e.g. sep:%); none = one stream",
                             Check(is_mode, MODES), fixed_on_resume=True, before=None, metavar="MODE")
    extra_chars: str = knob("", "characters the vocabulary holds even where the corpus lacks them (a base model "
                            "that others fine-tune: their text's characters are then mostly known)",
                            Check(lambda v: isinstance(v, str) and not any(_control(c) for c in v),
                                  "characters that are not control characters"), fixed_on_resume=True,
                            before="", metavar="CHARS")
    # Data
    # 23 epochs of tinyshakespeare fit in 10 minutes on 2 cores (docs/experiments.md)
    epochs: int = knob(23, "passes over the training text", WHOLE, finetune=10)
    seq_len: int = knob(50, "characters of context per training window, and the generation window", WHOLE,
                        fixed_on_resume=True)
    batch_size: int = knob(64, "windows per training step on each device (the step's global batch is this "
                           "times the devices)", WHOLE, fixed_on_resume=True)
    global_batch_size: int | None = knob(None, before=None)  # batch_size x the devices (set by training)
    # Model
    embedding_dim: int = knob(64, "size of each character's learned vector", WHOLE, fixed_on_resume=True)
    units: int = knob(256, "LSTM units per layer", WHOLE, fixed_on_resume=True)
    layers: int = knob(1, "stacked LSTM layers", WHOLE, fixed_on_resume=True)
    dropout: float = knob(0.2, "dropout after each LSTM layer (0 = off)",
                          between(0, 1, "at least 0 and below 1 (e.g. 0.2)"), fixed_on_resume=True)
    # Optimisation (AdamW; see docs/experiments.md for how each default was chosen)
    learning_rate: float = knob(6e-3, "AdamW's step size (its peak: the cosine decay starts from it)",
                                POSITIVE, fixed_on_resume=True)
    final_lr_fraction: float = knob(0.1, "the learning rate decays (cosine, by step) over the run's first "
                                    "epochs to this fraction of itself; 1 = constant",
                                    between(0, 1, "between 0 and 1 (1 = no decay)", include_high=True),
                                    fixed_on_resume=True)
    # Clipping keeps a char-LSTM from exploding; weight decay answers its overfitting late in a run.
    clipnorm: float = knob(5.0, "gradient clipping: each weight's gradient to at most this norm (Keras' "
                       "clipnorm; on several devices, each device's share of it)", POSITIVE, fixed_on_resume=True)
    weight_decay: float = knob(0.1, "AdamW's decoupled weight decay (0 = plain Adam)", AT_LEAST_0,
                               fixed_on_resume=True, before=0.0)
    ema_momentum: float = knob(0.998, "the model evaluated, sampled and saved is a moving average of the weights "
                               "over about 1/(1 - this) steps; 0 = the weights themselves",
                               between(0, 1, "at least 0 and below 1 (e.g. 0.998; 0 = no averaging)"),
                               fixed_on_resume=True, before=0.0)
    sampled_softmax: int = knob(512, "a vocabulary over 4 times this size (Chinese, Japanese) trains its output "
                                "layer against this many sampled characters, not all: several times faster; "
                                "validation and generation use them all; 0 = always all",
                                Check(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                                      "0 (always the full softmax) or more"), fixed_on_resume=True, before=0)
    mixed_precision: bool = knob(True, "bfloat16 matrix products (on CPUs with AVX512_BF16 or AMX; float32 "
                                 "weights and logits); false = all float32", SWITCH, fixed_on_resume=True)
    seed: int = knob(0, "fixes the initial weights, the data order and the samples",
                     Check(lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
                     fixed_on_resume=True)
    val_fraction: float = knob(0.1, "the last part of the text, held out for validation",
                               Check(lambda v: _number(v) and 0 < v < 0.5, "between 0 and 0.5 (e.g. 0.1)"),
                               fixed_on_resume=True)
    # This session
    time_budget: float | None = knob(None, "plan the run for this many seconds of training: the learning rate "
                                     "holds its peak, decays over the last fifth of the time (with no "
                                     "evaluation), and the run ends there, its last model evaluated and saved "
                                     "(--epochs is then no limit)",
                                     Check(lambda v: v is None or (_number(v) and v > 0),
                                           "a positive number of seconds"), fixed_on_resume=True, metavar="SECONDS")
    time_limit: float | None = knob(None, "stop cleanly (resumable) after this many seconds of training",
                                    Check(lambda v: v is None or (_number(v) and v > 0),
                                          "a positive number of seconds"), metavar="SECONDS")
    # Devices (tf.distribute; a cluster is TF_CONFIG's, see distribute.py)
    devices: str | int | None = knob(None, "the devices that train, a number or all: several train as one, "
                                     "each on its own share of every batch; none = every GPU there is, "
                                     "else the CPU", Check(_devices, "a number of at least 1, or all"),
                                     before=None, metavar="N|all")
    # Data pipeline (keras.utils.PyDataset)
    workers: int = knob(1, "data worker processes (threads without multiprocessing); 0 = the training thread",
                        Check(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                              "0 (load batches in the training thread) or more"))
    use_multiprocessing: bool = knob(True, "data workers are processes; off = threads (or the training thread)",
                                     SWITCH, flag="multiprocessing")
    max_queue_size: int = knob(10, check=WHOLE)
    # Per-epoch samples
    sample_length: int = knob(200, "characters in each per-epoch sample (at most, in a texts run: each is a "
                              "whole text)", WHOLE)
    sample_temperatures: tuple[float, ...] = knob(
        (0.2, 0.5, 1.0, 1.2), check=Check(lambda v: all(_number(t) and t >= 0 for t in v), "numbers of at least 0"))

    def validate(self) -> "Config":
        """Raise SettingError naming the first impossible setting; return self when all are fine."""
        for name, declared in knobs().items():
            value = getattr(self, name)
            if declared.check is not None and not declared.check.accepts(value):
                raise SettingError(name, f"{declared.check.requirement}, not {value!r}")
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Config":
        """Build from a dict, ignoring keys this version does not know (newer run folders) and giving
        a knob a run folder lacks the value the run trained with before the knob existed."""
        values = {}
        for f in fields(cls):
            declared = f.metadata.get("knob")
            if f.name in data:
                values[f.name] = data[f.name]
            elif declared is not None and declared.before is not _NOT_SET:
                values[f.name] = declared.before
        if "sample_temperatures" in values:
            values["sample_temperatures"] = tuple(values["sample_temperatures"])
        return cls(**values)

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)


# The declarations never change while a program runs: read them once (the settings form checks
# every field on each keystroke, and resolving the type hints cost ~8 ms a pass).
@functools.cache
def knobs() -> dict[str, Knob]:
    """Every declared knob by field name, in declaration order (the same dict each call: do not change it)."""
    return {f.name: f.metadata["knob"] for f in fields(Config) if "knob" in f.metadata}


def settings() -> dict[str, Knob]:
    """The knobs a user sets (the CLI's flags, the app's form): those with help."""
    return {name: declared for name, declared in knobs().items() if declared.help}


def default(name: str) -> Any:
    return next(f.default for f in fields(Config) if f.name == name)


@functools.cache
def knob_type(name: str) -> type:
    """The type of a knob's value: bool, int, float or str (`float | None` is float)."""
    hint = typing.get_type_hints(Config)[name]
    if isinstance(hint, types.UnionType):
        return next(kind for kind in typing.get_args(hint) if kind is not type(None))
    return typing.get_origin(hint) or hint


def display_name(name: str) -> str:
    """A knob's name as the CLI and the form spell it (`learning-rate`, `multiprocessing`)."""
    return (knobs()[name].flag or name).replace("_", "-")


def resume_config(saved: Config, changes: dict[str, Any]) -> Config:
    """The saved config with `changes` applied, refusing changes a resumed run cannot take."""
    declared = knobs()
    for name, value in changes.items():
        if name in declared and declared[name].fixed_on_resume and value != getattr(saved, name):
            raise FixedOnResume(name, value, getattr(saved, name))
    return saved.replace(**changes).validate()
