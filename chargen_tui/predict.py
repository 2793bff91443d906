"""The likeliest continuations of a text, found by beam search, each ending where a word ends.

Predict mode shows what the writer is likeliest to type next, and only when it is likely: a ghost
the writer rejects costs attention and saves nothing. So the search keeps only continuations whose
probability clears a floor, and a continuation counts only where a word ends: at its last character
the model must expect a space, punctuation or a line's end next (its probability is the text's
times that expectation), or it ends with the space after a word (which Tab then takes too). A
continuation never ends mid-word, unless the word is what it completes.

Every prefix of a continuation is at least as likely as the continuation, so pruning below the
floor loses nothing the floor would have kept: with `beams` at least 1 / floor, the search finds
every continuation that clears it (no more than 1 / floor distinct texts can). That bound also
keeps the search short: it stops as soon as nothing left clears the floor.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .sampling import log_softmax
from .vocab import PAD

if TYPE_CHECKING:
    from .sampling import Sampler, State

THRESHOLD = 0.22  # default: a ghost is shown when what a key takes of it first is this likely (measured: docs/experiments.md)
THRESHOLD_RANGE = (0.05, 0.9)  # the thresholds a writer can choose
BEAMS = 6
GROWTH = 0.5  # a shown continuation grows while the text stays this share of the threshold likely
MIN_CHARS = 2  # a ghost of one character is no quicker to take than to type
NEXT_WORD = re.compile(r"\s*\S+")  # what Ctrl+Right takes (the editor and the simulated writer use it)


@dataclass(frozen=True)
class Continuation:
    text: str
    probability: float  # that the text to come starts with `text` and a word ends there


def likeliest(sampler: "Sampler", primed: tuple["State", np.ndarray], floor: float, length: int,
              beams: int = BEAMS) -> list[Continuation]:
    """Every continuation (of at most `length` characters, on the cursor's line) found at least `floor`
    likely, searched with `beams` beams, likeliest first."""
    ends_word, blocked, wide, spaces = _boundaries(sampler)
    log_floor = math.log(floor)
    state, logits = primed
    paths = [[]]  # the token ids of each beam
    scores = np.zeros(1)  # each beam's log probability
    found: dict[str, float] = {}
    for t in range(length + 1):
        log_probs = _next_char_log_probs(logits)
        for path, score, row in zip(paths, scores, log_probs):
            if path:  # ended by a space, or a wide character (a word of its own): as is; else a word must end next
                end = 0.0 if wide[path[-1]] or spaces[path[-1]] else np.logaddexp.reduce(row[ends_word])
                if score + end >= log_floor:
                    found[sampler.vocab.decode(path)] = score + end
        if t == length:
            break
        totals = scores[:, None] + log_probs
        totals[:, blocked] = -np.inf
        flat = totals.ravel()
        best = np.argpartition(flat, -beams)[-beams:] if flat.size > beams else np.arange(flat.size)
        best = best[flat[best] >= log_floor]
        if not len(best):
            break
        rows, tokens = np.unravel_index(best, totals.shape)
        paths = [paths[r] + [int(k)] for r, k in zip(rows, tokens)]
        scores = totals[rows, tokens]
        state = sampler.step([(h[rows], c[rows]) for h, c in state], tokens)
        logits = sampler.logits(state)
    return sorted((Continuation(text, math.exp(score)) for text, score in found.items()),
                  key=lambda found: -found.probability)


def word_probabilities(sampler: "Sampler", primed: tuple["State", np.ndarray], rests: list[str]) -> np.ndarray:
    """For each text, how likely the model finds that the text comes next and a word ends after it
    (one batch: a step for each character of the longest)."""
    ends_word = _boundaries(sampler)[0]
    index = sampler.vocab.char_index
    ids = [[index.get(c, PAD) for c in rest] for rest in rests]
    longest = max(map(len, ids))
    state = [(np.repeat(h, len(rests), axis=0), np.repeat(c, len(rests), axis=0)) for h, c in primed[0]]
    logits = np.repeat(primed[1], len(rests), axis=0)
    scores = np.zeros(len(rests))
    for t in range(longest + 1):
        log_probs = _next_char_log_probs(logits)
        for i, row in enumerate(ids):
            if t < len(row):
                scores[i] += log_probs[i, row[t]] if row[t] != PAD else -np.inf
            elif t == len(row):
                scores[i] += np.logaddexp.reduce(log_probs[i, ends_word])
        if t == longest:
            break
        state = sampler.step(state, np.array([row[t] if t < len(row) else PAD for row in ids]))
        logits = sampler.logits(state)
    return np.exp(scores)


def _next_char_log_probs(logits: np.ndarray) -> np.ndarray:
    """The log probabilities of the next character: never padding (a continuation is characters alone)."""
    logits = logits.astype(np.float64)
    logits[:, PAD] = -np.inf
    return log_softmax(logits)


def best_and_alternatives(found: list[Continuation], threshold: float, count: int) -> list[Continuation]:
    """The continuation to show, then up to `count - 1` others, none a prefix of another.

    A ghost is taken whole (Tab) or word by word (Ctrl+Right), so what it is worth is the keys it is
    expected to save (`_expected_keys`), and it is useful when the least a key takes of it that is
    worth taking is right (`_first_word`: one character a key is no quicker than typing). So a
    continuation is shown when that is at least `threshold` likely, and of those the one expected
    to save the most comes first."""
    likely = {c.text: c.probability for c in found}
    shown = [c for c in found if len(c.text) >= MIN_CHARS and likely[_first_word(c.text, likely)] >= threshold]
    shown.sort(key=lambda c: -_expected_keys(c.text, likely))
    chosen: list[Continuation] = []
    for candidate in shown:
        if len(chosen) == count:
            break
        if not any(c.text.startswith(candidate.text) or candidate.text.startswith(c.text) for c in chosen):
            chosen.append(candidate)
    return chosen


def _word_ends(text: str, likely: dict[str, float]) -> list[str]:
    """The prefixes of `text` that end where a word ends in it, as the search found them: so each is
    as likely as `text` at least. "card" is no word end of "cards": the search may have found it,
    followed by a space, but that is another text, and a Ctrl+Right on "cards" takes all of it."""
    return [text[:end] for end in range(1, len(text) + 1) if text[:end] in likely and _ends_word(text, end)]


def _ends_word(text: str, end: int) -> bool:
    """Does a word end in `text` after `end` characters (as `likeliest` ends one)?"""
    last = text[end - 1]
    return end == len(text) or not is_word_char(text[end]) or last in (" ", "\t") or is_wide(last)


def _first_word(text: str, likely: dict[str, float]) -> str:
    """The least of `text` a key takes that is worth taking: its words up to the first that Ctrl+Right
    takes at 2 characters a key at least, or all of it (Tab). In "f the " it is "f the": a Ctrl+Right
    on "f" saves nothing, and Tab takes "the" too."""
    return next(prefix for prefix in _word_ends(text, likely) if prefix == text or _saved_word_by_word(prefix))


def _expected_keys(text: str, likely: dict[str, float]) -> float:
    """Keys the continuation is expected to save when the writer takes as much of it as is right: all
    of it with Tab (one key), or its first words with a Ctrl+Right each. Each word end's probability
    is that the text is right up to there."""
    ends = _word_ends(text, likely)
    saved = likely[text] * (len(text) - 1)  # all of it right: Tab
    for prefix, longer in zip(ends, ends[1:]):  # right up to `prefix`, not to `longer`
        saved += (likely[prefix] - likely[longer]) * _saved_word_by_word(prefix)
    return saved


def _saved_word_by_word(prefix: str) -> int:
    """Keys saved taking `prefix`'s words with Ctrl+Right (a trailing space it cannot take), where
    that puts in 2 characters a key at least (else the writer types them)."""
    taken = prefix.rstrip(" \t")
    words = len(NEXT_WORD.findall(taken))
    return len(taken) - words if words and len(taken) >= 2 * words else 0


@cache
def _boundaries_of(chars: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    ends_word = np.array([i != PAD and not is_word_char(c) for i, c in enumerate(chars)])
    blocked = np.array([i == PAD or c in ("", "\n", "\r") for i, c in enumerate(chars)])  # "": end of text
    wide = np.array([bool(c) and is_wide(c) for c in chars])
    spaces = np.array([c in (" ", "\t") for c in chars])
    return ends_word, blocked, wide, spaces


def _boundaries(sampler: "Sampler") -> tuple[np.ndarray, ...]:
    """Per token: does a word end before it (space, punctuation, a line's or a text's end); may a
    continuation not go on into it (padding, a line's or a text's end); is it a wide character (CJK),
    each a word of its own; is it a space (a continuation may end with one: Tab takes it too)."""
    return _boundaries_of(tuple(sampler.vocab.chars))


def is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_'’"


def is_wide(char: str) -> bool:
    """A character two columns wide (CJK): a word of its own."""
    return unicodedata.east_asian_width(char) in "WF"
