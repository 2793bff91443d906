"""Files written atomically, without following links; and the folder where chargen-tui keeps its own files.

Atomic means: write a temporary file in the same folder, flush it to disk, then rename it over the
old one. A kill at any moment leaves either the old file or the new one, never half of either (and
a hidden temporary file, which `remove_leftovers` clears when the folder is next written).

Links: a symbolic link planted among the files we write (a run folder's train.log, its checkpoint/
folder, the autosave folder) would send our writes wherever it points. Files we create or append are
opened with O_NOFOLLOW (`open_no_follow`), and a folder we write into must not be a link
(`own_folder`); both refuse a link with LinkRefused. A rename replaces a link itself, never its target.
The links on the way to such a folder are the user's own setup (a run folder on another disk, a
linked ~/.cache): they are followed.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Callable

from .errors import LinkRefused


def cache_dir() -> Path:
    """Where chargen-tui keeps its own files (TensorFlow's log, autosaves): $XDG_CACHE_HOME/chargen-tui."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chargen-tui"


def data_dir() -> Path:
    """Where chargen-tui keeps what must last (the writer's memory): $XDG_DATA_HOME/chargen-tui."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "chargen-tui"


def cache_folder() -> Path:
    """`cache_dir()`, made if missing, refused if it is a link (`own_folder`): to write into."""
    return own_folder(cache_dir())


def own_folder(path: Path, mode: int = 0o777) -> Path:
    """`path` as a folder to write into, made if missing (its parents too). LinkRefused if it is a
    symbolic link: what we write there would land where it points."""
    if path.is_symlink():
        raise LinkRefused(path)
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    return path


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """`os.open` that refuses (LinkRefused) a symbolic link at `path` rather than open where it points."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, mode)
    except OSError as error:
        # ELOOP on Linux; EMLINK on FreeBSD. Also ELOOP for a loop on the way: then it is no refusal.
        if error.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
            raise LinkRefused(path) from None
        raise


def atomic_write(path: Path, write: Callable[[Path], None], private: bool = False) -> None:
    """Call `write(tmp_path)` and move the result over `path` in one rename.

    The new file keeps the old one's permissions; a new file gets the ones the umask gives, as
    `open()` would (the temporary file is created with mode 0o666, which the kernel masks). A link
    at `path` is replaced by a new file (the rename replaces the link): its target is left as it is,
    and its mode is not taken.
    `private`: the file is 0600 (its owner's only) from its creation on, whatever was there before.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"  # see _LEFTOVER
    # O_EXCL: a new file, never an existing one nor a link's target
    os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666))
    try:
        write(tmp_path)
        if not private and (mode := _file_mode(path)) is not None:
            os.chmod(tmp_path, mode)
        with open(tmp_path, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, private: bool = False) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), private)


def private_folder(path: Path) -> Path:
    """`path` as a folder only its owner can read (0700), made so if it was not (LinkRefused if a link:
    the chmod would change its target)."""
    own_folder(path, 0o700)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


# atomic_write's temporary files: ".{stem}.{8 hex digits}.tmp{suffix}"
_LEFTOVER = re.compile(r"\..+\.[0-9a-f]{8}\.tmp(\.[^.]+)?")


def remove_leftovers(folder: Path) -> None:
    """Delete the temporary files of atomic writes that a kill cut short in `folder`. Only for a writer
    that holds the folder (lock.py): another writer's temporary files would be files in progress."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if _LEFTOVER.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)


def _file_mode(path: Path) -> int | None:
    """The permissions of the regular file at `path`; None when there is none (or a link is there)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
