"""A time budget: the run is planned for its seconds, and ends there with its schedule finished."""

from __future__ import annotations

import threading
import time

import keras
import pytest

from chargen_tui.callbacks import BUDGET_DECAY, budget_rate
from chargen_tui.errors import BudgetSpent
from chargen_tui.events import EpochEnd, Finished, Stopped, TrainingStarted
from chargen_tui.run_dir import RunDir

from .helpers import run_in_thread, tiny_config, train_tiny
from .test_training import Recorder

# Long enough that the decay (its last fifth, 2.4 s) spans many batches even on a slow machine: the
# last batch's rate is the one for the moment it began, up to a batch before the end.
BUDGET = 12.0


def test_the_rate_holds_its_peak_then_decays_over_the_last_fifth():
    config = tiny_config(time_budget=100.0, learning_rate=0.01, final_lr_fraction=0.1)
    assert [round(budget_rate(config, t), 6) for t in (0, 50, 80, 90, 100, 130)] == \
        [0.01, 0.01, 0.01, 0.0055, 0.001, 0.001]


class Timed(Recorder):
    """A Recorder that also notes when each event came (seconds since the first)."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def __call__(self, event):
        super().__call__(event)
        self.times.append(time.monotonic())

    def seconds(self, kind) -> list[tuple[object, float]]:
        return [(e, t - self.times[0]) for e, t in zip(self, self.times) if isinstance(e, kind)]


def test_a_budget_run_ends_at_its_budget_with_its_schedule_finished(tmp_path, text):
    run, events = RunDir(tmp_path / "run"), Timed()
    train_tiny(run, text, events, time_budget=BUDGET, epochs=1)  # epochs is no limit in a budget run
    assert events.of(TrainingStarted)[0].epochs == 0
    finished = events.of(Finished)[0]
    assert finished.epochs > 1  # more than --epochs 1, as the budget allowed
    # Evaluated (a row in metrics.jsonl, samples, an EpochEnd) before the decay, and at the end only.
    *before, (last, _) = events.seconds(EpochEnd)
    evaluated = [end.epoch for end, _ in before]
    assert evaluated == list(range(1, len(before) + 1)) and len(before) + 1 < finished.epochs == last.epoch
    assert all(seconds < (1 - BUDGET_DECAY) * BUDGET + 0.5 for _, seconds in before)
    assert [row["epoch"] for row in run.read_metrics()] == [row["epoch"] for row in run.read_samples()] == \
        evaluated + [last.epoch]
    checkpoint = run.read_checkpoint()
    assert BUDGET <= checkpoint.seconds_trained < BUDGET + 2
    trained = keras.saving.load_model(run.checkpoint_model_path(checkpoint), safe_mode=True)
    rate = float(trained.optimizer.learning_rate.numpy())
    peak = tiny_config().learning_rate
    assert 0.1 * peak <= rate < 0.15 * peak  # decayed to its end (the last batch's rate, set as it began)
    # The last, partial epoch was evaluated and its model saved: what the budget bought.
    assert run.read_metrics()[-1]["epoch"] == finished.epochs and run.model_path.exists()
    with pytest.raises(BudgetSpent, match="trained its time_budget of 12 s already"):
        train_tiny(run, text, resume=True, time_budget=BUDGET)


def test_an_interrupted_budget_run_resumes_with_its_plan(tmp_path, text):
    run, stop = RunDir(tmp_path / "run"), threading.Event()
    first = Recorder(stop, stop_after=10)
    run_in_thread(lambda: train_tiny(run, text, first, stop=stop, time_budget=BUDGET))
    assert first.of(Stopped) and run.read_checkpoint().seconds_trained < BUDGET
    second = Recorder()
    train_tiny(run, text, second, resume=True, time_budget=BUDGET)
    assert second.of(Finished)
    assert BUDGET <= run.read_checkpoint().seconds_trained < BUDGET + 2  # both sessions' time counted once
