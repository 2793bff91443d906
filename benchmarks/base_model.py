"""The base model: the English model that ships in the package and that `--from default` fine-tunes.

    python benchmarks/base_model.py --out runs/base --budget 3600             # the shipped base
    python benchmarks/base_model.py --out runs/base-no-alice --budget 1200 --without alice   # for finetune.py
    python benchmarks/base_model.py --evaluate chargen_tui/pretrained          # each corpus' loss, no training
    python benchmarks/base_model.py --words chargen_tui/pretrained             # its words.json, no training

Trains with the engine's defaults, planned for `--budget` seconds (`--time-budget`), on all the
English text we have: ../shared/corpora/alice, nietzsche and tinyshakespeare, and Python's
documentation topics (the embedded default corpus). Each corpus' last 10% is held out, and the
run's validation text is those four parts (the last part of the corpus file this writes). The
vocabulary is printable ASCII, Latin-1's letters and signs and the common typographic characters,
whether or not the text has them (`--extra-chars`), and every other paragraph of the prose's
training part is set in typographic punctuation (curly quotes, dashes, ellipses), as text from a
word processor is: the base knows both. Prints each corpus' validation loss (read contiguously).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chargen_tui.corpus import default_corpus, read_corpus  # noqa: E402
from chargen_tui.run_dir import RunDir  # noqa: E402
from chargen_tui.runtime import send_tensorflow_logs_to, use_one_blas_thread  # noqa: E402

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
PROSE = ("alice", "nietzsche", "tinyshakespeare")
VAL_FRACTION = 0.1
BASE_CHARS = ("\t\n" + "".join(map(chr, range(32, 127)))
              + "".join(chr(c) for c in range(0xA0, 0x100) if c != 0xAD)  # Latin-1, without the soft hyphen
              + "‘’‚“”„–—…•′″‹›€™ŒœŠšŽžŸ")


def corpora(without: list[str]) -> dict[str, str]:
    texts = {name: read_corpus(CORPORA / f"{name}.txt") for name in PROSE if name not in without}
    if "pydoc" not in without:
        texts["pydoc"] = default_corpus()
    return texts


def split(text: str) -> tuple[str, str]:
    cut = int(len(text) * (1 - VAL_FRACTION))
    return text[:cut], text[cut:]


def typographic(text: str) -> str:
    """Straight quotes, double hyphens and three dots as a word processor sets them."""
    text = text.replace("...", "…").replace("--", "—")
    text = re.sub(r'(^|[\s(\[—])"', "\\1“", text).replace('"', "”")
    text = re.sub(r"(^|[\s(\[—])'", "\\1‘", text).replace("'", "’")
    return text


def base_corpus(texts: dict[str, str]) -> tuple[str, float]:
    """The training parts (the prose's every other paragraph typographic), then the validation parts;
    and the fraction the validation parts are of the whole."""
    train, val = [], []
    for name, text in texts.items():
        head, tail = split(text)
        if name in PROSE:
            paragraphs = head.split("\n\n")
            head = "\n\n".join(typographic(p) if i % 2 else p for i, p in enumerate(paragraphs))
        train.append(head)
        val.append(tail)
    whole_train, whole_val = "\n\n".join(train) + "\n\n", "\n\n".join(val)
    return whole_train + whole_val, len(whole_val) / (len(whole_train) + len(whole_val))


def evaluate(run: RunDir, texts: dict[str, str]) -> None:
    from chargen_tui.sampling import Sampler

    sampler = Sampler.from_run_dir(run)
    for name, text in texts.items():
        tail = split(text)[1]
        known = "".join(c for c in tail if c in sampler.vocab.char_index)  # the others would score padding
        loss = sampler.contiguous_loss(sampler.vocab.encode(known))
        unknown = f", {len(tail) - len(known):,} it does not know left out" if len(known) < len(tail) else ""
        print(f"{name}: validation (its last 10%, {len(tail):,} chars{unknown}) {loss:.4f} nats/char", flush=True)


def write_words(run: RunDir, texts: dict[str, str]) -> None:
    from chargen_tui.files import atomic_write_text
    from chargen_tui.words import corpus_words

    text, val_fraction = base_corpus(texts)
    words = corpus_words(text[:round(len(text) * (1 - val_fraction))])
    words["generic"] = True  # no one's writing: its phrases count less than a writer's corpus' (words.py)
    atomic_write_text(run.words_path, json.dumps(words, ensure_ascii=False))
    print(f"{run.words_path}: {len(words['counts']):,} words, {sum(map(len, words['followers'].values())):,} phrases, "
          f"{run.words_path.stat().st_size:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="the run folder (it keeps the corpus it trains on as corpus.txt)")
    parser.add_argument("--budget", type=float, default=3600, help="seconds of training (default: 3600)")
    parser.add_argument("--without", action="append", default=[], choices=(*PROSE, "pydoc"),
                        help="leave a corpus out (repeatable): a base that has not seen a text to fine-tune on")
    parser.add_argument("--resume", action="store_true", help="go on with the run in --out")
    parser.add_argument("--evaluate", metavar="RUN_DIR", help="train nothing: each corpus' loss for RUN_DIR")
    parser.add_argument("--words", metavar="RUN_DIR", help="train nothing: write RUN_DIR's words.json (the "
                        "training parts' words and phrases, as a training writes it; for a base trained before it)")
    args = parser.parse_args()
    use_one_blas_thread()
    texts = corpora(args.without)
    if args.evaluate:
        return evaluate(RunDir(args.evaluate), texts)
    if args.words:
        return write_words(RunDir(args.words), texts)
    if not args.out:
        parser.error("give --out RUN_DIR (or --evaluate RUN_DIR)")
    send_tensorflow_logs_to(Path(tempfile.gettempdir()) / "chargen-tui-benchmarks.log")
    import chargen_tui as cg

    path = Path(args.out) / "corpus.txt"
    if not args.resume:
        text, val_fraction = base_corpus(texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(text):,} chars ({', '.join(texts)}), validation {val_fraction:.4f}", flush=True)
        knobs = dict(time_budget=args.budget, extra_chars=BASE_CHARS, val_fraction=val_fraction)
    else:
        knobs = {}
    cg.train(path, out=args.out, resume=args.resume, **knobs)
    evaluate(RunDir(args.out), texts)


if __name__ == "__main__":
    main()
