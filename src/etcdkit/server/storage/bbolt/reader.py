"""Read-only access to a bbolt database file, streaming.

Contract:

* :class:`BoltReader` reads the file with positional reads, a page (and its
  overflow) at a time, so memory stays bounded for any file size and the
  process never holds a mapping of it; ``limit`` restricts it to the
  first ``limit`` bytes (an etcd snapshot is the bbolt file followed by a
  32-byte SHA-256, which is not part of the database).
* The current meta is the valid one (magic, version, checksum) with the
  larger txid; no valid meta raises :class:`BoltFormatError`.
* Every page access is bounds-checked against the high-water mark and the
  file size, and every element against its page; structural damage raises
  :class:`BoltFormatError`, never ``IndexError`` or ``struct.error``.
* :meth:`Bucket.items` yields entries in key order, lazily: a bucket of
  millions of keys is walked one page at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

from .page import (
    BRANCH,
    BRANCH_ELEMENT,
    BUCKET_HEADER,
    BUCKET_LEAF,
    FREELIST,
    LEAF,
    LEAF_ELEMENT,
    META,
    PAGE_HEADER,
    BoltFormatError,
    BoltTruncatedError,
    Meta,
    NotBoltError,
)

__all__ = ["BoltReader", "Bucket", "Entry"]

_MAX_DEPTH = 64
_CANDIDATE_PAGE_SIZES = (4096, 512, 1024, 2048, 8192, 16384, 32768, 65536)


class Entry(NamedTuple):
    """One leaf entry: a key and either a value or a nested bucket (``value`` is then the bucket header)."""

    key: bytes
    value: bytes
    is_bucket: bool


class _Page:
    """A page view: ``buf[base:end]`` holds the page (header included)."""

    __slots__ = ("base", "buf", "count", "end", "flags", "overflow", "pgid")

    def __init__(self, buf: bytes, base: int, end: int, pgid: int) -> None:
        if end - base < PAGE_HEADER.size:
            raise BoltFormatError(f"page {pgid} truncated")
        _id, flags, count, overflow = PAGE_HEADER.unpack_from(buf, base)
        self.buf, self.base, self.end, self.pgid, self.flags, self.count = buf, base, end, pgid, flags, count
        self.overflow = overflow

    def slice(self, start: int, length: int) -> bytes:
        if start < self.base or start + length > self.end:
            raise BoltFormatError(f"page {self.pgid}: element data out of bounds")
        return bytes(self.buf[start : start + length])

    def leaf_element(self, i: int) -> tuple[bytes, bytes, int]:
        off = self.base + PAGE_HEADER.size + i * LEAF_ELEMENT.size
        if off + LEAF_ELEMENT.size > self.end:
            raise BoltFormatError(f"page {self.pgid}: element {i} out of bounds")
        flags, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(self.buf, off)
        key = self.slice(off + pos, ksize)
        value = self.slice(off + pos + ksize, vsize)
        return key, value, flags

    def leaf_items(self) -> list[tuple[bytes, bytes, int]]:
        """All ``(key, value, flags)`` of a leaf page, decoded from one copy of the page."""
        raw = bytes(self.buf[self.base : self.end])
        hdr, n, size = PAGE_HEADER.size, self.count, len(raw)
        if hdr + n * LEAF_ELEMENT.size > size:
            raise BoltFormatError(f"page {self.pgid}: {n} elements do not fit in the page")
        out = []
        elem = hdr
        for flags, pos, ksize, vsize in LEAF_ELEMENT.iter_unpack(raw[hdr : hdr + n * LEAF_ELEMENT.size]):
            start = elem + pos
            mid = start + ksize
            end = mid + vsize
            if end > size:
                raise BoltFormatError(f"page {self.pgid}: element data out of bounds")
            out.append((raw[start:mid], raw[mid:end], flags))
            elem += LEAF_ELEMENT.size
        return out

    def branch_element(self, i: int) -> tuple[bytes, int]:
        off = self.base + PAGE_HEADER.size + i * BRANCH_ELEMENT.size
        if off + BRANCH_ELEMENT.size > self.end:
            raise BoltFormatError(f"page {self.pgid}: element {i} out of bounds")
        pos, ksize, child = BRANCH_ELEMENT.unpack_from(self.buf, off)
        return self.slice(off + pos, ksize), child


class Bucket:
    """A bucket: a B+tree rooted at a page, or an inline leaf page."""

    def __init__(self, reader: BoltReader, root: int, sequence: int, inline: bytes | None, depth: int = 0) -> None:
        self._reader = reader
        self.root = root
        self.sequence = sequence
        self._inline = inline
        self._depth = depth

    @property
    def is_inline(self) -> bool:
        return self._inline is not None

    def _root_page(self) -> _Page:
        if self._inline is not None:
            return _Page(self._inline, 0, len(self._inline), 0)
        return self._reader.page(self.root)

    def items(self) -> Iterator[Entry]:
        """Every entry of this bucket in key order (nested buckets as raw bucket values)."""
        for key, value, flags in self.raw_items():
            yield Entry(key, value, bool(flags & BUCKET_LEAF))

    def raw_items(self) -> Iterator[tuple[bytes, bytes, int]]:
        """Like :meth:`items` but as ``(key, value, leaf flags)`` tuples, a page at a time (the fast path)."""
        for page in self._leaves(self._root_page(), 0, set()):
            yield from page.leaf_items()

    def _leaves(self, page: _Page, depth: int, seen: set[int]) -> Iterator[_Page]:
        # ``seen``: a damaged file whose branches point back up (or twice at a page)
        # would otherwise be walked exponentially often.
        if depth > _MAX_DEPTH:
            raise BoltFormatError(f"page {page.pgid}: tree deeper than {_MAX_DEPTH}")
        if page.pgid in seen:
            raise BoltFormatError(f"page {page.pgid} referenced twice")
        if self._inline is None:
            seen.add(page.pgid)
        if page.flags == LEAF:
            yield page
        elif page.flags == BRANCH:
            if self._inline is not None:
                raise BoltFormatError("inline bucket with a branch page")
            for i in range(page.count):
                _key, child = page.branch_element(i)
                yield from self._leaves(self._reader.page(child), depth + 1, seen)
        else:
            raise BoltFormatError(f"page {page.pgid}: unexpected flags {page.flags:#x} in a bucket tree")

    def pages(self, seen: set[int] | None = None) -> Iterator[tuple[int, int]]:
        """``(pgid, overflow)`` of every page of this bucket and its nested buckets (none if inline).

        A page reached twice (within ``seen``, shared across nested buckets) raises
        :class:`BoltFormatError` rather than being walked again.
        """
        seen = set() if seen is None else seen
        if self._inline is not None:
            for entry in self.items():
                if entry.is_bucket:
                    yield from self._reader.open_bucket(entry.value, self._depth + 1).pages(seen)
            return
        yield from self._pages(self._reader.page(self.root), 0, seen)

    def _pages(self, page: _Page, depth: int, seen: set[int]) -> Iterator[tuple[int, int]]:
        if depth > _MAX_DEPTH:
            raise BoltFormatError(f"page {page.pgid}: tree deeper than {_MAX_DEPTH}")
        if page.pgid in seen:
            raise BoltFormatError(f"page {page.pgid}: multiple references")
        seen.add(page.pgid)
        yield page.pgid, page.overflow
        if page.flags == BRANCH:
            for i in range(page.count):
                yield from self._pages(self._reader.page(page.branch_element(i)[1]), depth + 1, seen)
        elif page.flags == LEAF:
            start = page.base + PAGE_HEADER.size
            # Low byte of each element's flags: one slice finds the nested buckets of a page.
            low_flags = bytes(
                page.buf[start : min(start + page.count * LEAF_ELEMENT.size, page.end) : LEAF_ELEMENT.size]
            )
            for i, flags in enumerate(low_flags):
                if flags & BUCKET_LEAF:
                    _key, value, _flags = page.leaf_element(i)
                    yield from self._reader.open_bucket(value, self._depth + 1).pages(seen)

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """Nested buckets in key order."""
        for entry in self.items():
            if entry.is_bucket:
                yield entry.key, self._reader.open_bucket(entry.value, self._depth + 1)

    def bucket(self, name: bytes) -> Bucket | None:
        """The nested bucket ``name``, or ``None``."""
        entry = self._find(name)
        if entry is None or not entry.is_bucket:
            return None
        return self._reader.open_bucket(entry.value, self._depth + 1)

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key`` (``None`` when absent or a nested bucket)."""
        entry = self._find(key)
        return None if entry is None or entry.is_bucket else entry.value

    def _find(self, key: bytes) -> Entry | None:
        page = self._root_page()
        for _ in range(_MAX_DEPTH):
            if page.flags == BRANCH:
                # The child to descend into is the last one whose first key is <= key.
                child = None
                for i in range(page.count):
                    k, pgid = page.branch_element(i)
                    if i > 0 and k > key:
                        break
                    child = pgid
                if child is None:
                    return None
                page = self._reader.page(child)
                continue
            if page.flags != LEAF:
                raise BoltFormatError(f"page {page.pgid}: unexpected flags {page.flags:#x} in a bucket tree")
            for i in range(page.count):
                k, v, flags = page.leaf_element(i)
                if k == key:
                    return Entry(k, v, bool(flags & BUCKET_LEAF))
                if k > key:
                    break
            return None
        raise BoltFormatError(f"tree deeper than {_MAX_DEPTH}")


class BoltReader:
    """A bbolt file opened read-only. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str], *, limit: int | None = None) -> None:
        self.path = Path(path)
        self._file = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._fd = self._file.fileno()
        try:
            size = os.fstat(self._fd).st_size
            self.size = size if limit is None else min(limit, size)
            if self.size < PAGE_HEADER.size + Meta.SIZE:
                raise NotBoltError(f"{self.path}: file too small to be a bbolt database ({self.size} bytes)")
            self.meta = self._load_meta()
            if self.meta.high_water * self.meta.page_size > self.size:
                raise BoltTruncatedError(
                    f"{self.path}: truncated: high-water mark is page {self.meta.high_water} "
                    f"but the file holds {self.size} bytes"
                )
        except BaseException:
            self.close()
            raise

    def _read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (positional reads: only pages in use are in memory)."""
        if offset + length > self.size:
            raise BoltFormatError(f"{self.path}: read of {length} bytes at {offset} runs past the end")
        data = os.pread(self._fd, length, offset)
        if len(data) != length:
            raise BoltTruncatedError(f"{self.path}: file shrank while reading")
        return data

    def _read_meta(self, offset: int) -> Meta | None:
        if offset + PAGE_HEADER.size + Meta.SIZE > self.size:
            return None
        raw = self._read(offset, PAGE_HEADER.size + Meta.SIZE)
        if PAGE_HEADER.unpack_from(raw)[1] != META:
            return None
        try:
            return Meta.decode(raw[PAGE_HEADER.size :])
        except BoltFormatError:
            return None

    def _load_meta(self) -> Meta:
        first = self._read_meta(0)
        metas = [first] if first is not None else []
        sizes = (first.page_size,) if first is not None else _CANDIDATE_PAGE_SIZES
        for ps in sizes:
            second = self._read_meta(ps)
            if second is not None and second.page_size == ps:
                metas.append(second)
                break
        if not metas:
            # Say why meta 0 is unusable: most useful for "not a bbolt file".
            raw = self._read(0, PAGE_HEADER.size + Meta.SIZE)
            if PAGE_HEADER.unpack_from(raw)[1] != META:
                raise NotBoltError(f"{self.path}: not a bbolt database (page 0 is not a meta page)")
            Meta.decode(raw[PAGE_HEADER.size :])
            raise NotBoltError(f"{self.path}: no valid meta page")
        return max(metas, key=lambda m: m.txid)

    @property
    def page_size(self) -> int:
        return self.meta.page_size

    def overflow(self, pgid: int) -> int:
        """The overflow count in the header of page ``pgid``."""
        return int(PAGE_HEADER.unpack(self._read(pgid * self.page_size, PAGE_HEADER.size))[3])

    def page(self, pgid: int) -> _Page:
        """The page ``pgid`` (with its overflow pages), bounds-checked."""
        hwm, ps = self.meta.high_water, self.page_size
        if pgid < 2 or pgid >= hwm:
            raise BoltFormatError(f"page id {pgid} out of range (high-water {hwm})")
        raw = self._read(pgid * ps, ps)
        overflow = PAGE_HEADER.unpack_from(raw)[3]
        if overflow:
            if pgid + overflow >= hwm:
                raise BoltFormatError(f"page {pgid}: overflow {overflow} runs past the end of the database")
            raw += self._read((pgid + 1) * ps, overflow * ps)
        return _Page(raw, 0, len(raw), pgid)

    def open_bucket(self, value: bytes, depth: int = 0) -> Bucket:
        """A bucket from its leaf value (bucket header, plus the inline page when root is 0)."""
        if depth > _MAX_DEPTH:
            raise BoltFormatError(f"buckets nested deeper than {_MAX_DEPTH}")
        if len(value) < BUCKET_HEADER.size:
            raise BoltFormatError("bucket value shorter than a bucket header")
        root, seq = BUCKET_HEADER.unpack_from(value, 0)
        if root == 0:
            inline = bytes(value[BUCKET_HEADER.size :])
            if len(inline) < PAGE_HEADER.size:
                raise BoltFormatError("inline bucket without a page")
            return Bucket(self, 0, seq, inline, depth)
        return Bucket(self, root, seq, None, depth)

    @property
    def root(self) -> Bucket:
        """The root bucket (its entries are the top-level buckets)."""
        return Bucket(self, self.meta.root, self.meta.sequence, None)

    def bucket(self, *path: bytes) -> Bucket | None:
        """The bucket at ``path`` (top-level name first), or ``None``."""
        b: Bucket | None = self.root
        for name in path:
            if b is None:
                return None
            b = b.bucket(name)
        return b

    def freelist(self) -> list[int]:
        """The free page ids recorded in the freelist page (empty when the freelist is not synced)."""
        if self.meta.freelist == (1 << 64) - 1:
            return []
        page = self.page(self.meta.freelist)
        if page.flags != FREELIST:
            raise BoltFormatError(f"freelist page {page.pgid} has flags {page.flags:#x}")
        start, count = page.base + PAGE_HEADER.size, page.count
        if count == 0xFFFF:
            count = int.from_bytes(page.slice(start, 8), "little")
            start += 8
        raw = page.slice(start, 8 * count)
        return [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]

    def check(self) -> list[str]:
        """Consistency problems, like bbolt's ``Tx.Check``: pages referenced twice, freed and used, or lost."""
        problems: list[str] = []
        seen: dict[int, str] = {0: "meta", 1: "meta"}
        fl = self.meta.freelist
        free = set(self.freelist())  # validates the freelist page and its overflow first
        if fl != (1 << 64) - 1:
            for i in range(self.overflow(fl) + 1):
                seen[fl + i] = "freelist"
        try:
            for pgid, overflow in self.root.pages():
                for p in range(pgid, pgid + overflow + 1):
                    if p in seen:
                        problems.append(f"page {p}: multiple references")
                    if p in free:
                        problems.append(f"page {p}: reachable freed")
                    seen[p] = "tree"
        except BoltFormatError as e:
            problems.append(str(e))
            return problems
        if fl == (1 << 64) - 1:
            return problems  # freelist not synced: bbolt rebuilds it from the unreachable pages
        for p in range(self.meta.high_water):
            if p not in seen and p not in free:
                problems.append(f"page {p}: unreachable unfreed")
        return problems

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
