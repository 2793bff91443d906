"""Fast generation: the trained LSTM stepped one character at a time in NumPy.

The tutorials call `model.predict` on the whole window for every new character: O(window) work and
a TensorFlow dispatch per character. Here the weights are exported once and each character costs
one step per LSTM layer (O(1) in the window length), tens of microseconds on a CPU.

The maths is Keras' LSTM (sigmoid gates, tanh candidate and output), its weights rearranged once
so that a step needs few NumPy calls (see `_Layer`). The first layer's input projection is
precomputed for every token (`embedding @ kernel + bias`), so its step is a table lookup plus the
recurrent matmul. Index 0 is
masked in the model and skipped here: padding and unknown characters leave the state unchanged.

The same forward pass scores text: `contiguous_loss` is the engine's validation figure.

A model of many short texts (texts.py) reads only the text a prefix ends in, from its start after
the end-of-text token, and its continuations end where it generates that token.

NumPy only: a run folder's `model.npz` loads without TensorFlow, so generating and the writing
screen start in a fraction of a second. Keras is imported only to read a run folder without it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import UserError
from .run_dir import RunDir
from .texts import TextsMode, texts_mode
from .vocab import PAD, Vocab

if TYPE_CHECKING:
    import keras


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
                 dense_bias: np.ndarray, vocab: Vocab, seq_len: int, texts: TextsMode | None = None):
        self.vocab = vocab
        self.seq_len = seq_len
        self.texts = texts  # how the corpus was cut into texts; None: one stream
        self.lstms = lstms
        self.dense_kernel = dense_kernel
        self.dense_bias = dense_bias
        self.input_table = embedding @ lstms[0].kernel + lstms[0].bias  # (vocab_size, 4 * units)

    @classmethod
    def from_arrays(cls, weights: dict[str, np.ndarray], vocab: Vocab, seq_len: int,
                    texts: TextsMode | None = None) -> "Sampler":
        """From the arrays `model.export_weights` names (what model.npz holds)."""
        try:
            embedding, kernel, bias = weights["embedding"], weights["logits/kernel"], weights["logits/bias"]
            layers = sum(1 for name in weights if name.endswith("/recurrent_kernel"))
            lstms = [_Layer.from_keras(weights[f"lstm_{i}/kernel"], weights[f"lstm_{i}/recurrent_kernel"],
                                       weights[f"lstm_{i}/bias"]) for i in range(1, layers + 1)]
        except KeyError as missing:
            raise UserError(f"the model's weights lack {missing}: train it with chargen-tui") from None
        if embedding.shape[0] != vocab.vocab_size or kernel.shape[1] != vocab.vocab_size:
            raise UserError("the model and vocab.json disagree on the number of characters: "
                            "they come from different runs")
        return cls(embedding, lstms, kernel, bias, vocab, seq_len, texts)

    @classmethod
    def from_model(cls, model: "keras.Model", vocab: Vocab, seq_len: int, texts: TextsMode | None = None) -> "Sampler":
        """Export the weights of a Keras model built by `model.build_model` (or loaded from model.keras)."""
        from .model import export_weights

        return cls.from_arrays(export_weights(model), vocab, seq_len, texts)

    @classmethod
    def from_run_dir(cls, run: RunDir) -> "Sampler":
        """Load a run folder's model with its vocab.json and config.json; UserError if damaged.

        model.npz needs NumPy alone; a run folder without it (from before it) loads model.keras
        (safe_mode), which imports TensorFlow."""
        sampler = cls.from_npz(run)
        if sampler is None:
            from .model import export_weights, load_model

            config, vocab = run.read_config(), run.read_vocab()
            weights = export_weights(load_model(run.require_model(), vocab.vocab_size))
            sampler = cls.from_arrays(weights, vocab, config.seq_len, texts_mode(config.texts))
        return sampler

    @classmethod
    def from_npz(cls, run: RunDir) -> "Sampler | None":
        """The run folder's model from model.npz, in milliseconds; None when it has none for its model.keras."""
        config, vocab = run.read_config(), run.read_vocab()
        weights = run.read_weights()
        return None if weights is None else cls.from_arrays(weights, vocab, config.seq_len, texts_mode(config.texts))

    def copy(self) -> "Sampler":
        """A sampler of its own weights (copies), to change without changing this one."""
        twin = copy.copy(self)
        twin.lstms = [_Layer(np.array(layer.kernel), np.array(layer.recurrent), np.array(layer.bias))
                      for layer in self.lstms]
        twin.input_table, twin.dense_kernel, twin.dense_bias = (np.array(w) for w in (
            self.input_table, self.dense_kernel, self.dense_bias))
        return twin

    def context(self, prefix: str) -> str:
        """What the model reads of `prefix`: its last `seq_len` characters; in a texts model, of the text
        the prefix ends in (shorter than `seq_len`: that text's start, read after the end-of-text token)."""
        if self.texts is not None:
            prefix = self.texts.current(prefix)
        return prefix[-self.seq_len:]

    def window(self, prefix: str) -> np.ndarray:
        """The model's input for a prefix: its context's ids, pre-padded with 0 to `seq_len` (as
        `keras.utils.pad_sequences(..., padding="pre", truncating="pre")` pads)."""
        return self._window(self.context(prefix))

    def _window(self, context: str) -> np.ndarray:
        ids = self.vocab.encode(context)
        if self.vocab.end_of_text is not None and len(ids) < self.seq_len:  # a text's start
            ids = np.concatenate([np.array([self.vocab.end_of_text], dtype=np.int32), ids])
        window = np.zeros(self.seq_len, dtype=np.int32)
        window[self.seq_len - len(ids):] = ids
        return window

    def prime(self, prefix: str) -> tuple[State, np.ndarray]:
        """Run the prefix's window through the LSTM once: the state after it and the next character's logits."""
        return self.prime_context(self.context(prefix))

    def prime_context(self, context: str) -> tuple[State, np.ndarray]:
        """`prime` for a prefix whose `context` is given."""
        state = self.fresh_state(1)
        for token in self._window(context):
            if token != PAD:
                state = self.step(state, np.array([token]))
        return state, self.logits(state)

    def generate(self, prefix: str, length: int, temperature: float = 1.0, n: int = 1,
                 top_k: int | None = None, seed: int | None = None) -> list[str]:
        """`n` continuations of `prefix`, each `length` characters (a texts model's: at most, each ends with
        its text); the prefix is not repeated.

        temperature 0 picks the most likely character (greedy); top_k keeps only the k likeliest.
        The same random `seed` gives the same texts.
        """
        return self.continue_from(self.prime(prefix), length, temperature, n, top_k,
                                  np.random.default_rng(seed))

    def continue_from(self, primed: tuple[State, np.ndarray], length: int, temperature: float, n: int = 1,
                      top_k: int | None = None, rng: np.random.Generator | None = None) -> list[str]:
        """`n` continuations from a state `prime` returned: one prefix, primed once, sampled many times."""
        return [text for text, _ in self.continue_texts(primed, length, temperature, n, top_k, rng)]

    def continue_texts(self, primed: tuple[State, np.ndarray], length: int, temperature: float, n: int = 1,
                       top_k: int | None = None, rng: np.random.Generator | None = None,
                       min_length: int = 0) -> list[tuple[str, bool]]:
        """`continue_from`, saying of each continuation whether the model ended it: a texts model's ends at
        the end-of-text token (not included, and not before `min_length` characters) or, cut, after
        `length` characters; a stream's never ends."""
        rng = rng or np.random.default_rng()
        state = [(np.repeat(h, n, axis=0), np.repeat(c, n, axis=0)) for h, c in primed[0]]
        logits = np.repeat(primed[1], n, axis=0)
        out = np.empty((n, length), dtype=np.int32)
        ends = np.full(n, length)  # where each row's end-of-text token is (length: none yet)
        for t in range(length):
            if t < min_length and self.vocab.end_of_text is not None:
                logits[:, self.vocab.end_of_text] = -np.inf
            tokens = pick(logits, temperature, top_k, rng)
            out[:, t] = tokens
            if self.vocab.end_of_text is not None:
                ends[(tokens == self.vocab.end_of_text) & (ends == length)] = t
                if (ends < length).all():
                    break
            state = self.step(state, tokens)
            logits = self.logits(state)
        return [(self.vocab.decode(row[:end]), bool(end < length)) for row, end in zip(out, ends)]

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
        state = self.fresh_state(len(rows))
        total = 0.0
        for t in range(rows.shape[1] - 1):
            state = self.step(state, rows[:, t])
            total += float(cross_entropy(self.logits(state), rows[:, t + 1]).sum())
        return total / (rows.shape[0] * (rows.shape[1] - 1))

    # --- one step at a time (for scorers and searches built on the sampler) --------------------
    def fresh_state(self, rows: int) -> State:
        return [(np.zeros((rows, layer.recurrent.shape[0]), np.float32),) * 2 for layer in self.lstms]

    def step(self, state: State, tokens: np.ndarray) -> State:
        """The state after reading one token per row; index 0 is stepped too (callers skip padding)."""
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

    def logits(self, state: State) -> np.ndarray:
        return _matmul(state[-1][0], self.dense_kernel) + self.dense_bias


def _matmul(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    # OpenBLAS multiplies a few rows by a large matrix far slower as one matrix product than row by
    # row (measured here, (512, 2048) float32: 2 rows 490 us as a product, 55 us per row).
    if 1 < len(rows) <= 8:
        return np.stack([row @ matrix for row in rows])
    return rows @ matrix


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[target] per row (float64), normalised over every index as Keras' loss is."""
    return _log_norm(logits) - logits[np.arange(len(targets)), targets]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax(logits) per row, in float64, over every index (mask one with -inf first)."""
    logits = logits.astype(np.float64)
    return logits - _log_norm(logits)[:, None]


def _log_norm(logits: np.ndarray) -> np.ndarray:
    """log sum exp per row, in float64. The exponentials take the logits' own type: after the max is
    taken off they lie in (0, 1], where float32's error is 1e-7 of a nat, and over 5,827 characters
    they cost a third of float64's (the evaluation's largest part after the output layer)."""
    top = logits.max(axis=1)
    shifted = logits - top[:, None]
    np.exp(shifted, out=shifted)
    return top + np.log(shifted.sum(axis=1, dtype=np.float64))


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
