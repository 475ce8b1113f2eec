"""Password prompts the way etcdctl's speakeasy does them (prompt on stdout, echo off, newline after)."""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["ask_hidden"]

_STTY_ERR = "stty: 'standard input': Inappropriate ioctl for device\n"


def ask_hidden(out: Callable[[str], None], err: Callable[[str], None], prompt: str) -> str:
    """Prompt on ``out``, read one line from stdin without echo, then print a newline.

    On a terminal echo really is turned off (termios); otherwise, like etcdctl, the two failing
    ``stty`` calls report on ``err`` and the line is read from stdin as is.
    """
    out(prompt)
    if sys.stdin.isatty():
        import termios

        fd = sys.stdin.fileno()
        old = termios.tcgetattr(fd)
        new = termios.tcgetattr(fd)
        new[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
        try:
            line = sys.stdin.buffer.readline()
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
    else:
        err(_STTY_ERR)
        line = sys.stdin.buffer.readline()
        err(_STTY_ERR)
    out("\n")
    return line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
