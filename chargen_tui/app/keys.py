"""The keys a web browser keeps for itself, and the second key that does the same in the app.

Served in a browser (`chargen-tui serve`), some of the app's keys never reach it: Ctrl+T, Ctrl+N
and Ctrl+W open and close tabs and windows whatever the page does, and F5 reloads the page when the
terminal has lost the focus. Every binding on such a key also answers to the key it maps to here,
in the terminal too (one key to learn); the footer shows the second key only when the app is served
(`App.get_key_display`), so the terminal's footer does not change.

The second keys are free in the app and in the Textual widgets it uses (Input, TextArea, Select)
and are keys a browser lets a page have: Ctrl+B, Ctrl+F and Ctrl+G (bookmarks, find, find next)
reach the page when its terminal has the focus. Ctrl+W (the editor's delete-word-left, Textual's)
has Alt+Backspace already, which a browser's terminal sends as Textual reads it; Ctrl+P (Textual's
command palette, not shown) reaches the page.
"""

from __future__ import annotations

# A reserved key -> the key that does the same in a browser. Declared once: the bindings
# (`also_in_a_browser`) and the footer (`browser_key`) read it.
BROWSER_KEYS: dict[str, str] = {
    "f5": "ctrl+b",  # writing: predict/sample; training: start
    "ctrl+t": "ctrl+g",  # to the other screen ("go")
    "ctrl+n": "ctrl+f",  # the next suggestion ("further")
}


def also_in_a_browser(key: str) -> str:
    """A Binding's key string: `key`, then its browser key if a browser keeps `key` ("f5,ctrl+b").

    `key` comes first, so a footer that shows an action's first binding shows `key` in a terminal."""
    second = BROWSER_KEYS.get(key)
    return f"{key},{second}" if second else key


def browser_key(key: str) -> str:
    """The key to show for `key` in a browser: its second key if a browser keeps `key`, else `key`."""
    return BROWSER_KEYS.get(key, key)


def key_name(key: str, web: bool) -> str:
    """How the app's sentences name `key` ("Ctrl+T"); in a browser (`web`), its second key if a
    browser keeps it."""
    shown = browser_key(key) if web else key
    return "+".join(part.capitalize() for part in shown.split("+"))
