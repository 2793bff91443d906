"""The documents an editor has open, as the language server keeps them: lines, edited in place.

An edit costs the lines it touches, and the text before the cursor is read back from the lines it
is on only, so a keystroke costs the same in a 20 MB file as in a short note (pygls' own store
re-splits a whole document at every edit). A position counts its character in the units the
client and the server agreed on (UTF-16 by default, as the protocol says; UTF-8 or UTF-32 if the
client offers them), and lines end at LF, CRLF or CR only, as the protocol says (Python's
`splitlines` also splits at a form feed or U+2028, which would shift every position after them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class OpenDocument:
    lines: list[str]  # without their line breaks
    version: int

    @classmethod
    def of(cls, text: str, version: int) -> "OpenDocument":
        return cls(LINE_BREAK.split(text), version)

    def edit(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Replace the text between two places (line, character), as code points, with `text`."""
        (first, start_column), (last, end_column) = start, end
        before, after = self.lines[first][:start_column], self.lines[last][end_column:]
        self.lines[first:last + 1] = LINE_BREAK.split(before + text + after)

    def before(self, place: tuple[int, int], chars: int) -> str:
        """The last `chars` characters before `place` (line, character), lines joined by LF: read
        from the lines they are on only."""
        line, column = place
        parts, wanted = [self.lines[line][max(0, column - chars):column]], chars - column
        while wanted > 0 and line > 0:
            line -= 1
            text = self.lines[line]
            parts.append(text[max(0, len(text) - wanted + 1):] + "\n")
            wanted -= len(text) + 1
        return "".join(reversed(parts))[-chars:] if chars > 0 else ""


class Documents:
    """The open documents by URI, and the position encoding their positions are in."""

    def __init__(self) -> None:
        self.open: dict[str, OpenDocument] = {}
        self.encoding = types.PositionEncodingKind.Utf16

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        self.open[document.uri] = OpenDocument.of(document.text, document.version)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = self.open.get(params.text_document.uri)
        if document is None:  # a change to a document never opened: nothing to apply it to
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                document.edit(self.place(document, change.range.start), self.place(document, change.range.end),
                              change.text)
            else:
                document.lines = LINE_BREAK.split(change.text)
        document.version = params.text_document.version

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.open.pop(params.text_document.uri, None)

    def place(self, document: OpenDocument, position: types.Position) -> tuple[int, int]:
        """A client's position as (line, code points), within the document (a position past a line's
        end, or past the last line, is its end, as the protocol says)."""
        if position.line >= len(document.lines):
            return len(document.lines) - 1, len(document.lines[-1])
        line = document.lines[position.line]
        return position.line, _code_points(line, position.character, self.encoding)

    def units(self, document: OpenDocument, line: int, column: int) -> int:
        """How many of the client's units the first `column` characters of a line are."""
        return _units(document.lines[line][:column], self.encoding)


def _code_points(line: str, units: int, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32 or line.isascii():
        return min(units, len(line))
    counted = 0
    for index, char in enumerate(line):
        if counted >= units:
            return index
        counted += _units(char, encoding)
    return len(line)


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
