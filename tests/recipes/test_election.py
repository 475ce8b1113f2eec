"""Election: campaign/proclaim/leader/resign, observe, failover by lease expiry, interop with etcd's
Election service."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import grpc
import pytest

from etcdkit.api.pb import v3election_pb2, v3election_pb2_grpc
from etcdkit.client import AsyncClient, Client, ElectionNoLeaderError, ElectionNotLeaderError
from etcdkit.recipes import AsyncElection, AsyncSession, Election, Session
from etcdkit.recipes.core.mutex import contender_key

from .conftest import arun


def test_campaign_proclaim_resign(client: Client, prefix: bytes) -> None:
    name = prefix + b"el"
    with Session(client, ttl=5) as s1, Session(client, ttl=5) as s2:
        e1, e2 = Election(s1, name), Election(s2, name)
        with pytest.raises(ElectionNoLeaderError):
            e1.leader()
        assert e1.campaign(b"a")
        assert e1.is_leader
        assert e1.leader().value == b"a"
        assert not e2.campaign(b"b", timeout=0.3)
        assert [kv.key for kv in client.get(name + b"/", prefix=True).kvs] == [e1.key]
        with pytest.raises(ElectionNotLeaderError):
            e2.proclaim(b"b")
        e1.proclaim(b"a2")
        assert e1.leader().value == b"a2"
        e1.resign()
        assert not e1.is_leader
        with pytest.raises(ElectionNoLeaderError):
            e1.leader()
        # campaign again with the same session: idempotent key, new revision
        assert e1.campaign(b"a3")
        assert e1.leader().key == e1.key
        e1.resign()


def test_observe_and_failover_by_expiry(client: Client, prefix: bytes) -> None:
    name = prefix + b"fo"
    s1 = Session(client, ttl=2)
    with Session(client, ttl=5) as s2, Session(client, ttl=5) as watcher:
        e1, e2 = Election(s1, name), Election(s2, name)
        with Election(watcher, name).observe() as obs, concurrent.futures.ThreadPoolExecutor(1) as pool:
            assert e1.campaign(b"first")
            assert obs.next(timeout=10).value == b"first"
            e1.proclaim(b"first-v2")
            assert obs.next(timeout=10).value == b"first-v2"
            second = pool.submit(e2.campaign, b"second", 20)
            s1.close(revoke=False)  # the leader dies: its lease expires after 2 s
            assert second.result(timeout=20) is True
            kv = obs.next(timeout=10)
            assert (kv.key, kv.value) == (e2.key, b"second")
            assert kv.create_revision > e1.revision
            e2.resign()


def test_blocking_campaign_waits_in_the_calling_thread(two_sessions: tuple[Session, Session], prefix: bytes) -> None:
    """A blocking candidate is handed leadership while its client's loop thread is blocked
    (the wait for its turn runs in the calling thread, as the blocking Lock's does)."""
    name = prefix + b"noloop"
    s1, s2 = two_sessions
    e1, e2 = Election(s1, name), Election(s2, name)
    assert e1.campaign(b"one")
    release_loop = threading.Event()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            got = pool.submit(e2.campaign, b"two", 20)
            end = time.monotonic() + 10
            while not s1.client.get(e2.key).kvs:  # bounded poll: the candidate's key is queued
                assert time.monotonic() < end, "candidate never enqueued"
                threading.Event().wait(0.01)
            s2.client._loop.loop.call_soon_threadsafe(release_loop.wait, 20)  # its loop thread blocks
            assert not got.done()
            e1.resign()
            assert got.result(timeout=15) is True
    finally:
        release_loop.set()
    assert e2.is_leader and e2.leader().value == b"two"
    e2.resign()


def test_interoperates_with_etcd_election_service(client: Client, endpoint: str, prefix: bytes) -> None:
    name = prefix + b"svc"
    with (
        Session(client, ttl=5) as ours,
        Session(client, ttl=5) as theirs,
        grpc.insecure_channel(endpoint) as ch,
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        stub = v3election_pb2_grpc.ElectionStub(ch)
        e = Election(ours, name)
        assert e.campaign(b"ours")
        leader = stub.Leader(v3election_pb2.LeaderRequest(name=name), timeout=5).kv
        assert (leader.key, leader.value) == (e.key, b"ours")
        fut = pool.submit(
            stub.Campaign, v3election_pb2.CampaignRequest(name=name, lease=theirs.lease, value=b"theirs"), timeout=20
        )
        with pytest.raises(concurrent.futures.TimeoutError):
            fut.result(timeout=0.5)
        e.resign()
        lk = fut.result(timeout=20).leader
        assert lk.key == contender_key(name + b"/", theirs.lease_id)
        assert e.leader().value == b"theirs"
        stub.Resign(v3election_pb2.ResignRequest(leader=lk), timeout=5)


def test_async_observe(endpoint: str, prefix: bytes) -> None:
    name = prefix + b"aobs"

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            s1, s2 = await AsyncSession.create(c, ttl=5), await AsyncSession.create(c, ttl=5)
            e1, e2 = AsyncElection(s1, name), AsyncElection(s2, name)
            observed = AsyncElection(s2, name).observe()
            first = asyncio.create_task(observed.__anext__())
            assert await e1.campaign(b"one")
            assert (await asyncio.wait_for(first, 10)).value == b"one"
            second = asyncio.create_task(e2.campaign(b"two"))
            await e1.resign()
            assert await asyncio.wait_for(second, 10)
            kv = await asyncio.wait_for(observed.__anext__(), 10)
            assert (kv.key, kv.value) == (e2.key, b"two")
            await observed.aclose()
            await e2.resign()
            await s1.close()
            await s2.close()

    arun(body())
