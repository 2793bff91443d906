"""Time of one training step of the engine's model, from in-memory arrays: for CPU settings.

    python benchmarks/step_time.py                       # the defaults' shape: LSTM 256, windows of 50, batch 64
    python benchmarks/step_time.py --seq-len 100 --jit   # XLA (jit_compile) on windows of 100
    TF_NUM_INTRAOP_THREADS=2 python benchmarks/step_time.py

Builds the model as training does (`model.build_model`, the defaults unless a flag changes one),
runs 3 steps to trace the graph, then times 40 steps of random tokens. No data pipeline: this
isolates the step itself. This machine's speed is bimodal (runs of the same command gave 24,900
and 49,500 chars/s): run each setting several times and compare the best.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from chargen_tui.config import Config  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to  # noqa: E402

STEPS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=Config.units)
    parser.add_argument("--seq-len", type=int, default=Config.seq_len)
    parser.add_argument("--batch-size", type=int, default=Config.batch_size)
    parser.add_argument("--float32", action="store_true", help="no mixed bfloat16")
    parser.add_argument("--jit", action="store_true", help="compile the step with XLA (jit_compile=True)")
    parser.add_argument("--vocab", type=int, default=66, help="vocabulary size (tinyshakespeare: 66)")
    args = parser.parse_args()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    from chargen_tui.model import build_model

    config = Config(units=args.units, seq_len=args.seq_len, batch_size=args.batch_size,
                    mixed_precision=not args.float32)
    model = build_model(config, args.vocab, steps_per_epoch=1000)
    if args.jit:
        model.jit_compile = True
    rng = np.random.default_rng(0)
    x = rng.integers(1, args.vocab, size=(args.batch_size * STEPS, args.seq_len)).astype("int32")
    y = rng.integers(1, args.vocab, size=x.shape).astype("int32")
    model.fit(x[:args.batch_size * 3], y[:args.batch_size * 3], batch_size=args.batch_size, verbose=0)
    started = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, verbose=0)
    seconds = time.perf_counter() - started
    print(f"units {args.units}, windows of {args.seq_len}, batch {args.batch_size}, "
          f"{'float32' if args.float32 else 'mixed bfloat16 where native'}{', XLA' if args.jit else ''}: "
          f"{x.size / seconds:,.0f} chars/s, {seconds / STEPS * 1000:.1f} ms a step", flush=True)


if __name__ == "__main__":
    main()
