"""Training precision against exact generation: mixed bfloat16 training, float32 sampling."""

from __future__ import annotations

import keras
import numpy as np

from chargen_tui.config import Config
from chargen_tui.model import load_model, native_bfloat16
from chargen_tui.sampling import Sampler


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _float32_forward(config: Config, weights: list[np.ndarray], vocab_size: int, window: np.ndarray) -> np.ndarray:
    """The model's maths in plain float32 Keras layers, built here rather than by the engine."""
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, dtype="float32"),
        *[keras.layers.LSTM(config.units, return_sequences=True, dtype="float32") for _ in range(config.layers)],
        keras.layers.Dense(vocab_size, dtype="float32"),
    ])
    model.set_weights(weights)
    return np.asarray(model(window[None]))[0, -1]


def test_default_precision_trains_mixed_and_the_sampler_is_exact_float32(trained_run):
    """The default (mixed bfloat16) training model, its weights read by the NumPy sampler, gives the
    probabilities of a float32 forward pass of the same weights; model.keras is that float32 model."""
    config, vocab = trained_run.read_config(), trained_run.read_vocab()
    assert config.mixed_precision == Config().mixed_precision
    trained = load_model(trained_run.checkpoint_model_path(trained_run.read_checkpoint()), vocab.vocab_size)
    lstm = next(layer for layer in trained.layers if isinstance(layer, keras.layers.LSTM))
    if config.mixed_precision and native_bfloat16():  # else it trained in float32 anyway
        assert lstm.dtype_policy.compute_dtype == "bfloat16" and lstm.dtype_policy.variable_dtype == "float32"
    sampler = Sampler.from_model(trained, vocab, config.seq_len)
    for prefix in ("The king and", "A quiet river ran past green fields while"):
        _, logits = sampler.prime(prefix)
        expected = _float32_forward(config, trained.get_weights(), vocab.vocab_size, sampler.window(prefix))
        np.testing.assert_allclose(_softmax(logits[0]), _softmax(expected), atol=1e-5)

    best = keras.saving.load_model(trained_run.model_path, safe_mode=True)
    assert {layer.dtype_policy.name for layer in best.layers} == {"float32"}
    assert getattr(best, "optimizer", None) is None  # uncompiled: no optimizer state to carry
