"""The blocking ``Client``: same methods as ``AsyncClient``, thread-safe, clean lifecycle, fork-safe."""

from __future__ import annotations

import inspect
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import etcdkit
from etcdkit.client import (
    AsyncClient,
    Client,
    ClientClosedError,
    Compare,
    ConnectionState,
    EventType,
    Get,
    Put,
    Txn,
    WatchCompactedError,
    _fork,
)


def _public_coroutines(cls: type) -> set[str]:
    return {n for n, f in inspect.getmembers(cls) if not n.startswith("_") and inspect.iscoroutinefunction(f)}


def test_same_methods_and_signatures() -> None:
    async_methods = _public_coroutines(AsyncClient) - {"close"}
    for name in async_methods:
        sync = getattr(Client, name, None)
        assert sync is not None, f"Client lacks {name}"
        assert not inspect.iscoroutinefunction(sync)
        if name != "watch":  # watch forwards **kwargs
            expected = inspect.signature(getattr(AsyncClient, name)).parameters.keys()
            assert inspect.signature(sync).parameters.keys() == expected, name
    assert etcdkit.Client is Client and etcdkit.AsyncClient is AsyncClient


def test_blocking_client_roundtrip(endpoint: str, prefix: bytes) -> None:
    with Client(endpoints=[endpoint]) as c:
        assert c.put(prefix + b"k", b"v").header.revision > 0
        assert c.get(prefix + b"k").value == b"v"
        t = c.txn(Txn().when(Compare.value(prefix + b"k").eq(b"v")).then(Put(prefix + b"k", b"w"), Get(prefix + b"k")))
        assert t.succeeded
        with c.watch(prefix, prefix=True, prev_kv=True) as w:
            r = c.put(prefix + b"k", b"x")
            batch = w.next(timeout=10)
            assert batch is not None
            [e] = batch.events
            assert e.type is EventType.PUT and e.kv.mod_revision == r.header.revision
            assert e.prev_kv is not None and e.prev_kv.value == b"w"
            with pytest.raises(TimeoutError):
                w.next(timeout=0.2)  # nothing pending; nothing lost by the timeout
            c.delete(prefix + b"k")
            batch = w.next(timeout=10)
            assert batch is not None and batch.events[0].type is EventType.DELETE
            assert w.stats.events == 2
        lease = c.lease_grant(5)
        keeper = c.keep_alive(lease.id, lease.ttl)
        assert keeper.alive
        keeper.close()
        c.lease_revoke(lease.id)
        assert c.status().version
        assert c.state is ConnectionState.CONNECTED
    assert c.closed
    with pytest.raises(ClientClosedError):
        c.get(b"x")


def test_threads_share_one_client(endpoint: str, prefix: bytes) -> None:
    with Client(endpoints=[endpoint]) as c, ThreadPoolExecutor(8) as pool:
        revs = list(pool.map(lambda i: c.put(prefix + str(i).encode(), b"v").header.revision, range(64)))
        assert len(set(revs)) == 64
        assert c.get(prefix, prefix=True, count_only=True).count == 64


def test_threads_reading_while_others_write_never_see_a_false_stale_read(endpoint: str, prefix: bytes) -> None:
    """Reads overlapping writes of other threads on one client answer normally (the revision
    floor holds a read to what the client had seen when it started, not to what it sees later)."""

    def worker(i: int) -> int:
        reads = 0
        for j in range(100):
            c.put(prefix + b"%d" % i, b"%d" % j)
            reads += len(c.get(prefix, prefix=True).kvs) > 0
        return reads

    with Client(endpoints=[endpoint]) as c, ThreadPoolExecutor(6) as pool:
        assert list(pool.map(worker, range(6))) == [100] * 6


def test_watch_compaction_error_reaches_sync_iteration(endpoint: str, prefix: bytes) -> None:
    with Client(endpoints=[endpoint]) as c:
        r1 = c.put(prefix + b"k", b"1")
        c.put(prefix + b"k", b"2")
        r3 = c.put(prefix + b"k", b"3")
        c.compact(r3.header.revision)
        w = c.watch(prefix + b"k", start_revision=r1.header.revision)
        with pytest.raises(WatchCompactedError) as ei:
            for _ in w:
                pass
        assert ei.value.compact_revision == r3.header.revision


def test_no_thread_left_after_close(endpoint: str) -> None:
    before = {t.ident for t in threading.enumerate()}
    c = Client(endpoints=[endpoint])
    c.get(b"x")
    w = c.watch(b"x")
    assert any(t.name == "etcdkit-client-loop" for t in threading.enumerate())
    c.close()
    c.close()
    with pytest.raises(ClientClosedError):
        w.next(timeout=1)  # the watch ended with the client
    deadline = time.monotonic() + 5
    while {t.ident for t in threading.enumerate() if t.name == "etcdkit-client-loop"} - before:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_inherited_client_refuses_in_a_child(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our side of fork safety, without gRPC's: a client seen from another PID refuses clearly."""
    with Client(endpoints=[endpoint]) as c:
        c.put(b"fork", b"parent")
        parent = os.getpid()
        monkeypatch.setattr(os, "getpid", lambda: parent + 1)
        monkeypatch.setattr(_fork, "pid", parent + 1)  # what the fork hook does in a real child
        with pytest.raises(ClientClosedError):
            c.get(b"fork")
        with pytest.raises(ClientClosedError):
            c.watch(b"fork")
        c.close()  # in the "child": must not touch the parent's loop thread or channels
        monkeypatch.undo()
        assert c.get(b"fork").value == b"parent"  # the parent's client is unaffected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_close_then_new_client_in_child(endpoint: str) -> None:
    """The supported pattern: close (or never open) clients before fork; the child makes its own.

    (Forking while gRPC channels are active can crash the child inside gRPC
    itself; see docs/client.md.)
    """
    with Client(endpoints=[endpoint]) as c:
        c.put(b"fork", b"parent")
        c.watch(b"fork").close()
    r, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            with Client(endpoints=[endpoint]) as c2:
                code = 0 if c2.get(b"fork").value == b"parent" else 3
        except BaseException:
            code = 2
        os.write(wfd, bytes([code]))
        os._exit(0)
    os.close(wfd)
    result = b""
    while chunk := os.read(r, 2):
        result += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert result == b"\x00", f"child wrote {result!r}, wait status {status}"


def test_blocking_failover_and_cluster_error(endpoint: str, prefix: bytes) -> None:
    from etcdkit.client import ClusterError, UnavailableError
    from etcdkit.testing import free_port

    dead = f"127.0.0.1:{free_port()}"
    with Client(endpoints=[dead, endpoint], dial_timeout=2.0) as c:
        c.put(prefix + b"k", b"v")  # the dial to `dead` fails: never sent, so even a write moves on
        assert c.endpoint == endpoint and c.get(prefix + b"k").value == b"v"
    with Client(endpoints=[dead, f"127.0.0.1:{free_port()}"], dial_timeout=2.0) as c:
        t0 = time.monotonic()
        with pytest.raises(ClusterError) as ei:
            c.get(b"k")
        assert len(ei.value.errors) == 2 and all(isinstance(e, UnavailableError) for e in ei.value.errors.values())
        assert time.monotonic() - t0 < 4.5
