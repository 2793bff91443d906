"""The headless CLI as a user runs it: a real process, real files, real signals."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chargen_tui.errors import UserError
from chargen_tui.run_dir import RunDir

from .helpers import make_text

TINY = ["--seq-len", "16", "--batch-size", "8", "--embedding-dim", "8", "--units", "16",
        "--sample-length", "20", "--learning-rate", "0.01"]
TF_LOG_MARKERS = ("oneDNN", "absl", "cuda", "I0000", "W0000", "tensorflow/", "DeprecationWarning")


def cli(*args: str, timeout: float = 240, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": kwargs.pop("cache", os.environ.get("XDG_CACHE_HOME", "/tmp"))}
    if "env_width" in kwargs:  # argparse wraps --help to $COLUMNS
        env["COLUMNS"] = kwargs.pop("env_width")
    return subprocess.run([sys.executable, "-m", "chargen_tui", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(make_text(6000), encoding="utf-8")
    return path


@pytest.mark.parametrize("write, fragments", [
    (lambda p: None, ("does not exist",)),
    (lambda p: p.write_text(""), ("is empty",)),
    (lambda p: p.write_bytes(b"\x7fELF\x00\x00\x01binary"), ("binary",)),
    (lambda p: p.write_bytes("caf\u00e9 ".encode() * 50 + b"\xff\xfe more"), ("offset 300", "--encoding")),
    (lambda p: p.write_text("too short"), ("needs at least",)),
])
def test_bad_corpus_is_one_clear_line(tmp_path, write, fragments):
    path = tmp_path / "corpus.txt"
    write(path)
    result = cli("train", str(path), "--out", str(tmp_path / "run"))
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "run").exists()  # nothing half-made is left behind


def test_folder_and_impossible_settings_are_one_clear_line(tmp_path, corpus):
    assert_one_line_error(cli("train", str(tmp_path), cwd=tmp_path), "folder")
    assert_one_line_error(cli("train", str(corpus), "--seq-len", "0", cwd=tmp_path), "--seq-len")
    assert_one_line_error(cli("train", str(corpus), "--dropout", "1.5", cwd=tmp_path), "--dropout")
    assert list(tmp_path.iterdir()) == [corpus]
    assert_one_line_error(cli("train", str(corpus), "--out", str(tmp_path / "x"), "--resume"), "no run to resume")
    assert_one_line_error(cli("generate", str(tmp_path / "nothing")), "not a run folder")
    assert_one_line_error(cli("generate", str(tmp_path), "--temperature", "-1"), "--temperature")
    assert_one_line_error(cli("train", str(corpus), "--epochs", "many"), "--epochs", "invalid int")
    assert_one_line_error(cli("train", str(corpus), "--out", str(corpus)), "is a file, not a folder")


def test_an_unwritable_place_is_one_clear_line(tmp_path, corpus, trained_run):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for result in (cli("train", str(corpus), "--out", str(blocker / "run")),
                   cli("generate", str(trained_run.path), "--length", "5", "--out", str(blocker / "out.txt"))):
        assert result.returncode == 1 and result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "a-file" in lines[0], result.stderr


def test_damaged_or_mismatched_run_folder_is_one_clear_line(tmp_path, trained_run):
    damaged = tmp_path / "damaged"
    shutil.copytree(trained_run.path, damaged)
    (damaged / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    assert_one_line_error(cli("generate", str(damaged)), "damaged")

    mismatched = tmp_path / "mismatched"
    shutil.copytree(trained_run.path, mismatched)
    (mismatched / "vocab.json").write_text('{"char_index": {"a": 1, "b": 2}}')
    assert_one_line_error(cli("generate", str(mismatched)), "different runs")

    broken = tmp_path / "broken"
    shutil.copytree(trained_run.path, broken)
    (broken / "config.json").write_text("{not json")
    assert_one_line_error(cli("generate", str(broken)), "config.json", "damaged")


def test_train_prints_epochs_samples_and_keeps_tensorflow_quiet(tmp_path, corpus):
    run = tmp_path / "run"
    result = cli("train", str(corpus), "--out", str(run), "--epochs", "2", "--no-mixed-precision", *TINY)
    assert result.returncode == 0, result.stderr
    assert RunDir(run).read_config().mixed_precision is False  # a switch: "false" is not read as true
    out = result.stdout
    for line in ("epoch 1/2", "epoch 2/2", "bits/char", "temperature 0.2", "temperature 1.2", "done: 2 epochs"):
        assert line in out
    for marker in TF_LOG_MARKERS:
        assert marker not in out and marker not in result.stderr, marker
    assert "\x1b[" not in out  # piped: plain lines, no live progress bar
    assert (run / "train.log").exists()
    assert [row["epoch"] for row in RunDir(run).read_metrics()] == [1, 2]


def test_generate_writes_exactly_the_text_and_a_fixed_seed_repeats(tmp_path, trained_run):
    run = str(trained_run.path)
    first = cli("generate", run, "--prefix", "The king", "--length", "60", "--temperature", "0.8", "--seed", "7")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("The king") and first.stdout.endswith("\n")
    assert len(first.stdout) == len("The king") + 60 + 1 and first.stdout.count("\n") <= 61
    assert first.stderr == ""
    again = cli("generate", run, "--prefix", "The king", "--length", "60", "--temperature", "0.8", "--seed", "7")
    assert again.stdout == first.stdout

    out = tmp_path / "texts.txt"
    three = cli("generate", run, "--prefix", "A", "--length", "30", "-n", "3", "--seed", "1", "--out", str(out))
    assert three.returncode == 0 and three.stdout == ""
    texts = out.read_text(encoding="utf-8").split("\n\n")
    assert len(texts) == 3 and all(t.startswith("A") for t in texts)

    greedy = [cli("generate", run, "--prefix", "The", "--temperature", "0", "--length", "40").stdout
              for _ in range(2)]
    assert greedy[0] == greedy[1] and len(greedy[0]) == 3 + 40 + 1


def test_unknown_characters_in_the_prefix_are_noted_not_fatal(trained_run):
    result = cli("generate", str(trained_run.path), "--prefix", "Жук the", "--length", "10", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Жук the")
    assert "never saw" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly_then_resume_continues(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(make_text(60000), encoding="utf-8")
    run = tmp_path / "run"
    # A terminal's Ctrl-C goes to the whole process group, data workers included: do the same.
    process, out, err = _signal_after_first_epoch(
        ["train", str(corpus), "--out", str(run), "--epochs", "30", "--workers", "2", *TINY],
        lambda process: (time.sleep(0.5), os.killpg(process.pid, signal.SIGINT)))  # well inside epoch 2
    assert process.returncode == 130, err
    assert "stopped (stop requested)" in out and "--resume" in out
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert _group_is_gone(process.pid)  # no data worker left behind

    checkpoint = RunDir(run).read_checkpoint()
    assert checkpoint.epochs_done >= 1
    resumed = cli("train", str(corpus), "--out", str(run), "--resume", "--epochs", str(checkpoint.epochs_done + 1))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at epoch {checkpoint.epochs_done + 1}" in resumed.stdout
    rows = RunDir(run).read_metrics()
    assert [row["epoch"] for row in rows] == list(range(1, checkpoint.epochs_done + 2))
    assert rows[-1]["loss"] < rows[0]["loss"]  # the curve goes on; no restart from scratch


def test_sigterm_stops_cleanly_with_a_checkpoint(tmp_path, corpus):
    """`kill` and `timeout` send SIGTERM: the same orderly stop as Ctrl-C, nothing lost."""
    run = tmp_path / "run"
    process, out, err = _signal_after_first_epoch(
        ["train", str(corpus), "--out", str(run), "--epochs", "500", *TINY], lambda process: process.terminate())
    assert process.returncode == 143, err
    assert "stopped (stop requested)" in out and "Traceback" not in err
    assert RunDir(run).read_checkpoint().epochs_done >= 1
    assert _group_is_gone(process.pid)


@pytest.mark.skipif(shutil.which("setsid") is None, reason="needs util-linux setsid")
def test_a_closed_terminal_stops_training_after_the_batch_with_a_checkpoint(tmp_path):
    """A dropped SSH session hangs the terminal up: SIGHUP comes, and writing to the terminal fails.
    The same orderly stop as Ctrl-C: the partial epoch is kept, and --resume goes on from it."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(make_text(60000), encoding="utf-8")
    run = RunDir(tmp_path / "run")
    args = ["train", str(corpus), "--out", str(run.path), *TINY]
    terminal, process = _train_in_a_terminal([*args, "--epochs", "30"])
    deadline = time.monotonic() + 120
    while not run.read_metrics() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # well inside epoch 2
    terminal.hang_up(process.pid)  # data workers too, as a shell does
    process.wait(timeout=120)
    assert process.returncode == 129  # 128 + SIGHUP, as shells report it
    assert _group_is_gone(process.pid)  # no data worker left behind
    checkpoint = run.read_checkpoint()
    assert checkpoint.epochs_done >= 1 and checkpoint.batches_done > 0  # the partial epoch is kept
    resumed = cli(*args, "--resume", "--epochs", str(checkpoint.epochs_done + 1))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at epoch {checkpoint.epochs_done + 1}, batch {checkpoint.batches_done + 1}" in resumed.stdout


class _Terminal:
    """A pseudo-terminal whose other end reads all it is sent, until it hangs up."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.open = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        import select

        while self.open:
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:  # nothing left on the other side
                    time.sleep(0.05)

    def hang_up(self, group: int) -> None:
        """Close the terminal, as sshd does when the link drops: the kernel sends SIGHUP to the session's
        leader, a shell, which sends SIGHUP to each of its jobs' process groups (here, `group`)."""
        self.open = False
        self.reader.join()
        os.close(self.master)
        os.killpg(group, signal.SIGHUP)


def _train_in_a_terminal(args: list[str]) -> tuple[_Terminal, subprocess.Popen]:
    """`chargen-tui ARGS` in a session of its own whose controlling terminal is a new pseudo-terminal."""
    terminal = _Terminal()
    process = subprocess.Popen(["setsid", "--ctty", sys.executable, "-m", "chargen_tui", *args],
                               stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave)
    os.close(terminal.slave)
    return terminal, process


def test_a_hard_kill_at_any_moment_leaves_a_run_that_resumes(tmp_path, corpus):
    """SIGKILL (a crash, a dropped machine) gives no chance to clean up: the atomic writes must."""
    import keras

    run = RunDir(tmp_path / "run")
    args = ["train", str(corpus), "--out", str(run.path), *TINY]
    for delay in (0.0, 0.37, 0.81):  # land at different points of the train/evaluate/checkpoint cycle
        before = run.read_checkpoint() if run.has_run() else None
        resume = ["--resume"] if run.has_run() else []
        process = subprocess.Popen([sys.executable, "-m", "chargen_tui", *args, "--epochs", "500", *resume],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while _epochs_done(run) <= (before.epochs_done if before else 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        checkpoint = run.read_checkpoint()  # the last committed checkpoint is whole
        keras.saving.load_model(run.checkpoint_model_path(checkpoint), safe_mode=True)
        assert run.read_config().seq_len == 16 and run.read_vocab().vocab_size > 10
    target = run.read_checkpoint().epochs_done + 1
    resumed = cli(*args, "--resume", "--epochs", str(target))
    assert resumed.returncode == 0, resumed.stderr
    assert [row["epoch"] for row in run.read_metrics()] == list(range(1, target + 1))


def _signal_after_first_epoch(args: list[str], send) -> tuple[subprocess.Popen, str, str]:
    """Start `chargen-tui ARGS` in its own process group, `send(process)` a signal once the first
    epoch is in metrics.jsonl, and return the process with its stdout and stderr."""
    run = RunDir(args[args.index("--out") + 1])
    process = subprocess.Popen([sys.executable, "-m", "chargen_tui", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not run.read_metrics() and time.monotonic() < deadline:
            time.sleep(0.2)
        send(process)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process, out, err


def _epochs_done(run: RunDir) -> int:
    try:
        checkpoint = run.read_checkpoint()
    except UserError:  # state.json named a file the writer deleted after we read it: look again
        return 0
    return checkpoint.epochs_done if checkpoint else 0


def _group_is_gone(group: int) -> bool:
    for _ in range(50):
        alive = [pid for pid in os.listdir("/proc") if pid.isdigit() and _pgid(int(pid)) == group]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_every_knob_is_a_flag_with_its_help_and_default():
    """config.py declares each knob once; `train --help` is derived from it."""
    from chargen_tui.config import default, display_name, settings

    result = cli("train", "--help", env_width="200")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for name, knob in settings().items():
        value = "none" if default(name) in (None, "") else default(name)
        finetune = "" if knob.finetune is None else f"; starting from a model: {knob.finetune}"
        assert f"--{display_name(name)}" in text and f"{' '.join(knob.help.split())} (default: {value}{finetune})" \
            in text, name
    assert "--no-multiprocessing" in text and "--no-mixed-precision" in text
