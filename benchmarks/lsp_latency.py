"""Request to answer, from `chargen-tui lsp` as an editor sees it: the real server process over stdio.

    python benchmarks/lsp_latency.py [--run RUN_DIR] [--keys 300] [--interval 0.1] [--huge-mb 20] \
        [--method inline|completion] [--mode predict|sample] [--no-adapt]

Opens a document (a short one, and one of --huge-mb megabytes, the passage typed at its end), types a
passage (the end of tinyshakespeare, or the embedded default corpus) one key every --interval seconds
as incremental `textDocument/didChange` notifications, and after each key times a
`textDocument/inlineCompletion` (or `textDocument/completion`) request from the moment it is sent to
the moment its answer is read, as pygls' own client reads it. Target: p99 < 30 ms, adapting (the
server's default) as the writing screen does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keystroke_latency import passage  # noqa: E402


async def measure(run: str | None, document: str, typed: str, interval: float, method: str,
                  settings: dict) -> list[float]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("lsp-latency", "1")
    env = {**os.environ, "XDG_DATA_HOME": tempfile.mkdtemp(), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    await client.start_io(sys.executable, "-m", "chargen_tui", "lsp", *([run] if run else []), env=env)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         initialization_options=settings))
    client.initialized(types.InitializedParams())
    uri, lines = Path(tempfile.mkdtemp(), "draft.txt").as_uri(), document.split("\n")
    line, column = len(lines) - 1, len(lines[-1])  # ASCII: UTF-16 units are characters
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="plaintext", version=1, text=document)))
    ask = client.text_document_inline_completion_async if method == "inline" else client.text_document_completion_async

    def params(position):
        where = {"text_document": types.TextDocumentIdentifier(uri=uri), "position": position}
        if method == "inline":
            return types.InlineCompletionParams(context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic), **where)
        return types.CompletionParams(**where)

    await model_loaded(client)
    here = types.Position(line=line, character=column)
    await ask(params(here))  # the document's adapted copy starts reading it (between keys, as in the app)
    await asyncio.sleep(1.0)
    times = []
    for version, key in enumerate(typed, start=2):
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=here, end=here), text=key)]))
        column += 1
        here = types.Position(line=line, character=column)
        start = time.perf_counter()
        await ask(params(here))
        times.append(time.perf_counter() - start)
        await asyncio.sleep(interval)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


async def model_loaded(client) -> None:
    """Wait until the server answers with a ghost where any English model is sure of one."""
    from lsprotocol import types

    uri, text = "untitled:probe", "Once upon a ti"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="plaintext", version=1, text=text)))
    while not await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=len(text)),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))):
        await asyncio.sleep(0.05)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


def report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(f"{name}: {len(ms)} requests, median {statistics.median(ms):.1f} ms, p90 {p(0.9):.1f}, "
          f"p99 {p(0.99):.1f}, max {ms[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="run folder (default: the shipped model)")
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--huge-mb", type=float, default=20.0, help="the long document's size (0: skip it)")
    parser.add_argument("--method", choices=("inline", "completion"), default="inline")
    parser.add_argument("--mode", choices=("predict", "sample"), default="predict")
    parser.add_argument("--no-adapt", dest="adapt", action="store_false")
    args = parser.parse_args()
    typed = passage(args.keys)
    settings = {"mode": args.mode, "adapting": args.adapt}
    short = "The opening of a chapter.\n\n"
    line = "All work and no play makes Jack a dull boy, and the house is quiet tonight.\n"
    documents = {"short document": short}
    if args.huge_mb:
        documents[f"{args.huge_mb:g} MB document"] = line * int(args.huge_mb * 1e6 / len(line)) + "\n"
    print(f"{args.method}, {args.mode}, {'adapting' if args.adapt else 'not adapting'}, a key every "
          f"{args.interval * 1000:.0f} ms")
    for name, document in documents.items():
        report(name, asyncio.run(measure(args.run, document, typed, args.interval, args.method, settings)))


if __name__ == "__main__":
    main()
