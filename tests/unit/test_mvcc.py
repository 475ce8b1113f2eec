"""MVCC store: revision rules, generations, compaction keep rules, history."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from etcdkit.api.pb import kv_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.mvcc import MVCCStore
from etcdkit.server.mvcc.revision import pack
from etcdkit.server.mvcc.store import _compact_index, _keep_at
from etcdkit.server.storage.backend import Backend


@pytest.fixture
def store(tmp_path: Path) -> MVCCStore:
    return MVCCStore(Backend(tmp_path / "db"))


def _put(store: MVCCStore, key: bytes, value: bytes) -> int:
    with store.backend.begin(write=True) as txn:
        w = store.write(txn)
        w.put(key, value, 0)
        rev, _ = w.end()
    return rev


def _delete(store: MVCCStore, key: bytes) -> int:
    with store.backend.begin(write=True) as txn:
        w = store.write(txn)
        w.delete_range(key, b"")
        rev, _ = w.end()
    return rev


def test_revisions_versions_and_generations(store: MVCCStore) -> None:
    assert store.current_revision() == 1
    assert _put(store, b"a", b"1") == 2
    assert _put(store, b"a", b"2") == 3
    assert _delete(store, b"a") == 4
    assert _delete(store, b"a") == 4  # deleting nothing adds no revision
    assert _put(store, b"a", b"3") == 5
    with store.backend.begin() as txn:
        kv = store.get(txn, b"a")
        assert kv is not None and (kv.create_revision, kv.mod_revision, kv.version) == (5, 5, 1)
        old = store.get(txn, b"a", 3)
        assert old is not None and (old.create_revision, old.version, old.value) == (2, 2, b"2")
        assert store.get(txn, b"a", 4) is None


def test_history_events_carry_prev_kv_and_whole_revisions(store: MVCCStore) -> None:
    _put(store, b"a", b"1")
    _put(store, b"a", b"2")
    _delete(store, b"a")
    with store.backend.begin() as txn:
        evs = store.read_events(txn, b"a", b"", 2, 10, 100)
    assert [e.type for e in evs] == [kv_pb2.Event.PUT, kv_pb2.Event.PUT, kv_pb2.Event.DELETE]
    assert not evs[0].HasField("prev_kv")
    assert evs[1].prev_kv.value == b"1"
    assert evs[2].kv == kv_pb2.KeyValue(key=b"a", mod_revision=4)
    assert evs[2].prev_kv.value == b"2"
    with store.backend.begin() as txn:
        assert len(store.read_events(txn, b"a", b"", 2, 10, 1)) == 1


def test_compaction_keeps_latest_at_revision_and_refuses_below(store: MVCCStore) -> None:
    _put(store, b"a", b"1")  # 2
    _put(store, b"a", b"2")  # 3
    _put(store, b"b", b"x")  # 4
    _delete(store, b"b")  # 5
    _put(store, b"a", b"3")  # 6
    with store.backend.begin(write=True) as txn:
        store.compact(txn, 5)
    assert store.check_revision(5) == 5
    with pytest.raises(EtcdServerError):
        store.check_revision(4)
    with store.backend.begin() as txn:
        kv = store.get(txn, b"a", 5)
        assert kv is not None and kv.value == b"2"
        assert store.get(txn, b"b", 5) is None
        assert store.get(txn, b"b", 6) is None


def _p(main: int, tomb: bool = False) -> int:
    return pack(main, 0, tomb)


def test_compact_index_follows_etcd_generations() -> None:
    revs = array("Q", [_p(3), _p(6), _p(7, True), _p(9)])
    kept, dropped = _compact_index(revs, 5)
    assert list(kept) == [_p(3), _p(6), _p(7, True), _p(9)] and dropped == []
    kept, dropped = _compact_index(revs, 7)  # the whole first generation ended at 7
    assert list(kept) == [_p(9)] and dropped == [_p(3), _p(6), _p(7, True)]
    kept, dropped = _compact_index(array("Q", [_p(4), _p(8, True)]), 9)
    assert list(kept) == [] and dropped == [_p(4), _p(8, True)]


def test_keep_at_never_keeps_a_tombstone() -> None:
    revs = array("Q", [_p(3), _p(6), _p(7, True), _p(9)])
    assert _keep_at(revs, 6) == _p(6)
    assert _keep_at(revs, 8) is None
    assert _keep_at(revs, 9) == _p(9)
    assert _keep_at(array("Q", [_p(4), _p(8, True)]), 9) is None

