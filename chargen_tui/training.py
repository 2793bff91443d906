"""The training loop: Keras `fit` over the PyDataset, with callbacks that report plain events.

`train()` runs in whatever thread calls it (the CLI's main thread, or the app's worker thread) and
reports through `on_event`. Setting `stop` ends training after the current batch and leaves a
checkpoint that a resumed run continues from the very next batch, optimizer state included.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

import keras
import numpy as np

from . import distribute
from .callbacks import (AverageWeights, Diverged, Evaluation, FollowBudget, FollowEpochs, GuardLoss, Position,
                        RecordEpoch, ReportProgress, SampleTexts, SaveBest, SaveCheckpoint, StopWhenAsked,
                        TrainingClock, WriteProgressFile)
from .config import Config
from .data import TrainWindows, quiet_forked_workers, stop_data_loader
from .errors import DamagedRun, DevicesChanged, TooFewWindows, TooManyDevices
from .events import CheckpointSaved, Failed, Finished, Stopped, Subscriber, TrainingStarted
from .finetune import base_weights, extend_weights
from .model import build_model, import_weights, load_model, set_random_state
from .plan import RunPlan
from .run_dir import RunDir
from .weight_average import WeightAverage
from .words import corpus_words


def train(plan: RunPlan, on_event: Subscriber, stop: threading.Event | None = None) -> Finished | Stopped | Failed:
    """Train as `plan` says (see `plan.plan_run`), reporting events; returns the last one (how it ended).
    The run folder is released when it ends, however it ends."""
    try:
        return _train(plan, on_event, stop)
    except BaseException:
        plan.release(failed=True)  # a folder made for this run, with nothing trained in it, goes
        raise
    finally:
        plan.release()


def _train(plan: RunPlan, on_event: Subscriber, stop: threading.Event | None) -> Finished | Stopped | Failed:
    run, checkpoint = plan.run, plan.checkpoint
    epochs_done, batches_done = (checkpoint.epochs_done, checkpoint.batches_done) if checkpoint else (0, 0)
    strategy = _strategy(plan.config, resumed=checkpoint is not None)  # first: a cluster's configures TensorFlow
    config = _on_devices(plan.config, strategy.num_replicas_in_sync, resumed=checkpoint is not None)
    quiet_forked_workers()
    dataset = TrainWindows(plan.split.train, _data_config(config, strategy), epoch=epochs_done,
                           skip_batches=batches_done, replicas=strategy.num_replicas_in_sync)
    if not dataset.batches_per_epoch:
        raise TooFewWindows(dataset.windows_per_epoch, strategy.num_replicas_in_sync)
    with strategy.scope():  # the variables of the model and its optimizer live on every device
        if checkpoint:  # the checkpoint holds the optimizer and its learning-rate schedule
            model = load_model(run.checkpoint_model_path(checkpoint), plan.vocab.vocab_size)
            set_random_state(model, checkpoint.rng)
        else:
            model = build_model(config, plan.vocab.vocab_size, dataset.batches_per_epoch)
            if plan.base:
                import_weights(model, extend_weights(base_weights(plan.base), plan.base.vocab, plan.vocab,
                                                     plan.split.train))
    average = _weight_average(model, config, run.read_average(checkpoint) if checkpoint else None, run.state_path)
    metrics, samples = _through(run.read_metrics(), epochs_done), _through(run.read_samples(), epochs_done)
    run = _writer(run)
    if run is not plan.run:  # its checkpoints are no one's to resume from: it tells of none
        on_event = _without(CheckpointSaved, on_event)
    run.write_start(config, plan.vocab, corpus_words(plan.text[:WORDS_READ]))  # all of it: the writer's own words

    position = Position(dataset, dataset.batch_size * config.seq_len)
    clock = TrainingClock(checkpoint.seconds_trained if checkpoint else 0.0)
    stopper = StopWhenAsked(stop or threading.Event(), config, clock, position)
    evaluation = Evaluation(position, config, plan.vocab, plan.split.val, average,
                            checkpoint.best_val_loss if checkpoint else None, clock)
    checkpointer = SaveCheckpoint(position, evaluation, run, average, clock, on_event)
    callbacks = [
        FollowEpochs(dataset), position, *([FollowBudget(config, clock)] if config.time_budget else []),
        GuardLoss(position, plan.vocab.vocab_size),
        *([AverageWeights(position, average)] if average else []),
        ReportProgress(position, on_event), WriteProgressFile(position, run), stopper,
        evaluation,
        RecordEpoch(position, evaluation, run, metrics, on_event),
        SampleTexts(position, evaluation, run, samples,
                    plan.text[:len(plan.split.train)] if plan.texts is None else None, on_event),
        SaveBest(position, evaluation, run),
        checkpointer,
    ]
    on_event(TrainingStarted(
        run_dir=str(plan.run.path), corpus_name=plan.corpus_name, corpus_chars=len(plan.text),
        texts=None if plan.texts is None else len(plan.texts), controls_removed=plan.controls_removed,
        train_chars=len(plan.split.train), val_chars=len(plan.split.val), vocab_size=plan.vocab.vocab_size,
        parameters=model.count_params(), epochs=0 if config.time_budget else config.epochs,
        base=plan.base.name if plan.base else None,
        new_chars=len(plan.vocab.char_index) - len(plan.base.vocab.char_index) if plan.base else 0,
        batches_per_epoch=dataset.batches_per_epoch,
        start_epoch=epochs_done + 1, resumed_batches=batches_done, devices=distribute.describe(strategy)))

    try:
        if batches_done:  # finish the interrupted epoch first, from the batch after the last one trained
            _fit(model, strategy, dataset, callbacks, epochs_done, epochs_done + 1, batches_done)
            epochs_done += 1
        last_epoch = BUDGET_EPOCHS if config.time_budget else config.epochs
        if not _stop_reason(stopper, model) and epochs_done < last_epoch:
            _fit(model, strategy, dataset, callbacks, epochs_done, last_epoch, 0)
    except Diverged as diverged:
        end: Finished | Stopped | Failed = Failed(diverged.epoch, diverged.loss)
    else:
        reason = _stop_reason(stopper, model)
        if reason == "time budget":
            end = Finished(epochs=position.epoch + 1, best_val_loss=evaluation.best_val_loss)
        elif reason:
            end = _stopped(reason, position, checkpointer)
        else:
            end = Finished(epochs=config.epochs, best_val_loss=evaluation.best_val_loss)
    on_event(end)
    return end


WORDS_READ = 20_000_000  # characters of the corpus whose words words.json counts (a few seconds)
BUDGET_EPOCHS = 1_000_000  # a time-budget run's epochs: as many as its budget allows


def _strategy(config: Config, resumed: bool):
    """The run's `tf.distribute` strategy (distribute.strategy)."""
    try:
        return distribute.strategy(config.devices)
    except TooManyDevices as error:  # a resumed run's own devices, on a machine with fewer
        if resumed and _trained_on(config) > error.available:
            raise DevicesChanged(_trained_on(config), error.available, config.batch_size) from None
        raise


def _on_devices(config: Config, replicas: int, resumed: bool) -> Config:
    """The config with its global batch on `replicas` devices; a resumed run must keep its number."""
    if resumed and _trained_on(config) != replicas:
        raise DevicesChanged(_trained_on(config), replicas, config.batch_size)
    return config.replace(global_batch_size=config.batch_size * replicas)


def _trained_on(config: Config) -> int:
    """The devices a run trained on (a run from before devices existed: one)."""
    return (config.global_batch_size or config.batch_size) // config.batch_size


def _stop_reason(stopper: StopWhenAsked, model: keras.Model) -> str | None:
    # On a cluster a worker also stops when another one does (distribute.fit_on_cluster)
    return stopper.reason or ("another worker stopped" if model.stop_training else None)


def _data_config(config: Config, strategy) -> Config:
    """The data pipeline's settings. On several devices `fit` first takes a batch to build the model
    (Keras' `_maybe_symbolic_build`), and the worker pool then serves the epoch's batches from where
    that left off: the windows would not be one device's, nor the order a resume relies on. There
    the batches are read in the training thread (tf.data prefetches them)."""
    several = strategy.num_replicas_in_sync > 1 and not distribute.cluster()
    return config.replace(workers=0) if several else config


def _writer(run: RunDir) -> RunDir:
    """Where this process writes the run: its folder, or (a worker of a cluster other than the chief)
    a folder of its own that is deleted at exit. Every worker saves as the chief does: a save may
    read variables that all the workers must read together."""
    role = distribute.cluster()
    if role is None or role.chief:
        return run
    scratch = tempfile.mkdtemp(prefix="chargen-worker-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return RunDir(Path(scratch) / "run")


def _without(kind: type, on_event: Subscriber) -> Subscriber:
    return lambda event: None if isinstance(event, kind) else on_event(event)


def _stopped(reason: str, position: Position, checkpointer: SaveCheckpoint) -> Stopped:
    """A stop inside an epoch keeps a checkpoint of it; one at an epoch's end has one already."""
    if position.epoch_complete:
        return Stopped(reason, epochs_done=position.epoch + 1, batches_done=0)
    checkpointer.save(position.epoch, position.batches_done)
    return Stopped(reason, epochs_done=position.epoch, batches_done=position.batches_done)


def _through(rows: list[dict], epochs_done: int) -> list[dict]:
    """The rows of the epochs a resumed run keeps (a budget run has none for those it did not evaluate)."""
    return [row for row in rows if row["epoch"] <= epochs_done]


def _fit(model: keras.Model, strategy, dataset: TrainWindows, callbacks: list, first_epoch: int, end_epoch: int,
         skip: int) -> None:
    dataset.set_epoch(first_epoch, skip)
    try:
        if distribute.cluster():
            distribute.fit_on_cluster(model, strategy, dataset, callbacks, first_epoch, end_epoch)
        else:
            # shuffle=False: fit would otherwise reorder our batches with Python's global `random`,
            # and a resumed run would no longer see the data in the order it was stopped in.
            model.fit(dataset, epochs=end_epoch, initial_epoch=first_epoch, callbacks=callbacks, verbose=0,
                      shuffle=False)
    finally:
        # A stop mid-epoch skips the data adapter's epoch end: shut its worker pool down ourselves.
        stop_data_loader(dataset)


def _weight_average(model: keras.Model, config: Config, saved: list[np.ndarray] | None,
                    state_path: Path) -> WeightAverage | None:
    """The run's weight average: the checkpoint's, or a new one from the weights as they stand."""
    if not config.ema_momentum:
        return None
    weights = [variable.numpy() for variable in model.trainable_variables]
    if saved is not None and [a.shape for a in saved] != [w.shape for w in weights]:
        raise DamagedRun(state_path, "its weight average does not match its model")
    return WeightAverage(weights if saved is None else saved, config.ema_momentum)
