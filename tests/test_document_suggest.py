"""Documents (open, atomic save, the crash copy) and the suggestion mailbox, without the UI."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from chargen_tui.document import Autosave, open_document, save_document
from chargen_tui.errors import UserError
from chargen_tui.suggest import LatestOnly


def test_a_new_file_opens_empty_and_saving_creates_it(tmp_path):
    path = tmp_path / "new.txt"
    assert open_document(path) == ""
    save_document(path, "Ünïcödé 日本\n")
    assert open_document(path) == "Ünïcödé 日本\n"
    assert [p.name for p in tmp_path.iterdir()] == ["new.txt"]  # no temporary file left behind


@pytest.mark.parametrize("data, fragment", [(b"\x00\x01binary", "binary"), (b"caf\xe9", "not valid utf-8")])
def test_a_file_that_is_not_text_is_one_clear_error(tmp_path, data, fragment):
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    with pytest.raises(UserError, match=fragment):
        open_document(path)


def test_the_autosave_copy_is_per_document_and_gone_once_cleared(tmp_path):
    first, second = Autosave(tmp_path / "a.txt", tmp_path / "auto"), Autosave(tmp_path / "b.txt", tmp_path / "auto")
    assert first.read() is None
    first.write("unsaved words")
    assert first.read().text == "unsaved words" and second.read() is None
    first.clear()
    assert first.read() is None


def test_a_damaged_autosave_copy_is_ignored(tmp_path):
    autosave = Autosave(None, tmp_path)
    autosave.path.parent.mkdir(parents=True, exist_ok=True)
    autosave.path.write_text("{not json", encoding="utf-8")
    assert autosave.read() is None


def test_the_mailbox_hands_over_only_the_newest_request():
    box = LatestOnly()
    box.put("a")
    box.put("ab")
    assert box.take(timeout=0.01) == "ab"
    assert box.take(timeout=0.01) is None
    threading.Timer(0.05, box.put, args=("abc",)).start()
    assert box.take(timeout=5) == "abc"  # a waiting taker wakes when a request arrives


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "chargen_tui", *args], capture_output=True, text=True,
                          timeout=60, **kwargs)


def test_write_and_watch_refuse_bad_input_in_one_line(tmp_path, trained_run):
    binary = tmp_path / "doc.bin"
    binary.write_bytes(b"\x00\x01\x02")
    cases = [(["write", str(trained_run.path), "--file", str(binary)], "binary"),
             (["write", str(tmp_path / "nothing")], "not a run folder"),
             (["watch", str(tmp_path)], "has no config.json"),
             (["write", str(trained_run.path)], "needs a terminal")]  # stdin and stdout are pipes here
    for args, fragment in cases:
        result = run_cli(*args, stdin=subprocess.DEVNULL)
        assert result.returncode == 2, (args, result.stderr)
        assert fragment in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_write_opens_a_file_in_the_encoding_its_error_names(tmp_path, trained_run):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café crème".encode("latin-1"))
    refused = run_cli("write", str(trained_run.path), "--file", str(latin), stdin=subprocess.DEVNULL)
    assert "not valid utf-8" in refused.stderr and "--encoding latin-1" in refused.stderr
    # taken: the run stops only where it needs a terminal (stdin and stdout are pipes here)
    taken = run_cli("write", str(trained_run.path), "--file", str(latin), "--encoding", "latin-1",
                    stdin=subprocess.DEVNULL)
    assert taken.returncode == 2 and "needs a terminal" in taken.stderr, taken.stderr
    unknown = run_cli("write", str(trained_run.path), "--encoding", "latin-9x", stdin=subprocess.DEVNULL)
    assert unknown.returncode == 2 and "unknown encoding 'latin-9x'" in unknown.stderr, unknown.stderr


def test_suggestions_are_the_same_from_a_remembered_prime(trained_run):
    from chargen_tui.sampling import Sampler
    from chargen_tui.suggest import SAMPLE, Primes, Request, suggestions

    sampler = Sampler.from_run_dir(trained_run)
    primes = Primes(sampler)
    request = Request("The king and the queen walked to the old ", sampler, SAMPLE, temperature=1.0, seed=5)
    fresh = list(suggestions(request))
    assert list(suggestions(request, primes=primes)) == fresh
    assert list(suggestions(request, primes=primes)) == fresh  # the second time from the remembered state
    assert fresh[0] == fresh[1][:1] and len(fresh[1]) == 3


def test_the_suggester_answers_the_newest_request_only_then_primes_ahead(trained_run):
    from chargen_tui.sampling import Sampler
    from chargen_tui.suggest import LIKELY_NEXT, SAMPLE, Request, Suggester

    sampler = Sampler.from_run_dir(trained_run)
    suggester = Suggester()
    answers = []
    suggester.ask(Request("The ki", sampler, SAMPLE, seed=1))
    suggester.ask(Request("The kin", sampler, SAMPLE, seed=1))  # typed before the first was taken
    done = threading.Event()
    thread = threading.Thread(target=suggester.serve, args=(lambda request, alts: answers.append(request.prefix), done.is_set))
    thread.start()
    time.sleep(1.0)
    done.set()
    thread.join(timeout=5)
    assert answers == ["The kin", "The kin"]  # the one to show, then all the alternatives
    likely = suggester.primes.likely_next("The kin", LIKELY_NEXT)
    assert len(likely) == LIKELY_NEXT and all(suggester.primes.has("The kin" + char) for char in likely)
