"""The English word list that ships with the package (chargen_tui/pretrained/words.txt).

    pip install wordfreq==3.1.1 && python benchmarks/word_list.py

The ghost's word prior (chargen_tui/words.py) needs to know which English words are written and
how often. The `wordfreq` package (Robyn Speer, Apache-2.0 code, CC BY-SA 4.0 data) knows that from
subtitles, news, Wikipedia, books, web text, Reddit and Twitter, but it is a 57 MB wheel of 40
languages that imports in 0.3 s; the prior needs the 50,000 commonest English words alone (0.6 MB).
So this script writes that list once, and the package ships the list, not the dependency. Its
licence (CC BY-SA 4.0, as wordfreq's data) is words.LICENSE.txt beside it.

Each line: a word (lowercase letters, apostrophes inside), a tab, its frequency in words per billion
(wordfreq's "large" English list), commonest first.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import wordfreq

OUT = Path(__file__).resolve().parents[1] / "chargen_tui" / "pretrained" / "words.txt"
WORDS = 50_000
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # wordfreq spells digits as 0s; those, and symbols, are no words


def main() -> None:
    words = [w for w in wordfreq.top_n_list("en", 2 * WORDS, wordlist="large") if WORD.fullmatch(w)][:WORDS]
    lines = [f"{w}\t{round(wordfreq.word_frequency(w, 'en', wordlist='large') * 1e9)}" for w in words]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(lines):,} words, {OUT.stat().st_size:,} bytes (wordfreq {metadata.version('wordfreq')})")


if __name__ == "__main__":
    main()
