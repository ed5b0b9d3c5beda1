"""Errors that reach the user as one line each, with exit status 2 and nothing written."""

from __future__ import annotations

import re

#: terminal colour codes some libraries put in their messages (torch.onnx.export's steps)
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """Bad input from the user: a case file, an option, a missing path. Exit status 2."""

    def __init__(self, lines: str | list[str]) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class ParamError(ValueError):
    """A problem with one key of one case; the loader adds the file and case id."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def first_line(exc: BaseException) -> str:
    """What a one-line report says of an exception: its message's first line, or its type."""
    text = ANSI_CODES.sub("", str(exc)).strip() or type(exc).__name__
    return text.splitlines()[0]
