"""Dynamic evaluation: a copy of the model that keeps learning from the document as it is written.

Krause et al. ("Dynamic evaluation of neural sequence models", 2018) take a gradient step on each
segment of text once it has been read, so the model comes to expect the names, words and style of
the text at hand; on characters they measured 0.08-0.16 bits/char less loss. Here the text is the
document before the cursor, the step is plain SGD pulled back towards the loaded weights (so the
model cannot drift far from what it learned), and the gradient is computed in NumPy, by
backpropagation through the segment, on the sampler's own arrays: no TensorFlow, and the run
folder is never touched.

The state is carried from one segment to the next (each character predicted from all the text
before it), and the gradient stops at the segment's start (truncated backpropagation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sampling import Sampler, log_softmax
from .vocab import PAD

SEGMENT = 32  # characters per gradient step
LEARNING_RATE = 0.3
PULL_BACK = 0.001  # per step, the share of the distance to the loaded weights taken back
GRADIENT_NORM = 1.0  # a step's gradient is clipped to this norm
READ_FIRST = 50_000  # characters before the cursor an opened document's copy reads first (~12 s, between keys)


@dataclass
class _StepCache:  # what one layer's step keeps for the backward pass
    x: np.ndarray  # its input (a token id for the first layer)
    h: np.ndarray  # the state before
    c: np.ndarray
    a: np.ndarray  # tanh of the pre-activations (gates halved, see sampling._Layer)
    c_new: np.ndarray


class Adapter:
    """A copy of `sampler` (`self.sampler`) adapted on the text `read` gives it, segment by segment."""

    def __init__(self, sampler: Sampler, learning_rate: float = LEARNING_RATE, pull_back: float = PULL_BACK,
                 segment: int = SEGMENT) -> None:
        self.base = sampler
        self.sampler = sampler.copy()
        self.learning_rate, self.pull_back, self.segment = learning_rate, pull_back, segment
        self.state = self.sampler.fresh_state(1)
        self.pending: list[int] = []  # tokens seen but not read yet (less than a segment)
        self.seen: str | None = ""  # the text before the cursor, as last followed (None: what comes next)
        self._read_from: str | None = None  # where to read on from, after a deletion or a jump
        self.steps = 0
        self._weights = _weights(self.sampler, sampler)
        self._touched_inputs: set[int] = set()  # rows of the input table a step has moved

    # --- following the writer ----------------------------------------------------------------
    def follow(self, before_cursor: str) -> None:
        """Queue what was typed since the last call (the text before the cursor now, as much as the
        editor sends). Anything but text added at the cursor (a deletion, a jump) re-reads the state
        from the window before the cursor; text that was deleted before it was read is not read."""
        added = "" if self.seen is None else _added(self.seen, before_cursor)
        self.seen = before_cursor
        if added is None:
            self.pending = []
            self._read_from = before_cursor  # primed at the next step, between keys, not on this one
        else:
            self.pending += self._known(added)

    def feed(self, text: str) -> None:
        """Queue a whole text to read (a document just opened, up to the cursor, where the next
        `follow` takes up)."""
        self.pending += self._known(text)
        self.seen = None

    def _known(self, text: str) -> list[int]:
        return [int(i) for i in self.sampler.vocab.encode(text) if i != PAD]  # the model skips the others

    @property
    def ready(self) -> bool:
        """Is a whole segment waiting to be read?"""
        return len(self.pending) >= self.segment

    def step(self) -> float:
        """Read the next waiting segment (learning from it); its loss before the step."""
        if self._read_from is not None:  # no step has changed the weights since `follow` asked for it
            self.state, self._read_from = self.sampler.prime(self._read_from)[0], None
        segment, self.pending = self.pending[:self.segment], self.pending[self.segment:]
        return self.read(np.array(segment))

    # --- the maths ---------------------------------------------------------------------------
    def read(self, tokens: np.ndarray) -> float:
        """The mean loss of predicting `tokens` after the text read so far, then one SGD step on that
        loss; the state moves on past them."""
        caches, tops = self._forward(tokens)
        loss, gradients = self._backward(tokens, caches, tops)
        if self.learning_rate:
            self._update(gradients)
        self.steps += 1
        return loss

    def _forward(self, tokens: np.ndarray) -> tuple[list[list[_StepCache]], np.ndarray]:
        sampler = self.sampler
        tops = [self.state[-1][0][0]]  # the top layer's output before each token (it predicts that token)
        caches = []
        for token in tokens:
            x, layers, new_state = token, [], []
            for index, (layer, (h, c)) in enumerate(zip(sampler.lstms, self.state)):
                z = h[0] @ layer.recurrent + (sampler.input_table[x] if index == 0 else x @ layer.kernel + layer.bias)
                a = np.tanh(z)
                units = h.shape[1]
                gates = 0.5 * a[:3 * units] + 0.5
                c_new = gates[units:2 * units] * c[0] + gates[:units] * a[3 * units:]
                h_new = gates[2 * units:] * np.tanh(c_new)
                layers.append(_StepCache(x, h[0], c[0], a, c_new))
                new_state.append((h_new[None], c_new[None]))
                x = h_new
            caches.append(layers)
            self.state = new_state
            tops.append(x)
        return caches, np.array(tops[:-1])

    def _backward(self, tokens, caches, tops) -> tuple[float, dict]:
        sampler = self.sampler
        logits = tops @ sampler.dense_kernel + sampler.dense_bias
        log_probs = log_softmax(logits)
        loss = -float(log_probs[np.arange(len(tokens)), tokens].mean())
        probs = np.exp(log_probs)
        probs[np.arange(len(tokens)), tokens] -= 1
        d_logits = (probs / len(tokens)).astype(np.float32)
        gradients = {"dense_kernel": tops.T @ d_logits, "dense_bias": d_logits.sum(axis=0),
                     "input_table": {}}
        d_tops = d_logits @ sampler.dense_kernel.T  # into the output before each token
        layers = len(sampler.lstms)
        d_h = [np.zeros(layer.recurrent.shape[0], np.float32) for layer in sampler.lstms]
        d_c = [np.zeros_like(v) for v in d_h]
        d_z = [[] for _ in range(layers)]
        # Step t reads token t; its output predicts token t + 1 (the last step's predicts nothing here).
        for t in range(len(tokens) - 2, -1, -1):
            d_out = d_tops[t + 1]
            for index in range(layers - 1, -1, -1):
                layer, cache = sampler.lstms[index], caches[t][index]
                units = cache.h.shape[0]
                a = cache.a
                i, f, o, g = (0.5 * a[:units] + 0.5, 0.5 * a[units:2 * units] + 0.5,
                              0.5 * a[2 * units:3 * units] + 0.5, a[3 * units:])
                dh = d_h[index] + d_out
                tc = np.tanh(cache.c_new)
                dc = d_c[index] + dh * o * (1 - tc * tc)
                dz = np.concatenate([dc * g, dc * cache.c, dh * tc, dc * i])
                dz[:3 * units] *= 0.5 * (1 - a[:3 * units] ** 2)
                dz[3 * units:] *= 1 - a[3 * units:] ** 2
                d_z[index].append((t, dz))
                d_h[index] = layer.recurrent @ dz
                d_c[index] = dc * f
                if index:
                    d_out = layer.kernel @ dz
                else:
                    table = gradients["input_table"]
                    table[int(cache.x)] = table.get(int(cache.x), 0) + dz
        for index in range(layers):
            steps = d_z[index]
            if not steps:
                continue
            dz = np.array([dz for _, dz in steps])
            before = np.array([caches[t][index].h for t, _ in steps])
            gradients[f"recurrent_{index}"] = before.T @ dz
            if index:
                inputs = np.array([caches[t][index].x for t, _ in steps])
                gradients[f"kernel_{index}"] = inputs.T @ dz
                gradients[f"bias_{index}"] = dz.sum(axis=0)
        return loss, gradients

    def _update(self, gradients: dict) -> None:
        rows = gradients.pop("input_table")
        norm = np.sqrt(sum(float((g * g).sum()) for g in [*gradients.values(), *rows.values()]))
        rate = self.learning_rate * min(1.0, GRADIENT_NORM / max(norm, 1e-12))
        for name, gradient in gradients.items():
            weights, origin, gated = self._weights[name]
            _descend(weights, gradient, rate, gated)
        for row, gradient in rows.items():
            _descend(self.sampler.input_table[row], gradient, rate, gated=True)
        self._touched_inputs.update(rows)
        if self.pull_back:
            for weights, origin, _ in self._weights.values():
                weights += self.pull_back * (origin - weights)
            table, origin = self.sampler.input_table, self.base.input_table
            for row in self._touched_inputs:
                table[row] += self.pull_back * (origin[row] - table[row])


def _weights(sampler: Sampler, base: Sampler) -> dict[str, tuple[np.ndarray, np.ndarray, bool]]:
    """The adapted arrays by name (the gradients' names), each with its loaded value and whether it
    holds LSTM gate blocks (the input table, the first layer's input weights, is apart: by row)."""
    weights = {"dense_kernel": (sampler.dense_kernel, base.dense_kernel, False),
               "dense_bias": (sampler.dense_bias, base.dense_bias, False)}
    for index, (layer, loaded) in enumerate(zip(sampler.lstms, base.lstms)):
        weights[f"recurrent_{index}"] = (layer.recurrent, loaded.recurrent, True)
        if index:
            weights[f"kernel_{index}"] = (layer.kernel, loaded.kernel, True)
            weights[f"bias_{index}"] = (layer.bias, loaded.bias, True)
    return weights


def _descend(weights: np.ndarray, gradient: np.ndarray, rate: float, gated: bool) -> None:
    step = rate * gradient
    if gated:  # the gate blocks are stored halved (sampling._Layer): a quarter of the step there is
        step[..., :3 * step.shape[-1] // 4] *= 0.25  # the same step in Keras' own weights
    weights -= step.astype(weights.dtype)


def _added(seen: str, now: str) -> str | None:
    """The text typed at the end of `seen` to make `now` (each the last characters before the cursor);
    None when `now` is not `seen` with text added (a deletion or a jump)."""
    if not seen:
        return None
    for shift in range(len(seen)):
        if now.startswith(seen[shift:]):
            return now[len(seen) - shift:]
    return None
