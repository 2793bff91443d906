"""Starting TensorFlow: quietly, and with the CPU thread settings that measured fastest here.

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

# One op thread and two inter-op threads: on a 2-core CPU the LSTM's small per-step ops lose more
# to thread hand-offs than they gain from splitting (see README, "Measured").
_THREAD_DEFAULTS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "2"}


def configure_environment() -> None:
    """Environment TensorFlow reads at import; the user's own settings win."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    for name, value in _THREAD_DEFAULTS.items():
        os.environ.setdefault(name, value)


def send_tensorflow_logs_to(log_path: Path) -> None:
    """Route fd 2, Python warnings and logging to `log_path`; keep `sys.stderr` on the terminal."""
    configure_environment()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    terminal = os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stderr = open(terminal, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.__stderr__ = sys.stderr
    log_file = open(log_path, "a", buffering=1, encoding="utf-8")
    logging.basicConfig(stream=log_file, level=logging.WARNING, force=True)
    logging.captureWarnings(True)
