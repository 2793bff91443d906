"""The editor's document: a file's text kept exactly, its control characters shown as pictures.

Textual's own Document has two problems for a text editor that opens other people's files:
- it draws each line as it is, so an escape sequence in a document reaches the terminal, which
  obeys it (a file could retitle the terminal or write the user's clipboard with OSC 52);
- it cuts lines at every separator `str.splitlines` knows (form feed, U+2028, NEL...) and joins
  them with one newline, so a file with a form feed or with mixed line endings is changed on save.

`ExactDocument` cuts lines at the file's own newline only, so `text` is the file's text as it was
(edits aside), and keeps beside each line the line as shown: each control character replaced by
its picture (`control.printable`, one character for one). Textual draws, wraps, measures and
moves the cursor on the shown lines, so a picture's column is where the cursor goes; the text,
ranges of it and edits use the real ones.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual.geometry import Size
from textual.widgets.text_area import Document, EditResult, Location

from ...control import printable


def newline_of(text: str) -> str:
    """The line ending a text uses: CRLF when every line ends so, CR for old Mac files, else LF
    (a stray CR then stays inside its line, shown as ␍, and is saved as it was)."""
    lf = text.count("\n")
    if lf and text.count("\r\n") == lf:
        return "\r\n"
    return "\r" if not lf and "\r" in text else "\n"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def as_typed(text: str, newline: str) -> str:
    """Pasted text with its line breaks, however they came (a terminal sends CR), as the document's."""
    return _LINE_BREAK.sub(newline, text)


class ExactDocument(Document):
    def __init__(self, text: str) -> None:  # not Document's: it would cut the lines its own way
        self._newline: str = newline_of(text)
        self._lines: list[str] = self._split(text)
        self._shown: list[str] = [printable(line) for line in self._lines]
        self._text: str | None = text  # the text, joined once an edit (TextArea asks for it on each line drawn)

    def _split(self, text: str) -> list[str]:
        lines = text.split(self._newline)
        if self._newline != "\n":  # a line never holds a newline, whatever an edit brings
            lines = [part for line in lines for part in line.split("\n")]
        return lines

    # --- what Textual draws and measures: the shown lines -----------------------------------------
    @property
    def lines(self) -> list[str]:
        return self._shown

    def get_line(self, index: int) -> str:
        return self._shown[index]

    def __getitem__(self, line_index):
        return self._shown[line_index]

    def get_size(self, tab_width: int) -> Size:
        width = max((cell_len(line.expandtabs(tab_width)) for line in self._shown), default=0)
        return Size(width, len(self._shown))

    # --- the text: the real lines -----------------------------------------------------------------
    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._newline.join(self._lines)
        return self._text

    def replace_range(self, start: Location, end: Location, text: str) -> EditResult:
        top, bottom = sorted((start, end))
        (top_row, top_column), (bottom_row, bottom_column) = top, bottom
        replaced = self.get_text_range(top, bottom)
        before = self._lines[top_row][:top_column] if top_row < len(self._lines) else ""
        after = self._lines[bottom_row][bottom_column:] if bottom_row < len(self._lines) else ""
        inserted = self._split(text)
        inserted[0] = before + inserted[0]
        column = len(inserted[-1])
        inserted[-1] += after
        self._lines[top_row:bottom_row + 1] = inserted
        self._text = None
        self._shown[top_row:bottom_row + 1] = [printable(line) for line in inserted]
        return EditResult((top_row + len(inserted) - 1, column), replaced)
