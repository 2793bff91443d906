"""Modern English (and Russian) texts that no model here trains on, for vs_presage.py, from Debian's packages.

    apt-get install fortunes-min fortunes-ru debian-reference-en
    python benchmarks/modern_texts.py [--out /tmp/chargen-modern]

Writes three UTF-8 texts:
- quotations.txt: fortunes-min's cookies (fortune-mod's selected quotations, riddles and
  literature; BSD licence), one a paragraph;
- technical.txt: the Debian Reference (Osamu Aoki, 2013-2024; GPL-2+), its plain-text edition,
  its ASCII paragraphs (presage_simulator fails an assertion on some others),
  without its tables of contents and link lists (technical prose on a modern system);
- russian.txt: fortunes-ru's cookies (Russian quotations and jokes from the 2000s; public domain
  per its copyright file), one a paragraph: a script the shipped model does not spell.
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

FORTUNES = Path("/usr/share/games/fortunes")
REFERENCE = Path("/usr/share/debian-reference/debian-reference.en.txt.gz")


def cookies(files: list[Path]) -> str:
    """Fortune files' cookies ("%" lines between them), one a paragraph, tabs as spaces."""
    out = []
    for path in files:
        for cookie in re.split(r"^%\s*$", path.read_text(encoding="utf-8", errors="replace"), flags=re.M):
            cookie = "\n".join(line.rstrip() for line in cookie.strip("\n").splitlines()).replace("\t", "    ")
            if cookie.strip():
                out.append(cookie)
    return "\n\n".join(out) + "\n"


def reference() -> str:
    """The Debian Reference's prose: paragraphs of words, not its contents, tables or link lists."""
    text = gzip.decompress(REFERENCE.read_bytes()).decode("utf-8")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    prose = [p for p in paragraphs if len(p) > 200 and p.count(" ") > 30 and "...." not in p and p.count("|") < 3
             and p.isascii()]  # presage_simulator asserts on some non-ASCII text
    return "\n\n".join(prose) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/chargen-modern")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "quotations.txt": cookies([FORTUNES / f"{n}.u8" for n in ("fortunes", "literature", "riddles")]),
        "technical.txt": reference(),
        "russian.txt": cookies(sorted((FORTUNES / "ru").glob("*.u8"))),
    }
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{out / name}: {len(text):,} characters")


if __name__ == "__main__":
    main()
