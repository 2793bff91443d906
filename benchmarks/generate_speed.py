"""Generation speed: our NumPy step generator against the tutorials' `model.predict` per character.

    python benchmarks/generate_speed.py [--run-dir RUN_DIR] [--corpus PATH]

Same model, same process. Without --run-dir the model is the default config (`Config()`)
with freshly initialised weights over the corpus' vocabulary: the cost of a step does not depend on
the weights' values. Prints the time for 1,000 characters both ways, their ratio, and the p50/p99
time to produce a 40-character suggestion from a `seq_len`-character prefix (what the editor asks for).
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
from chargen_tui.corpus import read_corpus  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402
from chargen_tui.sampling import Sampler  # noqa: E402
from chargen_tui.vocab import Vocab  # noqa: E402


def predict_loop(model, sampler: Sampler, prefix: str, length: int) -> float:
    """The tutorials' loop: the whole padded window through `model.predict` for each new character."""
    window = list(sampler.window(prefix))
    start = time.perf_counter()
    for _ in range(length):
        logits = model.predict(np.array([window]), verbose=0)[0, -1]
        logits[0] = -np.inf
        window = window[1:] + [int(logits.argmax())]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", help="a trained run folder (default: a fresh default-config model)")
    parser.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared/corpora/alice.txt"))
    parser.add_argument("--chars", type=int, default=1000)
    parser.add_argument("--suggestions", type=int, default=500)
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    from chargen_tui.model import build_model, load_model

    text = read_corpus(args.corpus)
    if args.run_dir:
        sampler = Sampler.from_run_dir(RunDir(args.run_dir))
        model = load_model(RunDir(args.run_dir).model_path, sampler.vocab.vocab_size)
    else:
        config, vocab = Config(), Vocab.from_text(text)
        model = build_model(config, vocab.vocab_size, steps_per_epoch=1)  # untrained: the schedule is unused
        sampler = Sampler.from_model(model, vocab, config.seq_len)
    rng = np.random.default_rng(0)
    prefix = text[1000:1000 + sampler.seq_len]

    start = time.perf_counter()
    sampler.generate(prefix, args.chars, temperature=0)
    ours = time.perf_counter() - start
    theirs = predict_loop(model, sampler, prefix, args.chars)
    print(f"{args.chars} characters: ours {ours * 1000:.1f} ms ({ours / args.chars * 1e3:.3f} ms/char), "
          f"model.predict loop {theirs:.1f} s ({theirs / args.chars * 1e3:.1f} ms/char): {theirs / ours:,.0f}x")

    times = []
    for _ in range(args.suggestions):
        at = int(rng.integers(len(text) - sampler.seq_len))
        start = time.perf_counter()
        sampler.generate(text[at:at + sampler.seq_len], 40, temperature=0.5, seed=int(at))
        times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(np.array(times) * 1000, [50, 99])
    print(f"40-character suggestion from a {sampler.seq_len}-character prefix, {args.suggestions} runs: "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
