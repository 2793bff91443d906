"""The writer's memory: the words they write, and which word followed which, kept across documents
and sessions, so that a name typed today is completed tomorrow (words.py uses them).

It lives in the user's data folder ($XDG_DATA_HOME/chargen-tui, else ~/.local/share/chargen-tui),
never in a run folder (a run folder is shared and shipped; what a person writes is theirs alone):
memory.json, private (0600 in a 0700 folder), written atomically, no link followed. Several
processes keep it at once (the app, a language server for each editor, a browser tab each): a save
replays what this one learned and forgot since its last save on the file as it is then, under a
lock, and takes the result, so no process loses what another taught or forgot. The writer
controls it: learning can be paused for a document (remembered for that document), and what was
learned can be seen, one word forgotten, or everything (`chargen-tui memory`, and the writing
screen's memory dialog).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from .document import document_id
from .errors import UserError
from .files import atomic_write_text, data_dir, open_no_follow, private_folder
from .words import Learned

MEMORY_FILE = "memory.json"
LOCK_FILE = ".memory.lock"  # held while the file is read, merged and written


class Memory:
    """The words learned from what the writer writes (`learned`), and the documents not to learn from."""

    def __init__(self, path: Path | None, learned: Learned | None = None, paused: set[str] | None = None) -> None:
        self.path = path  # None: kept nowhere (this session's alone)
        self.learned = learned if learned is not None else Learned()
        self._paused = paused or set()  # documents, by `document_id`
        self._pauses: list[tuple[str, bool]] = []  # the pauses since the last save, to replay on the file
        self._saved = self.learned.changes
        if path is not None:
            self.learned.journal = []  # what to replay on the file at the next save

    @classmethod
    def load(cls, folder: Path | None = None) -> "Memory":
        """The memory in `folder` (default: the data folder); empty if there is none. A damaged file
        is a UserError (it is left as it is: nothing the writer taught is thrown away)."""
        path = (folder or data_dir()) / MEMORY_FILE
        found = _read(path)
        return cls(path, *found) if found else cls(path)

    def save_if_changed(self) -> None:
        if self.learned.changes != self._saved:
            self.save()

    def save(self) -> None:
        if self.path is None:
            return
        private_folder(self.path.parent)
        with _locked(self.path.with_name(LOCK_FILE)), self.learned.lock:
            found = _read(self.path)  # as another process may have left it
            if found:
                learned, paused = found
                learned.replay(self.learned.journal)
                for document, pause in self._pauses:
                    (paused.add if pause else paused.discard)(document)
                self.learned.take(learned)
                self._paused = paused
            self.learned.journal, self._pauses, self._saved = [], [], self.learned.changes
            text = json.dumps({"counts": self.learned.counts, "forms": self.learned.forms,
                               "followers": self.learned.followers, "paused": sorted(self._paused)}, ensure_ascii=False)
            atomic_write_text(self.path, text, private=True)

    def words(self) -> list[tuple[str, int]]:
        """The words learned, as last written, with how often: the commonest first."""
        with self.learned.lock:
            counts = dict(self.learned.counts)
            forms = dict(self.learned.forms)
        return sorted(((forms.get(k, k), n) for k, n in counts.items()), key=lambda item: (-item[1], item[0]))

    def forget(self, word: str) -> bool:
        """Forget a word (and the pairs and triples it is in), now and on disk; False if it was not learned."""
        found = self.learned.forget(word)
        self.save()
        return found

    def forget_all(self) -> None:
        self.learned.clear()
        self.save()

    def is_paused(self, document: Path | None) -> bool:
        return document is not None and document_id(document) in self._paused

    def pause(self, document: Path, paused: bool = True) -> None:
        """Learn nothing from `document` (or learn again: `paused=False`), from now on."""
        (self._paused.add if paused else self._paused.discard)(document_id(document))
        self._pauses.append((document_id(document), paused))
        self.save()


def _read(path: Path) -> tuple[Learned, set[str]] | None:
    """What the memory file holds (None: there is none). A damaged file is a UserError (it is left as
    it is: nothing the writer taught is thrown away)."""
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with open(fd, encoding="utf-8") as file:
        try:
            data = json.load(file)
            return Learned(data["counts"], data["forms"], data["followers"]), set(data["paused"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"{path} is damaged: move it away to start a new memory") from None


class _locked:
    """Hold an exclusive lock on `path` (made, private, if missing) while in the `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # closing releases the lock
