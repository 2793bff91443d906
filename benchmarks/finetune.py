"""Fine-tuning a base model against training from scratch, at equal training time.

    python benchmarks/base_model.py --out /tmp/base-no-alice --budget 1200 --without alice
    python benchmarks/finetune.py --base /tmp/base-no-alice --corpus ../shared/corpora/alice.txt --seconds 60 120 300
    python benchmarks/finetune.py --base ... --corpus ... --seconds 60 --ways finetune --set learning_rate=3e-4
    python benchmarks/finetune.py --base ... --corpus ../shared/corpora/tang_poems.txt --start-loss

For each number of seconds, trains on the corpus's first 90% with the engine, three ways:
`scratch`, the defaults with `--time-limit` (their schedule cut there, or ended earlier);
`scratch-budget`, the defaults with `--time-budget` (a schedule planned for the time); and
`finetune`, `--from BASE` with the fine-tuning defaults and `--time-limit`. `--set` changes a knob
of the fine-tuning runs. Each line gives the validation loss of the run's model.keras (the corpus's
last 10%, read contiguously: the engine's own figure; a run that ended no epoch is scored at
its stop), the seconds it trained (evaluations included) and its epochs, and the
loss of its first batch (a fine-tuned run's against the base's on the same text: no blow-up).
The base must not have seen the corpus (base_model.py --without).

`--start-loss` trains nothing: the loss on the corpus's first 30,000 characters of the base extended
to its characters, before any training, with new characters started as the engine starts them
(`finetune.extend_weights`) and as Keras would (rows and columns drawn uniformly, a zero bias).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.quality import last_model, parse_setting  # noqa: E402
from chargen_tui.events import BatchProgress, Stopped, TrainingStarted  # noqa: E402
from chargen_tui.plan import plan_run  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402
from chargen_tui.sampling import Sampler  # noqa: E402

WAYS = ("scratch", "scratch-budget", "finetune")


class FirstBatch:
    """The subscriber: the loss after the first batch, and when training started."""

    def __init__(self):
        self.loss: float | None = None
        self.started = time.monotonic()

    def __call__(self, event) -> None:
        match event:
            case TrainingStarted():
                self.started = time.monotonic()
            case BatchProgress() if self.loss is None:
                self.loss = event.loss


def run_one(way: str, seconds: float, args: argparse.Namespace, folder: Path) -> dict:
    from chargen_tui.training import train

    changes = {"corpus": args.corpus}
    if way == "finetune":
        changes |= {"start_from": args.base, "time_limit": seconds, **dict(parse_setting(s) for s in args.set)}
    else:
        changes |= {"time_budget" if way == "scratch-budget" else "time_limit": seconds}
    run = RunDir(folder / f"{way}-{seconds:g}")
    plan = plan_run(run, changes)
    first = FirstBatch()
    end = train(plan, first)
    rows = run.read_metrics()
    losses = [r["val_loss"] for r in rows]
    if isinstance(end, Stopped) and end.batches_done and not rows:  # no epoch ended: score the stop's model
        model = last_model(run, plan.config)
        losses.append(Sampler.from_model(model, plan.vocab, plan.config.seq_len).contiguous_loss(plan.split.val))
    return {"way": way, "seconds": seconds, "val_loss": min(losses), "epochs": len(rows),
            "trained": time.monotonic() - first.started, "first_batch": first.loss}


def base_loss(args: argparse.Namespace) -> float:
    """The base model's loss on the corpus's validation part, read contiguously (its characters only)."""
    plan = plan_run(RunDir(Path(tempfile.mkdtemp()) / "probe"), {"corpus": args.corpus, "start_from": args.base})
    sampler = Sampler.from_run_dir(plan.base.run)
    text = plan.vocab.decode(plan.split.val)
    return sampler.contiguous_loss(sampler.vocab.encode("".join(c for c in text if c in sampler.vocab.char_index)))


def start_losses(args: argparse.Namespace, chars: int = 30_000) -> None:
    import numpy as np

    from chargen_tui.finetune import extend_weights

    plan = plan_run(RunDir(Path(tempfile.mkdtemp()) / "probe"), {"corpus": args.corpus, "start_from": args.base})
    base, vocab, ids = plan.base, plan.vocab, plan.split.train
    ours = extend_weights(plan.base.run.read_weights(), base.vocab, vocab, ids)
    new = np.arange(vocab.vocab_size) > len(base.vocab.char_index)
    rng = np.random.default_rng(0)

    def drawn(array: np.ndarray, axis: int) -> np.ndarray:
        fresh = rng.uniform(-0.05, 0.05, array.shape).astype(np.float32)
        return np.where(new[:, None] if axis == 0 else new[None, :], fresh, array)

    keras_like = ours | {"embedding": drawn(ours["embedding"], 0), "logits/kernel": drawn(ours["logits/kernel"], 1),
                         "logits/bias": np.where(new, 0.0, ours["logits/bias"]).astype(np.float32)}
    print(f"{int(new.sum()):,} new characters; uniform {np.log(vocab.vocab_size - 1):.4f}")
    for name, arrays in (("the engine's start", ours), ("Keras-style new rows", keras_like)):
        loss = Sampler.from_arrays(arrays, vocab, plan.config.seq_len).contiguous_loss(ids[:chars])
        print(f"{name}: {loss:.4f} nats/char on the first {chars:,} characters, before training", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the base run folder (one that has not seen --corpus)")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--seconds", type=float, nargs="+", default=[60, 120, 300])
    parser.add_argument("--ways", nargs="+", choices=WAYS, default=list(WAYS))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a knob of the fine-tuning runs (repeatable)")
    parser.add_argument("--start-loss", action="store_true", help="train nothing: the loss before training")
    args = parser.parse_args()
    use_one_blas_thread()
    if args.start_loss:
        return start_losses(args)
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    print(f"base {args.base} on {args.corpus}'s validation part, untrained on it: {base_loss(args):.4f} "
          f"nats/char (its own characters only); fine-tuning changes: {args.set or 'none'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.seconds:
            for way in args.ways:
                r = run_one(way, seconds, args, Path(tmp))
                print(f"{r['way']:>14} {r['seconds']:5g} s: val {r['val_loss']:.4f} nats/char  "
                      f"({r['epochs']} epochs, {r['trained']:.0f} s trained; first batch {r['first_batch']:.4f})",
                      flush=True)


if __name__ == "__main__":
    main()
