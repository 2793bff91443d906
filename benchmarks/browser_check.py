"""A real browser against `chargen-tui serve`: Chromium headless, driven over its DevTools protocol.

It opens the served page, types, waits for the ghost text, saves a screenshot, then Tab, Ctrl+S
and Ctrl+G (the browser's key for Ctrl+T), each through the browser's own key handling (xterm.js).
xterm.js draws on a canvas, so the screen is read from the page's own websocket: DevTools reports
each frame the page receives (Network.webSocketFrameReceived), and a terminal emulator (pyte)
replays them. Run by benchmarks/browser_check.sh, which starts the server; exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pyte

CTRL = 2  # DevTools' modifier bit for Ctrl
KEYS = {"Tab": ("Tab", "Tab", 9, 0, "\t"), "ctrl+s": ("s", "KeyS", 83, CTRL, ""),
        "ctrl+g": ("g", "KeyG", 71, CTRL, "")}


class Browser:
    """Chromium headless with a DevTools port, one page, and the screen its websocket draws."""

    def __init__(self, width: int, height: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="chargen-chromium-")
        self.devtools_port = _free_port()
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            sys.exit("no chromium: apt-get install -y chromium")
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             f"--remote-debugging-port={self.devtools_port}", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.ids = itertools.count(1)
        self.replies: dict[int, asyncio.Future] = {}

    async def connect(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{self.devtools_port}/json/list") as reply:
                    pages = [t for t in await reply.json(content_type=None) if t["type"] == "page"]
                break
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self.devtools = await session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        self.reader = asyncio.create_task(self._read())
        await self.call("Network.enable")
        await self.call("Page.enable")

    async def call(self, method: str, **params) -> dict:
        number = next(self.ids)
        reply = self.replies[number] = asyncio.get_running_loop().create_future()
        await self.devtools.send_json({"id": number, "method": method, "params": params})
        try:
            reply = await asyncio.wait_for(reply, 30)
        finally:
            del self.replies[number]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def _read(self) -> None:
        async for message in self.devtools:
            data = json.loads(message.data)
            if "id" in data:
                self.replies[data["id"]].set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                frame = data["params"]["response"]
                if frame["opcode"] == 2:  # binary: the app's terminal output
                    self.stream.feed(base64.b64decode(frame["payloadData"]))
            elif data.get("method") == "Network.webSocketFrameSent":
                sent = data["params"]["response"]["payloadData"]
                if sent.startswith('["resize"'):  # the terminal size xterm.js fitted to the window
                    size = json.loads(sent)[1]
                    self.screen.resize(size["height"], size["width"])

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    async def wait_for(self, condition, what: str, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while not condition(self.lines()):
            if time.monotonic() > deadline:
                raise SystemExit(f"FAILED: timed out waiting for {what}; the screen:\n" + "\n".join(self.lines()))
            await asyncio.sleep(0.05)
        return self.lines()

    async def press(self, name: str) -> None:
        key, code, virtual, modifiers, text = KEYS[name]
        common = dict(key=key, code=code, windowsVirtualKeyCode=virtual, nativeVirtualKeyCode=virtual,
                      modifiers=modifiers)
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"]))

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def show(title: str, lines: list[str]) -> None:
    while lines and not lines[-1]:
        lines = lines[:-1]
    print(f"--- {title} ---")
    print("\n".join(f"|{line}" for line in lines))


async def check(args: argparse.Namespace) -> None:
    browser = Browser(args.width, args.height)
    try:
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            await browser.connect(session)
            await browser.call("Page.navigate", url=args.url)
            await browser.wait_for(lambda lines: any("model:" in line and "loading" not in line for line in lines),
                                   "the model to load")
            print(f"page and model ready in {time.monotonic() - started:.1f} s; terminal "
                  f"{browser.screen.columns}x{browser.screen.lines}")
            await browser.call("Runtime.evaluate", expression="document.querySelector('textarea').focus()")
            await browser.call("Input.insertText", text=args.typed)
            lines = await browser.wait_for(lambda lines: lines[0].strip().startswith(args.typed.strip())
                                           and len(lines[0].strip()) > len(args.typed.strip()), "the ghost text")
            show("the ghost text after the typed text", lines)
            await browser.screenshot(args.screenshot)
            print(f"screenshot: {args.screenshot}")

            await browser.press("Tab")
            await browser.press("ctrl+s")
            deadline = time.monotonic() + 30
            while len(_read(args.document)) <= len(args.typed) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            saved = _read(args.document)
            print(f"saved by ctrl+s: {saved!r}")
            if not (saved.startswith(args.typed) and lines[0].strip().startswith(saved.rstrip())):
                raise SystemExit("FAILED: the saved document is not the typed text and the accepted ghost")

            await browser.press("ctrl+g")
            lines = await browser.wait_for(lambda lines: any("Setup" in line for line in lines[:3]),
                                           "ctrl+g to switch to the training screen")
            show("after ctrl+g: the training screen", lines)
            print("OK: ghost shown, Tab accepted it, Ctrl+S saved it, Ctrl+G reached the app")
    finally:
        browser.close()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the served app, e.g. http://127.0.0.1:8000")
    parser.add_argument("--document", type=Path, required=True, help="the --file the server edits")
    parser.add_argument("--screenshot", type=Path, default=Path("/tmp/chargen-browser.png"))
    parser.add_argument("--typed", default="The king and ")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=620)
    asyncio.run(check(parser.parse_args()))


if __name__ == "__main__":
    main()
