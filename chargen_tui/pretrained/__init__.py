"""The model that ships with the package: ready to write with before the user trains anything.

This folder is a run folder (config.json, vocab.json, model.keras, model.npz, and metrics.jsonl,
the record of its training). It was trained with the engine on tinyshakespeare with the project's
defaults; the README ("The shipped model") gives the command that reproduces it. model.keras holds
no optimizer state: it is for generation, not for --resume.
"""

from __future__ import annotations

from pathlib import Path

from ..run_dir import RunDir


def default_run_dir() -> RunDir:
    """The shipped model's run folder (read-only: it lives inside the installed package)."""
    return RunDir(Path(__file__).resolve().parent)
