"""The character vocabulary, in the Keras char-level convention.

Index 0 is padding; characters take 1, 2, ... (most frequent first, ties by code point), so
`vocab_size = len(char_index) + 1` sizes both the Embedding input and the output layer.

A character the vocabulary does not hold (typed while writing, or in a prefix) encodes to 0,
the padding index. The model masks index 0 (`Embedding(mask_zero=True)`), so an unknown character
is skipped: it never crashes, never shifts another character's index, and the model's state carries
over it as if it were not there. It is never generated: sampling excludes index 0.

A vocabulary of many short texts (see texts.py) has one more token, `end_of_text`, after the
characters (so `vocab_size = len(char_index) + 2`): it is no character of any text, it ends each
one in the training stream, and vocab.json names its index.
"""

from __future__ import annotations

import json
from collections import Counter
import numpy as np

from .errors import UserError

PAD = 0


class Vocab:
    def __init__(self, char_index: dict[str, int], end_of_text: int | None = None,
                 base: dict[str, str] | None = None):
        expected = set(range(1, len(char_index) + 1))
        if set(char_index.values()) != expected or not all(len(c) == 1 for c in char_index):
            raise UserError("vocab.json is damaged: char_index must map single characters to 1..N")
        if end_of_text not in (None, len(char_index) + 1):
            raise UserError("vocab.json is damaged: end_of_text must be the index after the characters'")
        self.char_index = dict(char_index)
        self.end_of_text = end_of_text
        self.base = base  # the model a fine-tuned run started from: {"name", "model_sha256"} (finetune.py)
        # index -> character; index 0 and end_of_text decode to ""
        self.chars = [""] * (len(char_index) + 1 + (end_of_text is not None))
        for char, index in char_index.items():
            self.chars[index] = char
        self._lookup = {ord(c): i for c, i in char_index.items()}

    @classmethod
    def from_text(cls, text: str, end_of_text: bool = False) -> "Vocab":
        """The characters of `text`; `end_of_text`: with the token that ends each of many texts."""
        counts = Counter(text)
        ordered = sorted(counts, key=lambda c: (-counts[c], ord(c)))
        return cls({char: index for index, char in enumerate(ordered, start=1)},
                   len(ordered) + 1 if end_of_text else None)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """The training stream of many texts: each one's ids followed by `end_of_text`."""
        end = np.array([self.end_of_text], dtype=np.int32)
        return np.concatenate([part for text in texts for part in (self.encode(text), end)])

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
        saved = {"char_index": self.char_index}
        if self.end_of_text is not None:
            saved["end_of_text"] = self.end_of_text
        if self.base is not None:
            saved["base"] = self.base
        return json.dumps(saved, ensure_ascii=False, indent=0) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Vocab":
        try:
            saved = json.loads(text)
            char_index, end_of_text, base = saved["char_index"], saved.get("end_of_text"), saved.get("base")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserError("vocab.json is damaged (no valid char_index): retrain, or copy it back "
                            "from the run that made model.keras") from None
        if not isinstance(char_index, dict):
            raise UserError("vocab.json is damaged: char_index must be an object")
        return cls(char_index, end_of_text, base)
