"""The command line: `train` and `generate` (headless, Rich output), `write` and `watch` (the app).

Everything a user can get wrong is checked before TensorFlow is imported (it takes seconds), and
every such mistake ends in one line on stderr and exit status 2, never a traceback. The core's
errors say what is wrong; `say` words the remedy in flags.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.text import Text

from . import __version__
from .api import DEFAULT_LENGTH, MAX_TEXT_LENGTH, Generated, TrainingFailed, load, prepare, train_plan
from .config import default, display_name, knob_type, settings
from .control import CONTROL, printable
from .distribute import cluster
from .document import check_encoding, open_document
from .events import Event, Subscriber
from .errors import (AlreadyTrained, BaseFixes, BudgetSpent, CorpusTooShort, DamagedRun, DevicesChanged, FixedOnResume,
                     NoCheckpoint, NotAFolder, NotARunFolder, NotDecodable, NothingToResume, NoTexts, Remedy, RunExists,
                     RunInUse, StillTraining, TooManyDevices, UnseenCharacters, UserError, word)
from .files import atomic_write_text, cache_folder
from .memory import Memory
from .pretrained import default_run_dir
from .suggest import PREDICT, SAMPLE
from .run_dir import RunDir
from .runtime import send_tensorflow_logs_to, use_one_blas_thread


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # no command: the app, on its writing screen
        args = parser.parse_args(["write"])
    use_one_blas_thread()
    try:
        return args.run(args)
    except UserError as error:
        _error(say(error))
        return 2
    except OSError as error:  # a folder that cannot be written, a full disk: say so, no traceback
        where = f"{error.filename}: " if error.filename else ""
        _error(f"{where}{error.strerror or error}: check the path, its permissions and the free disk space")
        return 1
    except KeyboardInterrupt:  # Ctrl-C before training started (it has its own handler once it runs)
        return 130


MEMORY_SHOWN = 100  # words `chargen-tui memory` shows (--words: all)

# What to do about each kind of error the core raises, in flags (see errors.word).
REMEDIES: dict[type, Remedy] = {
    NoTexts: "check --texts, or leave it out to read the file as one stream",
    FixedOnResume: "resume with the run's setting, or start a new --out",
    CorpusTooShort: "give a longer text or a smaller --seq-len",
    NotDecodable: lambda error: "pass its encoding, e.g. --encoding latin-1" if error.utf8 else "check --encoding",
    RunExists: "add --resume to continue it, or choose a new --out",
    NothingToResume: "leave out --resume to start one",
    NotAFolder: "choose another --out",
    NotARunFolder: lambda error: f"train one with `chargen-tui train CORPUS --out {error.path}`",
    AlreadyTrained: "pass a larger --epochs to train further",
    BudgetSpent: "write with it, or start a new --out with a larger --time-budget",
    UnseenCharacters: "resume with the run's own corpus, or start a new --out",
    DamagedRun: "start a new run with another --out",
    StillTraining: "start from it when it has finished, or from another run",
    RunInUse: lambda error: f"wait for it to end (`chargen-tui watch {error.path}` follows it), or choose a new --out",
    NoCheckpoint: "leave out --resume and choose a new --out (or delete this folder first)",
    TooManyDevices: "give at most that many, or --devices all",
    DevicesChanged: lambda error: f"resume it with --devices {error.trained}, or start a new --out",
    BaseFixes: lambda error: f"leave out --{display_name(error.name)}: a run that starts from a model keeps its size",
}


def say(error: UserError) -> str:
    """The error as one line for the command line: knobs are flags, and so is the remedy."""
    return word(error, lambda name: f"--{display_name(name)}", REMEDIES)


def _error(message: str) -> None:
    """One line on stderr; `message` may quote a path or a file's text: shown through `printable`."""
    Console(stderr=True).print(Text.assemble(("error:", "bold red"), " ", printable(message)), soft_wrap=True)


# --- train ------------------------------------------------------------------------------------
def _train(args: argparse.Namespace) -> int:
    knobs = {name: getattr(args, name) for name in settings() if getattr(args, name) is not None}
    plan = prepare(args.corpus, args.out, args.resume, **knobs)  # every check that needs no TensorFlow, now

    role = cluster()  # a worker of a cluster other than the chief writes nothing into the run folder
    send_tensorflow_logs_to(plan.run.log_path if role is None or role.chief
                            else cache_folder() / f"worker-{role.index}.log")
    console = Console(soft_wrap=True)  # piped output keeps whole lines
    with console.status("starting TensorFlow...") if console.is_terminal else contextlib.nullcontext():
        importlib.import_module("chargen_tui.training")  # TensorFlow's import, under the status line
    from .report import TrainingReport

    stop = threading.Event()
    report = TrainingReport(console)
    stopped_by = _stop_on_signals(stop, console)
    try:
        train_plan(plan, _without_a_dead_terminal(report, console), quiet=True, stop=stop)
    except TrainingFailed:
        return 1  # the report has said why
    finally:
        report.close()
    # 130 after Ctrl-C, 143 after SIGTERM, 129 after a hang-up, as shells report them: a script stops there.
    return 128 + stopped_by[0] if stopped_by else 0


def _stop_on_signals(stop: threading.Event, console: Console) -> list[int]:
    """Ctrl-C, SIGTERM (`kill`, `timeout`) or SIGHUP (the terminal closed: an SSH link dropped): stop
    after this batch with a checkpoint. A second Ctrl-C or SIGTERM: leave at once (checkpoints are
    atomic). Returns the list that will hold the first signal's number."""
    received: list[int] = []
    terminals = _terminal_outputs()  # now: a terminal hung up no longer says it is one

    def handle(signum, frame):
        if signum == signal.SIGHUP:
            _leave_the_terminal(terminals, console)
            if stop.is_set():  # the kernel's and the shell's of one hang-up: not a wish to quit at once
                return
        if stop.is_set():
            for worker in multiprocessing.active_children():  # data workers ignore Ctrl-C: end them
                worker.kill()
            os._exit(128 + signum)  # not sys.exit: the data loader's threads could hold the exit forever
        received.append(signum)
        stop.set()
        console.print("[yellow]stopping after this batch (Ctrl-C again to quit at once)...[/]")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handle)
    return received


def _terminal_outputs() -> list[int]:
    """The file descriptors of stdout and stderr that are a terminal."""
    descriptors = []
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream.isatty():
                descriptors.append(stream.fileno())
        except (ValueError, OSError):  # not a real file (io.UnsupportedOperation is both)
            pass
    return descriptors


def _leave_the_terminal(descriptors: list[int], console: Console) -> None:
    """The terminal hung up: nobody reads it, and a write to it fails (EIO) or could block. Point the
    descriptors that were the terminal at /dev/null, so that no message can fail the training."""
    console.quiet = True
    null = os.open(os.devnull, os.O_WRONLY)
    for descriptor in descriptors:
        os.dup2(null, descriptor)
    os.close(null)


def _without_a_dead_terminal(report: Subscriber, console: Console) -> Subscriber:
    """`report`, which goes quiet when its terminal is gone: between the hang-up and its SIGHUP a
    print can fail, and an error out of a subscriber would end the training without its checkpoint."""
    def subscriber(event: Event) -> None:
        try:
            report(event)
        except OSError:
            console.quiet = True
    return subscriber


# --- generate ---------------------------------------------------------------------------------
def _generate(args: argparse.Namespace) -> int:
    if (args.length is not None and args.length < 0) or args.n < 1 or args.temperature < 0 \
            or (args.top_k is not None and args.top_k < 1) or args.max_length < 1:
        raise UserError("--length must be 0 or more, -n 1 or more, --temperature 0 or more, --top-k 1 or more, "
                        "--max-length 1 or more")
    run = _finished_run(args.run_dir)
    send_tensorflow_logs_to(cache_folder() / "tensorflow.log")  # TensorFlow starts only for a run without model.npz
    model = load(run)
    if model.is_texts and args.length is not None:
        raise UserError(f"{run.path} is a model of many texts: it writes whole texts; cap them with "
                        "--max-length, not --length")
    unknown = model.vocab.unknown_chars(args.prefix)
    if unknown:
        _note(f"the model never saw {''.join(sorted(unknown))!r} in the prefix; it skips those characters")
    generated = model.generations(args.n, args.prefix, args.temperature, args.length, args.seed, args.top_k,
                                  args.max_length)
    cut = sum(not g.ended for g in generated) if model.is_texts else 0
    if cut:
        _note(f"{cut} of {len(generated)} texts did not end within --max-length {args.max_length:,} characters: "
              "they are cut there")
    output = _format(generated, model.is_texts, jsonl=args.jsonl, one_per_line=bool(args.out))
    if args.out:  # a file gets what the model wrote, control characters included
        atomic_write_text(Path(args.out), output)
    else:
        sys.stdout.write(printable(output))  # a terminal would obey them
        sys.stdout.flush()
    return 0


def _format(generated: list[Generated], texts: bool, jsonl: bool, one_per_line: bool) -> str:
    """JSON lines; or, for a file of a texts model's texts, one per line (a line break inside a text as
    \\n, a backslash as \\\\); else the texts with a blank line between them."""
    if jsonl:  # JSON escapes C0 itself; the rest of what a terminal would obey, here (still valid JSON)
        return "".join(CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(
            {"text": g.text, **({"ended": g.ended} if texts else {})}, ensure_ascii=False)) + "\n" for g in generated)
    if texts and one_per_line:
        return "".join(g.text.replace("\\", "\\\\").replace("\n", "\\n") + "\n" for g in generated)
    return "\n".join(g.text + "\n" for g in generated)


def _note(message: str) -> None:
    Console(stderr=True).print(Text("note: " + printable(message)), soft_wrap=True)


def _finished_run(path: str | None) -> RunDir:
    """The run folder at `path` (the shipped model's when None), checked to hold a model."""
    run = RunDir(path) if path else default_run_dir()
    run.check_model()
    return run


# --- the app ----------------------------------------------------------------------------------
def _write(args: argparse.Namespace) -> int:
    run, document = _writing_inputs(args)
    return _run_app(mode="write", run=run, document=document, suggest_mode=args.mode, adapting=args.adapt,
                    encoding=args.encoding)


def _writing_inputs(args: argparse.Namespace) -> tuple[RunDir, Path | None]:
    """The run folder and the document of `write`'s options, checked: fail fast, before the screen."""
    run = _finished_run(args.run_dir)
    document = Path(args.file) if args.file else None
    check_encoding(args.encoding)
    if document is not None:  # a binary file, or one not in --encoding: one line now, not a broken screen
        open_document(document, args.encoding)
    return run, document


def _watch(args: argparse.Namespace) -> int:
    run = RunDir(args.run_dir)
    run.read_config()
    return _run_app(mode="train", watch=run)


def _memory(args: argparse.Namespace) -> int:
    memory = Memory.load()
    if args.forget_everything:
        memory.forget_all()
        _note(f"forgot every word learned ({memory.path})")
    for word in args.forget or []:
        _note(f"forgot {word!r}" if memory.forget(word) else f"{word!r} was not learned: nothing to forget")
    for path, paused in [(p, True) for p in args.pause or []] + [(p, False) for p in args.resume or []]:
        memory.pause(Path(path), paused)
        _note(f"{'no longer learning' if paused else 'learning again'} from {path}")
    if not (args.forget_everything or args.forget or args.pause or args.resume):
        _show_memory(memory, every=args.words)
    return 0


def _show_memory(memory: Memory, every: bool) -> None:
    words = memory.words()
    if every:
        sys.stdout.write(printable("".join(f"{count}\t{word}\n" for word, count in words)))
        return
    shown = words[:MEMORY_SHOWN]
    print(printable(f"{memory.path}: {len(words):,} words learned from what you write"
                    + (f"; the {len(shown)} commonest (--words lists them all):" if len(words) > len(shown) else ":")))
    if shown:
        print(printable("  " + ", ".join(f"{word} ({count})" for word, count in shown)))
    print("chargen-tui memory --forget WORD forgets one, --forget-everything all; --pause DOC stops learning from DOC")


def _lsp(args: argparse.Namespace) -> int:
    run = _finished_run(args.run_dir)  # a mistake is one line in the editor's log, not a protocol error
    send_tensorflow_logs_to(cache_folder() / "tensorflow.log")  # stdout is the protocol's: nothing else goes there
    from .lsp.server import serve

    serve(run)
    return 0


def _run_app(**options) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not _in_a_browser():
        raise UserError("the app needs a terminal: for scripts use `chargen-tui train` and `chargen-tui generate`")
    send_tensorflow_logs_to(cache_folder() / "tensorflow.log")  # before Textual takes fd 2 over
    from .app.app import ChargenApp

    ChargenApp(**options).run()
    return 0


# --- serve: the app in a browser ---------------------------------------------------------------
def _serve(args: argparse.Namespace) -> int:
    from . import serve  # textual-serve (aiohttp) loads for this command only

    serve.check_address(args.host, args.port, args.public)  # everything checked before listening
    run, document = _writing_inputs(args)
    serve.check_port_free(args.host, args.port)
    for stream, line in serve.instructions(args.host, args.port, args.public, "SSH_CONNECTION" in os.environ):
        Console(stderr=stream == "stderr", soft_wrap=True).print(Text(printable(line)))
    serve.serve(serve.write_command(run.path if args.run_dir else None, document, args.mode, args.adapt,
                                    args.encoding), args.host, args.port)
    return 0


def _in_a_browser() -> bool:
    """Run by `chargen-tui serve` (textual-serve sets Textual's web driver): the app's terminal is a
    browser's, at the other end of stdin and stdout, which are pipes."""
    return os.environ.get("TEXTUAL_DRIVER", "").startswith("textual.drivers.web_driver")


# --- arguments --------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (argparse prints the whole usage first)."""

    def error(self, message: str):
        _error(f"{message} (see `{self.prog} --help`)")
        sys.exit(2)


def _add_knobs(train: argparse.ArgumentParser) -> None:
    """A flag per knob of config.py, its help and default from the knob's declaration."""
    for name, declared in settings().items():
        kind, value = knob_type(name), default(name)
        flag = f"--{display_name(name)}"
        finetune = f"; starting from a model: {declared.finetune}" if declared.finetune is not None else ""
        shown = "none" if value in (None, "") else value
        help_text = f"{declared.help} (default: {shown}{finetune})".replace("%", "%%")  # argparse formats it
        if kind is bool:  # --mixed-precision / --no-mixed-precision: `type=bool` would read "false" as true
            train.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            metavar = declared.metavar or {float: "X", int: "N"}.get(kind, "NAME")
            train.add_argument(flag, dest=name, type=kind, default=None, help=help_text, metavar=metavar)


def _add_model_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                         help="run folder of the model (default: the model that ships with chargen-tui)")


def _add_writing_options(command: argparse.ArgumentParser) -> None:
    """The model and the document of the writing screen (`write`, and each of `serve`'s browser tabs)."""
    _add_model_argument(command)
    command.add_argument("--file", metavar="DOC", help="text file to edit (created on save if missing)")
    command.add_argument("--encoding", default="utf-8", metavar="NAME",
                         help="the text encoding DOC is read and saved in, also for files opened with ctrl+o "
                         "(default: utf-8)")
    command.add_argument("--mode", choices=(PREDICT, SAMPLE), default=PREDICT,
                         help="predict: the likeliest words, shown only when likely (F2 safer, F3 bolder); "
                         "sample: a continuation sampled at a temperature, always, for inspiration "
                         "(F5 switches; default: predict)")
    command.add_argument("--no-adapt", dest="adapt", action="store_false",
                         help="suggest with the model as trained; by default a copy of it learns from the document "
                         "as you write (F8 switches; the run folder is never changed)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chargen-tui", description="Train a character-level LSTM on "
                                     "your own text, and generate with it.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on a text file (or the embedded default)",
                                description="Train a character-level LSTM. Ctrl-C stops after the current "
                                "batch with a checkpoint; run the same command with --resume to continue.")
    train.add_argument("corpus", nargs="?", help="UTF-8 text file (default: Python's documentation "
                       "topics, which ship with Python)")
    train.add_argument("--out", metavar="RUN_DIR", help="run folder (default: runs/CORPUS_NAME)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    _add_knobs(train)
    train.set_defaults(run=_train)

    generate = commands.add_parser("generate", help="generate text from a trained run folder")
    generate.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                          help="a trained run folder (default: the model shipped with chargen-tui)")
    generate.add_argument("--prefix", default="", help="text to continue (default: none)")
    generate.add_argument("--length", type=int, default=None,
                          help=f"characters to generate (default: {DEFAULT_LENGTH}); a model of many texts "
                          "writes whole texts instead")
    generate.add_argument("--max-length", type=int, default=MAX_TEXT_LENGTH,
                          help="a model of many texts: cut a text the model has not ended after this many "
                          f"characters (default: {MAX_TEXT_LENGTH:,})")
    generate.add_argument("--temperature", type=float, default=0.5,
                          help="0 = always the likeliest character; higher = more adventurous (default: 0.5)")
    generate.add_argument("-n", type=int, default=1, help="how many texts (default: 1)")
    generate.add_argument("--top-k", type=int, default=None, help="sample only from the k likeliest characters")
    generate.add_argument("--seed", type=int, default=None, help="a fixed seed gives the same text every time")
    generate.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout (a model of many "
                          "texts: one text per line, its line breaks written as \\n)")
    generate.add_argument("--jsonl", action="store_true", help='JSON lines: {"text": ..., "ended": ...} '
                          "for each text (ended: the model ended it; models of many texts)")
    generate.set_defaults(run=_generate)

    write = commands.add_parser("write", help="write with the model's suggestions (the app's writing screen)",
                                description="Open the editor: the model continues the text before the "
                                "cursor as dimmed ghost text; Tab accepts it.")
    _add_writing_options(write)
    write.set_defaults(run=_write)

    memory = commands.add_parser("memory", help="what the ghost learned of the words you write: see it, forget it",
                                 description="The words you write are learned (across documents and sessions, "
                                 "in your data folder) so that the ghost completes them. With no option: "
                                 "what was learned.")
    memory.add_argument("--words", action="store_true", help="list every word learned, with how often, one a line")
    memory.add_argument("--forget", nargs="+", metavar="WORD", help="forget these words")
    memory.add_argument("--forget-everything", action="store_true", help="forget every word learned")
    memory.add_argument("--pause", nargs="+", metavar="DOC", help="learn nothing from these documents")
    memory.add_argument("--resume", nargs="+", metavar="DOC", help="learn from these documents again")
    memory.set_defaults(run=_memory)

    lsp = commands.add_parser("lsp", help="a language server on stdin/stdout: the ghost text in your own editor",
                              description="Serve the model's suggestions over the Language Server Protocol: "
                              "textDocument/inlineCompletion (the ghost text) and textDocument/completion (the "
                              "alternatives). Your editor starts it; settings come as initializationOptions.")
    _add_model_argument(lsp)
    lsp.set_defaults(run=_lsp)

    serve = commands.add_parser("serve", help="the app in a web browser (textual-serve), on this machine only "
                                "unless told", description="Serve the app, both screens, to a web browser: each "
                                "browser tab runs `chargen-tui write` with these options. There is no password, so "
                                "it listens on 127.0.0.1 only; from another machine, tunnel to it with "
                                "`ssh -L 8000:127.0.0.1:8000 HOST` and open http://localhost:8000.")
    _add_writing_options(serve)
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on (default: 8000)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, "
                       "this machine only); any other needs --public-no-password")
    serve.add_argument("--public-no-password", dest="public", action="store_true",
                       help="allow a --host other than loopback: anyone who reaches the port can use the app, "
                       "and through it read and write your files")
    serve.set_defaults(run=_serve)

    watch = commands.add_parser("watch", help="follow a training that another terminal runs (read only)")
    watch.add_argument("run_dir", metavar="RUN_DIR")
    watch.set_defaults(run=_watch)
    return parser


if __name__ == "__main__":
    sys.exit(main())
