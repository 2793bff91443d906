"""Ghost-text suggestions: a few sampled continuations of the text before the cursor.

The writing screen asks for suggestions on every keystroke and must never wait for them, so they
are computed in one background thread that always takes the newest request and skips the ones
typing has already made stale (`LatestOnly`). Nothing here knows about the UI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

# An editor draws ghost text on the cursor's line only, so a suggestion ends at the first newline;
# drawing more than a line's worth would only be cut off.
SUGGESTION_CHARS = 40
ALTERNATIVES = 3


@dataclass(frozen=True)
class Request:
    seed: str  # the text before the cursor (at least the model's window of it)
    temperature: float
    rng_seed: int | None  # fixed: the same text always gets the same suggestions
    sampler: Any  # sampling.Sampler; typed loosely so that importing this module needs no TensorFlow


def suggestions(request: Request, count: int = ALTERNATIVES, length: int = SUGGESTION_CHARS) -> Iterator[list[str]]:
    """The continuations of `request.seed`, each cut at its first newline: first the one to show,
    alone (one sample is the fastest to compute), then up to `count` distinct ones, it first.

    The seed is primed once for both. Twice as many are sampled as wanted, so that duplicates,
    common at low temperature, still leave several alternatives.
    """
    rng = np.random.default_rng(request.rng_seed)
    primed = request.sampler.prime(request.seed)
    first = request.sampler.continue_from(primed, length, request.temperature, n=1, rng=rng)
    yield _distinct(first, count)
    more = request.sampler.continue_from(primed, length, request.temperature, n=2 * count - 1, rng=rng)
    yield _distinct(first + more, count)


def _distinct(texts: list[str], count: int) -> list[str]:
    lines: list[str] = []
    for text in texts:
        line = text.split("\n", 1)[0]
        if line and line not in lines:
            lines.append(line)
    return lines[:count]


class LatestOnly:
    """A one-slot mailbox: `put` replaces whatever was waiting; `take` waits for the newest item."""

    def __init__(self) -> None:
        self._item: Any = None
        self._ready = threading.Condition()

    def put(self, item: Any) -> None:
        with self._ready:
            self._item = item
            self._ready.notify()

    @property
    def waiting(self) -> bool:
        """Is a newer item waiting? (Then the current one need not be finished.)"""
        return self._item is not None

    def take(self, timeout: float) -> Any:
        """The newest item, or None after `timeout` seconds without one."""
        with self._ready:
            if self._item is None:
                self._ready.wait(timeout)
            item, self._item = self._item, None
            return item
