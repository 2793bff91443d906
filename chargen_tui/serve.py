"""`chargen-tui serve`: the app in a web browser, through textual-serve (a thin front end).

textual-serve answers each browser tab's websocket (`/ws`) by starting a command, here
`chargen-tui write ...`, under Textual's web driver, and relays the app's screen to xterm.js in
the page and the keys back. It has no password: whoever reaches the port runs the app as this user,
and the app opens and saves files. So it listens on the loopback interface unless the user says
otherwise with `--public-no-password` (PUBLIC_FLAG), and a websocket opened by a page of another
origin (any web site the user visits can try ws://127.0.0.1:8000/ws) is refused.

Importing this module starts nothing; textual_serve is imported by `serve` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import shlex
import socket
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from .control import printable
from .errors import UserError

PUBLIC_FLAG = "--public-no-password"
TITLE = "chargen-tui"  # the page's title (textual-serve would show the whole command line)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface only: localhost, 127.0.0.0/8 or ::1.
    Any other name counts as public (it could resolve to anything)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def check_address(host: str, port: int, public: bool) -> None:
    """Refuse (UserError) a port out of range, and a non-loopback host unless `public`."""
    if not 1 <= port <= 65535:
        raise UserError(f"--port must be from 1 to 65535, not {port}")
    if not is_loopback(host) and not public:
        raise UserError(f"--host {host} would let anyone who reaches it use the app, without a password: "
                        f"keep the default (127.0.0.1) and use `ssh -L`, or add {PUBLIC_FLAG} if you mean it")


def check_port_free(host: str, port: int) -> None:
    """Bind `host`:`port` as the server will, and let it go: a port in use (or one that needs root, or
    an address this machine does not have) is one line now, not a traceback once serving."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UserError(f"--host {host}: {error.strerror}") from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does on Unix
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise UserError(_cannot_listen(host, port, error)) from None


def _cannot_listen(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}: choose another with --port"
    if error.errno == errno.EACCES:
        return f"port {port} needs more rights than this user has: choose one from 1024 up with --port"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine"
    return f"cannot listen on {host} port {port}: {error.strerror or error}"


def write_command(run_dir: Path | None, document: Path | None, mode: str, adapt: bool, encoding: str) -> str:
    """The shell command textual-serve runs for each browser tab: `write` with our options, from this
    Python (a venv's chargen-tui need not be on PATH), paths absolute, every word quoted."""
    words = [sys.executable, "-m", "chargen_tui", "write"]
    if run_dir is not None:
        words.append(str(run_dir.resolve()))
    if document is not None:
        words += ["--file", str(document.resolve())]
    words += [f"--mode={mode}", f"--encoding={encoding}"] + ([] if adapt else ["--no-adapt"])
    return shlex.join(words)


def url(host: str, port: int) -> str:
    """The address to open in a browser: an IPv6 address in brackets; all interfaces as this machine's name."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else _bracketed(host)
    return f"http://{shown}:{port}"


def instructions(host: str, port: int, public: bool, over_ssh: bool) -> list[tuple[str, str]]:
    """What the user reads before the server starts, as (stream, line): the address to open; on a
    machine reached by SSH, the tunnel to it; served publicly, the warning."""
    lines = []
    if public and not is_loopback(host):
        lines.append(("stderr", f"warning: serving on {host} port {port} with no password: anyone who can reach "
                      "this port can use the app, and through it read and write your files"))
    lines.append(("stdout", f"open {url(host, port)} in a browser (Ctrl-C here stops the server and its sessions)"))
    if over_ssh and is_loopback(host):
        address = url("localhost", port)
        lines.append(("stdout", f"from your own machine: ssh -L {port}:{_bracketed(host)}:{port} "
                      f"{socket.gethostname()}, then open {address}"))
    return lines


def _bracketed(host: str) -> str:
    """`host` as a URL or `ssh -L` names it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(command: str, host: str, port: int) -> None:
    """Serve `command` in browsers on `host`:`port` until Ctrl-C (or SIGTERM)."""
    server = _server_class()(command, host=host, port=port, title=TITLE)
    with contextlib.redirect_stdout(_Pictures(sys.stdout)):  # textual-serve copies an app's stderr there, raw
        try:
            server.serve()
        except OSError as error:  # a port taken since check_port_free
            raise UserError(_cannot_listen(host, port, error)) from None


def _server_class() -> type:
    """textual-serve's Server, with our own output, and websockets from the page's own origin only."""
    from aiohttp import web
    from textual_serve.server import Server

    class ChargenServer(Server):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.sessions: set[asyncio.Task] = set()  # the websocket handlers, one a browser tab

        def initialize_logging(self) -> None:
            # textual-serve logs every request (INFO, with Rich): warnings and errors only, one a line
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(_PrintableFormatter("%(name)s: %(message)s"))
            logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)

        async def on_startup(self, app: web.Application) -> None:
            pass  # its banner names the whole command line; `instructions` said what a user needs

        async def on_shutdown(self, app: web.Application) -> None:
            # Ctrl-C or SIGTERM: aiohttp would wait for each tab's websocket to close. End each session
            # now: textual-serve tells its app to quit, which keeps the unsaved text (autosave copy).
            for session in self.sessions:
                session.cancel()
            await asyncio.gather(*self.sessions, return_exceptions=True)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # The page names the websocket by an absolute address: the one the browser came by (an
            # SSH tunnel's local port, the machine's name) rather than the address listened on.
            # Safe without a lock: the page is rendered without yielding to another request.
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            if not _same_origin(request, loopback=is_loopback(self.host)):
                logging.getLogger("chargen-tui").warning(
                    "refused a websocket from a page of %s (not this server's page)", request.headers.get("Origin"))
                return web.Response(status=403, text="a page of another origin may not use this app")
            session = asyncio.current_task()
            self.sessions.add(session)
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions.discard(session)

    return ChargenServer


def _same_origin(request, loopback: bool) -> bool:
    """Whether the websocket comes from this server's own page. A browser sends Origin with every
    websocket, so a page elsewhere (cross-site websocket hijacking) is told apart; a client that is not
    a browser sends none. Served on loopback, the page's host must be a loopback name too: a web site
    whose name is made to resolve to 127.0.0.1 (DNS rebinding) would otherwise be its own origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    page = urlsplit(origin)
    if page.netloc.lower() != request.host.lower():
        return False
    return not loopback or is_loopback(page.hostname or "")


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


class _Pictures:
    """A text stream that writes `printable(text)` to `stream`: what an app wrote on its stderr
    (textual-serve copies it to stdout when the app ends) reaches the terminal as pictures."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(printable(text))

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)
