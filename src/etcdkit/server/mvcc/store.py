"""``MVCCStore``: reads at a revision, write transactions, compaction, hashes, history."""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

import crc32c

from etcdkit.api import errors
from etcdkit.api.keys import FROM_KEY
from etcdkit.api.pb import kv_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.mvcc.revision import (
    MAIN_SHIFT,
    decode_index,
    encode_index,
    pack,
    parse_rev_key,
    rev_key,
    unpack,
)
from etcdkit.server.storage.backend import Backend

__all__ = ["MVCCStore", "WriteTxn"]

_U64 = struct.Struct(">Q")
META_CURRENT_REV = b"current_rev"
META_COMPACT_REV = b"compact_rev"
META_APPLIED_INDEX = b"consistent_index"
META_TERM = b"term"

KeyValue = kv_pb2.KeyValue
Event = kv_pb2.Event


def _upper(rev: int) -> int:
    """Packed value just above every revision with main <= rev."""
    return (rev + 1) << MAIN_SHIFT


def _latest_at(revs: array[int], rev: int) -> int:
    """Index of the latest entry with main <= rev, or -1."""
    return bisect_right(revs, _upper(rev) - 1) - 1


def _range_bounds(key: bytes, range_end: bytes) -> tuple[bytes, bytes | None, bool]:
    """(start, end-exclusive or None for unbounded, single-key?) for an etcd range."""
    if not range_end:
        return key, None, True
    if range_end == FROM_KEY:
        return key, None, False
    return key, range_end, False


class MVCCStore:
    """Revisioned KV over the backend. Owned by the server's loop thread."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._key = backend.table(b"key")
        self._kidx = backend.table(b"kidx")
        self._meta = backend.table(b"meta")
        with backend.begin() as txn:
            self._current = self._meta_int(txn, META_CURRENT_REV, 1)
            # -1 until the first compaction, as etcd's compactMainRev (Compact(0) is then allowed).
            self._compact = self._meta_int(txn, META_COMPACT_REV, 0) - 1
            self.applied_index = self._meta_int(txn, META_APPLIED_INDEX, 0)
            self.term = self._meta_int(txn, META_TERM, 0)

    # -- meta ---------------------------------------------------------------
    def _meta_int(self, txn: Any, name: bytes, default: int) -> int:
        raw = txn.get(name, db=self._meta)
        return default if raw is None else int(_U64.unpack(raw)[0])

    def put_meta_int(self, txn: Any, name: bytes, value: int) -> None:
        txn.put(name, _U64.pack(value), db=self._meta)

    def current_revision(self) -> int:
        return self._current

    def compact_revision(self) -> int:
        """The last compaction revision, -1 if the store was never compacted."""
        return self._compact

    def set_applied(self, txn: Any, index: int, term: int) -> None:
        """Record the last applied log entry in the same LMDB txn as its effects."""
        self.applied_index = index
        self.term = term
        self.put_meta_int(txn, META_APPLIED_INDEX, index)
        self.put_meta_int(txn, META_TERM, term)

    # -- reads --------------------------------------------------------------
    def check_revision(self, rev: int) -> int:
        """Resolve a requested revision (<= 0 means current); raise FutureRev/Compacted."""
        if rev <= 0:
            return self._current
        if rev > self._current:
            raise EtcdServerError(errors.FUTURE_REV)
        if rev < self._compact:
            raise EtcdServerError(errors.COMPACTED)
        return rev

    def iter_live(self, txn: Any, key: bytes, range_end: bytes, rev: int) -> Iterator[int]:
        """Packed revision of each key live at ``rev`` in the range, in key order."""
        start, end, single = _range_bounds(key, range_end)
        if single:
            raw = txn.get(start, db=self._kidx)
            if raw is not None:
                revs = decode_index(raw)
                i = _latest_at(revs, rev)
                if i >= 0 and not revs[i] & 1:
                    yield revs[i]
            return
        cur = txn.cursor(db=self._kidx)
        if not cur.set_range(start):
            return
        for k, raw in cur.iternext(keys=True, values=True):
            if end is not None and k >= end:
                break
            revs = decode_index(raw)
            i = _latest_at(revs, rev)
            if i >= 0 and not revs[i] & 1:
                yield revs[i]

    def fetch(self, txn: Any, packed: int) -> KeyValue:
        main, sub, tomb = unpack(packed)
        kv = KeyValue()
        kv.ParseFromString(txn.get(rev_key(main, sub, tomb), db=self._key))
        return kv

    def get(self, txn: Any, key: bytes, rev: int = 0) -> KeyValue | None:
        for packed in self.iter_live(txn, key, b"", rev or self._current):
            return self.fetch(txn, packed)
        return None

    def range_kvs(self, txn: Any, key: bytes, range_end: bytes, rev: int) -> list[KeyValue]:
        return [self.fetch(txn, p) for p in self.iter_live(txn, key, range_end, rev)]

    # -- writes -------------------------------------------------------------
    def write(self, txn: Any) -> WriteTxn:
        return WriteTxn(self, txn)

    def _commit_revision(self, txn: Any, rev: int) -> None:
        self._current = rev
        self.put_meta_int(txn, META_CURRENT_REV, rev)

    # -- compaction -----------------------------------------------------------
    def compact(self, txn: Any, rev: int) -> None:
        """Drop history below ``rev`` (etcd keyIndex.compact semantics). Caller validated ``rev``."""
        cur = txn.cursor(db=self._kidx)
        updates: list[tuple[bytes, bytes | None]] = []
        for k, raw in cur.iternext(keys=True, values=True):
            revs = decode_index(raw)
            if revs[0] >> MAIN_SHIFT > rev:
                continue
            kept, drop = _compact_index(revs, rev)
            for p in drop:
                main, sub, tomb = unpack(p)
                txn.delete(rev_key(main, sub, tomb), db=self._key)
            updates.append((k, encode_index(kept) if kept else None))
        for k, v in updates:
            if v is None:
                txn.delete(k, db=self._kidx)
            else:
                txn.put(k, v, db=self._kidx)
        self._compact = rev
        self.put_meta_int(txn, META_COMPACT_REV, rev + 1)

    # -- hashing ------------------------------------------------------------
    def hash_kv(self, txn: Any, rev: int) -> int:
        """etcd's HashKV: CRC-32C over ``b"key"`` then each (key, value) with main <= rev.

        Entries at or below the compaction point count only if compaction at
        ``rev`` would keep them (etcd's ``kvindex.Keep(rev)``), so members that
        compacted at different moments still agree.
        """
        keep: set[int] = set()
        if self._compact > 0:
            for _, raw in txn.cursor(db=self._kidx):
                p = _keep_at(decode_index(raw), rev)
                if p is not None:
                    keep.add(p)
        h = crc32c.crc32c(b"key")
        upper = rev_key(rev + 1, 0)
        cur = txn.cursor(db=self._key)
        if cur.first():
            for k, v in cur.iternext(keys=True, values=True):
                if k >= upper:
                    break
                main, sub, tomb = parse_rev_key(k)
                if main <= self._compact and keep and pack(main, sub, tomb) not in keep:
                    continue
                h = crc32c.crc32c(k, h)
                h = crc32c.crc32c(v, h)
        return int(h)

    def hash_all(self, txn: Any) -> int:
        """Hash of every table (etcd's Hash RPC is over the whole backend)."""
        h = 0
        for name in (b"key", b"meta", b"lease"):
            h = crc32c.crc32c(name, h)
            cur = txn.cursor(db=self.backend.table(name))
            for k, v in cur.iternext(keys=True, values=True):
                h = crc32c.crc32c(k, h)
                h = crc32c.crc32c(v, h)
        return int(h)

    # -- history ------------------------------------------------------------
    def read_events(
        self, txn: Any, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[Event]:
        """Events on the range with start_rev <= revision <= end_rev, whole revisions only.

        Every event carries ``prev_kv`` when the key had an earlier live version
        still in history. Raises Compacted below the compaction point.
        """
        if start_rev < self._compact:
            raise EtcdServerError(errors.COMPACTED)
        start, end, single = _range_bounds(key, range_end)
        out: list[Event] = []
        cur = txn.cursor(db=self._key)
        if not cur.set_range(rev_key(max(start_rev, 1), 0)):
            return out
        last_main = -1
        for k, v in cur.iternext(keys=True, values=True):
            main, sub, tomb = parse_rev_key(k)
            if main > end_rev:
                break
            if main != last_main and len(out) >= max_events:
                break
            kv = KeyValue()
            kv.ParseFromString(v)
            uk = kv.key
            if single:
                if uk != start:
                    continue
            elif uk < start or (end is not None and uk >= end):
                continue
            last_main = main
            ev = Event()
            if tomb:
                ev.type = Event.DELETE
                ev.kv.key = uk
                ev.kv.mod_revision = main
            else:
                ev.type = Event.PUT
                ev.kv.CopyFrom(kv)
            if tomb or kv.version > 1:
                prev = self._previous(txn, uk, pack(main, sub, tomb))
                if prev is not None:
                    ev.prev_kv.CopyFrom(prev)
            out.append(ev)
        return out

    def _previous(self, txn: Any, key: bytes, packed: int) -> KeyValue | None:
        raw = txn.get(key, db=self._kidx)
        if raw is None:
            return None
        revs = decode_index(raw)
        i = bisect_right(revs, packed) - 2
        if i < 0 or revs[i] & 1:
            return None
        return self.fetch(txn, revs[i])


def _generations(revs: array[int], at: int) -> tuple[list[list[int]], int]:
    """Split packed revisions into generations (each ends at a tombstone; the
    last is open, possibly empty) and find the first one whose tombstone is
    above ``at`` (or the open one): etcd's ``doCompact`` walk."""
    gens: list[list[int]] = [[]]
    for p in revs:
        gens[-1].append(p)
        if p & 1:
            gens.append([])
    gi = 0
    while gi < len(gens) - 1 and gens[gi][-1] >> MAIN_SHIFT <= at:
        gi += 1
    return gens, gi


def _keep_at(revs: array[int], at: int) -> int | None:
    """The revision of this key that compaction at ``at`` keeps (etcd keyIndex.keep), if any."""
    gens, gi = _generations(revs, at)
    g = gens[gi]
    for j in range(len(g) - 1, -1, -1):
        if g[j] >> MAIN_SHIFT <= at:
            if j == len(g) - 1 and gi != len(gens) - 1:
                return None  # a tombstone is never kept
            return g[j]
    return None


def _compact_index(revs: array[int], at: int) -> tuple[array[int], list[int]]:
    """Split a key's packed revisions into (kept, dropped) for compaction at ``at``.

    Generations end at tombstones. etcd keeps, in the first generation whose
    tombstone is above ``at`` (or the open last generation), the latest
    revision <= ``at``; everything else <= ``at`` goes.
    """
    gens, gi = _generations(revs, at)
    dropped = [p for g in gens[:gi] for p in g]
    g = gens[gi]
    keep_from = 0
    for j in range(len(g) - 1, -1, -1):
        if g[j] >> MAIN_SHIFT <= at:
            keep_from = j
            break
    dropped.extend(g[:keep_from])
    kept: array[int] = array("Q", [p for gg in gens[gi:] for p in gg][keep_from:])
    return kept, dropped


class WriteTxn:
    """One etcd write transaction: all changes share revision ``current + 1``.

    Reads through it see its own earlier changes (as etcd's storeTxnWrite).
    ``end()`` commits the revision if anything changed and returns the events.
    """

    def __init__(self, store: MVCCStore, txn: Any) -> None:
        self.store = store
        self.txn = txn
        self.begin_rev = store.current_revision()
        self.rev = self.begin_rev + 1
        self.events: list[Event] = []

    @property
    def read_rev(self) -> int:
        """The revision reads see: begin, or begin + 1 once something changed."""
        return self.rev if self.events else self.begin_rev

    def get(self, key: bytes) -> KeyValue | None:
        return self.store.get(self.txn, key, self.read_rev)

    def range_kvs(self, key: bytes, range_end: bytes, rev: int = 0) -> list[KeyValue]:
        return self.store.range_kvs(self.txn, key, range_end, rev or self.read_rev)

    def put(self, key: bytes, value: bytes, lease: int) -> tuple[KeyValue, KeyValue | None]:
        """Write ``key``; return (new kv, previous live kv or None)."""
        s = self.store
        raw = self.txn.get(key, db=s._kidx)
        revs = decode_index(raw) if raw is not None else array("Q")
        prev: KeyValue | None = None
        if revs and not revs[-1] & 1:
            prev = s.fetch(self.txn, revs[-1])
        sub = len(self.events)
        kv = KeyValue(
            key=key,
            create_revision=prev.create_revision if prev else self.rev,
            mod_revision=self.rev,
            version=prev.version + 1 if prev else 1,
            value=value,
            lease=lease,
        )
        self.txn.put(rev_key(self.rev, sub), kv.SerializeToString(), db=s._key)
        revs.append(pack(self.rev, sub, False))
        self.txn.put(key, encode_index(revs), db=s._kidx)
        ev = Event(type=Event.PUT, kv=kv)
        if prev is not None:
            ev.prev_kv.CopyFrom(prev)
        self.events.append(ev)
        return kv, prev

    def delete_range(self, key: bytes, range_end: bytes) -> list[KeyValue]:
        """Delete every live key in the range; return their previous kvs."""
        prevs = self.range_kvs(key, range_end)
        s = self.store
        for prev in prevs:
            sub = len(self.events)
            tomb = KeyValue(key=prev.key)
            self.txn.put(rev_key(self.rev, sub, True), tomb.SerializeToString(), db=s._key)
            revs = decode_index(self.txn.get(prev.key, db=s._kidx))
            revs.append(pack(self.rev, sub, True))
            self.txn.put(prev.key, encode_index(revs), db=s._kidx)
            ev = Event(type=Event.DELETE, kv=KeyValue(key=prev.key, mod_revision=self.rev))
            ev.prev_kv.CopyFrom(prev)
            self.events.append(ev)
        return prevs

    def end(self) -> tuple[int, list[Event]]:
        """Finish: commit the revision if anything changed. Returns (revision, events)."""
        if self.events:
            self.store._commit_revision(self.txn, self.rev)
            return self.rev, self.events
        return self.begin_rev, []
