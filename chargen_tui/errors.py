"""The one error type a user sees: a sentence that says what is wrong and what to do."""


class UserError(Exception):
    """Bad input or settings. The CLI and the app print `str(error)` as one line, no traceback."""
