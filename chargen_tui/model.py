"""The character model: Embedding, LSTM layer(s) with optional dropout, Dense logits over the vocabulary.

Input: `(batch, time)` int32 token ids, pre-padded with 0 when shorter than the window. The
Embedding masks index 0, so padding (and unknown characters) are skipped by the LSTM: a padded prefix
gives the same prediction as the bare prefix from a fresh state, as in training.
Output: logits `(batch, time, vocab_size)`, a next-character prediction at every position.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from .config import Config
from .errors import UserError


def build_model(config: Config, vocab_size: int, steps_per_epoch: int) -> keras.Model:
    """The training model, compiled; `steps_per_epoch` sets the length of the learning-rate decay."""
    keras.utils.set_random_seed(config.seed)
    model = _architecture(config, vocab_size, MIXED if config.mixed_precision and native_bfloat16() else "float32")
    compile_model(model, config, steps_per_epoch)
    return model


def inference_copy(model: keras.Model, config: Config, vocab_size: int,
                   trainable: list[np.ndarray] | None = None) -> keras.Model:
    """The same weights in a float32, uncompiled model: what `model.keras` holds.

    `trainable` replaces the values of the trainable weights (with their average, in training).
    The copy carries no optimizer state (a third of the training model's file), and computes in
    float32 whatever the training precision, as the NumPy sampler does: the two agree to float32
    rounding.
    """
    copy = _architecture(config, vocab_size, "float32")
    copy.set_weights(model.get_weights())
    if trainable is not None:
        for variable, value in zip(copy.trainable_variables, trainable, strict=True):
            variable.assign(value)
    return copy


# Mixed precision: variables stay float32, the LSTM's matrix products run in bfloat16. The logits
# layer stays float32 so that the softmax and the loss are computed in full precision.
MIXED = "mixed_bfloat16"


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions (AVX512_BF16 or AMX).

    With them, mixed bfloat16 trained 1.37x faster than float32 here. Without fast bfloat16 kernels
    it is slower than float32 (2.4x slower here with oneDNN's kernels turned off; see
    docs/experiments.md, CPU settings), so such a CPU trains in float32.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as file:
            flags = next((line for line in file if line.startswith("flags")), "").split()
    except OSError:  # not Linux: no cheap, reliable way to know; float32 is never the slow choice
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _architecture(config: Config, vocab_size: int, dtype: str) -> keras.Model:
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name="embedding",
                               dtype=dtype)(tokens)
    for i in range(1, config.layers + 1):
        x = keras.layers.LSTM(config.units, return_sequences=True, name=f"lstm_{i}", dtype=dtype)(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}", dtype=dtype)(x)
    logits = keras.layers.Dense(vocab_size, name="logits", dtype="float32")(x)
    return keras.Model(tokens, logits, name="chargen_lstm")


def compile_model(model: keras.Model, config: Config, steps_per_epoch: int) -> None:
    # The rate is a function of the optimizer's step count, which the checkpoint keeps: a resumed
    # run continues the same schedule, bit for bit. The decay spans the run's first `epochs`.
    learning_rate = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(1, config.epochs * steps_per_epoch),
        alpha=config.final_lr_fraction)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay,
                                          clipnorm=config.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def random_state(model: keras.Model) -> list[list[int]]:
    """The state of the model's random generators (dropout masks), which `.keras` files leave out."""
    return [variable.numpy().tolist() for variable in _seed_states(model)]


def set_random_state(model: keras.Model, state: list[list[int]]) -> None:
    """Restore `random_state`, so that a resumed run draws the dropout masks it would have drawn."""
    variables = _seed_states(model)
    if len(state) != len(variables):
        raise UserError("the checkpoint does not match its model (random state): start a new run with "
                        "another --out")
    for variable, value in zip(variables, state):
        variable.assign(np.array(value, dtype=variable.dtype))


def _seed_states(model: keras.Model) -> list:
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def export_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """The float32 arrays the NumPy sampler needs, by name (what model.npz holds):
    `embedding`, `lstm_N/kernel`, `lstm_N/recurrent_kernel`, `lstm_N/bias` for N = 1, 2, ..., and
    `logits/kernel`, `logits/bias`, each in Keras' own layout (LSTM gates i, f, c, o)."""
    arrays: dict[str, np.ndarray] = {}
    lstms = 0
    for layer in model.layers:
        kind = type(layer).__name__
        weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        if kind == "Embedding":
            arrays["embedding"] = weights[0]
        elif kind == "LSTM":
            _check_lstm(layer)
            lstms += 1
            arrays.update(zip((f"lstm_{lstms}/kernel", f"lstm_{lstms}/recurrent_kernel", f"lstm_{lstms}/bias"),
                              weights))
        elif kind == "Dense":
            arrays["logits/kernel"], arrays["logits/bias"] = weights
        elif kind not in ("InputLayer", "Dropout"):
            raise UserError(f"the model has a {kind} layer; the generator knows Embedding, LSTM, "
                            "Dropout and Dense: train it with chargen-tui")
    if "embedding" not in arrays or not lstms or "logits/kernel" not in arrays:
        raise UserError("the model lacks an Embedding, LSTM or Dense layer: train it with chargen-tui")
    return arrays


def _check_lstm(layer: keras.layers.LSTM) -> None:
    config = layer.get_config()
    if (config.get("activation"), config.get("recurrent_activation")) != ("tanh", "sigmoid") \
            or not config.get("use_bias", True):
        raise UserError("the model's LSTM is not the standard tanh/sigmoid cell with bias: "
                        "train it with chargen-tui")


def load_model(path: str | Path, vocab_size: int) -> keras.Model:
    """Load a saved model safely (no Lambda layers, no pickle) and check it fits the vocabulary."""
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged zip, h5 or config
        raise UserError(f"{path} is damaged or not a Keras model ({type(error).__name__}): "
                        "retrain, or resume from the run's checkpoint") from None
    output_size = model.output_shape[-1]
    if output_size != vocab_size:
        raise UserError(f"{path} predicts {output_size} tokens but vocab.json has {vocab_size}: "
                        "the model and vocabulary come from different runs")
    return model
