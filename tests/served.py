"""What the served-app tests (and benchmarks/browser_check.py) share: starting `chargen-tui serve`, and a
browser tab without the browser: textual-serve's websocket, its output fed to a terminal emulator.

textual-serve's /ws protocol (textual_serve/server.py): the client sends JSON text messages,
["stdin", keys], ["resize", {"width": w, "height": h}], ["ping", data]; the server sends the app's
terminal output as binary messages (what xterm.js draws), and JSON text messages of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pyte

CTRL_S, TAB = "\x13", "\t"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`chargen-tui serve ARGS --port PORT` in a process group of its own (its apps are in it too), so
    that `stop` ends them all."""

    def __init__(self, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "chargen_tui", "serve", *args, "--port", str(self.port)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True, env={**os.environ, **(env or {})})

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server ended ({self.process.returncode}): {self.process.stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the server did not listen")

    def stop(self) -> tuple[str, str]:
        """End the server and its apps (the whole process group); return what it printed."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.process.communicate(timeout=30)


class Tab:
    """One browser tab's session: the websocket of a `chargen-tui serve`, its screen read by pyte."""

    def __init__(self, url: str, width: int = 80, height: int = 24) -> None:
        self.url, self.width, self.height = url, width, height
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.closed = asyncio.Event()

    async def __aenter__(self) -> Tab:
        self.session = aiohttp.ClientSession()
        self.socket = await self.session.ws_connect(
            self.url.replace("http", "ws", 1) + f"/ws?width={self.width}&height={self.height}")
        self.reader = asyncio.create_task(self._read())
        await self.socket.send_json(["resize", {"width": self.width, "height": self.height}])
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the tab: textual-serve then tells the app to quit."""
        await self.socket.close()
        await self.reader
        await self.session.close()

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.stream.feed(message.data)
        self.closed.set()

    async def type(self, keys: str) -> None:
        """Send keys as xterm.js does: the characters (and control characters) the keys make."""
        await self.socket.send_json(["stdin", keys])

    def lines(self) -> list[str]:
        return list(self.screen.display)

    async def wait_for(self, condition, what: str, timeout: float = 30.0) -> list[str]:
        """Wait until `condition(lines)` holds for the screen's lines; fail with the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.lines()):
                return self.lines()
            if self.closed.is_set():
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; the screen:\n" + "\n".join(self.lines()))

    async def wait_for_model(self) -> None:
        await self.wait_for(lambda lines: any("model: run" in line and "loading" not in line for line in lines),
                            "the model to load")


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def document_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
