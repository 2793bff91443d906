"""The run folder: the files other tools rely on, each written atomically (see files.py).

    RUN_DIR/
      config.json        every knob of the run (Config), at least seq_len
      vocab.json         {"char_index": {character: index >= 1}}
      words.json         the corpus' words and phrases, all of it (the ghost completes them: words.py)
      model.keras        the best model so far by validation loss (safe_mode loadable)
      model.npz          the same float32 weights as plain arrays, for generating without TensorFlow
      metrics.jsonl      one JSON object per finished epoch
      samples.jsonl      the per-epoch samples, one JSON object per epoch
      progress.json      the latest batch of the epoch in progress (for `chargen-tui watch`)
      checkpoint/        what --resume needs: state.json names the .keras file (weights + optimizer)
                         and the .npz file of the weight average (plain arrays, no pickle)
      train.log          TensorFlow's own log lines, kept off the terminal
      .lock              held by the one process that writes the folder (lock.py); names its pid

One process writes a run folder at a time: it takes `lock()` before it writes anything or reads a
checkpoint to resume from, and clears the temporary files a killed writer left. Links planted inside
the folder are never written through (files.py): train.log is opened without following a link,
checkpoint/ must be a folder, and the other files are replaced by a rename. The folder's own path is
the user's: a link there (a run folder on another disk) is followed.

The checkpoint is committed by rewriting `checkpoint/state.json` last, after the files it names are
complete; older checkpoint files are deleted only after that. `model.npz` names the SHA-256 of the
model.keras it was written with, so a kill between the two writes leaves a pair that is known not
to match (and the Keras file is used).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Config
from .errors import DamagedRun, LinkRefused, NotARunFolder, UserError
from .files import atomic_write, atomic_write_text, own_folder, remove_leftovers
from .lock import FolderLock
from .vocab import Vocab

if TYPE_CHECKING:  # the run folder only calls a model's save(): it imports no Keras itself
    import keras


@dataclass
class Checkpoint:
    """Where a run stands: `epochs_done` finished epochs plus `batches_done` of the next one."""
    epochs_done: int
    batches_done: int
    best_val_loss: float | None
    model_file: str  # inside checkpoint/
    rng: list[list[int]] = field(default_factory=list)  # dropout's random generators (not in .keras)
    average_file: str = ""  # inside checkpoint/: the weight average; "" when the run keeps none
    seconds_trained: float = 0.0  # training time so far, every session's (what a time budget counts)


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.vocab_path = self.path / "vocab.json"
        self.words_path = self.path / "words.json"
        self.model_path = self.path / "model.keras"
        self.weights_path = self.path / "model.npz"
        self.metrics_path = self.path / "metrics.jsonl"
        self.samples_path = self.path / "samples.jsonl"
        self.progress_path = self.path / "progress.json"
        self.log_path = self.path / "train.log"
        self.checkpoint_dir = self.path / "checkpoint"
        self.state_path = self.checkpoint_dir / "state.json"

    # --- the one writer ----------------------------------------------------------------------
    def lock(self) -> FolderLock:
        """Hold the folder (made if missing) to write it: RunInUse while another process writes it,
        LinkRefused if its checkpoint/ is a link. Clears what a killed writer left half-written."""
        lock = FolderLock.take(self.path)
        try:
            if self.checkpoint_dir.is_symlink():
                raise LinkRefused(self.checkpoint_dir)
            for folder in (self.path, self.checkpoint_dir):
                remove_leftovers(folder)
        except BaseException:
            lock.release()
            raise
        return lock

    def holds_work(self) -> bool:
        """Does it hold something a user would miss: a model, or a checkpoint to resume from?"""
        return self.model_path.exists() or self.state_path.exists()

    # --- the run's identity -------------------------------------------------------------------
    def has_run(self) -> bool:
        return self.config_path.exists() or self.state_path.exists()

    def write_start(self, config: Config, vocab: Vocab, words: dict | None = None) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, config.to_json())
        atomic_write_text(self.vocab_path, vocab.to_json())
        if words is not None:
            atomic_write_text(self.words_path, json.dumps(words, ensure_ascii=False))

    def read_config(self) -> Config:
        data = self._read_json(self.config_path)
        try:
            return Config.from_dict(data).validate()
        except (TypeError, UserError) as error:
            raise DamagedRun(self.config_path, str(error)) from None

    def read_vocab(self) -> Vocab:
        self._require(self.vocab_path)
        return Vocab.from_json(self.vocab_path.read_text(encoding="utf-8"))

    def require_model(self) -> Path:
        self._require(self.model_path)
        return self.model_path

    def check_model(self) -> None:
        """UserError unless the folder holds a model to generate with (config, vocab and model): cheap,
        to refuse a wrong folder before anything slow starts."""
        self.read_config(), self.read_vocab(), self.require_model()

    # --- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self, model: "keras.Model", checkpoint: Checkpoint, average: list[np.ndarray] | None = None) -> None:
        """Write the model (with optimizer state) and the weight average, then commit `state.json`."""
        previous = self.read_checkpoint()
        own_folder(self.checkpoint_dir)  # a link planted there since the start is refused too
        stem = f"epoch-{checkpoint.epochs_done:05d}-batch-{checkpoint.batches_done:07d}"
        checkpoint.model_file = f"{stem}.keras"
        atomic_write(self.checkpoint_dir / checkpoint.model_file, model.save)
        checkpoint.average_file = f"{stem}.average.npz" if average is not None else ""
        if average is not None:
            atomic_write(self.checkpoint_dir / checkpoint.average_file,
                         lambda tmp: _save_arrays(tmp, {f"arr_{i}": a for i, a in enumerate(average)}))
        atomic_write_text(self.state_path, json.dumps(checkpoint.__dict__, indent=2) + "\n")
        for name in (previous.model_file, previous.average_file) if previous else ():
            if name and name not in (checkpoint.model_file, checkpoint.average_file):
                (self.checkpoint_dir / name).unlink(missing_ok=True)

    def read_checkpoint(self) -> Checkpoint | None:
        if not self.state_path.exists():
            return None
        try:
            checkpoint = Checkpoint(**self._read_json(self.state_path))
        except TypeError:
            raise DamagedRun(self.state_path) from None
        for name in (checkpoint.model_file, checkpoint.average_file):
            if name and not (self.checkpoint_dir / name).exists():
                raise DamagedRun(self.state_path, f"it names {name}, which is missing")
        return checkpoint

    def checkpoint_model_path(self, checkpoint: Checkpoint) -> Path:
        return self.checkpoint_dir / checkpoint.model_file

    def read_average(self, checkpoint: Checkpoint) -> list[np.ndarray] | None:
        """The checkpoint's weight average, or None when it keeps none (or predates averaging)."""
        if not checkpoint.average_file:
            return None
        arrays = _load_arrays(self.checkpoint_dir / checkpoint.average_file)
        return [arrays[f"arr_{i}"] for i in range(len(arrays))]

    # --- the best model -----------------------------------------------------------------------
    def save_best(self, model: "keras.Model", weights: dict[str, np.ndarray]) -> None:
        """Write model.keras, then model.npz: `weights` (the same model's arrays) and model.keras' hash."""
        atomic_write(self.model_path, model.save)
        self.write_weights(weights)

    def write_weights(self, weights: dict[str, np.ndarray]) -> None:
        """model.npz for the model.keras there now (`model.export_weights` of it)."""
        arrays = {**weights, _KERAS_HASH: file_sha256(self.model_path)}
        atomic_write(self.weights_path, lambda tmp: _save_arrays(tmp, arrays))

    def read_weights(self) -> dict[str, np.ndarray] | None:
        """model.npz's arrays, or None when there is none or it was not written with this model.keras
        (a run folder from before model.npz, or a kill between the two writes): then use model.keras."""
        if not self.weights_path.exists():
            return None
        arrays = _load_arrays(self.weights_path)
        if str(arrays.pop(_KERAS_HASH, "")) != file_sha256(self.require_model()):
            return None
        return arrays

    # --- metrics and samples ------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.metrics_path)

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.metrics_path, _jsonl(rows))

    def read_samples(self) -> list[dict[str, Any]]:
        """The per-epoch samples; a run from before the rename names the prefix "seed"."""
        rows = _read_jsonl(self.samples_path)
        for row in rows:
            if "seed" in row:
                row.setdefault("prefix", row.pop("seed"))
        return rows

    def write_samples(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.samples_path, _jsonl(rows))

    def read_progress(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.progress_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_progress(self, progress: dict[str, Any]) -> None:
        atomic_write_text(self.progress_path, json.dumps(progress))

    # --- helpers ------------------------------------------------------------------------------
    def _require(self, path: Path) -> None:
        if not self.path.is_dir():
            raise NotARunFolder(self.path)
        if not path.exists():
            raise UserError(f"{self.path} has no {path.name}: it is not a finished run folder "
                            "(train into it, or give another folder)")

    def _read_json(self, path: Path) -> Any:
        self._require(path)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise DamagedRun(path, "not valid JSON") from None


_KERAS_HASH = "model_keras_sha256"


def _save_arrays(path: Path, arrays: dict[str, np.ndarray | str]) -> None:
    with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to a path's name
        np.savez(file, **arrays)


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        raise DamagedRun(path) from None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (the model.keras that a model.npz, or a fine-tuned run, came from)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            break  # a line cut short by a kill: keep what came before it
    return rows
