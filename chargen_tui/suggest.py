"""Ghost-text suggestions: a few sampled continuations of the text before the cursor.

The writing screen asks for suggestions on every keystroke and must never wait for them, so they
are computed in one background thread that always takes the newest request and skips the ones
typing has already made stale (`LatestOnly`). Nothing here knows about the UI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

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


def suggestions(request: Request, count: int = ALTERNATIVES, length: int = SUGGESTION_CHARS) -> list[str]:
    """Up to `count` distinct continuations of `request.seed`, each cut at its first newline.

    Twice as many are sampled (in one batch, nearly free) so that duplicates, common at low
    temperature, still leave several alternatives. They keep the sampler's order.
    """
    texts = request.sampler.generate(request.seed, length, temperature=request.temperature, n=2 * count,
                                     seed=request.rng_seed)
    distinct: list[str] = []
    for text in texts:
        line = text.split("\n", 1)[0]
        if line and line not in distinct:
            distinct.append(line)
    return distinct[:count]


class LatestOnly:
    """A one-slot mailbox: `put` replaces whatever was waiting; `take` waits for the newest item."""

    def __init__(self) -> None:
        self._item: Any = None
        self._ready = threading.Condition()

    def put(self, item: Any) -> None:
        with self._ready:
            self._item = item
            self._ready.notify()

    def take(self, timeout: float) -> Any:
        """The newest item, or None after `timeout` seconds without one."""
        with self._ready:
            if self._item is None:
                self._ready.wait(timeout)
            item, self._item = self._item, None
            return item
