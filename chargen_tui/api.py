"""The Python API, for notebooks and scripts; the CLI is a thin layer over it.

    import chargen_tui as cg
    model = cg.load()                                   # the shipped model; cg.load("runs/mine")
    model.generate(n=3, prefix="The king", temperature=0.5, length=200, seed=0)
    model = cg.train("fortunes.txt", out="runs/fortunes", texts="sep:%", epochs=10)
    model = cg.train(["first text", "second text"], out="runs/mine", epochs=20)

Loading and generating need NumPy alone; TensorFlow is imported when `train` is called.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, settings
from .control import printable
from .errors import UserError
from .events import Event, Failed, Finished, Stopped, Subscriber
from .files import atomic_write_text
from .plan import RunPlan, plan_run
from .pretrained import default_run_dir
from .run_dir import RunDir
from .sampling import Sampler
from .texts import texts_file
from .vocab import Vocab

DEFAULT_LENGTH = 200  # characters a stream model writes when no length is given
MAX_TEXT_LENGTH = 1000  # where a texts model's text is cut if the model never ends it


@dataclass(frozen=True)
class Generated:
    text: str  # the prefix and its continuation
    ended: bool  # a texts model ended it; False when it was cut at the length (and always for a stream)


class TrainingFailed(UserError):
    """The loss became NaN or exploded; the run folder keeps its last good checkpoint."""

    def __init__(self, failed: Failed):
        super().__init__(f"{failed.describe()}: start a new run with a lower learning_rate")
        self.failed = failed


class Model:
    """A trained model to generate with: a run folder's weights, stepped in NumPy."""

    def __init__(self, run: RunDir, sampler: Sampler):
        self.run = run
        self.sampler = sampler

    @property
    def run_dir(self) -> Path:
        return self.run.path

    @property
    def config(self) -> Config:
        """The settings it was trained with (config.json)."""
        return self.run.read_config()

    @property
    def vocab(self) -> Vocab:
        return self.sampler.vocab

    @property
    def is_texts(self) -> bool:
        """Was it trained on many short texts (then it writes whole texts), not one stream?"""
        return self.vocab.end_of_text is not None

    def generate(self, n: int = 1, prefix: str = "", temperature: float = 0.5, length: int | None = None,
                 seed: int | None = None, top_k: int | None = None, max_length: int = MAX_TEXT_LENGTH) -> list[str]:
        """`n` texts, each `prefix` and its continuation.

        A stream model continues for `length` characters (default 200). A model of many texts writes
        whole texts: each ends where the model ends it, or is cut at `max_length` characters.
        temperature 0 always picks the likeliest character; `top_k` samples from the k likeliest
        only; the same `seed` gives the same texts.
        """
        return [g.text for g in self.generations(n, prefix, temperature, length, seed, top_k, max_length)]

    def generations(self, n: int = 1, prefix: str = "", temperature: float = 0.5, length: int | None = None,
                    seed: int | None = None, top_k: int | None = None,
                    max_length: int = MAX_TEXT_LENGTH) -> list[Generated]:
        """`generate`, saying of each text whether the model ended it."""
        _check_generate(n, temperature, length, top_k, max_length)
        if self.is_texts and length is not None:
            raise ValueError("this model writes whole texts: cap them with max_length, not length")
        chars = max_length if self.is_texts else DEFAULT_LENGTH if length is None else length
        empty = self.sampler.context(prefix) == ""  # a new text: the corpus had no empty ones
        continued = self.sampler.continue_texts(self.sampler.prime(prefix), chars, temperature, n, top_k,
                                                np.random.default_rng(seed), min_length=int(empty))
        return [Generated(prefix + text, ended) for text, ended in continued]

    def __repr__(self) -> str:
        kind = "texts" if self.is_texts else "stream"
        return f"<chargen_tui.Model {printable(str(self.run_dir))} ({kind}, {self.vocab.vocab_size} tokens)>"


def _check_generate(n: int, temperature: float, length: int | None, top_k: int | None, max_length: int) -> None:
    problems = [(n < 1, f"n must be 1 or more, not {n}"),
                (temperature < 0, f"temperature must be 0 or more, not {temperature}"),
                (length is not None and length < 0, f"length must be 0 or more, not {length}"),
                (top_k is not None and top_k < 1, f"top_k must be 1 or more, not {top_k}"),
                (max_length < 1, f"max_length must be 1 or more, not {max_length}")]
    for wrong, problem in problems:
        if wrong:
            raise ValueError(problem)


def load(run_dir: str | Path | RunDir | None = None) -> Model:
    """The model of a trained run folder; with no folder, the model that ships with chargen-tui.

    Raises UserError (one sentence saying what to do) for a folder that holds no usable model.
    """
    run = default_run_dir() if run_dir is None else run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    run.check_model()
    return Model(run, Sampler.from_run_dir(run))


def train(corpus: str | Path | Sequence[str] | None = None, out: str | Path | None = None, *, resume: bool = False,
          on_event: Subscriber | None = None, quiet: bool = False, stop: threading.Event | None = None,
          **knobs: Any) -> Model | None:
    """Train a model and return it (None if stopped before its first epoch ended: nothing to write with yet).

    `corpus` is a text file, a list of texts (each one a text of a texts run; the folder keeps them
    as texts.txt), or None for the embedded default. `out` is the run folder (default runs/NAME);
    `resume=True` goes on with the run there. The other keyword arguments are the knobs of
    `chargen_tui.config.Config` (epochs=10, texts="sep:%", start_from="default" to fine-tune the shipped
    model or start_from="runs/other" a run's, ...). `on_event` is called with each
    event the CLI and the app see; progress shows on a terminal or in a notebook unless `quiet`.
    Setting `stop` (or interrupting the kernel) stops after the current batch, with a checkpoint.

    Raises UserError before anything trains when a setting, the corpus or the folder is wrong, and
    TrainingFailed if the loss diverges.
    """
    return train_plan(prepare(corpus, out, resume, **knobs), on_event, quiet, stop)


def train_plan(plan: RunPlan, on_event: Subscriber | None = None, quiet: bool = False,
               stop: threading.Event | None = None) -> Model | None:
    """`train`, for a plan `prepare` made."""
    subscribers = [s for s in (None if quiet else _progress(), on_event) if s is not None]

    def emit(event: Event) -> None:
        for subscriber in subscribers:
            subscriber(event)

    end = _train_in_thread(plan, emit, stop or threading.Event())
    if isinstance(end, Failed):
        raise TrainingFailed(end)
    return load(plan.run) if plan.run.model_path.exists() else None


def prepare(corpus: str | Path | Sequence[str] | None = None, out: str | Path | None = None, resume: bool = False,
            **knobs: Any) -> RunPlan:
    """Every check of `train` that needs no TensorFlow (it takes seconds to import): the plan to train."""
    unknown = sorted(set(knobs) - set(settings()))
    if unknown:
        raise TypeError(f"train() got an unexpected keyword argument {unknown[0]!r}; "
                        f"the knobs are: {', '.join(settings())}")
    if isinstance(corpus, str | Path) or corpus is None:
        name = Path(corpus).stem if corpus is not None else "default"
        run = RunDir(out or Path("runs") / name)
        changes = knobs | ({"corpus": str(Path(corpus).resolve())} if corpus is not None else {})
        return plan_run(run, changes, resume)
    return _plan_texts(list(corpus), RunDir(out or Path("runs") / "texts"), resume, knobs)


def _plan_texts(texts: list[str], run: RunDir, resume: bool, knobs: dict[str, Any]) -> RunPlan:
    """A list of texts: kept in the run folder as texts.txt, which its config names as the corpus."""
    if "texts" in knobs:
        raise TypeError("a list of texts needs no texts=...: leave it out")
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("a corpus list must hold texts (str)")
    content, mode = texts_file(texts)
    path = run.path.resolve() / "texts.txt"
    plan = plan_run(run, knobs | {"corpus": str(path), "texts": mode}, resume, text=content)
    try:
        atomic_write_text(path, content)  # after the checks (and the lock): a refused run writes nothing
    except BaseException:
        plan.release(failed=True)
        raise
    return plan


def _progress() -> Subscriber:
    from rich.console import Console

    from .report import TrainingReport

    return TrainingReport(Console())


def _train_in_thread(plan: RunPlan, emit: Subscriber, stop: threading.Event) -> Finished | Stopped | Failed:
    """Train in a thread of its own, so that Ctrl-C (a notebook's interrupt) in this one stops it cleanly
    after the current batch, with a checkpoint; a second Ctrl-C raises at once."""
    from .runtime import configure_environment

    configure_environment()
    from .training import train as run_training  # imports TensorFlow (seconds)

    outcome: list[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(run_training(plan, emit, stop))
        except BaseException as error:  # handed to the calling thread, raised there
            outcome.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=work, name="chargen-tui training")
    thread.start()
    # Waiting on an Event, not on join(): a KeyboardInterrupt inside join() can leave the thread
    # marked as ended while it runs on (CPython issue 90882).
    while not done.is_set():
        try:
            done.wait(0.2)
        except KeyboardInterrupt:
            if stop.is_set():
                raise
            stop.set()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


__all__ = ["Event", "Generated", "Model", "TrainingFailed", "load", "train"]
