"""The blocking ``Lock`` waits for its turn in the calling thread (``recipes.sync._turn``).

Its wait is ``AsyncLock``'s algorithm over blocking I/O: deletion watches read in
the caller's thread (``client._sync_stream.DeletionWatch``). These tests pin what
that path must keep: exclusion and order under contention, no dependency on the
client's loop thread, the end of the wait when the session ends, no deletion
lost when a stream is renewed, the namespace, and endpoint failover.
Every test runs against real etcd and etcdkit.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable

import pytest

from etcdkit.client import Client, UnavailableError
from etcdkit.client._sync_stream import DeletionWatch, StreamExpired
from etcdkit.recipes import Lock, LockNotHeldError, Session, SessionClosedError
from etcdkit.recipes.sync import _turn
from etcdkit.testing import ServerProcess, free_port


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``check`` (bounded in count and time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        threading.Event().wait(0.01)
    raise AssertionError("condition not reached in time")


def _queued(client: Client, lock: Lock) -> Callable[[], bool]:
    return lambda: bool(client.get(lock.key).kvs)


def _hand_over(observer: Client, holder: Lock, waiter: Lock, while_queued: Callable[[], None] = lambda: None) -> None:
    """``holder`` acquires; ``waiter.acquire`` runs in a thread; once its key is queued,
    ``while_queued()`` runs; then ``holder`` releases and ``waiter`` must get the lock."""
    assert holder.acquire()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        got = pool.submit(waiter.acquire, 20)
        _until(_queued(observer, waiter))
        while_queued()
        assert not got.done()
        holder.release()
        assert got.result(timeout=15) is True
    assert waiter.held
    waiter.release()


def test_contenders_in_threads_exclude_and_are_served_in_order(client: Client, prefix: bytes) -> None:
    name = prefix + b"order"
    sessions = [Session(client, ttl=10) for _ in range(5)]
    try:
        holder, *waiters = (Lock(s, name) for s in sessions)
        assert holder.acquire()
        order: list[int] = []
        tokens: list[int] = []
        holding = [0]
        guard = threading.Lock()

        def contend(i: int, lock: Lock) -> None:
            assert lock.acquire(timeout=30)
            with guard:
                holding[0] += 1
                assert holding[0] == 1, "two holders at once"
                order.append(i)
                tokens.append(lock.fencing_token)
            with guard:
                holding[0] -= 1
            lock.release()

        with concurrent.futures.ThreadPoolExecutor(len(waiters)) as pool:
            futures = []
            for i, lock in enumerate(waiters):  # waiters 0-1 wait near the front, 2-3 further back
                futures.append(pool.submit(contend, i, lock))
                _until(_queued(client, lock))
            holder.release()
            for f in futures:
                f.result(timeout=30)
        assert order == [0, 1, 2, 3]
        assert tokens == sorted(tokens) and tokens[0] > 0
        assert client.get(name + b"/", prefix=True).kvs == ()
    finally:
        for s in sessions:
            s.close()


def test_a_waiter_is_handed_the_lock_while_the_clients_loop_thread_is_busy(
    two_sessions: tuple[Session, Session], prefix: bytes
) -> None:
    """The wait does not go through the client's event-loop thread (the old path did)."""
    name = prefix + b"noloop"
    s1, s2 = two_sessions
    release_loop = threading.Event()

    def block_the_loop() -> None:  # the waiter's client's loop thread blocks once it is queued
        s2.client._loop.loop.call_soon_threadsafe(release_loop.wait, 20)

    try:
        _hand_over(s1.client, Lock(s1, name), Lock(s2, name), block_the_loop)
    finally:
        release_loop.set()


def test_closing_the_session_ends_the_wait(client: Client, prefix: bytes) -> None:
    name = prefix + b"closed"
    with Session(client, ttl=10) as s1:
        s2 = Session(client, ttl=60)  # its key outlives the test unless the wait ends at close()
        holder, waiter = Lock(s1, name), Lock(s2, name)
        assert holder.acquire()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            got = pool.submit(waiter.acquire, 30)
            _until(_queued(client, waiter))
            s2.close(revoke=False)  # the key stays: only the session's end can stop the wait
            with pytest.raises(SessionClosedError):
                got.result(timeout=5)
        client.delete(waiter.key)
        assert holder.held
        holder.release()


def test_waiter_whose_key_is_deleted_stops_waiting(client: Client, prefix: bytes) -> None:
    name = prefix + b"vanish"
    with Session(client, ttl=10) as s1, Session(client, ttl=10) as s2:
        holder, waiter = Lock(s1, name), Lock(s2, name)
        assert holder.acquire()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            got = pool.submit(waiter.acquire, 30)
            _until(_queued(client, waiter))
            client.delete(waiter.key)  # an operator removes the waiter's key
            with pytest.raises(LockNotHeldError):
                got.result(timeout=10)
        assert holder.held and not waiter.held
        holder.release()


def _count_reopens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reopened = [0]
    real = DeletionWatch.reopen

    def counting(self: DeletionWatch, life: float) -> None:
        reopened[0] += 1
        real(self, life)

    monkeypatch.setattr(DeletionWatch, "reopen", counting)
    return reopened


def test_waits_across_stream_renewals(client: Client, prefix: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_turn, "STREAM_LIFE", 0.2)
    reopened = _count_reopens(monkeypatch)
    name = prefix + b"renew"
    with Session(client, ttl=10) as s1, Session(client, ttl=10) as s2:
        # held until the waiter's stream was renewed three times
        _hand_over(client, Lock(s1, name), Lock(s2, name), lambda: _until(lambda: reopened[0] >= 3))


def test_timeout_while_waiting_across_renewals(client: Client, prefix: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_turn, "STREAM_LIFE", 0.2)
    reopened = _count_reopens(monkeypatch)
    name = prefix + b"late"
    with Session(client, ttl=10) as s1, Session(client, ttl=10) as s2:
        holder, waiter = Lock(s1, name), Lock(s2, name)
        assert holder.acquire()
        start = time.monotonic()
        assert waiter.acquire(timeout=1.0) is False
        assert time.monotonic() - start >= 1.0
        assert reopened[0] >= 1  # the wait outlived a stream; the last one ended at the deadline
        assert [kv.key for kv in client.get(name + b"/", prefix=True).kvs] == [holder.key]
        holder.release()


def test_deletion_watch_reopen_reports_a_deletion_made_between_two_streams(client: Client, prefix: bytes) -> None:
    key = prefix + b"k"
    put = client.put(key, b"v")
    w = DeletionWatch.open(client._view._transport, client._view._ns, key, prefix=False, life=0.3)
    try:
        assert w.revision >= put.header.revision  # the watch reports what comes after its creation
        with pytest.raises(StreamExpired):
            for _ in range(100):  # bounded: the stream ends after its 0.3 s life
                assert w.next() == []
        deleted = client.delete(key)  # no stream open now
        client.put(prefix + b"other", b"x")  # the store moves on past the deletion
        w.reopen(5.0)
        assert w.revision < deleted.header.revision  # not advanced past the history still to come
        assert w.next() == [key]
        assert w.revision == deleted.header.revision
    finally:
        w.close()


def test_namespaced_client(endpoint: str, prefix: bytes) -> None:
    name = b"ns-lock"
    with (
        Client(endpoints=[endpoint], namespace=prefix) as c,
        Client(endpoints=[endpoint]) as raw,
        Session(c, ttl=10) as s1,
        Session(c, ttl=10) as s2,
    ):
        holder, waiter = Lock(s1, name), Lock(s2, name)

        def both_keys_in_the_namespace() -> None:
            keys = {kv.key for kv in raw.get(prefix + name + b"/", prefix=True).kvs}
            assert keys == {prefix + holder.key, prefix + waiter.key}

        _hand_over(c, holder, waiter, both_keys_in_the_namespace)


def test_the_wait_fails_over_from_a_dead_endpoint(endpoint: str, prefix: bytes) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    name = prefix + b"failover"
    with (
        Client(endpoints=[endpoint]) as c1,
        Client(endpoints=[dead, endpoint], dial_timeout=1.0) as c2,
        Session(c1, ttl=10) as s1,
        Session(c2, ttl=10) as s2,
    ):
        _hand_over(c1, Lock(s1, name), Lock(s2, name))


def test_waits_with_auth_through_a_server_restart(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    """With auth on, the wait's streams carry the token. A restart invalidates it (simple tokens
    live in the member's memory) and breaks the stream: the waiter reads again (re-authenticating)
    and is still handed the lock."""
    srv = make_server()
    with Client(endpoints=[srv.endpoint]) as admin:
        admin.user_add("root", "rootpw")
        admin.role_add("root")
        admin.user_grant_role("root", "root")
        admin.auth_enable()
    name = prefix + b"auth"
    with (
        Client(endpoints=[srv.endpoint], username="root", password="rootpw", request_timeout=10.0) as c,
        Session(c, ttl=30) as s1,
        Session(c, ttl=30) as s2,
    ):
        c.get(prefix)  # the blocking transport authenticates
        old_token = c._view._transport._tokens[srv.endpoint]

        def reachable() -> bool:
            try:
                c.get(prefix)
            except UnavailableError:  # the channel may still be backing off after the restart
                return False
            return True

        def restart() -> None:
            srv.restart()
            _until(reachable)  # before the holder releases

        _hand_over(c, Lock(s1, name), Lock(s2, name), restart)
        assert c._view._transport._tokens[srv.endpoint] != old_token
