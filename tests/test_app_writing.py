"""The writing screen, driven with Pilot: ghost text, its keys, documents, autosave and quitting."""

from __future__ import annotations

import pytest

from chargen_tui.app.app import ChargenApp
from chargen_tui.app.screens.dialogs import Choice
from chargen_tui.sampling import Sampler
from chargen_tui.suggest import SUGGESTION_CHARS, Request, suggestions

from .app_helpers import drawn_line, drawn_text, wait_for

SEED = 11


def writing_app(run_dir, tmp_path, document="doc.txt") -> ChargenApp:
    return ChargenApp(mode="write", run=run_dir, document=tmp_path / document if document else None,
                      sample_seed=SEED, autosave_folder=tmp_path / "autosave")


async def start_writing(pilot, typed: str = "The king and "):
    screen = pilot.app.writing
    await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
    await pilot.press(*typed)
    await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion")
    return screen, screen.editor


@pytest.fixture(scope="module")
def sampler(trained_run):
    return Sampler.from_run_dir(trained_run)


async def test_the_ghost_text_is_the_engines_continuation_for_a_fixed_seed(trained_run, tmp_path, sampler):
    # Typed text could show a suggestion kept from an earlier keystroke: open a document instead.
    (tmp_path / "doc.txt").write_text("The king and ", encoding="utf-8")
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        expected = list(suggestions(Request("The king and ", screen.temperature, SEED, sampler)))[-1]
        assert editor.suggestion == expected[0]
        # the same as `chargen-tui generate --prefix "The king and " --seed 11`, up to its first newline
        generated = sampler.generate("The king and ", SUGGESTION_CHARS, temperature=0.5, seed=SEED)[0]
        assert editor.suggestion == generated.split("\n")[0]
        assert drawn_line(editor).strip() == "The king and " + expected[0].rstrip()
        assert "temperature 0.5" in drawn_text(screen.query_one("#status"))


async def test_tab_accepts_esc_hides_and_ctrl_s_saves(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        ghost = editor.suggestion
        await pilot.press("tab")
        assert editor.text == "The king and " + ghost
        await wait_for(pilot, lambda: editor.suggestion, what="the next suggestion")
        await pilot.press("escape")
        assert editor.suggestion == ""
        assert drawn_line(editor).rstrip() == ("The king and " + ghost).rstrip()
        await pilot.press("ctrl+s")
        assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == "The king and " + ghost
        assert "modified" not in drawn_text(screen.query_one("#status"))


async def test_typing_what_the_ghost_shows_keeps_the_rest_and_ctrl_right_takes_a_word(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        ghost = editor.suggestion
        await pilot.press(ghost[0])
        assert editor.suggestion == ghost[1:]  # at once: nothing had to be computed
        rest = editor.suggestion
        word = rest[: len(rest) - len(rest.lstrip())] + rest.lstrip().split(" ")[0]
        await pilot.press("ctrl+right")
        assert editor.text == "The king and " + ghost[0] + word
        assert editor.suggestion == rest[len(word):]


async def test_ctrl_n_cycles_alternatives_and_f2_f3_f4_change_how_it_suggests(trained_run, tmp_path, sampler):
    (tmp_path / "doc.txt").write_text("The king and ", encoding="utf-8")
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        await pilot.press("f3", "f3", "f3", "f3", "f3")  # temperature 1.0: varied alternatives
        assert "temperature 1.0" in drawn_text(screen.query_one("#status"))
        expected = list(suggestions(Request("The king and ", 1.0, SEED, sampler)))[-1]
        await wait_for(pilot, lambda: editor.alternatives == expected, what="the alternatives at temperature 1.0")
        assert len(expected) >= 3
        seen = [editor.suggestion]
        for _ in expected[1:]:
            await pilot.press("ctrl+n")
            seen.append(editor.suggestion)
        assert seen == expected
        await pilot.press("ctrl+n")
        assert editor.suggestion == expected[0]
        await pilot.press("f4")
        assert editor.suggestion == "" and "autocomplete off" in drawn_text(screen.query_one("#status"))
        await pilot.press(*"the ")
        await pilot.pause(0.3)
        assert editor.suggestion == ""


async def test_a_suggestion_for_stale_text_is_never_shown(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        old_prefix = editor.text_before_cursor()
        await pilot.press("x")
        assert not editor.show_suggestions(old_prefix, ["STALE"])
        assert editor.suggestion != "STALE"


async def test_characters_the_model_never_saw_stay_in_the_document(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="Ünïcödé 日本 and the ")
        assert editor.text == "Ünïcödé 日本 and the "
        await pilot.press("ctrl+s")
        assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == "Ünïcödé 日本 and the "


async def test_text_autosaved_before_a_crash_is_offered_back(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        screen.write_autosave()  # what the 5-second timer does; then the process "crashes"
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, Choice), what="the recovery question")
        await pilot.press("enter")  # Recover
        assert pilot.app.writing.editor.text == "The king and "
        assert pilot.app.writing.unsaved


async def test_quitting_with_unsaved_text_asks_and_saves(trained_run, tmp_path):
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_writing(pilot)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, Choice), what="the save question")
        await pilot.press("enter")  # Save and quit
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == "The king and "
    assert not list((tmp_path / "autosave").glob("*"))


async def test_ctrl_l_loads_another_run_folder_and_ctrl_o_opens_another_file(trained_run, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("Once upon a time ", encoding="utf-8")
    app = ChargenApp(mode="write", autosave_folder=tmp_path / "autosave")  # no model given
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.writing
        assert "ctrl+l" in drawn_text(screen.query_one("#status"))
        await pilot.press("ctrl+l")
        await pilot.press(*str(tmp_path / "missing"), "enter")
        assert "not a run folder" in drawn_text(app.screen.query_one("#error"))  # the dialog stays, saying why
        app.screen.query_one("#path").value = str(trained_run.path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.sampler is not None, what="the chosen model")
        assert "model: run" in drawn_text(screen.query_one("#status"))
        await pilot.press("ctrl+o")
        await pilot.press(*str(other), "enter")
        assert screen.editor.text == "Once upon a time "
        await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion for the opened text")


async def test_the_shipped_model_suggests_on_first_launch(tmp_path):
    from chargen_tui.pretrained import default_run_dir

    app = ChargenApp(mode="write", run=default_run_dir(), autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="ROMEO:\nWhat light through yonder ")
        assert "model: tinyshakespeare (shipped)" in drawn_text(screen.query_one("#status"))
        assert editor.suggestion
