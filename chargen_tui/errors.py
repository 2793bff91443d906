"""The errors a user sees: each says what is wrong; the CLI and the app say what to do.

`UserError` is a sentence true wherever it is shown ("... does not exist: check the path"). The
typed errors below are the ones whose remedy is a setting: the CLI names a flag (`--resume`), the
app a key or a field. Their fields carry what each needs to say so; `str()` is the wording for
Python code (the setting's own name), which the CLI and the app replace with their own.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input or settings. Shown as one line, never a traceback."""


class SettingError(UserError):
    """A knob's value is impossible: `name` (a Config field) must be `requirement`."""

    def __init__(self, name: str, requirement: str):
        super().__init__(f"{name} must be {requirement}")
        self.name, self.requirement = name, requirement


class FixedOnResume(UserError):
    """A resumed run was given another value of a knob that defines its model or data."""

    def __init__(self, name: str, value: object, saved: object):
        super().__init__(f"{name} {value} differs from this run's {saved}: resume with the run's setting, "
                         "or start a new run folder")
        self.name, self.value, self.saved = name, value, saved


class CorpusTooShort(UserError):
    def __init__(self, chars: int, seq_len: int, val_fraction: float, minimum: int):
        super().__init__(f"the corpus has {chars:,} characters; seq_len {seq_len} with val_fraction "
                         f"{val_fraction} needs at least {minimum:,}: give a longer text or a smaller seq_len")
        self.chars, self.seq_len, self.val_fraction, self.minimum = chars, seq_len, val_fraction, minimum


class NotDecodable(UserError):
    """A file is not valid text in `encoding` (byte `byte` at `offset`)."""

    def __init__(self, path: Path, encoding: str, byte: str, offset: int, utf8: bool):
        super().__init__(f"{path} is not valid {encoding}: byte 0x{byte} at offset {offset}; "
                         + ("give its encoding, e.g. latin-1" if utf8 else "check the encoding"))
        self.path, self.encoding, self.byte, self.offset, self.utf8 = path, encoding, byte, offset, utf8


class RunFolderError(UserError):
    """The run folder (or its file `path`) does not fit the request."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path} {problem}")
        self.path, self.problem = path, problem


class RunExists(RunFolderError):
    def __init__(self, path: Path):
        super().__init__(path, "already holds a run: resume it, or choose another run folder")


class NothingToResume(RunFolderError):
    def __init__(self, path: Path):
        super().__init__(path, "holds no run to resume: start a new one")


class NotAFolder(RunFolderError):
    def __init__(self, path: Path):
        super().__init__(path, "is a file, not a folder: choose another run folder")


class AlreadyTrained(RunFolderError):
    def __init__(self, path: Path, epochs_done: int):
        super().__init__(path, f"has trained {epochs_done} epochs already: give more epochs to train further")
        self.epochs_done = epochs_done


class UnseenCharacters(RunFolderError):
    """A resumed run's corpus holds characters its vocabulary lacks."""

    def __init__(self, path: Path, chars: set[str]):
        shown = "".join(sorted(chars))[:20]
        super().__init__(path, f"was trained on a corpus without {len(chars)} of this corpus' characters "
                         f"({shown!r}): resume with the run's own corpus, or start a new run folder")
        self.chars = chars


class NotARunFolder(RunFolderError):
    def __init__(self, path: Path):
        super().__init__(path, "is not a run folder: train a model into it first")


class DamagedRun(RunFolderError):
    """A file of a run folder (`path`) cannot be used; `detail` says how, when more is known."""

    def __init__(self, path: Path, detail: str = ""):
        super().__init__(path, f"is damaged{f' ({detail})' if detail else ''}: start a new run in another folder")
        self.detail = detail
