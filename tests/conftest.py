"""Shared fixtures: small texts the tests write themselves, a tiny config, one trained tiny run."""

from __future__ import annotations

import os
import random
import threading

import pytest

from chargen_tui.tf_runtime import configure_environment

configure_environment()  # before any test imports TensorFlow

from chargen_tui.config import Config  # noqa: E402

WORDS = ("the king and queen walked to the old castle where a quiet river ran past green fields "
         "while birds sang of summer rain and a small dog slept by the warm fire").split()


def make_text(chars: int, seed: int = 0) -> str:
    """Sentences of common words: enough structure for a tiny LSTM to learn something in one epoch."""
    rng = random.Random(seed)
    sentences = []
    while sum(map(len, sentences)) < chars:
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 10))]
        sentences.append(" ".join(words).capitalize() + rng.choice([". ", ".\n", "! ", "? "]))
    return "".join(sentences)[:chars]


def tiny_config(**changes) -> Config:
    base = Config(seq_len=16, batch_size=8, embedding_dim=8, units=16, epochs=1, sample_length=20,
                  learning_rate=0.01)
    return base.replace(**changes)


@pytest.fixture(scope="session")
def text() -> str:
    return make_text(6000)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A run folder (shared by the sampling and CLI tests) with a 40-character window, trained until
    greedy generation writes words rather than one repeated character (about 6 s)."""
    from chargen_tui.run_dir import RunDir
    from chargen_tui.training import train

    run_dir = RunDir(tmp_path_factory.mktemp("trained") / "run")
    train(tiny_config(epochs=3, seq_len=40, units=32), make_text(30000), run_dir, lambda event: None)
    return run_dir


def child_processes() -> list[int]:
    """PIDs of this process' live children (a stop must leave no data worker behind)."""
    import multiprocessing

    multiprocessing.active_children()  # reaps finished ones
    path = f"/proc/{os.getpid()}/task"
    children = set()
    for tid in os.listdir(path):
        try:
            with open(f"{path}/{tid}/children") as file:
                children.update(int(pid) for pid in file.read().split())
        except FileNotFoundError:
            pass
    return sorted(pid for pid in children if _alive(pid))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def run_in_thread(target) -> None:
    """Run `target` in a non-main thread (as the app's worker does) and re-raise what it raised."""
    errors = []

    def body():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "training thread did not finish"
    if errors:
        raise errors[0]
