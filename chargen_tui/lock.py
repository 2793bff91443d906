"""One writer per run folder: an advisory lock that a writer holds from planning to the end of training.

The lock is `fcntl.flock(LOCK_EX | LOCK_NB)` on the file `.lock` in the folder. The kernel releases it
when its process ends, however it ends: a lock file left by a killed process blocks no one, and there
is nothing to clean up. The holder writes its process id into the file, so that a second writer can
say who holds the folder. Only writers lock: readers (watch mode, the writing screen, a run started
from this one) read files that are each replaced atomically.

A forked child (the data loader's worker processes) would share the lock and keep it after a killed
parent: children close their copy as they start (`os.register_at_fork`), which leaves the parent's
lock held.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import weakref
from pathlib import Path

from .errors import RunInUse
from .files import open_no_follow

LOCK_NAME = ".lock"


class FolderLock:
    """This process' hold on a folder: `take` it, write, then `release` it (letting the object go
    releases it too)."""

    def __init__(self, folder: Path, fd: int, made: Path | None):
        self.folder = folder
        self.made = made  # the outermost folder `take` made (the folder, or one above it); None: all were there
        self._fd: int | None = fd
        _held.add(self)

    @classmethod
    def take(cls, folder: Path) -> FolderLock:
        """Hold `folder` (made if missing) for this process. RunInUse if another process holds it (or
        another FolderLock of this one); LinkRefused if its lock file is a symbolic link."""
        _close_locks_in_forked_children()
        made = _make_folders(folder)
        try:
            return cls(folder, _lock(folder / LOCK_NAME), made)
        except BaseException:
            _remove_empty(folder, made)
            raise

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let the folder go (once; again does nothing)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def remove_made(self) -> None:
        """Delete the folder if `take` made it, with what is in it (the lock is held: this attempt's
        files), and the folders made above it that are empty: for a first attempt that failed. Another
        run may have been made beside it meanwhile: those folders are only removed empty."""
        if self.made is not None and self.held:
            shutil.rmtree(self.folder, ignore_errors=True)
            if self.made != self.folder:
                _remove_empty(self.folder.parent, self.made)

    def __del__(self) -> None:
        self.release()


def _lock(path: Path) -> int:
    """An open descriptor of the lock file `path`, locked; our process id written in it."""
    while True:
        fd = open_no_follow(path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RunInUse(path.parent, holder) from None
        except BaseException:
            os.close(fd)
            raise
        if _still_there(fd, path):
            break
        os.close(fd)  # the holder removed the folder it made (its attempt failed) as we opened it: again
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _holder(fd: int) -> int | None:
    """The process id the holder wrote; None if it has not written it yet."""
    try:
        return int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError):
        return None


def _still_there(fd: int, path: Path) -> bool:
    """Is the file we locked still the one at `path` (not removed, or replaced, since we opened it)?"""
    try:
        here = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _make_folders(folder: Path) -> Path | None:
    """Make `folder` and its missing parents; the outermost one made here, or None."""
    missing = []
    path = folder
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    made = None
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # another process made it meanwhile: not ours to remove
            made = None
            continue
        made = made or path
    return made


def _remove_empty(folder: Path, made: Path | None) -> None:
    """Remove `folder` and the parents up to `made` that are empty (a lock refused in a folder just made)."""
    if made is None:
        return
    path = folder
    while True:
        try:
            path.rmdir()
        except OSError:
            return
        if path == made:
            return
        path = path.parent


_held: weakref.WeakSet[FolderLock] = weakref.WeakSet()
_watching_forks = False


def _close_locks_in_forked_children() -> None:
    """From the first lock on, a forked child closes its copies of the locks (once per process)."""
    global _watching_forks
    if not _watching_forks:
        os.register_at_fork(after_in_child=_forget_locks)
        _watching_forks = True


def _forget_locks() -> None:
    for lock in list(_held):
        lock.release()
