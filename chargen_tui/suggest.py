"""Ghost-text suggestions: a few sampled continuations of the text before the cursor.

The writing screen asks for suggestions on every keystroke and must never wait for them, so a
`Suggester` computes them in one background thread that always takes the newest request and skips
the ones typing has already made stale (`LatestOnly`). Nothing here knows about the UI.

Most of a suggestion's cost is priming the LSTM with the prefix's window (100 steps of a 512-unit
LSTM: ~7 ms here). While the writer pauses between keys, the Suggester primes the windows the next
key is likeliest to make (the model's own likeliest next characters), and it remembers recent
windows (Backspace returns to one), so a keystroke often finds its window primed already. A primed
state depends only on the window, so the suggestions are exactly what they would be without it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generic, Iterator, TypeVar

import numpy as np

from .control import printable

if TYPE_CHECKING:
    from .sampling import Sampler

# An editor draws ghost text on the cursor's line only, so a suggestion ends at the first newline;
# drawing more than a line's worth would only be cut off.
SUGGESTION_CHARS = 40
ALTERNATIVES = 3
LIKELY_NEXT = 4  # windows primed ahead, while the writer pauses
REMEMBERED = 64  # primed windows kept


@dataclass(frozen=True)
class Request:
    prefix: str  # the text before the cursor (at least the model's window of it)
    temperature: float
    seed: int | None  # the random seed; fixed, the same text always gets the same suggestions
    sampler: Sampler


class Primes:
    """A sampler's primed states by window (the prefix's last `seq_len` characters), most recently used last."""

    def __init__(self, sampler: "Sampler") -> None:
        self.sampler = sampler
        self._states: OrderedDict[str, tuple] = OrderedDict()

    def prime(self, prefix: str) -> tuple:
        context = self.sampler.context(prefix)  # all that `Sampler.prime` reads of the prefix
        if context in self._states:
            self._states.move_to_end(context)
        else:
            self._states[context] = self.sampler.prime_context(context)
            if len(self._states) > REMEMBERED:
                self._states.popitem(last=False)
        return self._states[context]

    def has(self, prefix: str) -> bool:
        """Is the window of `prefix` primed already?"""
        return self.sampler.context(prefix) in self._states

    def likely_next(self, prefix: str, count: int) -> list[str]:
        """The `count` characters the model finds likeliest after `prefix`."""
        logits = self.prime(prefix)[1][0]
        best = [int(i) for i in np.argsort(logits)[::-1] if i not in (0, self.sampler.vocab.end_of_text)]
        return [self.sampler.vocab.decode([i]) for i in best[:count]]  # 0 is padding


def suggestions(request: Request, count: int = ALTERNATIVES, length: int = SUGGESTION_CHARS,
                primes: Primes | None = None, stop: Callable[[], bool] = lambda: False) -> Iterator[list[str]]:
    """The continuations of `request.prefix`, each cut at its first newline: first the one to show,
    alone, then up to `count` distinct ones, it first (unless `stop()` says they are no longer wanted).

    The prefix is primed once for all. Twice as many are sampled as wanted, so that duplicates,
    common at low temperature, still leave several alternatives; one at a time, so that a new
    keystroke waits for one sample at most (a few samples in one batch cost no less here).
    """
    rng = np.random.default_rng(request.seed)
    primed = (primes or Primes(request.sampler)).prime(request.prefix)
    texts = request.sampler.continue_from(primed, length, request.temperature, n=1, rng=rng)
    yield _distinct(texts, count)
    for _ in range(2 * count - 1):
        if stop():
            return
        texts += request.sampler.continue_from(primed, length, request.temperature, n=1, rng=rng)
    yield _distinct(texts, count)


def _distinct(texts: list[str], count: int) -> list[str]:
    lines: list[str] = []
    for text in texts:
        line = printable(text.split("\n", 1)[0])  # a terminal would obey a control character
        if line and line not in lines:
            lines.append(line)
    return lines[:count]


class Suggester:
    """Answers suggestion requests in the thread that calls `serve`, the newest request first."""

    def __init__(self) -> None:
        self.requests: LatestOnly[Request] = LatestOnly()
        self.primes: Primes | None = None

    def ask(self, request: Request) -> None:
        self.requests.put(request)

    def serve(self, deliver: Callable[[str, list[str]], None], cancelled: Callable[[], bool]) -> None:
        """Until `cancelled()`: answer each request with `deliver(prefix, alternatives)` (twice: the
        one to show, then all), then, while no request waits, prime the likely next windows."""
        while not cancelled():
            request = self.requests.take(timeout=0.2)
            if request is None:
                continue
            if self.primes is None or self.primes.sampler is not request.sampler:
                self.primes = Primes(request.sampler)
            stale = lambda: self.requests.waiting  # noqa: E731 - typing went on
            for alternatives in suggestions(request, primes=self.primes, stop=stale):
                deliver(request.prefix, alternatives)
            if not stale():
                self._prime_ahead(request.prefix)

    def _prime_ahead(self, prefix: str) -> None:
        for char in self.primes.likely_next(prefix, LIKELY_NEXT):
            if self.requests.waiting:
                return
            self.primes.prime(prefix + char)


T = TypeVar("T")


class LatestOnly(Generic[T]):
    """A one-slot mailbox: `put` replaces whatever was waiting; `take` waits for the newest item."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._ready = threading.Condition()

    def put(self, item: T) -> None:
        with self._ready:
            self._item = item
            self._ready.notify()

    @property
    def waiting(self) -> bool:
        """Is a newer item waiting? (Then the current one need not be finished.)"""
        return self._item is not None

    def take(self, timeout: float) -> T | None:
        """The newest item, or None after `timeout` seconds without one."""
        with self._ready:
            if self._item is None:
                self._ready.wait(timeout)
            item, self._item = self._item, None
            return item
