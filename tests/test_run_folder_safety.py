"""A run folder has one writer at a time, and links planted in the folders we write are never followed.

The second writers here are real: a `chargen-tui` process, or this one while another process (or
this test, through lock.py) holds the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chargen_tui.api import train
from chargen_tui.app.wording import say as app_say
from chargen_tui.cli import say
from chargen_tui.config import Config
from chargen_tui.document import Autosave
from chargen_tui.errors import LinkRefused, NoCheckpoint, RunInUse
from chargen_tui.events import Finished
from chargen_tui.plan import plan_run
from chargen_tui.run_dir import RunDir
from chargen_tui.vocab import Vocab

from .helpers import make_text, tiny, train_tiny
from .test_app_training import corpus_file, refused
from .test_cli import TINY, assert_one_line_error, cli


ROOT = Path(__file__).resolve().parents[1]  # a process started here imports this chargen_tui


@pytest.fixture
def corpus(tmp_path):
    return corpus_file(tmp_path)


# --- one writer per run folder ----------------------------------------------------------------
def test_a_second_train_or_resume_on_a_folder_being_written_is_one_line_naming_the_writer(tmp_path, corpus,
                                                                                         trained_run):
    fresh, finished = RunDir(tmp_path / "fresh"), RunDir(tmp_path / "finished")
    shutil.copytree(trained_run.path, finished.path)
    before = _files(finished)
    for run, resume in ((fresh, []), (finished, ["--resume", "--epochs", "9"])):
        held = run.lock()  # the first writer, as a training holds it
        result = cli("train", str(corpus), "--out", str(run.path), *resume, *TINY)
        assert_one_line_error(result, f"is being written by process {os.getpid()}", "wait for it to end",
                              "--out")
        held.release()
    assert sorted(os.listdir(fresh.path)) == [".lock"]  # the second wrote nothing
    assert before == _files(finished)


def _files(run: RunDir) -> dict[str, bytes]:
    """The run folder's files and their bytes (but the lock file, which names its last writer)."""
    return {path.name: path.read_bytes() for path in run.path.iterdir() if path.is_file() and path.name != ".lock"}


async def test_the_api_and_the_app_refuse_a_folder_another_writer_holds(tmp_path, corpus):
    run = RunDir(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(run.path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(RunInUse) as refused_api:
            train(str(corpus), out=run.path, quiet=True, **tiny())
        assert f"is being written by process {holder.pid}: wait for it to end" in str(refused_api.value)
        message = await refused("f5", corpus, run.path)
        assert f"is being written by process {holder.pid}: wait for it to end" in message and "--" not in message
    finally:
        holder.kill()
        holder.wait()


_HOLD = """
import sys, time
from chargen_tui.run_dir import RunDir
lock = RunDir(sys.argv[1]).lock()
print("holding", flush=True)
time.sleep(120)
"""

_HOLD_THEN_FORK = """
import os, sys, time
from chargen_tui.run_dir import RunDir
lock = RunDir(sys.argv[1]).lock()
started, tell = os.pipe()
if os.fork() == 0:  # as the data loader's workers are: forked, and alive after their parent
    os.write(tell, b"x")
    time.sleep(120)
    os._exit(0)
os.read(started, 1)  # the child runs its own code: it has started
print("holding", flush=True)
time.sleep(120)
"""


def test_a_lock_left_by_a_killed_writer_does_not_block(tmp_path):
    run = RunDir(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_THEN_FORK, str(run.path)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "holding"
        holder.kill()  # SIGKILL: no chance to clean up; its forked child lives on
        holder.wait()
        assert (run.path / ".lock").read_text().strip() == str(holder.pid)  # the stale file is there
        assert isinstance(train_tiny(run, make_text(6000)), Finished)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)


def test_training_releases_the_folder_so_that_resume_and_a_new_plan_work(tmp_path):
    run, text = RunDir(tmp_path / "run"), make_text(6000)
    assert isinstance(train_tiny(run, text), Finished)
    plan = plan_run(run, tiny(epochs=2), resume=True, text=text)  # the training let the folder go
    del plan  # a plan never trained lets it go with the object
    assert isinstance(train_tiny(run, text, resume=True, epochs=2), Finished)
    assert [row["epoch"] for row in run.read_metrics()] == [1, 2]


def test_resuming_a_run_that_never_reached_a_checkpoint_says_so_and_changes_nothing(tmp_path, corpus):
    run = RunDir(tmp_path / "run")  # a training killed in its first epoch leaves its settings only
    run.write_start(Config(**tiny(corpus=str(corpus))), Vocab.from_text(corpus.read_text(), False))
    before = _files(run)
    with pytest.raises(NoCheckpoint) as refused_plan:
        plan_run(run, {"epochs": 2}, resume=True)
    assert "holds a run's settings but no checkpoint to resume from" in say(refused_plan.value)
    assert "leave out --resume" in say(refused_plan.value) and "F5" in app_say(refused_plan.value)
    result = cli("train", str(corpus), "--out", str(run.path), "--resume")
    assert_one_line_error(result, "no checkpoint to resume from", "--out")
    assert before == _files(run)


def test_a_start_from_that_fails_leaves_no_run_folder_behind(tmp_path, corpus, trained_run):
    base = tmp_path / "base"
    shutil.copytree(trained_run.path, base)
    config = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps(config | {"units": config["units"] // 2}))  # not its weights'
    out = tmp_path / "runs" / "tuned"
    result = cli("train", str(corpus), "--from", str(base), "--out", str(out), "--epochs", "1")
    assert_one_line_error(result, "does not match its own config.json")
    assert not (tmp_path / "runs").exists()  # nor the folder above it, made for it


def test_temporary_files_left_by_a_kill_are_cleared_when_the_folder_is_next_written(tmp_path):
    run, text = RunDir(tmp_path / "run"), make_text(6000)
    train_tiny(run, text)
    leftovers = [run.path / ".model.0f3a9c1e.tmp.keras", run.path / ".progress.00aa11bb.tmp.json",
                 run.checkpoint_dir / ".epoch-00002-batch-0000000.average.deadbeef.tmp.npz"]
    kept = [run.path / ".notes", run.path / "my.tmp.keras"]  # not ours: left alone
    for path in leftovers + kept:
        path.write_bytes(b"half")
    plan = plan_run(run, tiny(epochs=2), resume=True, text=text)
    assert not any(path.exists() for path in leftovers) and all(path.exists() for path in kept)
    plan.release()


# --- links are not followed -------------------------------------------------------------------
def test_a_train_log_link_planted_in_the_run_folder_is_refused_and_its_target_untouched(tmp_path, corpus):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "train.log").symlink_to(victim)
    result = cli("train", str(corpus), "--out", str(tmp_path / "run"), *TINY)
    assert_one_line_error(result, "train.log is a symbolic link", "does not write through links; remove it")
    assert victim.read_text() == "precious\n"


def test_a_checkpoint_folder_link_planted_in_the_run_folder_is_refused(tmp_path, corpus):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint").symlink_to(elsewhere, target_is_directory=True)
    result = cli("train", str(corpus), "--out", str(tmp_path / "run"), *TINY)
    assert_one_line_error(result, "checkpoint is a symbolic link", "remove it")
    assert list(elsewhere.iterdir()) == []


def test_a_model_keras_link_is_replaced_by_a_file_of_our_own_mode_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.keras"
    victim.write_bytes(b"someone else's")
    victim.chmod(0o777)
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    run.model_path.symlink_to(victim)
    train_tiny(run, make_text(6000))
    umask = os.umask(0)
    os.umask(umask)
    assert not run.model_path.is_symlink() and stat.S_IMODE(run.model_path.stat().st_mode) == 0o666 & ~umask
    assert victim.read_bytes() == b"someone else's" and stat.S_IMODE(victim.stat().st_mode) == 0o777


def test_a_linked_cache_or_autosave_folder_is_refused_and_nothing_written_there(tmp_path, trained_run):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "chargen-tui").symlink_to(elsewhere, target_is_directory=True)
    result = cli("generate", str(trained_run.path), "--length", "5", cache=str(tmp_path / "cache"))
    assert_one_line_error(result, "chargen-tui is a symbolic link", "remove it")

    (tmp_path / "cache" / "chargen-tui").unlink()
    (tmp_path / "cache" / "chargen-tui").mkdir()
    (tmp_path / "cache" / "chargen-tui" / "tensorflow.log").symlink_to(elsewhere / "victim.log")
    result = cli("generate", str(trained_run.path), "--length", "5", cache=str(tmp_path / "cache"))
    assert_one_line_error(result, "tensorflow.log is a symbolic link")

    autosave = tmp_path / "cache" / "chargen-tui" / "autosave"
    autosave.symlink_to(elsewhere, target_is_directory=True)
    mode = stat.S_IMODE(elsewhere.stat().st_mode)
    with pytest.raises(LinkRefused, match="autosave is a symbolic link"):
        Autosave(tmp_path / "doc.txt", folder=autosave).write("my unsaved draft")
    assert list(elsewhere.iterdir()) == [] and stat.S_IMODE(elsewhere.stat().st_mode) == mode
