"""Cache against a server: list + watch, serving through a restart, write-back through an outage,
persistence with compaction (relist, synthetic events) and write-back conflicts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from etcdkit.client import Client, Event, EventType
from etcdkit.recipes import Cache, Conflict
from etcdkit.testing import ServerProcess


def fast_client(endpoint: str) -> Client:
    return Client(endpoints=[endpoint], request_timeout=1.0, dial_timeout=1.0)


def test_list_watch_and_local_reads(client: Client, prefix: bytes) -> None:
    client.put(prefix + b"a", b"1")
    events: list[Event] = []
    with Cache(client, prefix) as cache:
        cache.add_listener(events.append)
        assert cache.get(prefix + b"a") == b"1" and not cache.stale and cache.staleness() == 0.0
        rev = client.put(prefix + b"b", b"2").header.revision
        client.delete(prefix + b"a")
        cache.wait_for(lambda: cache.revision >= rev + 1, timeout=10)
        assert cache.items() == [(prefix + b"b", b"2")]
        assert prefix + b"a" not in cache and len(cache) == 1
        assert [(e.type, e.kv.key) for e in events] == [
            (EventType.PUT, prefix + b"b"),
            (EventType.DELETE, prefix + b"a"),
        ]
        assert not any(e.synthetic for e in events)


def test_serves_through_restart_and_pushes_offline_writes(
    make_server: Callable[[], ServerProcess], prefix: bytes
) -> None:
    srv = make_server()
    with fast_client(srv.endpoint) as c, Cache(c, prefix) as cache:
        c.put(prefix + b"k", b"before")
        cache.wait_for(lambda: cache.get(prefix + b"k") == b"before", timeout=10)
        srv.stop()
        cache.wait_for(lambda: cache.stale, timeout=20)
        assert cache.get(prefix + b"k") == b"before"  # still serving
        cache.put(prefix + b"k", b"offline")  # queued while etcd is down
        cache.put(prefix + b"new", b"offline-new")
        assert cache.get(prefix + b"k") == b"offline" and len(cache.pending) == 2
        assert cache.staleness() > 0
        srv.start()
        cache.flush(timeout=30)
        assert cache.conflicts == []
        assert c.get(prefix + b"k").value == b"offline"
        assert c.get(prefix + b"new").value == b"offline-new"
        cache.wait_for(lambda: not cache.stale, timeout=30)
        rev = c.put(prefix + b"after", b"1").header.revision
        cache.wait_for(lambda: cache.revision >= rev, timeout=30)
        assert cache.get(prefix + b"after") == b"1"


def test_persisted_restart_compaction_and_conflicts(
    make_server: Callable[[], ServerProcess], prefix: bytes, tmp_path: Path
) -> None:
    srv = make_server()
    path = tmp_path / "cache.json"
    p = prefix
    with fast_client(srv.endpoint) as c:
        for k in (b"keep", b"change", b"gone", b"mine", b"theirs", b"deleted-remotely"):
            c.put(p + k, b"v0")
        with Cache(c, p, path=path) as first:
            assert first.get(p + b"keep") == b"v0"
            srv.stop()
            first.wait_for(lambda: first.stale, timeout=20)
            first.put(p + b"mine", b"local")  # no remote change: must be pushed
            first.put(p + b"theirs", b"local")  # changed remotely meanwhile: conflict
            first.put(p + b"deleted-remotely", b"local")  # deleted remotely: conflict
        assert path.exists()  # the process "restarts" with its state and its queue

        srv.start()
        c.put(p + b"change", b"v1")
        c.delete(p + b"gone")
        c.put(p + b"theirs", b"remote")
        c.delete(p + b"deleted-remotely")
        c.put(p + b"added", b"v1")
        rev = c.put(p + b"filler", b"x").header.revision
        c.compact(rev)

        conflicts: list[Conflict] = []
        events: list[Event] = []
        second = Cache(c, p, path=path, on_conflict=conflicts.append)
        second.add_listener(events.append)
        second.start()
        # Served from the file at once, before any network round trip finished:
        assert second.get(p + b"mine") == b"local"
        second.flush(timeout=30)
        second.wait_for(lambda: not second.stale and second.revision >= rev, timeout=30)
        assert second.aio.relists == 1  # the watch from the saved revision hit the compaction
        synthetic = {(e.type, e.kv.key) for e in events if e.synthetic}
        assert {
            (EventType.PUT, p + b"change"),
            (EventType.DELETE, p + b"gone"),
            (EventType.PUT, p + b"added"),
        } <= synthetic
        assert c.get(p + b"mine").value == b"local"
        assert c.get(p + b"theirs").value == b"remote"  # never overwritten
        assert c.get(p + b"deleted-remotely").kvs == ()
        by_key = {x.key: x for x in conflicts}
        assert set(by_key) == {p + b"theirs", p + b"deleted-remotely"}
        assert by_key[p + b"theirs"].remote is not None and by_key[p + b"theirs"].remote.value == b"remote"
        assert by_key[p + b"theirs"].write.value == b"local"  # the local write is handed back, not lost
        assert by_key[p + b"deleted-remotely"].remote is None
        assert second.get(p + b"theirs") == b"remote" and second.get(p + b"change") == b"v1"
        assert second.get(p + b"gone") is None
        second.close()


def test_write_through_without_write_back(client: Client, prefix: bytes) -> None:
    with Cache(client, prefix, write_back=False) as cache:
        cache.put(prefix + b"w", b"direct")
        assert client.get(prefix + b"w").value == b"direct"  # written before put() returned
        assert cache.pending == []
        cache.wait_for(lambda: cache.get(prefix + b"w") == b"direct", timeout=10)
        with pytest.raises(ValueError):
            cache.put(b"/elsewhere", b"x")
