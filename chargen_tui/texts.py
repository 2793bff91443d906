"""A corpus of many short texts (titles, quotes, fortunes, poems), and how a file is cut into them.

A mode says where one text ends and the next begins: `lines` (one text per line), `paragraphs`
(texts between blank lines, a blank line being one of only spaces and tabs) or `sep:LINE` (texts
between lines equal to LINE, as `%` in fortune files). The same rule finds the text a writer is
in, so the writing screen's model reads only that text, as it read texts in training.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = "lines, paragraphs or sep:LINE (e.g. sep:%)"


def is_mode(value: object) -> bool:
    """Is `value` a texts mode (None, the default, means one stream)?"""
    return value is None or (isinstance(value, str) and (value in ("lines", "paragraphs")
                                                         or (value.startswith("sep:") and len(value) > 4)))


@dataclass(frozen=True)
class TextsMode:
    mode: str  # as the user gave it, and config.json records it

    def __post_init__(self) -> None:
        if self.mode is None or not is_mode(self.mode):
            raise ValueError(f"a texts mode is {MODES}, not {self.mode!r}")

    def split(self, text: str) -> list[str]:
        """The texts of `text` ("\\n" line ends), in order; empty and blank texts are dropped."""
        lines = text.removesuffix("\n").split("\n")  # the file's last line end closes its last line
        if self.mode == "lines":
            return [line for line in lines if line.strip()]
        texts, current = [], []
        for line in lines:
            if self._separates(line):
                texts.append("\n".join(current))
                current = []
            else:
                current.append(line)
        texts.append("\n".join(current))
        return [t for t in texts if t.strip()]

    def current(self, before: str) -> str:
        """The part of the text that the text before a cursor, `before`, is in: after its last separator."""
        if self.mode == "lines":
            return before.rpartition("\n")[2]
        lines = before.split("\n")
        for index in range(len(lines) - 2, -1, -1):  # the cursor's own line is not finished: never a separator
            if self._separates(lines[index]):
                return "\n".join(lines[index + 1:])
        return before

    def _separates(self, line: str) -> bool:
        if self.mode == "paragraphs":
            return not line.strip(" \t")
        return line == self.mode[len("sep:"):]


def texts_file(texts: list[str]) -> tuple[str, str]:
    """A file's content holding `texts` exactly, and the mode that reads them back: one per line when no
    text has a line break, else between separator lines that no text holds (`%`, `%%`, ...)."""
    texts = [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]
    if not any("\n" in t for t in texts):
        return "\n".join(texts) + "\n", "lines"
    lines = {line for t in texts for line in t.split("\n")}
    separator = "%"
    while separator in lines:
        separator += "%"
    return f"\n{separator}\n".join(texts) + "\n", f"sep:{separator}"


def texts_mode(mode: str | None) -> TextsMode | None:
    """The mode a config's `texts` names; None for a stream."""
    return None if mode is None else TextsMode(mode)
