"""Quality per CPU-second: validation loss against wall-clock time, training with the project's defaults.

    python benchmarks/quality.py --corpus ../shared/corpora/tinyshakespeare.txt --budget 600
    python benchmarks/quality.py --corpus ... --budget 600 --limit   # the default epochs cut at 600 s
    python benchmarks/quality.py --corpus ... --budget 300 --set units=384 --set dropout=0.2   # a variant
    python benchmarks/quality.py --corpus ... --evaluate chargen_tui/pretrained   # a trained model only

Trains with the engine (`chargen_tui.training.train`, the defaults of `chargen_tui.config.Config`
unless `--set` changes one) for `--budget` seconds of training, planned for them as `--time-budget`
plans (or, with `--limit`, the default epochs' schedule stopped there as `--time-limit` stops it).
Prints one line per evaluation: the engine's own, after each epoch, on its validation split
(the last 10% of the corpus, read contiguously: each character predicted from all the text before
it), and, last, the final figure: the model as it stood when the budget ran out (the checkpoint the
stop wrote; its weight average, which the engine evaluates and saves), evaluated the same way, and
two more ways: each character from exactly the `seq_len` characters before it (what the writing
screen does with the text before the cursor), and in separate `seq_len` windows from a fresh state
(the engine's figure before it read contiguously).

Elapsed time counts from the start of training (model built, data ready), evaluations included.
TensorFlow's log lines go to a file in the temp folder, as in the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from benchmarks.scores import validation_windows, window_loss  # noqa: E402
from chargen_tui.config import Config, knob_type  # noqa: E402
from chargen_tui.corpus import read_corpus, split_corpus  # noqa: E402
from chargen_tui.events import BatchProgress, EpochEnd, Stopped, TrainingStarted, bits, position  # noqa: E402
from chargen_tui.plan import plan_run  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402
from chargen_tui.sampling import Sampler  # noqa: E402


class Curve:
    """The subscriber: prints a line per evaluation, remembers the speed, the optimizer steps and when
    training started."""

    def __init__(self):
        self.started = time.monotonic()
        self.chars_per_sec = 0.0
        self.steps = 0

    def __call__(self, event) -> None:
        match event:
            case TrainingStarted():
                self.started = time.monotonic()
                print(f"{event.parameters:,} parameters, vocab {event.vocab_size}, {event.batches_per_epoch} "
                      f"batches an epoch", flush=True)
            case BatchProgress():
                self.chars_per_sec = event.chars_per_sec
                self.steps = (event.epoch - 1) * event.batches + event.batch
            case EpochEnd():
                self.line(f"epoch {event.epoch}", event.val_loss, f"train {event.loss:.4f}")

    def line(self, what: str, val_loss: float, extra: str = "", elapsed: float | None = None) -> None:
        elapsed = time.monotonic() - self.started if elapsed is None else elapsed
        print(f"{elapsed:7.1f} s  {what:>9}  val {val_loss:.4f} nats/char "
              f"{bits(val_loss):.4f} bits/char  {extra}  {self.chars_per_sec:,.0f} chars/s", flush=True)


def final_losses(run_dir: RunDir, model, config: Config, text: str) -> dict[str, float]:
    """A model on the validation split, three ways (see the module's docstring)."""
    vocab = run_dir.read_vocab()
    sampler = Sampler.from_model(model, vocab, config.seq_len)
    val = split_corpus(vocab.encode(text), config.seq_len, config.val_fraction).val
    val_x, val_y = validation_windows(val, config.seq_len)
    return {"contiguous": sampler.contiguous_loss(val),
            "windows": sampler.rows_loss(np.hstack([val_x, val_y[:, -1:]])),
            "writing": window_loss(sampler, val, config.seq_len)}


def last_model(run_dir: RunDir, config: Config):
    """The model as training left it (at the stop, or after the last epoch): the last checkpoint's
    weight average when the run keeps one, as `model.keras` would hold it, else its weights."""
    from chargen_tui.model import inference_copy, load_model

    checkpoint = run_dir.read_checkpoint()
    vocab_size = run_dir.read_vocab().vocab_size
    model = load_model(run_dir.checkpoint_model_path(checkpoint), vocab_size)
    return inference_copy(model, config, vocab_size, trainable=run_dir.read_average(checkpoint))


def parse_setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    if name not in {f.name for f in dataclasses.fields(Config)}:
        raise SystemExit(f"--set {text}: Config has no field {name!r}")
    kind = knob_type(name)
    if kind is bool:
        return name, value.lower() in ("1", "true", "yes")
    return name, kind(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--budget", type=float, help="seconds of training, as --time-budget plans them")
    parser.add_argument("--limit", action="store_true", help="cut the default epochs' schedule at --budget "
                        "instead, as --time-limit does (how budgets were measured before --time-budget)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change one of Config's defaults (repeatable)")
    parser.add_argument("--out", help="run folder to keep (default: a temporary one)")
    parser.add_argument("--evaluate", metavar="RUN_DIR", help="train nothing: evaluate RUN_DIR's model.keras "
                        "on --corpus, split with its config")
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    if args.evaluate:
        from chargen_tui.model import load_model

        run_dir = RunDir(args.evaluate)
        config = run_dir.read_config()
        model = load_model(run_dir.require_model(), run_dir.read_vocab().vocab_size)
        report(final_losses(run_dir, model, config, read_corpus(args.corpus)), config)
    elif args.budget is None:
        parser.error("give --budget SECONDS (or --evaluate RUN_DIR)")
    else:
        train_for_budget(args)


def train_for_budget(args: argparse.Namespace) -> None:
    from chargen_tui.training import train

    changes = dict(parse_setting(s) for s in args.set)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = RunDir(args.out or Path(tmp) / "run")
        budget = {"time_limit": args.budget} if args.limit else {"time_budget": args.budget}
        plan = plan_run(run_dir, {"corpus": args.corpus, **budget, **changes})
        config, text = plan.config, plan.text
        print(f"corpus {args.corpus}: {len(text):,} chars; budget {args.budget:g} s "
              f"({'--time-limit' if args.limit else '--time-budget'}); "
              f"changed from the defaults: {changes or 'nothing'}", flush=True)
        curve = Curve()
        stop = threading.Event()  # Ctrl-C ends the budget early, with the final evaluation
        signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
        end = train(plan, curve, stop=stop)
        elapsed = time.monotonic() - curve.started
        rows = run_dir.read_metrics()
        if not rows and not (isinstance(end, Stopped) and end.batches_done):
            raise SystemExit("no evaluation within the budget: give a longer --budget")
        final = final_losses(run_dir, last_model(run_dir, config), config, text)
        if isinstance(end, Stopped) and end.batches_done:  # stopped inside an epoch: a line for it
            curve.line("stop", final["contiguous"], position(end.epochs_done, end.batches_done), elapsed)
    best = min([final["contiguous"]] + [r["val_loss"] for r in rows])
    report(final, config, f" at {elapsed:.0f} s of training, {curve.steps:,} steps; best {best:.4f}")


def report(final: dict[str, float], config: Config, when: str = "") -> None:
    print(f"final: {final['contiguous']:.4f} nats/char ({bits(final['contiguous']):.4f} bits/char){when}", flush=True)
    print(f"  the same model from the {config.seq_len} characters before each, from a fresh state (as the "
          f"writing screen): {final['writing']:.4f}; in separate {config.seq_len}-character windows from a fresh "
          f"state: {final['windows']:.4f}", flush=True)


if __name__ == "__main__":
    main()
