"""Whole texts out: do a texts model's generated texts end, and are they as long as the corpus's?

    python benchmarks/texts_lengths.py --run runs/tang_texts -n 10

Generates `-n` texts from the run's model as `chargen-tui generate RUN -n N` does (no prefix, the
same temperature and --max-length defaults), and prints how many the model ended, the length
quartiles of the generated texts against the run's corpus cut by its own mode, and the first text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from chargen_tui.api import load  # noqa: E402
from chargen_tui.corpus import read_corpus  # noqa: E402
from chargen_tui.texts import TextsMode  # noqa: E402


def quartiles(lengths: list[int]) -> str:
    low, median, high = np.percentile(lengths, [25, 50, 75])
    return f"min {min(lengths)}, quartiles {low:.0f} / {median:.0f} / {high:.0f}, max {max(lengths)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a run folder trained with --texts")
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = load(args.run)
    config = model.config
    corpus = TextsMode(config.texts).split(read_corpus(config.corpus, config.encoding))
    generated = model.generations(args.n, temperature=args.temperature, seed=args.seed)
    ended = [g for g in generated if g.ended]
    print(f"{len(ended)} of {len(generated)} texts ended by themselves (temperature {args.temperature}, seed {args.seed})")
    print(f"generated lengths: {quartiles([len(g.text) for g in generated])}")
    print(f"corpus lengths ({len(corpus):,} texts): {quartiles([len(t) for t in corpus])}")
    print(f"first text:\n{generated[0].text}")


if __name__ == "__main__":
    main()
