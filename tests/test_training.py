"""The training loop: events, the run folder, stop and resume, failures; fit from a non-main thread."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time

import keras
import numpy as np
import pytest
from rich.console import Console

from chargen_tui.cli import say
from chargen_tui.corpus import split_corpus
from chargen_tui.errors import AlreadyTrained, DamagedRun, NothingToResume, RunExists, UnseenCharacters
from chargen_tui.events import (BatchProgress, CheckpointSaved, EpochEnd, Failed, Finished, Samples, Stopped,
                                TrainingStarted)
from chargen_tui.report import TrainingReport
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler

from .helpers import child_processes, make_text, run_in_thread, tiny_config, train_tiny


class Recorder(list):
    """A subscriber that keeps every event, and can ask for a stop after `stop_after` batches."""

    def __init__(self, stop: threading.Event | None = None, stop_after: int | None = None):
        super().__init__()
        self.stop, self.stop_after = stop, stop_after

    def __call__(self, event):
        self.append(event)
        if self.stop is not None and isinstance(event, BatchProgress) and event.batch == self.stop_after:
            self.stop.set()

    def of(self, kind):
        return [e for e in self if isinstance(e, kind)]


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory, text) -> tuple[RunDir, Recorder]:
    """Two epochs with two data worker processes, from a thread that is not the main one (as the app runs)."""
    run_dir = RunDir(tmp_path_factory.mktemp("two_epochs") / "run")
    events = Recorder()
    run_in_thread(lambda: train_tiny(run_dir, text, events, epochs=2, workers=2, use_multiprocessing=True,
                                     corpus="tiny"))
    return run_dir, events


def test_a_run_reports_its_start_every_batch_each_epoch_its_samples_and_its_end(two_epochs):
    run_dir, events = two_epochs
    started = events.of(TrainingStarted)[0]
    assert (started.start_epoch, started.epochs, started.corpus_name) == (1, 2, "tiny")
    progress = events.of(BatchProgress)
    assert [p.batch for p in progress if p.epoch == 1] == list(range(1, started.batches_per_epoch + 1))
    assert all(p.loss > 0 and p.chars_per_sec > 0 for p in progress)
    ends = events.of(EpochEnd)
    assert [e.epoch for e in ends] == [1, 2] and ends[1].val_loss < ends[0].val_loss
    samples = events.of(Samples)
    assert [s.epoch for s in samples] == [1, 2]
    assert set(samples[0].texts) == {0.2, 0.5, 1.0, 1.2} and all(len(t) == 20 for t in samples[0].texts.values())
    assert isinstance(events[-1], Finished) and events[-1].best_val_loss == min(e.val_loss for e in ends)


def test_a_finished_run_leaves_no_data_worker_behind(two_epochs):
    assert child_processes() == []


def test_a_run_writes_its_folder_and_keeps_only_the_last_checkpoint(two_epochs):
    run_dir, _ = two_epochs
    rows = run_dir.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2]
    assert {"epoch", "loss", "val_loss", "seconds", "chars_per_sec"} <= set(rows[0])
    assert rows[1]["chars_per_sec"] > 0
    assert json.loads(run_dir.config_path.read_text())["seq_len"] == 16
    assert set(json.loads(run_dir.vocab_path.read_text())) == {"char_index"}
    assert [s["epoch"] for s in run_dir.read_samples()] == [1, 2]
    keras.saving.load_model(run_dir.model_path, safe_mode=True)
    assert run_dir.read_checkpoint().epochs_done == 2
    assert sorted(p.name for p in run_dir.checkpoint_dir.iterdir()) == [
        "epoch-00002-batch-0000000.average.npz", "epoch-00002-batch-0000000.keras",
        "state.json"]  # older checkpoints are cleaned up


def test_stop_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path):
    text = make_text(12000, seed=1)
    knobs = {"epochs": 2, "workers": 1, "use_multiprocessing": True, "dropout": 0.2}
    whole = RunDir(tmp_path / "whole")
    train_tiny(whole, text, **knobs)

    parted = RunDir(tmp_path / "parted")
    stop = threading.Event()
    events = Recorder(stop, stop_after=5)
    run_in_thread(lambda: train_tiny(parted, text, events, stop=stop, **knobs))
    assert events.of(Stopped) == [Stopped("stop requested", epochs_done=0, batches_done=5)]
    assert child_processes() == []
    checkpoint = parted.read_checkpoint()
    assert (checkpoint.epochs_done, checkpoint.batches_done) == (0, 5)
    saved = keras.saving.load_model(parted.checkpoint_model_path(checkpoint), safe_mode=True)
    assert int(saved.optimizer.iterations.numpy()) == 5  # optimizer state is in the checkpoint

    resumed = Recorder()
    train_tiny(parted, text, resumed, resume=True, **knobs)
    started = resumed.of(TrainingStarted)[0]
    assert (started.start_epoch, started.resumed_batches) == (1, 5)
    assert resumed.of(BatchProgress)[0].batch == 6  # it goes on from the next batch
    # Same data order, optimizer state and dropout masks: the resumed run ends where the whole one did.
    assert [r["epoch"] for r in parted.read_metrics()] == [1, 2]
    np.testing.assert_allclose(parted.read_metrics()[1]["val_loss"], whole.read_metrics()[1]["val_loss"], rtol=1e-4)


def test_resume_after_finished_epochs_continues_the_curve(tmp_path, text):
    run_dir = RunDir(tmp_path / "run")
    train_tiny(run_dir, text, epochs=1)
    first = run_dir.read_metrics()[0]
    with pytest.raises(AlreadyTrained) as refused:
        train_tiny(run_dir, text, resume=True, epochs=1)
    assert "trained 1 epochs already: pass a larger --epochs" in say(refused.value)
    events = Recorder()
    train_tiny(run_dir, text, events, resume=True, epochs=2)
    assert events.of(TrainingStarted)[0].start_epoch == 2
    second = run_dir.read_metrics()[1]
    assert second["epoch"] == 2 and second["loss"] < first["loss"]  # no jump back to an untrained loss


@pytest.fixture(scope="module")
def averaged_run(tmp_path_factory, text) -> RunDir:
    """One tiny epoch with the default weight average (its momentum over the epoch's 42 steps)."""
    run_dir = RunDir(tmp_path_factory.mktemp("averaged") / "run")
    train_tiny(run_dir, text)
    return run_dir


def _scores(run_dir: RunDir, text: str) -> tuple[float, float]:
    """The validation loss of model.keras and of the checkpoint's weights it was averaged from."""
    config, vocab, checkpoint = tiny_config(), run_dir.read_vocab(), run_dir.read_checkpoint()
    val = split_corpus(vocab.encode(text), config.seq_len, config.val_fraction).val
    saved = keras.saving.load_model(run_dir.model_path, safe_mode=True)
    trained = keras.saving.load_model(run_dir.checkpoint_model_path(checkpoint))
    return tuple(Sampler.from_model(model, vocab, config.seq_len).contiguous_loss(val) for model in (saved, trained))


def test_the_saved_model_is_the_weight_average_not_the_weights(averaged_run):
    saved = keras.saving.load_model(averaged_run.model_path, safe_mode=True)
    checkpoint = averaged_run.read_checkpoint()
    trained = keras.saving.load_model(averaged_run.checkpoint_model_path(checkpoint))
    for saved_value, average_value in zip(saved.trainable_variables, averaged_run.read_average(checkpoint),
                                          strict=True):
        np.testing.assert_array_equal(saved_value.numpy(), average_value)
    assert not np.allclose(saved.trainable_variables[1].numpy(), trained.trainable_variables[1].numpy(), atol=1e-3)


def test_the_reported_validation_loss_is_the_saved_models(averaged_run, text):
    saved_score, _ = _scores(averaged_run, text)
    assert saved_score == pytest.approx(averaged_run.read_metrics()[0]["val_loss"], rel=1e-6)


def test_the_average_is_warmed_up_so_a_short_run_is_not_dragged_back_to_its_start(averaged_run, text):
    saved_score, weights_score = _scores(averaged_run, text)
    assert saved_score < weights_score + 0.05


def test_a_damaged_weight_average_is_one_clear_error(averaged_run, tmp_path, text):
    run_dir = RunDir(tmp_path / "run")
    shutil.copytree(averaged_run.path, run_dir.path)
    (run_dir.checkpoint_dir / run_dir.read_checkpoint().average_file).write_bytes(b"PK\x03\x04 half an npz")
    with pytest.raises(DamagedRun, match="average.npz is damaged"):
        train_tiny(run_dir, text, resume=True, epochs=2)


def test_without_averaging_the_saved_model_is_the_weights(tmp_path, text):
    unaveraged = RunDir(tmp_path / "unaveraged")
    train_tiny(unaveraged, text, ema_momentum=0.0)
    checkpoint = unaveraged.read_checkpoint()
    assert checkpoint.average_file == "" and unaveraged.read_average(checkpoint) is None
    weights = keras.saving.load_model(unaveraged.checkpoint_model_path(checkpoint)).trainable_variables
    saved = keras.saving.load_model(unaveraged.model_path, safe_mode=True).trainable_variables
    for saved_value, value in zip(saved, weights, strict=True):
        np.testing.assert_array_equal(saved_value.numpy(), value.numpy())


def test_time_limit_stops_cleanly_with_a_checkpoint(tmp_path):
    run_dir = RunDir(tmp_path / "run")
    events = Recorder()
    train_tiny(run_dir, make_text(12000), events, epochs=50, time_limit=2.0)
    stopped = events.of(Stopped)
    assert len(stopped) == 1 and stopped[0].reason == "time limit"
    checkpoint = run_dir.read_checkpoint()
    assert (checkpoint.epochs_done, checkpoint.batches_done) == (stopped[0].epochs_done, stopped[0].batches_done)
    assert events.of(CheckpointSaved)[-1].path.endswith(checkpoint.model_file)
    assert child_processes() == []


def test_exploding_loss_fails_clearly_and_saves_nothing_bad(tmp_path, text):
    run_dir = RunDir(tmp_path / "run")
    events = Recorder()
    train_tiny(run_dir, text, events, learning_rate=1e30, clipnorm=1e30)
    failed = events.of(Failed)
    assert len(failed) == 1
    printed = io.StringIO()
    TrainingReport(Console(file=printed, width=200))(failed[0])  # as `chargen-tui train` says it
    assert "lower --learning-rate" in printed.getvalue()
    assert ("NaN" in printed.getvalue()) or ("exploded" in printed.getvalue())
    assert not run_dir.model_path.exists() and run_dir.read_checkpoint() is None
    assert events.of(EpochEnd) == []


def test_a_new_run_into_a_run_folder_is_refused(two_epochs, text):
    run_dir, _ = two_epochs
    with pytest.raises(RunExists) as refused:
        train_tiny(run_dir, text)
    assert "already holds a run: add --resume" in say(refused.value)


def test_resuming_with_characters_the_run_never_saw_is_refused(two_epochs, text):
    run_dir, _ = two_epochs
    with pytest.raises(UnseenCharacters) as refused:
        train_tiny(run_dir, text + "Ж§", resume=True, epochs=3)
    assert "characters this run never saw" in say(refused.value)


def test_resuming_an_empty_folder_is_refused(tmp_path, text):
    with pytest.raises(NothingToResume) as refused:
        train_tiny(RunDir(tmp_path / "empty"), text, resume=True)
    assert "holds no run to resume" in say(refused.value)


def test_a_kill_between_checkpoints_leaves_the_last_one_loadable(tmp_path, text):
    """The commit point is state.json: a half-written temp file beside it changes nothing."""
    run_dir = RunDir(tmp_path / "run")
    train_tiny(run_dir, text)
    (run_dir.checkpoint_dir / ".epoch-00002-batch-0000000.xyz.tmp.keras").write_bytes(b"half a zip")
    checkpoint = run_dir.read_checkpoint()
    keras.saving.load_model(run_dir.checkpoint_model_path(checkpoint), safe_mode=True)
    events = Recorder()
    train_tiny(run_dir, text, events, resume=True, epochs=2)
    assert isinstance(events[-1], Finished)


def test_core_imports_no_user_interface():
    """The engine stands alone: the app and the CLI sit on top of it, never the other way."""
    import pathlib
    import subprocess
    import sys
    code = ("import sys, chargen_tui.training, chargen_tui.sampling, chargen_tui.run_dir, chargen_tui.plan;"
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "False"
    # Keras itself imports rich, so check our own core modules' imports instead.
    package = pathlib.Path(__file__).parent.parent / "chargen_tui"
    ui_modules = {"api.py", "cli.py", "report.py", "__main__.py"}  # the layers on top of the core
    for path in package.glob("*.py"):
        if path.name not in ui_modules:
            source = path.read_text()
            assert "import rich" not in source and "from rich" not in source, path.name


def test_batch_progress_is_timely(tmp_path, text):
    """Progress arrives while an epoch runs (the UI can draw it), not all at the end."""
    stamps = []
    train_tiny(RunDir(tmp_path / "run"), text,
               lambda e: stamps.append(time.monotonic()) if isinstance(e, BatchProgress) else None)
    assert len(stamps) > 10 and stamps[-1] - stamps[0] > 0
