"""Revision encodings.

* ``rev_key(main, sub, tombstone)``: etcd's 17-byte (18 with tombstone mark)
  key-bucket key: big-endian main, ``_``, big-endian sub, optional ``t``.
* Key index entries pack each revision of a user key into one unsigned 64-bit
  integer ``main << 24 | sub << 1 | tombstone`` (main < 2**40, sub < 2**23),
  stored as a native array so decoding a key's history is one ``frombytes``.
"""

from __future__ import annotations

import struct
from array import array

__all__ = ["MAIN_SHIFT", "decode_index", "encode_index", "pack", "parse_rev_key", "rev_key", "unpack"]

MAIN_SHIFT = 24
_SUB_MASK = (1 << 23) - 1
_REV = struct.Struct(">Q1sQ")


def pack(main: int, sub: int, tombstone: bool) -> int:
    return (main << MAIN_SHIFT) | (sub << 1) | int(tombstone)


def unpack(packed: int) -> tuple[int, int, bool]:
    return packed >> MAIN_SHIFT, (packed >> 1) & _SUB_MASK, bool(packed & 1)


def rev_key(main: int, sub: int, tombstone: bool = False) -> bytes:
    k = _REV.pack(main, b"_", sub)
    return k + b"t" if tombstone else k


def parse_rev_key(k: bytes) -> tuple[int, int, bool]:
    main, _, sub = _REV.unpack_from(k)
    return main, sub, len(k) == 18 and k[17:18] == b"t"


def decode_index(raw: bytes) -> array[int]:
    a: array[int] = array("Q")
    a.frombytes(raw)
    return a


def encode_index(revs: array[int]) -> bytes:
    return revs.tobytes()
