"""Fast generation: the trained LSTM stepped one character at a time in NumPy.

The tutorials call `model.predict` on the whole window for every new character: O(window) work and
a TensorFlow dispatch per character. Here the weights are exported once and each character costs
one step per LSTM layer (O(1) in the window length), tens of microseconds on a CPU.

The maths is Keras' LSTM (sigmoid gates, tanh candidate and output), its weights rearranged once
so that a step needs few NumPy calls (see `_Layer`). The first layer's input projection is
precomputed for every token (`embedding @ kernel + bias`), so its step is a table lookup plus the
recurrent matmul. Index 0 is
masked in the model and skipped here: padding and unknown characters leave the state unchanged.

The same forward pass scores text: `contiguous_loss` is the engine's validation figure, and
`window_loss` scores predictions made as the writing screen makes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from keras.utils import pad_sequences

from .errors import UserError
from .model import load_model
from .run_dir import RunDir
from .vocab import PAD, Vocab


@dataclass(frozen=True)
class _Layer:
    """One LSTM layer's weights, gate blocks reordered to i, f, o, c and the i, f, o blocks halved.

    With that layout one `tanh` over all four blocks gives the candidate and, through
    sigmoid(a) = 0.5 * tanh(a / 2) + 0.5, the three gates (halving is exact in floating point).
    """
    kernel: np.ndarray  # (inputs, 4 * units)
    recurrent: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)

    @classmethod
    def from_keras(cls, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> "_Layer":
        return cls(*(_gates_for_tanh(w) for w in (kernel, recurrent, bias)))


def _gates_for_tanh(weights: np.ndarray) -> np.ndarray:
    i, f, c, o = np.split(weights, 4, axis=-1)  # Keras' order
    return np.ascontiguousarray(np.concatenate([i * 0.5, f * 0.5, o * 0.5, c], axis=-1), dtype=np.float32)


State = list  # per layer: (h, c), each (batch, units)


class Sampler:
    def __init__(self, embedding: np.ndarray, lstms: list[_Layer], dense_kernel: np.ndarray,
                 dense_bias: np.ndarray, vocab: Vocab, seq_len: int):
        self.vocab = vocab
        self.seq_len = seq_len
        self.lstms = lstms
        self.dense_kernel = dense_kernel
        self.dense_bias = dense_bias
        self.input_table = embedding @ lstms[0].kernel + lstms[0].bias  # (vocab_size, 4 * units)

    @classmethod
    def from_model(cls, model, vocab: Vocab, seq_len: int) -> "Sampler":
        """Export the weights of a Keras model built by `model.build_model` (or loaded from model.keras)."""
        embedding, lstms, dense = None, [], None
        for layer in model.layers:
            kind = type(layer).__name__
            weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
            if kind == "Embedding":
                embedding = weights[0]
            elif kind == "LSTM":
                _check_lstm(layer)
                lstms.append(_Layer.from_keras(*weights))
            elif kind == "Dense":
                dense = weights
            elif kind not in ("InputLayer", "Dropout"):
                raise UserError(f"the model has a {kind} layer; the generator knows Embedding, LSTM, "
                                "Dropout and Dense: train it with chargen-tui")
        if embedding is None or not lstms or dense is None:
            raise UserError("the model lacks an Embedding, LSTM or Dense layer: train it with chargen-tui")
        if embedding.shape[0] != vocab.vocab_size or dense[0].shape[1] != vocab.vocab_size:
            raise UserError("the model and vocab.json disagree on the number of characters: "
                            "they come from different runs")
        return cls(embedding, lstms, dense[0], dense[1], vocab, seq_len)

    @classmethod
    def from_run_dir(cls, run_dir: RunDir) -> "Sampler":
        """Load `model.keras` (safe_mode) with its vocab.json and config.json; UserError if damaged."""
        config, vocab, path = run_dir.read_config(), run_dir.read_vocab(), run_dir.require_model()
        return cls.from_model(load_model(path, vocab.vocab_size), vocab, config.seq_len)

    def seed_window(self, text: str) -> np.ndarray:
        """The model's input for a seed: its last `seq_len` characters, pre-padded with 0 when shorter."""
        return pad_sequences([self.vocab.encode(text[-self.seq_len:])], maxlen=self.seq_len,
                             dtype="int32", padding="pre", truncating="pre")[0]

    def prime(self, text: str) -> tuple[State, np.ndarray]:
        """Run the seed window through the LSTM once: the state after it and the next character's logits."""
        state = self._fresh_state(1)
        for token in self.seed_window(text):
            if token != PAD:
                state = self._step(state, np.array([token]))
        return state, self._logits(state)

    def generate(self, seed_text: str, length: int, temperature: float = 1.0, n: int = 1,
                 top_k: int | None = None, seed: int | None = None) -> list[str]:
        """`n` continuations of `seed_text`, each `length` characters (the seed is not repeated).

        temperature 0 picks the most likely character (greedy); top_k keeps only the k likeliest.
        The same `seed` gives the same texts.
        """
        return self.continue_from(self.prime(seed_text), length, temperature, n, top_k,
                                  np.random.default_rng(seed))

    def continue_from(self, primed: tuple[State, np.ndarray], length: int, temperature: float, n: int = 1,
                      top_k: int | None = None, rng: np.random.Generator | None = None) -> list[str]:
        """`n` continuations from a state `prime` returned: one seed, primed once, sampled many times."""
        rng = rng or np.random.default_rng()
        state = [(np.repeat(h, n, axis=0), np.repeat(c, n, axis=0)) for h, c in primed[0]]
        logits = np.repeat(primed[1], n, axis=0)
        out = np.empty((n, length), dtype=np.int32)
        for t in range(length):
            tokens = pick(logits, temperature, top_k, rng)
            out[:, t] = tokens
            state = self._step(state, tokens)
            logits = self._logits(state)
        return [self.vocab.decode(row) for row in out]

    def contiguous_loss(self, ids: np.ndarray, streams: int = 32) -> float:
        """Mean cross-entropy (nats per character) of predicting each token of `ids` from all before it.

        The state is carried through the text, as when the model reads it from start to end; the
        text is cut into `streams` contiguous parts read side by side for speed, so only their first
        characters go without context.
        """
        streams = max(1, min(streams, (len(ids) - 1) // 2))
        length = len(ids) // streams
        return self.rows_loss(np.asarray(ids[:streams * length]).reshape(streams, length))

    def rows_loss(self, rows: np.ndarray) -> float:
        """Mean cross-entropy of each row's tokens after its first, each row read from a fresh state.

        The scorers step every token, index 0 included, where Keras' mask would skip it: give them
        ids of the model's own corpus (such as its validation split), which hold no index 0."""
        state = self._fresh_state(len(rows))
        total = 0.0
        for t in range(rows.shape[1] - 1):
            state = self._step(state, rows[:, t])
            total += float(_cross_entropy(self._logits(state), rows[:, t + 1]).sum())
        return total / (rows.shape[0] * (rows.shape[1] - 1))

    def window_loss(self, ids: np.ndarray, window: int, every: int = 1, rows: int = 1024) -> float:
        """Mean cross-entropy (nats per character) of predicting a token from exactly the `window`
        tokens before it, from a fresh state: what the writing screen does with the text before the
        cursor. Scores every `every`-th token from the `window`-th on; `rows` windows run side by side."""
        targets = np.arange(window, len(ids), every)
        total = 0.0
        for first in range(0, len(targets), rows):
            chunk = targets[first:first + rows]
            state = self._fresh_state(len(chunk))
            for back in range(window, 0, -1):
                state = self._step(state, ids[chunk - back])
            total += float(_cross_entropy(self._logits(state), ids[chunk]).sum())
        return total / len(targets)

    def _fresh_state(self, rows: int) -> State:
        return [(np.zeros((rows, layer.recurrent.shape[0]), np.float32),) * 2 for layer in self.lstms]

    def _step(self, state: State, tokens: np.ndarray) -> State:
        new_state = []
        x = None
        for layer, (h, c) in zip(self.lstms, state):
            z = _matmul(h, layer.recurrent)
            z += self.input_table[tokens] if x is None else _matmul(x, layer.kernel) + layer.bias
            np.tanh(z, out=z)
            units = h.shape[1]
            gates = z[:, :3 * units]  # sigmoid(a) = 0.5 * tanh(a / 2) + 0.5; the halving is in the weights
            gates *= 0.5
            gates += 0.5
            c = gates[:, units:2 * units] * c + gates[:, :units] * z[:, 3 * units:]
            h = gates[:, 2 * units:] * np.tanh(c)
            new_state.append((h, c))
            x = h
        return new_state

    def _logits(self, state: State) -> np.ndarray:
        return _matmul(state[-1][0], self.dense_kernel) + self.dense_bias


def _matmul(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    # OpenBLAS multiplies a few rows by a large matrix far slower as one matrix product than row by
    # row (measured here, (512, 2048) float32: 2 rows 490 us as a product, 55 us per row).
    if 1 < len(rows) <= 8:
        return np.stack([row @ matrix for row in rows])
    return rows @ matrix


def _cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[target] per row, normalised over every index as Keras' loss is."""
    logits = logits.astype(np.float64)
    top = logits.max(axis=1)
    log_norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    return log_norm - logits[np.arange(len(targets)), targets]


def pick(logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> np.ndarray:
    """One token per row of `logits` by temperature sampling; never the padding index 0."""
    logits = logits.astype(np.float64)
    logits[:, PAD] = -np.inf
    if top_k is not None and top_k < logits.shape[1] - 1:
        kth = np.partition(logits, -top_k, axis=1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    if temperature == 0:
        return logits.argmax(axis=1)
    # Gumbel-max: argmax(logits / T + Gumbel noise) is a draw from softmax(logits / T), per row.
    return (logits / temperature + rng.gumbel(size=logits.shape)).argmax(axis=1)


def _check_lstm(layer) -> None:
    config = layer.get_config()
    if (config.get("activation"), config.get("recurrent_activation")) != ("tanh", "sigmoid") \
            or not config.get("use_bias", True):
        raise UserError("the model's LSTM is not the standard tanh/sigmoid cell with bias: "
                        "train it with chargen-tui")
