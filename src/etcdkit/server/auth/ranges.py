"""Permission coverage: does the union of a user's permission ranges cover a request range?

A permission or request ``(key, range_end)`` follows etcd's range conventions:
empty end = the single key, ``b"\\0"`` = every key >= key. Intervals are
half-open ``[begin, end)`` with ``None`` as +infinity; a single key ``k`` is
``[k, k + b"\\0")``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["covers", "to_interval"]

Interval = tuple[bytes, bytes | None]


def to_interval(key: bytes, range_end: bytes) -> Interval:
    if not range_end:
        return key, key + b"\x00"
    if range_end == b"\x00":
        return key, None
    return key, range_end


def covers(perms: Iterable[Interval], want: Interval) -> bool:
    """True when ``want`` lies inside the union of ``perms``."""
    begin, end = want
    if end is not None and begin >= end:
        return True
    pos = begin
    for b, e in sorted(perms, key=lambda iv: iv[0]):
        if b > pos:
            break
        if e is None:
            return True
        if e > pos:
            pos = e
            if end is not None and pos >= end:
                return True
    return False
