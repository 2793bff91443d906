"""What the app tests share: starting the app on a run folder, and waiting for what a user would see."""

from __future__ import annotations

import time

from textual.pilot import Pilot


async def wait_for(pilot: Pilot, condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Let the app run until `condition()` holds (the model loads, a suggestion arrives, an epoch ends)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def drawn_line(widget, y: int = 0) -> str:
    """The characters a widget draws on its line `y` (what the terminal shows there)."""
    return "".join(segment.text for segment in widget.render_line(y))


def drawn_text(widget) -> str:
    """What a widget draws, its lines joined and runs of spaces made one (so wrapping does not matter)."""
    return " ".join(" ".join(drawn_line(widget, y) for y in range(widget.size.height)).split())
