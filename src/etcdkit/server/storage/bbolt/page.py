"""bbolt on-disk structures: page header, elements, meta page, freelist.

The format (bbolt 1.3, file format version 2), all integers little-endian:

* The file is an array of pages of ``page_size`` bytes; page ``N`` starts at
  ``N * page_size``. A logical page may span ``1 + overflow`` physical pages.
* Every page starts with a 16-byte header: ``id u64, flags u16, count u16,
  overflow u32``. ``flags`` is one of :data:`BRANCH`, :data:`LEAF`,
  :data:`META`, :data:`FREELIST`.
* Pages 0 and 1 are meta pages. After the header: ``magic u32 (0xED0CDAED),
  version u32 (2), page_size u32, flags u32, root bucket (root pgid u64,
  sequence u64), freelist pgid u64, high-water pgid u64, txid u64, checksum
  u64`` where the checksum is FNV-1a 64 over the 56 bytes before it. The valid
  meta with the larger txid is the current one.
* A branch page holds ``count`` elements ``pos u32, ksize u32, pgid u64``; a
  leaf page holds ``count`` elements ``flags u32, pos u32, ksize u32, vsize
  u32``. ``pos`` is the offset of the key from the element itself; the value
  follows the key. A leaf element with flag :data:`BUCKET_LEAF` is a nested
  bucket whose value is a bucket header ``root pgid u64, sequence u64``; a
  root of 0 means an *inline* bucket whose leaf page follows the header in
  the value itself.
* A freelist page lists free page ids (u64) after the header; when ``count``
  is 0xFFFF, the real count is the first u64 after the header.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "BRANCH",
    "BRANCH_ELEMENT",
    "BUCKET_HEADER",
    "BUCKET_LEAF",
    "FREELIST",
    "LEAF",
    "LEAF_ELEMENT",
    "MAGIC",
    "MAX_KEY_SIZE",
    "MAX_VALUE_SIZE",
    "META",
    "PAGE_HEADER",
    "VERSION",
    "BoltFormatError",
    "BoltTruncatedError",
    "Meta",
    "NotBoltError",
    "fnv1a64",
    "page_header",
]

MAGIC = 0xED0CDAED
VERSION = 2

BRANCH = 0x01
LEAF = 0x02
META = 0x04
FREELIST = 0x10

BUCKET_LEAF = 0x01

MAX_KEY_SIZE = 32768
MAX_VALUE_SIZE = (1 << 31) - 2

PAGE_HEADER = struct.Struct("<QHHI")
BRANCH_ELEMENT = struct.Struct("<IIQ")
LEAF_ELEMENT = struct.Struct("<IIII")
BUCKET_HEADER = struct.Struct("<QQ")
_META = struct.Struct("<IIIIQQQQQ")  # without the trailing checksum
_U64 = struct.Struct("<Q")

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


class BoltFormatError(ValueError):
    """The bytes are not a (valid) bbolt database: bad magic, checksum, page or bounds."""


class NotBoltError(BoltFormatError):
    """The file is not a bbolt database at all (no meta page, wrong magic)."""


class BoltTruncatedError(BoltFormatError):
    """The file ends before the pages its meta page says it holds."""


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64-bit hash (the meta page checksum)."""
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h


def page_header(pgid: int, flags: int, count: int, overflow: int = 0) -> bytes:
    """Encode a page header."""
    return PAGE_HEADER.pack(pgid, flags, count, overflow)


@dataclass(frozen=True, slots=True)
class Meta:
    """A decoded meta page (see the module docstring for the layout)."""

    page_size: int
    root: int
    sequence: int
    freelist: int
    high_water: int
    txid: int
    flags: int = 0

    SIZE = _META.size + 8

    def encode(self) -> bytes:
        """The 64 meta bytes, checksum included (they follow a page header)."""
        body = _META.pack(
            MAGIC,
            VERSION,
            self.page_size,
            self.flags,
            self.root,
            self.sequence,
            self.freelist,
            self.high_water,
            self.txid,
        )
        return body + _U64.pack(fnv1a64(body))

    @classmethod
    def decode(cls, data: bytes) -> Meta:
        """Decode and validate 64 meta bytes; raise :class:`BoltFormatError` when invalid."""
        if len(data) < cls.SIZE:
            raise BoltFormatError("meta page truncated")
        body = bytes(data[: _META.size])
        magic, version, page_size, flags, root, seq, freelist, hwm, txid = _META.unpack(body)
        if magic != MAGIC:
            raise NotBoltError(f"invalid magic {magic:#x} (not a bbolt file)")
        if version != VERSION:
            raise BoltFormatError(f"unsupported bbolt version {version}")
        (checksum,) = _U64.unpack_from(data, _META.size)
        if checksum != fnv1a64(body):
            raise BoltFormatError("meta page checksum mismatch")
        if page_size < 512 or page_size & (page_size - 1):
            raise BoltFormatError(f"invalid page size {page_size}")
        return cls(page_size, root, seq, freelist, hwm, txid, flags)
