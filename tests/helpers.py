"""What the tests share: small texts they write themselves, tiny settings, training them, and checks
on the processes a run leaves behind."""

from __future__ import annotations

import os
import random
import threading
from typing import Any

from chargen_tui.config import Config
from chargen_tui.events import Event
from chargen_tui.plan import plan_run
from chargen_tui.run_dir import RunDir

WORDS = ("the king and queen walked to the old castle where a quiet river ran past green fields "
         "while birds sang of summer rain and a small dog slept by the warm fire").split()

# A model small enough to train an epoch in about a second.
TINY = {"seq_len": 16, "batch_size": 8, "embedding_dim": 8, "units": 16, "epochs": 1, "sample_length": 20,
        "learning_rate": 0.01}


def make_text(chars: int, seed: int = 0) -> str:
    """Sentences of common words: enough structure for a tiny LSTM to learn something in one epoch."""
    rng = random.Random(seed)
    sentences = []
    while sum(map(len, sentences)) < chars:
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 10))]
        sentences.append(" ".join(words).capitalize() + rng.choice([". ", ".\n", "! ", "? "]))
    return "".join(sentences)[:chars]


def tiny(**changes: Any) -> dict[str, Any]:
    """The tiny model's knob values with `changes` (a run that starts from a model keeps that model's size)."""
    sizes = ("embedding_dim", "units", "layers") if changes.get("start_from") else ()
    return {**{k: v for k, v in TINY.items() if k not in sizes}, **changes}


def tiny_config(**changes: Any) -> Config:
    return Config(**tiny(**changes))


def train_tiny(run: RunDir, text: str, on_event=lambda event: None, *, resume: bool = False,
               stop: threading.Event | None = None, **changes: Any) -> Event:
    """Train the tiny model on `text` into `run` as the CLI and the app do: plan, then train."""
    from chargen_tui.training import train

    return train(plan_run(run, tiny(**changes), resume, text=text), on_event, stop=stop)


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
