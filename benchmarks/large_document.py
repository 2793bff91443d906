"""A large document in the writing screen: the time to open it, and each key's time to the screen.

    python benchmarks/large_document.py [--megabytes 20] [--keys 100] [--interval 0.1] [--run RUN_DIR] \
        [--mode predict|sample] [--no-adapt] [--line-chars N] [--profile FILE]

Writes a document of --megabytes (tinyshakespeare repeated, or the embedded default corpus when the
shared corpora are not there; --line-chars N joins its lines into paragraphs of about N characters,
one line each, as prose often is) and opens it in the real app, headless at 80x24 (`run_test`).
Open: from the app's start to its first frame with the document in the editor (reading the file,
the editor taking the text, the recovery check, the first layout). Keys: --keys keys typed at the
document's end, one every --interval seconds, each timed from its arrival (as a terminal delivers it)
to the next frame the app composes after the edit (headless, Textual composes the frame and its
driver writes nothing). The autosave timer runs as in the app: keys that meet it count. Target: a
key on a 20 MB document within 50 ms (p99). --profile FILE writes cProfile's figures of the
typing (sorted by cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.keystroke_latency import after_each_call, percentiles  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402

SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "tinyshakespeare.txt"
TYPED = "And so the king went on, and on, to the end of the day. "


def large_text(megabytes: float, line_chars: int | None) -> str:
    from chargen_tui.corpus import default_corpus

    base = SHAKESPEARE.read_text(encoding="utf-8") if SHAKESPEARE.exists() else default_corpus()
    if line_chars:
        words, lines, line = base.split(), [], []
        for word in words:
            line.append(word)
            if sum(map(len, line)) + len(line) >= line_chars:
                lines.append(" ".join(line))
                line = []
        base = "\n".join(lines) + "\n"
    size = int(megabytes * 1_000_000)
    return (base * (size // len(base) + 1))[:size]


async def measure(run_dir, document: Path, keys: int, interval: float, suggest_mode: str, adapting: bool,
                  profile: Path | None) -> tuple[float, list[float], list[str]]:
    from textual import events

    from chargen_tui.app.app import ChargenApp

    app = ChargenApp(mode="write", run=run_dir, document=document, autosave_folder=Path(tempfile.mkdtemp()),
                     memory_folder=Path(tempfile.mkdtemp()), suggest_mode=suggest_mode, adapting=adapting)
    frame = asyncio.Event()
    frame_at = [0.0]

    def display(screen, renderable, _display=app._display) -> None:
        _display(screen, renderable)
        if renderable is not None and not frame.is_set():
            frame_at[0] = time.perf_counter()
            frame.set()

    app._display = display
    started = time.perf_counter()
    async with app.run_test(size=(80, 24), notifications=True):
        editor = app.writing.editor
        while editor.document.line_count <= 1:
            await asyncio.sleep(0.01)
        frame.clear()
        await frame.wait()  # the first frame with the document in it
        opened = frame_at[0] - started
        notes = [notification.message for notification in app._notifications]
        await asyncio.sleep(1.0)  # the model loaded, the first suggestion shown
        edited = asyncio.Event()
        editor.edit = after_each_call(editor.edit, lambda _: edited.set())
        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        times = []
        text = (TYPED * (keys // len(TYPED) + 1))[:keys]
        for char in text:
            edited.clear()
            sent = time.perf_counter()
            app._driver.send_message(events.Key(char if char != " " else "space", char))
            await edited.wait()
            frame.clear()
            await frame.wait()
            times.append(frame_at[0] - sent)
            await asyncio.sleep(interval)
        if profiler:
            profiler.disable()
            import pstats
            with profile.open("w") as out:
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        assert editor.text.endswith(text)
    return opened, times, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--run", help="run folder of the model (default: the shipped model)")
    parser.add_argument("--mode", choices=("predict", "sample"), default="predict")
    parser.add_argument("--no-adapt", dest="adapt", action="store_false")
    parser.add_argument("--line-chars", type=int, default=None,
                        help="join the text's lines into paragraphs of about this many characters")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile's figures of the typing here")
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    from chargen_tui.pretrained import default_run_dir
    from chargen_tui.run_dir import RunDir

    run_dir = RunDir(args.run) if args.run else default_run_dir()
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder) / "large.txt"
        text = large_text(args.megabytes, args.line_chars)
        document.write_text(text, encoding="utf-8")
        lines = text.count("\n")
        print(f"document: {len(text) / 1e6:.1f} M characters, {lines:,} lines; model {run_dir.path.name}; "
              f"{args.mode} mode{', adapting' if args.adapt else ''}; a key every {args.interval * 1000:.0f} ms")
        opened, times, notes = asyncio.run(measure(run_dir, document, args.keys, args.interval, args.mode,
                                                   args.adapt, args.profile))
    print(f"open (start to first frame with the document): {opened:.2f} s")
    print(f"key -> next frame: {percentiles(times)}")
    for note in notes:
        print(f"notification: {note}")


if __name__ == "__main__":
    main()
