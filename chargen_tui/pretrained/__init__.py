"""The model that ships with the package: ready to write with before the user trains anything.

This folder is a run folder (config.json, vocab.json, model.keras, model.npz, and metrics.jsonl,
the record of its training). It is the base for English of many kinds that `--from default`
fine-tunes: the engine's defaults trained on alice, nietzsche, tinyshakespeare and Python's
documentation by `benchmarks/base_model.py` (the README, "The shipped model", gives the command),
its vocabulary ASCII, Latin-1 and the common typographic characters. model.keras holds no
optimizer state: it is for generation and fine-tuning, not for --resume. words.json holds the
words and phrases of the training parts of its corpus (`benchmarks/base_model.py --words`).

Beside it, words.txt is the English word list the ghost uses with any model that spells English
(words.py), written from wordfreq's data by `benchmarks/word_list.py` (its licence:
words.LICENSE.txt).
"""

from __future__ import annotations

from pathlib import Path

from ..run_dir import RunDir


def default_run_dir() -> RunDir:
    """The shipped model's run folder (read-only: it lives inside the installed package)."""
    return RunDir(Path(__file__).resolve().parent)
