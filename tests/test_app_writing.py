"""The writing screen, driven with Pilot: ghost text, its keys, documents, autosave and quitting."""

from __future__ import annotations

import pytest

from chargen_tui.app.app import ChargenApp
from chargen_tui.app.screens.dialogs import Choice
from chargen_tui.sampling import Sampler
from chargen_tui.suggest import PREDICT, SAMPLE, SUGGESTION_CHARS, Request, suggestions
from chargen_tui.words import Words

from .app_helpers import (SAMPLE_SEED, drawn_line, drawn_text, notifications, start_writing, status_line,
                          type_as_a_terminal, wait_for, writing_app)
from .helpers import make_text


@pytest.fixture(scope="module")
def sampler(trained_run):
    return Sampler.from_run_dir(trained_run)


@pytest.fixture
def opened_document(tmp_path):
    """A document that already holds text: the suggestion for it is the first one computed (typed text
    could show one kept from an earlier keystroke)."""
    (tmp_path / "doc.txt").write_text("The king and ", encoding="utf-8")
    return tmp_path / "doc.txt"


# --- the ghost text -----------------------------------------------------------------------------
async def test_the_ghost_text_is_the_engines_continuation_for_a_fixed_seed(trained_run, tmp_path, sampler,
                                                                           opened_document):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        request = Request("The king and ", sampler, SAMPLE, temperature=screen.temperature, seed=SAMPLE_SEED)
        expected = list(suggestions(request))[-1]
        assert editor.suggestion == expected[0]
        # the same as `chargen-tui generate --prefix "The king and " --seed 11`, up to its first newline
        generated = sampler.generate("The king and ", SUGGESTION_CHARS, temperature=0.5, seed=SAMPLE_SEED)[0]
        assert editor.suggestion == generated.split("\n")[0]
        assert drawn_line(editor).strip() == "The king and " + expected[0].rstrip()


async def test_tab_accepts_the_ghost_text(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        ghost = editor.suggestion
        await pilot.press("tab")
        assert editor.text == "The king and " + ghost
        await wait_for(pilot, lambda: editor.suggestion, what="the next suggestion")


async def test_esc_hides_the_ghost_text(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        await pilot.press("escape")
        assert editor.suggestion == ""
        assert drawn_line(editor).rstrip() == "The king and"


async def test_typing_what_the_ghost_shows_keeps_the_rest_of_it(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        ghost = editor.suggestion
        await pilot.press(ghost[0])
        assert editor.suggestion == ghost[1:]  # at once: nothing had to be computed


async def test_ctrl_right_accepts_the_next_word_of_the_ghost_text(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        ghost = editor.suggestion
        word = ghost[: len(ghost) - len(ghost.lstrip())] + ghost.lstrip().split(" ")[0]
        await pilot.press("ctrl+right")
        assert editor.text == "The king and " + word
        assert editor.suggestion == ghost[len(word):]


async def test_ctrl_n_cycles_through_the_alternatives(trained_run, tmp_path, sampler, opened_document):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        await pilot.press("f3", "f3", "f3", "f3", "f3")  # temperature 1.0: varied alternatives
        expected = list(suggestions(Request("The king and ", sampler, SAMPLE, temperature=1.0, seed=SAMPLE_SEED)))[-1]
        await wait_for(pilot, lambda: editor.alternatives == expected, what="the alternatives at temperature 1.0")
        assert len(expected) >= 3
        seen = [editor.suggestion]
        for _ in expected[1:]:
            await pilot.press("ctrl+n")
            seen.append(editor.suggestion)
        assert seen == expected
        await pilot.press("ctrl+n")
        assert editor.suggestion == expected[0]


async def test_f3_raises_the_temperature_the_status_line_shows(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.writing
        assert "temperature 0.5" in status_line(screen)
        await pilot.press("f3", "f3", "f3", "f3", "f3")
        assert "temperature 1.0" in status_line(screen)


async def test_f4_turns_autocomplete_off(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        await pilot.press("f4")
        assert editor.suggestion == "" and "autocomplete off" in status_line(screen)
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


async def test_moving_the_cursor_asks_for_a_suggestion_for_its_new_place(trained_run, tmp_path, sampler,
                                                                          opened_document):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="")
        await pilot.press("left", "left", "left", "left")  # before "and "
        expected = list(suggestions(Request("The king ", sampler, SAMPLE, temperature=0.5, seed=SAMPLE_SEED)))[-1]
        await wait_for(pilot, lambda: editor.alternatives == expected, what="suggestions for the cursor's place")


# --- predict mode and adaptation ----------------------------------------------------------------
async def test_predict_mode_shows_the_likeliest_continuation_when_likely_enough(trained_run, tmp_path, sampler,
                                                                               opened_document):
    async with writing_app(trained_run, tmp_path, suggest_mode=PREDICT).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.writing
        await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
        for _ in range(4):
            await pilot.press("f3")  # bolder: 22% -> 5%, and no further
        assert "predict ≥5%" in status_line(screen)
        words = Words.for_run(trained_run, sampler)  # the app's: its English and its corpus' words, none learned
        expected = list(suggestions(Request("The king and ", sampler, threshold=0.05, words=words)))[-1]
        assert expected  # the tiny model is that sure of something
        await wait_for(pilot, lambda: screen.editor.alternatives == expected, what="the predicted continuation")
        assert screen.editor.suggestion == expected[0]
        for _ in range(11):
            await pilot.press("f2")  # safer, to the top: 90%
        assert "predict ≥90%" in status_line(screen)
        assert list(suggestions(Request("The king and ", sampler, threshold=0.9, words=words)))[-1] == []
        await pilot.pause(0.3)
        assert screen.editor.suggestion == ""  # nothing is that likely: no ghost


async def test_f5_switches_between_predict_and_sample_and_f8_adapting(trained_run, tmp_path):
    app = ChargenApp(mode="write", run=trained_run, autosave_folder=tmp_path / "autosave")  # the defaults
    async with app.run_test(size=(80, 24)) as pilot:
        screen = pilot.app.writing
        assert "predict ≥22%, adapting" in status_line(screen)
        await pilot.press("f5")
        assert "sample, temperature 0.5, adapting" in status_line(screen)
        await pilot.press("f3", "f8")
        assert "sample, temperature 0.6 │" in status_line(screen)


async def test_adapting_reads_the_opened_document_and_leaves_the_run_folder_alone(trained_run, tmp_path):
    from chargen_tui.adapt import SEGMENT

    before = {path.name: path.read_bytes() for path in trained_run.path.iterdir() if path.is_file()}
    (tmp_path / "doc.txt").write_text(make_text(3000, seed=3), encoding="utf-8")
    async with writing_app(trained_run, tmp_path, adapting=True).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.writing
        await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion")
        await wait_for(pilot, lambda: screen.suggester.adapter and screen.suggester.adapter.steps >= 3000 // SEGMENT,
                       what="the document to be read")
        await pilot.press(*"The king")
        await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion from the adapted model")
    assert before == {path.name: path.read_bytes() for path in trained_run.path.iterdir() if path.is_file()}


# --- the document -------------------------------------------------------------------------------
async def test_characters_the_model_never_saw_stay_in_the_document(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="Ünïcödé 日本 and the ")
        assert editor.text == "Ünïcödé 日本 and the "
        await pilot.press("ctrl+s")
        assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == "Ünïcödé 日本 and the "


async def test_typed_joiners_direction_marks_and_other_spaces_stay_in_the_document(trained_run, tmp_path):
    """str.isprintable() is False for them: Textual's TextArea dropped them when typed (not when pasted)."""
    typed = "Q\u200dR\u202eS\u00a0T\u3000U"  # zero-width joiner, right-to-left override, two other spaces
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        await type_as_a_terminal(pilot, typed)
        assert pilot.app.writing.editor.text == typed
        await pilot.press("ctrl+s")
    assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == typed


async def test_ctrl_s_saves_and_the_status_line_stops_saying_modified(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        assert "(modified)" in status_line(screen)
        await pilot.press("ctrl+s")
        assert (tmp_path / "doc.txt").read_text(encoding="utf-8") == "The king and "
        assert "modified" not in status_line(screen)


async def test_text_autosaved_before_a_crash_is_offered_back(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        screen.write_autosave()  # what the 5-second timer does; then the process "crashes"
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, Choice), what="the recovery question")
        await pilot.press("enter")  # Recover
        assert pilot.app.writing.editor.text == "The king and "
        assert "(modified)" in status_line(pilot.app.writing)  # the recovered text is not in the file


async def _crash_with_unsaved_text(trained_run, tmp_path) -> None:
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        screen.write_autosave()  # what the 5-second timer does; then the process "crashes"


async def test_ctrl_q_at_the_recovery_question_keeps_the_unsaved_text(trained_run, tmp_path):
    from chargen_tui.document import Autosave

    await _crash_with_unsaved_text(trained_run, tmp_path)
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, Choice), what="the recovery question")
        await pilot.press("ctrl+q")  # not an answer: the question comes back next time
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert Autosave(tmp_path / "doc.txt", tmp_path / "autosave").read().text == "The king and "


async def test_esc_at_the_recovery_question_loses_nothing(trained_run, tmp_path):
    from chargen_tui.document import Autosave

    await _crash_with_unsaved_text(trained_run, tmp_path)
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, Choice), what="the recovery question")
        await pilot.press("escape")
        assert app.writing.editor.text == "The king and "  # recovered, as unsaved text
        assert "(modified)" in status_line(app.writing)
    assert Autosave(tmp_path / "doc.txt", tmp_path / "autosave").read().text == "The king and "


async def test_a_long_document_opens_with_a_warning_that_it_takes_seconds_to_lay_out(trained_run, tmp_path):
    from chargen_tui.app.screens.writing import LONG_DOCUMENT_LINES

    (tmp_path / "doc.txt").write_text("A line of the long text.\n" * (LONG_DOCUMENT_LINES + 1), encoding="utf-8")
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(pilot, lambda: "is long" in notifications(app), what="the warning")
        assert f"{LONG_DOCUMENT_LINES + 2:,} lines" in notifications(app) and "take seconds" in notifications(app)


async def test_the_editor_lays_out_a_long_text_as_textual_would_after_edits_and_resizes(trained_run, tmp_path):
    """Its wrapped height is counted, not summed, and a wrap at the same width is skipped: the rows
    must stay those Textual's own wrap gives, through edits and resizes."""
    from textual.widgets.text_area import WrappedDocument

    long_line = "word " * 60
    (tmp_path / "doc.txt").write_text(f"short\n{long_line}\n\tend\n" * 50, encoding="utf-8")
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.writing.editor

        def matches_textual() -> bool:
            fresh = WrappedDocument(editor.document, tab_width=editor.indent_width)
            fresh.wrap(editor.wrap_width)
            return (editor.wrapped_document.height == fresh.height
                    and editor.wrapped_document._offset_to_line_info == fresh._offset_to_line_info)

        assert matches_textual()
        editor.move_cursor((1, 3))
        await pilot.press(*"more words here ", "enter", "backspace", "backspace")
        assert matches_textual()
        await pilot.resize_terminal(50, 20)
        await pilot.pause()
        assert matches_textual()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert matches_textual()


async def test_the_prefix_is_the_text_just_before_the_cursor_wherever_it_is(trained_run, tmp_path):
    """The prefix is read from the lines it is on only; it must still be exactly the last characters."""
    text = "short\n" + "x" * 300 + "\n\nab\n" + "y" * 50 + "\nlast line"
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        editor = pilot.app.writing.editor
        editor.load_text(text)
        lines = text.split("\n")
        for row, line in enumerate(lines):
            for column in sorted({0, 1, len(line) // 2, len(line)}):
                editor.move_cursor((row, column))
                before = "\n".join(lines[:row] + [line[:column]])
                for chars in (1, 3, 40, 256, 1000):
                    assert editor.text_before_cursor(chars) == before[-chars:], (row, column, chars)


async def test_a_latin_1_document_is_read_and_saved_in_latin_1(trained_run, tmp_path):
    (tmp_path / "doc.txt").write_bytes("Café crème, ".encode("latin-1"))
    async with writing_app(trained_run, tmp_path, encoding="latin-1").run_test(size=(80, 24)) as pilot:
        assert pilot.app.writing.editor.text == "Café crème, "
        await type_as_a_terminal(pilot, "déjà")
        await pilot.press("ctrl+s")
    assert (tmp_path / "doc.txt").read_bytes() == "Café crème, déjà".encode("latin-1")


async def test_a_character_the_encoding_lacks_is_kept_when_the_save_fails(trained_run, tmp_path):
    from chargen_tui.document import Autosave

    (tmp_path / "doc.txt").write_bytes("Café ".encode("latin-1"))
    app = writing_app(trained_run, tmp_path, encoding="latin-1")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await type_as_a_terminal(pilot, "Жук")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "not saved" in notifications(app), what="the notification")
        assert "no 'Ж' (U+0416, line 1, column 6)" in notifications(app)
        assert app.writing.editor.text == "Café Жук" and "(modified)" in status_line(app.writing)
    assert (tmp_path / "doc.txt").read_bytes() == "Café ".encode("latin-1")  # the file as it was
    assert Autosave(tmp_path / "doc.txt", tmp_path / "autosave").read().text == "Café Жук"


async def test_ctrl_o_opens_another_file(trained_run, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("Once upon a time ", encoding="utf-8")
    async with writing_app(trained_run, tmp_path, document=None).run_test(size=(80, 24)) as pilot:
        screen = pilot.app.writing
        await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
        await pilot.press("ctrl+o")
        await pilot.press(*str(other), "enter")
        assert screen.editor.text == "Once upon a time "
        await wait_for(pilot, lambda: screen.editor.suggestion, what="a suggestion for the opened text")


# --- quitting -----------------------------------------------------------------------------------
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


async def test_text_undone_back_to_the_saved_file_quits_without_asking(trained_run, tmp_path, opened_document):
    app = writing_app(trained_run, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x", "ctrl+z")
        assert app.writing.editor.text == "The king and "
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")


# --- the model ----------------------------------------------------------------------------------
async def test_without_a_model_the_status_line_says_ctrl_l_chooses_one(tmp_path):
    app = ChargenApp(mode="write", autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)):
        assert "ctrl+l" in status_line(app.writing)


async def test_ctrl_l_refuses_a_folder_that_is_not_a_run(tmp_path):
    app = ChargenApp(mode="write", autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+l")
        await pilot.press(*str(tmp_path / "missing"), "enter")
        assert "not a run folder" in drawn_text(app.screen.query_one("#error"))  # the dialog stays, saying why


async def test_ctrl_l_loads_the_run_folder_given(trained_run, tmp_path):
    app = ChargenApp(mode="write", autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+l")
        app.screen.query_one("#path").value = str(trained_run.path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.writing.sampler is not None, what="the chosen model")
        assert "model: run" in status_line(app.writing)


async def test_ctrl_l_offers_the_run_the_app_started_with(trained_run, tmp_path):
    async with writing_app(trained_run, tmp_path).run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+l")
        assert pilot.app.screen.query_one("#path").value == str(trained_run.path)


async def test_the_shipped_model_suggests_on_first_launch(tmp_path):
    from chargen_tui.pretrained import default_run_dir

    app = ChargenApp(mode="write", run=default_run_dir(), autosave_folder=tmp_path / "autosave")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot, typed="said the Ki")  # predict mode: a word it is sure of
        assert "model: english-base (shipped)" in status_line(screen)
        assert editor.suggestion.startswith("ng")


async def test_a_run_folder_without_model_npz_loads_through_keras_and_suggests(trained_run, tmp_path):
    """A run folder from before model.npz: the model loads in the background, the editor works meanwhile."""
    import shutil

    old = tmp_path / "old-run"
    shutil.copytree(trained_run.path, old, ignore=shutil.ignore_patterns("model.npz"))
    from chargen_tui.run_dir import RunDir

    async with writing_app(RunDir(old), tmp_path).run_test(size=(80, 24)) as pilot:
        screen, editor = await start_writing(pilot)
        assert "model: old-run" in status_line(screen) and editor.suggestion


async def test_a_damaged_model_npz_is_said_in_a_notification_and_the_status_line(trained_run, tmp_path):
    import shutil

    from chargen_tui.run_dir import RunDir

    damaged = tmp_path / "damaged"
    shutil.copytree(trained_run.path, damaged)
    (damaged / "model.npz").write_bytes(b"PK\x03\x04 half an npz")
    async with writing_app(RunDir(damaged), tmp_path).run_test(size=(80, 24), notifications=True) as pilot:
        await wait_for(pilot, lambda: "not loaded" in status_line(pilot.app.writing), what="the error")
        assert "ctrl+l chooses a run folder" in status_line(pilot.app.writing)
        await wait_for(pilot, lambda: "is damaged: start a new run" in notifications(pilot.app), what="the notification")


async def test_an_empty_page_says_what_to_do_until_the_first_key(trained_run, tmp_path):
    app = writing_app(trained_run, tmp_path, document=None)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.writing.editor
        assert drawn_text(editor).startswith("Write here.") and "Tab takes it" in drawn_text(editor)
        await pilot.press("T")
        assert "Write here" not in drawn_text(editor) and editor.text == "T"
