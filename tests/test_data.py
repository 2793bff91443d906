"""The PyDataset of training windows and the validation split."""

from __future__ import annotations

import numpy as np

from benchmarks.scores import validation_windows
from chargen_tui.corpus import split_corpus
from chargen_tui.data import TrainWindows
from chargen_tui.vocab import Vocab

from .helpers import tiny_config


def _windows(text: str, **changes):
    config = tiny_config(**changes)
    vocab = Vocab.from_text(text)
    split = split_corpus(vocab.encode(text), config.seq_len, config.val_fraction)
    return config, split, TrainWindows(split.train, config)


def test_targets_are_the_next_character_at_every_position(text):
    config, split, dataset = _windows(text)
    x, y = dataset[0]
    assert x.shape == y.shape == (config.batch_size, config.seq_len)
    assert x.dtype == y.dtype == np.int32
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # y is x shifted by one character
    for row_x, row_y in zip(x, y):  # and every window is a real stretch of the corpus
        start = next(s for s in range(len(split.train)) if np.array_equal(split.train[s:s + config.seq_len], row_x))
        np.testing.assert_array_equal(split.train[start + 1:start + config.seq_len + 1], row_y)


def test_validation_is_the_contiguous_tail_and_never_trained_on(text):
    config, split, dataset = _windows(text, val_fraction=0.2)
    n = len(text)
    assert len(split.val) == int(n * 0.2) and len(split.train) + len(split.val) == n
    highest = max(dataset.offset + dataset.order.max() * config.seq_len + config.seq_len, 0)
    for epoch in range(5):
        dataset.set_epoch(epoch)
        last_target = dataset.offset + dataset.order.max() * config.seq_len + config.seq_len
        highest = max(highest, last_target)
    assert highest < len(split.train)  # the last target index of any window stays in the training part


def test_the_windowed_validation_figure_reads_the_validation_text_in_order(text):
    config, split, _ = _windows(text, val_fraction=0.2)
    val_x, val_y = validation_windows(split.val, config.seq_len)
    np.testing.assert_array_equal(val_x.reshape(-1)[1:], val_y.reshape(-1)[:-1])
    np.testing.assert_array_equal(val_x.reshape(-1), split.val[:val_x.size])


def test_each_epoch_has_its_own_order_and_the_same_order_on_resume(text):
    config, split, dataset = _windows(text)
    dataset.set_epoch(3)
    epoch3 = [dataset[i][0] for i in range(len(dataset))]
    dataset.set_epoch(4)
    assert not np.array_equal(dataset[0][0], epoch3[0])
    resumed = TrainWindows(split.train, config, epoch=3, skip_batches=2)
    assert len(resumed) == len(epoch3) - 2
    np.testing.assert_array_equal(resumed[0][0], epoch3[2])


def test_memory_is_the_corpus_not_one_hot(text):
    _, split, dataset = _windows(text)
    assert dataset.ids is split.train  # no copy of the corpus
    assert dataset.order.size == dataset.windows_per_epoch  # one int per window
