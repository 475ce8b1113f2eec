"""CacheCore without a server: relist diffs, event replay, write-back decisions, snapshots."""

from __future__ import annotations

from etcdkit.client import Event, EventType, GetResponse, KeyValue, PutResponse, ResponseHeader, TxnResponse
from etcdkit.recipes.core.cache import CacheCore


def kv(key: bytes, value: bytes, mod: int, create: int = 0) -> KeyValue:
    return KeyValue(key, value, create or mod, mod, 1, 0)


def listing(rev: int, *kvs: KeyValue) -> GetResponse:
    return GetResponse(ResponseHeader(revision=rev), kvs, len(kvs))


def test_relist_yields_synthetic_difference() -> None:
    c = CacheCore(now=0.0)
    first = c.load_list(listing(5, kv(b"a", b"1", 2), kv(b"b", b"1", 3)), now=1.0)
    assert [(e.type, e.kv.key, e.synthetic) for e in first] == [
        (EventType.PUT, b"a", True),
        (EventType.PUT, b"b", True),
    ]
    again = c.load_list(listing(9, kv(b"b", b"2", 8), kv(b"c", b"1", 9)), now=2.0)
    assert [(e.type, e.kv.key) for e in again] == [
        (EventType.DELETE, b"a"),
        (EventType.PUT, b"b"),
        (EventType.PUT, b"c"),
    ]
    assert again[1].prev_kv == kv(b"b", b"1", 3)
    assert c.revision == 9 and c.in_sync


def test_apply_ignores_replayed_events() -> None:
    c = CacheCore(now=0.0)
    c.load_list(listing(5, kv(b"a", b"1", 5)), now=0.0)
    old = Event(EventType.PUT, kv(b"a", b"0", 4))
    new = Event(EventType.PUT, kv(b"a", b"2", 6))
    gone = Event(EventType.DELETE, KeyValue(b"a", b"", 0, 7))
    assert c.apply([old, new, new, gone]) == [new, gone]
    assert c.get(b"a") is None and c.revision == 7


def test_staleness() -> None:
    c = CacheCore(now=0.0)
    assert c.staleness(3.0) == 3.0
    c.load_list(listing(1), now=3.0)
    assert c.staleness(10.0) == 0.0
    c.unsynced(12.0)
    assert c.staleness(15.0) == 3.0


def test_write_back_success_conflict_and_remote_delete() -> None:
    c = CacheCore(now=0.0)
    c.load_list(listing(5, kv(b"a", b"1", 4), kv(b"b", b"1", 5)), now=0.0)
    wa = c.write(b"a", b"local")
    assert wa.base == 4 and c.get(b"a") == b"local"
    txn = c.push_txn(wa)
    assert [(x.key, x.target, x.operand) for x in txn.compares] == [(b"a", "mod", 4)]
    ok = TxnResponse(ResponseHeader(revision=10), True, (PutResponse(ResponseHeader(revision=10)),))
    assert c.pushed(wa, ok) is None
    assert c.data[b"a"].mod_revision == 10
    assert not c.pending

    wb = c.write(b"b", b"mine")
    remote = kv(b"b", b"theirs", 11, 5)
    refused = TxnResponse(ResponseHeader(revision=11), False, (listing(11, remote),))
    conflict = c.pushed(wb, refused)
    assert conflict is not None and conflict.remote == remote and conflict.write.value == b"mine"
    assert c.get(b"b") == b"theirs"  # the remote change wins locally too; nothing overwritten

    wc = c.write(b"b", b"again")
    deleted = TxnResponse(ResponseHeader(revision=12), False, (listing(12),))
    conflict = c.pushed(wc, deleted)
    assert conflict is not None and conflict.remote is None
    assert c.get(b"b") is None


def test_rewrite_before_push_keeps_first_base_and_survives_push() -> None:
    c = CacheCore(now=0.0)
    c.load_list(listing(5, kv(b"a", b"1", 4)), now=0.0)
    w1 = c.write(b"a", b"x")
    c.write(b"a", b"y")
    assert c.pending[b"a"].base == 4
    ok = TxnResponse(ResponseHeader(revision=9), True, (PutResponse(ResponseHeader(revision=9)),))
    assert c.pushed(w1, ok) is None
    assert c.pending[b"a"].value == b"y" and c.pending[b"a"].base == 9


def test_delete_of_remotely_deleted_key_is_not_a_conflict() -> None:
    c = CacheCore(now=0.0)
    c.load_list(listing(5, kv(b"a", b"1", 4)), now=0.0)
    w = c.write(b"a", None)
    assert c.pushed(w, TxnResponse(ResponseHeader(revision=6), False, (listing(6),))) is None


def test_snapshot_round_trip() -> None:
    c = CacheCore(now=0.0)
    c.load_list(listing(5, kv(b"a\x00", b"\xff", 4)), now=0.0)
    c.write(b"n", b"new")
    c.write(b"a\x00", None)
    d = CacheCore(now=0.0)
    d.restore(c.snapshot(), now=1.0)
    assert d.data == c.data and d.pending == c.pending and d.revision == 5
    assert not d.in_sync
    assert d.write(b"z", b"1").seq == 3
