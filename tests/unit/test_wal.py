"""WAL: durability contract, torn-tail truncation, mid-log corruption, segment release."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcdkit.server.storage.wal import WAL, WALCorruptError, WALEntry


def _entries(first: int, n: int) -> list[WALEntry]:
    return [WALEntry(i, 2, f"data-{i}".encode()) for i in range(first, first + n)]


def test_reopen_returns_entries_after_applied_index(tmp_path: Path) -> None:
    wal = WAL(tmp_path)
    wal.append(_entries(1, 5))
    wal.close()
    again = WAL(tmp_path)
    assert again.last_index == 5
    assert [e.index for e in again.take_unapplied(3)] == [4, 5]
    assert again.take_unapplied(0) == []  # handed out once
    again.close()


def test_torn_tail_is_truncated_and_appends_continue(tmp_path: Path) -> None:
    wal = WAL(tmp_path)
    wal.append(_entries(1, 3))
    wal.close()
    seg = next(tmp_path.glob("*.wal"))
    size = seg.stat().st_size
    with open(seg, "ab") as f:
        f.write(b"\x00\x00\x00\x40\x12")  # half a header: a crash mid-append
    again = WAL(tmp_path)
    assert again.last_index == 3
    assert seg.stat().st_size == size
    again.append(_entries(4, 1))
    again.close()
    third = WAL(tmp_path)
    assert [e.data for e in third.take_unapplied(0)][-1] == b"data-4"
    third.close()


def test_corrupt_record_in_an_older_segment_is_an_error(tmp_path: Path) -> None:
    wal = WAL(tmp_path, segment_bytes=32)
    wal.append(_entries(1, 2))
    wal.append(_entries(3, 2))
    wal.close()
    first = sorted(tmp_path.glob("*.wal"))[0]
    raw = bytearray(first.read_bytes())
    raw[12] ^= 0xFF
    first.write_bytes(bytes(raw))
    with pytest.raises(WALCorruptError):
        WAL(tmp_path)


def test_release_drops_only_fully_applied_segments(tmp_path: Path) -> None:
    wal = WAL(tmp_path, segment_bytes=32)
    for i in range(1, 7, 2):
        wal.append(_entries(i, 2))
    segs = sorted(tmp_path.glob("*.wal"))
    assert len(segs) == 3
    wal.release(2)
    assert sorted(tmp_path.glob("*.wal")) == segs[1:]
    wal.release(100)
    assert sorted(tmp_path.glob("*.wal")) == segs[2:]  # the active segment stays
    wal.close()
