"""The fast generator against Keras itself, and the run folder's model contract."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from chargen_tui.errors import UserError
from chargen_tui.model import load_model
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler

from .conftest import make_text


@pytest.fixture(scope="module")
def sampler(trained_run):
    return Sampler.from_run_dir(trained_run)


@pytest.fixture(scope="module")
def keras_model(trained_run, sampler):
    return load_model(trained_run.model_path, sampler.vocab.vocab_size)


@pytest.mark.parametrize("seed", ["The king", "", "A quiet river ran past"])
def test_greedy_generation_equals_the_model_predict_loop(sampler, keras_model, seed):
    """The parity test: from a seed shorter than the window, our O(1) steps give what the tutorials'
    `model.predict` on the padded window gives, character by character, until the window is full.
    (Beyond it the tutorials slide the window and forget; our generator keeps the LSTM's state.)"""
    window = list(sampler.seed_window(seed))
    assert len(window) == sampler.seq_len and window[:sampler.seq_len - len(seed)] == [0] * (
        sampler.seq_len - len(seed))  # pre-padded with 0 to the model's window
    length = sampler.seq_len - len(seed)
    expected = []
    for _ in range(length):
        probs = keras_model.predict(np.array([window]), verbose=0)[0, -1]
        probs[0] = -np.inf
        token = int(probs.argmax())
        expected.append(token)
        window = window[1:] + [token]
    assert len(set(expected)) > 3  # a real text, not one character repeated
    assert sampler.generate(seed, length, temperature=0)[0] == sampler.vocab.decode(expected)


def test_logits_match_keras_to_float_precision(sampler, keras_model):
    for seed in ("Birds sang of summer rain and", "x" * 40):
        _, logits = sampler.prime(seed)
        expected = keras_model.predict(sampler.seed_window(seed)[None], verbose=0)[0, -1]
        np.testing.assert_allclose(logits[0], expected, atol=1e-4)


def test_contiguous_loss_is_keras_loss_reading_the_text_in_one_go(sampler, keras_model):
    """The validation figure: each character predicted from all the text before it."""
    ids = sampler.vocab.encode(make_text(601, seed=5))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    parts = np.split(ids[:600], 3)  # three streams side by side: each part's first character is context only
    expected = np.mean([float(loss(part[None, 1:], keras_model.predict(part[None, :-1], verbose=0)))
                        for part in parts])
    assert sampler.contiguous_loss(ids[:600], streams=3) == pytest.approx(expected, rel=1e-5)
    whole = float(loss(ids[None, 1:], keras_model.predict(ids[None, :-1], verbose=0)))
    assert sampler.contiguous_loss(ids, streams=1) == pytest.approx(whole, rel=1e-5)
    assert whole < 0.8 * np.log(sampler.vocab.vocab_size)  # a trained model: well below a uniform guess


def test_window_loss_predicts_from_exactly_the_window_before(sampler, keras_model):
    """The writing screen's view: each character from the `window` characters before the cursor."""
    ids = sampler.vocab.encode(make_text(400, seed=6))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    targets = range(30, 400, 37)
    windows = np.stack([ids[t - 30:t] for t in targets])
    expected = float(loss(ids[list(targets)], keras_model.predict(windows, verbose=0)[:, -1]))
    assert sampler.window_loss(ids, 30, every=37, rows=4) == pytest.approx(expected, rel=1e-5)


def test_same_seed_same_text_and_temperature_matters(sampler):
    a = sampler.generate("The queen", 80, temperature=1.0, seed=7)
    assert a == sampler.generate("The queen", 80, temperature=1.0, seed=7)
    assert a != sampler.generate("The queen", 80, temperature=1.0, seed=8)
    texts = sampler.generate("The queen", 40, temperature=1.0, n=3, seed=1)
    assert len(texts) == 3 and len(set(texts)) == 3  # alternatives differ
    assert sampler.generate("The", 40, temperature=0.5, top_k=1, seed=3) == sampler.generate("The", 40, temperature=0)


def test_only_known_characters_are_generated(sampler):
    text = sampler.generate("", 300, temperature=1.2, seed=0)[0]
    assert len(text) == 300 and set(text) <= set(sampler.vocab.char_index)


def test_unknown_characters_in_the_seed_are_skipped(sampler):
    plain = sampler.generate("The king walked", 40, temperature=0)[0]
    assert sampler.generate("The k☃ing walked€", 40, temperature=0)[0] == plain


def test_model_keras_contract(trained_run, sampler):
    """model.keras loads with safe_mode and maps pre-padded (batch, seq_len) ids to next-character logits."""
    model = keras.saving.load_model(trained_run.model_path, safe_mode=True)
    batch = np.stack([sampler.seed_window("The king"), sampler.seed_window("A small dog slept by")])
    out = model.predict(batch, verbose=0)
    assert out.shape == (2, sampler.seq_len, sampler.vocab.vocab_size)
    assert trained_run.read_config().seq_len == sampler.seq_len


def test_a_model_from_another_run_is_refused(trained_run, tmp_path):
    other = RunDir(tmp_path / "other")
    other.path.mkdir()
    for name in ("config.json", "model.keras"):
        (other.path / name).write_bytes((trained_run.path / name).read_bytes())
    (other.path / "vocab.json").write_text('{"char_index": {"a": 1, "b": 2}}')
    with pytest.raises(UserError, match="different runs"):
        Sampler.from_run_dir(other)
    (other.path / "vocab.json").write_bytes((trained_run.path / "vocab.json").read_bytes())
    (other.path / "model.keras").write_bytes(b"PK\x03\x04 this is not a model")
    with pytest.raises(UserError, match="damaged"):
        Sampler.from_run_dir(other)
