"""The app: two screens kept alive side by side (Textual modes), and a quit that loses nothing.

Quitting while training asks first, then stops the training after its current batch (a checkpoint
is kept, the data workers end) before the app exits. Quitting with unsaved text asks to save it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Literal

from textual import messages, on
from textual.app import App
from textual.binding import Binding

from ..control import printable
from ..run_dir import RunDir
from ..suggest import PREDICT
from .keys import browser_key
from .screens.dialogs import Choice
from .screens.training import TrainingScreen
from .screens.writing import WritingScreen
from .wording import shown

_HANG_UPS = (signal.SIGHUP, signal.SIGTERM)


class ChargenApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "chargen-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, mode: Literal["train", "write"] = "write", run: RunDir | None = None,
                 document: Path | None = None, watch: RunDir | None = None, sample_seed: int | None = None,
                 autosave_folder: Path | None = None, suggest_mode: str = PREDICT, adapting: bool = True,
                 encoding: str = "utf-8", memory_folder: Path | None = None) -> None:
        """`run`: the model to write with; `watch`: a run that another process trains, followed read only;
        `sample_seed`: a random seed that fixes the suggestions (tests); `suggest_mode`: predict or
        sample (suggest.py); `adapting`: the writing screen's model learns from the document (adapt.py);
        `encoding`: the documents' text encoding, for reading and saving them; `memory_folder`: where
        the words learned from the writer are kept (default: the user's data folder; memory.py)."""
        super().__init__()
        self.start_mode = mode
        self.leaving = False
        self.exiting = False  # the app itself asked to exit (`exit`), rather than its browser tab closing
        self.training = TrainingScreen(watched=watch)
        self.writing = WritingScreen(run, document, sample_seed=sample_seed, autosave_folder=autosave_folder,
                                     suggest_mode=suggest_mode, adapting=adapting, encoding=encoding,
                                     memory_folder=memory_folder)
        # Modes need screen factories; each returns the one instance, so switching keeps its state.
        self.add_mode("train", lambda: self.training)
        self.add_mode("write", lambda: self.writing)

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        loop = asyncio.get_running_loop()
        for hang_up in _HANG_UPS:
            loop.add_signal_handler(hang_up, self.leave_now)

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for hang_up in _HANG_UPS:
            loop.remove_signal_handler(hang_up)

    def notify(self, message: str, *, title: str = "", **options) -> None:
        # Whatever a notification quotes, its control characters never reach the terminal (the
        # callers show outside strings through `shown` already; this holds if one forgets).
        super().notify(printable(message), title=printable(title), **options)

    def get_key_display(self, binding: Binding) -> str:
        # In a browser, a key the browser keeps for itself is shown as the key that does the same there.
        if self.is_web and binding.key != browser_key(binding.key):
            return super().get_key_display(binding.with_key(browser_key(binding.key)))
        return super().get_key_display(binding)

    @on(TrainingScreen.BestModelSaved)
    def _offer_trained_run(self, message: TrainingScreen.BestModelSaved) -> None:
        self.writing.offered_run = message.run  # Ctrl+L in the writing screen proposes it

    def leave_now(self) -> None:
        """The terminal went away (a dropped SSH link sends SIGHUP) or SIGTERM came: nobody is there to
        answer questions, so keep the unsaved text in the autosave copy, stop training with a
        checkpoint, and exit."""
        if self.leaving:  # a second signal: do not wait for the batch either
            self._abandon()
            return
        self.leaving = True
        if self.writing.is_mounted:
            self.writing.write_autosave()  # if the text is unsaved
        self._stop_and_exit()

    def _abandon(self) -> None:
        """Quit without waiting for the training's batch to end: the last checkpoint stays as it is.

        Textual's exit waits for every worker, and a thread inside a batch cannot be interrupted:
        give the terminal back and end the process here, data workers first.
        """
        if self._driver is not None:
            self._driver.stop_application_mode()
            self._driver.close()  # waits until the writer thread has sent all of it
        for worker in multiprocessing.active_children():
            worker.kill()
        os._exit(1)

    # --- quitting ---------------------------------------------------------------------------
    def exit(self, *args, **kwargs) -> None:
        self.exiting = True
        super().exit(*args, **kwargs)

    @on(messages.ExitApp)
    def _leave_with_the_browser(self, message: messages.ExitApp) -> None:
        """Served in a browser (textual-serve), a closed tab, a reload or a lost connection ends the app
        with ExitApp, the app never asked (so does Ctrl-C in the server's terminal): leave as after a
        hang-up (`leave_now`), the unsaved text kept in the autosave copy, a training checkpointed."""
        if not self.exiting:
            message.prevent_default()  # App's own handler would end the app at once
            self.leave_now()

    def action_quit(self) -> None:
        if self.training.running and self.training.stop_event.is_set():  # a long batch is ending
            self.push_screen(Choice("Training is still finishing its current batch. Quit now? The last "
                                    "checkpoint stays as it is.", [("now", "Quit now"), ("wait", "Wait")]),
                             lambda answer: answer == "now" and self._abandon())
        elif self.training.running:
            self.push_screen(Choice("Training is running. Stop it (a checkpoint is kept) and quit?",
                                    [("stop", "Stop and quit"), ("cancel", "Keep training")]),
                             lambda answer: answer == "stop" and self._ask_to_save())
        else:
            self._ask_to_save()

    def _ask_to_save(self) -> None:
        if not self.writing.is_mounted or not self.writing.check_unsaved():
            if self.writing.is_mounted:
                self.writing.discard_changes()  # an autosave copy of edits undone since is no news
            self._stop_and_exit()
            return
        self.writing.write_autosave()  # whatever is answered, or if the terminal closes now
        name = shown(self.writing.document.name) if self.writing.document else "The untitled document"
        self.push_screen(Choice(f"{name} has unsaved changes.",
                                [("save", "Save and quit"), ("discard", "Quit without saving"),
                                 ("cancel", "Cancel")]), self._after_save_answer)

    def _after_save_answer(self, answer: str) -> None:
        if answer == "discard":
            self.writing.discard_changes()
            self._stop_and_exit()
        elif answer == "save":
            if self.writing.document is None:
                self.writing.action_save()  # asks for a name; quit again once it is saved
            elif self.writing.save(self.writing.document):
                self._stop_and_exit()

    def _stop_and_exit(self) -> None:
        if self.writing.is_mounted:
            self.writing.keep_memory()
        if self.training.running:
            self.training.action_stop()
            self.run_worker(self._exit_after_training(), group="quit")
        else:
            self.exit()

    async def _exit_after_training(self) -> None:
        try:
            await self.training.worker.wait()
        except Exception:  # its error is on the training screen already; leaving anyway
            pass
        self.exit()
