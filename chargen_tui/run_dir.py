"""The run folder: the files other tools rely on, each written atomically.

    RUN_DIR/
      config.json        every knob of the run (Config), at least seq_len
      vocab.json         {"char_index": {character: index >= 1}}
      model.keras        the best model so far by validation loss (safe_mode loadable)
      metrics.jsonl      one JSON object per finished epoch
      samples.jsonl      the per-epoch samples, one JSON object per epoch
      progress.json      the latest batch of the epoch in progress (for `chargen-tui watch`)
      checkpoint/        what --resume needs: state.json names the .keras file (weights + optimizer)
                         and the .npz file of the weight average (plain arrays, no pickle)
      train.log          TensorFlow's own log lines, kept off the terminal

Atomic means: write a temporary file in the same folder, flush it to disk, then rename it over the
old one. A kill at any moment leaves either the old file or the new one, never half of either.
The checkpoint is committed by rewriting `checkpoint/state.json` last, after the files it names are
complete; older checkpoint files are deleted only after that.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .config import Config, resume_config
from .corpus import default_corpus, read_corpus, require_length
from .errors import UserError
from .vocab import Vocab


_UMASK = os.umask(0)  # read once, at import, while no other thread can race on it
os.umask(_UMASK)


def cache_dir() -> Path:
    """Where chargen-tui keeps its own files (TensorFlow's log, autosaves): $XDG_CACHE_HOME/chargen-tui."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chargen-tui"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp_path)` and move the result over `path` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_UMASK)
        with open(tmp_path, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@dataclass
class Checkpoint:
    """Where a run stands: `epochs_done` finished epochs plus `batches_done` of the next one."""
    epochs_done: int
    batches_done: int
    best_val_loss: float | None
    model_file: str  # inside checkpoint/
    rng: list[list[int]] = field(default_factory=list)  # dropout's random generators (not in .keras)
    average_file: str = ""  # inside checkpoint/: the weight average; "" when the run keeps none


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.vocab_path = self.path / "vocab.json"
        self.model_path = self.path / "model.keras"
        self.metrics_path = self.path / "metrics.jsonl"
        self.samples_path = self.path / "samples.jsonl"
        self.progress_path = self.path / "progress.json"
        self.log_path = self.path / "train.log"
        self.checkpoint_dir = self.path / "checkpoint"
        self.state_path = self.checkpoint_dir / "state.json"

    # --- the run's identity -------------------------------------------------------------------
    def has_run(self) -> bool:
        return self.config_path.exists() or self.state_path.exists()

    def write_start(self, config: Config, vocab: Vocab) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, config.to_json())
        atomic_write_text(self.vocab_path, vocab.to_json())

    def read_config(self) -> Config:
        data = self._read_json(self.config_path)
        try:
            return Config.from_dict(data).validate()
        except (TypeError, UserError) as error:
            raise UserError(f"{self.config_path} is damaged ({error}): retrain into a new folder") from None

    def read_vocab(self) -> Vocab:
        self._require(self.vocab_path)
        return Vocab.from_json(self.vocab_path.read_text(encoding="utf-8"))

    def require_model(self) -> Path:
        self._require(self.model_path)
        return self.model_path

    # --- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self, model, checkpoint: Checkpoint, average: list[np.ndarray] | None = None) -> None:
        """Write the model (with optimizer state) and the weight average, then commit `state.json`."""
        previous = self.read_checkpoint()
        stem = f"epoch-{checkpoint.epochs_done:05d}-batch-{checkpoint.batches_done:07d}"
        checkpoint.model_file = f"{stem}.keras"
        atomic_write(self.checkpoint_dir / checkpoint.model_file, model.save)
        checkpoint.average_file = f"{stem}.average.npz" if average is not None else ""
        if average is not None:
            atomic_write(self.checkpoint_dir / checkpoint.average_file, lambda tmp: _save_arrays(tmp, average))
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
            raise UserError(f"{self.state_path} is damaged: start a new run with another --out") from None
        for name in (checkpoint.model_file, checkpoint.average_file):
            if name and not (self.checkpoint_dir / name).exists():
                raise UserError(f"{self.state_path} names {name}, which is missing: "
                                "start a new run with another --out")
        return checkpoint

    def checkpoint_model_path(self, checkpoint: Checkpoint) -> Path:
        return self.checkpoint_dir / checkpoint.model_file

    def read_average(self, checkpoint: Checkpoint) -> list[np.ndarray] | None:
        """The checkpoint's weight average, or None when it keeps none (or predates averaging)."""
        if not checkpoint.average_file:
            return None
        path = self.checkpoint_dir / checkpoint.average_file
        try:
            with np.load(path, allow_pickle=False) as arrays:
                return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            raise UserError(f"{path} is damaged: start a new run with another --out") from None

    def save_best(self, model) -> None:
        atomic_write(self.model_path, model.save)

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
            raise UserError(f"{self.path} is not a run folder: train one with "
                            f"`chargen-tui train CORPUS --out {self.path}`")
        if not path.exists():
            raise UserError(f"{self.path} has no {path.name}: it is not a finished run folder "
                            "(train into it, or give another folder)")

    def _read_json(self, path: Path) -> Any:
        self._require(path)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise UserError(f"{path} is damaged (not valid JSON): retrain into a new folder") from None


def _save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to a path's name
        np.savez(file, *arrays)


def prepare_run(run_dir: RunDir, changes: dict[str, Any], resume: bool) -> tuple[Config, str]:
    """The config and corpus text for training `run_dir` with `changes` (knob values a user set).

    A resumed run keeps its saved settings and takes only the changes a resume allows. Everything
    is checked here, before TensorFlow is imported: bad settings, an unreadable corpus, a run folder
    that does not fit. Raises UserError.
    """
    if resume and run_dir.has_run():
        config = resume_config(run_dir.read_config(), changes)
    else:
        config = Config(**changes).validate()
    text = read_corpus(config.corpus, config.encoding) if config.corpus else default_corpus()
    open_run(run_dir, config, text, resume)
    return config, text


def open_run(run_dir: RunDir, config: Config, text: str, resume: bool) -> tuple[Vocab, Checkpoint | None]:
    """Check that `text` can train (or resume) the run in `run_dir`; cheap, and free of TensorFlow.

    Returns the vocabulary (new from `text`, or the run's own) and the checkpoint to resume from.
    """
    require_length(len(text), config.seq_len, config.val_fraction)
    if run_dir.path.exists() and not run_dir.path.is_dir():
        raise UserError(f"{run_dir.path} is a file, not a folder: choose another --out")
    if not resume:
        if run_dir.has_run():
            raise UserError(f"{run_dir.path} already holds a run: add --resume to continue it, "
                            "or choose a new --out")
        return Vocab.from_text(text), None
    if not run_dir.has_run():
        raise UserError(f"{run_dir.path} holds no run to resume: leave out --resume to start one")
    vocab = run_dir.read_vocab()
    unknown = vocab.unknown_chars(text)
    if unknown:
        shown = "".join(sorted(unknown))[:20]
        raise UserError(f"the corpus has {len(unknown)} characters this run never saw ({shown!r}): "
                        "resume with the run's own corpus, or start a new --out")
    return vocab, run_dir.read_checkpoint()


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
