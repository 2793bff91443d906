"""Where a training batch's time goes, and an epoch end's: the engine against a bare step.

    python benchmarks/batch_cost.py --corpus ../shared/corpora/tinyshakespeare.txt
    python benchmarks/batch_cost.py --corpus ../shared/corpora/tang_poems.txt --batches 60

The model is the engine's (`model.build_model`, the defaults unless `--set` changes one) on the
corpus' first `--batches` batches. Each way trains them after one warm-up epoch (graph tracing,
worker start) and reports the median milliseconds between batch ends, then the training chars/s
that makes:

1. `train_on_batch` on the batches held in memory: the step alone;
2. `fit` on the same batches as in-memory arrays: Keras' loop;
3. `fit` on the engine's multi-process PyDataset (`data.TrainWindows`): the data pipeline;
4. 3 with the engine's per-batch callbacks, each one's own median cost beside.

Then the epoch end's work once, timed: the evaluation on the whole validation split, the samples,
the best model's files, the checkpoint. Each way runs `--rounds` times, alternated, so that the
machine's drift falls on all of them: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from benchmarks.quality import parse_setting  # noqa: E402
from chargen_tui.plan import plan_run  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--batches", type=int, default=80, help="batches an epoch")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    with tempfile.TemporaryDirectory() as tmp:
        survey(args, RunDir(Path(tmp) / "run"))


def survey(args: argparse.Namespace, run: RunDir) -> None:
    from chargen_tui import callbacks as cb
    from chargen_tui.data import TrainWindows, quiet_forked_workers, stop_data_loader
    from chargen_tui.model import build_model
    from chargen_tui.weight_average import WeightAverage

    plan = plan_run(run, {"corpus": args.corpus, **dict(parse_setting(s) for s in args.set)})
    config = plan.config
    ids = plan.split.train[:(args.batches * config.batch_size + 1) * config.seq_len + 1]
    quiet_forked_workers()
    dataset = TrainWindows(ids, config)
    model = build_model(config, plan.vocab.vocab_size, dataset.batches_per_epoch)
    batches = [dataset[i] for i in range(len(dataset))]
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    chars = dataset.batch_size * config.seq_len
    print(f"{args.corpus}: vocab {plan.vocab.vocab_size}, {model.count_params():,} parameters, "
          f"{len(batches)} batches of {chars} chars", flush=True)

    def bare() -> list[float]:
        stamps = []
        for bx, by in batches:
            model.train_on_batch(bx, by)
            stamps.append(time.perf_counter())
        return stamps

    def fit(data, extra: list) -> list[float]:
        stamps = stamps_callback()
        for _ in range(2):  # the first epoch warms up; the stamps keep the second
            stamps.clear()
            if data is None:
                dataset.set_epoch(0)
                model.fit(dataset, epochs=1, callbacks=[*extra, stamps], verbose=0, shuffle=False)
                stop_data_loader(dataset)
            else:
                model.fit(*data, batch_size=dataset.batch_size, epochs=1, callbacks=[*extra, stamps],
                          verbose=0, shuffle=False)
        return stamps.times

    def engine_callbacks() -> list:
        position = cb.Position(dataset, chars)
        clock = cb.TrainingClock()
        average = WeightAverage([v.numpy() for v in model.trainable_variables], config.ema_momentum)
        return [cb.FollowEpochs(dataset), position, cb.GuardLoss(position, plan.vocab.vocab_size),
                cb.AverageWeights(position, average), cb.ReportProgress(position, lambda event: None),
                cb.WriteProgressFile(position, run), cb.StopWhenAsked(threading.Event(), config, clock, position)]

    timed_callbacks: list = []

    def with_callbacks() -> list[float]:
        nonlocal timed_callbacks
        timed_callbacks = [timed(c) for c in engine_callbacks()]
        return fit(None, timed_callbacks)

    ways = {"train_on_batch, in memory": lambda: (bare(), bare())[1],  # the first pass warms up
            "fit, in-memory arrays": lambda: fit((x, y), []),
            "fit, PyDataset": lambda: fit(None, []),
            "fit, PyDataset, engine callbacks": with_callbacks}
    results: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            results[name].append(median_gap(way()))
    for name, medians in results.items():
        ms = min(medians)
        print(f"{name:34} {ms * 1000:7.1f} ms a batch  {chars / ms:9,.0f} chars/s   "
              f"(rounds: {', '.join(f'{m * 1000:.1f}' for m in medians)})")
    for callback in timed_callbacks:
        cost = statistics.median(callback.costs or [0]) * 1000
        print(f"    {type(callback.callback).__name__:24} {cost:6.2f} ms a batch")
    epoch_end(plan, model, dataset, run, chars)


def epoch_end(plan, model, dataset, run: RunDir, chars: int) -> None:
    from chargen_tui import callbacks as cb
    from chargen_tui.weight_average import WeightAverage

    config = plan.config
    position = cb.Position(dataset, chars)
    position.batches_done = dataset.batches_per_epoch
    average = WeightAverage([v.numpy() for v in model.trainable_variables], config.ema_momentum)
    evaluation = cb.Evaluation(position, config, plan.vocab, plan.split.val, average, None)
    parts = [("evaluation", evaluation),
             ("samples", cb.SampleTexts(position, evaluation, run, [], plan.text[:len(plan.split.train)]
                                        if plan.texts is None else None, lambda e: None)),
             ("best model files", cb.SaveBest(position, evaluation, run)),
             ("checkpoint", cb.SaveCheckpoint(position, evaluation, run, average, cb.TrainingClock(),
                                              lambda e: None))]
    run.write_start(config, plan.vocab)
    logs = {"loss": 1.0}
    print(f"epoch end ({len(plan.split.val):,} validation chars):")
    for name, callback in parts:
        callback.set_model(model)
        started = time.perf_counter()
        callback.on_epoch_end(0, logs)
        print(f"    {name:24} {time.perf_counter() - started:6.2f} s")


def median_gap(stamps: list[float]) -> float:
    return statistics.median(np.diff(stamps))


def stamps_callback():
    """A callback that notes when each batch ends (Keras is imported late, after the log redirection)."""
    import keras

    class _Stamps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def clear(self) -> None:
            self.times = []

        def on_train_batch_end(self, batch, logs=None) -> None:
            self.times.append(time.perf_counter())

    return _Stamps()


def timed(callback):
    import keras

    class _Timed(keras.callbacks.Callback):
        """Runs `callback`, timing its per-batch work."""

        def __init__(self):
            super().__init__()
            self.callback, self.costs = callback, []

        def set_model(self, model) -> None:
            super().set_model(model)
            self.callback.set_model(model)

        def on_epoch_begin(self, epoch, logs=None) -> None:
            self.callback.on_epoch_begin(epoch, logs)

        def on_train_batch_begin(self, batch, logs=None) -> None:
            self.callback.on_train_batch_begin(batch, logs)

        def on_train_batch_end(self, batch, logs=None) -> None:
            started = time.perf_counter()
            self.callback.on_train_batch_end(batch, logs)
            self.costs.append(time.perf_counter() - started)

    return _Timed()


if __name__ == "__main__":
    main()
