"""What an editor can set: the writing screen's own settings, by the names its status line uses.

They come in `initializationOptions` and in `workspace/didChangeConfiguration`, either as they are
or under a "chargen-tui" key (how VS Code and lsp-mode nest a server's section). A setting with a
wrong value is refused with a line that says what it accepts, and the others still apply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..predict import THRESHOLD, THRESHOLD_RANGE
from ..suggest import PREDICT, SAMPLE, TEMPERATURE_RANGE

SECTION = "chargen-tui"


@dataclass(frozen=True)
class Settings:
    mode: str = PREDICT  # predict: the likeliest words, when likely enough; sample: a sampled continuation
    threshold: float = THRESHOLD  # predict: how likely the ghost's first word must be
    temperature: float = 0.5  # sample
    adapting: bool = True  # a copy of the model learns from each open document (adapt.py)
    memory: bool = True  # learn the writer's words and use them (memory.py); off: nothing is read or kept

    def updated(self, given: Any) -> tuple["Settings", list[str]]:
        """These settings with those `given` (a client's JSON object), and a line for each refused."""
        if isinstance(given, dict) and isinstance(given.get(SECTION), dict):
            given = given[SECTION]
        if not isinstance(given, dict):
            return self, [] if given is None else [f"settings must be an object, not {type(given).__name__}"]
        changes, problems = {}, []
        for name, value in given.items():
            problem = _problem(name, value)
            if problem:
                problems.append(f"setting {name!r} ignored: {problem}")
            else:
                changes[name] = float(value) if name in ("threshold", "temperature") else value
        return dataclasses.replace(self, **changes), problems


def _problem(name: str, value: Any) -> str | None:
    """What is wrong with a setting's value, if anything."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "mode":
        return None if value in (PREDICT, SAMPLE) else f"it is {PREDICT!r} or {SAMPLE!r}"
    if name in ("threshold", "temperature"):
        low, high = THRESHOLD_RANGE if name == "threshold" else TEMPERATURE_RANGE
        return None if number and low <= value <= high else f"it is a number from {low} to {high}"
    if name in ("adapting", "memory"):
        return None if isinstance(value, bool) else "it is true or false"
    known = ", ".join(field.name for field in dataclasses.fields(Settings))
    return f"unknown (the settings are {known})"
