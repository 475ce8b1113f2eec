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
    """The pending page of one tree level: elements and their encoded size."""

    __slots__ = ("elements", "size")

    def __init__(self) -> None:
        self.elements: list[tuple[int, bytes, bytes | int]] = []  # (flags, key, value | child pgid)
        self.size = PAGE_HEADER.size


def _encode_leaf(pgid: int, elements: list[tuple[int, bytes, bytes | int]], overflow: int) -> bytes:
    # Element i sits at 16 + 16*i; its key at 16 + 16*n + (bytes of the keys/values before it).
    n = len(elements)
    fields: list[int] = []
    parts: list[bytes] = []
    cum = 0
    for i, (flags, key, value) in enumerate(elements):
        assert isinstance(value, bytes)
        fields += (flags, LEAF_ELEMENT.size * (n - i) + cum, len(key), len(value))
        parts += (key, value)
        cum += len(key) + len(value)
    return b"".join((page_header(pgid, LEAF, n, overflow), struct.pack(f"<{4 * n}I", *fields), *parts))


def _encode_branch(pgid: int, elements: list[tuple[int, bytes, bytes | int]], overflow: int) -> bytes:
    n = len(elements)
    fields: list[int] = []
    parts: list[bytes] = []
    cum = 0
    for i, (_flags, key, child) in enumerate(elements):
        assert isinstance(child, int)
        fields += (BRANCH_ELEMENT.size * (n - i) + cum, len(key), child)
        parts.append(key)
        cum += len(key)
    return b"".join((page_header(pgid, BRANCH, n, overflow), struct.pack("<" + "IIQ" * n, *fields), *parts))


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

    def _emit(self, kind: int, elements: list[tuple[int, bytes, bytes | int]], size: int) -> int:
        ps = self.page_size
        npages = -(-size // ps)
        pgid = self._next_pgid
        self._next_pgid += npages
        encode = _encode_leaf if kind == LEAF else _encode_branch
        buf = encode(pgid, elements, npages - 1)
        self._out.write(buf)
        self._out.write(bytes(npages * ps - len(buf)))
        self.pages_written += npages
        return pgid

    def _push(self, levels: list[_Level], depth: int, element: tuple[int, bytes, bytes | int], esize: int) -> None:
        """Append an element to level ``depth`` (0 = leaves), spilling the full page upward first."""
        if depth == len(levels):
            if depth >= _MAX_LEVELS:
                raise RuntimeError(f"bbolt writer: tree deeper than {_MAX_LEVELS} levels")
            levels.append(_Level())
        level = levels[depth]
        # A branch page keeps at least two children (as bbolt's minimum keys per
        # branch), so each level is at most half the one below and the tree ends.
        min_elements = 1 if depth == 0 else 2
        if len(level.elements) >= min_elements and level.size + esize > self.page_size:
            self._spill(levels, depth)
            level = levels[depth]
        level.elements.append(element)
        level.size += esize

    def _spill(self, levels: list[_Level], depth: int) -> None:
        level = levels[depth]
        pgid = self._emit(LEAF if depth == 0 else BRANCH, level.elements, level.size)
        first_key = level.elements[0][1]
        levels[depth] = _Level()
        self._push(levels, depth + 1, (0, first_key, pgid), BRANCH_ELEMENT.size + len(first_key))

    def _close_levels(self, levels: list[_Level]) -> int:
        """Write the pending pages bottom-up; return the root page id."""
        depth = 0
        while True:
            level = levels[depth]
            if depth == len(levels) - 1 and depth > 0 and len(level.elements) == 1:
                child = level.elements[0][2]
                assert isinstance(child, int)
                return child
            if depth == len(levels) - 1:
                return self._emit(LEAF if depth == 0 else BRANCH, level.elements, level.size)
            self._spill(levels, depth)
            depth += 1

    # -- buckets ---------------------------------------------------------------

    def _write_bucket(self, src: BucketSource, *, allow_inline: bool, root_level: bool = False) -> bytes:
        """Write a bucket's pages; return its bucket value (header, plus the page when inline)."""
        levels: list[_Level] = [_Level()]
        page_size = self.page_size
        inline_limit = page_size // 4 if allow_inline else -1
        inline_ok = allow_inline
        prev: bytes | None = None
        buffered = True  # entries still only in levels[0], not yet committed to pages
        for key, value in src.items:
            if not key:
                raise ValueError("empty key")
            if len(key) > MAX_KEY_SIZE:
                raise ValueError(f"key of {len(key)} bytes exceeds {MAX_KEY_SIZE}")
            if prev is not None and key <= prev:
                raise ValueError(f"keys not in strictly increasing order: {prev!r} then {key!r}")
            prev = key
            if isinstance(value, BucketSource):
                flags, raw = BUCKET_LEAF, self._write_bucket(value, allow_inline=True)
                inline_ok = False
            else:
                if root_level:
                    raise ValueError(f"top-level entry {key!r} must be a bucket")
                if len(value) > MAX_VALUE_SIZE:
                    raise ValueError(f"value of {len(value)} bytes exceeds {MAX_VALUE_SIZE}")
                flags, raw = 0, bytes(value)
            esize = LEAF_ELEMENT.size + len(key) + len(raw)
            if buffered and (not inline_ok or levels[0].size + esize > inline_limit):
                buffered = False
            leaf = levels[0]
            if leaf.elements and leaf.size + esize > page_size:
                self._spill(levels, 0)
                leaf = levels[0]
            leaf.elements.append((flags, bytes(key), raw))
            leaf.size += esize
        if buffered and inline_ok:
            return BUCKET_HEADER.pack(0, src.sequence) + _encode_leaf(0, levels[0].elements, 0)
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
