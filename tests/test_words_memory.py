"""Words in the ghost (words.py) and the memory of the writer's words (memory.py): what is learned,
kept, paused and forgotten, in the core, the app and the CLI."""

from __future__ import annotations

import json
import stat

import pytest

from chargen_tui.cli import main
from chargen_tui.memory import MEMORY_FILE, Memory
from chargen_tui.sampling import Sampler
from chargen_tui.suggest import PREDICT, Request, suggestions
from chargen_tui.words import Learned, Lexicon, Source, Words, corpus_words, english, ngrams_of, read_corpus_words

from .app_helpers import wait_for, writing_app

NEW_WORD = "Zyxwobble"  # in no word list and no corpus: only the memory can complete it


@pytest.fixture(scope="module")
def sampler(trained_run):
    return Sampler.from_run_dir(trained_run)


def ghost(sampler, prefix: str, words: Words) -> str:
    words.follow(prefix)
    shown = next(suggestions(Request(prefix, sampler, PREDICT, words=words)))
    return shown[0] if shown else ""


# --- the core ---------------------------------------------------------------------------------
def test_a_word_is_learned_once_finished_with_the_word_before_it():
    assert ngrams_of("Ask the king, then Zyx") == [((), "Ask"), (("Ask",), "the"), (("Ask", "the"), "king"),
                                                   (("the", "king"), "then")]  # "Zyx" is still being typed
    assert ngrams_of("a king. The end") == [((), "a"), (("a",), "king"), ((), "The")]  # a sentence parts them
    words = Words([])
    words.skip_to()  # a document opened with "I met Zyx" in it
    for typed in ("I met Zyx", "I met Zyxwobble", "I met Zyxwobble ", "I met Zyxwobble to"):
        words.follow(typed)
    assert dict(words.learned.counts) == {"zyxwobble": 1}  # the text before was there when it opened
    assert words.learned.forms["zyxwobble"] == NEW_WORD


def test_the_lexicon_completes_a_word_the_model_cannot_spell(sampler):
    words = Words([Source(Lexicon({"zyxwobble": 5.0, "zyxa": 1.0}))])
    assert ghost(sampler, "the king and Zyx", words).startswith("wobble")
    assert ghost(sampler, "the king and ZYX", words).startswith("WOBBLE")  # the case of what is typed
    assert not ghost(sampler, "the king and Zyx", Words([])).startswith("wobble")


def test_the_word_seen_after_the_last_one_is_the_ghost_at_a_words_start(sampler):
    words = Words([])
    assert not ghost(sampler, "the castle ", words).startswith("Zyxwobble")
    ghost(sampler, "the castle Zyxwobble and the castle ", words)
    assert ghost(sampler, "the castle Zyxwobble and the castle ", words).startswith("Zyxwobble")


def test_the_shipped_model_knows_modern_english_pairs_its_books_never_had():
    from chargen_tui.pretrained import default_run_dir

    run = default_run_dir()
    shipped = Sampler.from_run_dir(run)
    prefix = "I paid for it with my credit c"
    assert ghost(shipped, prefix, Words.for_run(run, shipped)) == "ard"  # not "ards": "card" is likelier
    without_pairs = Words([Source(english().lexicon), read_corpus_words(run)])
    assert ghost(shipped, prefix, without_pairs) != "ard"


def test_a_writers_corpus_speaks_louder_than_generic_english(tmp_path):
    from chargen_tui.run_dir import RunDir

    words_json = {"counts": {"credit": 9, "union": 6}, "forms": {}, "followers": {"credit": {"union": 6}}}
    say = {}
    for generic in (False, True):
        run = RunDir(tmp_path)
        run.words_path.write_text(json.dumps({**words_json, "generic": generic}), encoding="utf-8")
        source = read_corpus_words(run)
        say[generic] = Words([source]).guesses("my credit ")[0]  # how far the phrases are trusted after "credit"
    assert 0 < say[True] < say[False]


def test_training_writes_the_corpus_words_into_the_run_folder(trained_run):
    data = json.loads((trained_run.path / "words.json").read_text(encoding="utf-8"))
    assert data["counts"]["king"] > 10 and data["forms"]["the"] == "the"
    assert data["followers"]["the"]["king"] > 1 and data["followers"]["and the"]
    assert corpus_words("One fish, two fish.")["counts"] == {"fish": 2, "one": 1, "two": 1}


def test_the_memory_is_private_and_kept_across_loads(tmp_path):
    memory = Memory.load(tmp_path / "data")
    memory.learned.add([((), NEW_WORD)])
    memory.save()
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / MEMORY_FILE).stat().st_mode) == 0o600
    assert Memory.load(tmp_path / "data").words() == [(NEW_WORD, 1)]


def test_a_damaged_memory_is_one_clear_error_and_is_left_as_it_is(tmp_path):
    (tmp_path / MEMORY_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match="is damaged: move it away"):
        Memory.load(tmp_path)
    assert (tmp_path / MEMORY_FILE).read_text(encoding="utf-8") == "{not json"


def test_two_processes_keeping_one_memory_lose_neither_what_the_other_learned_nor_what_it_forgot(tmp_path):
    # two editors' language servers, the app and a browser tab each hold the memory they loaded
    first, second = Memory.load(tmp_path), Memory.load(tmp_path)
    first.learned.add([((), "Alphaworth")])
    second.learned.add([((), "Betaworth")])
    first.save()
    second.save()
    assert {word for word, _ in Memory.load(tmp_path).words()} == {"Alphaworth", "Betaworth"}
    assert {word for word, _ in second.words()} == {"Alphaworth", "Betaworth"}  # it sees the other's at once
    second.forget("Alphaworth")  # `chargen-tui memory --forget`, while the first still holds it
    first.learned.add([((), "Gammaworth")])
    first.save()
    assert {word for word, _ in Memory.load(tmp_path).words()} == {"Betaworth", "Gammaworth"}
    second.pause(tmp_path / "diary.txt")
    first.save()
    assert Memory.load(tmp_path).is_paused(tmp_path / "diary.txt")


def test_forgetting_a_word_forgets_the_phrases_it_is_in():
    learned = Learned()
    learned.add(ngrams_of("the Zyxwobble sang and the Zyxwobble sang "))
    assert learned.forget("zyxwobble")
    assert "zyxwobble" not in learned.counts and "zyxwobble" not in learned.followers["the"]
    assert not any("zyxwobble" in context for context in learned.followers)
    assert not learned.forget("zyxwobble")


# --- the app --------------------------------------------------------------------------------------
def memory_app(trained_run, tmp_path, document: str):
    return writing_app(trained_run, tmp_path, document=document, suggest_mode=PREDICT,
                       memory_folder=tmp_path / "memory")


async def write_and_quit(pilot, text: str) -> None:
    screen = pilot.app.writing
    await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
    await pilot.press(*text)
    await pilot.press("ctrl+s", "ctrl+q")
    await wait_for(pilot, lambda: not pilot.app.is_running, what="the app to quit")


async def ghost_after_typing(pilot, text: str) -> str:
    screen = pilot.app.writing
    await wait_for(pilot, lambda: screen.sampler is not None, what="the model to load")
    await pilot.press(*text)
    await pilot.pause(0.3)  # a ghost, if any, comes within a few frames
    await wait_for(pilot, lambda: screen.editor.text.endswith(text), what="the text typed")
    return screen.editor.suggestion


async def test_a_word_typed_in_one_document_is_completed_in_the_next_after_a_restart(trained_run, tmp_path):
    async with memory_app(trained_run, tmp_path, "first.txt").run_test() as pilot:
        assert not (await ghost_after_typing(pilot, "the Zyx")).startswith("wobble")  # unknown yet
        await write_and_quit(pilot, "wobble sang. ")
    async with memory_app(trained_run, tmp_path, "second.txt").run_test() as pilot:
        assert (await ghost_after_typing(pilot, "a Zyx")).startswith("wobble")


async def test_learning_paused_for_a_document_learns_nothing_from_it(trained_run, tmp_path):
    async with memory_app(trained_run, tmp_path, "secret.txt").run_test() as pilot:
        await wait_for(pilot, lambda: pilot.app.writing.words is not None, what="the model to load")
        await pilot.press("f9", "p", "escape")
        await write_and_quit(pilot, "my Zyxwobble password. ")
    assert Memory.load(tmp_path / "memory").words() == []
    async with memory_app(trained_run, tmp_path, "secret.txt").run_test() as pilot:  # still paused there
        await wait_for(pilot, lambda: pilot.app.writing.words is not None, what="the model to load")
        assert pilot.app.writing.words.paused


async def test_the_memory_dialog_forgets_a_word_and_then_everything(trained_run, tmp_path):
    memory = Memory.load(tmp_path / "memory")
    memory.learned.add(ngrams_of(f"the {NEW_WORD} and the Quokkaroo sang "))
    memory.save()
    async with memory_app(trained_run, tmp_path, "doc.txt").run_test() as pilot:
        await wait_for(pilot, lambda: pilot.app.writing.words is not None, what="the model to load")
        await pilot.press("f9")
        options = pilot.app.screen.query_one("OptionList")
        listed = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert sorted(listed) == sorted(["the", NEW_WORD, "and", "Quokkaroo", "sang"])
        options.highlighted = listed.index(NEW_WORD)
        await pilot.press("delete", "escape")
        assert not (await ghost_after_typing(pilot, "a Zyx")).startswith("wobble")
        assert (await ghost_after_typing(pilot, " a Quo")).startswith("kkaroo")
        await pilot.press("f9")
        await pilot.click("#forget-all")
        await pilot.click("#forget")
        await pilot.press("escape")
        assert not (await ghost_after_typing(pilot, " a Quo")).startswith("kkaroo")
    assert Memory.load(tmp_path / "memory").words() == []


# --- the command line ---------------------------------------------------------------------------
def test_the_memory_command_shows_forgets_and_pauses(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    memory = Memory.load()
    memory.learned.add(ngrams_of(f"the {NEW_WORD} and the Quokkaroo sang "))
    memory.learned.add([((), "Quokka\x1b]2;title\x07")])  # a memory file someone else wrote
    memory.save()
    assert main(["memory"]) == 0
    out = capsys.readouterr().out
    assert "6 words learned" in out and f"{NEW_WORD} (1)" in out and "\x1b" not in out and "Quokka␛]2;title␇" in out
    assert main(["memory", "--forget", NEW_WORD.lower(), "nothing"]) == 0
    assert "forgot 'zyxwobble'" in capsys.readouterr().err
    assert NEW_WORD not in [w for w, _ in Memory.load().words()]
    assert main(["memory", "--pause", str(tmp_path / "diary.txt")]) == 0
    assert Memory.load().is_paused(tmp_path / "diary.txt")
    assert main(["memory", "--forget-everything"]) == 0
    assert Memory.load().words() == []
