"""Starting a run from a trained model: its vocabulary extended, its weights carried over, the refusals."""

from __future__ import annotations

import json
import shutil
import threading
import time

import numpy as np
import pytest

from chargen_tui.errors import BaseFixes, StillTraining, UserError
from chargen_tui.events import BatchProgress, TrainingStarted
from chargen_tui.finetune import extend_vocab, extend_weights
from chargen_tui.plan import plan_run
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler
from chargen_tui.vocab import Vocab

from .helpers import make_text, train_tiny
from .test_cli import assert_one_line_error, cli


def test_the_base_characters_keep_their_indices_and_new_ones_come_after():
    base = Vocab.from_text("aaabbc")
    record = {"name": "default", "model_sha256": "0" * 64}
    vocab = extend_vocab(base, "ccczzzyb", end_of_text=True, record=record)
    assert {c: vocab.char_index[c] for c in "abc"} == base.char_index == {"a": 1, "b": 2, "c": 3}
    assert (vocab.char_index["z"], vocab.char_index["y"], vocab.end_of_text) == (4, 5, 6)  # z is the commoner
    assert json.loads(vocab.to_json())["base"] == record
    assert Vocab.from_json(vocab.to_json()).base == record


def random_weights(rng: np.random.Generator, tokens: int, embedding: int, units: int) -> dict[str, np.ndarray]:
    """A one-layer model's arrays, as model.export_weights names them, drawn at random."""
    return {"embedding": rng.normal(size=(tokens, embedding)).astype(np.float32),
            "lstm_1/kernel": rng.normal(size=(embedding, 4 * units)).astype(np.float32),
            "lstm_1/recurrent_kernel": rng.normal(size=(units, 4 * units)).astype(np.float32),
            "lstm_1/bias": np.zeros(4 * units, np.float32),
            "logits/kernel": rng.normal(size=(units, tokens)).astype(np.float32),
            "logits/bias": rng.normal(size=tokens).astype(np.float32)}


def test_new_tokens_start_as_an_average_character_as_likely_as_they_occur():
    base = Vocab.from_text("abcd")
    rng = np.random.default_rng(0)
    arrays = random_weights(rng, tokens=5, embedding=4, units=8)
    text = "".join(rng.choice(list("abcdzzy"), size=3000))
    vocab = extend_vocab(base, text, end_of_text=False, record={})
    ids = vocab.encode(text)
    extended = extend_weights(arrays, base, vocab, ids)
    np.testing.assert_array_equal(extended["embedding"][:5], arrays["embedding"])
    np.testing.assert_array_equal(extended["logits/kernel"][:, :5], arrays["logits/kernel"])
    np.testing.assert_allclose(extended["embedding"][5], arrays["embedding"][1:].mean(axis=0), rtol=1e-6)
    assert not extended["logits/kernel"][:, 5:].any()
    sampler = Sampler.from_arrays(extended, vocab, seq_len=1)
    state, shares = sampler.fresh_state(1), []
    for token in ids[:500]:
        probabilities = np.exp(sampler.logits(state)[0, 1:])
        shares.append(probabilities[vocab.char_index["z"] - 1:].sum() / probabilities.sum())
        state = sampler.step(state, np.array([token]))
    assert abs(np.mean(shares) - 3 / 7) < 0.05  # z and y are 3 of the 7 letters drawn
    assert extended["logits/bias"][vocab.char_index["z"]] - extended["logits/bias"][vocab.char_index["y"]] \
        == pytest.approx(np.log(text.count("z") / text.count("y")), abs=1e-5)


def test_the_end_of_text_token_keeps_its_weights_when_new_characters_push_it_along():
    base = Vocab.from_text("aab", end_of_text=True)  # a 1, b 2, end 3
    arrays = random_weights(np.random.default_rng(1), tokens=4, embedding=2, units=2)
    vocab = extend_vocab(base, "abzz", end_of_text=True, record={})
    assert vocab.end_of_text == 4
    extended = extend_weights(arrays, base, vocab, vocab.encode_texts(["abzz", "ab"]))
    np.testing.assert_array_equal(extended["embedding"][4], arrays["embedding"][3])
    np.testing.assert_array_equal(extended["logits/kernel"][:, 4], arrays["logits/kernel"][:, 3])
    stream = extend_vocab(base, "abzz", end_of_text=False, record={})  # a run of one stream drops it
    assert stream.vocab_size == 4 and extend_weights(arrays, base, stream, stream.encode("abzz"))["embedding"].shape == (4, 2)


FINE_TUNING = {"epochs": 2, "seq_len": 40, "dropout": 0.2}


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory, trained_run):
    """The shared tiny run, fine-tuned on text full of a character it never saw ("ж")."""
    text = make_text(20000, seed=3).replace("e", "ж")
    run = RunDir(tmp_path_factory.mktemp("fine") / "run")
    events = []
    train_tiny(run, text, events.append, start_from=str(trained_run.path), **FINE_TUNING)
    return run, events, text


def test_a_fine_tuned_run_stopped_and_resumed_ends_where_the_whole_one_did(fine_tuned, trained_run, tmp_path):
    whole, _, text = fine_tuned
    parted = RunDir(tmp_path / "parted")
    stop = threading.Event()

    def stop_after_five(event):
        if isinstance(event, BatchProgress) and event.batch == 5:
            stop.set()

    train_tiny(parted, text, stop_after_five, stop=stop, start_from=str(trained_run.path), **FINE_TUNING)
    assert (parted.read_checkpoint().epochs_done, parted.read_checkpoint().batches_done) == (0, 5)
    train_tiny(parted, text, resume=True, start_from=str(trained_run.path), **FINE_TUNING)
    assert parted.read_vocab().char_index == whole.read_vocab().char_index
    np.testing.assert_allclose(parted.read_metrics()[1]["val_loss"], whole.read_metrics()[1]["val_loss"], rtol=1e-4)


def test_a_fine_tuned_model_writes_a_character_its_base_never_had(fine_tuned, trained_run):
    run, events, _ = fine_tuned
    assert "ж" not in trained_run.read_vocab().char_index
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.base == str(trained_run.path.resolve()) and started.new_chars == 1
    written = Sampler.from_run_dir(run).generate("The king and th", 300, temperature=0.5, seed=0)[0]
    assert written.count("ж") >= 10
    config = run.read_config()
    assert (config.start_from, config.units) == (str(trained_run.path.resolve()), trained_run.read_config().units)
    assert run.read_vocab().base["model_sha256"] == config.start_from_sha256


def test_the_first_fine_tuning_batch_loses_little_on_the_base(fine_tuned, trained_run):
    """The new character starts at its frequency: no jump in the loss (the base's loss on the text's
    characters it knows; the new one costs its share)."""
    run, events, text = fine_tuned
    first = next(e for e in events if isinstance(e, BatchProgress)).loss
    base = Sampler.from_run_dir(trained_run)
    known = base.contiguous_loss(base.vocab.encode(text.replace("ж", "")))
    share = text.count("ж") / len(text)
    assert first < known + share * np.log(1 / share) + 0.15, (first, known)


def test_a_size_the_base_does_not_have_is_one_clear_line(tmp_path, trained_run):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(make_text(6000))
    result = cli("train", str(corpus), "--out", str(tmp_path / "run"), "--from", str(trained_run.path),
                 "--units", "64")
    assert_one_line_error(result, "--units 64 differs from the base model's 32", "leave out --units")
    with pytest.raises(BaseFixes):
        plan_run(RunDir(tmp_path / "run"), {"start_from": str(trained_run.path), "layers": 2}, text=make_text(6000))


def test_starting_from_a_damaged_a_training_or_a_foreign_run_is_refused(tmp_path, trained_run):
    text = make_text(6000)

    def refused(folder) -> str:
        with pytest.raises(UserError) as error:
            plan_run(RunDir(tmp_path / "new"), {"start_from": str(folder)}, text=text)
        return str(error.value)

    damaged = tmp_path / "damaged"
    shutil.copytree(trained_run.path, damaged)
    (damaged / "vocab.json").write_text("{not json")
    assert "damaged" in refused(damaged)
    (tmp_path / "empty").mkdir()
    assert "not a finished run folder" in refused(tmp_path / "empty")

    training = tmp_path / "training"
    shutil.copytree(trained_run.path, training)
    RunDir(training).write_progress({"epoch": 1, "batch": 3, "time": time.time(), "training": True})
    with pytest.raises(StillTraining):
        plan_run(RunDir(tmp_path / "new"), {"start_from": str(training)}, text=text)

    foreign = tmp_path / "foreign"
    shutil.copytree(trained_run.path, foreign)
    import keras

    tokens = keras.Input(shape=(None,), dtype="int32")
    gru = keras.layers.GRU(8, return_sequences=True)(keras.layers.Embedding(40, 4)(tokens))
    keras.Model(tokens, keras.layers.Dense(40, name="logits")(gru)).save(foreign / "model.keras")
    assert "has a GRU layer" in refused(foreign)


def test_fine_tuning_defaults_apply_unless_given(tmp_path, trained_run):
    plan = plan_run(RunDir(tmp_path / "run"), {"start_from": str(trained_run.path)}, text=make_text(6000))
    assert (plan.config.learning_rate, plan.config.epochs) == (6e-3, 10)
    given = plan_run(RunDir(tmp_path / "given"), {"start_from": str(trained_run.path), "learning_rate": 0.01},
                     text=make_text(6000))
    assert given.config.learning_rate == 0.01
