"""STM: isolation levels, deterministic conflicts, retry under contention (threads and asyncio)."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from etcdkit.client import AsyncClient, Client
from etcdkit.recipes import STM, AsyncSTM, Isolation, STMConflictError, run_stm, run_stm_async
from etcdkit.recipes.core.stm import STMCore

from .conftest import arun


def test_core_compares_per_isolation() -> None:
    from etcdkit.client import GetResponse, KeyValue, ResponseHeader

    def core(iso: Isolation) -> STMCore:
        c = STMCore(iso)
        c.record(b"a", GetResponse(ResponseHeader(revision=9), (KeyValue(b"a", b"1", 2, 5, 1),)))
        c.record(b"b", GetResponse(ResponseHeader(revision=9)))
        c.put(b"w", b"x")
        return c

    snap = core(Isolation.SERIALIZABLE_SNAPSHOT).commit_txn()
    assert [(c.key, c.target, c.result, c.operand) for c in snap.compares] == [
        (b"a", "mod", "==", 5),
        (b"b", "mod", "==", 0),
        (b"w", "mod", "<", 10),
    ]
    assert len(core(Isolation.SERIALIZABLE).commit_txn().compares) == 2
    assert len(core(Isolation.REPEATABLE_READ).commit_txn().compares) == 2
    assert core(Isolation.READ_COMMITTED).commit_txn().compares == ()
    c = core(Isolation.SERIALIZABLE)
    assert c.read_op(b"z").revision == 9 and c.read_op(b"z").serializable
    assert core(Isolation.REPEATABLE_READ).read_op(b"z").revision == 0


def test_forced_conflict_retries_with_fresh_values(client: Client, prefix: bytes) -> None:
    k = prefix + b"n"
    client.put(k, b"1")

    def incr(stm: STM) -> int:
        n = int(stm.get(k) or b"0")
        if stm.attempt == 1:
            client.put(k, b"100")  # someone else writes between our read and our commit
        stm.put(k, str(n + 1).encode())
        return stm.attempt

    assert run_stm(client, incr) == 2
    assert client.get(k).value == b"101"


def test_repeatable_read_caches_and_conflicts(client: Client, prefix: bytes) -> None:
    k = prefix + b"rr"
    client.put(k, b"a")
    seen: list[tuple[bytes | None, bytes | None]] = []

    def body(stm: STM) -> None:
        first = stm.get(k)
        if stm.attempt == 1:
            client.put(k, b"b")
        seen.append((first, stm.get(k)))
        stm.put(prefix + b"out", first or b"")

    run_stm(client, body, isolation=Isolation.REPEATABLE_READ)
    assert seen == [(b"a", b"a"), (b"b", b"b")]
    assert client.get(prefix + b"out").value == b"b"


def test_serializable_reads_one_snapshot(client: Client, prefix: bytes) -> None:
    k1, k2 = prefix + b"1", prefix + b"2"
    client.put(k1, b"x")
    client.put(k2, b"old")
    seen: list[bytes | None] = []

    def body(stm: STM) -> None:
        stm.get(k1)
        if stm.attempt == 1:
            client.put(k2, b"new")
        seen.append(stm.get(k2))

    run_stm(client, body, isolation=Isolation.SERIALIZABLE)
    assert seen == [b"old", b"new"]  # the stale snapshot read conflicts, the retry sees the new value


def test_read_committed_does_not_retry(client: Client, prefix: bytes) -> None:
    k = prefix + b"rc"
    client.put(k, b"1")

    def body(stm: STM) -> int:
        stm.get(k)
        client.put(k, b"2")
        stm.put(k, b"3")
        return stm.attempt

    assert run_stm(client, body, isolation=Isolation.READ_COMMITTED) == 1
    assert client.get(k).value == b"3"


@pytest.mark.parametrize(("isolation", "attempts"), [(Isolation.SERIALIZABLE_SNAPSHOT, 2), (Isolation.SERIALIZABLE, 1)])
def test_snapshot_protects_blind_writes(client: Client, prefix: bytes, isolation: Isolation, attempts: int) -> None:
    r, w = prefix + b"r", prefix + b"w"
    client.put(r, b"x")

    def body(stm: STM) -> int:
        stm.get(r)
        if stm.attempt == 1:
            client.put(w, b"theirs")
        stm.put(w, b"ours")
        return stm.attempt

    assert run_stm(client, body, isolation=isolation) == attempts


def test_gives_up_after_max_attempts(client: Client, prefix: bytes) -> None:
    k = prefix + b"busy"

    def body(stm: STM) -> None:
        stm.get(k)
        client.put(k, str(stm.attempt).encode())
        stm.put(k, b"never")

    with pytest.raises(STMConflictError) as ei:
        run_stm(client, body, max_attempts=3)
    assert ei.value.attempts == 3
    assert client.get(k).value == b"3"


def test_contention_threads_and_asyncio(client: Client, endpoint: str, prefix: bytes) -> None:
    a, b, n = prefix + b"a", prefix + b"b", prefix + b"count"
    client.put(a, b"1000")
    client.put(b, b"0")
    attempts: list[int] = []

    def transfer(stm: STM) -> None:
        x, y = int(stm.get(a) or b"0"), int(stm.get(b) or b"0")
        stm.put(a, str(x - 1).encode())
        stm.put(b, str(y + 1).encode())
        stm.put(n, str(int(stm.get(n) or b"0") + 1).encode())
        attempts.append(stm.attempt)

    def worker() -> None:
        for _ in range(10):
            run_stm(client, transfer, max_attempts=100)

    async def aworker() -> None:
        async with AsyncClient(endpoints=[endpoint]) as ac:

            async def atransfer(stm: AsyncSTM) -> None:
                x, y = int(await stm.get(a) or b"0"), int(await stm.get(b) or b"0")
                stm.put(a, str(x - 1).encode())
                stm.put(b, str(y + 1).encode())
                stm.put(n, str(int(await stm.get(n) or b"0") + 1).encode())
                attempts.append(stm.attempt)

            await asyncio.gather(*(run_stm_async(ac, atransfer, max_attempts=100) for _ in range(10)))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futs = [pool.submit(worker) for _ in range(3)] + [pool.submit(arun, aworker())]
        for f in futs:
            f.result(timeout=120)
    assert client.get(n).value == b"40"
    assert int(client.get(a).value or b"") + int(client.get(b).value or b"") == 1000
    assert client.get(b).value == b"40"
    assert max(attempts) > 1, "no conflict happened under contention"
