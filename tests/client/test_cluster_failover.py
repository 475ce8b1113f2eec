"""A 3-member real etcd cluster on loopback: kill the member the client uses; watch and KV fail over."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from etcdkit.client import AsyncClient, ClientConfig, WatchConfig
from etcdkit.testing import EtcdProcess
from tests.client.conftest import pause, run
from tests.client.test_watch_faults import _collect, _put_retrying


@pytest.fixture
def cluster(target: str) -> Iterator[list[EtcdProcess]]:
    if target != "etcd":
        pytest.skip("clustering is tested against real etcd only (for now)")
    members = [EtcdProcess(member_name=f"m{i}", start_timeout=30) for i in range(3)]
    initial = ",".join(f"{m.member_name}=http://127.0.0.1:{m.peer_port}" for m in members)
    for m in members:
        m.extra_args = [f"--initial-cluster={initial}", "--initial-cluster-token=etcdkit-client-test"]
    errors: list[BaseException] = []

    def start(m: EtcdProcess) -> None:
        try:
            m.start()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=start, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        if errors:
            raise errors[0]
        yield members
    finally:
        for m in members:
            m.cleanup()


def test_member_killed_watch_and_kv_fail_over(cluster: list[EtcdProcess], prefix: bytes) -> None:
    eps = tuple(m.endpoint for m in cluster)
    watch_cfg = WatchConfig(progress_interval=0.3, stall_timeout=1.0, backoff_initial=0.05, backoff_max=0.3)
    cfg = ClientConfig(endpoints=eps, dial_timeout=1.0, request_timeout=5.0, watch=watch_cfg)

    async def body() -> None:
        async with AsyncClient(cfg) as c, AsyncClient(cfg) as writer:
            assert len((await c.member_list()).members) == 3
            w = await c.watch(prefix, prefix=True)
            written: list[tuple[int, bytes]] = []
            for i in range(20):
                v = f"a{i}".encode()
                written.append((await _put_retrying(writer, prefix + b"k", v), v))
            victim = next(m for m in cluster if m.endpoint == c.endpoint)
            await asyncio.get_running_loop().run_in_executor(None, victim.kill)
            for i in range(20):
                v = f"b{i}".encode()
                written.append((await _put_retrying(writer, prefix + b"k", v), v))
            got = await _collect(w, len(written), 60)
            assert got == written
            assert c.endpoint != victim.endpoint and w.stats.reconnects >= 1
            g = await c.get(prefix + b"k")
            assert g.value == b"b19" and g.header.revision >= written[-1][0]

    run(body())


def test_stalled_member_watch_moves_to_another(cluster: list[EtcdProcess], prefix: bytes) -> None:
    """SIGSTOP the member the watch uses: the stall is detected and the watch moves on, losing nothing."""
    eps = tuple(m.endpoint for m in cluster)
    watch_cfg = WatchConfig(progress_interval=0.3, stall_timeout=1.0, backoff_initial=0.05, backoff_max=0.3)
    cfg = ClientConfig(endpoints=eps, dial_timeout=1.0, request_timeout=5.0, watch=watch_cfg)

    async def body() -> None:
        async with AsyncClient(cfg) as c:
            w = await c.watch(prefix, prefix=True)
            stalled = next(m for m in cluster if m.endpoint == c.endpoint)
            others = tuple(ep for ep in eps if ep != stalled.endpoint)
            async with AsyncClient(ClientConfig(endpoints=others, dial_timeout=1.0, request_timeout=5.0)) as writer:
                written = [((await writer.put(prefix + b"k", b"0")).header.revision, b"0")]
                assert await _collect(w, 1, 10) == written
                pause(stalled)
                try:
                    for i in range(1, 20):
                        v = str(i).encode()
                        written.append((await _put_retrying(writer, prefix + b"k", v), v))
                    # Delivered while the member is still stopped: the watch left it.
                    assert await _collect(w, 19, 30) == written[1:]
                    assert c.endpoint != stalled.endpoint and w.stats.reconnects >= 1
                finally:
                    stalled.resume()

    run(body())
