"""The English words and pairs of words that ship with the package (chargen_tui/pretrained/words.txt
and pairs.txt).

    pip install wordfreq==3.1.1 symspellpy==6.10.1 && python benchmarks/word_list.py

The ghost's word knowledge (chargen_tui/words.py) needs to know which English words are written and
how often, and which word tends to follow which. Two well-kept packages know it, but ship far more
than that, so this script writes what is needed once, and the package ships the lists, not the
dependencies (their licences are words.LICENSE.txt beside them):

- words.txt: `wordfreq` (Robyn Speer, Apache-2.0 code, CC BY-SA 4.0 data) knows word frequencies
  from subtitles, news, Wikipedia, books, web text, Reddit and Twitter, but it is a 57 MB wheel of 40
  languages that imports in 0.3 s; the 50,000 commonest English words are 0.6 MB. Each line: a word
  (lowercase letters, apostrophes inside), a tab, its frequency in words per billion, commonest first.
- pairs.txt: `symspellpy` (MIT) ships SymSpell's English bigram dictionary (Wolf Garbe: 242,342 pairs
  of words with their counts in Google Books Ngram, CC BY 3.0); the script reads the file from the
  installed package without importing it. Each line: two words, a tab, the pair's frequency in
  pairs per billion, commonest first; a pair rarer than one in PAIRS_KEPT is left out (below the
  weight words.py gives the pairs, it counts for less than half a pair).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import wordfreq

PRETRAINED = Path(__file__).resolve().parents[1] / "chargen_tui" / "pretrained"
WORDS = 50_000
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # wordfreq spells digits as 0s; those, and symbols, are no words
BIGRAMS = "symspellpy/frequency_bigramdictionary_en_243_342.txt"
PAIRS_KEPT = 600_000  # 2 x words.ENGLISH_PAIRS_WORDS: the rarest pair kept counts as half a pair there


def write_words(out: Path) -> None:
    words = [w for w in wordfreq.top_n_list("en", 2 * WORDS, wordlist="large") if WORD.fullmatch(w)][:WORDS]
    lines = [f"{w}\t{round(wordfreq.word_frequency(w, 'en', wordlist='large') * 1e9)}" for w in words]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(lines):,} words, {out.stat().st_size:,} bytes (wordfreq {metadata.version('wordfreq')})")


def write_pairs(out: Path) -> None:
    source = metadata.distribution("symspellpy").locate_file(BIGRAMS)
    counts = {}
    for line in Path(source).read_text(encoding="utf-8").splitlines():
        first, second, count = line.split()
        counts[f"{first} {second}"] = int(count)
    total = sum(counts.values())
    kept = sorted(((pair, n) for pair, n in counts.items() if n * PAIRS_KEPT >= total), key=lambda p: -p[1])
    lines = [f"{pair}\t{round(n / total * 1e9)}" for pair, n in kept]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(lines):,} of {len(counts):,} pairs, {out.stat().st_size:,} bytes "
          f"(symspellpy {metadata.version('symspellpy')})")


def main() -> None:
    write_words(PRETRAINED / "words.txt")
    write_pairs(PRETRAINED / "pairs.txt")


if __name__ == "__main__":
    main()
