"""The editor: a TextArea that shows the model's suggestion as dimmed ghost text after the cursor.

It owns only the ghost text's bookkeeping. When the text before the cursor (the prefix) changes in
a way the suggestion does not cover, it posts `SuggestionWanted` up to its screen; the screen
answers by calling `show_suggestions` (messages up, attributes down). An answer whose prefix no
longer matches the text before the cursor arrives too late and is dropped, so stale text is never
shown.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea
from textual.widgets.text_area import DocumentNavigator, Edit, EditResult, WrappedDocument

from ...predict import NEXT_WORD
from ...suggest import PREFIX_CHARS, kept_after
from ..keys import also_in_a_browser
from .exact_document import ExactDocument, as_typed


class GhostEditor(TextArea):
    DEFAULT_CSS = """
    GhostEditor {
        & .text-area--suggestion {
            color: $text-disabled;
            text-style: italic;
        }
    }
    """
    BINDINGS = [
        Binding("tab", "accept", "Accept"),
        Binding("ctrl+right", "accept_word", "Word"),
        Binding("escape", "hide", "Hide"),
        Binding(also_in_a_browser("ctrl+n"), "next_suggestion", "Next"),
    ]

    autocomplete: reactive[bool] = reactive(True, init=False)
    """Off, no suggestion is asked for or shown."""

    @dataclass
    class SuggestionWanted(Message):
        """The text before the cursor changed: suggest continuations of `prefix`. `kept`: the ghost
        shown goes on with what was typed (a new one replaces it if it differs; a sample stays)."""

        prefix: str
        kept: bool = False

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, GhostEditor.SuggestionWanted)  # only the newest prefix matters

    def __init__(self, text: str = "", **kwargs) -> None:
        self.context_chars = PREFIX_CHARS  # how much text before the cursor a prefix holds (the screen sets the model's window)
        self._alternatives: list[str] = []  # continuations valid at the cursor; the shown one is [_choice]
        self._choice = 0
        self._prefix: str | None = None  # the prefix the alternatives (or the pending request) belong to
        self._kept = False
        self._editing = False
        super().__init__(text, soft_wrap=True, tab_behavior="focus", **kwargs)

    # --- the prefix -------------------------------------------------------------------------
    def text_before_cursor(self, chars: int | None = None) -> str:
        """The last `chars` (default: `context_chars`) characters before the cursor, read from the lines
        they are on only: a key's cost does not grow with the document, nor with the cursor's line."""
        chars = self.context_chars if chars is None else chars
        if chars <= 0:
            return ""
        end = self.cursor_location
        return self.get_text_range(self._location_before(end, chars), end)[-chars:]

    def _location_before(self, location: tuple[int, int], chars: int) -> tuple[int, int]:
        """Where the `chars` characters before `location` start (a line break counts as its characters;
        the document's start if it has fewer)."""
        row, column = location
        newline = len(self.document.newline)
        while chars > column and row > 0:
            chars -= column + newline
            row -= 1
            column = len(self.document.get_line(row))  # a line as shown has a character for each of its own
        return row, max(0, column - max(0, chars))

    @property
    def alternatives(self) -> list[str]:
        """The suggestions for the cursor's place; `suggestion` shows one of them (Ctrl+N: the next)."""
        return list(self._alternatives)

    # --- answers from the screen ------------------------------------------------------------
    def show_suggestions(self, prefix: str, alternatives: list[str]) -> bool:
        """Show `alternatives` if they were computed for the text now before the cursor.

        They come in twice for one prefix: the first alone, then all of them; the second keeps the
        alternative the user has moved to.
        """
        if not self.autocomplete or prefix != self._prefix or prefix != self._current_prefix():
            return False
        more = bool(self._alternatives) and alternatives[:len(self._alternatives)] == self._alternatives
        if not more:
            self._choice = 0
        self._alternatives = alternatives
        self.suggestion = alternatives[self._choice] if alternatives else ""
        return True

    def clear_suggestions(self) -> None:
        self._alternatives, self._choice = [], 0
        self.suggestion = ""

    def request_suggestions(self) -> None:
        """Drop the current suggestions and ask for new ones for the text before the cursor."""
        self.clear_suggestions()
        self._prefix = self._current_prefix()
        if self.autocomplete and self._prefix is not None:
            self.post_message(self.SuggestionWanted(self._prefix))

    def watch_autocomplete(self) -> None:
        self.request_suggestions()  # on: for the text as it is now; off: the ghost goes

    # --- keys --------------------------------------------------------------------------------
    def action_accept(self) -> None:
        if self.suggestion:
            self.insert(self.suggestion)
        else:  # nothing to accept: Tab indents, as in any editor
            self.insert(" " * self.indent_width)

    def action_accept_word(self) -> None:
        word = NEXT_WORD.match(self.suggestion)
        if word:
            self.insert(word.group())
        else:
            self.action_cursor_word_right()

    def action_hide(self) -> None:
        self.clear_suggestions()
        self._prefix = None  # answers still on their way for this place are not wanted either

    def action_next_suggestion(self) -> None:
        if len(self._alternatives) > 1:
            self._choice = (self._choice + 1) % len(self._alternatives)
            self.suggestion = self._alternatives[self._choice]

    def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a typed character only if `str.isprintable()` (Key.is_printable), which
        # drops format characters (U+200D, the joiner of emoji sequences; U+202E), spaces other
        # than " " (U+00A0, U+3000), private-use characters and those newer than Python's Unicode
        # tables: the key vanished, while the same text pasted stayed. Every typed character is
        # text but a control character (Enter, Tab, Ctrl+... are keys) or a lone surrogate.
        # Textual calls each class' handler, ours first; TextArea's handles the printable ones.
        if self.read_only or event.is_printable or not _is_typed_text(event.character):
            return
        event.stop()
        event.prevent_default()
        self.replace(event.character, *self.selection, maintain_selection_offset=False)

    # --- TextArea hooks ----------------------------------------------------------------------
    def _set_document(self, text: str, language: str | None) -> None:
        # TextArea's one place that makes its Document (at start and in load_text); ours keeps the
        # file's text exactly and never lets its control characters reach the terminal
        # (exact_document.py). The rest is what TextArea does there for a plain-text document.
        self.document = ExactDocument(text)
        self.wrapped_document = _WrappedDocument(self.document, tab_width=self.indent_width)
        self.navigator = DocumentNavigator(self.wrapped_document)
        self._build_highlight_map()
        self.move_cursor((0, 0))
        self._rewrap_and_refresh_virtual_size()

    def _on_paste(self, event: events.Paste) -> None:
        # Before TextArea's own handler (Textual calls each class' handler, ours first): a pasted
        # line break, however the terminal sent it, is the document's own.
        event.text = as_typed(event.text, self.document.newline)

    def edit(self, edit: Edit) -> EditResult:
        # A character typed (or accepted) that continues the shown suggestion keeps the rest of it,
        # and of each alternative that continues the same way; any other edit asks anew.
        at_cursor = edit.from_location == edit.to_location == self.cursor_location
        kept = kept_after(self._alternatives, self._choice, edit.text) if at_cursor and self.suggestion else None
        self._kept = kept is not None
        if kept:
            self._alternatives, self._choice = kept
        self._editing = True  # the cursor moves inside the edit; update_suggestion decides after it
        try:
            return super().edit(edit)
        finally:
            self._editing = False

    def update_suggestion(self) -> None:
        """Called by TextArea after every edit (TextArea has already trimmed `suggestion` if it could)."""
        if self._kept:  # its rest at once; then, unless the writer chose an alternative (Ctrl+N), what
            self._kept = False  # the model and the words say now that they know more
            self._prefix = self._current_prefix()
            self.suggestion = self._alternatives[self._choice]
            if self._choice == 0 and self.autocomplete and self._prefix is not None:
                self.post_message(self.SuggestionWanted(self._prefix, kept=True))
        else:
            self.request_suggestions()

    def on_mount(self) -> None:
        # A watcher, called as the cursor moves, rather than a handler of TextArea.SelectionChanged:
        # handling that message on every keystroke kept the UI thread busy while the suggestion
        # thread computed, and raised the keystroke-to-suggestion p99 from 27-43 ms to 51-74 ms.
        self.watch(self, "selection", self._cursor_moved, init=False)

    def _cursor_moved(self) -> None:
        # A cursor moved by an edit is update_suggestion's to decide; one moved any other way
        # (arrows, a click) to a new place needs a new suggestion.
        if not self._editing and self._current_prefix() != self._prefix:
            self.request_suggestions()

    def _current_prefix(self) -> str | None:
        """The prefix for the cursor's place, or None where no suggestion belongs (a selection)."""
        return self.text_before_cursor() if self.selection.is_empty else None


def _is_typed_text(character: str | None) -> bool:
    """A key's character is text to insert: one character, neither a control (Cc) nor a surrogate."""
    return character is not None and len(character) == 1 and unicodedata.category(character) not in ("Cc", "Cs")


class _WrappedDocument(WrappedDocument):
    """Textual's, without two costs that grow with the document (on 20 MB: a key took ~1 s, opening
    ~20 s; benchmarks/large_document.py):
    - its height is the number of wrapped rows, one (line, section) pair each: Textual sums it over
      every line, each time TextArea draws a line (29 ms at 20 MB, and a key redraws ~22 lines);
    - a wrap at the width it is wrapped at already is skipped: edits keep it up to date
      (`wrap_range`), and TextArea wraps the whole document again on every resize and whenever the
      scroll bar comes or goes (~7 s at 20 MB each).
    """

    _wrapped_at: tuple[int, int] | None = None

    @property
    def height(self) -> int:
        return len(self._offset_to_line_info)

    def wrap(self, width: int, tab_width: int | None = None) -> None:
        wanted = (width, tab_width or self._tab_width)
        if wanted != self._wrapped_at:
            super().wrap(width, tab_width)
            self._wrapped_at = wanted
