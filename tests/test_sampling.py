"""The fast generator against Keras itself, and the run folder's model contract."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from benchmarks.scores import window_loss
from chargen_tui.errors import UserError
from chargen_tui.model import load_model
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler

from .helpers import make_text


@pytest.fixture(scope="module")
def sampler(trained_run):
    return Sampler.from_run_dir(trained_run)


@pytest.fixture(scope="module")
def keras_model(trained_run, sampler):
    return load_model(trained_run.model_path, sampler.vocab.vocab_size)


@pytest.mark.parametrize("prefix", ["The king", "", "A quiet river ran past"])
def test_greedy_generation_equals_the_model_predict_loop(sampler, keras_model, prefix):
    """The parity test: from a prefix shorter than the window, our O(1) steps give what the tutorials'
    `model.predict` on the padded window gives, character by character, until the window is full.
    (Beyond it the tutorials slide the window and forget; our generator keeps the LSTM's state.)"""
    window = list(sampler.window(prefix))
    assert len(window) == sampler.seq_len and window[:sampler.seq_len - len(prefix)] == [0] * (
        sampler.seq_len - len(prefix))  # pre-padded with 0 to the model's window
    assert window == list(keras.utils.pad_sequences([sampler.vocab.encode(prefix)], maxlen=sampler.seq_len,
                                                    padding="pre", truncating="pre")[0])
    length = sampler.seq_len - len(prefix)
    expected = []
    for _ in range(length):
        probs = keras_model.predict(np.array([window]), verbose=0)[0, -1]
        probs[0] = -np.inf
        token = int(probs.argmax())
        expected.append(token)
        window = window[1:] + [token]
    assert len(set(expected)) > 3  # a real text, not one character repeated
    assert sampler.generate(prefix, length, temperature=0)[0] == sampler.vocab.decode(expected)


def test_logits_match_keras_to_float_precision(sampler, keras_model):
    for prefix in ("Birds sang of summer rain and", "x" * 40):
        _, logits = sampler.prime(prefix)
        expected = keras_model.predict(sampler.window(prefix)[None], verbose=0)[0, -1]
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
    assert window_loss(sampler, ids, 30, every=37, rows=4) == pytest.approx(expected, rel=1e-5)


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
    batch = np.stack([sampler.window("The king"), sampler.window("A small dog slept by")])
    out = model.predict(batch, verbose=0)
    assert out.shape == (2, sampler.seq_len, sampler.vocab.vocab_size)
    assert trained_run.read_config().seq_len == sampler.seq_len


@pytest.mark.parametrize("files", [("config.json", "model.keras"), ("config.json", "model.keras", "model.npz")])
def test_a_model_from_another_run_is_refused(trained_run, tmp_path, files):
    other = RunDir(tmp_path / "other")
    other.path.mkdir()
    for name in files:
        (other.path / name).write_bytes((trained_run.path / name).read_bytes())
    (other.path / "vocab.json").write_text('{"char_index": {"a": 1, "b": 2}}')
    with pytest.raises(UserError, match="different runs"):
        Sampler.from_run_dir(other)
    (other.path / "vocab.json").write_bytes((trained_run.path / "vocab.json").read_bytes())
    (other.path / "model.keras").write_bytes(b"PK\x03\x04 this is not a model")
    with pytest.raises(UserError, match="damaged"):
        Sampler.from_run_dir(other)


def test_model_npz_holds_model_keras_weights_and_generates_the_same(trained_run, sampler, keras_model):
    """The NumPy file and the Keras file are one model: the same logits, the same texts."""
    from_keras = Sampler.from_model(keras_model, sampler.vocab, sampler.seq_len)
    for prefix in ("The king", "A small dog slept by the warm fire while"):
        np.testing.assert_array_equal(sampler.prime(prefix)[1], from_keras.prime(prefix)[1])
    assert sampler.generate("The", 80, seed=3) == from_keras.generate("The", 80, seed=3)


def test_a_run_folder_without_model_npz_still_loads_through_keras(trained_run, tmp_path, sampler):
    old = RunDir(tmp_path / "old")  # as a run folder written before model.npz
    old.path.mkdir()
    for name in ("config.json", "vocab.json", "model.keras"):
        (old.path / name).write_bytes((trained_run.path / name).read_bytes())
    assert old.read_weights() is None
    assert Sampler.from_run_dir(old).generate("The", 60, seed=1) == sampler.generate("The", 60, seed=1)


def test_model_npz_from_another_model_keras_is_not_used(trained_run, tmp_path, sampler):
    """A kill between writing model.keras and model.npz leaves a pair that does not match: the Keras
    file, the newer, is used."""
    torn = RunDir(tmp_path / "torn")
    torn.path.mkdir()
    for name in ("config.json", "vocab.json", "model.keras", "model.npz"):
        (torn.path / name).write_bytes((trained_run.path / name).read_bytes())
    assert torn.read_weights() is not None
    with open(torn.model_path, "ab") as file:  # another model.keras than the one model.npz names
        file.write(b"\0")
    assert torn.read_weights() is None


def test_generating_imports_no_tensorflow(trained_run):
    """`chargen-tui generate` and the writing screen load model.npz with NumPy alone."""
    import subprocess
    import sys

    code = ("import sys; from chargen_tui.cli import main; "
            f"main(['generate', {str(trained_run.path)!r}, '--prefix', 'The', '--length', '20', '--seed', '1']); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The") and result.stdout.strip().splitlines()[-1] == "False"
