"""Ghost-text suggestions: continuations of the text before the cursor.

Two modes: predict (the default) shows the likeliest continuation, to its last likely word, and
only when it is likely enough (predict.py); sample shows a continuation sampled at a temperature,
always, for inspiration.

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

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generic, Hashable, Iterator, TypeVar

import numpy as np

from . import predict
from .adapt import Adapter
from .control import printable
from .words import Words, fuse

if TYPE_CHECKING:
    from .sampling import Sampler

# An editor draws ghost text on the cursor's line only, so a suggestion ends at the first newline;
# drawing more than a line's worth would only be cut off.
SUGGESTION_CHARS = 40
PREFIX_CHARS = 256  # the text before the cursor a request holds at least (the words' context), or the model's window
ALTERNATIVES = 3
LIKELY_NEXT = 4  # windows primed ahead, while the writer pauses
REMEMBERED = 64  # primed windows kept


PREDICT, SAMPLE = "predict", "sample"
TEMPERATURE_RANGE = (0.1, 2.0)  # the temperatures a writer can choose, in sample mode


@dataclass(frozen=True)
class Request:
    prefix: str  # the text before the cursor (at least the model's window of it)
    sampler: Sampler
    mode: str = PREDICT
    threshold: float = predict.THRESHOLD  # predict: how likely a first word must be for a ghost to be shown
    temperature: float = 0.5  # sample
    seed: int | None = None  # sample: the random seed; fixed, the same text always gets the same suggestions
    adapt: bool = False  # suggest with a copy of the model that learns from the text as it is written (adapt.py)
    words: Words | None = None  # predict: complete the word at the cursor with these words' help (words.py)
    document: Hashable = None  # adapting: the text the prefix is from (each text adapts its own copy)


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
    """The continuations of `request.prefix`, each on the cursor's line: first the one to show, alone
    (none: nothing to show), then up to `count` distinct ones, it first (unless `stop()` says they
    are no longer wanted).

    The prefix is primed once for all. In predict mode one search finds them all, grown while the
    text stays `predict.GROWTH` of the threshold likely. In sample mode twice as many are sampled as
    wanted, so that duplicates, common at low temperature, still leave several alternatives; one at
    a time, so that a new keystroke waits for one sample at most (a few samples in one batch cost no
    less here).
    """
    primed = (primes or Primes(request.sampler)).prime(request.prefix)
    if request.mode == PREDICT:
        floor = request.threshold * predict.GROWTH
        found = predict.likeliest(request.sampler, primed, floor, length)
        if request.words is not None:
            found = fuse(found, request.prefix, request.sampler, primed, request.words)
        shown = [printable(c.text) for c in predict.best_and_alternatives(found, request.threshold, count)]
        yield shown[:1]
        yield shown
        return
    rng = np.random.default_rng(request.seed)
    texts = request.sampler.continue_from(primed, length, request.temperature, n=1, rng=rng)
    yield _distinct(texts, count)
    for _ in range(2 * count - 1):
        if stop():
            return
        texts += request.sampler.continue_from(primed, length, request.temperature, n=1, rng=rng)
    yield _distinct(texts, count)


def prefix_chars(sampler: Sampler) -> int:
    """How much of the text before the cursor a request for `sampler` holds."""
    return max(PREFIX_CHARS, sampler.seq_len)


def kept_after(alternatives: list[str], choice: int, typed: str) -> tuple[list[str], int] | None:
    """The alternatives once `typed` is typed (or accepted) at the cursor, where the shown one,
    `alternatives[choice]`, goes on with it: the rest of each that does, and the shown one's place
    among them. None when the shown one does not go on with `typed` (a new suggestion is wanted)."""
    shown = alternatives[choice] if alternatives else ""
    if not typed or not shown.startswith(typed) or len(shown) == len(typed):
        return None
    rest = [a[len(typed):] for a in alternatives if a.startswith(typed) and len(a) > len(typed)]
    return rest, rest.index(shown[len(typed):])


def _distinct(texts: list[str], count: int) -> list[str]:
    lines: list[str] = []
    for text in texts:
        line = printable(text.split("\n", 1)[0])  # a terminal would obey a control character
        if line and line not in lines:
            lines.append(line)
    return lines[:count]


class Suggester:
    """Answers suggestion requests in the thread that calls `serve`, the newest request first.

    Requests that ask to adapt are answered with an `Adapter`'s copy of their model (one for each
    `Request.document`), which learns from the text between keystrokes, in this same thread: a step
    waits for no lock and never runs while a request waits, so a keystroke waits for at most one
    step (a few milliseconds)."""

    def __init__(self) -> None:
        self.requests: LatestOnly[Request] = LatestOnly()
        self.primes: Primes | None = None
        self.adapter: Adapter | None = None  # the last request's document's
        self.adapters: dict[Hashable, Adapter] = {}
        self._restarts: dict[Hashable, str] = {}  # by document, the text to read first when adapting anew
        self._last: Request | None = None

    def ask(self, request: Request) -> None:
        self.requests.put(request)

    def restart_adaptation(self, text: str, document: Hashable = None) -> None:
        """Adapt anew from the loaded model (a document was opened, or a model loaded), reading `text`
        (the text before the cursor) first."""
        self._restarts[document] = text

    def forget(self, document: Hashable) -> None:
        """The document was closed: its adapted copy goes (a new one starts if it is asked about again)."""
        self.adapters.pop(document, None)

    def serve(self, deliver: Callable[[Request, list[str]], None], cancelled: Callable[[], bool]) -> None:
        """Until `cancelled()`: answer each request with `deliver(request, alternatives)` (twice: the
        one to show, then all), then, while no request waits, prime the likely next windows, and adapt."""
        while not cancelled():
            request = self.requests.take(timeout=0 if self._can_adapt() else 0.2)
            if request is None:
                if self._can_adapt():
                    self._adapt_once()
                continue
            answered = self._with_model(request)
            stale = lambda: self.requests.waiting  # noqa: E731 - typing went on
            for alternatives in suggestions(answered, primes=self.primes, stop=stale):
                deliver(request, alternatives)
            if not stale():
                self._prime_ahead(request.prefix)

    def _with_model(self, request: Request) -> Request:
        """The request, answered by the model it names or, adapting, by its document's adapted copy."""
        self._last = request
        if request.words is not None:
            request.words.follow(request.prefix)
        if request.adapt:
            restart = self._restarts.pop(request.document, None)
            adapter = self.adapters.get(request.document)
            if restart is not None or adapter is None or adapter.base is not request.sampler:
                adapter = self.adapters[request.document] = Adapter(request.sampler)
                adapter.feed(restart or "")
            self.adapter = adapter
            self.adapter.follow(request.prefix)
            request = dataclasses.replace(request, sampler=self.adapter.sampler)
        if self.primes is None or self.primes.sampler is not request.sampler:
            self.primes = Primes(request.sampler)
        return request

    def _can_adapt(self) -> bool:
        return bool(self._last and self._last.adapt and self.adapter and self.adapter.ready)

    def _adapt_once(self) -> None:
        """One step on the text waiting to be read; the primed windows are the old weights', so they go."""
        self.adapter.step()
        self.primes = Primes(self.adapter.sampler)
        if not self.adapter.ready:
            self._prime_ahead(self._last.prefix)

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
