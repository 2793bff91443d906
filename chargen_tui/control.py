"""Terminal control in text: removed from a corpus, never written to a terminal.

A file saved from a terminal carries its colour codes and cursor moves (ANSI escape sequences). A
model trained on them learns to write them, and a terminal obeys them: a document or a file name
can retitle the terminal or write the user's clipboard (OSC 52). So `train` removes them from the
corpus unless asked to keep them (`strip_control`), and every string from outside that we show (a
document, a path, a corpus, a model's output, an error quoting one) goes through `printable`, the
one picture rule: each control character but tab and newline becomes one visible character.
"""

from __future__ import annotations

import re

# ESC [ ... final (CSI), ESC ] ... BEL or ESC \ (OSC), ESC P/X/^/_ ... ESC \ (DCS and the other
# strings), any other ESC sequence (intermediates, then a final character); then the single control characters: C0 but tab and
# newline, DEL, and C1 (which 8-bit terminals obey as ESC sequences).
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What `printable` replaces, one character for one: C0 but tab and newline, DEL, C1, the bidi
# overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder what a terminal shows of the
# text around them, and the line and paragraph separators (U+2028, U+2029), which terminals draw
# each their own way.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


def strip_control(text: str) -> tuple[str, int]:
    """`text` without terminal escape sequences and control characters (tab and newline stay), and
    how many sequences and characters were removed."""
    return _SEQUENCE.subn("", text)


def printable(text: str) -> str:
    """`text` safe to write to a terminal: each control character but tab and newline becomes its
    visible picture (ESC is ␛, NUL ␀, DEL ␡; those without one, C1 and the bidi controls, become
    �), one character for one, so positions in the text stay positions in what is shown."""
    return CONTROL.sub(_picture, text)


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7f else "\ufffd"
