"""The character model: Embedding, LSTM layer(s) with optional dropout, Dense logits over the vocabulary.

Input: `(batch, time)` int32 token ids, pre-padded with 0 when shorter than the window. The
Embedding masks index 0, so padding (and unknown characters) are skipped by the LSTM: a padded seed
gives the same prediction as the bare seed from a fresh state, as in training.
Output: logits `(batch, time, vocab_size)`, a next-character prediction at every position.
"""

from __future__ import annotations

import keras
import numpy as np

from .config import Config
from .errors import UserError


def build_model(config: Config, vocab_size: int) -> keras.Model:
    keras.utils.set_random_seed(config.seed)
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name="embedding")(tokens)
    for i in range(1, config.layers + 1):
        x = keras.layers.LSTM(config.units, return_sequences=True, name=f"lstm_{i}")(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    model = keras.Model(tokens, logits, name="chargen_lstm")
    compile_model(model, config)
    return model


def compile_model(model: keras.Model, config: Config) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=config.clipnorm),
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


def load_model(path, vocab_size: int) -> keras.Model:
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
