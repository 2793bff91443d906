"""The core's errors as the app says them: the remedy is a key or a field of the form, never a flag."""

from __future__ import annotations

from ..config import display_name
from ..errors import (AlreadyTrained, CorpusTooShort, DamagedRun, FixedOnResume, NotAFolder, NotARunFolder,
                      NotDecodable, NothingToResume, RunExists, SettingError, UnseenCharacters, UserError)
from ..events import Failed


def field(name: str) -> str:
    """A knob as the settings form labels it ("learning rate")."""
    return display_name(name).replace("-", " ")


def say(error: UserError) -> str:
    match error:
        case SettingError(name=name, requirement=requirement):
            return f"{field(name)} must be {requirement}"
        case FixedOnResume(name=name, value=value, saved=saved):
            return (f"{field(name)} {value} differs from this run's {saved}: F6 resumes with the run's own "
                    "settings; F5 starts a new run in another run folder")
        case CorpusTooShort(chars=chars, seq_len=seq_len, val_fraction=fraction, minimum=minimum):
            return (f"the corpus has {chars:,} characters; seq len {seq_len} with val fraction {fraction} needs "
                    f"at least {minimum:,}: give a longer text or a smaller seq len")
        case NotDecodable(path=path, encoding=encoding, byte=byte, offset=offset, utf8=utf8):
            hint = "put its encoding in the encoding field, e.g. latin-1" if utf8 else "check the encoding field"
            return f"{path} is not valid {encoding}: byte 0x{byte} at offset {offset}; {hint}"
        case RunExists(path=path):
            return f"{path} already holds a run: F6 resumes it, or choose another run folder"
        case NothingToResume(path=path):
            return f"{path} holds no run to resume: F5 starts one"
        case NotAFolder(path=path):
            return f"{path} is a file, not a folder: choose another run folder"
        case AlreadyTrained(path=path, epochs_done=epochs_done):
            return f"{path} has trained {epochs_done} epochs already: set more epochs, then F6 trains further"
        case UnseenCharacters(chars=chars):
            return (f"the corpus has {len(chars)} characters this run never saw ({''.join(sorted(chars))[:20]!r}): "
                    "resume with the run's own corpus, or start a new run in another run folder")
        case NotARunFolder(path=path):
            return f"{path} is not a run folder: train one on the training screen (ctrl+t)"
        case DamagedRun(path=path, detail=detail):
            return f"{path} is damaged{f' ({detail})' if detail else ''}: start a new run in another run folder"
    return str(error)


def say_failed(failed: Failed) -> str:
    return f"{failed.describe()}: start a new run (another run folder) with a lower learning rate"
