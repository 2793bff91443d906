"""A line chart of the loss in braille dots: train and validation per epoch, and the running batch loss.

Braille cells hold 2x4 dots, so an 80-column terminal still draws a smooth curve, and a redraw is a
few hundred characters: cheap over a slow SSH link.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

# Dot bit for (row 0-3, column 0-1) inside one braille cell (U+2800 + bits).
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_LABEL_WIDTH = 6


class LossChart(Widget):
    """Series are lists of (epoch as a float, loss in nats per character)."""

    SERIES = (("batch", "grey50", "running"), ("train", "dodger_blue1", "train"), ("val", "magenta", "validation"))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in self.SERIES}

    def set_points(self, points: dict[str, list[tuple[float, float]]]) -> None:
        self.points = points
        self.refresh()

    def render(self) -> Text:
        width, height = self.size.width - _LABEL_WIDTH - 1, self.size.height - 1
        values = [p for name, _, _ in self.SERIES for p in self.points.get(name, [])]
        if width < 4 or height < 2 or not values:
            return Text("the loss chart fills in as training runs", style="dim")
        x_max = max(1.0, max(x for x, _ in values))
        y_low, y_high = min(y for _, y in values), max(y for _, y in values)
        y_high = max(y_high, y_low + 0.05)
        cells = [[0] * width for _ in range(height)]
        colours: list[list[str | None]] = [[None] * width for _ in range(height)]
        for name, colour, _ in self.SERIES:
            dots = [(round(x / x_max * (2 * width - 1)), round((y_high - y) / (y_high - y_low) * (4 * height - 1)))
                    for x, y in self.points.get(name, [])]
            for (x0, y0), (x1, y1) in zip(dots, dots[1:] or dots):
                for x, y in _segment(x0, y0, x1, y1):
                    cells[y // 4][x // 2] |= _DOT[y % 4][x % 2]
                    colours[y // 4][x // 2] = colour
        return self._draw(cells, colours, y_low, y_high, x_max)

    def _draw(self, cells, colours, y_low: float, y_high: float, x_max: float) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        height = len(cells)
        for row, (bits, styles) in enumerate(zip(cells, colours)):
            label = f"{y_high:.3f}" if row == 0 else f"{y_low:.3f}" if row == height - 1 else ""
            text.append(f"{label:>{_LABEL_WIDTH}}│", style="dim")
            for bit, style in zip(bits, styles):
                text.append(chr(0x2800 + bit), style=style)
            text.append("\n")
        text.append(" " * _LABEL_WIDTH + "└ ", style="dim")
        for name, colour, label in self.SERIES:
            if self.points.get(name):
                text.append("━ ", style=colour).append(f"{label} {self.points[name][-1][1]:.3f}  ")
        text.append(f"epoch {x_max:.1f}", style="dim")
        return text


def _segment(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """The dots of a straight line between two dots (both included)."""
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    return [(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps)) for i in range(steps + 1)]
