"""Session: core transitions with a fake clock; keep-alive, revoke, and loss when the server stops answering."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from etcdkit.client import Client
from etcdkit.recipes import (
    AsyncSession,
    Lock,
    LockNotHeldError,
    Session,
    SessionClosedError,
    SessionLostError,
    SessionState,
)
from etcdkit.recipes.core.session import SessionCore
from etcdkit.testing import ServerProcess, wait_until

from .conftest import arun

S = SessionState


def test_core_transitions() -> None:
    core = SessionCore(7, ttl=6, granted_at=100.0)
    assert core.state is S.CONNECTED and core.suspend_after == 3.0
    assert core.tick(102.9) is None
    assert core.tick(103.0) is S.SUSPENDED
    assert core.renewed(103.5) is S.CONNECTED
    assert core.deadline == 109.5
    assert core.tick(106.4) is None
    assert core.tick(106.5) is S.SUSPENDED
    assert core.next_tick_in(107.0) == pytest.approx(2.5)
    assert core.tick(109.5) is S.LOST
    assert core.renewed(109.6) is None  # LOST is terminal
    assert core.remaining(109.6) == 0.0


def test_core_server_says_gone() -> None:
    core = SessionCore(7, ttl=6, granted_at=0.0)
    assert core.renewed(1.0, ttl=0) is S.LOST
    assert core.lost_reason is not None and "not found" in core.lost_reason


def test_core_deadline_never_moves_back() -> None:
    core = SessionCore(7, ttl=6, granted_at=10.0)
    core.renewed(5.0)  # a renewal dated earlier than the grant cannot shorten the deadline
    assert core.deadline == 16.0


def test_core_bad_config() -> None:
    with pytest.raises(ValueError):
        SessionCore(1, ttl=0, granted_at=0.0)
    with pytest.raises(ValueError):
        SessionCore(1, ttl=4, granted_at=0.0, suspend_after=4.0)


def test_session_keeps_lease_alive_and_revokes(client: Client, prefix: bytes) -> None:
    with Session(client, ttl=2) as s:
        client.put(prefix + b"k", b"v", lease=s.lease)
        lease_id = s.lease_id
        # Outlive the TTL twice over: the key must still be there.
        wait_until(lambda: s.aio._keeper.renewals >= 4, timeout=10, what="4 renewals")
        assert s.state is S.CONNECTED
        assert client.get(prefix + b"k").value == b"v"
        assert 0 < s.remaining() <= 2.0
    assert client.get(prefix + b"k").kvs == ()
    assert client.lease_time_to_live(lease_id).ttl == -1
    with pytest.raises(SessionClosedError):
        _ = s.lease


def test_async_session(endpoint: str, prefix: bytes) -> None:
    from etcdkit.client import AsyncClient

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            s = await AsyncSession.create(c, ttl=3)
            async with s:
                await c.put(prefix + b"a", b"1", lease=s.lease)
                assert s.state is S.CONNECTED
            assert (await c.get(prefix + b"a")).kvs == ()
            assert s.lost_event.is_set()

    arun(body())


def test_revoked_elsewhere_is_lost(client: Client) -> None:
    with Session(client, ttl=5) as s:
        client.lease_revoke(s.lease_id)
        assert s.wait_lost(timeout=10), "revocation not noticed"
        assert s.state is S.LOST
        with pytest.raises(SessionLostError):
            _ = s.lease


def test_server_paused_suspended_then_lost_then_typed_errors(
    make_server: Callable[[], ServerProcess], prefix: bytes
) -> None:
    srv = make_server()
    seen: list[SessionState] = []
    changed = threading.Event()

    def listener(state: SessionState) -> None:
        seen.append(state)
        changed.set()

    with Client(endpoints=[srv.endpoint], request_timeout=2.0) as c:
        s = Session(c, ttl=2)
        s.add_listener(listener)
        wait_until(lambda: s.aio._keeper.renewals >= 1, timeout=5, what="first renewal")
        held = Lock(s, prefix + b"held")
        assert held.acquire(timeout=5) and held.held
        srv.pause()
        try:
            assert s.wait_lost(timeout=10), "session not lost while the server was stopped"
            assert seen[:2] == [S.SUSPENDED, S.LOST]
            assert not held.held  # the holder learns it may no longer own the lock
            with pytest.raises(LockNotHeldError):
                _ = held.fencing_token
            with pytest.raises(SessionLostError):
                _ = s.lease
            with pytest.raises(SessionLostError):
                Lock(s, prefix + b"lock").acquire(timeout=1)
        finally:
            srv.resume()
        s.close()
