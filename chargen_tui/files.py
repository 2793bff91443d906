"""Files written atomically, and the folder where chargen-tui keeps its own files.

Atomic means: write a temporary file in the same folder, flush it to disk, then rename it over the
old one. A kill at any moment leaves either the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    """Where chargen-tui keeps its own files (TensorFlow's log, autosaves): $XDG_CACHE_HOME/chargen-tui."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chargen-tui"


def atomic_write(path: Path, write: Callable[[Path], None], private: bool = False) -> None:
    """Call `write(tmp_path)` and move the result over `path` in one rename.

    The new file keeps the old one's permissions; a new file gets the ones the umask gives, as
    `open()` would (the temporary file is created with mode 0o666, which the kernel masks).
    `private`: the file is 0600 (its owner's only) from its creation on, whatever was there before.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"
    os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666))
    try:
        write(tmp_path)
        if path.exists() and not private:
            os.chmod(tmp_path, path.stat().st_mode & 0o777)
        with open(tmp_path, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, private: bool = False) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), private)


def private_folder(path: Path) -> Path:
    """`path` as a folder only its owner can read (0700), made so if it was not."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
