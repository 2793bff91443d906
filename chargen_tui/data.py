"""Training windows as a `keras.utils.PyDataset`, fed by worker processes that stay quiet.

Each window is `seq_len` characters and its target is the same window shifted by one, so the model
learns the next character at every position. Memory stays O(corpus length): the corpus is one int32
array and a batch is sliced from it on demand; nothing is one-hot encoded.

`__getitem__` is pure NumPy on purpose: with `use_multiprocessing=True` it runs in forked worker
processes, where touching TensorFlow would re-initialise it (or deadlock).
"""

from __future__ import annotations

import os
import signal
import threading

import keras
import numpy as np

from .config import Config


class TrainWindows(keras.utils.PyDataset):
    """Shuffled, non-overlapping windows over the training ids; a new offset and order each epoch.

    The order of epoch `e` is a pure function of `(seed, e)`, so a resumed run sees the same data in
    the same order. Call `set_epoch` before each epoch starts (the training loop does it from a
    callback, before Keras forks the workers for that epoch); `skip_batches` resumes mid-epoch.
    """

    def __init__(self, ids: np.ndarray, config: Config, epoch: int = 0, skip_batches: int = 0, replicas: int = 1):
        super().__init__(workers=config.workers, use_multiprocessing=config.use_multiprocessing,
                         max_queue_size=config.max_queue_size)
        self.ids = ids
        self.seq_len = config.seq_len
        self.seed = config.seed
        # Windows start at offset + k * seq_len with offset < seq_len: the count is the same every epoch.
        self.windows_per_epoch = (len(ids) - config.seq_len) // config.seq_len
        # A batch is global: `replicas` devices each train on `config.batch_size` of its windows.
        self.batch_size = replicas * max(1, min(config.batch_size, self.windows_per_epoch // replicas))
        self.batches_per_epoch = self.windows_per_epoch // self.batch_size
        self.set_epoch(epoch, skip_batches)

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch = epoch
        rng = np.random.default_rng([self.seed, epoch])
        self.offset = int(rng.integers(self.seq_len))
        self.order = rng.permutation(self.windows_per_epoch)
        self.skip_batches = skip_batches

    @property
    def num_batches(self) -> int:
        return self.batches_per_epoch - self.skip_batches

    def __len__(self) -> int:
        return self.num_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        first = (index + self.skip_batches) * self.batch_size
        starts = self.offset + self.order[first:first + self.batch_size] * self.seq_len
        windows = self.ids[starts[:, None] + np.arange(self.seq_len + 1)]
        return windows[:, :-1], windows[:, 1:]


def stop_data_loader(dataset: keras.utils.PyDataset) -> None:
    """Stop, in order, the Keras loader still feeding `dataset` after `fit` returned mid-epoch.

    `model.stop_training` breaks out of the epoch before Keras' data adapter reaches its epoch end,
    so the loader thread and its worker pool stay alive, and pile up across restarts. Keras keeps
    no public handle on the loader; its thread does (the thread's target is the loader's `_run`).
    `stop()` drains the queue, joins the thread and closes the pool, letting the workers exit.
    """
    for thread in threading.enumerate():
        loader = getattr(getattr(thread, "_target", None), "__self__", None)
        if getattr(loader, "py_dataset", None) is dataset and hasattr(loader, "stop"):
            loader.stop()


_workers_quieted = False


def quiet_forked_workers() -> None:
    """From now on, a process forked from this one (a data worker) takes none of its signal handling.

    Called once before the first training of a process starts its workers; later calls do nothing.
    """
    global _workers_quieted
    if not _workers_quieted:
        os.register_at_fork(after_in_child=_quiet_worker)
        _workers_quieted = True


def _quiet_worker() -> None:
    # A terminal's Ctrl-C reaches the whole process group, and so does its hang-up (the shell sends
    # SIGHUP to each job's group). The training process turns either into an orderly stop; a forked
    # data worker must not die with a KeyboardInterrupt traceback of its own, nor of the SIGHUP: a
    # worker killed inside a batch leaves the loader waiting forever for that batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # An event loop in the parent (the app's) may handle SIGTERM and SIGHUP through a wakeup fd the
    # fork shares: the SIGTERM that ends a worker at an epoch's end would reach the parent's loop
    # as its own. The worker must die of it instead, and signal nothing to the parent.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
