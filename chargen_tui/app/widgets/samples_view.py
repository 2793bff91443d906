"""Each epoch's samples, newest first, as Rich renderables in a scrollable column."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...control import printable


def render_samples(epoch: int, prefix: str, texts: dict[str, str]) -> Group:
    """The prefix's end (dim), then one line per temperature: its sample, newlines shown as ⏎ (and any
    control character as its picture: a terminal would obey it)."""
    prefix, texts = printable(prefix), {t: printable(sample) for t, sample in texts.items()}
    lines = [Text.assemble((f"epoch {epoch}", "bold"), ("  continuing …", "dim"),  # the end of the prefix
                           (prefix[-60:].replace("\n", "⏎"), "dim italic")) if prefix
             else Text.assemble((f"epoch {epoch}", "bold"), ("  new texts", "dim"))]  # a texts run's
    for temperature, sample in texts.items():
        lines.append(Text.assemble((f"T {float(temperature):.1f} ", "bold cyan"), sample.replace("\n", "⏎ ")))
    return Group(*lines)


class SamplesView(VerticalScroll):
    """Holds one Static per epoch; epochs already shown are not added twice (watch mode re-reads)."""

    DEFAULT_CSS = """
    SamplesView > .sample {
        margin-bottom: 1;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.epochs: set[int] = set()

    def add(self, epoch: int, prefix: str, texts: dict[str, str]) -> None:
        if epoch in self.epochs:
            return
        self.epochs.add(epoch)
        sample = Static(render_samples(epoch, prefix, texts), classes="sample")
        if self.children:
            self.mount(sample, before=0)
        else:
            self.mount(sample)
