"""Writes proverbs.txt: 400 made-up proverbs, one per line, for `chargen-tui train --texts lines`.

The project's own small corpus of many short texts (the tests and the README's examples use it).
Made from a fixed grammar and seed, so the file is the same on every run of this script:

    python corpora/proverbs.py
"""

import random
from pathlib import Path

NOUNS = ["river", "stone", "fox", "lamp", "road", "king", "seed", "bell", "cloud", "friend", "door", "fire",
         "crow", "key", "well", "field", "ship", "candle", "wolf", "garden"]
ADJECTIVES = ["old", "quiet", "small", "hungry", "patient", "empty", "bright", "crooked", "borrowed", "cold"]
VERBS = ["waits", "speaks", "forgets", "carries", "breaks", "returns", "grows", "listens", "burns", "wanders"]
ACTIONS = ["trust", "count", "wake", "chase", "sell", "follow", "judge", "feed", "open", "praise"]
PATTERNS = [
    "A {adj} {noun} {verb} longer than a {noun2}.",
    "Never {action} a {noun} before it {verb}.",
    "Every {noun} has its {noun2}.",
    "The {adj} {noun} {verb}; the {noun2} {verb2}.",
    "Who {verb_plain} the {noun} must {action} the {noun2}.",
    "{Adj} is the {noun} that {verb} at night.",
    "One {noun} does not make a {noun2}.",
    "Do not {action} the {noun} with a {adj} {noun2}, for it {verb}.",
]


def proverb(rng: random.Random) -> str:
    noun, noun2 = rng.sample(NOUNS, 2)
    verb, verb2 = rng.sample(VERBS, 2)
    adj = rng.choice(ADJECTIVES)
    return rng.choice(PATTERNS).format(
        noun=noun, noun2=noun2, verb=verb, verb2=verb2, verb_plain=verb, adj=adj, Adj=adj.capitalize(),
        action=rng.choice(ACTIONS))


def main() -> None:
    rng = random.Random(0)
    lines = [proverb(rng) for _ in range(400)]
    Path(__file__).with_name("proverbs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
