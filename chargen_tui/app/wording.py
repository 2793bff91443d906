"""The core's errors as the app says them (knobs are fields of the form, remedies are keys), and
any string from outside as the app shows it.

Textual's widgets read their strings as markup and draw what is left raw: a path or an error that
quotes a file's text could carry an escape sequence to the terminal, or markup. So every such
string is shown through `shown` (`control.printable`, the one picture rule, and markup escaped).
"""

from __future__ import annotations

from ..config import display_name
from ..control import printable
from ..errors import (AlreadyTrained, BaseFixes, BudgetSpent, CorpusTooShort, DamagedRun, DevicesChanged, FixedOnResume,
                      NoCheckpoint, NotAFolder, NotARunFolder, NotDecodable, NothingToResume, NoTexts, Remedy,
                      RunExists, RunInUse, StillTraining, TooManyDevices, UnseenCharacters, UserError, word)
from ..events import Failed

# What to do about each kind of error the core raises, in keys and fields (see errors.word).
REMEDIES: dict[type, Remedy] = {
    NoTexts: "check the texts field, or empty it to read the file as one stream",
    FixedOnResume: "F6 resumes with the run's own settings; F5 starts a new run in another run folder",
    CorpusTooShort: "give a longer text or a smaller seq len",
    NotDecodable: lambda error: "put its encoding in the encoding field, e.g. latin-1" if error.utf8
    else "check the encoding field",
    RunExists: "F6 resumes it, or choose another run folder",
    NothingToResume: "F5 starts one",
    NotAFolder: "choose another run folder",
    NotARunFolder: "train one on the training screen (ctrl+t)",
    AlreadyTrained: "set more epochs, then F6 trains further",
    BudgetSpent: "write with it (ctrl+t), or start a new run with a larger time budget",
    UnseenCharacters: "resume with the run's own corpus, or start a new run in another run folder",
    DamagedRun: "start a new run in another run folder",
    StillTraining: "start from it when it has finished, or from another run",
    RunInUse: "wait for it to end, or choose another run folder",
    NoCheckpoint: "F5 starts a new run in another run folder (or delete this one first)",
    TooManyDevices: "give at most that many in the devices field, or all",
    DevicesChanged: lambda error: f"set devices to {error.trained}, then F6 resumes it; F5 starts a new run elsewhere",
    BaseFixes: lambda error: f"set {field_name(error.name)} to {error.base}: a run that starts from a model keeps its size",
}


def field_name(name: str) -> str:
    """A knob as the settings form labels it ("learning rate")."""
    return display_name(name).replace("-", " ")


def shown(text: object) -> str:
    """A string from outside (a path, a file's name, an error quoting them) for a markup string.

    Textual's parser reads "\\[" as a literal "[" and keeps any backslashes before it, so escaping
    each "[" is exact; textual.markup.escape also doubles a backslash before a bracket, which the
    parser then shows twice (Textual 8.2).
    """
    return printable(str(text)).replace("[", "\\[")


def say(error: UserError) -> str:
    """The error as the app shows it (in markup: quoted paths come through `shown`)."""
    return shown(word(error, field_name, REMEDIES))


def say_failed(failed: Failed) -> str:
    return f"{failed.describe()}: start a new run (another run folder) with a lower learning rate"
