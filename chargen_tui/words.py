"""Words: what the ghost knows of whole words, beside what the character model spells.

The character model finishes a word only once its first letters leave little doubt, and it knows
the words of the text it was trained on. Two kinds of word knowledge do better, each mixed into the
probability of the word at the cursor's completions (Smart Compose blends a word n-gram model into
its neural one the same way, Chen et al. 2019):

- **A lexicon**: how often each word is written. After "expl", "explain" is likelier than the
  model alone would say. In a word (some of it typed), each completion is as likely as

      (1 - LEXICON_WEIGHT) * P_model(rest, then a word end) + LEXICON_WEIGHT * P_lexicon(word | typed)

  P_lexicon being the word's share of the known words that start with what is typed: the 50,000
  commonest English words (pretrained/words.txt, from wordfreq; for a model that spells English),
  the words of the run's corpus (words.json in its run folder) and the writer's (`Learned`).
- **Phrases**: the words seen after the word before, and after the two before (pairs and
  triples, like presage's 3-grams), in what the writer wrote and in the run's corpus, and which
  English word follows which (pretrained/pairs.txt: Google Books' counts, for a model that spells
  English). Their say over the mixture is Witten and Bell's estimate of how far to trust a context
  (more the more often it was followed, less the more different words followed it), and they speak
  at a word's start too, where the lexicon, knowing nothing of the context, is silent.

The model still decides the rest: what comes after the word, and the case of a word's first letter.
What the writer writes is learned as it is written (`Words.follow`, unless paused); memory.py
keeps it across documents and sessions.
"""

from __future__ import annotations

import json
import re
import threading
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

from . import predict
from .predict import is_word_char

if TYPE_CHECKING:
    from .run_dir import RunDir
    from .sampling import Sampler, State

ENGLISH = Path(__file__).resolve().parent / "pretrained" / "words.txt"
ENGLISH_PAIRS = ENGLISH.with_name("pairs.txt")  # which English word follows which (Google Books' counts)
CORPUS_WORDS = 50_000  # the commonest words of a corpus kept in words.json
CORPUS_FOLLOWERS = 200_000  # and its commonest pairs and triples of words (seen twice at least)

LEXICON_WEIGHT = 0.5  # the lexicon's share of a completion's probability (measured: docs/experiments.md)
CANDIDATES = 8  # the lexicon's likeliest completions scored by the model
CONTEXT = 2  # words a word is learned after: word pairs and triples, as presage's 3-grams
# How far to trust the words seen after a context (`_witten_bell`): as if each different word that
# followed it, and the context itself, had been seen twice more with nothing after them; a run's
# corpus' phrases count half as much as the writer's own, and generic English's (the shipped base's
# corpus, the English pairs: no one's writing) a third (measured: docs/experiments.md).
CAUTION = 2.0
CORPUS_DISCOUNT = 0.5
GENERIC_DISCOUNT = 1 / 3
ENGLISH_PAIRS_WORDS = 300_000  # the English pairs count as a corpus of this many words would (measured)

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")  # a word of a text: letters and digits, apostrophes inside
TYPED = re.compile(r"[^\W_]+(?:['’][^\W_]*)*$")  # the part of a word before the cursor
GAP = re.compile(r"[,;:\-\"“”]*\s+")  # what parts two words of one phrase: a space, maybe after a comma or a quote
END = chr(0x10FFFF)  # sorts after every character: keys starting with p lie in [p, p + END)


def key(word: str) -> str:
    return word.lower().replace("’", "'")


def ngrams_of(text: str, start: int = 0, ended_from: int = 0) -> list[tuple[tuple[str, ...], str]]:
    """The words of `text[start:]` that end at `ended_from` or after, with a character after them
    (the words finished there), each with the words of its phrase before it (up to CONTEXT, the
    nearest last): words a gap parts (a sentence's end parts them)."""
    found, context, previous_end = [], (), -1
    for match in WORD.finditer(text, start):
        word = match.group()
        if match.start() == start and start > 0 and is_word_char(text[start - 1]):
            continue  # cut: not the whole word
        if match.end() >= len(text):
            break  # still being typed
        if not GAP.fullmatch(text, previous_end, match.start()):
            context = ()
        if match.end() >= ended_from:
            found.append((context, word))
        context, previous_end = (context + (word,))[-CONTEXT:], match.end()
    return found


def context_before(prefix: str) -> tuple[str, ...]:
    """The words of the phrase before the next word, when `prefix` ends where one starts (after a gap)."""
    if not prefix or not prefix[-1].isspace():
        return ()
    found = ngrams_of(prefix[-200:] + "x.")  # "x": a word where the next one starts
    return found[-1][0] if found else ()


def _context_key(context: tuple[str, ...]) -> str:
    return " ".join(key(w) for w in context)  # a key holds no space: the words stay apart


class Lexicon:
    """Words by their key (lowercase), with weights (counts or frequencies) and the form each is
    usually written in; searchable by prefix."""

    def __init__(self, weights: dict[str, float], forms: dict[str, str] | None = None) -> None:
        self.keys = sorted(weights)
        self.weights = np.array([weights[k] for k in self.keys], dtype=np.float64)
        self.cumulative = np.concatenate([[0.0], np.cumsum(self.weights)])
        self.total = float(self.cumulative[-1])
        self.forms = forms or {}

    @classmethod
    def read(cls, path: Path) -> "Lexicon":
        """A word list of "word<TAB>weight" lines."""
        return cls(dict(_weighted_lines(path)))

    def span(self, prefix: str) -> tuple[int, int]:
        return bisect_left(self.keys, prefix), bisect_left(self.keys, prefix + END)

    def weight_of_prefix(self, prefix: str) -> float:
        lo, hi = self.span(prefix)
        return float(self.cumulative[hi] - self.cumulative[lo])

    def weight(self, word_key: str) -> float:
        i = bisect_left(self.keys, word_key)
        return float(self.weights[i]) if i < len(self.keys) and self.keys[i] == word_key else 0.0

    def likeliest(self, prefix: str, count: int) -> list[str]:
        """The keys of the `count` heaviest words that start with `prefix`."""
        lo, hi = self.span(prefix)
        if hi - lo > count:
            best = lo + np.argpartition(self.weights[lo:hi], -count)[-count:]
        else:
            best = range(lo, hi)
        return [self.keys[i] for i in best]


class Learned:
    """Words counted as they come (the writer's), with the form each was last written in, and which
    word followed which; its Lexicon is rebuilt when asked for after a change."""

    def __init__(self, counts: dict[str, int] | None = None, forms: dict[str, str] | None = None,
                 followers: dict[str, dict[str, int]] | None = None) -> None:
        self.counts: Counter[str] = Counter(counts or {})
        self.forms = dict(forms or {})
        self.followers: dict[str, Counter[str]] = {c: Counter(n) for c, n in (followers or {}).items()}
        """By the words before (their keys, spaced): the words seen after them, and how often."""
        self._lexicon: Lexicon | None = None
        self.lock = threading.Lock()  # learned in the suggestions' thread, saved in the UI's
        self.changes = 0  # how many times it changed (what was saved is known by it)
        self.journal: list[tuple[str, Any]] | None = None  # kept (memory.py): the changes since the last save

    def add(self, words: Iterable[tuple[tuple[str, ...], str]]) -> None:
        """Learn each word, and that it followed the words before it (`ngrams_of`)."""
        words = list(words)
        with self.lock:
            self._note("add", words)
            for context, word in words:
                self.counts[key(word)] += 1
                self.forms[key(word)] = word
                for n in range(1, len(context) + 1):
                    self.followers.setdefault(_context_key(context[-n:]), Counter())[key(word)] += 1
                self._lexicon = None
                self.changes += 1

    def after(self, context: str) -> Counter[str]:
        with self.lock:
            return Counter(self.followers.get(context, {}))

    def forget(self, word: str) -> bool:
        """Forget a word, and every pair and triple it is in."""
        gone = key(word)
        with self.lock:
            self._note("forget", word)
            found = self.counts.pop(gone, None) is not None
            self.forms.pop(gone, None)
            for context in [c for c in self.followers if gone in c.split(" ")]:
                del self.followers[context]
            for followers in self.followers.values():
                followers.pop(gone, None)
            self._lexicon = None
            self.changes += 1
            return found

    def clear(self) -> None:
        with self.lock:
            self._note("clear", None)
            self.counts.clear()
            self.forms.clear()
            self.followers.clear()
            self._lexicon = None
            self.changes += 1

    def _note(self, change: str, argument: Any) -> None:
        if self.journal is not None:
            self.journal.append((change, argument))

    def replay(self, journal: list[tuple[str, Any]]) -> None:
        """Make the changes of another's journal here (what one process learned, on what the file holds)."""
        for change, argument in journal:
            {"add": self.add, "forget": self.forget, "clear": lambda _: self.clear()}[change](argument)

    def take(self, other: "Learned") -> None:
        """Hold what `other` holds, in place (the words and the suggestions' thread hold this object).
        Called with `self.lock` held."""
        self.counts, self.forms, self.followers = other.counts, other.forms, other.followers
        self._lexicon = None

    @property
    def lexicon(self) -> Lexicon:
        with self.lock:
            if self._lexicon is None:
                self._lexicon = Lexicon(dict(self.counts), dict(self.forms))
            return self._lexicon


@dataclass
class Source:
    """A lexicon and its phrases, an equal share of what the words know with the others present."""
    lexicon: Lexicon
    followers: dict[str, dict[str, float]] = field(default_factory=dict)  # as Learned.followers
    discount: float = CORPUS_DISCOUNT  # what a phrase seen here counts, against one the writer wrote


class Words:
    """The lexicon of a model (English if it spells English, its run's corpus words) and the
    writer's words (`learned`), which grow as the writer writes (`follow`) unless `paused`."""

    def __init__(self, sources: list[Source] | Callable[[], list[Source]], learned: Learned | None = None) -> None:
        self._sources = sources  # or what reads them (~0.1 s): in the thread that suggests, not the UI's
        self.learned = learned if learned is not None else Learned()
        self.paused = False
        self.weight = LEXICON_WEIGHT
        self._seen: str | None = ""  # the text before the cursor, as last followed (None: none yet)
        self._following = threading.Lock()  # followed in the suggestions' thread, and the UI's on quitting

    @classmethod
    def for_run(cls, run: "RunDir", sampler: "Sampler", learned: Learned | None = None) -> "Words":
        """The words for a run's model: English if its vocabulary spells English, and its corpus' words."""
        english_too = all(c in sampler.vocab.char_index for c in "abcdefghijklmnopqrstuvwxyz")

        def read() -> list[Source]:
            corpus = read_corpus_words(run)
            return ([english()] if english_too else []) + ([corpus] if corpus else [])
        return cls(read, learned)

    @property
    def sources(self) -> list[Source]:
        if callable(self._sources):
            self._sources = self._sources()
        return self._sources

    # --- learning ---------------------------------------------------------------------------
    def skip_to(self) -> None:
        """The next text `follow` sees is where the writer starts (a document was opened): none of it is learned."""
        self._seen = None

    def follow(self, before_cursor: str) -> None:
        """Learn each word the writer has finished since the last call (`before_cursor` is the text
        before the cursor, as the editor sends it): a word is finished when a character that is no
        part of a word is typed after it."""
        with self._following:
            added = _typed_after(self._seen, before_cursor)
            self._seen = before_cursor
        if not added or self.paused:
            return
        new_from = len(before_cursor) - len(added)
        # from a little before the new text: the word it finishes, and the two before it
        self.learned.add(ngrams_of(before_cursor, max(0, new_from - 100), new_from))

    # --- the lexicon --------------------------------------------------------------------------
    def guesses(self, prefix: str) -> tuple[float, dict[str, float], Callable[[str], float]]:
        """What the words say of the word at the cursor: their weight against the model's, their
        likeliest completions (each with its probability), and the probability of any other.

        Two kinds of knowledge, the second over the first:
        - in a word, the lexicon: how often each word that starts with what is typed is written,
          at LEXICON_WEIGHT (at a word's start it knows nothing of the context: no weight);
        - the words seen after the word before, then after the two before (pairs and triples, the
          writer's and the corpus'), among those that start with what is typed; each at the weight
          of Witten and Bell's estimate (`_witten_bell`)."""
        typed_match = TYPED.search(prefix)
        typed = typed_match.group() if typed_match else ""
        start = key(typed)
        context = context_before(prefix[:len(prefix) - len(typed)])
        sources = self._present()
        total = sum(1 / s.lexicon.total * s.lexicon.weight_of_prefix(start) for s in sources) if typed else 0.0
        weight = lexicon_share = self.weight if total > 0 else 0.0
        candidates = {w for s in sources for w in s.lexicon.likeliest(start, CANDIDATES)} if weight else set()
        seen_after: Counter[str] = Counter()  # P(word) from the pairs and triples, times their share
        for n in range(1, len(context) + 1):  # the pair's, then the triple's over it
            followers = Counter({w: c for w, c in self.after(_context_key(context[-n:])).items() if w.startswith(start)})
            if followers:
                share, seen = _witten_bell(followers), sum(followers.values())
                seen_after = Counter({w: (1 - share) * p for w, p in seen_after.items()})
                for w, count in followers.items():
                    seen_after[w] += share * count / seen
                lexicon_share *= 1 - share
                weight = share + (1 - share) * weight
        if not weight:
            return 0.0, {}, lambda rest: 0.0

        def probability(word_key: str) -> float:
            lexicon_p = self.probability(word_key, sources) / total if lexicon_share else 0.0
            return (lexicon_share * lexicon_p + seen_after.get(word_key, 0.0)) / weight

        likely: dict[str, float] = {}
        for word in candidates | {w for w, _ in seen_after.most_common(CANDIDATES)}:
            rest = _completion(typed, self.form(word))
            if rest:
                likely[rest] = max(likely.get(rest, 0.0), probability(word))
        likely = dict(sorted(likely.items(), key=lambda item: -item[1])[:CANDIDATES])
        return weight, likely, lambda rest: probability(key(typed + rest))

    def after(self, context: str) -> Counter[str]:
        """The words seen after `context` (keys, spaced), and how often: in the writer's words and the corpus'."""
        found = self.learned.after(context)
        for source in self.sources:
            for word, count in source.followers.get(context, {}).items():
                found[word] += source.discount * count
        return found

    def probability(self, word_key: str, sources: list[Source]) -> float:
        return sum(1 / s.lexicon.total * s.lexicon.weight(word_key) for s in sources)

    def form(self, word_key: str) -> str:
        """How the word is written: as the writer last wrote it, else as a source has it."""
        for forms in [self.learned.forms] + [source.lexicon.forms for source in self.sources]:
            form = forms.get(word_key)  # one read: the UI's thread may forget the word meanwhile
            if form is not None:
                return form
        return word_key

    def _present(self) -> list[Source]:
        learned = self.learned.lexicon
        return [s for s in self.sources if s.lexicon.total > 0] + (
            [Source(learned)] if learned.total > 0 else [])


def fuse(found: list[predict.Continuation], prefix: str, sampler: "Sampler",
         primed: tuple["State", np.ndarray], words: Words) -> list[predict.Continuation]:
    """The model's continuations of `prefix` (`found`), the word at the cursor's completions mixed
    with the words' (see the module's docstring): the continuations that go on past a completion
    keep their share of it, and the words' completions the model did not find are added."""
    weight, lexical, lexicon_p = words.guesses(prefix)
    if not weight:
        return found
    if not TYPED.search(prefix):  # a word's start: it is capitalised, or not, as the model expects
        lexical = _cased(lexical, sampler, primed[1][0])
    likely = {c.text: c.probability for c in found}
    firsts = {t: _first_word(t) for t in likely}
    model = {r: likely[r] for r in set(firsts.values()) | set(lexical) if r in likely}
    unscored = [r for r in lexical if r not in model] + ([""] if "" in firsts.values() else [])
    if unscored:
        model.update(zip(unscored, predict.word_probabilities(sampler, primed, unscored)))
    mixed = {r: (1 - weight) * p + weight * (lexical[r] if r in lexical else lexicon_p(r)) for r, p in model.items()}
    out = {t: mixed[r] * p / model[r] for t, p in likely.items() if model.get(r := firsts[t], 0) > 0}
    for rest in lexical:
        out.setdefault(rest, mixed[rest])
    return sorted((predict.Continuation(t, p) for t, p in out.items()), key=lambda c: -c.probability)


def _witten_bell(followers: Counter[str]) -> float:
    """How far to trust what followed a context against what the model says: more the more often it
    was followed, less the more different words followed it (Witten and Bell's estimate, made more
    cautious by CAUTION)."""
    seen = sum(followers.values())
    return seen / (seen + CAUTION * (len(followers) + 1))


def _cased(lexical: dict[str, float], sampler: "Sampler", logits: np.ndarray) -> dict[str, float]:
    """Each word with its first letter in the case the model finds likelier next."""
    index = sampler.vocab.char_index
    cased: dict[str, float] = {}
    for word, p in lexical.items():
        other = word[0].swapcase() + word[1:]
        if logits[index.get(other[0], 0)] > logits[index.get(word[0], 0)] and other[0] in index:
            word = other
        cased[word] = max(cased.get(word, 0.0), p)
    return cased


def _first_word(text: str) -> str:
    """The part of a continuation that completes the word at the cursor."""
    end = next((i for i, c in enumerate(text) if not is_word_char(c)), len(text))
    return text[:end]


def _completion(typed: str, form: str) -> str:
    """What completes `typed` into the word `form`, in the case `typed` is written in."""
    rest = form[len(typed):]
    if len(typed) > 1 and typed.isupper():
        rest = rest.upper()
    if "’" in typed:
        rest = rest.replace("'", "’")
    return rest if is_word_char(rest[:1] or " ") else ""


def _typed_after(seen: str | None, now: str) -> str | None:
    """What was typed at the end of `seen` to make `now` (both the text before a cursor, cut to the
    same length at most); None when `now` does not go on from it (a deletion, a jump)."""
    if seen is None:
        return None
    if now.startswith(seen):
        return now[len(seen):]
    overlap = min(len(seen), len(now))
    for shift in range(1, 64):  # the editor sends its last characters: the window moved on
        if shift < overlap and now.startswith(seen[shift:]):
            return now[len(seen) - shift:]
    return None


@cache
def english() -> Source:
    """The shipped English words and pairs of words (read once: ~0.2 s)."""
    followers: dict[str, dict[str, float]] = {}
    for pair, per_billion in _weighted_lines(ENGLISH_PAIRS):
        first, second = pair.split(" ")
        followers.setdefault(first, {})[second] = per_billion * ENGLISH_PAIRS_WORDS / 1e9
    return Source(Lexicon.read(ENGLISH), followers, GENERIC_DISCOUNT)


def _weighted_lines(path: Path) -> Iterator[tuple[str, float]]:
    """The "text<TAB>weight" lines of a shipped list."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text, _, weight = line.partition("\t")
        yield text, float(weight)


def read_corpus_words(run: "RunDir") -> Source | None:
    if not run.words_path.is_file():
        return None
    data = json.loads(run.words_path.read_text(encoding="utf-8"))
    discount = GENERIC_DISCOUNT if data.get("generic") else CORPUS_DISCOUNT
    return Source(Lexicon({w: float(n) for w, n in data["counts"].items()}, data["forms"]), data["followers"], discount)


def corpus_words(text: str) -> dict:
    """words.json's content for a corpus: its commonest words' counts, the form each is written in,
    and the words that follow its commonest pairs and triples (as Learned.followers)."""
    found = ngrams_of(text + "\n")  # "\n": the last word is finished too
    learned = Learned()
    learned.add(found)
    forms: dict[str, Counter[str]] = {}
    for _, word in found:
        forms.setdefault(key(word), Counter())[word] += 1
    common = dict(learned.counts.most_common(CORPUS_WORDS))
    pairs = Counter({(c, w): n for c, after in learned.followers.items() for w, n in after.items() if n > 1})
    followers: dict[str, dict[str, int]] = {}
    for (context, word), n in pairs.most_common(CORPUS_FOLLOWERS):
        followers.setdefault(context, {})[word] = n
    return {"counts": common, "forms": {k: forms[k].most_common(1)[0][0] for k in common}, "followers": followers}
