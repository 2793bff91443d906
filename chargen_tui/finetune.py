"""Starting a run from a model that already knows a language: its weights, its vocabulary and more.

The base is a finished run folder, or "default" (the model shipped in the package). The new run's
vocabulary is the base's with the new text's unseen characters appended: every character the base
knows keeps its index (and so its Embedding row and output column); each new one gets a row and a
column of its own. A new character's Embedding row is the mean of the base's rows (it enters the
LSTM as an average character), its output column is zero (no context speaks for it yet), and the
output biases make the new characters together as likely as they are in the new text, each by its
own frequency, against the mass the base's logits give its own characters there: from the first
batch the model predicts them as often as they occur, and the loss does not jump (without this, a
Chinese text from an English base starts near the uniform loss; docs/experiments.md measures it).

The base fixes the model's size (embedding, units, layers); the schedule's knobs have fine-tuning
defaults of their own (config.py, `finetune=`). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, knobs
from .errors import BaseFixes, DamagedRun, StillTraining, UserError
from .pretrained import default_run_dir
from .run_dir import RunDir, file_sha256
from .vocab import Vocab

DEFAULT = "default"  # the name of the shipped model as a base
SIZE = ("embedding_dim", "units", "layers")  # the knobs a base's weights fix
KNOWN_LAYERS = {"InputLayer", "Embedding", "NotEqual", "LSTM", "Dropout", "Dense"}  # NotEqual: the mask's op
TRAINING_SECONDS = 15  # a progress file younger than this: the run is training now (it writes every 2 s)


@dataclass(frozen=True)
class Base:
    name: str  # "default", or the run folder's path
    run: RunDir
    config: Config
    vocab: Vocab
    sha256: str  # of its model.keras: which weights a fine-tuned run started from

    def record(self) -> dict[str, str]:
        return {"name": self.name, "model_sha256": self.sha256}


def open_base(name: str) -> Base:
    """The run folder (or the shipped model) to start from, checked cheaply: UserError if unusable."""
    run = base_run_dir(name)
    config, vocab, model_path = run.read_config(), run.read_vocab(), run.require_model()
    progress = run.read_progress()
    if progress and progress.get("training", True) and time.time() - float(progress.get("time", 0)) < TRAINING_SECONDS:
        raise StillTraining(run.path)
    _check_layers(model_path)
    return Base(base_name(name), run, config, vocab, file_sha256(model_path))


def base_run_dir(name: str) -> RunDir:
    """The run folder a base's name stands for: "default" is the shipped model's."""
    return default_run_dir() if name == DEFAULT else RunDir(name)


def base_name(name: str) -> str:
    """How a run records its base: "default", or the folder's absolute path."""
    return name if name == DEFAULT else str(Path(name).expanduser().resolve())


def _check_layers(path) -> None:
    """The .keras file's layers, read from its config.json (a .keras file is a zip): only ours."""
    try:
        with zipfile.ZipFile(path) as archive:
            saved = json.loads(archive.read("config.json"))
        layers = {layer["class_name"] for layer in saved["config"]["layers"]}
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError):
        raise DamagedRun(path, "not a Keras model a run of chargen-tui wrote") from None
    if unknown := sorted(layers - KNOWN_LAYERS):
        raise UserError(f"{path} has a {unknown[0]} layer; a run can start only from a model of Embedding, "
                        "LSTM, Dropout and Dense layers: one chargen-tui trained")


def finetune_changes(changes: dict[str, Any], base: Base) -> dict[str, Any]:
    """The knob values of a new run that starts from `base`: its size, the fine-tuning defaults,
    then the user's `changes` (BaseFixes if one of them sets another size)."""
    for name in SIZE:
        if name in changes and changes[name] != getattr(base.config, name):
            raise BaseFixes(name, changes[name], getattr(base.config, name))
    defaults = {name: declared.finetune for name, declared in knobs().items() if declared.finetune is not None}
    return defaults | {name: getattr(base.config, name) for name in SIZE} | changes


def extend_vocab(base: Vocab, text: str, end_of_text: bool, record: dict[str, str]) -> Vocab:
    """The base's vocabulary with the characters of `text` it lacks appended, most frequent first."""
    counts = Counter(c for c in text if c not in base.char_index)
    new = sorted(counts, key=lambda c: (-counts[c], ord(c)))
    char_index = base.char_index | {char: len(base.char_index) + i for i, char in enumerate(new, start=1)}
    return Vocab(char_index, len(char_index) + 1 if end_of_text else None, base=record)


def extend_weights(arrays: dict[str, np.ndarray], base: Vocab, vocab: Vocab, ids: np.ndarray) -> dict[str, np.ndarray]:
    """The base's arrays (model.export_weights' names) for `vocab`: the base's tokens' rows and columns
    where the base had them, new tokens initialised as the module says. `ids`: the new training text."""
    embedding, kernel, bias = arrays["embedding"], arrays["logits/kernel"], arrays["logits/bias"]
    source = _base_index(base, vocab)
    new = source < 0
    frequencies = np.bincount(ids, minlength=vocab.vocab_size)[:vocab.vocab_size] / max(1, len(ids))
    # The new tokens' share of the text is their share of the prediction: the base's own tokens have
    # the mass their logits give them in the text (all but their share), the new ones the rest.
    new_share = min(float(frequencies[new].sum()), 1 - MIN_OLD_SHARE)
    offset = _log_mass(arrays, base, source[ids[:MASS_SAMPLE]]) - np.log(1 - new_share)
    take = np.maximum(source, 0)
    return dict(arrays) | {
        "embedding": np.where(new[:, None], embedding[1:].mean(axis=0), embedding[take]).astype(np.float32),
        "logits/kernel": np.where(new[None, :], 0.0, kernel[:, take]).astype(np.float32),
        "logits/bias": np.where(new, offset + np.log(np.maximum(frequencies, 1e-9)), bias[take]).astype(np.float32),
    }


MASS_SAMPLE = 4096  # characters of the new text over which the base's predictions are averaged
MIN_OLD_SHARE = 1e-3  # a text of new characters only still leaves the base's tokens this much


def _base_index(base: Vocab, vocab: Vocab) -> np.ndarray:
    """For each token of `vocab`, its index in `base`, or -1 for a token the base lacks (0 stays 0)."""
    source = np.full(vocab.vocab_size, -1, dtype=np.int64)
    source[0] = 0
    for char, index in vocab.char_index.items():
        source[index] = base.char_index.get(char, -1)
    if vocab.end_of_text is not None and base.end_of_text is not None:
        source[vocab.end_of_text] = base.end_of_text
    return source


def _log_mass(arrays: dict[str, np.ndarray], base: Vocab, base_ids: np.ndarray) -> float:
    """log of the mean, over the text the base reads, of the sum of exp(logits) of its tokens: the
    scale on which its predictions sit there. It reads the tokens it knows (the Keras mask skips
    the others), 32 contiguous parts side by side; with none known, its prediction from nothing."""
    from .sampling import Sampler

    sampler = Sampler.from_arrays(arrays, base, seq_len=1)
    known = base_ids[base_ids > 0]
    streams = max(1, min(32, len(known) // 16))
    rows = known[:len(known) // streams * streams].reshape(streams, -1)
    state = sampler.fresh_state(streams)
    masses = [_logsumexp(sampler.logits(state)[:, 1:])]
    for t in range(rows.shape[1]):
        state = sampler.step(state, rows[:, t])
        masses.append(_logsumexp(sampler.logits(state)[:, 1:]))
    masses = np.concatenate(masses)
    return float(_logsumexp(masses[None, :])[0] - np.log(len(masses)))


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype(np.float64)
    top = logits.max(axis=1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=1))


def base_weights(base: Base) -> dict[str, np.ndarray]:
    """The base's float32 arrays: model.npz, or model.keras through Keras when it has none for it."""
    arrays = base.run.read_weights()
    if arrays is None:
        from .model import export_weights, load_model

        arrays = export_weights(load_model(base.run.require_model(), base.vocab.vocab_size))
    return arrays
