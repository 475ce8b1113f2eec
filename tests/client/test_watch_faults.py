"""Watch fault scenarios against a live server, counting events received vs written.

Each scenario writes numbered values and checks the watch delivered exactly
that sequence: no event missed, none repeated, revisions strictly increasing.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable

import pytest

from etcdkit.client import (
    AsyncClient,
    ClientConfig,
    ConnectionState,
    EventType,
    Watch,
    WatchCompactedError,
    WatchConfig,
)
from etcdkit.testing import ServerProcess
from tests.client.conftest import pause, run
from tests.client.proxy import TcpProxy

FAST = WatchConfig(progress_interval=0.3, stall_timeout=1.0, backoff_initial=0.05, backoff_max=0.3)


def _config(*endpoints: str, **kw: object) -> ClientConfig:
    return ClientConfig(endpoints=endpoints, dial_timeout=1.0, request_timeout=5.0, watch=FAST, **kw)  # type: ignore[arg-type]


async def _collect(w: Watch, n: int, timeout: float) -> list[tuple[int, bytes]]:
    """Read batches until ``n`` events arrived (bounded by ``timeout``)."""
    got: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(got)} of {n} events after {timeout}s"
        batch = await asyncio.wait_for(w.__anext__(), remaining)
        revs = [e.kv.mod_revision for e in batch.events]
        assert revs == sorted(revs)
        got.extend((e.kv.mod_revision, e.kv.value) for e in batch.events)
    return got


async def _put_retrying(c: AsyncClient, key: bytes, value: bytes) -> int:
    """Write once for sure: retry only failures that provably did not apply (checked by reading)."""
    for _ in range(200):
        try:
            return (await c.put(key, value)).header.revision
        except Exception:
            await asyncio.sleep(0.05)
            try:
                g = await c.get(key)
            except Exception:
                continue
            if g.value == value:
                return g.kvs[0].mod_revision
    raise AssertionError("could not write")


def test_restart_server_mid_stream(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()

    async def body() -> None:
        states: list[ConnectionState] = []
        async with AsyncClient(_config(srv.endpoint)) as c:
            c.add_state_listener(states.append)
            w = await c.watch(prefix, prefix=True)
            written: list[tuple[int, bytes]] = []
            loop = asyncio.get_running_loop()
            for restart in range(3):
                for i in range(20):
                    v = f"{restart}-{i}".encode()
                    written.append((await _put_retrying(c, prefix + b"k", v), v))
                await loop.run_in_executor(None, srv.restart)
            for i in range(20):
                v = f"end-{i}".encode()
                written.append((await _put_retrying(c, prefix + b"k", v), v))
            got = await _collect(w, len(written), 60)
            assert got == written
            assert w.stats.reconnects >= 1  # restarts close together may share one reconnect
            assert ConnectionState.SUSPENDED in states and c.state is ConnectionState.CONNECTED
            await w.close()

    run(body())


def test_compaction_while_disconnected_raises(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()

    async def body() -> None:
        with TcpProxy(srv.client_port) as proxy:
            async with AsyncClient(_config(proxy.endpoint)) as c, AsyncClient(_config(srv.endpoint)) as writer:
                w = await c.watch(prefix + b"k")
                first = await writer.put(prefix + b"k", b"seen")
                assert await _collect(w, 1, 10) == [(first.header.revision, b"seen")]
                proxy.cut()
                await _wait_for(lambda: w.stats.reconnects >= 1, 10)
                last = 0
                for i in range(5):
                    last = (await writer.put(prefix + b"k", f"gone-{i}".encode())).header.revision
                await writer.compact(last)
                proxy.heal()
                with pytest.raises(WatchCompactedError) as ei:
                    await _collect(w, 5, 20)
                assert ei.value.compact_revision == last
                assert ei.value.next_revision == first.header.revision + 1

    run(body())


async def _wait_for(pred: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_compaction_while_disconnected_resyncs(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    P, D = EventType.PUT, EventType.DELETE

    async def body() -> None:
        with TcpProxy(srv.client_port) as proxy:
            async with AsyncClient(_config(proxy.endpoint)) as c, AsyncClient(_config(srv.endpoint)) as writer:
                await writer.put(prefix + b"keep", b"0")
                await writer.put(prefix + b"del", b"0")
                await writer.put(prefix + b"same", b"0")
                w = await c.watch(prefix, prefix=True, resync=True)
                r = await writer.put(prefix + b"keep", b"1")
                assert await _collect(w, 1, 10) == [(r.header.revision, b"1")]
                proxy.cut()
                await _wait_for(lambda: w.stats.reconnects >= 1, 10)
                await writer.put(prefix + b"keep", b"2")
                await writer.delete(prefix + b"del")
                new = await writer.put(prefix + b"new", b"n")
                await writer.compact(new.header.revision)
                proxy.heal()
                batch = await asyncio.wait_for(w.__anext__(), 20)
                assert batch.resync and batch.revision == new.header.revision
                assert all(e.synthetic for e in batch.events)
                assert sorted((e.type.value, e.kv.key, e.kv.value) for e in batch.events) == sorted(
                    [
                        (P.value, prefix + b"keep", b"2"),
                        (P.value, prefix + b"new", b"n"),
                        (D.value, prefix + b"del", b""),
                    ]
                )
                assert w.stats.resyncs == 1
                # After a resync the watch goes on live, from the resync revision.
                after = await writer.put(prefix + b"keep", b"3")
                assert await _collect(w, 1, 10) == [(after.header.revision, b"3")]

    run(body())


def test_sigstop_stall_detected_and_nothing_lost(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()

    async def body() -> None:
        async with AsyncClient(_config(srv.endpoint)) as c, AsyncClient(_config(srv.endpoint)) as writer:
            w = await c.watch(prefix, prefix=True)
            written = [((await writer.put(prefix + b"a", b"before")).header.revision, b"before")]
            assert await _collect(w, 1, 10) == written
            pause(srv)
            t0 = time.monotonic()
            try:
                await _wait_for(lambda: w.stats.reconnects >= 1, 10)
                detected = time.monotonic() - t0
                # Stall timeout 1.0s (+ tick granularity and scheduling slack).
                assert detected < FAST.stall_timeout + 1.5, detected
                assert c.state is ConnectionState.SUSPENDED
            finally:
                srv.resume()
            for i in range(30):
                v = f"after-{i}".encode()
                written.append(((await _put_retrying(writer, prefix + b"a", v)), v))
            got = written[:1] + await _collect(w, 30, 30)
            assert got == written

    run(body())


def test_failover_to_second_endpoint(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    dead = f"127.0.0.1:{_closed_port()}"

    async def body() -> None:
        async with AsyncClient(_config(dead, srv.endpoint)) as c:
            await c.put(prefix + b"k", b"v")  # dial to `dead` fails: never sent, so even a write moves on
            assert c.endpoint == srv.endpoint
            w = await c.watch(prefix + b"k")
            r = await c.put(prefix + b"k", b"w")
            assert await _collect(w, 1, 10) == [(r.header.revision, b"w")]

    run(body())


def _closed_port() -> int:
    from etcdkit.testing import free_port

    return free_port()


def test_token_invalidated_during_watch(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    """Simple tokens live in the member's memory: a restart invalidates every token.

    The watch's re-created stream must re-authenticate (etcd refuses the
    create as "permission denied"), and KV calls must too ("invalid auth token").
    """
    srv = make_server()

    async def body() -> None:
        async with AsyncClient(_config(srv.endpoint)) as admin:
            await admin.user_add("root", "rootpw")
            await admin.role_add("root")
            await admin.user_grant_role("root", "root")
            await admin.auth_enable()
        cfg = _config(srv.endpoint, username="root", password="rootpw")
        async with AsyncClient(cfg) as c, AsyncClient(cfg) as writer:
            w = await c.watch(prefix, prefix=True)
            written = [((await writer.put(prefix + b"k", b"0")).header.revision, b"0")]
            old_token = c._transport._tokens[srv.endpoint]
            await asyncio.get_running_loop().run_in_executor(None, srv.restart)
            for i in range(1, 10):
                v = str(i).encode()
                written.append((await _put_retrying(writer, prefix + b"k", v), v))
            assert await _collect(w, len(written), 30) == written
            assert w.stats.reconnects >= 1
            assert c._transport._tokens[srv.endpoint] != old_token

    run(body())


def test_network_cut_mid_stream(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()

    async def body() -> None:
        with TcpProxy(srv.client_port) as proxy:
            async with AsyncClient(_config(proxy.endpoint)) as c, AsyncClient(_config(srv.endpoint)) as writer:
                w = await c.watch(prefix, prefix=True)
                written: list[tuple[int, bytes]] = []
                got: list[tuple[int, bytes]] = []
                for cut in range(3):
                    for i in range(15):
                        v = f"{cut}-{i}".encode()
                        written.append(((await writer.put(prefix + b"k", v)).header.revision, v))
                        if i == 7:
                            proxy.cut()
                    await _wait_for(functools.partial(lambda n: w.stats.reconnects > n, cut), 10)
                    proxy.heal()
                    got += await _collect(w, len(written) - len(got), 30)  # back before the next cut
                assert got == written

    run(body())
