"""Large vocabularies train their output layer on sampled characters; what a user gets is the full model."""

from __future__ import annotations

import random
import threading

import keras
import numpy as np
import pytest

from chargen_tui.corpus import split_corpus
from chargen_tui.events import Stopped
from chargen_tui.model import SampledSoftmaxLSTM, sampled_softmax_loss
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler

from .helpers import run_in_thread, tiny_config, train_tiny
from .test_training import Recorder

SAMPLED = {"sampled_softmax": 16, "epochs": 2, "units": 32}  # 16 samples of a 200-character vocabulary


def han_text(chars: int, seed: int = 0) -> str:
    """Lines of five CJK characters, 200 of them in a Zipf-like mix, as Chinese verse uses its characters."""
    alphabet = [chr(0x4E00 + i) for i in range(200)]
    weights = [1 / (rank + 1) for rank in range(len(alphabet))]
    rng = random.Random(seed)
    lines = []
    while sum(map(len, lines)) < chars:
        lines.append("".join(rng.choices(alphabet, weights, k=5)) + rng.choice("，。") + "\n")
    return "".join(lines)[:chars]


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory) -> tuple[RunDir, str]:
    text = han_text(16000)
    run = RunDir(tmp_path_factory.mktemp("sampled") / "run")
    train_tiny(run, text, **SAMPLED)
    return run, text


def test_a_large_vocabulary_trains_on_samples_and_learns(sampled_run):
    run, text = sampled_run
    checkpoint = keras.saving.load_model(run.checkpoint_model_path(run.read_checkpoint()), safe_mode=True)
    assert isinstance(checkpoint, SampledSoftmaxLSTM)
    vocab_size = run.read_vocab().vocab_size
    losses = [row["val_loss"] for row in run.read_metrics()]
    assert losses[-1] < losses[0] < np.log(vocab_size)  # the full softmax's loss falls below guessing


def test_what_a_user_gets_is_the_full_model_and_scores_the_reported_loss(sampled_run):
    run, text = sampled_run
    model = keras.saving.load_model(run.model_path, safe_mode=True)
    assert type(model).__name__ == "Functional" and model.output_shape[-1] == run.read_vocab().vocab_size
    config, vocab = tiny_config(**SAMPLED), run.read_vocab()
    val = split_corpus(vocab.encode(text), config.seq_len, config.val_fraction).val
    sampler = Sampler.from_run_dir(run)
    assert sampler.contiguous_loss(val) == pytest.approx(run.read_metrics()[-1]["val_loss"], rel=1e-6)
    window = sampler.window("一丁七")[None]  # generation stays exact against a Keras forward pass
    keras_logits = model(window)[0, -1].numpy()
    np.testing.assert_allclose(sampler.prime("一丁七")[1][0], keras_logits, atol=1e-4)


def test_a_sampled_run_stopped_mid_epoch_resumes_exactly(tmp_path, sampled_run):
    _, text = sampled_run
    whole = RunDir(tmp_path / "whole")
    train_tiny(whole, text, **SAMPLED)
    parted = RunDir(tmp_path / "parted")
    stop = threading.Event()
    events = Recorder(stop, stop_after=7)
    run_in_thread(lambda: train_tiny(parted, text, events, stop=stop, **SAMPLED))
    assert events.of(Stopped)[0].batches_done == 7
    train_tiny(parted, text, resume=True, **SAMPLED)
    # The samples drawn are a function of (seed, step): the resumed run draws what the whole one drew.
    np.testing.assert_allclose(parted.read_metrics()[-1]["val_loss"], whole.read_metrics()[-1]["val_loss"], rtol=1e-5)


def test_the_sampled_loss_estimates_the_full_one():
    """With many samples it is close to the full cross-entropy over the characters (padding is never a
    target nor a sample); the same seed draws the same samples."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    hidden = tf.constant(rng.normal(size=(256, 8)), tf.float32)
    kernel = tf.constant(rng.normal(size=(8, 50)), tf.float32)
    bias = tf.constant(rng.normal(size=(50,)), tf.float32)
    targets = tf.constant(rng.integers(1, 50, size=256), tf.int32)
    logits = (tf.matmul(hidden, kernel) + bias)[:, 1:]
    full = float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets - 1, logits)))
    estimates = [float(sampled_softmax_loss(hidden, targets, kernel, bias, 4000, tf.constant([0, step], tf.int64)))
                 for step in range(3)]
    assert all(abs(estimate - full) < 0.1 for estimate in estimates), (estimates, full)
    assert len(set(estimates)) == 3  # each step draws anew
    again = float(sampled_softmax_loss(hidden, targets, kernel, bias, 4000, tf.constant([0, 1], tf.int64)))
    assert again == estimates[1]
