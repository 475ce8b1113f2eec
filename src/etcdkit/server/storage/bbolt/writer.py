"""Write a bbolt database file bottom-up from sorted input, streaming.

Theory of operation: a bucket's entries arrive in strictly increasing key
order. They fill a leaf page until the next entry would not fit; the full page
is written at the next free page id (a page that holds one entry larger than a
page gets overflow pages). Each written page pushes ``(first key, pgid)`` into
the branch level above it, which fills and spills the same way; at the end the
levels are closed bottom-up and the last single page is the bucket's root.
A nested bucket is written, depth first, when its entry comes up, and its
header becomes the entry's value. A bucket with no nested buckets whose leaf
would take at most a quarter page is stored *inline* (root 0, the leaf page in
the value), as bbolt itself does.

Memory is bounded by one pending page per tree level per open bucket, not by
the database size. Pages 0-2 (two metas, an empty freelist) are written last,
so the output must be a seekable file. The result passes bbolt's consistency
check: every page below the high-water mark is reachable exactly once.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from .page import (
    BRANCH,
    BRANCH_ELEMENT,
    BUCKET_HEADER,
    BUCKET_LEAF,
    FREELIST,
    LEAF,
    LEAF_ELEMENT,
    MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
    META,
    PAGE_HEADER,
    Meta,
    page_header,
)

__all__ = ["BoltWriter", "BucketSource", "write_bolt"]

_FIRST_DATA_PAGE = 3
_FREELIST_PAGE = 2
_MAX_LEVELS = 64


@dataclass(slots=True)
class BucketSource:
    """A bucket to write: entries in strictly increasing key order.

    A value is ``bytes`` or a nested :class:`BucketSource`. ``items`` may be a
    one-shot iterator (it is consumed once, while writing).
    """

    items: Iterable[tuple[bytes, Union[bytes, BucketSource]]]  # noqa: UP007 - forward ref in a union
    sequence: int = 0


class _Level:
    """The pending page of one tree level, kept ready to encode.

    ``fields`` holds the element fields (leaf: flags, data offset, key size,
    value size; branch: data offset, key size, child pgid) where the data
    offset counts from the start of the data area; :func:`_encode` turns it
    into bbolt's offset-from-the-element once the element count is final.
    """

    __slots__ = ("count", "data", "fields", "first_key", "parts", "size")

    def __init__(self) -> None:
        self.fields: list[int] = []
        self.parts: list[bytes] = []
        self.count = 0
        self.data = 0
        self.size = PAGE_HEADER.size
        self.first_key = b""


def _encode(pgid: int, leaf: bool, level: _Level, overflow: int) -> bytes:
    n, fields = level.count, level.fields
    stride, pos_at, elem = (4, 1, LEAF_ELEMENT.size) if leaf else (3, 0, BRANCH_ELEMENT.size)
    # Element i sits at 16 + 16*i and its key at 16 + 16*n + data offset: pos = 16*(n - i) + data offset.
    fields[pos_at::stride] = [elem * (n - i) + d for i, d in enumerate(fields[pos_at::stride])]
    fmt = f"<{4 * n}I" if leaf else "<" + "IIQ" * n
    header = page_header(pgid, LEAF if leaf else BRANCH, n, overflow)
    return b"".join((header, struct.pack(fmt, *fields), *level.parts))


class BoltWriter:
    """Writes one database to a seekable binary file; call :meth:`write` once."""

    def __init__(self, out: BinaryIO, *, page_size: int = 4096) -> None:
        if page_size < 1024 or page_size & (page_size - 1):
            raise ValueError(f"page size must be a power of two >= 1024, got {page_size}")
        self._out = out
        self.page_size = page_size
        self._next_pgid = _FIRST_DATA_PAGE
        self._start = out.tell()
        self.pages_written = 0

    # -- pages -----------------------------------------------------------------

    def _emit(self, leaf: bool, level: _Level) -> int:
        ps = self.page_size
        npages = -(-level.size // ps)
        pgid = self._next_pgid
        self._next_pgid += npages
        buf = _encode(pgid, leaf, level, npages - 1)
        self._out.write(buf)
        self._out.write(bytes(npages * ps - len(buf)))
        self.pages_written += npages
        return pgid

    def _push_branch(self, levels: list[_Level], depth: int, key: bytes, child: int) -> None:
        """Append a child to branch level ``depth`` (>= 1), spilling the full page upward first."""
        if depth == len(levels):
            if depth >= _MAX_LEVELS:
                raise RuntimeError(f"bbolt writer: tree deeper than {_MAX_LEVELS} levels")
            levels.append(_Level())
        level = levels[depth]
        esize = BRANCH_ELEMENT.size + len(key)
        # A branch page keeps at least two children (as bbolt's minimum keys per
        # branch), so each level is at most half the one below and the tree ends.
        if level.count >= 2 and level.size + esize > self.page_size:
            self._spill(levels, depth)
            level = levels[depth]
        if not level.count:
            level.first_key = key
        level.fields += (level.data, len(key), child)
        level.parts.append(key)
        level.data += len(key)
        level.count += 1
        level.size += esize

    def _spill(self, levels: list[_Level], depth: int) -> None:
        level = levels[depth]
        pgid = self._emit(depth == 0, level)
        levels[depth] = _Level()
        self._push_branch(levels, depth + 1, level.first_key, pgid)

    def _close_levels(self, levels: list[_Level]) -> int:
        """Write the pending pages bottom-up; return the root page id."""
        depth = 0
        while True:
            level = levels[depth]
            if depth == len(levels) - 1:
                if depth > 0 and level.count == 1:
                    return level.fields[2]
                return self._emit(depth == 0, level)
            self._spill(levels, depth)
            depth += 1

    # -- buckets ---------------------------------------------------------------

    def _leaf_level(self, fields: list[int], parts: list[bytes], count: int, data: int, size: int) -> _Level:
        level = _Level()
        level.fields, level.parts, level.count, level.data, level.size = fields, parts, count, data, size
        level.first_key = parts[0] if parts else b""
        return level

    def _write_bucket(self, src: BucketSource, *, allow_inline: bool, root_level: bool = False) -> bytes:
        """Write a bucket's pages; return its bucket value (header, plus the page when inline)."""
        levels: list[_Level] = [_Level()]
        page_size = self.page_size
        inline_limit = page_size // 4 if allow_inline else -1
        inline_ok = allow_inline
        prev = b""
        buffered = True  # entries still only in the pending leaf, not yet committed to pages
        # The pending leaf page lives in locals (the per-entry hot loop); see _Level for the fields.
        fields: list[int] = []
        parts: list[bytes] = []
        count = data = 0
        size = PAGE_HEADER.size
        for key, value in src.items:
            if type(key) is not bytes:
                key = bytes(key)
            if not prev < key:
                raise ValueError("empty key" if not key else f"keys not in strictly increasing order: {prev!r} {key!r}")
            prev = key
            klen = len(key)
            if klen > MAX_KEY_SIZE:
                raise ValueError(f"key of {klen} bytes exceeds {MAX_KEY_SIZE}")
            if type(value) is bytes and not root_level:
                flags, raw = 0, value
            elif isinstance(value, BucketSource):
                flags, raw = BUCKET_LEAF, self._write_bucket(value, allow_inline=True)
                inline_ok = False
            elif root_level:
                raise ValueError(f"top-level entry {key!r} must be a bucket")
            else:
                flags, raw = 0, bytes(value)
            vlen = len(raw)
            if vlen > MAX_VALUE_SIZE:
                raise ValueError(f"value of {vlen} bytes exceeds {MAX_VALUE_SIZE}")
            esize = LEAF_ELEMENT.size + klen + vlen
            if buffered and (not inline_ok or size + esize > inline_limit):
                buffered = False
            if count and size + esize > page_size:
                leaf = self._leaf_level(fields, parts, count, data, size)
                self._push_branch(levels, 1, leaf.first_key, self._emit(True, leaf))
                fields, parts = [], []
                count = data = 0
                size = PAGE_HEADER.size
            fields += (flags, data, klen, vlen)
            parts += (key, raw)
            data += klen + vlen
            count += 1
            size += esize
        levels[0] = self._leaf_level(fields, parts, count, data, size)
        if buffered and inline_ok:
            return BUCKET_HEADER.pack(0, src.sequence) + _encode(0, True, levels[0], 0)
        return BUCKET_HEADER.pack(self._close_levels(levels), src.sequence)

    def write(self, root: BucketSource) -> int:
        """Write the whole database (``root`` lists the top-level buckets); return its size in bytes."""
        ps = self.page_size
        self._out.seek(self._start + _FIRST_DATA_PAGE * ps)
        value = self._write_bucket(root, allow_inline=False, root_level=True)
        root_pgid, sequence = BUCKET_HEADER.unpack_from(value, 0)
        high_water = self._next_pgid
        self._out.seek(self._start)
        for pgid in (0, 1):
            meta = Meta(
                page_size=ps,
                root=root_pgid,
                sequence=sequence,
                freelist=_FREELIST_PAGE,
                high_water=high_water,
                txid=pgid,
            )
            page = page_header(pgid, META, 0) + meta.encode()
            self._out.write(page + bytes(ps - len(page)))
        freelist = page_header(_FREELIST_PAGE, FREELIST, 0)
        self._out.write(freelist + bytes(ps - len(freelist)))
        self._out.seek(self._start + high_water * ps)
        return high_water * ps


def write_bolt(path: str | os.PathLike[str], root: BucketSource, *, page_size: int = 4096) -> int:
    """Write a new bbolt file at ``path`` (replacing it); return its size in bytes."""
    with open(Path(path), "wb") as f:
        size = BoltWriter(f, page_size=page_size).write(root)
        f.truncate(size)
    return size
