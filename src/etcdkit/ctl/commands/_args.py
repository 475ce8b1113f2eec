"""Argument helpers shared by the handlers: Go-compatible integer parsing and argv-to-bytes."""

from __future__ import annotations

import os

__all__ = ["arg_bytes", "go_parse_int"]


def arg_bytes(arg: str) -> bytes:
    """The original bytes of a command-line argument (Go strings are bytes)."""
    return os.fsencode(arg)


def go_parse_int(text: str, base: int = 10, unsigned: bool = False, bits: int = 64) -> int:
    """``strconv.ParseInt``/``ParseUint`` with an explicit base; ``ValueError`` carries Go's message."""
    fn = "strconv.ParseUint" if unsigned else "strconv.ParseInt"
    s = text
    neg = False
    if not unsigned and s[:1] in "+-":
        neg, s = s[0] == "-", s[1:]
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    if not s or any(c.lower() not in digits for c in s):
        raise ValueError(f'{fn}: parsing "{text}": invalid syntax')
    val = int(s, base)
    val = -val if neg else val
    lo, hi = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not lo <= val <= hi:
        raise ValueError(f'{fn}: parsing "{text}": value out of range')
    return val
