"""The command line: `train` and `generate` (headless, Rich output), `write` and `watch` (the app).

Everything a user can get wrong is checked before TensorFlow is imported (it takes seconds), and
every such mistake ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path

from rich.console import Console

from .config import HELP, Config, knob_type
from .document import open_document
from .pretrained import default_run_dir
from .corpus import DEFAULT_CORPUS_NAME
from .errors import UserError
from .events import Failed
from .run_dir import RunDir, atomic_write_text, cache_dir, prepare_run

# Config fields the CLI exposes as --flags (the rest are set in code or by the app).
_TRAIN_FLAGS = ("epochs", "seq_len", "batch_size", "embedding_dim", "units", "layers", "dropout",
                "learning_rate", "final_lr_fraction", "clipnorm", "weight_decay", "ema_momentum",
                "mixed_precision", "seed", "val_fraction", "time_limit", "workers", "sample_length")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # no command: the app, on its writing screen
        args = parser.parse_args(["write"])
    try:
        return args.run(args)
    except UserError as error:
        _error(str(error))
        return 2
    except OSError as error:  # a folder that cannot be written, a full disk: say so, no traceback
        where = f"{error.filename}: " if error.filename else ""
        _error(f"{where}{error.strerror or error}: check the path, its permissions and the free disk space")
        return 1
    except KeyboardInterrupt:  # Ctrl-C before training started (it has its own handler once it runs)
        return 130


def _error(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


# --- train ------------------------------------------------------------------------------------
def _train(args: argparse.Namespace) -> int:
    changes = {name: getattr(args, name) for name in _TRAIN_FLAGS if getattr(args, name) is not None}
    if args.no_multiprocessing:
        changes["use_multiprocessing"] = False
    if args.corpus is not None:
        changes["corpus"] = str(Path(args.corpus).resolve())
    if args.encoding is not None:
        changes["encoding"] = args.encoding
    run_dir = RunDir(args.out or _default_out(args.corpus))
    config, text = prepare_run(run_dir, changes, args.resume)  # every check that needs no TensorFlow, now

    from .tf_runtime import send_tensorflow_logs_to
    send_tensorflow_logs_to(run_dir.log_path)
    console = Console(soft_wrap=True)  # piped output keeps whole lines
    with console.status("starting TensorFlow...") if console.is_terminal else contextlib.nullcontext():
        from .training import train
    from .report import TrainingReport

    stop = threading.Event()
    report = TrainingReport(console)
    stopped_by = _stop_on_signals(stop, console)
    try:
        end = train(config, text, run_dir, report, resume=args.resume, stop=stop,
                    corpus_name=config.corpus or DEFAULT_CORPUS_NAME)
    finally:
        report.close()
    if isinstance(end, Failed):
        return 1
    # 130 after Ctrl-C, 143 after SIGTERM, as shells report them: a script stops there.
    return 128 + stopped_by[0] if stopped_by else 0


def _default_out(corpus: str | None) -> Path:
    return Path("runs") / (Path(corpus).stem if corpus else "default")


def _stop_on_signals(stop: threading.Event, console: Console) -> list[int]:
    """Ctrl-C or SIGTERM (`kill`, `timeout`): stop after this batch with a checkpoint. A second one:
    leave at once (checkpoints are atomic). Returns the list that will hold the first signal's number."""
    received: list[int] = []

    def handle(signum, frame):
        if stop.is_set():
            for worker in multiprocessing.active_children():  # data workers ignore Ctrl-C: end them
                worker.kill()
            os._exit(128 + signum)  # not sys.exit: the data loader's threads could hold the exit forever
        received.append(signum)
        stop.set()
        console.print("[yellow]stopping after this batch (Ctrl-C again to quit at once)...[/]")
    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return received


# --- generate ---------------------------------------------------------------------------------
def _generate(args: argparse.Namespace) -> int:
    if args.length < 0 or args.n < 1 or args.temperature < 0 or (args.top_k is not None and args.top_k < 1):
        raise UserError("--length must be 0 or more, -n 1 or more, --temperature 0 or more, --top-k 1 or more")
    if args.run_dir:
        run_dir = RunDir(args.run_dir)
    else:
        run_dir = default_run_dir()
    run_dir.read_config(), run_dir.read_vocab(), run_dir.require_model()  # fail fast, before TensorFlow

    from .tf_runtime import send_tensorflow_logs_to
    send_tensorflow_logs_to(cache_dir() / "tensorflow.log")
    from .sampling import Sampler
    sampler = Sampler.from_run_dir(run_dir)
    unknown = sampler.vocab.unknown_chars(args.prefix)
    if unknown:
        Console(stderr=True).print(f"note: the model never saw {''.join(sorted(unknown))!r} in the prefix; "
                                   "it skips those characters", highlight=False)
    texts = sampler.generate(args.prefix, args.length, temperature=args.temperature, n=args.n,
                             top_k=args.top_k, seed=args.seed)
    output = "\n".join(args.prefix + text + "\n" for text in texts)
    if args.out:
        atomic_write_text(Path(args.out), output)
    else:
        sys.stdout.write(output)
        sys.stdout.flush()
    return 0


# --- the app ----------------------------------------------------------------------------------
def _write(args: argparse.Namespace) -> int:
    model = RunDir(args.run_dir) if args.run_dir else default_run_dir()
    model.read_config(), model.read_vocab(), model.require_model()  # fail fast, before the screen
    document = Path(args.file) if args.file else None
    if document is not None:
        open_document(document)  # a binary or non-UTF-8 file: one line now, not a broken screen
    return _run_app(mode="write", model=model, document=document)


def _watch(args: argparse.Namespace) -> int:
    run_dir = RunDir(args.run_dir)
    run_dir.read_config()
    return _run_app(mode="train", watch=run_dir)


def _run_app(**options) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the app needs a terminal: for scripts use `chargen-tui train` and `chargen-tui generate`")
    from .tf_runtime import send_tensorflow_logs_to
    send_tensorflow_logs_to(cache_dir() / "tensorflow.log")  # before Textual takes fd 2 over
    from .app.app import ChargenApp
    ChargenApp(**options).run()
    return 0


# --- arguments --------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (argparse prints the whole usage first)."""

    def error(self, message: str):
        _error(f"{message} (see `{self.prog} --help`)")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chargen-tui", description="Train a character-level LSTM on "
                                     "your own text, and generate with it.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on a text file (or the embedded default)",
                                description="Train a character-level LSTM. Ctrl-C stops after the current "
                                "batch with a checkpoint; run the same command with --resume to continue.")
    train.add_argument("corpus", nargs="?", help="UTF-8 text file (default: Python's documentation "
                       "topics, which ship with Python)")
    train.add_argument("--out", metavar="RUN_DIR", help="run folder (default: runs/CORPUS_NAME)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    train.add_argument("--encoding", help="the corpus' text encoding (default: utf-8)")
    defaults = {f.name: f.default for f in fields(Config)}
    for name in _TRAIN_FLAGS:
        kind = knob_type(name)
        default = "none" if defaults[name] is None else defaults[name]
        flag, help_text = f"--{name.replace('_', '-')}", f"{HELP[name]} (default: {default})"
        if kind is bool:  # --mixed-precision / --no-mixed-precision: `type=bool` would read "false" as true
            train.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            train.add_argument(flag, type=kind, default=None, help=help_text,
                               metavar="SECONDS" if name == "time_limit" else "X" if kind is float else "N")
    train.add_argument("--no-multiprocessing", action="store_true",
                       help="build batches in the training thread (in threads when --workers is 2 or "
                       "more) instead of worker processes")
    train.set_defaults(run=_train)

    generate = commands.add_parser("generate", help="generate text from a trained run folder")
    generate.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                          help="a trained run folder (default: the model shipped with chargen-tui)")
    generate.add_argument("--prefix", default="", help="text to continue (default: none)")
    generate.add_argument("--length", type=int, default=200, help="characters to generate (default: 200)")
    generate.add_argument("--temperature", type=float, default=0.5,
                          help="0 = always the likeliest character; higher = more adventurous (default: 0.5)")
    generate.add_argument("-n", type=int, default=1, help="how many texts (default: 1)")
    generate.add_argument("--top-k", type=int, default=None, help="sample only from the k likeliest characters")
    generate.add_argument("--seed", type=int, default=None, help="a fixed seed gives the same text every time")
    generate.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    generate.set_defaults(run=_generate)

    write = commands.add_parser("write", help="write with the model's suggestions (the app's writing screen)",
                                description="Open the editor: the model continues the text before the "
                                "cursor as dimmed ghost text; Tab accepts it.")
    write.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                       help="run folder of the model (default: the model that ships with chargen-tui)")
    write.add_argument("--file", metavar="DOC", help="UTF-8 text file to edit (created on save if missing)")
    write.set_defaults(run=_write)

    watch = commands.add_parser("watch", help="follow a training that another terminal runs (read only)")
    watch.add_argument("run_dir", metavar="RUN_DIR")
    watch.set_defaults(run=_watch)
    return parser


if __name__ == "__main__":
    sys.exit(main())
