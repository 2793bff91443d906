"""The simulated writer: how many keys the ghost text saves, and how often a ghost shown is taken.

    python benchmarks/keystrokes.py --text ../shared/corpora/tinyshakespeare.txt --run RUN_DIR \\
        [--start 0.9] [--chars N] [--mode predict|sample|greedy] [--threshold 0.25 ...] [--temperature 0.5]

It types the text from --start (a fraction of it) on, --chars characters (default: to the end),
one position at a time. At each position it sees the ghost text the writing screen would show: the
suggestion code the screen calls (`suggest.suggestions`, with the same settings) answers for the
text before the cursor, with the words' help (words.py, learning the words typed; --no-words: the
model alone). A ghost the writer goes on typing keeps its rest, as in the editor
(`suggest.kept_after`), until the suggestion computed for the new text replaces it (a few
milliseconds later, before the writer reads it): the writer sees that one, a new ghost if it
differs. If the ghost's first k words (Ctrl+Right each) or all of it (Tab, one key) match the
text to come, it takes the choice that saves the most keys, provided it puts in at least 2
characters per key; otherwise it types one character.

It reports keystroke savings (1 - keys / characters), the useful rate (ghosts taken, in part or
whole / ghosts shown; a ghost typed through, and kept, is the same ghost), coverage (positions with a
ghost / positions) and the time to compute each ghost, p50 and p99 (one thread, nothing else
running: the app's own latency is keystroke_latency.py's).

`--mode greedy` is the baseline policy that predict mode was measured against: the greedy
continuation cut at its last word end at least --threshold likely (one beam, the longest).
Several --threshold values give one line each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chargen_tui.predict import NEXT_WORD  # noqa: E402
from chargen_tui.runtime import use_one_blas_thread  # noqa: E402

PREFIX_CHARS = 256  # what the editor sends of the text before the cursor (at least the model's window)


@dataclass
class Tally:
    chars: int = 0
    keys: int = 0
    positions: int = 0
    covered: int = 0
    shown: int = 0
    taken: int = 0

    def summary(self) -> str:
        return (f"savings {1 - self.keys / self.chars:.1%}  useful {self.taken / max(1, self.shown):.1%}  "
                f"coverage {self.covered / max(1, self.positions):.1%}  "
                f"({self.chars:,} chars, {self.keys:,} keys, {self.shown:,} ghosts shown, {self.taken:,} taken)")


def best_acceptance(ghost: str, to_come: str) -> tuple[int, int]:
    """How many characters of `ghost` to accept, with how many keys ((0, 0): none): the choice of Tab
    (all of it) or k Ctrl+Right that matches `to_come`, saves the most keys and puts in at least 2
    characters per key."""
    best, best_saved = (0, 0), 0
    options = [(len(ghost), 1)] + [(word.end(), k) for k, word in enumerate(NEXT_WORD.finditer(ghost), start=1)]
    for chars, keys in options:
        if chars and to_come.startswith(ghost[:chars]) and chars >= 2 * keys and chars - keys > best_saved:
            best, best_saved = (chars, keys), chars - keys
    return best


def type_text(ghost_for, text: str, start: int, tally: Tally, latencies: list[float]) -> None:
    """Type text[start:] with `ghost_for(prefix) -> (alternatives, seconds)` proposing ghosts."""
    from chargen_tui.suggest import kept_after

    pos = start
    alternatives: list[str] | None = None  # the ghost kept from the last position; None: none
    taken_this = False
    while pos < len(text):
        fresh, seconds = ghost_for(text[max(0, pos - PREFIX_CHARS):pos])
        latencies.append(seconds)
        if not alternatives or fresh[:1] != alternatives[:1]:  # a new ghost replaces the kept one
            taken_this = False
            tally.shown += bool(fresh)
        alternatives = fresh
        ghost = alternatives[0] if alternatives else ""
        tally.positions += 1
        tally.covered += bool(ghost)
        accept, keys = best_acceptance(ghost, text[pos:pos + len(ghost)]) if ghost else (0, 0)
        typed = text[pos:pos + accept] if accept else text[pos]
        tally.keys += keys if accept else 1
        if accept and not taken_this:
            tally.taken += 1
            taken_this = True
        pos += len(typed)
        kept = kept_after(alternatives, 0, typed) if ghost else None
        alternatives = kept[0][kept[1]:kept[1] + 1] if kept else None
    tally.chars += len(text) - start


def ghosts(args, sampler, threshold: float, words=None):
    """The suggestion function the screen calls, with this run's settings (or the greedy baseline),
    and the time each ghost took. Adapting, the model first learns from each whole segment typed (as
    the app does between keystrokes; that time is not a ghost's)."""
    from chargen_tui.adapt import Adapter
    from chargen_tui.predict import likeliest
    from chargen_tui.suggest import SUGGESTION_CHARS, Primes, Request, suggestions

    adapter = Adapter(sampler, args.learning_rate) if args.adapt else None
    primes = Primes(sampler)

    def ghost_for(prefix: str) -> list[str]:
        nonlocal primes
        if words is not None:
            words.follow(prefix)
        if adapter:
            adapter.follow(prefix)
            if adapter.ready:
                while adapter.ready:
                    adapter.step()
                primes = Primes(adapter.sampler)
        model = adapter.sampler if adapter else sampler
        began = time.perf_counter()
        if args.mode == "greedy":
            found = [c for c in likeliest(model, primes.prime(prefix), threshold, SUGGESTION_CHARS, beams=1)
                     if not c.text.endswith((" ", "\t"))]  # it stopped where a word ends, before the space
            ghost = [max(found, key=lambda c: len(c.text)).text] if found else []
        else:
            request = Request(prefix, model, args.mode, threshold, args.temperature, args.seed, words=words)
            ghost = next(suggestions(request, primes=primes))
        return ghost, time.perf_counter() - began
    return ghost_for


def main() -> None:
    use_one_blas_thread()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", required=True)
    parser.add_argument("--run", required=True, help="the run folder of the model")
    parser.add_argument("--start", type=float, default=0.9, help="where to start typing, as a fraction of the text")
    parser.add_argument("--chars", type=int, help="characters to type (default: to the end)")
    parser.add_argument("--mode", choices=("predict", "sample", "greedy"), default="predict")
    parser.add_argument("--threshold", type=float, nargs="+", default=[None])
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0, help="sample mode's random seed")
    parser.add_argument("--growth", type=float, help="predict.GROWTH: grow while this share of the threshold likely")
    parser.add_argument("--beams", type=int, help="predict.BEAMS")
    parser.add_argument("--adapt", action="store_true", help="adapt the model to the text typed (adapt.py)")
    parser.add_argument("--learning-rate", type=float, default=None, help="adaptation's (default: adapt.py's)")
    parser.add_argument("--words", action=argparse.BooleanOptionalAction, default=True,
                        help="complete words with the words' help, as the app does (words.py; default: yes)")
    args = parser.parse_args()

    from chargen_tui.adapt import LEARNING_RATE
    from chargen_tui.predict import THRESHOLD
    from chargen_tui.run_dir import RunDir
    from chargen_tui.sampling import Sampler
    from chargen_tui.words import Words

    text = Path(args.text).read_text(encoding="utf-8")
    start = int(len(text) * args.start)
    text = text[:start + args.chars] if args.chars else text
    run = RunDir(args.run)
    sampler = Sampler.from_run_dir(run)
    import chargen_tui.predict
    for name in ("growth", "beams"):
        if getattr(args, name) is not None:
            setattr(chargen_tui.predict, name.upper(), getattr(args, name))
    args.learning_rate = LEARNING_RATE if args.learning_rate is None else args.learning_rate
    for threshold in args.threshold:
        threshold = THRESHOLD if threshold is None else threshold
        tally, latencies = Tally(), []
        words = Words.for_run(run, sampler) if args.words and args.mode == "predict" else None
        type_text(ghosts(args, sampler, threshold, words), text, start, tally, latencies)
        ms = sorted(1000 * t for t in latencies)
        setting = f"threshold {threshold:g}" if args.mode != "sample" else f"temperature {args.temperature:g}"
        setting += f", adapting (learning rate {args.learning_rate:g})" if args.adapt else ""
        setting += ", words" if words else ""
        print(f"{args.mode} {setting}: {tally.summary()}  latency p50 {statistics.median(ms):.2f} ms "
              f"p99 {ms[int(0.99 * (len(ms) - 1))]:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
