"""The document being written: open, save, and the autosave copy that survives a crash.

Saving writes the user's file atomically (files.atomic_write_text). Autosave never touches the
user's file: it keeps a copy of the unsaved text in the cache folder, removed once the text is
saved or deliberately discarded. A copy still there at the next start means the editor did not
end cleanly, and its text is offered back.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from .corpus import read_exact_text
from .errors import UserError
from .files import atomic_write, atomic_write_text, cache_dir, private_folder


def document_id(document: Path) -> str:
    """A document named by a hash of its full path: what we keep about it names no file of the writer's."""
    return hashlib.sha256(str(document.resolve()).encode()).hexdigest()[:16]


def open_document(path: Path, encoding: str = "utf-8") -> str:
    """The text of `path` in `encoding`; "" for a file that does not exist yet (it is created on save)."""
    return read_exact_text(path, encoding) if path.exists() else ""  # saved back as it was: CRs, BOM and all


def check_encoding(encoding: str) -> None:
    """UserError for an encoding Python does not know (said at start rather than at the first save)."""
    _encoded("", encoding, Path())


def save_document(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` in `encoding`, atomically; a character the encoding has no place for is
    a UserError, and the file is left as it was."""
    if path.is_dir():
        raise UserError(f"{path} is a folder: save under a file name")
    data = _encoded(text, encoding, path)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _encoded(text: str, encoding: str, path: Path) -> bytes:
    try:
        return text.encode(encoding)
    except LookupError:
        raise UserError(f"unknown encoding {encoding!r}: use a name such as utf-8, latin-1 or cp1252") from None
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        column = error.start - (text.rfind("\n", 0, error.start) + 1) + 1
        character = text[error.start]
        raise UserError(f"{path.name} is in {encoding}, which has no {character!r} (U+{ord(character):04X}, "
                        f"line {line}, column {column}): replace it to save in {encoding}") from None


@dataclass(frozen=True)
class Recovery:
    text: str
    saved_at: float  # time.time() of the autosave

    def describe(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))


class Autosave:
    """The crash copy of one document (or of the untitled one)."""

    def __init__(self, document: Path | None, folder: Path | None = None):
        name = document_id(document) if document else hashlib.sha256(b"untitled").hexdigest()[:16]
        self.path = (folder or cache_dir() / "autosave") / f"{name}.json"
        self.document = str(document.resolve()) if document else "untitled"

    def write(self, text: str) -> None:
        # A draft is private whatever the umask (on a shared host, others could read it): 0600 in a
        # 0700 folder, as vim's swap files are.
        private_folder(self.path.parent)
        atomic_write_text(self.path, json.dumps({"document": self.document, "text": text,
                                                 "saved_at": time.time()}, ensure_ascii=False), private=True)

    def read(self) -> Recovery | None:
        """The text left by an editor that did not end cleanly, if any (None when unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Recovery(str(data["text"]), float(data["saved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
