"""What `chargen-tui train` prints, from the events of a real (tiny) training run."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from chargen_tui.report import TrainingReport
from chargen_tui.run_dir import RunDir

from .helpers import train_tiny


@pytest.fixture(scope="module")
def events(tmp_path_factory, text):
    recorded = []
    train_tiny(RunDir(tmp_path_factory.mktemp("report") / "run"), text, recorded.append, corpus="tiny.txt")
    return recorded


def replay(events, terminal: bool, **kwargs) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=100, soft_wrap=True)  # as the CLI makes it
    report = TrainingReport(console, **kwargs)
    for event in events:
        report(event)
    report.close()
    return out.getvalue()


def test_piped_output_is_plain_lines(events):
    text = replay(events, terminal=False)
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0].startswith("tiny.txt: 6,000 characters") and "new run" in lines[0]
    assert any(line.startswith("epoch 1/1  loss ") and "bits/char" in line and "val " in line for line in lines)
    for temperature in ("0.2", "0.5", "1", "1.2"):
        assert any(f"epoch 1 sample, temperature {temperature} " in line for line in lines)
    assert "batch 1/" not in text  # the epoch took less than the plain-progress interval
    assert lines[-1].startswith("done: 1 epoch; best validation loss")


def test_long_epochs_show_plain_progress_lines(events):
    text = replay(events, terminal=False, plain_every=0)
    assert "epoch 1/1  batch 1/" in text and "chars/s  ETA " in text


def test_terminal_output_has_a_live_bar_and_the_same_results(events):
    text = replay(events, terminal=True)
    assert "\x1b[" in text
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "chars/s" in plain and "ETA" in plain and "━" in plain  # the progress bar was drawn
    assert "epoch 1 sample, temperature 1.2" in plain and "done: 1 epoch" in plain
