"""The errors a user sees: each says what is wrong, and the CLI and the app say what to do.

`UserError` is one sentence true wherever it is shown ("... does not exist: check the path"). A
`Fixable` error is one whose remedy is a setting: it gives only the problem, naming any knob
through the function it is handed (the CLI's `--seq-len`, the app's "seq len"), and the CLI and
the app each add the remedy in their own terms (a flag; a key or a field). `str()` of it is the
wording for Python code: knobs by their field names, and the `remedy` below.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Union

from .control import printable

Namer = Callable[[str], str]  # a knob's field name -> how the reader knows it
Remedy = Union[str, Callable[["Fixable"], str]]  # what to do about a kind of error (given the error)


class UserError(Exception):
    """Bad input or settings. Shown as one line, never a traceback.

    Its text may quote a path or a file's text, so it is always shown through the picture rule
    (control.printable): in a notebook's or a script's traceback too.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


class Fixable(UserError):
    remedy = ""  # what to do, in Python terms
    then = ": "  # between the problem and the remedy

    def problem(self, knob: Namer = str) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return printable(f"{self.problem()}{self.then}{self.remedy}" if self.remedy else self.problem())


def word(error: UserError, knob: Namer, remedies: Mapping[type, Remedy]) -> str:
    """`error` as one line for a reader who knows knobs as `knob(name)` and is told what to do by
    `remedies` (by the error's kind; a kind not there gets no remedy: its problem says it all)."""
    if not isinstance(error, Fixable):
        return str(error)
    remedy = remedies.get(type(error), "")
    remedy = remedy(error) if callable(remedy) else remedy
    return printable(f"{error.problem(knob)}{error.then}{remedy}" if remedy else error.problem(knob))


class SettingError(Fixable):
    """A knob's value is impossible: `name` must be `requirement` (which includes the value given)."""

    def __init__(self, name: str, requirement: str):
        super().__init__(name, requirement)
        self.name, self.requirement = name, requirement

    def problem(self, knob: Namer = str) -> str:
        return f"{knob(self.name)} must be {self.requirement}"


class FixedOnResume(Fixable):
    """A resumed run was given another value of a knob that defines its model, optimiser or data."""
    remedy = "resume with the run's setting, or start a new run folder"

    def __init__(self, name: str, value: object, saved: object):
        super().__init__(name, value, saved)
        self.name, self.value, self.saved = name, value, saved

    def problem(self, knob: Namer = str) -> str:
        value, saved = ("none" if v is None else v for v in (self.value, self.saved))
        return f"{knob(self.name)} {value} differs from this run's {saved}"


class CorpusTooShort(Fixable):
    remedy = "give a longer text or a smaller seq_len"

    def __init__(self, chars: int, seq_len: int, val_fraction: float, minimum: int):
        super().__init__(chars, seq_len, val_fraction, minimum)
        self.chars, self.seq_len, self.val_fraction, self.minimum = chars, seq_len, val_fraction, minimum

    def problem(self, knob: Namer = str) -> str:
        return (f"the corpus has {self.chars:,} characters; {knob('seq_len')} {self.seq_len} with "
                f"{knob('val_fraction')} {self.val_fraction} needs at least {self.minimum:,}")


class NoTexts(Fixable):
    """The texts mode found no text in the corpus (a file of separators only)."""
    remedy = "check texts, or leave it out to read the file as one stream"

    def __init__(self, corpus: str, mode: str):
        super().__init__(corpus, mode)
        self.corpus, self.mode = corpus, mode

    def problem(self, knob: Namer = str) -> str:
        return f"{self.corpus} has no texts: {knob('texts')} {self.mode} finds only empty ones"


class NotDecodable(Fixable):
    """A file is not valid text in `encoding`: the byte `byte` (hex) at `offset` is not."""
    then = "; "  # the problem has a colon of its own

    def __init__(self, path: Path, encoding: str, byte: str, offset: int):
        super().__init__(path, encoding, byte, offset)
        self.path, self.encoding, self.byte, self.offset = path, encoding, byte, offset
        self.utf8 = codecs.lookup(encoding).name == "utf-8"  # then the file is likely in another one

    @property
    def remedy(self) -> str:
        return "give its encoding, e.g. encoding='latin-1'" if self.utf8 else "check the encoding"

    def problem(self, knob: Namer = str) -> str:
        return f"{self.path} is not valid {self.encoding}: byte 0x{self.byte} at offset {self.offset}"


class RunFolderError(Fixable):
    """The run folder `path` does not fit what was asked of it: `is_wrong` says how."""
    is_wrong = "does not fit"

    def __init__(self, path: Path, *details: object):
        super().__init__(path, *details)
        self.path = path

    def problem(self, knob: Namer = str) -> str:
        return f"{self.path} {self.is_wrong}"


class RunExists(RunFolderError):
    is_wrong, remedy = "already holds a run", "resume it, or choose another run folder"


class NothingToResume(RunFolderError):
    is_wrong, remedy = "holds no run to resume", "start a new one"


class NotAFolder(RunFolderError):
    is_wrong, remedy = "is a file, not a folder", "choose another run folder"


class NotARunFolder(RunFolderError):
    is_wrong, remedy = "is not a run folder", "train a model into it first"


class AlreadyTrained(RunFolderError):
    remedy = "give more epochs to train further"

    def __init__(self, path: Path, epochs_done: int):
        super().__init__(path, epochs_done)
        self.epochs_done = epochs_done

    def problem(self, knob: Namer = str) -> str:
        return f"{self.path} has trained {self.epochs_done} epochs already"


class BudgetSpent(RunFolderError):
    """A time-budget run resumed after its budget was spent: its schedule is over."""
    remedy = "write with it, or start a new run folder with a larger time budget"

    def __init__(self, path: Path, budget: float):
        super().__init__(path, budget)
        self.budget = budget

    def problem(self, knob: Namer = str) -> str:
        return f"{self.path} has trained its {knob('time_budget')} of {self.budget:g} s already"


class UnseenCharacters(RunFolderError):
    """A resumed run's corpus holds characters that its vocabulary lacks."""
    remedy = "resume with the run's own corpus, or start a new run folder"

    def __init__(self, path: Path, chars: set[str]):
        super().__init__(path, chars)
        self.chars = chars

    def problem(self, knob: Namer = str) -> str:
        return f"the corpus has {len(self.chars)} characters this run never saw ({''.join(sorted(self.chars))[:20]!r})"


class DamagedRun(RunFolderError):
    """A file of a run folder (`path`) cannot be used; `detail` says how, when more is known."""
    remedy = "start a new run in another folder"

    def __init__(self, path: Path, detail: str = ""):
        super().__init__(path, detail)
        self.detail = detail

    def problem(self, knob: Namer = str) -> str:
        return f"{self.path} is damaged{f' ({self.detail})' if self.detail else ''}"


class StillTraining(RunFolderError):
    """A run to start from is training now (its progress file is fresh): its model is not final."""
    is_wrong, remedy = "is still training", "start from it when it has finished, or from another run"


class RunInUse(RunFolderError):
    """Another process holds the run folder for writing (lock.py): one writer at a time. `pid`: its
    process id, when it has written it yet."""
    remedy = "wait for it to end, or choose another run folder"

    def __init__(self, path: Path, pid: int | None):
        super().__init__(path, pid)
        self.pid = pid

    def problem(self, knob: Namer = str) -> str:
        if self.pid is None:
            return f"{self.path} is being written by another process"
        mine = " (this one: train or drop its earlier plan first)" if self.pid == os.getpid() else ""
        return f"{self.path} is being written by process {self.pid}{mine}"


class NoCheckpoint(RunFolderError):
    """A resumed run has its settings but no checkpoint: its training ended before the first one."""
    is_wrong = "holds a run's settings but no checkpoint to resume from"
    remedy = "start a new run in another run folder (or delete this one first)"


class LinkRefused(UserError):
    """A file or folder that chargen-tui writes is a symbolic link: writing would change where it points."""

    def __init__(self, path: Path):
        super().__init__(f"{path} is a symbolic link: chargen-tui does not write through links; remove it")
        self.path = path


class BaseFixes(Fixable):
    """A fine-tuned run was given a model size (`name`) other than its base's: the weights fix it."""
    remedy = "leave it out: a run that starts from a model keeps that model's size"

    def __init__(self, name: str, value: object, base: object):
        super().__init__(name, value, base)
        self.name, self.value, self.base = name, value, base

    def problem(self, knob: Namer = str) -> str:
        return f"{knob(self.name)} {self.value} differs from the base model's {self.base}"


class TooManyDevices(Fixable):
    """`devices` asked for more devices than this machine has (`available` of `kind`)."""
    remedy = "give at most that many, or all"

    def __init__(self, asked: int, available: int, kind: str):
        super().__init__(asked, available, kind)
        self.asked, self.available, self.kind = asked, available, kind

    def problem(self, knob: Namer = str) -> str:
        plural = "s" if self.available > 1 else ""
        return f"{knob('devices')} {self.asked}: this machine has {self.available} {self.kind}{plural}"


class DevicesChanged(Fixable):
    """A run resumed on another number of devices than it trained on (its global batch would change)."""
    then = "; "

    def __init__(self, trained: int, now: int, batch_size: int):
        super().__init__(trained, now, batch_size)
        self.trained, self.now, self.batch_size = trained, now, batch_size

    @property
    def remedy(self) -> str:  # type: ignore[override]
        return f"resume it with devices={self.trained}, or start a new run folder"

    def problem(self, knob: Namer = str) -> str:
        return (f"this run trained on {_devices(self.trained)} ({self.trained * self.batch_size} windows a step), "
                f"not {self.now}: its batches, data order and learning-rate schedule follow that number, so it "
                "resumes exactly only on as many")


def _devices(count: int) -> str:
    return "1 device" if count == 1 else f"{count} devices"


class TooFewWindows(Fixable):
    """The training text has fewer windows than there are devices to share each batch."""
    remedy = "give a longer text, or fewer devices"

    def __init__(self, windows: int, devices: int):
        super().__init__(windows, devices)
        self.windows, self.devices = windows, devices

    def problem(self, knob: Namer = str) -> str:
        return f"the training text has {self.windows} windows, too few for {self.devices} devices"
