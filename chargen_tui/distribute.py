"""Where a run trains: the CPU, one GPU, several devices of one machine, or several machines.

All of it is TensorFlow's own distribution (`tf.distribute`):
- one device (the CPU, or the only GPU): TensorFlow's default strategy, which places the model on the
  GPU when there is one; nothing else changes;
- several devices of one machine (`--devices N|all`): `MirroredStrategy`, under Keras' `fit`;
- several machines: `MultiWorkerMirroredStrategy`, chosen by the standard cluster spec in `TF_CONFIG`
  (`training` steps it with `strategy.run` itself: Keras' `fit` fails under that strategy,
  keras-team/keras#20585).

Each device trains on its share of every batch, and the devices' gradients are summed into one
step: `--batch-size` is the windows per device, and a step's global batch is it times the devices.
Reading `TF_CONFIG` (`Cluster`) imports nothing, so that a mistake in it is found before TensorFlow.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .errors import TooManyDevices, UserError


@dataclass(frozen=True)
class Cluster:
    """This process' place in the cluster `TF_CONFIG` describes: worker `index` of `workers`."""
    workers: int
    index: int

    @property
    def chief(self) -> bool:  # worker 0 writes the run folder (TensorFlow's convention without a "chief" task)
        return self.index == 0


def cluster() -> Cluster | None:
    """The cluster this process is a worker of, from `TF_CONFIG`; None when it trains alone."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        spec = json.loads(text)
        workers, task = spec["cluster"]["worker"], spec["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise UserError('TF_CONFIG is not a cluster spec: give {"cluster": {"worker": ["host:port", ...]}, '
                        '"task": {"type": "worker", "index": N}}, or unset it to train on this machine') from None
    if kind != "worker" or set(spec["cluster"]) != {"worker"} or not 0 <= index < len(workers):
        raise UserError(f"TF_CONFIG names task {kind} {index} of {sorted(spec['cluster'])}: chargen-tui trains "
                        "on workers only; give each machine a worker index from 0")
    return Cluster(len(workers), index)


def device_count(devices: str | int | None) -> int | None:
    """`--devices` as a number; None for all (or the default)."""
    if devices is None or devices == "all":
        return None
    return int(devices)


def strategy(devices: str | int | None) -> Any:
    """The `tf.distribute` strategy that trains on `devices` (the knob), or on `TF_CONFIG`'s cluster.

    Call it before TensorFlow runs anything: a cluster's strategy configures the runtime. By default
    the devices are every GPU TensorFlow sees, else the CPU (one device: the default strategy, as
    before this existed). A number takes that many of them: the GPUs, or the CPU's logical devices
    (`tf.config.set_logical_device_configuration`) on a machine without GPUs.
    """
    import tensorflow as tf

    if cluster() is not None:
        return tf.distribute.MultiWorkerMirroredStrategy()
    kind = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    available = [device.name for device in tf.config.list_logical_devices(kind)]
    wanted = device_count(devices)
    if wanted is None:
        wanted = len(available) if kind == "GPU" or devices == "all" else 1
    if wanted > len(available):
        raise TooManyDevices(wanted, len(available), kind)
    if wanted == 1:
        return tf.distribute.get_strategy()
    return tf.distribute.MirroredStrategy(available[:wanted])


def describe(strategy: Any) -> str | None:
    """Where `strategy` trains, in words ("2 GPUs", "2 workers, 4 devices"); None for the CPU alone."""
    import tensorflow as tf

    role, replicas = cluster(), strategy.num_replicas_in_sync
    if role is not None:
        devices = f"{role.workers} workers, {replicas} device" + ("s" if replicas > 1 else "")
        return devices if role.chief else f"{devices} (worker {role.index}: worker 0 writes the run folder)"
    kind = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    if replicas > 1:
        return f"{replicas} {kind}s"
    return "GPU" if kind == "GPU" else None


def fit_on_cluster(model: Any, strategy: Any, dataset: Any, callbacks: list, first_epoch: int, end_epoch: int) -> None:
    """Keras' `fit(dataset, epochs=end_epoch, initial_epoch=first_epoch)`, stepped on a cluster.

    Keras' `fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585,
    tensorflow/tensorflow#72388), so this is TensorFlow's custom-loop form of it: each step runs the
    model's own `train_step` (its loss, gradients, clipping and optimizer, the gradients summed over
    every worker by the strategy) through `strategy.run`, and the callbacks hear what `fit` tells
    them, in the same order. Every worker reads the same global batch (in this thread) and trains on
    its own rows of it, so an epoch is the windows one machine would train on.

    Workers must stop at the same step (the others would wait for it forever): a stop that any
    worker's callbacks ask for is agreed on by the strategy's reduce after every step.
    """
    import keras
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync

    @tf.function
    def step(x, y):
        logs = strategy.run(model.train_step, args=((x, y),))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, logs["loss"], axis=None)

    @tf.function
    def any_worker(flag):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, flag, axis=None)

    def rows(batch):  # this worker's replicas' shares of the global batch
        share = len(batch) // replicas
        return strategy.experimental_distribute_values_from_function(
            lambda context: batch[context.replica_id_in_sync_group * share:][:share])

    def agreed_stop() -> bool:
        flag = strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(float(model.stop_training)))
        return bool(any_worker(flag) > 0)

    with strategy.scope():
        # Its variables cannot be made inside a step (a loaded optimizer is built: this does nothing)
        model.optimizer.build(model.trainable_variables)
    callbacks = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    callbacks.on_train_begin()
    logs: dict = {}
    for epoch in range(first_epoch, end_epoch):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        for index in range(len(dataset)):
            callbacks.on_train_batch_begin(index)
            x, y = dataset[index]
            logs = {"loss": float(step(rows(x), rows(y)))}
            callbacks.on_train_batch_end(index, logs)
            if agreed_stop():
                model.stop_training = True
                break
        callbacks.on_epoch_end(epoch, logs)
        if agreed_stop():  # on every worker, even one already stopping: an epoch's end may stop only one
            model.stop_training = True
            break
    callbacks.on_train_end(logs)

