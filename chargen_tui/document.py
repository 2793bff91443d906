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

from .corpus import read_text
from .errors import UserError
from .files import atomic_write_text, cache_dir, private_folder


def open_document(path: Path) -> str:
    """The text of `path`; "" for a file that does not exist yet (it is created on save)."""
    return read_text(path) if path.exists() else ""


def save_document(path: Path, text: str) -> None:
    if path.is_dir():
        raise UserError(f"{path} is a folder: save under a file name")
    atomic_write_text(path, text)


@dataclass(frozen=True)
class Recovery:
    text: str
    saved_at: float  # time.time() of the autosave

    def describe(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))


class Autosave:
    """The crash copy of one document (or of the untitled one)."""

    def __init__(self, document: Path | None, folder: Path | None = None):
        key = str(document.resolve()) if document else "untitled"
        name = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = (folder or cache_dir() / "autosave") / f"{name}.json"
        self.document = key

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
