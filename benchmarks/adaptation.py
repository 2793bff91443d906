"""Dynamic evaluation's worth: the loss of a text read from start to end, with and without adapting.

    python benchmarks/adaptation.py --run RUN_DIR --text FILE [--start 0.9] [--chars N] \\
        [--learning-rate 0.1 ...] [--pull-back 0.001] [--segment 32]

Reads the text (from --start, a fraction of it, --chars characters) through `adapt.Adapter`, as
the writing screen's adaptation does: each segment is scored before the model learns from it, so
every character is predicted from the text before it only. Learning rate 0 is the model as loaded
(the same figure as the engine's contiguous validation loss, read as one stream). One line per
learning rate: nats/char, and the gain against 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chargen_tui.runtime import use_one_blas_thread  # noqa: E402


def read_through(sampler, ids, learning_rate: float, pull_back: float, segment: int) -> float:
    from chargen_tui.adapt import Adapter

    adapter = Adapter(sampler, learning_rate, pull_back, segment)
    total = 0.0
    for start in range(0, len(ids) - segment + 1, segment):
        total += adapter.read(ids[start:start + segment]) * segment
    return total / (len(ids) // segment * segment)


def main() -> None:
    use_one_blas_thread()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--start", type=float, default=0.9)
    parser.add_argument("--chars", type=int)
    parser.add_argument("--learning-rate", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--pull-back", type=float, nargs="+", default=[0.001])
    parser.add_argument("--segment", type=int, default=32)
    args = parser.parse_args()

    from chargen_tui.run_dir import RunDir
    from chargen_tui.sampling import Sampler
    from chargen_tui.vocab import PAD

    text = Path(args.text).read_text(encoding="utf-8")
    text = text[int(len(text) * args.start):]
    text = text[:args.chars] if args.chars else text
    sampler = Sampler.from_run_dir(RunDir(args.run))
    ids = sampler.vocab.encode(text)
    ids = ids[ids != PAD]
    print(f"{args.text} from {args.start:.0%}: {len(ids):,} characters, segments of {args.segment}", flush=True)
    plain = None
    for rate in args.learning_rate:
        for pull in (args.pull_back if rate else [0.0]):
            began = time.perf_counter()
            loss = read_through(sampler, ids, rate, pull, args.segment)
            plain = loss if plain is None and rate == 0 else plain
            gain = f"  {loss - plain:+.4f} against no adaptation" if plain is not None and rate else ""
            print(f"learning rate {rate:g}, pull back {pull:g}: {loss:.4f} nats/char{gain}  "
                  f"({1e6 * (time.perf_counter() - began) / len(ids):.0f} us/char)", flush=True)


if __name__ == "__main__":
    main()
