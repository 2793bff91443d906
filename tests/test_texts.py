"""Many short texts: how a file is cut into them, the end-of-text token, whole texts out, and the CLI's
and the Python API's handling of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chargen_tui.corpus import read_corpus, split_corpus
from chargen_tui.errors import FixedOnResume, NoTexts, SettingError
from chargen_tui.plan import plan_run
from chargen_tui.run_dir import RunDir
from chargen_tui.sampling import Sampler
from chargen_tui.texts import TextsMode, texts_file
from chargen_tui.vocab import Vocab

from .helpers import tiny
from .test_cli import assert_one_line_error, cli

PROVERBS = Path(__file__).resolve().parents[1] / "corpora" / "proverbs.txt"
# Enough model for the proverbs' shape (a sentence, then the end) in a few seconds.
TEXTS_MODEL = {"seq_len": 32, "units": 48, "embedding_dim": 16, "epochs": 4, "batch_size": 16, "sample_length": 200}


@pytest.fixture(scope="module")
def texts_run(tmp_path_factory) -> RunDir:
    from chargen_tui.api import train

    run = RunDir(tmp_path_factory.mktemp("texts") / "run")
    train(PROVERBS, out=run.path, texts="lines", quiet=True, **tiny(**TEXTS_MODEL))
    return run


# --- cutting a file into texts -------------------------------------------------------------------
def test_lines_mode_reads_one_text_per_line_and_drops_blank_ones(tmp_path):
    path = tmp_path / "titles.txt"
    path.write_bytes(b"First title\r\n\r\n   \r\nSecond title\r\nThird\r\n")
    assert TextsMode("lines").split(read_corpus(path)) == ["First title", "Second title", "Third"]


def test_paragraphs_mode_cuts_at_runs_of_blank_lines():
    text = "\n\nRoses are red,\nviolets blue.\n\n\n  \t\nSecond poem\nends here.\n\n"
    assert TextsMode("paragraphs").split(text) == ["Roses are red,\nviolets blue.", "Second poem\nends here."]


@pytest.mark.parametrize("text", [
    "%\nA fortune\non two lines.\n%\nAnother.\n%\n",  # separators at the start and the end
    "A fortune\non two lines.\n%\n%\nAnother.",  # an empty text between two separators; no last line end
])
def test_sep_mode_cuts_at_lines_equal_to_the_separator(text):
    assert TextsMode("sep:%").split(text) == ["A fortune\non two lines.", "Another."]


def test_sep_mode_needs_the_whole_line_to_match():
    assert TextsMode("sep:%").split("50% off\n %\nstill one text") == ["50% off\n %\nstill one text"]


@pytest.mark.parametrize("mode, before, current", [
    ("lines", "one text\nand the next", "and the next"),
    ("lines", "one text\n", ""),
    ("paragraphs", "a poem\nof two lines\n\nthe next\npoem", "the next\npoem"),
    ("paragraphs", "a poem\n", "a poem\n"),
    ("sep:%", "a fortune\n%\nthe next\none", "the next\none"),
    ("sep:%", "a fortune\n%", "a fortune\n%"),  # the cursor's line is not finished: not a separator yet
])
def test_the_current_text_starts_after_the_last_separator(mode, before, current):
    assert TextsMode(mode).current(before) == current


def test_a_list_of_texts_is_kept_in_a_file_that_reads_back_exactly():
    for texts in (["one", "two  ", "three"], ["a poem\n\non two stanzas", "%", "a line\n%"]):
        content, mode = texts_file(texts)
        assert TextsMode(mode).split(content) == texts


# --- the end-of-text token -----------------------------------------------------------------------
def test_the_end_of_text_token_follows_the_characters_and_vocab_json_names_it():
    vocab = Vocab.from_text("abca", end_of_text=True)
    assert vocab.char_index == {"a": 1, "b": 2, "c": 3}
    assert vocab.end_of_text == 4 and vocab.vocab_size == 5  # 0 padding, 3 characters, the end
    saved = json.loads(vocab.to_json())
    assert saved["end_of_text"] == 4
    assert Vocab.from_json(vocab.to_json()).end_of_text == 4
    assert list(vocab.encode_texts(["ab", "c"])) == [1, 2, 4, 3, 4]
    assert Vocab.from_text("abca").vocab_size == 4 and "end_of_text" not in json.loads(Vocab.from_text("a").to_json())


def test_validation_is_whole_texts_from_the_end():
    vocab = Vocab.from_text("abcdefgh", end_of_text=True)
    texts = ["abcdefgh" * (i % 5 + 3) for i in range(60)]
    ids = vocab.encode_texts(texts)
    split = split_corpus(ids, seq_len=16, val_fraction=0.1, end_of_text=vocab.end_of_text)
    assert split.train[-1] == vocab.end_of_text  # the cut is between two texts
    assert split.val[-1] == vocab.end_of_text and len(split.val) >= 17
    assert abs(len(split.val) / len(ids) - 0.1) < 0.05
    assert np.array_equal(np.concatenate([split.train, split.val]), ids)


def test_validation_takes_at_least_one_text_however_long():
    vocab = Vocab.from_text("ab", end_of_text=True)
    ids = vocab.encode_texts(["ab" * 200, "ab" * 100])  # the last text is 1/3 of the corpus, not 1/10
    split = split_corpus(ids, seq_len=16, val_fraction=0.1, end_of_text=vocab.end_of_text)
    assert len(split.val) == 201


# --- planning a texts run: its checks ------------------------------------------------------------
def test_a_texts_run_plans_its_texts_and_records_the_mode(tmp_path):
    text = "\n".join(f"text number {i} is here." for i in range(200))
    plan = plan_run(RunDir(tmp_path / "run"), tiny(texts="lines"), text=text)
    assert len(plan.texts) == 200 and plan.config.texts == "lines"
    assert "\n" not in plan.vocab.char_index and plan.vocab.end_of_text == plan.vocab.vocab_size - 1


@pytest.mark.parametrize("mode", ["sep:", "words", "Lines", ""])
def test_an_impossible_texts_mode_is_a_setting_error(tmp_path, mode):
    with pytest.raises(SettingError, match="lines, paragraphs or sep:LINE"):
        plan_run(RunDir(tmp_path / "run"), tiny(texts=mode), text="some text\n" * 100)


def test_a_corpus_of_separators_only_has_no_texts(tmp_path):
    with pytest.raises(NoTexts, match="no texts"):
        plan_run(RunDir(tmp_path / "run"), tiny(texts="sep:%"), text="%\n%\n  \n%\n" * 50)


def test_the_cli_refuses_bad_texts_modes_in_one_line(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("%\n\n%\n" * 100)
    assert_one_line_error(cli("train", str(corpus), "--texts", "sep:"), "--texts must be", "sep:LINE")
    assert_one_line_error(cli("train", str(corpus), "--texts", "tweets"), "--texts must be", "'tweets'")
    assert_one_line_error(cli("train", str(corpus), "--texts", "sep:%", "--out", str(tmp_path / "r")),
                          "has no texts", "--texts sep:%")


def test_a_run_keeps_its_texts_mode_on_resume(texts_run):
    with pytest.raises(FixedOnResume, match="texts paragraphs differs from this run's lines"):
        plan_run(texts_run, {"texts": "paragraphs", "epochs": 9}, resume=True, text=PROVERBS.read_text())
    with pytest.raises(FixedOnResume, match="texts none differs from this run's lines"):
        plan_run(texts_run, {"texts": None, "epochs": 9}, resume=True, text=PROVERBS.read_text())


def test_a_stream_run_resumed_as_texts_is_refused_in_one_line(trained_run):
    result = cli("train", str(PROVERBS), "--out", str(trained_run.path), "--resume", "--texts", "lines")
    assert_one_line_error(result, "--texts lines differs from this run's none")


# --- whole texts out -----------------------------------------------------------------------------
def test_a_texts_model_ends_its_texts(texts_run):
    sampler = Sampler.from_run_dir(texts_run)
    end = sampler.vocab.end_of_text
    primed = sampler.prime("")
    rows = sampler.continue_texts(primed, 300, temperature=0.5, n=20, rng=np.random.default_rng(0))
    ended = sum(done for _, done in rows)
    assert ended >= 15, rows  # the proverbs are 25-70 characters: most samples end well before 300
    # The end is the token itself, as a Keras user of model.keras sees it: the likeliest output after
    # a whole proverb.
    after = sampler.prime("Every friend has its field.")[1][0]
    assert int(np.argmax(after[1:])) + 1 == end
    assert all(len(text) < 300 and "\n" not in text for text, done in rows if done)


def test_the_model_reads_only_the_current_text(texts_run):
    sampler = Sampler.from_run_dir(texts_run)
    assert sampler.context("Every road has its lamp.\nNever") == "Never"
    a = sampler.generate("Every road has its lamp.\nNever", 60, temperature=0.5, seed=3)
    assert a == sampler.generate("Never", 60, temperature=0.5, seed=3)
    # A fresh text starts after the end token, not cold: the window holds it before the characters.
    assert list(sampler.window("Ne")[-3:]) == [sampler.vocab.end_of_text, *sampler.vocab.encode("Ne")]


def test_samples_after_each_epoch_are_whole_new_texts(texts_run):
    samples = texts_run.read_samples()
    assert len(samples) == TEXTS_MODEL["epochs"] and all(s["prefix"] == "" for s in samples)
    last = samples[-1]["texts"]
    assert any(len(text) < 200 for text in last.values())  # some sample ended before the cap


def test_generate_writes_whole_texts_separated_by_blank_lines(texts_run, tmp_path):
    result = cli("generate", str(texts_run.path), "-n", "5", "--seed", "0", "--temperature", "0.3")
    assert result.returncode == 0, result.stderr
    texts = result.stdout.split("\n\n")
    assert len(texts) == 5 and result.stdout.endswith("\n")
    out = tmp_path / "out.txt"
    result = cli("generate", str(texts_run.path), "-n", "4", "--seed", "0", "--max-length", "8", "--out", str(out))
    assert result.returncode == 0 and "4 of 4 texts did not end within --max-length 8" in result.stderr
    assert [len(line) for line in out.read_text().splitlines()] == [8] * 4


def test_generate_to_a_file_escapes_line_breaks_or_writes_json_lines(tmp_path):
    from chargen_tui.cli import _format
    from chargen_tui.api import Generated

    generated = [Generated("two\nlines \\ here", True), Generated("cut", False)]
    assert _format(generated, texts=True, jsonl=False, one_per_line=True) == "two\\nlines \\\\ here\ncut\n"
    rows = [json.loads(line) for line in _format(generated, texts=True, jsonl=True, one_per_line=True).splitlines()]
    assert rows == [{"text": "two\nlines \\ here", "ended": True}, {"text": "cut", "ended": False}]


def test_length_on_a_texts_model_is_a_clear_error(texts_run):
    assert_one_line_error(cli("generate", str(texts_run.path), "--length", "50"), "whole texts", "--max-length")


# --- the Python API ------------------------------------------------------------------------------
def test_the_api_loads_and_generates(texts_run):
    import chargen_tui as cg

    model = cg.load(texts_run.path)
    assert model.is_texts
    texts = model.generate(n=3, prefix="Never", temperature=0.5, seed=0)
    assert len(texts) == 3 and all(t.startswith("Never") for t in texts)
    assert texts == model.generate(n=3, prefix="Never", temperature=0.5, seed=0)
    shipped = cg.load()
    assert not shipped.is_texts
    assert [len(t) for t in shipped.generate(n=2, prefix="The king", length=30, seed=1)] == [38, 38]
    with pytest.raises(ValueError, match="max_length"):
        model.generate(length=30)


def test_the_api_trains_a_list_of_texts_and_returns_the_model(tmp_path):
    import chargen_tui as cg

    texts = [f"Note {i}: the {w} is {c}." for i, (w, c) in enumerate(zip(["sky", "sea", "tree"] * 40,
                                                                         ["blue", "grey", "green", "tall"] * 30))]
    texts[3] = "a text\non two lines"
    events = []
    model = cg.train(texts, out=tmp_path / "run", quiet=True, on_event=events.append, **tiny(epochs=1))
    assert model.is_texts and model.run_dir == tmp_path / "run"
    assert model.config.texts.startswith("sep:")
    assert TextsMode(model.config.texts).split((tmp_path / "run" / "texts.txt").read_text()) == texts
    assert type(events[0]).__name__ == "TrainingStarted" and events[0].texts == 120
    assert type(events[-1]).__name__ == "Finished"


def test_the_api_names_the_knobs_when_given_an_unknown_one(tmp_path):
    import chargen_tui as cg

    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'.*epochs"):
        cg.train(PROVERBS, out=tmp_path / "run", epoch=3)
    assert not (tmp_path / "run").exists()


def test_importing_the_package_imports_no_tensorflow():
    code = "import sys, chargen_tui; chargen_tui.load(); print(any(m.split('.')[0] in ('tensorflow', 'keras') " \
           "for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


# --- the writing screen --------------------------------------------------------------------------
async def test_the_writing_screen_continues_the_current_text_only(texts_run, tmp_path):
    from chargen_tui.suggest import SAMPLE, Request, suggestions

    from .app_helpers import SAMPLE_SEED, start_writing, writing_app

    # In the document, not typed: a typed character the ghost showed keeps the rest of the old ghost.
    (tmp_path / "doc.txt").write_text("Every road has its lamp.\nOne fox does not make a crow.\nNever")
    sampler = Sampler.from_run_dir(texts_run)
    async with writing_app(texts_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        # What a document holding only "Never" gets: the texts before it do not count.
        alone = list(suggestions(Request("Never", sampler, SAMPLE, temperature=screen.temperature, seed=SAMPLE_SEED)))[-1]
        assert editor.suggestion == alone[0]
        # and it ends where the model ends the text (here, within the line)
        text, _ = sampler.continue_texts(sampler.prime("Never"), 40, screen.temperature,
                                             rng=np.random.default_rng(SAMPLE_SEED))[0]
        assert editor.suggestion == text


def test_a_file_of_one_text_trains_and_says_so_once(tmp_path):
    import dataclasses
    import io

    from rich.console import Console

    from chargen_tui.events import TrainingStarted
    from chargen_tui.report import TrainingReport

    plan = plan_run(RunDir(tmp_path / "run"), tiny(texts="paragraphs"), text="one long text\n" * 200)
    assert len(plan.texts) == 1
    out = io.StringIO()
    started = TrainingStarted(run_dir="r", corpus_name="c", corpus_chars=2800, texts=1, controls_removed=0,
                              train_chars=2500, val_chars=280, vocab_size=12, parameters=100, epochs=1, batches_per_epoch=5,
                              start_epoch=1, resumed_batches=0)
    report = TrainingReport(Console(file=out, width=200))
    report(started)
    report(dataclasses.replace(started, texts=2))
    assert out.getvalue().count("finds one text only") == 1


def test_interrupting_the_api_stops_after_the_batch_with_a_checkpoint(tmp_path):
    """A notebook's interrupt is a KeyboardInterrupt in the thread that called train()."""
    import os
    import signal
    import time

    code = (f"import chargen_tui as cg, sys\n"
            f"def show(event):\n"
            f"    print(type(event).__name__, flush=True)\n"
            f"model = cg.train({str(PROVERBS)!r}, out={str(tmp_path / 'run')!r}, texts='lines', quiet=True,\n"
            f"                 on_event=show, **{tiny(epochs=50)!r})\n"
            f"print('returned', model, flush=True)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    seen = []
    deadline = time.monotonic() + 120
    while "EpochEnd" not in seen and time.monotonic() < deadline:
        seen.append(process.stdout.readline().strip())
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Stopped" in out and "returned <chargen_tui.Model" in out
    assert RunDir(tmp_path / "run").read_checkpoint() is not None
