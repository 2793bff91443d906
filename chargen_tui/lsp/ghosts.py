"""The writing screen's suggestions for the documents an editor has open, awaited from asyncio.

One thread loads the model; one `Suggester` thread answers (suggest.py), as in the app: the newest
request first, a copy of the model adapting to each document between requests, the writer's words
learned as they are written (words.py, memory.py). A request waits on a future that the
suggestions' thread resolves; a request that a newer one makes stale is answered with nothing, as
the app drops a stale suggestion. Nothing here knows the protocol.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Callable, Hashable

from ..errors import UserError
from ..memory import Memory
from ..run_dir import RunDir
from ..sampling import Sampler
from ..suggest import Request, Suggester
from ..words import Learned, Words
from .settings import Settings

SAVE_SECONDS = 5.0  # what was learned is written this often, when it changed (as the app does)


class Ghosts:
    def __init__(self, run: RunDir, settings: Settings, memory_folder: Path | None = None,
                 say: Callable[[str], None] = lambda problem: None) -> None:
        """`say` is told, in the event loop's thread, each problem the writer should see."""
        self.run, self.settings, self.say = run, settings, say
        self.memory_folder = memory_folder  # None: the user's data folder (memory.py)
        self.memory = Memory(None)
        self.sampler: Sampler | None = None  # until loaded
        self.suggester = Suggester()
        self._words: Words | None = None  # the model's words, which each document's share
        self._documents: dict[Hashable, Words] = {}  # each open document's words (what it has seen)
        self._paths: dict[Hashable, Path | None] = {}
        self._asked: Request | None = None  # the newest request, and its answers so far
        self._answers: list[list[str]] = []
        self._waiting: list[tuple[asyncio.Future, int]] = []  # each with the answers it waits for
        self._stopped = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- life -------------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._read_memory()
        threading.Thread(target=self._load_model, name="chargen-load", daemon=True).start()
        threading.Thread(target=self._serve, name="chargen-suggest", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        self.save_memory()
        self._drop_waiting()

    def _read_memory(self) -> None:
        if not self.settings.memory:
            return
        try:
            self.memory = Memory.load(self.memory_folder)
        except UserError as error:  # a damaged file stays as it is; this session learns without keeping
            self._say(f"{error}; until then, nothing learned is kept")

    def _load_model(self) -> None:
        try:
            sampler = Sampler.from_npz(self.run) or Sampler.from_run_dir(self.run)
            words = Words.for_run(self.run, sampler, self._learned())
            words.sources  # read here (~0.2 s), not on the first keystroke
        except Exception as error:  # noqa: BLE001 - whatever it is, the writer must see it, and no ghost is shown
            self._say(f"the model could not be loaded: {error}")
            return
        self._call(self._use_model, sampler, words)

    def _use_model(self, sampler: Sampler, words: Words) -> None:
        self.sampler, self._words = sampler, words
        self._documents.clear()  # each document's words are made anew with the model's

    def _serve(self) -> None:
        try:
            self.suggester.serve(lambda request, answer: self._call(self._answer, request, answer),
                                 self._stopped.is_set)
        except Exception as error:  # noqa: BLE001 - the thread ends; say why, and answer nothing from now on
            self._stopped.set()
            self._say(f"suggestions stopped ({type(error).__name__}: {error})")
            self._call(self._drop_waiting)

    def _call(self, function: Callable, *args) -> None:
        """Run `function` in the event loop's thread (from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(function, *args)

    def _say(self, problem: str) -> None:
        self._call(self.say, problem)

    # --- documents and settings -------------------------------------------------------------
    def opened(self, document: Hashable, path: Path | None) -> None:
        """A document was opened (`path`: its file, if it has one): what it holds is not learned."""
        self._paths[document] = path
        self._documents.pop(document, None)

    def closed(self, document: Hashable) -> None:
        self._paths.pop(document, None)
        self._documents.pop(document, None)
        self.suggester.forget(document)

    def configure(self, settings: Settings) -> None:
        memory_switched = settings.memory != self.settings.memory
        if memory_switched:
            self.save_memory()  # what was learned so far, if the memory was on
        self.settings = settings
        if memory_switched:
            self.memory = Memory(None)
            self._read_memory()
            if self._words is not None:
                self._words = Words(self._words.sources, self._learned())
            self._documents.clear()

    def _learned(self) -> Learned:
        return self.memory.learned if self.settings.memory else Learned()

    def _words_of(self, document: Hashable) -> Words:
        words = self._documents.get(document)
        if words is None:
            words = self._documents[document] = Words(self._words.sources, self._words.learned)
            words.skip_to()  # the text already there is not the writer's typing now
            words.paused = self.memory.is_paused(self._paths.get(document))
        return words

    def save_memory(self) -> None:
        """Write what was learned if it changed (every few seconds, and when the server stops)."""
        if not self.settings.memory:
            return
        try:
            self.memory.save_if_changed()
        except (UserError, OSError) as error:
            self.say(f"what was learned is not kept: {error}")

    # --- suggestions ------------------------------------------------------------------------
    async def suggest(self, document: Hashable, prefix: str, everything: bool,
                      read_first: Callable[[], str]) -> list[str] | None:
        """The continuations of `prefix` (the text before the cursor, at least the model's window):
        the one to show alone, or with `everything` all the alternatives, it first; None when
        there is none to give (no model yet, or a newer request made this one stale).
        `read_first()` gives the text a document's adapted copy reads before its first suggestion."""
        if self.sampler is None or self._stopped.is_set():
            return None
        settings = self.settings
        if settings.adapting and document not in self.suggester.adapters:
            self.suggester.restart_adaptation(read_first(), document)
        request = Request(prefix, self.sampler, settings.mode, settings.threshold, settings.temperature,
                          adapt=settings.adapting, words=self._words_of(document), document=document)
        if request != self._asked:
            self._drop_waiting()
            self._asked, self._answers = request, []
            self.suggester.ask(request)
        wanted = 2 if everything else 1
        if len(self._answers) >= wanted:
            return self._answers[wanted - 1]
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append((waiter, wanted))
        return await waiter

    def _answer(self, request: Request, answer: list[str]) -> None:
        if request is not self._asked:
            return  # a stale request's: its waiters were answered with nothing
        self._answers.append(answer)
        still = []
        for waiter, wanted in self._waiting:
            if len(self._answers) < wanted:
                still.append((waiter, wanted))
            elif not waiter.done():  # done: cancelled by the client
                waiter.set_result(answer)
        self._waiting = still

    def _drop_waiting(self) -> None:
        for waiter, _ in self._waiting:
            if not waiter.done():
                waiter.set_result(None)
        self._waiting = []

