"""The training loop: Keras `fit` over the PyDataset, with callbacks that report plain events.

`train()` runs in whatever thread calls it (the CLI's main thread, or the app's worker thread) and
reports through `on_event`. Setting `stop` ends training after the current batch and leaves a
checkpoint that `resume=True` continues from the very next batch, optimizer state included.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import keras
import numpy as np

from .config import Config
from .data import Split, TrainWindows, split_corpus, stop_data_loader
from .errors import UserError
from .events import (BatchProgress, CheckpointSaved, EpochEnd, Failed, Finished, Samples, Stopped,
                     Subscriber, TrainingStarted, bits)
from .model import build_model, inference_copy, load_model, random_state, set_random_state
from .run_dir import Checkpoint, RunDir, open_run
from .sampling import Sampler
from .vocab import Vocab
from .weight_average import WeightAverage

_PROGRESS_EVERY = 2.0  # seconds between writes of progress.json


def train(config: Config, text: str, run_dir: RunDir, on_event: Subscriber, *, resume: bool = False,
          stop: threading.Event | None = None, corpus_name: str = "") -> Finished | Stopped | Failed:
    """Train on `text` into `run_dir`, reporting events; returns the last one (how training ended).

    Raises UserError for bad input or settings, before any training starts.
    """
    config.validate()
    vocab, checkpoint = open_run(run_dir, config, text, resume)
    split = split_corpus(vocab.encode(text), config)
    start_epoch, skip = (checkpoint.epochs_done, checkpoint.batches_done) if checkpoint else (0, 0)
    if start_epoch >= config.epochs:
        raise UserError(f"{run_dir.path} has trained {start_epoch} epochs already: pass a larger --epochs "
                        "to train further")
    run_dir.write_start(config, vocab)
    metrics = [row for row in run_dir.read_metrics() if row.get("epoch", 0) <= start_epoch]
    samples = [row for row in run_dir.read_samples() if row.get("epoch", 0) <= start_epoch]
    dataset = TrainWindows(split.train, config, epoch=start_epoch, skip_batches=skip)
    if checkpoint:  # the checkpoint holds the optimizer and its learning-rate schedule
        model = load_model(run_dir.checkpoint_model_path(checkpoint), vocab.vocab_size)
        set_random_state(model, checkpoint.rng)
    else:
        model = build_model(config, vocab.vocab_size, dataset.batches_per_epoch)
    loop = _Loop(config, vocab, split, run_dir, on_event, stop or threading.Event(), dataset,
                 best_val_loss=checkpoint.best_val_loss if checkpoint else None,
                 metrics=metrics, samples=samples, text=text,
                 average=_weight_average(model, config, run_dir.read_average(checkpoint) if checkpoint else None))
    on_event(TrainingStarted(
        run_dir=str(run_dir.path), corpus_name=corpus_name, corpus_chars=len(text),
        train_chars=len(split.train), val_chars=len(split.val), vocab_size=vocab.vocab_size,
        parameters=model.count_params(), epochs=config.epochs,
        batches_per_epoch=dataset.batches_per_epoch, start_epoch=start_epoch + 1, resumed_batches=skip))
    return loop.run(model, start_epoch, skip)


def _weight_average(model: keras.Model, config: Config, saved: list[np.ndarray] | None) -> WeightAverage | None:
    """The run's weight average: the checkpoint's, or a new one from the weights as they stand."""
    if not config.ema_momentum:
        return None
    weights = [variable.numpy() for variable in model.trainable_variables]
    if saved is not None and [a.shape for a in saved] != [w.shape for w in weights]:
        raise UserError("the checkpoint does not match its model (weight average): start a new run with "
                        "another --out")
    return WeightAverage(weights if saved is None else saved, config.ema_momentum)


class _Loop(keras.callbacks.Callback):
    """One training session: fit calls, per-batch checks, and everything done at an epoch's end."""

    def __init__(self, config: Config, vocab: Vocab, split: Split, run_dir: RunDir, on_event: Subscriber,
                 stop: threading.Event, dataset: TrainWindows, best_val_loss: float | None,
                 metrics: list[dict], samples: list[dict], text: str, average: WeightAverage | None):
        super().__init__()
        self.config, self.vocab, self.run_dir, self.emit, self.stop = config, vocab, run_dir, on_event, stop
        self.dataset = dataset
        self.average = average
        self.val_ids = split.val
        self.text = text[: len(split.train)]  # sample seeds come from the training part
        self.best_val_loss = best_val_loss
        self.metrics, self.samples = metrics, samples
        self.started = time.monotonic()
        self.chars_per_batch = dataset.batch_size * config.seq_len
        self.explode_at = 2 * math.log(vocab.vocab_size)  # twice the loss of a uniform guess
        self.stop_reason: str | None = None
        self.progress_written = -math.inf
        self.failure: str | None = None

    # --- driving fit ------------------------------------------------------------------------
    def run(self, model: keras.Model, start_epoch: int, skip: int) -> Finished | Stopped | Failed:
        if skip:  # finish the interrupted epoch first, from the batch after the last one trained
            self._fit(model, start_epoch, start_epoch + 1, skip)
            start_epoch += 1
        if not (self.stop_reason or self.failure) and start_epoch < self.config.epochs:
            self._fit(model, start_epoch, self.config.epochs, 0)
        return self._report_end(model)

    def _fit(self, model: keras.Model, first_epoch: int, end_epoch: int, skip: int) -> None:
        self.dataset.set_epoch(first_epoch, skip)
        try:
            # shuffle=False: fit would otherwise reorder our batches with Python's global `random`,
            # and a resumed run would no longer see the data in the order it was stopped in.
            model.fit(self.dataset, epochs=end_epoch, initial_epoch=first_epoch, callbacks=[self], verbose=0,
                      shuffle=False)
        finally:
            # A stop mid-epoch skips the data adapter's epoch end: shut its worker pool down ourselves.
            stop_data_loader(self.dataset)

    def _report_end(self, model: keras.Model) -> Finished | Stopped | Failed:
        if self.failure:
            end = Failed(self.failure)
        elif self.stop_reason:
            if self.batches_done < self.dataset.batches_per_epoch:  # stopped inside an epoch
                self._save_checkpoint(model, self.epoch, self.batches_done, best_path=None)
            else:
                self.epoch, self.batches_done = self.epoch + 1, 0
            end = Stopped(self.stop_reason, epochs_done=self.epoch, batches_done=self.batches_done)
        else:
            end = Finished(epochs=self.config.epochs, best_val_loss=self.best_val_loss)
        self.emit(end)
        return end

    # --- Keras callback hooks ---------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        # Runs before Keras starts this epoch's data workers, so they fork with this epoch's order.
        if epoch != self.dataset.epoch:
            self.dataset.set_epoch(epoch)
        self.epoch = epoch
        self.skip = self.dataset.skip_batches
        self.epoch_started = time.monotonic()
        self.first_batch_done: float | None = None
        self.batches_done = self.skip

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        now = time.monotonic()
        self.batches_done = self.skip + batch + 1
        if self.first_batch_done is None:
            self.first_batch_done = now
        loss = float(logs["loss"])
        if not math.isfinite(loss) or loss > self.explode_at:
            self.failure = (f"the loss {'became NaN' if math.isnan(loss) else f'exploded to {loss:.3g}'} in "
                            f"epoch {self.epoch + 1}; the last good checkpoint is kept: lower --learning-rate "
                            "and --resume")
            self.model.stop_training = True
            return
        if self.average:
            step = self.epoch * self.dataset.batches_per_epoch + self.batches_done
            self.average.update((variable.numpy() for variable in self.model.trainable_variables), step)
        chars_per_sec = self._chars_per_sec(batch + 1, now)
        remaining = self.dataset.batches_per_epoch - self.batches_done
        progress = BatchProgress(epoch=self.epoch + 1, batch=self.batches_done,
                                 batches=self.dataset.batches_per_epoch, loss=loss, chars_per_sec=chars_per_sec,
                                 eta_seconds=remaining * self.chars_per_batch / chars_per_sec if chars_per_sec else None)
        self.emit(progress)
        if now - self.progress_written >= _PROGRESS_EVERY:  # for `chargen-tui watch` in another terminal
            self.run_dir.write_progress({**dataclasses.asdict(progress), "time": time.time()})
            self.progress_written = now
        if self.stop.is_set():
            self.stop_reason = "stop requested"
        elif self.config.time_limit is not None and now - self.started >= self.config.time_limit:
            self.stop_reason = "time limit"
        if self.stop_reason:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        # Keras calls this after a mid-epoch stop too; only a whole epoch counts.
        if self.failure or self.batches_done < self.dataset.batches_per_epoch:
            return
        batches_this_session = self.batches_done - self.skip
        chars_per_sec = self._chars_per_sec(batches_this_session, time.monotonic())
        # The float32 model a user gets (the weight average), reading the validation text on.
        model = inference_copy(self.model, self.config, self.vocab.vocab_size,
                               trainable=self.average.values if self.average else None)
        sampler = Sampler.from_model(model, self.vocab, self.config.seq_len)
        val_loss = sampler.contiguous_loss(self.val_ids)
        is_best = self.best_val_loss is None or val_loss < self.best_val_loss
        if is_best:
            self.best_val_loss = val_loss
        loss = float(logs["loss"])
        seconds = time.monotonic() - self.epoch_started
        self.metrics.append({"epoch": epoch + 1, "loss": loss, "val_loss": val_loss, "loss_bits": bits(loss),
                             "val_loss_bits": bits(val_loss), "seconds": round(seconds, 3),
                             "chars_per_sec": round(chars_per_sec, 1), "time": time.time()})
        self.run_dir.write_metrics(self.metrics)
        self.emit(EpochEnd(epoch + 1, loss, val_loss, seconds, chars_per_sec, is_best))
        self._sample(sampler, epoch)
        if is_best:
            self.run_dir.save_best(model)
        self._save_checkpoint(self.model, epoch + 1, 0, best_path=str(self.run_dir.model_path) if is_best else None)

    # --- helpers ----------------------------------------------------------------------------
    def _chars_per_sec(self, batches: int, now: float) -> float:
        """Steady-state speed: the first batch of an epoch (graph tracing, worker start) is left out."""
        if batches > 1:
            return (batches - 1) * self.chars_per_batch / max(now - self.first_batch_done, 1e-9)
        return self.chars_per_batch / max(now - self.epoch_started, 1e-9)

    def _sample(self, sampler: Sampler, epoch: int) -> None:
        rng = np.random.default_rng([self.config.seed, epoch, 1])
        start = int(rng.integers(max(1, len(self.text) - self.config.seq_len)))
        prefix = self.text[start:start + self.config.seq_len]
        texts = {t: sampler.generate(prefix, self.config.sample_length, temperature=t,
                                     seed=int(rng.integers(2**31)))[0]
                 for t in self.config.sample_temperatures}
        self.samples.append({"epoch": epoch + 1, "prefix": prefix, "texts": {str(t): s for t, s in texts.items()}})
        self.run_dir.write_samples(self.samples)
        self.emit(Samples(epoch + 1, prefix, texts))

    def _save_checkpoint(self, model: keras.Model, epochs_done: int, batches_done: int, best_path: str | None):
        checkpoint = Checkpoint(epochs_done, batches_done, self.best_val_loss, model_file="",
                                rng=random_state(model))
        self.run_dir.save_checkpoint(model, checkpoint, self.average.values if self.average else None)
        self.emit(CheckpointSaved(epochs_done, batches_done,
                                  str(self.run_dir.checkpoint_model_path(checkpoint)), best_path))
