"""The Keras callbacks of a training run, one job each (as Keras' own callbacks are).

`training.train` puts them in `fit` in this order: where training stands, the data order, the
loss guard, the weight average, progress out, the stop policy; then at each whole epoch's end:
evaluation, the record of the epoch, samples, the best model, the checkpoint. The epoch-end ones
share what the evaluation found through the `Evaluation` instance they are given.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import keras
import numpy as np

from .config import Config
from .data import TrainWindows
from .events import BatchProgress, CheckpointSaved, EpochEnd, Samples, Subscriber, bits
from .model import export_weights, inference_copy, random_state
from .run_dir import Checkpoint, RunDir
from .sampling import Sampler
from .texts import texts_mode
from .vocab import Vocab
from .weight_average import WeightAverage

PROGRESS_FILE_SECONDS = 2.0  # between writes of progress.json


class Position(keras.callbacks.Callback):
    """Where training stands (the epoch, its batches done, resumed ones included) and how fast it goes."""

    def __init__(self, dataset: TrainWindows, chars_per_batch: int):
        super().__init__()
        self.dataset, self.chars_per_batch = dataset, chars_per_batch
        self.epoch = dataset.epoch  # counted from 0, as Keras counts
        self.skipped = self.batches_done = dataset.skip_batches
        self.epoch_started = time.monotonic()
        self.first_batch_done: float | None = None
        self.finished = False  # the run's time budget is spent: its last, partial epoch counts as whole

    @property
    def epoch_complete(self) -> bool:
        return self.batches_done >= self.dataset.batches_per_epoch

    @property
    def step(self) -> int:
        """Optimizer steps since the run began."""
        return self.epoch * self.dataset.batches_per_epoch + self.batches_done

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch
        self.skipped = self.batches_done = self.dataset.skip_batches
        self.epoch_started, self.first_batch_done = time.monotonic(), None

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.batches_done = self.skipped + batch + 1
        if self.first_batch_done is None:
            self.first_batch_done = time.monotonic()

    def chars_per_sec(self) -> float:
        """Steady-state speed this epoch: the first batch (graph tracing, worker start) is left out."""
        batches, now = self.batches_done - self.skipped, time.monotonic()
        if batches > 1:
            return (batches - 1) * self.chars_per_batch / max(now - self.first_batch_done, 1e-9)
        return self.chars_per_batch / max(now - self.epoch_started, 1e-9)

    def progress(self, loss: float) -> BatchProgress:
        speed = self.chars_per_sec()
        remaining = self.dataset.batches_per_epoch - self.batches_done
        return BatchProgress(epoch=self.epoch + 1, batch=self.batches_done, batches=self.dataset.batches_per_epoch,
                             loss=loss, chars_per_sec=speed,
                             eta_seconds=remaining * self.chars_per_batch / speed if speed else None)


class FollowEpochs(keras.callbacks.Callback):
    """Gives each epoch its data order, before Keras starts that epoch's data workers (they fork with it)."""

    def __init__(self, dataset: TrainWindows):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if epoch != self.dataset.epoch:
            self.dataset.set_epoch(epoch)


class Diverged(Exception):
    """The loss became NaN or exploded: training cannot go on from these weights."""

    def __init__(self, epoch: int, loss: float):
        super().__init__(f"loss {loss} in epoch {epoch}")
        self.epoch, self.loss = epoch, loss


class GuardLoss(keras.callbacks.Callback):
    """Ends `fit` at once (raising Diverged) when the loss is NaN or above twice a uniform guess's."""

    def __init__(self, position: Position, vocab_size: int):
        super().__init__()
        self.position, self.limit = position, 2 * math.log(vocab_size)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = float(logs["loss"])
        if not math.isfinite(loss) or loss > self.limit:
            raise Diverged(self.position.epoch + 1, loss)


class AverageWeights(keras.callbacks.Callback):
    """Folds the weights into the run's moving average after every step."""

    def __init__(self, position: Position, average: WeightAverage):
        super().__init__()
        self.position, self.average = position, average

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.average.update((variable.numpy() for variable in self.model.trainable_variables), self.position.step)


class ReportProgress(keras.callbacks.Callback):
    """A BatchProgress event after every batch (the app merges them and draws at its own pace)."""

    def __init__(self, position: Position, emit: Subscriber):
        super().__init__()
        self.position, self.emit = position, emit

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.emit(self.position.progress(float(logs["loss"])))


class WriteProgressFile(keras.callbacks.Callback):
    """progress.json every few seconds, for `chargen-tui watch` in another terminal."""

    def __init__(self, position: Position, run: RunDir):
        super().__init__()
        self.position, self.run = position, run
        self.written = -math.inf

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if time.monotonic() - self.written >= PROGRESS_FILE_SECONDS:
            progress = self.position.progress(float(logs["loss"]))
            self.run.write_progress({**dataclasses.asdict(progress), "time": time.time(), "training": True})
            self.written = time.monotonic()

    def on_train_end(self, logs=None) -> None:
        if progress := self.run.read_progress():  # a run that starts from this one need not wait
            self.run.write_progress({**progress, "training": False})


class TrainingClock:
    """Seconds of training: this session's, from when the clock was made, plus `before` (earlier sessions')."""

    def __init__(self, before: float = 0.0):
        self.before, self.started = before, time.monotonic()

    def session(self) -> float:
        return time.monotonic() - self.started

    def spent(self) -> float:
        return self.before + self.session()


class StopWhenAsked(keras.callbacks.Callback):
    """Stops after the current batch when `stop` is set, the session's time limit has passed or the
    run's time budget is spent (then the run is finished)."""

    def __init__(self, stop: threading.Event, config: Config, clock: TrainingClock, position: Position):
        super().__init__()
        self.stop, self.config, self.clock, self.position = stop, config, clock, position
        self.reason: str | None = None  # why it stopped, once it has

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.stop.is_set():
            self.reason = "stop requested"
        elif self.config.time_limit is not None and self.clock.session() >= self.config.time_limit:
            self.reason = "time limit"
        else:
            self._end_if_budget_spent()
        if self.reason:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        # A budget spent by the end of an epoch ends the run there (its evaluation follows), not one
        # batch and a second evaluation later.
        if not self.reason:
            self._end_if_budget_spent()
            if self.reason:
                self.model.stop_training = True

    def _end_if_budget_spent(self) -> None:
        if self.config.time_budget is not None and self.clock.spent() >= self.config.time_budget:
            self.reason, self.position.finished = "time budget", True


# A time-budget run decays its learning rate over the budget's last fifth, after holding the peak
# (warmup-stable-decay): in a probe on a 0.6 MB text, 120 s, it beat the cosine planned for the
# budget (which decays too early) and the default cosine cut at the budget.
BUDGET_DECAY = 0.2


def budget_decay_start(config: Config) -> float:
    """The seconds of training after which a time-budget run's learning rate decays."""
    return (1 - BUDGET_DECAY) * config.time_budget


def budget_rate(config: Config, spent: float) -> float:
    """A time-budget run's learning rate after `spent` seconds of training."""
    decayed = min(1.0, max(0.0, (spent - budget_decay_start(config)) / (BUDGET_DECAY * config.time_budget)))
    return config.learning_rate * (1 - (1 - config.final_lr_fraction) * decayed)


def in_budget_decay(config: Config, spent: float) -> bool:
    """Whether a run is in its time budget's decay (a run without a budget never is)."""
    return config.time_budget is not None and spent >= budget_decay_start(config)


class FollowBudget(keras.callbacks.Callback):
    """Sets a time-budget run's learning rate before each batch, by the training time spent: the schedule
    ends at the budget whatever the speed (slower batches, an evaluation, another session)."""

    def __init__(self, config: Config, clock: TrainingClock):
        super().__init__()
        self.config, self.clock = config, clock

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.model.optimizer.learning_rate = budget_rate(self.config, self.clock.spent())


class _WholeEpochs(keras.callbacks.Callback):
    """A callback for the end of a whole epoch (Keras calls `on_epoch_end` after a stop mid-epoch too)."""

    def __init__(self, position: Position):
        super().__init__()
        self.position = position

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if (self.position.epoch_complete or self.position.finished) and self.runs_now():
            self.on_whole_epoch_end(epoch + 1, logs)

    def runs_now(self) -> bool:
        return True

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        raise NotImplementedError


class Evaluation(_WholeEpochs):
    """Scores the model a user gets (float32, the weight average) on the validation text, read on
    contiguously; puts it in `logs["val_loss"]` and keeps the model for the callbacks after it.

    Not inside a time budget's decay, but at its end: there an evaluation's seconds would be taken
    from the steps that decay the rate (on tang poems one takes ~7 s, and a 120 s budget decays for
    24 s), and the model the budget buys is the last one."""

    def __init__(self, position: Position, config: Config, vocab: Vocab, val_ids: np.ndarray,
                 average: WeightAverage | None, best_val_loss: float | None, clock: TrainingClock):
        super().__init__(position)
        self.config, self.vocab, self.val_ids, self.average, self.clock = config, vocab, val_ids, average, clock
        self.best_val_loss, self.is_best, self.evaluated = best_val_loss, False, False
        self.model_for_users: keras.Model | None = None
        self.weights: dict[str, np.ndarray] = {}
        self.sampler: Sampler | None = None

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        self.evaluated = self.position.finished or not in_budget_decay(self.config, self.clock.spent())
        self.is_best = False
        if not self.evaluated:
            return
        self.model_for_users = inference_copy(self.model, self.config, self.vocab.vocab_size,
                                              trainable=self.average.values if self.average else None)
        self.weights = export_weights(self.model_for_users)
        self.sampler = Sampler.from_arrays(self.weights, self.vocab, self.config.seq_len, texts_mode(self.config.texts))
        logs["val_loss"] = val_loss = self.sampler.contiguous_loss(self.val_ids)
        self.is_best = self.best_val_loss is None or val_loss < self.best_val_loss
        if self.is_best:
            self.best_val_loss = val_loss


class _EvaluatedEpochs(_WholeEpochs):
    """A callback for the end of a whole epoch that the Evaluation scored."""

    def __init__(self, position: Position, evaluation: Evaluation):
        super().__init__(position)
        self.evaluation = evaluation

    def runs_now(self) -> bool:
        return self.evaluation.evaluated


class RecordEpoch(_EvaluatedEpochs):
    """The epoch's row in metrics.jsonl, and the EpochEnd event."""

    def __init__(self, position: Position, evaluation: Evaluation, run: RunDir, metrics: list[dict],
                 emit: Subscriber):
        super().__init__(position, evaluation)
        self.run, self.metrics, self.emit = run, metrics, emit

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        loss, val_loss = float(logs["loss"]), logs["val_loss"]
        seconds, speed = time.monotonic() - self.position.epoch_started, self.position.chars_per_sec()
        self.metrics.append({"epoch": epoch, "loss": loss, "val_loss": val_loss, "loss_bits": bits(loss),
                             "val_loss_bits": bits(val_loss), "seconds": round(seconds, 3),
                             "chars_per_sec": round(speed, 1), "time": time.time()})
        self.run.write_metrics(self.metrics)
        self.emit(EpochEnd(epoch, loss, val_loss, seconds, speed, self.evaluation.is_best))


class SampleTexts(_EvaluatedEpochs):
    """Continuations of a piece of the training text at each sample temperature: samples.jsonl, and
    the Samples event. The piece and the random seeds are a function of (seed, epoch). A texts run
    (`train_text` None) samples whole new texts instead: no prefix."""

    def __init__(self, position: Position, evaluation: Evaluation, run: RunDir, samples: list[dict],
                 train_text: str | None, emit: Subscriber):
        super().__init__(position, evaluation)
        self.run, self.samples, self.text, self.emit = run, samples, train_text, emit

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        config, sampler = self.evaluation.config, self.evaluation.sampler
        rng = np.random.default_rng([config.seed, epoch - 1, 1])
        start = int(rng.integers(max(1, len(self.text or "") - config.seq_len)))
        prefix = self.text[start:start + config.seq_len] if self.text is not None else ""
        texts = {t: sampler.generate(prefix, config.sample_length, temperature=t, seed=int(rng.integers(2**31)))[0]
                 for t in config.sample_temperatures}
        self.samples.append({"epoch": epoch, "prefix": prefix, "texts": {str(t): s for t, s in texts.items()}})
        self.run.write_samples(self.samples)
        self.emit(Samples(epoch, prefix, texts))


class SaveBest(_EvaluatedEpochs):
    """model.keras and model.npz, when the epoch's validation loss is the best so far."""

    def __init__(self, position: Position, evaluation: Evaluation, run: RunDir):
        super().__init__(position, evaluation)
        self.run = run

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.evaluation.is_best:
            self.run.save_best(self.evaluation.model_for_users, self.evaluation.weights)


class SaveCheckpoint(_WholeEpochs):
    """What --resume needs after each whole epoch (and, called by the loop, after a stop mid-epoch)."""

    def __init__(self, position: Position, evaluation: Evaluation, run: RunDir, average: WeightAverage | None,
                 clock: TrainingClock, emit: Subscriber):
        super().__init__(position)
        self.evaluation, self.run, self.average, self.clock, self.emit = evaluation, run, average, clock, emit

    def on_whole_epoch_end(self, epoch: int, logs: dict) -> None:
        self.save(epochs_done=epoch, batches_done=0, best=self.evaluation.is_best)

    def save(self, epochs_done: int, batches_done: int, best: bool = False) -> None:
        checkpoint = Checkpoint(epochs_done, batches_done, self.evaluation.best_val_loss, model_file="",
                                rng=random_state(self.model), seconds_trained=self.clock.spent())
        self.run.save_checkpoint(self.model, checkpoint, self.average.values if self.average else None)
        self.emit(CheckpointSaved(epochs_done, batches_done, str(self.run.checkpoint_model_path(checkpoint)),
                                  str(self.run.model_path) if best else None))
