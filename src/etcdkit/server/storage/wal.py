"""Write-ahead log: the durable record of every proposed request.

On disk: ``<dir>/<first-index:016x>.wal`` segments of records
``[u32 length][u32 crc32(payload)][payload]`` with payload
``[u64 index][u64 term][data]``. Indexes are consecutive from 1.

Contract:

* ``append(entries)`` writes and ``fdatasync``s; when it returns the entries
  survive a crash (group commit: callers batch entries into one append);
* ``open`` reads every segment; a torn or corrupt record at the tail of the
  last segment (a crash mid-write) is truncated away, anything after it is
  ignored; corruption in the middle of the log is an error;
* ``release(index)`` drops whole segments whose entries are all <= ``index``
  (called after a checkpoint made those entries' effects durable).

Blocking I/O: the server calls ``append`` from an executor thread, one call
at a time (the committer task serialises them).
"""

from __future__ import annotations

import itertools
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WAL", "WALCorruptError", "WALEntry"]

_HDR = struct.Struct(">II")
_ENTRY = struct.Struct(">QQ")
SEGMENT_BYTES = 64 << 20


class WALCorruptError(Exception):
    """A record in the middle of the log failed its checksum."""


@dataclass(frozen=True, slots=True)
class WALEntry:
    index: int
    term: int
    data: bytes


def _encode(e: WALEntry) -> bytes:
    payload = _ENTRY.pack(e.index, e.term) + e.data
    return _HDR.pack(len(payload), zlib.crc32(payload)) + payload


class WAL:
    """Append-only log of ``WALEntry`` in segment files (see module contract)."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES, fsync: bool = True) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.last_index = 0
        self._fd = -1
        self._size = 0
        self._entries_on_open: list[WALEntry] = []
        self._open()

    def _segments(self) -> list[Path]:
        return sorted(self.dir.glob("*.wal"))

    def _open(self) -> None:
        segs = self._segments()
        for n, seg in enumerate(segs):
            good = 0
            for entry, end in self._scan(seg, last=n == len(segs) - 1):
                if self.last_index and entry.index != self.last_index + 1:
                    raise WALCorruptError(f"{seg}: index {entry.index} after {self.last_index}")
                self._entries_on_open.append(entry)
                self.last_index = entry.index
                good = end
            if n == len(segs) - 1 and good != seg.stat().st_size:
                with open(seg, "r+b") as f:  # drop a torn tail
                    f.truncate(good)
                    os.fsync(f.fileno())
        if segs:
            self._fd = os.open(segs[-1], os.O_WRONLY | os.O_APPEND)
            self._size = segs[-1].stat().st_size
        else:
            self._new_segment(1)

    def _scan(self, seg: Path, last: bool) -> Iterator[tuple[WALEntry, int]]:
        data = seg.read_bytes()
        pos = 0
        while pos < len(data):
            if pos + _HDR.size > len(data):
                break
            length, crc = _HDR.unpack_from(data, pos)
            payload = data[pos + _HDR.size : pos + _HDR.size + length]
            if len(payload) != length or zlib.crc32(payload) != crc or length < _ENTRY.size:
                if last:
                    break
                raise WALCorruptError(f"{seg}: bad record at offset {pos}")
            index, term = _ENTRY.unpack_from(payload)
            pos += _HDR.size + length
            yield WALEntry(index, term, payload[_ENTRY.size :]), pos

    def _new_segment(self, first_index: int) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        path = self.dir / f"{first_index:016x}.wal"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = 0
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def take_unapplied(self, applied_index: int) -> list[WALEntry]:
        """Entries read at open with index > ``applied_index`` (once; frees the rest)."""
        out = [e for e in self._entries_on_open if e.index > applied_index]
        self._entries_on_open = []
        return out

    def append(self, entries: list[WALEntry]) -> None:
        """Write ``entries`` (consecutive indexes) and make them durable."""
        if not entries:
            return
        if self._size >= self.segment_bytes:
            self._new_segment(entries[0].index)
        buf = b"".join(_encode(e) for e in entries)
        view = memoryview(buf)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if self.fsync:
            os.fdatasync(self._fd)
        self._size += len(buf)
        self.last_index = entries[-1].index

    def release(self, index: int) -> None:
        """Delete segments whose every entry is <= ``index`` (never the active one)."""
        segs = self._segments()
        for seg, nxt in itertools.pairwise(segs):
            if int(nxt.stem, 16) - 1 <= index:
                seg.unlink()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
