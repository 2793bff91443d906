"""The checks before training, in one step that returns what `training.train` needs.

Everything a user can get wrong is found here, cheaply and before TensorFlow is imported (it takes
seconds): impossible settings, an unreadable or too short corpus, a run folder that does not fit
(a file, a run already there, nothing to resume, a corpus with characters the run never saw, a run
already trained as far as asked, another process writing it). Raises UserError (or one of its typed kinds).

Planning takes the run folder for this process (RunDir.lock) before it reads a checkpoint or anyone
writes: the plan holds it until `RunPlan.release` (training.train releases it when it ends; a plan
never trained lets it go when the object goes, or the process ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import Config, resume_config
from .control import strip_control
from .corpus import DEFAULT_CORPUS_NAME, Split, default_corpus, read_corpus, split_corpus
from .distribute import Cluster, cluster
from .errors import (AlreadyTrained, BudgetSpent, NoCheckpoint, NotAFolder, NothingToResume, NoTexts, RunExists,
                     UnseenCharacters, UserError)
from .finetune import Base, base_name, extend_vocab, finetune_changes, open_base
from .lock import FolderLock
from .run_dir import Checkpoint, RunDir
from .texts import texts_mode
from .vocab import Vocab


@dataclass(frozen=True)
class RunPlan:
    run: RunDir
    config: Config
    text: str
    texts: list[str] | None  # the text cut into many texts (config.texts); None: one stream
    vocab: Vocab  # new from the text, or the resumed run's own
    split: Split  # the text's token ids, cut into training and validation parts
    checkpoint: Checkpoint | None  # where a resumed run goes on from; None for a new run
    controls_removed: int = 0  # terminal escape sequences and control characters taken out of the text
    base: Base | None = None  # the model a new run starts from (config.start_from); None: random weights
    # this process' hold on the run folder; None on a cluster's other workers (they write elsewhere)
    lock: FolderLock | None = field(default=None, repr=False, compare=False)

    @property
    def corpus_name(self) -> str:
        return self.config.corpus or DEFAULT_CORPUS_NAME

    def release(self, failed: bool = False) -> None:
        """Let the run folder go: its training ended, or will not happen. `failed`: a folder this attempt
        made is removed unless it holds a model or a checkpoint (nothing half-made is left behind)."""
        _let_go(self.run, self.lock, failed)


def plan_run(run: RunDir, changes: Mapping[str, Any], resume: bool = False, text: str | None = None) -> RunPlan:
    """Check that `run` can train (`resume`: go on training) with the knob values in `changes`.

    A resumed run keeps its saved settings and takes only the changes a resume allows. The corpus
    is `config.corpus` (the embedded default when None), unless `text` is given. The plan holds the
    run folder for this process until it is released (the module's docstring says when).
    """
    if run.path.exists() and not run.path.is_dir():
        raise NotAFolder(run.path)
    if resume and not run.has_run():
        raise NothingToResume(run.path)
    role = cluster()
    lock = run.lock() if role is None or role.chief else None  # before anything is read or written
    try:
        return _plan(run, changes, resume, text, role, lock)
    except BaseException:
        _let_go(run, lock, failed=True)
        raise


def _plan(run: RunDir, changes: Mapping[str, Any], resume: bool, text: str | None, role: Cluster | None,
          lock: FolderLock | None) -> RunPlan:
    if not resume and run.has_run() and (role is None or role.chief):  # the chief may have started it
        raise RunExists(run.path)
    base = None
    if changes.get("start_from"):
        changes = {**changes, "start_from": base_name(changes["start_from"])}  # as the run records it
        if not resume:
            base = open_base(changes["start_from"])
            changes = finetune_changes(changes, base) | {"start_from_sha256": base.sha256}
    config = resume_config(run.read_config(), dict(changes)) if resume else Config(**changes).validate()
    if role is not None and config.time_budget:
        raise UserError("a cluster trains by epochs: a time budget's rate would follow each worker's clock; "
                        "leave out the time budget (a time limit still stops every worker together)")
    if text is None:
        text = read_corpus(config.corpus, config.encoding) if config.corpus else default_corpus()
    text, controls_removed = (text, 0) if config.keep_control else strip_control(text)
    mode = texts_mode(config.texts)
    texts = mode.split(text) if mode else None
    if texts == []:
        raise NoTexts(config.corpus or DEFAULT_CORPUS_NAME, config.texts)
    characters = text if texts is None else "".join(texts)  # a separator is no character of a text
    vocab = run.read_vocab() if resume else new_vocab(characters + config.extra_chars, texts is not None, base)
    if resume and (unseen := vocab.unknown_chars(characters)):
        raise UnseenCharacters(run.path, unseen)
    ids = vocab.encode(text) if texts is None else vocab.encode_texts(texts)
    split = split_corpus(ids, config.seq_len, config.val_fraction, vocab.end_of_text)
    checkpoint = run.read_checkpoint() if resume else None
    if resume and checkpoint is None:  # its training ended before the first checkpoint
        raise NoCheckpoint(run.path)
    if checkpoint and config.time_budget and checkpoint.seconds_trained >= config.time_budget:
        raise BudgetSpent(run.path, config.time_budget)
    if checkpoint and not config.time_budget and checkpoint.epochs_done >= config.epochs:
        raise AlreadyTrained(run.path, checkpoint.epochs_done)
    return RunPlan(run, config, text, texts, vocab, split, checkpoint, controls_removed, base, lock)


def _let_go(run: RunDir, lock: FolderLock | None, failed: bool) -> None:
    if lock is None:
        return
    if failed and not run.holds_work():
        lock.remove_made()
    lock.release()


def new_vocab(characters: str, end_of_text: bool, base: Base | None) -> Vocab:
    """A new run's vocabulary: the text's own, or the base's with the text's new characters after it."""
    return extend_vocab(base.vocab, characters, end_of_text, base.record()) if base else \
        Vocab.from_text(characters, end_of_text)
