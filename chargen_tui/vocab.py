"""The character vocabulary, in the Keras char-level convention.

Index 0 is padding; characters take 1, 2, ... (most frequent first, ties by code point), so
`vocab_size = len(char_index) + 1` sizes both the Embedding input and the output layer.

A character the vocabulary does not hold (typed while writing, or in a prefix) encodes to 0,
the padding index. The model masks index 0 (`Embedding(mask_zero=True)`), so an unknown character
is skipped: it never crashes, never shifts another character's index, and the model's state carries
over it as if it were not there. It is never generated: sampling excludes index 0.
"""

from __future__ import annotations

import json
from collections import Counter
import numpy as np

from .errors import UserError

PAD = 0


class Vocab:
    def __init__(self, char_index: dict[str, int]):
        expected = set(range(1, len(char_index) + 1))
        if set(char_index.values()) != expected or not all(len(c) == 1 for c in char_index):
            raise UserError("vocab.json is damaged: char_index must map single characters to 1..N")
        self.char_index = dict(char_index)
        self.chars = [""] * (len(char_index) + 1)  # index -> character; index 0 decodes to ""
        for char, index in char_index.items():
            self.chars[index] = char
        self._lookup = {ord(c): i for c, i in char_index.items()}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        counts = Counter(text)
        ordered = sorted(counts, key=lambda c: (-counts[c], ord(c)))
        return cls({char: index for index, char in enumerate(ordered, start=1)})

    @property
    def vocab_size(self) -> int:
        return len(self.char_index) + 1

    def encode(self, text: str) -> np.ndarray:
        """Token ids (int32) of `text`; unknown characters become PAD (0)."""
        lookup = self._lookup
        return np.fromiter((lookup.get(ord(c), PAD) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        chars = self.chars
        return "".join(chars[i] for i in ids)

    def unknown_chars(self, text: str) -> set[str]:
        return {c for c in set(text) if c not in self.char_index}

    def to_json(self) -> str:
        return json.dumps({"char_index": self.char_index}, ensure_ascii=False, indent=0) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Vocab":
        try:
            char_index = json.loads(text)["char_index"]
        except (ValueError, KeyError, TypeError):
            raise UserError("vocab.json is damaged (no valid char_index): retrain, or copy it back "
                            "from the run that made model.keras") from None
        if not isinstance(char_index, dict):
            raise UserError("vocab.json is damaged: char_index must be an object")
        return cls(char_index)
