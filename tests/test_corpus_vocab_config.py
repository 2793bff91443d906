"""Reading text, the vocabulary convention, and settings: the cheap checks that run before TensorFlow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chargen_tui.cli import say
from chargen_tui.config import Config, resume_config
from chargen_tui.corpus import default_corpus, read_corpus, require_length, split_corpus
from chargen_tui.errors import CorpusTooShort, FixedOnResume, NotDecodable, SettingError, UserError
from chargen_tui.vocab import PAD, Vocab


# --- corpus -----------------------------------------------------------------------------------
@pytest.mark.parametrize("content, expected", [
    (None, "does not exist"),
    (b"", "is empty"),
    (b"   \n\n  ", "only white space"),
    (b"PK\x03\x04\x00\x00binary", "binary file (NUL byte at offset 4)"),
])
def test_bad_corpus_files_say_what_is_wrong(tmp_path, content, expected):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_corpus(path)


def test_a_corpus_in_another_encoding_says_where_and_how_to_read_it(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"caf\xc3\xa9 ok then \xff bad")
    with pytest.raises(NotDecodable) as error:
        read_corpus(path)
    assert "not valid utf-8: byte 0xff at offset 14; pass its encoding, e.g. --encoding" in say(error.value)


def test_a_folder_is_not_a_corpus(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        read_corpus(tmp_path)


def test_other_encodings_and_line_endings(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Ça va?\r\nOui.\r\n".encode("latin-1"))
    assert read_corpus(path, encoding="latin-1") == "Ça va?\nOui.\n"
    with pytest.raises(UserError, match="unknown encoding"):
        read_corpus(path, encoding="klingon")


def test_utf16_text_is_not_mistaken_for_binary(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_text("春眠不覺曉\n", encoding="utf-16")
    assert read_corpus(path, encoding="utf-16") == "春眠不覺曉\n"


def test_corpus_shorter_than_the_window():
    with pytest.raises(CorpusTooShort) as error:
        require_length(500, 100, 0.1)
    assert "has 500 characters; --seq-len 100 with --val-fraction 0.1 needs at least 1,010" in say(error.value)
    assert require_length(1010, 100, 0.1) == 101


@pytest.mark.parametrize("seq_len, val_fraction", [(100, 0.1), (100, 0.45), (7, 0.3), (40, 0.01), (1, 0.2)])
def test_the_minimum_length_it_names_is_exactly_enough(seq_len, val_fraction):
    from benchmarks.scores import validation_windows
    from chargen_tui.data import TrainWindows

    with pytest.raises(CorpusTooShort) as error:
        require_length(seq_len, seq_len, val_fraction)
    minimum = error.value.minimum
    assert f"needs at least {minimum:,}" in say(error.value)
    config = Config(seq_len=seq_len, val_fraction=val_fraction, batch_size=4, workers=0)
    split = split_corpus(np.arange(minimum, dtype=np.int32) % 5 + 1, seq_len, val_fraction)
    assert len(validation_windows(split.val, seq_len)[0]) >= 1
    assert len(TrainWindows(split.train, config)) >= 1
    with pytest.raises(UserError):
        require_length(minimum - 1, seq_len, val_fraction)


def test_embedded_default_corpus_ships_with_python():
    text = default_corpus()
    assert len(text) > 400_000 and "def " in text


# --- vocabulary -------------------------------------------------------------------------------
def test_vocab_keras_convention():
    vocab = Vocab.from_text("banana!")  # a:3, n:2, then b and ! tie at 1: by code point, "!" first
    assert vocab.char_index == {"a": 1, "n": 2, "!": 3, "b": 4}
    assert vocab.vocab_size == len(vocab.char_index) + 1 == 5
    assert PAD == 0 and 0 not in vocab.char_index.values()
    assert vocab.decode(vocab.encode("banana!")) == "banana!"


def test_unknown_characters_become_padding_and_shift_nothing():
    vocab = Vocab.from_text("abc")
    ids = vocab.encode("aXbé c")
    assert list(ids) == [vocab.char_index["a"], PAD, vocab.char_index["b"], PAD, PAD, vocab.char_index["c"]]
    assert vocab.decode(ids) == "abc"
    assert vocab.unknown_chars("aXbé") == {"X", "é"}


def test_vocab_json_round_trip_and_damage():
    vocab = Vocab.from_text("héllo wörld 春")
    saved = json.loads(vocab.to_json())
    assert set(saved) == {"char_index"}
    assert Vocab.from_json(vocab.to_json()).char_index == vocab.char_index
    for damaged in ("not json", '{"chars": {}}', '{"char_index": {"a": 0}}', '{"char_index": {"ab": 1}}'):
        with pytest.raises(UserError, match="vocab.json is damaged"):
            Vocab.from_json(damaged)


def test_encode_is_compact():
    ids = Vocab.from_text("abc").encode("abc" * 1000)
    assert ids.dtype == np.int32 and ids.nbytes == 4 * 3000


# --- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, flag", [
    ({"seq_len": 0}, "--seq-len"), ({"batch_size": -1}, "--batch-size"), ({"units": 2.5}, "--units"),
    ({"layers": 0}, "--layers"), ({"epochs": 0}, "--epochs"), ({"val_fraction": 0}, "--val-fraction"),
    ({"val_fraction": 0.7}, "--val-fraction"), ({"dropout": 1.0}, "--dropout"),
    ({"learning_rate": 0}, "--learning-rate"), ({"learning_rate": float("nan")}, "--learning-rate"),
    ({"time_limit": -5}, "--time-limit"), ({"workers": -1}, "--workers"), ({"weight_decay": -0.1}, "--weight-decay"),
    ({"ema_momentum": 1.0}, "--ema-momentum"),
])
def test_impossible_settings_are_refused(changes, flag):
    with pytest.raises(SettingError) as error:
        Config(**changes).validate()
    assert say(error.value).startswith(f"{flag} must be ")


def test_resume_keeps_the_model_but_may_train_longer():
    saved = Config(units=128)
    assert resume_config(saved, {"epochs": 50, "units": 128}).epochs == 50
    with pytest.raises(FixedOnResume) as error:
        resume_config(saved, {"units": 256})
    assert "--units 256 differs from this run's 128" in say(error.value)


def test_config_json_round_trip_ignores_unknown_keys():
    config = Config(units=64, sample_temperatures=(0.5, 1.0))
    data = json.loads(config.to_json())
    data["from_a_newer_version"] = 1
    assert Config.from_dict(data) == config


def test_a_run_folder_from_before_a_knob_says_it_trained_without():
    data = json.loads(Config().to_json())
    del data["weight_decay"], data["ema_momentum"]  # config.json as written before the knobs existed
    old = Config.from_dict(data)
    assert (old.weight_decay, old.ema_momentum) == (0, 0)  # plain Adam, no weight average
    assert Config().weight_decay > 0 and Config().ema_momentum > 0
