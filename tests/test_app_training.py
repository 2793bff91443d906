"""The training screen, driven with Pilot: a real (tiny) training, Stop and Resume, quitting, watch mode."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time

from textual import events
from textual.widgets import Input, Select

from chargen_tui.app.app import ChargenApp
from chargen_tui.app.screens.dialogs import Choice
from chargen_tui.app.screens.training import TRAINING_NICENESS
from chargen_tui.app.widgets.loss_chart import LossChart
from chargen_tui.app.widgets.samples_view import SamplesView
from chargen_tui.run_dir import RunDir

from .app_helpers import drawn_text, notifications, wait_for
from .helpers import child_processes, make_text

TINY = {"seq_len": "16", "batch_size": "8", "embedding_dim": "8", "units": "16", "learning_rate": "0.01",
        "sample_length": "20", "epochs": "2"}


async def fill_form(pilot, corpus, out, **knobs) -> None:
    screen = pilot.app.training
    screen.query_one("#corpus", Input).value = str(corpus)
    screen.query_one("#out", Input).value = str(out)
    for name, value in {**TINY, **knobs}.items():
        screen.query_one(f"#knob-{name}", Input).value = value
    await pilot.pause()


def corpus_file(tmp_path, chars=6000):
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(chars), encoding="utf-8")
    return path


async def first_epoch_shown(pilot) -> tuple[LossChart, SamplesView]:
    """Wait until the first epoch's losses are in the chart and its samples drawn."""
    screen = pilot.app.training
    chart, samples = screen.query_one(LossChart), screen.query_one(SamplesView)
    # The samples' widget is drawn a frame after it is mounted: wait for the drawing too.
    await wait_for(pilot, lambda: len(samples.children) == 1 and len(chart.points["val"]) == 1
                   and "epoch 1" in drawn_text(samples.children[0]), what="the first epoch's samples and losses")
    return chart, samples


async def stopped_after_the_first_epoch(pilot, tmp_path) -> None:
    """Start a run of 3 epochs and stop it once the first has ended."""
    await fill_form(pilot, corpus_file(tmp_path), tmp_path / "run", epochs="3")
    await pilot.press("f5")
    await first_epoch_shown(pilot)
    await pilot.press("f7")
    await wait_for(pilot, lambda: not pilot.app.training.running, what="training to stop")


async def test_an_epoch_shows_its_losses_progress_and_samples(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.training
        await fill_form(pilot, corpus_file(tmp_path), tmp_path / "run", epochs="1")
        await pilot.press("f5")
        chart, samples = await first_epoch_shown(pilot)
        assert len(chart.points["train"]) == 1 and len(chart.points["batch"]) > 1
        assert "loss" in drawn_text(screen.query_one("#progress-line"))
        shown = drawn_text(samples.children[0])
        assert "epoch 1" in shown and all(f"T {t}" in shown for t in ("0.2", "0.5", "1.0", "1.2"))


async def test_f7_stops_with_a_checkpoint_and_ends_the_data_workers(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await stopped_after_the_first_epoch(pilot, tmp_path)
        checkpoint = RunDir(tmp_path / "run").read_checkpoint()
        assert (checkpoint.epochs_done, checkpoint.batches_done) >= (1, 0)
        assert "stopped" in drawn_text(app.training.query_one("#run-status"))
        assert child_processes() == []


async def test_f6_resumes_a_stopped_run_to_its_end(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await stopped_after_the_first_epoch(pilot, tmp_path)
        await pilot.press("f6")
        await wait_for(pilot, lambda: "finished" in drawn_text(app.training.query_one("#run-status")),
                       what="the resumed run to finish")
        assert [row["epoch"] for row in RunDir(tmp_path / "run").read_metrics()] == [1, 2, 3]
        assert len(app.training.query_one(SamplesView).children) == 3
    assert child_processes() == []


async def test_the_run_just_trained_is_what_ctrl_l_offers_to_write_with(tmp_path):
    app = ChargenApp(mode="train", autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, corpus_file(tmp_path), tmp_path / "run", epochs="1")
        await pilot.press("f5")
        await wait_for(pilot, lambda: "finished" in drawn_text(app.training.query_one("#run-status")),
                       what="the run to finish")
        await pilot.press("ctrl+t", "ctrl+l")
        assert app.screen.query_one("#path", Input).value == str(tmp_path / "run")


async def test_a_key_is_handled_within_100_ms_while_training_runs(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.training
        await fill_form(pilot, corpus_file(tmp_path, 20000), tmp_path / "run", epochs="50")
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.progress is not None, what="training to start")
        # Sent as a terminal sends it: Pilot.press would also wait for the CPU to go idle, which
        # training never lets happen.
        started = time.perf_counter()
        app._driver.send_message(events.Key("f7", None))
        while not screen.stop_event.is_set():
            await asyncio.sleep(0.001)
        assert time.perf_counter() - started < 0.1
        assert "stopping" in drawn_text(screen.query_one("#run-status"))
        # TensorFlow's threads run below the UI's in the CPU's queue (typing beside it: docs/experiments.md)
        niceness = {int(tid): os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir("/proc/self/task")}
        assert niceness[threading.get_native_id()] == 0 and list(niceness.values()).count(TRAINING_NICENESS) > 2
        await wait_for(pilot, lambda: not screen.running, what="training to stop")


async def test_a_wrong_setting_turns_red_and_says_why_as_it_is_typed(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, corpus_file(tmp_path), tmp_path / "run", seq_len="abc")
        assert app.training.query_one("#knob-seq_len", Input).has_class("-invalid")
        assert "seq len: 'abc' is not a whole number" in drawn_text(app.training.query_one("#setup-message"))


async def refused(key: str, corpus, out, **knobs) -> str:
    """Fill the form, press `key` (F5 or F6), check that nothing started, and return what the form says."""
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, corpus, out, **knobs)
        await pilot.press(key)
        assert app.training.worker is None
        return drawn_text(app.training.query_one("#setup-message"))


async def test_f5_with_a_wrong_setting_says_why_in_one_line_and_starts_nothing(tmp_path):
    message = await refused("f5", corpus_file(tmp_path), tmp_path / "run", seq_len="abc")
    assert "error:" in message and "seq len" in message


async def test_f5_with_a_missing_corpus_says_it_does_not_exist(tmp_path):
    assert "does not exist" in await refused("f5", tmp_path / "missing.txt", tmp_path / "run")


async def test_an_impossible_value_says_the_field_and_what_it_must_be(tmp_path):
    message = await refused("f5", corpus_file(tmp_path), tmp_path / "run", dropout="1.5")
    assert "dropout must be at least 0 and below 1" in message and "--" not in message


async def test_f5_on_a_folder_that_holds_a_run_says_f6_resumes_it(tmp_path, trained_run):
    """The app says what to do in keys and fields, never in the CLI's flags."""
    shutil.copytree(trained_run.path, tmp_path / "run")
    message = await refused("f5", corpus_file(tmp_path), tmp_path / "run")
    assert "already holds a run: F6 resumes it" in message and "--" not in message


async def test_f6_on_a_folder_without_a_run_says_f5_starts_one(tmp_path):
    message = await refused("f6", corpus_file(tmp_path), tmp_path / "empty")
    assert "holds no run to resume: F5 starts one" in message and "--" not in message


async def test_quitting_while_training_asks_then_stops_with_a_checkpoint_and_no_orphans(tmp_path):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_form(pilot, corpus_file(tmp_path, 20000), tmp_path / "run", epochs="50")
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.training.progress is not None, what="training to start")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice), what="the question")
        await pilot.press("enter")  # Stop and quit
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert RunDir(tmp_path / "run").read_checkpoint().batches_done > 0
    assert child_processes() == []


async def test_watch_mode_follows_the_files_of_a_run_another_process_writes(tmp_path, trained_run):
    run_dir = RunDir(tmp_path / "run")
    shutil.copytree(trained_run.path, run_dir.path)
    app = ChargenApp(mode="train", watch=run_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.training
        chart, samples = screen.query_one(LossChart), screen.query_one(SamplesView)
        await wait_for(pilot, lambda: len(chart.points["val"]) == 3, what="the run's epochs")
        assert len(samples.children) == 3
        metrics = run_dir.read_metrics()
        run_dir.write_metrics(metrics + [{**metrics[-1], "epoch": 4, "val_loss": 1.5}])
        run_dir.write_progress({"epoch": 5, "batch": 7, "batches": 20, "loss": 1.6, "chars_per_sec": 1000.0,
                                "eta_seconds": 3.0, "time": 0})
        await wait_for(pilot, lambda: len(chart.points["val"]) == 4, what="the new epoch")
        await wait_for(pilot, lambda: "batch 7/20" in drawn_text(screen.query_one("#progress-line")),
                       what="the progress of the epoch in progress")
        assert screen.worker is None  # it only reads


def test_opening_the_app_does_not_import_tensorflow():
    code = ("import sys; import chargen_tui.app.app, chargen_tui.cli; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"


async def test_start_from_fills_the_base_size_and_the_fine_tuning_defaults_then_trains(tmp_path, trained_run):
    app = ChargenApp(mode="train")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = app.training

        def field(name: str) -> str:
            return screen.query_one(f"#knob-{name}", Input).value

        kind = screen.query_one("#start-from-kind", Select)
        kind.value = "default"
        await pilot.pause()
        assert (field("units"), field("learning_rate"), field("epochs")) == ("256", "0.006", "10")
        kind.value = "nothing"
        await pilot.pause()
        assert (field("units"), field("learning_rate"), field("epochs")) == ("256", "0.006", "23")
        kind.value = "folder"
        await pilot.pause()
        screen.query_one("#knob-start_from", Input).value = str(trained_run.path)
        await pilot.pause()
        assert (field("units"), field("embedding_dim"), field("learning_rate")) == ("32", "8", "0.006")

        await fill_form(pilot, corpus_file(tmp_path), tmp_path / "run", seq_len="40", units="32", embedding_dim="8")
        await pilot.press("f5")
        await wait_for(pilot, lambda: "starting from" in notifications(app), what="the note of the base")
        assert RunDir(tmp_path / "run").read_config().start_from == str(trained_run.path.resolve())
        await pilot.press("f7")
        await wait_for(pilot, lambda: not screen.running, what="training to stop")
