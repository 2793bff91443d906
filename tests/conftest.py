"""Fixtures: a small text, and one trained tiny run that the sampling, CLI and app tests share."""

from __future__ import annotations

import os
import tempfile

import pytest

from chargen_tui.runtime import configure_environment

configure_environment()  # before any test imports TensorFlow
# What the app learns of the words typed in tests goes to a folder of the tests' own, never the
# user's data folder (memory.py); the apps tests start in tmux inherit it.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="chargen-tests-data-")

from .helpers import make_text, train_tiny  # noqa: E402


@pytest.fixture(scope="session")
def text() -> str:
    return make_text(6000)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A run folder with a 40-character window, trained until greedy generation writes words rather
    than one repeated character (about 6 s)."""
    from chargen_tui.run_dir import RunDir

    run = RunDir(tmp_path_factory.mktemp("trained") / "run")
    train_tiny(run, make_text(30000), epochs=3, seq_len=40, units=32)
    return run
