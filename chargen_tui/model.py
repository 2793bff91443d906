"""The character model: Embedding, LSTM layer(s) with optional dropout, Dense logits over the vocabulary.

Input: `(batch, time)` int32 token ids, pre-padded with 0 when shorter than the window. The
Embedding masks index 0, so padding (and unknown characters) are skipped by the LSTM: a padded prefix
gives the same prediction as the bare prefix from a fresh state, as in training.
Output: logits `(batch, time, vocab_size)`, a next-character prediction at every position.

A large vocabulary (Chinese: ~6,000 characters) makes the full softmax most of a training step's
work: the logits of every position over every character, and their gradient. There the training
model (`SampledSoftmaxLSTM`, the same layers) trains the output layer against a few hundred
sampled characters instead (see `sampled_softmax_loss`); the model a user gets, the validation
loss and generation use the full softmax.
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
    dtype = MIXED if config.mixed_precision and bfloat16_pays() else "float32"
    if samples_output(config, vocab_size):
        model = SampledSoftmaxLSTM(vocab_size, config.embedding_dim, config.units, config.layers, config.dropout,
                                   config.sampled_softmax, config.seed, compute_dtype=dtype)
        model.build((None, None))
    else:
        model = _architecture(config, vocab_size, dtype)
    compile_model(model, config, steps_per_epoch)
    return model


def samples_output(config: Config, vocab_size: int) -> bool:
    """Does this run train its output layer on sampled characters? (Only where they are few of many.)"""
    return 0 < config.sampled_softmax and 4 * config.sampled_softmax < vocab_size


def inference_copy(model: keras.Model, config: Config, vocab_size: int,
                   trainable: list[np.ndarray] | None = None) -> keras.Model:
    """The same weights in a float32, uncompiled model: what `model.keras` holds.

    `trainable` replaces the values of the trainable weights (with their average, in training).
    The copy carries no optimizer state (a third of the training model's file), and computes in
    float32 whatever the training precision, as the NumPy sampler does: the two agree to float32
    rounding. Its LSTM layers never take cuDNN's kernel: Keras gives cuDNN only right-padded masks
    and fails on a GPU (a `tf.Assert`, not a fallback) for the pre-padded seeds users give it.
    """
    copy = _architecture(config, vocab_size, "float32", use_cudnn=False)
    for layer in copy.layers:  # by name: the training model may be a SampledSoftmaxLSTM
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    if trainable is not None:  # both models hold their trainable variables in the same order
        for variable, value in zip(copy.trainable_variables, trainable, strict=True):
            if tuple(variable.shape) != value.shape:
                raise UserError("the weight average does not match its model: start a new run")
            variable.assign(value)
    return copy


# Mixed precision: variables stay float32, the LSTM's matrix products run in bfloat16. The logits
# layer stays float32 so that the softmax and the loss are computed in full precision.
MIXED = "mixed_bfloat16"


def bfloat16_pays() -> bool:
    """Whether mixed bfloat16 trains faster here: on a CPU with bfloat16 instructions, not on a GPU.

    On a GPU the LSTM runs in cuDNN's kernel, and whether bfloat16 pays there is a GPU measurement
    this project has not made (benchmarks/gpu_check.sh reports the float32 speed): a GPU trains
    in float32.
    """
    import tensorflow as tf

    return native_bfloat16() and not tf.config.list_physical_devices("GPU")


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


def _architecture(config: Config, vocab_size: int, dtype: str, use_cudnn: bool | str = "auto") -> keras.Model:
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name="embedding",
                               dtype=dtype)(tokens)
    for i in range(1, config.layers + 1):
        lstm = keras.layers.LSTM(config.units, return_sequences=True, name=f"lstm_{i}", dtype=dtype,
                                 use_cudnn=use_cudnn)
        x = (lstm if use_cudnn else _saved_without_cudnn(lstm))(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}", dtype=dtype)(x)
    logits = keras.layers.Dense(vocab_size, name="logits", dtype="float32")(x)
    return keras.Model(tokens, logits, name="chargen_lstm")


def _saved_without_cudnn(lstm: keras.layers.LSTM) -> keras.layers.LSTM:
    """`lstm`, its saved config saying `use_cudnn=False`: Keras 3.15 leaves the argument out of an
    LSTM's config (a loaded model would take cuDNN again), and `LSTM.from_config` passes it back."""
    config = lstm.get_config
    lstm.get_config = lambda: {**config(), "use_cudnn": False}
    return lstm


@keras.saving.register_keras_serializable(package="chargen_tui")
class SampledSoftmaxLSTM(keras.Model):
    """`_architecture`'s layers, by the same names, trained with `sampled_softmax_loss`.

    Called in training it returns the last layer's hidden states, which `compute_loss` scores
    against `samples` sampled characters; called otherwise it returns the full logits. Everything
    else of `fit` (the loss's running mean, gradients, clipping, the optimizer) is Keras' own.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, units: int, layers: int, dropout: float,
                 samples: int, seed: int, compute_dtype: str = "float32", **kwargs):
        super().__init__(name=kwargs.pop("name", "chargen_lstm"), **kwargs)
        self.arguments = dict(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, layers=layers,
                              dropout=dropout, samples=samples, seed=seed, compute_dtype=compute_dtype)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding",
                                                dtype=compute_dtype)
        self.lstms = [keras.layers.LSTM(units, return_sequences=True, name=f"lstm_{i}", dtype=compute_dtype)
                      for i in range(1, layers + 1)]
        self.dropouts = [keras.layers.Dropout(dropout, name=f"dropout_{i}", dtype=compute_dtype)
                         for i in range(1, layers + 1)] if dropout else []
        self.logits = keras.layers.Dense(vocab_size, name="logits", dtype="float32")

    def build(self, input_shape) -> None:
        self.embedding.build(input_shape)
        shape = (*input_shape, self.arguments["embedding_dim"])
        for lstm in self.lstms:
            lstm.build(shape)
            shape = (*input_shape, self.arguments["units"])
        self.logits.build(shape)

    def call(self, tokens, training: bool = False):
        x, mask = self.embedding(tokens), self.embedding.compute_mask(tokens)
        for i, lstm in enumerate(self.lstms):
            x = lstm(x, mask=mask, training=training)
            if self.dropouts:
                x = self.dropouts[i](x, training=training)
        return x if training else self.logits(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        import tensorflow as tf

        hidden = tf.cast(tf.reshape(y_pred, (-1, self.arguments["units"])), tf.float32)
        step = tf.cast(self.optimizer.iterations, tf.int64)
        loss = sampled_softmax_loss(hidden, tf.reshape(y, (-1,)), self.logits.kernel, self.logits.bias,
                                    self.arguments["samples"], tf.stack([tf.constant(self.arguments["seed"], tf.int64), step]))
        # Each device's share of the loss, as Keras' own losses scale it: the devices' gradients are summed.
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def get_config(self) -> dict:
        return {**self.arguments, "name": self.name}


def sampled_softmax_loss(hidden, targets, kernel, bias, samples: int, seed):
    """The cross-entropy of `targets`, its softmax's normaliser estimated from `samples` sampled
    characters by importance sampling (Bengio and Senecal 2008): the target's own term plus each
    sample's divided by its expected count. That estimate is unbiased, so the loss (and the running
    loss a user watches) estimates the full one; `tf.nn.sampled_softmax_loss` corrects the target's
    term too, which gives a figure of another scale.

    Characters are drawn log-uniformly over the indices, which the vocabulary orders by frequency
    (index 1 the most frequent; padding, 0, never), with replacement; a sample equal to the target is
    left out (the target's term counts it). The draw is a stateless function of `seed` (the run's
    seed and the step), so that a resumed run draws what an uninterrupted one would: `tf.nn`'s
    samplers keep a hidden state.
    """
    import tensorflow as tf

    classes = tf.cast(tf.shape(kernel)[1] - 1, tf.float64)  # characters: 1 .. classes
    uniform = tf.random.stateless_uniform((samples,), seed=seed, dtype=tf.float64)
    drawn = tf.clip_by_value(tf.floor(tf.exp(uniform * tf.math.log(classes + 1.0))), 1.0, classes)

    def log_expected(index):  # log(samples * P(index)), P(r + 1) = log((r + 2) / (r + 1)) / log(classes + 1)
        index = tf.cast(index, tf.float64)
        probability = tf.math.log((index + 1.0) / index) / tf.math.log(classes + 1.0)
        return tf.cast(tf.math.log(samples * probability), tf.float32)

    sampled = tf.cast(drawn, tf.int32)
    targets = tf.cast(targets, tf.int32)
    true_logits = tf.reduce_sum(hidden * tf.gather(tf.transpose(kernel), targets), axis=1) + tf.gather(bias, targets)
    sampled_logits = tf.matmul(hidden, tf.gather(kernel, sampled, axis=1)) + tf.gather(bias, sampled) \
        - log_expected(sampled)
    sampled_logits = tf.where(targets[:, None] == sampled[None, :], tf.float32.min, sampled_logits)
    logits = tf.concat([true_logits[:, None], sampled_logits], axis=1)
    return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=1) - true_logits)


def compile_model(model: keras.Model, config: Config, steps_per_epoch: int) -> None:
    # The rate is a function of the optimizer's step count, which the checkpoint keeps: a resumed
    # run continues the same schedule, bit for bit. The decay spans the run's first `epochs`.
    # A time-budget run's rate is set before each batch (callbacks.FollowBudget): a variable here.
    learning_rate = float(config.learning_rate) if config.time_budget else keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(1, config.epochs * steps_per_epoch),
        alpha=config.final_lr_fraction)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=config.weight_decay,
                                          clipnorm=config.clipnorm),
        # A SampledSoftmaxLSTM computes its own loss
        loss=None if isinstance(model, SampledSoftmaxLSTM) else keras.losses.SparseCategoricalCrossentropy(
            from_logits=True),
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


def import_weights(model: keras.Model, arrays: dict[str, np.ndarray]) -> None:
    """Set the model's weights from `export_weights`' arrays (a base model's, in fine-tuning)."""
    layers = sum(1 for name in arrays if name.endswith("/recurrent_kernel"))
    named = {"embedding": [arrays["embedding"]], "logits": [arrays["logits/kernel"], arrays["logits/bias"]]}
    named |= {f"lstm_{i}": [arrays[f"lstm_{i}/{part}"] for part in ("kernel", "recurrent_kernel", "bias")]
              for i in range(1, layers + 1)}
    try:
        for name, weights in named.items():
            model.get_layer(name).set_weights(weights)
    except ValueError as error:  # a shape or a layer the base's config.json does not describe
        raise UserError(f"the base model does not match its own config.json ({error}): "
                        "start from another run") from None


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
    try:
        output_size = model.get_layer("logits").units
    except ValueError:
        raise UserError(f"{path} has no logits layer: it was not trained with chargen-tui") from None
    if output_size != vocab_size:
        raise UserError(f"{path} predicts {output_size} tokens but vocab.json has {vocab_size}: "
                        "the model and vocabulary come from different runs")
    return model
