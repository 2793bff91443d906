"""Predict mode's search, its threshold, the simulated writer's arithmetic, and adaptation."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.keystrokes import Tally, type_text
from chargen_tui.adapt import Adapter
from chargen_tui.predict import Continuation, best_and_alternatives, likeliest
from chargen_tui.sampling import Sampler, _Layer
from chargen_tui.suggest import Request, suggestions
from chargen_tui.vocab import Vocab

from .helpers import make_text

# P(next | last): after a space "a" is likelier than "b", but "b" goes on with "c" and a space,
# so the likeliest word is "bc" (0.4 * 0.9 * 0.9 = 0.324), where greedy search writes "a" (0.5 * 0.2).
BIGRAMS = {" ": {"a": 0.5, "b": 0.4, "c": 0.05, " ": 0.05},
           "a": {"a": 0.3, "b": 0.3, "c": 0.2, " ": 0.2},
           "b": {"a": 0.05, "b": 0.03, "c": 0.9, " ": 0.02},
           "c": {"a": 0.05, "b": 0.03, "c": 0.02, " ": 0.9}}


def bigram_sampler() -> Sampler:
    """An LSTM whose state is the last character read (saturated gates: input and output open, forget
    shut), and whose output is log P(next | last): its probabilities are BIGRAMS' exactly."""
    vocab = Vocab({char: index for index, char in enumerate("abc ", start=1)})
    size = vocab.vocab_size  # one unit per token
    big = 20.0  # tanh(20) and sigmoid(20) are 1 in float32
    kernel = np.zeros((size, 4 * size), np.float32)
    kernel[:, 2 * size:3 * size] = big * np.eye(size)  # the candidate: the token read
    bias = np.concatenate([np.full(size, big), np.full(size, -big), np.zeros(size), np.full(size, big)])
    dense = np.full((size, size), -30.0, np.float32)
    for last, nexts in BIGRAMS.items():
        for char, p in nexts.items():
            dense[vocab.char_index[last], vocab.char_index[char]] = np.log(p) / np.tanh(1.0)  # h = tanh(1)
    layer = _Layer.from_keras(kernel, np.zeros((size, 4 * size), np.float32), bias.astype(np.float32))
    return Sampler(np.eye(size, dtype=np.float32), [layer], dense, np.zeros(size, np.float32), vocab, seq_len=8)


def test_beam_search_finds_the_likeliest_word_that_greedy_search_misses():
    sampler = bigram_sampler()
    found = {c.text: c.probability for c in likeliest(sampler, sampler.prime("a "), floor=0.05, length=40)}
    assert found["bc"] == pytest.approx(0.4 * 0.9 * 0.9, rel=1e-4)  # and a word ends: a space, 0.9
    assert found["bc "] == pytest.approx(0.4 * 0.9 * 0.9, rel=1e-4)  # the space itself
    assert found["a"] == pytest.approx(0.5 * 0.2, rel=1e-4)
    assert found["bc bc"] == pytest.approx(0.324 * 0.4 * 0.9 * 0.9, rel=1e-4)
    assert max(found.values()) == found["bc"]
    assert all(p >= 0.05 for p in found.values()) and "b" not in found  # "b" ends a word only 0.008 of the time
    greedy = [c.text for c in likeliest(sampler, sampler.prime("a "), floor=0.05, length=40, beams=1)]
    assert "bc" not in greedy and "a" in greedy


def test_the_threshold_hides_a_ghost_that_is_not_likely_enough():
    sampler = bigram_sampler()
    shown = lambda threshold: list(suggestions(Request("a ", sampler, threshold=threshold)))  # noqa: E731
    # "bc " (with the space: Tab takes it too) saves 2 keys 0.324 of the time.
    assert shown(0.3) == [["bc "], ["bc "]]
    assert shown(0.5) == [[], []]  # "bc" is 0.324 likely: nothing is shown
    # Bolder, the search goes on to "bc bc " (0.105 likely; 0.105 * 5 keys, and when only "bc" is
    # right, Ctrl+Right saves 1: 0.219 * 1), then the alternatives, none a prefix of another:
    # "abc " (0.5 * 0.3 * 0.9 * 0.9, 3 keys), then "ac " (0.5 * 0.2 * 0.9, 2 keys).
    assert shown(0.08) == [["bc bc "], ["bc bc ", "abc ", "ac "]]


def test_a_ghost_is_shown_on_its_own_words_odds_not_a_shorter_words_inside_it():
    # After "my credit c": "card" 0.57 likely, "cards" 0.17. "card" is no word of the ghost "cards"
    # (Ctrl+Right takes all of it), so "cards" is neither likely enough nor worth more than "card".
    found = [Continuation("ard", 0.57), Continuation("ards", 0.17)]
    assert [c.text for c in best_and_alternatives(found, 0.2, 3)] == ["ard"]
    assert [c.text for c in best_and_alternatives(found, 0.1, 3)] == ["ard"]  # 0.57 * 2 keys beat 0.17 * 3


def test_the_simulated_writer_counts_keys_ghosts_and_takes():
    ghosts = {"": ["the cat"], "the cat": [" sad"], "the cat ": ["sad"], "the cat s": ["ad"], "the cat sa": ["d"],
              "the cat sat o": ["n"]}
    tally, latencies = Tally(), []
    type_text(lambda prefix: (ghosts.get(prefix, []), 0.001), "the cat sat on", 0, tally, latencies)
    # Tab takes "the cat" (1 key); " sad" goes on while " sa" is typed (the same ghost, computed anew
    # after each key), then "t" ends it; the last ghost is right but puts in one character for one
    # key, so "n" is typed.
    assert (tally.chars, tally.keys) == (14, 1 + 4 + 3)
    assert (tally.shown, tally.taken) == (3, 1)
    assert (tally.positions, tally.covered) == (8, 6)
    assert len(latencies) == 8  # a ghost computed after every key, as the editor asks


def test_adapting_lowers_the_loss_of_a_text_read_again(trained_run):
    sampler = Sampler.from_run_dir(trained_run)
    ids = sampler.vocab.encode(make_text(192, seed=7) * 6)  # words the model knows, in an order it has not seen
    last_reading = []  # the loss of the sixth reading, as loaded, then adapting
    for adapter in (Adapter(sampler, learning_rate=0), Adapter(sampler)):
        losses = [adapter.read(ids[start:start + 32]) for start in range(0, len(ids), 32)]
        last_reading.append(np.mean(losses[-6:]))
    assert last_reading[1] < last_reading[0] - 0.1
    assert sampler.generate("The ", 20, temperature=0) == Sampler.from_run_dir(trained_run).generate(
        "The ", 20, temperature=0)  # the loaded model is not changed


def test_adapting_reads_the_text_typed_at_the_cursor_and_not_what_was_deleted(trained_run):
    adapter = Adapter(Sampler.from_run_dir(trained_run))
    adapter.follow("The king")  # where writing starts: read from its window, nothing queued
    adapter.follow("The king and the")
    assert len(adapter.pending) == len(" and the")
    adapter.follow("The king and th")  # Backspace: what was not read yet goes
    assert adapter.pending == []
    adapter.feed(make_text(100))  # a document opened: read whole, and followed from its end
    adapter.follow("a few words before the cursor")
    assert len(adapter.pending) == 100
