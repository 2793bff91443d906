"""Key press to suggestion shown, in the real app driven headless.

    python benchmarks/keystroke_latency.py [--run RUN_DIR] [--text FILE] [--keys 300] [--interval 0.05] \
        [--ahead N] [--mode predict|sample] [--no-adapt] [--train-beside]

Types a passage (the end of --text, by default tinyshakespeare's) one key at a time (a key every
--interval seconds, a fast typist) into the writing screen and times each key from its arrival (as a
terminal delivers it) to the moment the editor holds the new suggestion, ready for the frame that
follows. A key that continues the ghost text keeps the rest of it and needs no model; those are
counted apart, as "kept". Target: p99 < 30 ms, in either suggestion mode, with the model adapting
to the text typed (the app's defaults).
--train-beside first starts the default job on the app's own training screen (Keras `fit` in a
thread of the same process) and types while it trains.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402

SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "tinyshakespeare.txt"


def passage(keys: int, path: Path = SHAKESPEARE) -> str:
    """Text to type: the end of `path` when it exists, else the start of the embedded default corpus."""
    from chargen_tui.corpus import default_corpus

    text = path.read_text(encoding="utf-8")[-20000:] if path.exists() else default_corpus()[:20000]
    return " ".join(text.split())[:keys]  # one line: the ghost text lives on the cursor's line


async def measure(run_dir, text: str, interval: float, suggest_mode: str, adapting: bool,
                  train_beside: bool) -> tuple[list[float], list[float]]:
    from textual import events

    from chargen_tui.app.app import ChargenApp

    app = ChargenApp(mode="write", run=run_dir, autosave_folder=Path(tempfile.mkdtemp()),
                     memory_folder=Path(tempfile.mkdtemp()), suggest_mode=suggest_mode,
                     adapting=adapting)
    computed, kept = [], []
    async with app.run_test(size=(80, 24)):
        screen, editor = app.writing, app.writing.editor
        while screen.sampler is None:
            await asyncio.sleep(0.05)
        if train_beside:
            await start_training(app)
        await asyncio.sleep(0.5)
        # Wake on the editor's own calls instead of polling: a polling loop would hold the GIL
        # and slow the suggestion thread it measures.
        changed, shown = asyncio.Event(), asyncio.Event()
        shown_at = [0.0]  # when the editor took the first suggestions for the text the key made

        def taken(accepted: bool) -> None:
            # Before the key's edit (`changed`), an accepted answer is the previous prefix's second one.
            if accepted and changed.is_set() and not shown.is_set():
                shown_at[0] = time.perf_counter()
                shown.set()

        editor.update_suggestion = after_each_call(editor.update_suggestion, lambda _: changed.set())
        editor.show_suggestions = after_each_call(editor.show_suggestions, taken)
        for char in text:
            changed.clear(), shown.clear()
            started = time.perf_counter()
            app._driver.send_message(events.Key(char if char != " " else "space", char))
            await changed.wait()
            if editor.suggestion:  # the typed key continued the ghost text
                kept.append(time.perf_counter() - started)
            else:
                await shown.wait()
                computed.append(shown_at[0] - started)
            await asyncio.sleep(interval)
        if train_beside:
            app.training.action_stop()  # after its batch, as F7 does: the app then quits at once
            while app.training.running:
                await asyncio.sleep(0.1)
    return computed, kept


async def start_training(app) -> None:
    """Start the default job on the training screen, as F5 there does, and come back once it trains."""
    from textual.widgets import Input

    app.switch_mode("train")
    await asyncio.sleep(0.5)
    app.training.query_one("#out", Input).value = tempfile.mkdtemp()
    app.training.action_start()
    while app.training.progress is None:  # TensorFlow imported, the first batches done
        await asyncio.sleep(0.1)
    app.switch_mode("write")


def after_each_call(method, signal):
    """`method`, calling `signal(result)` after each call."""
    def wrapped(*args, **kwargs):
        result = method(*args, **kwargs)
        signal(result)
        return result
    return wrapped


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)}"
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"n={len(values)}  p50 {q[49] * 1000:.1f} ms  p90 {q[89] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms  " \
           f"max {max(values) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="run folder of the model (default: the shipped model)")
    parser.add_argument("--text", type=Path, default=SHAKESPEARE, help="a text to type the end of (default: "
                        "tinyshakespeare's, from the shared corpora)")
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between keys")
    parser.add_argument("--ahead", type=int, default=None,
                        help="windows primed ahead while the writer pauses (default: suggest.LIKELY_NEXT)")
    parser.add_argument("--mode", choices=("predict", "sample"), default="predict")
    parser.add_argument("--no-adapt", dest="adapt", action="store_false")
    parser.add_argument("--train-beside", action="store_true", help="type while the app trains the default job")
    args = parser.parse_args()
    use_one_blas_thread()
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    from chargen_tui.run_dir import RunDir
    if args.run:
        run_dir = RunDir(args.run)
    else:
        from chargen_tui.pretrained import default_run_dir
        run_dir = default_run_dir()
    config = run_dir.read_config()
    if args.ahead is not None:
        import chargen_tui.suggest
        chargen_tui.suggest.LIKELY_NEXT = args.ahead
    print(f"model {run_dir.path} (LSTM {config.layers}x{config.units}, window {config.seq_len}); "
          f"a key every {args.interval * 1000:.0f} ms; {args.mode} mode{', adapting' if args.adapt else ''}"
          f"{'; training beside it' if args.train_beside else ''}")
    computed, kept = asyncio.run(measure(run_dir, passage(args.keys, args.text), args.interval, args.mode,
                                         args.adapt, args.train_beside))
    print(f"key -> new suggestion shown : {percentiles(computed)}")
    print(f"key -> kept suggestion      : {percentiles(kept)}")
    print(f"all keys                    : {percentiles(computed + kept)}")


if __name__ == "__main__":
    main()
