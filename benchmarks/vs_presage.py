"""The ghost text against presage (Debian's word predictor), side by side, under presage's own rules.

    python benchmarks/vs_presage.py --text ../shared/corpora/alice.txt [FILE ...] \\
        [--start 0.9] [--chars 3000] [--run RUN_DIR] [--threshold 0.2] [--no-adapt] \\
        [--user-text FILE [--user-until 0.9]] [--insensitive] [--no-presage-learning] [--no-words] \\
        [--lexicon-weight W] [--jsonl FILE] [--verbose]

Each --text is cut to a slice: from --start (a fraction of the file, moved on to the next word)
--chars characters (carried on to the end of the last word). Each writer types that slice into an
empty document: none sees the text before it.

**presage** (`presage_simulator`, Debian's presage 0.9.1) types the slice twice, with 1 suggestion
and with its default 6, each with a private HOME and a private copy of /etc/presage.xml (the
suggestions count and the user database's path set in it), so its online learning starts empty
and never touches anyone's ~/.presage. With --user-text, that user database is first built from
the user text (`text2ngram -l`, 1- to 3-grams, the first --user-until of the file), as a writer's
"your text" setting would; our side should then be given a run folder fine-tuned on the same
text (--run).

**presage's rules** (its src/simulator/simulator.cpp and src/tools/presageSimulator.cpp):
- The text is cut into tokens by presage's tokenizer: runs of characters that are neither blanks
  (space, \\f \\n \\r \\t \\v) nor ASCII punctuation (its separators, !"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~).
  Punctuation and line breaks cost nothing and are never predicted; text ending in either gives
  one last, empty token (1 key). Case counts (presage suggests in lowercase, so a capitalised word
  never matches; --insensitive is its -i: tokens lowercased on both sides).
- Before typing a token the writer looks at the suggestions: one equal to the token costs ks += 1,
  and the space after it is free. Otherwise it types the token a character at a time (ki += 1 each;
  bytes, in fact: presage counts UTF-8 bytes) and looks after each; a suggestion equal to the token
  then costs ki += 1 and the space is free. A token typed to its end without one costs ki += 1 for
  the space.
- kn += the token's length + 1 (its space). ks starts at 1, not 0.
- KSR = 1 - (ki + ks) / kn.

**chargen-tui under presage's rules** looks where presage's writer looks, at the ghost text the
writing screen would show there (predict mode with --threshold, adapting unless --no-adapt, with
the words' help unless --no-words, as benchmarks/keystrokes.py computes it: computed anew for the
text typed so far, as the editor does after each key). Its one suggestion is the word the ghost
completes: the typed part of the token plus the ghost up to its first blank or separator (where
presage's token would end); no ghost, or one starting with a blank or separator, is no
suggestion. Taking it puts the token in. ki, ks and kn are counted as presage counts them.

**chargen-tui native** is benchmarks/keystrokes.py's simulated writer on the same slice (its
functions, imported): savings (1 - keys / characters, every character counted, punctuation and
line breaks too; Tab or Ctrl+Right to take a ghost), useful rate (ghosts taken / shown) and
coverage (positions with a ghost / positions). The two KSRs do not measure the same thing: native
savings count every character, presage's KSR only the words and their spaces.

Cost: ours is the time to compute each ghost (p50 / p99, one BLAS thread; adaptation steps not
included, as in keystrokes.py); presage's is its wall time (start-up and database included) over
the predictions it made.

--verbose prints each token: presage's suggestions at each look (1 suggestion; the 6-suggestion
run's keys), our word at each look, and the keys each spent. --jsonl appends one JSON line a text.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from argparse import Namespace
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.keystrokes import PREFIX_CHARS, Tally, ghosts, type_text  # noqa: E402
from chargen_tui.runtime import use_one_blas_thread  # noqa: E402

PRESAGE_CONFIG = Path("/etc/presage.xml")
BLANKS = " \f\n\r\t\v"  # presage's DEFAULT_BLANKSPACE_CHARS (core/charsets.h)
SEPARATORS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"  # its DEFAULT_SEPARATOR_CHARS
BOUNDARY = set(BLANKS + SEPARATORS)
TOKEN = re.compile(f"[^{re.escape(BLANKS + SEPARATORS)}]+")
END_MARK = "\n============================\nKeystroke Savings Rate (KSR)"


# --- presage's tokens and counts -----------------------------------------------------------------
def tokens(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each token presage's ForwardTokenizer reads from `text`: runs of neither
    blanks nor separators, and an empty last one when the text ends with either."""
    spans = [m.span() for m in TOKEN.finditer(text)]
    if text and (not spans or spans[-1][1] < len(text)):
        spans.append((len(text), len(text)))
    return spans


def size(text: str) -> int:
    return len(text.encode("utf-8"))  # presage's std::string counts bytes


@dataclass
class Counts:
    """presage's ki, ks, kn, and how each token went."""
    ki: int = 0
    ks: int = 1  # as presage's Simulator starts it
    kn: int = 0
    before: int = 0  # tokens taken before typing any of them
    during: int = 0  # taken after typing part of them
    tokens: int = 0

    def add(self, token: str, hit_after: int | None) -> int:
        """Count one token, taken after typing `hit_after` of its bytes (None: typed to its end); its keys."""
        self.tokens += 1
        self.kn += size(token) + 1
        if hit_after == 0:
            self.ks += 1
            self.before += 1
            return 1
        keys = (hit_after if hit_after is not None else size(token)) + 1
        self.ki += keys
        self.during += hit_after is not None
        return keys

    @property
    def ksr(self) -> float:
        return 1 - (self.ki + self.ks) / self.kn


# --- presage ------------------------------------------------------------------------------------
@dataclass
class PresageRun:
    suggestions: int
    counts: Counts
    reported: dict[str, float]  # what presage_simulator printed: ki, ks, kn, KSR (percent)
    looks: list[list[tuple[str, list[str]]]]  # per token: (presage's prefix, suggestions printed) per look
    keys: list[int]  # per token
    seconds: float

    @property
    def predictions(self) -> int:
        return sum(len(t) for t in self.looks)


def build_user_db(user_text: str, path: Path) -> None:
    """presage's user n-gram database (1- to 3-grams, lowercase, as its default config reads it)."""
    source = path.with_suffix(".txt")
    source.write_text(user_text, encoding="utf-8")
    for n in (1, 2, 3):
        subprocess.run(["text2ngram", "-n", str(n), "-l", "-f", "sqlite", "-o", str(path), str(source)],
                       check=True, stdout=subprocess.DEVNULL)


def run_presage(slice_text: str, words: list[str], suggestions: int, insensitive: bool,
                user_db: Path | None, learning: bool = True) -> PresageRun:
    """presage_simulator on the slice, in a private HOME with a private config; its trace, checked
    against `words` (the tokens we cut) and against its own totals."""
    with tempfile.TemporaryDirectory(prefix="vs-presage-") as tmp:
        home = Path(tmp) / "home"
        (home / ".presage").mkdir(parents=True)
        db = home / ".presage" / "lm.db"
        if user_db:
            shutil.copyfile(user_db, db)
        tree = ET.parse(PRESAGE_CONFIG)
        tree.getroot().find("Selector/SUGGESTIONS").text = str(suggestions)
        tree.getroot().find("Predictors/UserSmoothedNgramPredictor/DBFILENAME").text = str(db)
        tree.getroot().find("ContextTracker/ONLINE_LEARNING").text = "yes" if learning else "no"
        config = Path(tmp) / "presage.xml"
        tree.write(config, encoding="UTF-8", xml_declaration=True)
        text_file = Path(tmp) / "slice.txt"
        text_file.write_bytes(slice_text.encode("utf-8"))
        env = dict(os.environ, HOME=str(home))
        began = time.perf_counter()
        done = subprocess.run(["presage_simulator", "-c", str(config)] + (["-i"] if insensitive else [])
                              + [str(text_file)], env=env, capture_output=True, cwd=tmp)
        seconds = time.perf_counter() - began
    out = done.stdout.decode("utf-8", errors="replace")
    if done.returncode or END_MARK not in out:
        raise SystemExit(f"presage_simulator failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    trace, summary = out.split(END_MARK, 1)
    reported = {k: float(v) for k, v in re.findall(r"^(ki|ks|kn|KSR)\s*:\s*(\S+)$", summary, re.M)}
    blocks = parse_trace(trace)
    counts, looks, spent, i = Counts(), [], [], 0
    for word in words:  # presage looks before the token, then after each byte typed, until a hit
        word = word.lower() if insensitive else word
        token_looks, hit_at = [], None
        for j in range(size(word) + 1):
            name, prefix, shown = blocks[i]
            if name != word:
                raise SystemExit(f"presage read the token {name!r} where we cut {word!r}: tokenizers differ")
            i += 1
            token_looks.append((prefix, shown))
            if word in shown:
                hit_at = j
                break
        spent.append(counts.add(word, hit_at))
        looks.append(token_looks)
    if i != len(blocks):
        raise SystemExit(f"presage made {len(blocks)} predictions, our reading of its rules {i}")
    mine = {"ki": counts.ki, "ks": counts.ks, "kn": counts.kn}
    if any(reported[k] != v for k, v in mine.items()):
        raise SystemExit(f"presage counted {reported}, our reading of its trace {mine}")
    return PresageRun(suggestions, counts, reported, looks, spent, seconds)


def parse_trace(trace: str) -> list[tuple[str, str, list[str]]]:
    """presage_simulator's verbose lines: for each prediction "===> TOKEN", "   > PREFIX", then the
    suggestions it printed (up to the one equal to the token)."""
    blocks = []
    for line in trace.split("\n"):
        if line.startswith("===> "):
            blocks.append([line[5:], None, []])
        elif blocks and blocks[-1][1] is None and line.startswith("   > "):
            blocks[-1][1] = line[5:]
        elif blocks and line:
            blocks[-1][2].append(line)
    return [tuple(b) for b in blocks]


# --- ours under presage's rules ---------------------------------------------------------------
def completed_word(typed: str, ghost: str) -> str:
    """The word a ghost completes: `typed` and the ghost up to presage's next token boundary ("" if none)."""
    end = next((k for k, c in enumerate(ghost) if c in BOUNDARY), len(ghost))
    return typed + ghost[:end] if end else ""


@dataclass
class OursRun:
    counts: Counts
    looks: list[list[tuple[str, str]]] = field(default_factory=list)  # per token: (typed, word suggested)
    keys: list[int] = field(default_factory=list)  # per token
    latencies: list[float] = field(default_factory=list)


def under_presage_rules(ghost_for, text: str, spans: list[tuple[int, int]], insensitive: bool) -> OursRun:
    """Type `text` as presage's writer does, with the ghost the writing screen would show at each
    position (`ghost_for(prefix) -> (alternatives, seconds)`), computed anew after each key as the editor does)."""
    run = OursRun(Counts())

    def ghost_at(pos: int) -> str:  # what the editor shows once the suggestion for the text so far is in
        alternatives, seconds = ghost_for(text[max(0, pos - PREFIX_CHARS):pos])
        run.latencies.append(seconds)
        return alternatives[0] if alternatives else ""

    fold = str.lower if insensitive else str
    pos = 0
    for start, end in spans:
        for p in range(pos, start):  # blanks and separators: typed, neither counted nor predicted
            ghost_at(p)
        token, looks, hit_at = text[start:end], [], None
        for j in range(len(token) + 1):
            word = completed_word(token[:j], ghost_at(start + j))
            looks.append((token[:j], word))
            if word and fold(word) == fold(token):
                hit_at = j
                break
        run.keys.append(run.counts.add(fold(token), None if hit_at is None else size(token[:hit_at])))
        run.looks.append(looks)
        pos = end
    return run


# --- the table ---------------------------------------------------------------------------------
def cut_slice(text: str, start: float, chars: int) -> tuple[int, int]:
    """The slice's bounds: from `start` (a fraction) moved on to the next word's start, `chars`
    characters carried on to the end of the word they end in."""
    begin = int(len(text) * start)
    if begin and not text[begin - 1].isspace():
        m = re.compile(r"\s+").search(text, begin)
        begin = m.end() if m else len(text)
    end = min(len(text), begin + chars)
    while end < len(text) and not text[end].isspace():
        end += 1
    return begin, end


def percentile(ms: list[float], q: float) -> float:
    ms = sorted(ms)
    return ms[int(q * (len(ms) - 1))] if ms else float("nan")


def row(name: str, c: Counts, cost: str, extra: str = "") -> str:
    return (f"| {name} | {100 * c.ksr:.1f}% | {c.ki:,} | {c.ks:,} | {c.kn:,} | {c.before} / {c.during} / "
            f"{c.tokens - c.before - c.during} | {extra} | {cost} |")


def print_trace(spans, text, presage: dict[int, PresageRun], ours: OursRun) -> None:
    """Each token: presage's suggestions at each look (its prefix -> what it printed), the 6-suggestion
    run's keys, our word at each look (typed -> word), and the keys each spent."""
    for t, (start, end) in enumerate(spans):
        one, six = presage[1].looks[t], presage[6].looks[t]
        p1 = "  ".join(f"{prefix or '·'}→{'/'.join(s) or '∅'}" for prefix, s in one)
        mine = "  ".join(f"{typed or '·'}→{word or '∅'}" for typed, word in ours.looks[t])
        print(f"{text[start:end]!r:>16}  presage 1: {presage[1].keys[t]:>2} keys  {p1}")
        print(f"{'':>16}  presage 6: {presage[6].keys[t]:>2} keys  after {len(six)} looks")
        print(f"{'':>16}  ours     : {ours.keys[t]:>2} keys  {mine}")


def fresh_words(args, sampler):
    """The lexicon the app would use with this model, knowing none of the writer's words yet (None: --no-words)."""
    from chargen_tui import words

    if not args.words:
        return None
    lexicon = words.Words.for_run(args.run_dir, sampler)
    lexicon.weight = args.lexicon_weight
    return lexicon


def measure(path: str, args, sampler, user_db: Path | None) -> dict:
    whole = Path(path).read_text(encoding="utf-8")
    begin, end = cut_slice(whole, args.start, args.chars)
    text = whole[begin:end]
    spans = tokens(text)
    words = [text[s:e] for s, e in spans]
    presage = {n: run_presage(text, words, n, args.insensitive, user_db, args.presage_learning) for n in (1, 6)}

    settings = Namespace(adapt=args.adapt, learning_rate=args.learning_rate, mode="predict",
                         temperature=0.5, seed=0)
    ours = under_presage_rules(ghosts(settings, sampler, args.threshold, fresh_words(args, sampler)),
                               text, spans, args.insensitive)
    tally, native_latencies = Tally(), []
    type_text(ghosts(settings, sampler, args.threshold, fresh_words(args, sampler)), text, 0, tally, native_latencies)

    if args.verbose:
        print_trace(spans, text, presage, ours)
    ms = [1000 * s for s in ours.latencies]
    native_ms = [1000 * s for s in native_latencies]
    setting = (f"predict ≥{args.threshold:g}" + (", adapting" if args.adapt else ", as loaded")
               + (f", words (weight {args.lexicon_weight:g})" if args.words else ", no words"))
    print(f"\n{path}: characters {begin:,}-{end:,} of {len(whole):,} ({len(text):,} characters, "
          f"{len(spans):,} tokens); model {args.run_name}, {setting}"
          + (f"; user text {args.user_text} (first {args.user_until:.0%})" if args.user_text else "")
          + ("; case-insensitive (-i)" if args.insensitive else "")
          + ("" if args.presage_learning else "; presage's online learning off"))
    print("| writer | KSR | ki | ks | kn | words taken before / during / typed | native | cost |")
    print("|---|---|---|---|---|---|---|---|")
    for n, run in presage.items():
        per = 1000 * run.seconds / max(1, run.predictions)
        print(row(f"presage, {n} suggestion{'s' if n > 1 else ''}", run.counts,
                  f"{per:.2f} ms/prediction (wall, {run.predictions:,})"))
    print(row("chargen-tui, presage's rules", ours.counts,
              f"p50 {statistics.median(ms):.2f} / p99 {percentile(ms, 0.99):.2f} ms ({len(ms):,} ghosts)"))
    native = (f"savings {1 - tally.keys / tally.chars:.1%}, useful {tally.taken / max(1, tally.shown):.1%}, "
              f"coverage {tally.covered / max(1, tally.positions):.1%}")
    print(f"| chargen-tui native (keystrokes.py) | | | | | | {native} | p50 {statistics.median(native_ms):.2f} / "
          f"p99 {percentile(native_ms, 0.99):.2f} ms ({len(native_ms):,} ghosts) |", flush=True)

    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "text": path, "start": args.start,
        "chars": args.chars, "begin": begin, "end": end, "tokens": len(spans), "run": args.run_name,
        "threshold": args.threshold, "adapt": args.adapt, "words": args.words,
        "lexicon_weight": args.lexicon_weight if args.words else None, "learning_rate": args.learning_rate,
        "insensitive": args.insensitive, "user_text": args.user_text, "presage_learning": args.presage_learning,
        "user_until": args.user_until if args.user_text else None,
        "presage": {str(n): {**asdict(r.counts), "ksr": r.counts.ksr, "seconds": r.seconds,
                             "predictions": r.predictions} for n, r in presage.items()},
        "ours": {**asdict(ours.counts), "ksr": ours.counts.ksr, "ghosts": len(ms),
                 "p50_ms": statistics.median(ms), "p99_ms": percentile(ms, 0.99)},
        "native": {**asdict(tally), "savings": 1 - tally.keys / tally.chars,
                   "useful": tally.taken / max(1, tally.shown), "coverage": tally.covered / max(1, tally.positions),
                   "p50_ms": statistics.median(native_ms), "p99_ms": percentile(native_ms, 0.99)},
    }


def main() -> None:
    use_one_blas_thread()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", nargs="+", action="extend", required=True,
                        help="the texts to type a slice of (one table each)")
    parser.add_argument("--start", type=float, default=0.9, help="where the slice starts, as a fraction of the text")
    parser.add_argument("--chars", type=int, default=3000, help="the slice's length in characters")
    parser.add_argument("--run", help="our model's run folder (default: the shipped model)")
    parser.add_argument("--threshold", type=float, default=None, help="predict mode's (default: the app's)")
    parser.add_argument("--adapt", action=argparse.BooleanOptionalAction, default=True,
                        help="adapt our model to the text as it is typed, as the app does (default: yes)")
    parser.add_argument("--words", action=argparse.BooleanOptionalAction, default=True,
                        help="complete words with the lexicon's help, as the app does (default: yes)")
    parser.add_argument("--lexicon-weight", type=float, default=None, help="words.py's (default: its LEXICON_WEIGHT)")
    parser.add_argument("--learning-rate", type=float, default=None, help="adaptation's (default: adapt.py's)")
    parser.add_argument("--user-text", help="presage's user n-gram database is built from this file (text2ngram)")
    parser.add_argument("--user-until", type=float, default=1.0,
                        help="the fraction of --user-text to read (e.g. 0.9 when it is a --text)")
    parser.add_argument("--presage-learning", action=argparse.BooleanOptionalAction, default=True,
                        help="presage's online learning (its ONLINE_LEARNING; it fails an assertion on some "
                        "non-ASCII text: --no-presage-learning there)")
    parser.add_argument("--insensitive", action="store_true", help="presage_simulator -i: tokens lowercased, "
                        "on our side too")
    parser.add_argument("--jsonl", help="append the figures to this file, one JSON line a text")
    parser.add_argument("--verbose", action="store_true", help="each token: what was suggested, keys spent")
    args = parser.parse_args()

    for tool in ("presage_simulator", "text2ngram"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (Debian: apt install presage)")
    from chargen_tui.adapt import LEARNING_RATE
    from chargen_tui.predict import THRESHOLD
    from chargen_tui.pretrained import default_run_dir
    from chargen_tui.run_dir import RunDir
    from chargen_tui.sampling import Sampler
    from chargen_tui.words import LEXICON_WEIGHT

    run_dir = RunDir(args.run) if args.run else default_run_dir()
    args.run_name = args.run or "the shipped model"
    args.threshold = THRESHOLD if args.threshold is None else args.threshold
    args.learning_rate = LEARNING_RATE if args.learning_rate is None else args.learning_rate
    args.lexicon_weight = LEXICON_WEIGHT if args.lexicon_weight is None else args.lexicon_weight
    args.run_dir = run_dir
    sampler = Sampler.from_run_dir(run_dir)

    with tempfile.TemporaryDirectory(prefix="vs-presage-db-") as tmp:
        user_db = None
        if args.user_text:
            user = Path(args.user_text).read_text(encoding="utf-8")
            user = user[:int(len(user) * args.user_until)]
            user_db = Path(tmp) / "user.db"
            build_user_db(user, user_db)
        for path in args.text:
            if args.user_text:
                whole = Path(path).read_text(encoding="utf-8")
                begin, end = cut_slice(whole, args.start, args.chars)
                if whole[begin:end] in user:
                    raise SystemExit(f"the user text holds the slice of {path}: lower --user-until")
            record = measure(path, args, sampler, user_db)
            if args.jsonl:
                with open(args.jsonl, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
