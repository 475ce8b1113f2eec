"""Lock: exclusion, timeouts, fairness, fencing, idempotent re-acquire, interop with etcd's Lock
service, and a holder process killed (lock freed by lease expiry)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from etcdkit.api.pb import v3lock_pb2, v3lock_pb2_grpc
from etcdkit.client import (
    AsyncClient,
    Client,
    GetResponse,
    KeyValue,
    PutResponse,
    ResponseHeader,
    Txn,
    TxnResponse,
    UnavailableError,
)
from etcdkit.recipes import (
    AsyncLock,
    AsyncSession,
    EmptyLockNameError,
    Lock,
    LockNotAcquiredError,
    LockNotHeldError,
    Session,
)
from etcdkit.recipes.core.mutex import NEAR, campaign_outcome, contender_key, enqueue_txn, name_prefix

from .conftest import arun


def test_empty_name_is_a_typed_error() -> None:
    for name in ("", b""):
        with pytest.raises(EmptyLockNameError):
            name_prefix(name)
    assert issubclass(EmptyLockNameError, ValueError)


def test_key_layout_is_clientv3s() -> None:
    assert contender_key(name_prefix("jobs"), 0x694D7A0B3C) == b"jobs/694d7a0b3c"


def _kv(key: bytes, create: int) -> KeyValue:
    return KeyValue(key, b"", create, create, 1, 0)


def test_enqueue_outcome_lists_at_most_near_plus_one_blockers_newest_first() -> None:
    h = ResponseHeader(revision=20)
    # New key (the txn's revision): the listing is newest first and limited; ours comes first.
    listing = GetResponse(h, (_kv(b"me", 20), _kv(b"c", 15), _kv(b"b", 12), _kv(b"a", 9)))
    c = campaign_outcome(b"me", b"v", TxnResponse(h, True, (PutResponse(h), listing)))
    assert (c.revision, c.value, [kv.key for kv in c.blockers], c.owns) == (20, b"v", [b"c", b"b", b"a"], False)
    alone = campaign_outcome(b"me", b"v", TxnResponse(h, True, (PutResponse(h), GetResponse(h, (_kv(b"me", 20),)))))
    assert alone.owns and alone.blockers == ()
    # Existing key (a retry): the full listing; keep the NEAR + 1 newest of those older than ours.
    mine = GetResponse(h, (KeyValue(b"me", b"old", 10, 11, 2, 0),))
    full = GetResponse(
        h, tuple(_kv(k, r) for k, r in ((b"z", 18), (b"me", 10), (b"d", 8), (b"c", 6), (b"b", 4), (b"a", 2)))
    )
    r = campaign_outcome(b"me", b"v", TxnResponse(h, False, (mine, full)))
    assert (r.revision, r.value) == (10, b"old")
    assert [kv.key for kv in r.blockers] == [b"d", b"c", b"b"][: NEAR + 1]
    first = campaign_outcome(
        b"me", b"v", TxnResponse(h, False, (mine, GetResponse(h, (_kv(b"z", 18), _kv(b"me", 10)))))
    )
    assert first.owns


def test_exclusion_timeout_and_fencing(client: Client, prefix: bytes) -> None:
    name = prefix + b"lock"
    with Session(client, ttl=5) as s1, Session(client, ttl=5) as s2:
        l1, l2 = Lock(s1, name), Lock(s2, name, timeout=0.3)
        assert l1.acquire()
        t1 = l1.fencing_token
        assert l1.held
        assert not l2.acquire(timeout=0.3)
        with pytest.raises(LockNotAcquiredError), l2:
            pass
        # A timed-out waiter leaves no key behind.
        assert [kv.key for kv in client.get(name + b"/", prefix=True).kvs] == [l1.key]
        with pytest.raises(LockNotHeldError):
            _ = l2.fencing_token
        l1.release()
        assert not l1.held
        with l2:
            assert l2.fencing_token > t1
        assert client.get(name + b"/", prefix=True).kvs == ()


def test_fifo_order(endpoint: str, prefix: bytes) -> None:
    name = prefix + b"fifo"

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            sessions = [await AsyncSession.create(c, ttl=5) for _ in range(4)]
            holder, *waiters = (AsyncLock(s, name) for s in sessions)
            assert await holder.acquire()
            order: list[int] = []

            async def contend(i: int, lock: AsyncLock) -> None:
                assert await lock.acquire(timeout=20)
                order.append(i)
                await lock.release()

            tasks = []
            for i, lock in enumerate(waiters):
                tasks.append(asyncio.create_task(contend(i, lock)))
                for _ in range(200):  # wait until this waiter's key exists before starting the next
                    if (await c.get(lock.key)).kvs:
                        break
                    await asyncio.sleep(0.01)
                else:
                    raise AssertionError("waiter never enqueued")
            await holder.release()
            await asyncio.wait_for(asyncio.gather(*tasks), 20)
            assert order == [0, 1, 2]
            for s in sessions:
                await s.close()

    arun(body())


def test_idempotent_reacquire_after_ambiguous_failure(client: Client, prefix: bytes) -> None:
    name = prefix + b"amb"
    with Session(client, ttl=5) as s:
        lock = Lock(s, name)
        # The enqueue txn went through but its answer was lost (as after a timeout):
        resp = client.txn(enqueue_txn(name_prefix(name), lock.key, b"", s.lease))
        assert resp.succeeded
        assert lock.acquire(timeout=5)
        assert lock.fencing_token == resp.header.revision
        assert lock.acquire(timeout=5)  # again: same key, same token
        assert lock.fencing_token == resp.header.revision
        assert len(client.get(name + b"/", prefix=True).kvs) == 1
        lock.release()


def test_blocking_lock_falls_back_to_the_retrying_path_after_an_ambiguous_enqueue(
    client: Client, prefix: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocking ``Lock`` runs its first enqueue txn in the calling thread; when that answer is
    lost after the txn was applied, the async path retries the idempotent txn and finds the key."""
    name = prefix + b"amb-sync"
    with Session(client, ttl=5) as s:
        lock = Lock(s, name)
        real_txn = client.txn
        applied: list[TxnResponse] = []

        def lost_answer(txn: Txn, **kw: object) -> TxnResponse:
            applied.append(real_txn(txn))  # reaches the server ...
            raise UnavailableError("connection dropped before the answer")  # ... the answer does not

        monkeypatch.setattr(client, "txn", lost_answer)
        assert lock.acquire(timeout=5)
        monkeypatch.undo()
        assert len(applied) == 1 and applied[0].succeeded
        assert lock.fencing_token == applied[0].header.revision  # the same key, found by the retry
        assert [kv.key for kv in client.get(name + b"/", prefix=True).kvs] == [lock.key]
        lock.release()
        assert client.get(name + b"/", prefix=True).kvs == ()
        assert not lock.held


def test_interoperates_with_etcd_lock_service(client: Client, endpoint: str, prefix: bytes) -> None:
    name = prefix + b"svc"
    with (
        Session(client, ttl=5) as ours,
        Session(client, ttl=5) as theirs,
        grpc.insecure_channel(endpoint) as ch,
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        stub = v3lock_pb2_grpc.LockStub(ch)
        lock = Lock(ours, name)
        assert lock.acquire()
        fut = pool.submit(stub.Lock, v3lock_pb2.LockRequest(name=name, lease=theirs.lease), timeout=20)
        with pytest.raises(concurrent.futures.TimeoutError):
            fut.result(timeout=0.5)  # the service waits for our holder
        lock.release()
        svc_key = fut.result(timeout=20).key
        assert svc_key == contender_key(name + b"/", theirs.lease_id)
        assert not lock.acquire(timeout=0.3)  # and we wait for theirs
        stub.Unlock(v3lock_pb2.UnlockRequest(key=svc_key), timeout=5)
        assert lock.acquire(timeout=5)
        lock.release()


def test_killed_holder_frees_lock_by_lease_expiry(client: Client, endpoint: str, prefix: bytes) -> None:
    name = (prefix + b"crash").decode()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = Path(__file__).with_name("_holder.py")
    child = subprocess.Popen(
        [sys.executable, str(script), endpoint, name, "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line[0] == "held", line
        child_token = int(line[1])
        with Session(client, ttl=5) as s:
            lock = Lock(s, name)
            assert not lock.acquire(timeout=0.3)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
            assert lock.acquire(timeout=15), "lock not freed after the holder's lease expired"
            assert lock.fencing_token > child_token
            lock.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child.stdin:
            child.stdin.close()
        if child.stdout:
            child.stdout.close()


def test_interoperates_with_go_clientv3_mutex(client: Client, endpoint: str, prefix: bytes) -> None:
    """``etcdctl lock`` is Go clientv3's ``concurrency.Mutex``: each side waits for the other."""
    etcdctl = shutil.which("etcdctl")
    if etcdctl is None:
        pytest.skip("etcdctl is not installed")
    name = (prefix + b"go").decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")} | {"ETCDCTL_API": "3"}
    with Session(client, ttl=5) as s:
        lock = Lock(s, name)
        # Go holds first: etcdctl prints its key and holds the lock until interrupted.
        go = subprocess.Popen(
            [etcdctl, "--endpoints", endpoint, "lock", name], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert go.stdout is not None
            go_key = go.stdout.readline().strip().encode()
            assert go_key.startswith(name.encode() + b"/")
            assert not lock.acquire(timeout=0.3)
            go.send_signal(signal.SIGINT)  # etcdctl unlocks and exits
            go.wait(timeout=10)
            assert lock.acquire(timeout=10)
        finally:
            if go.poll() is None:
                go.kill()
                go.wait(timeout=10)
            if go.stdout:
                go.stdout.close()
        # We hold: etcdctl's command runs only after we release.
        ran = subprocess.Popen(
            [etcdctl, "--endpoints", endpoint, "lock", name, "echo", "inside"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                ran.wait(timeout=0.5)
            lock.release()
            out, _ = ran.communicate(timeout=10)
            assert out.strip() == "inside"
        finally:
            if ran.poll() is None:
                ran.kill()
                ran.wait(timeout=10)


def test_waiters_near_and_far_released_in_order_past_abandoned_blockers(endpoint: str, prefix: bytes) -> None:
    """The waiting logic (``_queue``): waiters near the front strike blockers off a prefix watch,
    those further back wait for their newest blocker. A waiter giving up in the middle of the
    queue (near or far) must not let anyone behind it in early; the rest are served in order."""
    name = prefix + b"modes"
    n = 7  # 1 holder + 6 waiters: waiters 0-1 start near the front (NEAR = 2), 2-5 further back

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            sessions = [await AsyncSession.create(c, ttl=10) for _ in range(n)]
            holder, *waiters = (AsyncLock(s, name) for s in sessions)
            assert await holder.acquire()
            order: list[int] = []
            tokens: list[int] = []
            holding = 0

            async def contend(i: int, lock: AsyncLock) -> None:
                nonlocal holding
                assert await lock.acquire(timeout=30)
                holding += 1
                assert holding == 1, "two holders at once"
                order.append(i)
                tokens.append(lock.fencing_token)
                await asyncio.sleep(0)
                holding -= 1
                await lock.release()

            tasks: list[asyncio.Task[None]] = []
            for i, lock in enumerate(waiters):
                tasks.append(asyncio.create_task(contend(i, lock)))
                await _until(lambda lk=lock: _exists(c, lk.key))

            # Waiter 0 (near: the prefix watch of waiter 1 sees it go) and waiter 3 (far: waiter 4
            # watches its key alone) give up while the holder still holds.
            for i in (0, 3):
                tasks[i].cancel()
                await asyncio.gather(tasks[i], return_exceptions=True)
                await _until(lambda lk=waiters[i]: _gone(c, lk.key))
            for _ in range(30):  # a bounded look: nobody may get in while the holder holds
                assert order == [] and holder.held
                await asyncio.sleep(0.01)
            await holder.release()
            await asyncio.wait_for(asyncio.gather(*(t for i, t in enumerate(tasks) if i not in (0, 3))), 30)
            assert order == [1, 2, 4, 5]
            assert tokens == sorted(tokens)
            assert (await c.get(name + b"/", prefix=True)).kvs == ()
            for s in sessions:
                await s.close()

    arun(body())


def test_waiter_whose_key_is_deleted_stops_waiting(endpoint: str, prefix: bytes) -> None:
    name = prefix + b"vanish"

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            s1, s2 = await AsyncSession.create(c, ttl=10), await AsyncSession.create(c, ttl=10)
            holder, waiter = AsyncLock(s1, name), AsyncLock(s2, name)
            assert await holder.acquire()
            task = asyncio.create_task(waiter.acquire(timeout=30))
            await _until(lambda: _exists(c, waiter.key))
            await c.delete(waiter.key)  # an operator removes the waiter's key
            with pytest.raises(LockNotHeldError):
                await asyncio.wait_for(task, 10)
            assert holder.held and not waiter.held
            await holder.release()
            await s1.close()
            await s2.close()

    arun(body())


async def _exists(c: AsyncClient, key: bytes) -> bool:
    return bool((await c.get(key)).kvs)


async def _gone(c: AsyncClient, key: bytes) -> bool:
    return not (await c.get(key)).kvs


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds (bounded)."""
    for _ in range(int(timeout / 0.01)):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")
