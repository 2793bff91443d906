"""Reading the user's text, with an error a person can act on for each way it can go wrong.

Line endings are normalised to "\\n" so that a text saved on Windows trains the same model.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CorpusTooShort, NotDecodable, UserError

DEFAULT_CORPUS_NAME = "Python's documentation topics (pydoc_data)"
_BINARY_SNIFF_BYTES = 8192


def read_corpus(path: str | Path, encoding: str = "utf-8") -> str:
    """Return the text of `path`, or raise UserError saying what is wrong and what to do."""
    text = read_text(path, encoding)
    if not text:
        raise UserError(f"{path} is empty: give a text file with the writing to learn from")
    if not text.strip():
        raise UserError(f"{path} holds only white space: give a text file with writing in it")
    return text


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The text of a file (possibly empty), or UserError for a missing, binary or undecodable one;
    line breaks as newlines, without a byte-order mark."""
    return read_exact_text(path, encoding).removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_exact_text(path: str | Path, encoding: str = "utf-8") -> str:
    """`read_text`, but every character as the file has it (a document is saved back as it was)."""
    path = Path(path)
    codec = _codec(encoding)
    data = _read_bytes(path)
    nul = data.find(b"\0", 0, _BINARY_SNIFF_BYTES)
    # A binary file has NULs everywhere; a text may hold a stray one (removed with the other control
    # characters). UTF-16 and UTF-32 are full of them.
    if nul >= 0 and _mostly_nul(data[:_BINARY_SNIFF_BYTES]) and not codec.name.startswith(("utf-16", "utf-32")):
        raise UserError(f"{path} looks like a binary file (NUL byte at offset {nul}): "
                        "give a plain-text file")
    return _decode(path, data, encoding)


def _mostly_nul(head: bytes) -> bool:
    return head.count(b"\0") * 100 > len(head)  # more than one byte in a hundred


def default_corpus() -> str:
    """The embedded default: Python's own documentation topics (~465K characters of prose and code).

    They ship with every CPython, so the project carries no copied text of its own.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some Linux distributions strip pydoc_data from their Python
        raise UserError("this Python has no pydoc_data, so there is no default corpus: "
                        "give a text file, e.g. `chargen-tui train mytext.txt`") from None
    return "\n\n".join(topics[key].strip("\n") for key in sorted(topics)) + "\n"


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # token ids the model trains on (the first part of the corpus)
    val: np.ndarray  # the last `val_fraction`, contiguous: no training window reaches into it


def split_corpus(ids: np.ndarray, seq_len: int, val_fraction: float, end_of_text: int | None = None) -> Split:
    """Cut the token ids into training and validation parts, or say why the corpus is too short.

    In a stream of many texts (each ending in `end_of_text`), validation is whole texts from the end,
    as near `val_fraction` of the ids as whole texts allow; it falls back to a cut inside a text
    only when no cut between texts leaves both parts long enough (one text, or one dwarfing the rest).
    """
    if end_of_text is not None and (cut := _cut_between_texts(ids, seq_len, val_fraction, end_of_text)):
        return Split(train=ids[:cut], val=ids[cut:])
    val_chars = require_length(len(ids), seq_len, val_fraction)
    return Split(train=ids[: len(ids) - val_chars], val=ids[len(ids) - val_chars:])


def _cut_between_texts(ids: np.ndarray, seq_len: int, val_fraction: float, end_of_text: int) -> int | None:
    starts = np.flatnonzero(ids[:-1] == end_of_text) + 1  # where each text but the first begins
    usable = starts[_long_enough_parts(len(ids), len(ids) - starts, seq_len)]
    if not len(usable):
        return None
    wanted = len(ids) * val_fraction
    return int(usable[np.argmin(np.abs((len(ids) - usable) - wanted))])


def require_length(chars: int, seq_len: int, val_fraction: float) -> int:
    """The number of validation characters, or CorpusTooShort when either part is too short to use."""
    if not _long_enough(chars, seq_len, val_fraction):
        minimum = max(math.ceil((seq_len + 1) / val_fraction), 3 * seq_len + 1)
        while not _long_enough(minimum, seq_len, val_fraction):
            minimum += 1
        raise CorpusTooShort(chars, seq_len, val_fraction, minimum)
    return int(chars * val_fraction)


def _long_enough(chars: int, seq_len: int, val_fraction: float) -> bool:
    return bool(_long_enough_parts(chars, int(chars * val_fraction), seq_len))


def _long_enough_parts(chars, val_chars, seq_len: int):
    # Validation needs one window and its last target; training needs one window whatever the
    # epoch's random offset (below seq_len) is, so two windows' length (see data.TrainWindows).
    return (val_chars >= seq_len + 1) & (chars - val_chars >= 2 * seq_len)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"{path} does not exist: check the path of the text file")
    if path.is_dir():
        raise UserError(f"{path} is a folder: give the path of a text file inside it")
    try:
        return path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None


def _codec(encoding: str) -> codecs.CodecInfo:
    try:
        return codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"unknown encoding {encoding!r}: use a name such as utf-8, latin-1 or cp1252") from None


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start:error.start + 1].hex()
        raise NotDecodable(path, encoding, bad, error.start) from None

