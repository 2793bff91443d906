"""Training signal per second: our pipeline against the tutorials' one-target-per-window pipeline.

    python benchmarks/train_throughput.py [--corpus ../shared/corpora/tinyshakespeare.txt]

Same model size (Embedding 64, LSTM --units, Dense over the vocabulary), same batch and window, same
process. Figures are training target characters per second, steady state (the first batch of each
measurement, which traces the graph, is left out):

1. ours: `training.train` for one epoch, with the multi-process PyDataset (the default: one worker
   process), with two worker processes, and with `--no-multiprocessing` (batches built in the
   training thread);
2. the same model and the same epoch of windows as in-memory arrays given to `fit` (no PyDataset):
   what the data pipeline costs;
3. the tutorials: one target (the last character) per window, `return_sequences=False`.

TensorFlow's log lines go to a file in the temp folder, as in the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from chargen_tui.config import Config  # noqa: E402
from chargen_tui.corpus import read_corpus, split_corpus  # noqa: E402
from chargen_tui.events import EpochEnd  # noqa: E402
from chargen_tui.plan import plan_run  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402
from chargen_tui.vocab import Vocab  # noqa: E402


def ours(config: Config, text: str) -> float:
    from chargen_tui.training import train

    speeds = []
    with tempfile.TemporaryDirectory() as tmp:
        plan = plan_run(RunDir(Path(tmp) / "run"), dataclasses.asdict(config), text=text)
        train(plan, lambda e: speeds.append(e.chars_per_sec) if isinstance(e, EpochEnd) else None)
    return speeds[-1]


def timed_batches(step, batches: int) -> float:
    """Seconds per batch over `batches` calls of `step()`, after one untimed call (tracing)."""
    step()
    start = time.perf_counter()
    for _ in range(batches):
        step()
    return (time.perf_counter() - start) / batches


def arrays(config: Config, ids: np.ndarray, vocab_size: int) -> float:
    """Target characters per second of a fit on in-memory arrays, from the end of its first batch
    (tracing) to its last."""
    import keras

    from chargen_tui.data import TrainWindows
    from chargen_tui.model import build_model

    dataset = TrainWindows(ids, config.replace(workers=0))
    model = build_model(config, vocab_size, len(dataset))
    batches = [dataset[i] for i in range(len(dataset))]  # the same epoch, built up front
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    stamps: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    model.fit(x, y, batch_size=dataset.batch_size, epochs=1, shuffle=False, callbacks=[timer], verbose=0)
    return (len(stamps) - 1) * dataset.batch_size * config.seq_len / (stamps[-1] - stamps[0])


def one_target_per_window(config: Config, ids: np.ndarray, vocab_size: int, batches: int) -> float:
    import keras

    keras.utils.set_random_seed(config.seed)
    model = keras.Sequential([
        keras.Input((config.seq_len,), dtype="int32"),
        keras.layers.Embedding(vocab_size, config.embedding_dim),
        keras.layers.LSTM(config.units),  # the last state only: one prediction per window
        keras.layers.Dense(vocab_size, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  loss="sparse_categorical_crossentropy")
    starts = np.random.default_rng(0).integers(len(ids) - config.seq_len - 1, size=config.batch_size)
    x = ids[starts[:, None] + np.arange(config.seq_len)]
    y = ids[starts + config.seq_len]
    seconds = timed_batches(lambda: model.train_on_batch(x, y), batches)
    return len(y) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared/corpora/tinyshakespeare.txt"))
    parser.add_argument("--batches", type=int, default=30, help="batches timed for the one-target baseline")
    parser.add_argument("--units", type=int, default=Config.units)
    parser.add_argument("--batch-size", type=int, default=Config.batch_size)
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    text = read_corpus(args.corpus)
    config = Config(epochs=1, units=args.units, batch_size=args.batch_size, sample_length=1,
                    sample_temperatures=(1.0,))
    vocab = Vocab.from_text(text)
    ids = split_corpus(vocab.encode(text), config.seq_len, config.val_fraction).train
    print(f"corpus {args.corpus}: {len(text):,} chars, vocab {vocab.vocab_size}; LSTM {config.units}, "
          f"batch {config.batch_size}, seq_len {config.seq_len}; target chars/s, steady state")
    rows = [
        ("ours, PyDataset, 1 worker process (default), one epoch", ours(config, text)),
        ("ours, PyDataset, 2 worker processes (--workers 2), one epoch", ours(config.replace(workers=2), text)),
        ("ours, PyDataset, no worker (--no-multiprocessing), one epoch",
         ours(config.replace(use_multiprocessing=False), text)),
        ("same model and windows as in-memory arrays, fit", arrays(config, ids, vocab.vocab_size)),
        ("tutorials: one target per window", one_target_per_window(config, ids, vocab.vocab_size, args.batches)),
    ]
    for name, speed in rows:
        print(f"{speed:12,.0f}  {name}")
    print(f"ours / one-target-per-window: {rows[0][1] / rows[-1][1]:,.0f}x")


if __name__ == "__main__":
    main()
