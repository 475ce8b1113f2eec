"""Key-range conventions shared by Range, DeleteRange, Watch, Compare and auth.

etcd ranges are half-open ``[key, range_end)``:

* empty ``range_end``: the single key ``key``;
* ``range_end == b"\\0"``: every key ``>= key`` ("from key");
* ``key == b"\\0"`` and ``range_end == b"\\0"``: every key;
* ``range_end == prefix_end(key)``: every key with prefix ``key``.
"""

from __future__ import annotations

__all__ = ["FROM_KEY", "in_range", "is_single_key", "is_unbounded", "prefix_end"]

FROM_KEY = b"\x00"


def prefix_end(prefix: bytes) -> bytes:
    """Return the smallest key greater than every key starting with ``prefix``.

    Trailing ``0xff`` bytes are dropped before incrementing (``b"a\\xff"`` ends at
    ``b"b"``); a prefix of only ``0xff`` bytes (or empty) has no end, which etcd
    spells ``b"\\0"``.
    """
    buf = bytearray(prefix)
    while buf:
        if buf[-1] < 0xFF:
            buf[-1] += 1
            return bytes(buf)
        buf.pop()
    return FROM_KEY


def is_single_key(range_end: bytes) -> bool:
    """True when ``range_end`` selects just the key itself."""
    return not range_end


def is_unbounded(range_end: bytes) -> bool:
    """True when ``range_end`` means "no upper bound" (``b"\\0"``)."""
    return range_end == FROM_KEY


def in_range(k: bytes, key: bytes, range_end: bytes) -> bool:
    """Whether ``k`` falls in the etcd range ``(key, range_end)``."""
    if not range_end:
        return k == key
    if range_end == FROM_KEY:
        return k >= key
    return key <= k < range_end
