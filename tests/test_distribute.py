"""Training on several devices and several machines (tf.distribute), tested as Keras tests its own:
two logical CPU devices, and two worker processes on the loopback address. Each run is a process
of its own (tests/train_on_devices.py): TensorFlow takes its devices and its cluster only before
it runs anything.

Dropout is off where runs are compared: each device draws its own dropout masks.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from chargen_tui.cli import main, say
from chargen_tui.errors import DevicesChanged, TooManyDevices, UserError
from chargen_tui.plan import plan_run
from chargen_tui.run_dir import RunDir

from .helpers import make_text, tiny, train_tiny

ROOT = Path(__file__).resolve().parent.parent
SAME = ["epochs=2", "dropout=0"]  # a global batch of 8: one device of 8, or two of 4
ON_TWO = SAME + ["batch_size=4"]


def train_elsewhere(out: Path, *args: str, cluster: list[str] | None = None, index: int = 0) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    if cluster:
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})
    return subprocess.Popen([sys.executable, "-m", "tests.train_on_devices", str(out), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(process: subprocess.Popen) -> dict:
    try:
        out, err = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("a training process did not end within 180 s") from None
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def on_cluster(outs: tuple[Path, Path], *args: str, chief_args: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Train as two workers on 127.0.0.1, worker 0 (the chief) into outs[0], worker 1 given outs[1]."""
    cluster = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    other = train_elsewhere(outs[1], *args, cluster=cluster, index=1)
    chief = train_elsewhere(outs[0], *args, *chief_args, cluster=cluster, index=0)
    return result(chief), result(other)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def one_and_two(tmp_path_factory) -> dict:
    """The same global batch trained on one device, and on two (uninterrupted, and stopped then resumed)."""
    root = tmp_path_factory.mktemp("devices")
    one = train_elsewhere(root / "one", *SAME)
    two = train_elsewhere(root / "two", "--logical", "2", "devices=2", *ON_TWO)
    runs = {"one": result(one), "two": result(two)}
    stopped = result(train_elsewhere(root / "parted", "--logical", "2", "--stop-after", "10", "devices=2", *ON_TWO))
    resumed = result(train_elsewhere(root / "parted", "--logical", "2", "--resume", "devices=2", *ON_TWO))
    return runs | {"stopped": stopped, "resumed": resumed, "root": root}


def test_two_devices_train_as_one_device_with_the_same_global_batch(one_and_two):
    one, two = one_and_two["one"], one_and_two["two"]
    assert len(two["losses"]) == len(one["losses"])  # the same steps: the global batch is the same
    np.testing.assert_allclose(two["losses"], one["losses"], atol=1e-3)
    np.testing.assert_allclose(two["val_losses"], one["val_losses"], atol=1e-4)
    config = json.loads((one_and_two["root"] / "two" / "config.json").read_text())
    assert (config["batch_size"], config["global_batch_size"], config["devices"]) == (4, 8, 2)
    assert (one["devices"], two["devices"]) == (None, "2 CPUs")  # what the CLI and the app say


def test_a_run_on_two_devices_stops_and_resumes_exactly(one_and_two):
    stopped, resumed = one_and_two["stopped"], one_and_two["resumed"]
    assert stopped["end"] == "Stopped" and len(stopped["losses"]) == 10
    assert resumed["val_losses"] == one_and_two["two"]["val_losses"]


def test_a_run_resumed_on_another_number_of_devices_is_refused_with_what_to_do(one_and_two):
    with pytest.raises(DevicesChanged) as refused:
        train_tiny(RunDir(one_and_two["root"] / "two"), make_text(6000), resume=True, batch_size=4, dropout=0,
                   epochs=3)
    assert "trained on 2 devices (8 windows a step), not 1" in say(refused.value)
    assert say(refused.value).endswith("resume it with --devices 2, or start a new --out")


def test_more_devices_than_the_machine_has_is_one_clear_line(tmp_path):
    with pytest.raises(TooManyDevices) as refused:
        train_tiny(RunDir(tmp_path / "run"), make_text(6000), devices=3)
    assert re.fullmatch(r"--devices 3: this machine has [12] [CG]PUs?: give at most that many, or --devices all",
                        say(refused.value))


def test_two_workers_train_as_two_devices_and_only_the_chief_writes(one_and_two, tmp_path):
    chief, other = on_cluster((tmp_path / "run", tmp_path / "elsewhere"), *ON_TWO)
    assert chief["val_losses"] == other["val_losses"] and chief["devices"] == "2 workers, 2 devices"
    assert other["devices"] == "2 workers, 2 devices (worker 1: worker 0 writes the run folder)"
    np.testing.assert_allclose(chief["val_losses"], one_and_two["two"]["val_losses"], atol=1e-6)
    assert (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "elsewhere").exists()


def test_a_stop_on_the_chief_stops_every_worker_and_the_cluster_resumes_exactly(one_and_two, tmp_path):
    run = tmp_path / "run"  # a folder both workers read, as a shared filesystem gives them
    chief, other = on_cluster((run, run), *ON_TWO, chief_args=("--stop-after", "10"))
    assert (chief["end"], other["end"], len(chief["losses"]), len(other["losses"])) == ("Stopped", "Stopped", 10, 10)
    chief, other = on_cluster((run, run), "--resume", *ON_TWO)
    np.testing.assert_allclose(chief["val_losses"], one_and_two["two"]["val_losses"], atol=1e-6)


def test_a_cluster_spec_that_is_not_one_and_a_budget_on_a_cluster_are_one_line_each(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"ps": ["a:1"]}}')
    assert main(["train", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.startswith("error: TF_CONFIG is not a cluster spec: give")
    cluster = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    with pytest.raises(UserError, match="a cluster trains by epochs"):
        plan_run(RunDir(tmp_path / "run"), tiny(time_budget=60), text=make_text(6000))


def test_the_model_users_get_answers_pre_padded_seeds_without_cudnn(trained_run):
    """On a GPU, Keras gives cuDNN only right-padded masks and fails on others: model.keras' LSTM
    layers take the generic kernel, on every device."""
    model = keras.saving.load_model(trained_run.model_path, safe_mode=True)
    assert [layer.use_cudnn for layer in model.layers if isinstance(layer, keras.layers.LSTM)] == [False]
    seed = keras.utils.pad_sequences([[3, 4, 5]], maxlen=10, padding="pre")
    np.testing.assert_allclose(model(seed)[0, -1], model(np.array([[3, 4, 5]]))[0, -1], atol=1e-5)


@pytest.mark.parametrize("value", ["0", "two"])
def test_devices_that_are_not_a_number_or_all_are_one_line(tmp_path, capsys, value):
    assert main(["train", "--out", str(tmp_path / "run"), "--devices", value]) == 2
    assert capsys.readouterr().err.strip() == f"error: --devices must be a number of at least 1, or all, not '{value}'"


def test_a_loss_that_explodes_fails_on_two_devices_and_on_every_worker(tmp_path):
    exploding = ["learning_rate=1e30", "clipnorm=1e30", *ON_TWO]
    two = result(train_elsewhere(tmp_path / "two", "--logical", "2", "devices=2", *exploding))
    chief, other = on_cluster((tmp_path / "run", tmp_path / "elsewhere"), *exploding)
    assert (two["end"], chief["end"], other["end"]) == ("Failed", "Failed", "Failed")
    assert len(chief["losses"]) == len(other["losses"])  # at the same step
    assert not (tmp_path / "two" / "model.keras").exists() and not (tmp_path / "run" / "model.keras").exists()
