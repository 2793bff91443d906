"""Scores that only the benchmarks report, built on the package's NumPy sampler.

The engine's own figure is `Sampler.contiguous_loss` (the validation text read in one go). These
two answer other questions: how the model does from exactly the window the writing screen gives
it, and the separate-window figure the engine reported before it read contiguously.
"""

from __future__ import annotations

import numpy as np

from chargen_tui.sampling import Sampler, cross_entropy


def window_loss(sampler: Sampler, ids: np.ndarray, window: int, every: int = 1, rows: int = 1024) -> float:
    """Mean cross-entropy (nats per character) of predicting a token from exactly the `window`
    tokens before it, from a fresh state: what the writing screen does with the text before the
    cursor. Scores every `every`-th token from the `window`-th on; `rows` windows run side by side."""
    targets = np.arange(window, len(ids), every)
    total = 0.0
    for first in range(0, len(targets), rows):
        chunk = targets[first:first + rows]
        state = sampler.fresh_state(len(chunk))
        for back in range(window, 0, -1):
            state = sampler.step(state, ids[chunk - back])
        total += float(cross_entropy(sampler.logits(state), ids[chunk]).sum())
    return total / len(targets)


def validation_windows(val: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows over the validation part: inputs and next-character targets."""
    count = (len(val) - 1) // seq_len
    starts = np.arange(count) * seq_len
    windows = val[starts[:, None] + np.arange(seq_len + 1)]
    return windows[:, :-1], windows[:, 1:]
