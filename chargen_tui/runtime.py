"""How a chargen-tui program starts: its threads, and TensorFlow kept quiet.

Each entry point (the CLI's `main`, a benchmark's `main`) calls these once; importing the package
changes nothing.

TensorFlow writes its log lines straight to file descriptor 2, whatever `TF_CPP_MIN_LOG_LEVEL` says,
and Python-level warnings from Keras go to `sys.stderr`. `send_tensorflow_logs_to` points fd 2 (and
Python's warnings and logging) at a file while keeping `sys.stderr` on the terminal for our own
messages. Call it before the first import of TensorFlow or Keras.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from .files import open_no_follow

# One op thread and two inter-op threads: on a 2-core CPU the LSTM's small per-step ops lose more
# to thread hand-offs than they gain from splitting (docs/experiments.md, CPU settings).
_THREAD_DEFAULTS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "2"}


def use_one_blas_thread() -> None:
    """Limit NumPy's BLAS to one thread, unless the user set OPENBLAS_NUM_THREADS.

    The sampler's products are small: with more than one BLAS thread they ran up to 40x slower at
    times, the threads waiting on each other and on TensorFlow's (the ghost text's p99 was 1.47 s
    with two threads while training used both cores, 35 ms with one). OpenBLAS reads its variable
    only when NumPy first loads it, so the limit is set through threadpoolctl, at any time.
    """
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    import numpy  # noqa: F401 - threadpoolctl limits the BLAS libraries already loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def configure_environment() -> None:
    """Environment TensorFlow reads at import; the user's own settings win."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not _nvidia_gpu():  # the thread choice is a CPU measurement: a GPU keeps TensorFlow's own
        for name, value in _THREAD_DEFAULTS.items():
            os.environ.setdefault(name, value)


def _nvidia_gpu() -> bool:
    """Whether an NVIDIA GPU is there for TensorFlow, known before importing it: the driver lists it
    and CUDA_VISIBLE_DEVICES does not hide every device."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    try:
        return bool(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        return False


def send_tensorflow_logs_to(log_path: Path) -> None:
    """Route fd 2, Python warnings and logging to `log_path`; keep `sys.stderr` on the terminal.

    LinkRefused if `log_path` is a symbolic link: appending would write into whatever it points at.
    """
    configure_environment()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = open_no_follow(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # first: it may refuse
    sys.stderr.flush()
    terminal = os.dup(2)
    os.dup2(log_fd, 2)
    sys.stderr = open(terminal, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.__stderr__ = sys.stderr
    log_file = open(log_fd, "a", buffering=1, encoding="utf-8")  # the file just checked, not the path again
    logging.basicConfig(stream=log_file, level=logging.WARNING, force=True)
    logging.captureWarnings(True)
