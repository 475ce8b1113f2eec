"""Group commit: writes that arrive while a WAL fsync is in progress share the next one.

The first WAL append is held until every other put has been proposed; then
all of those must go to disk in one more append: 200 puts, two fsyncs. The
fsync histogram (etcd's ``etcd_disk_wal_fsync_duration_seconds``) counts them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import grpc

import etcdkit.embed
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc

WRITES = 200


async def _run(tmp_path: Path) -> tuple[list[int], float, list[int]]:
    srv = etcdkit.embed.AsyncServer(data_dir=tmp_path / "d", port=0)
    async with srv, grpc.aio.insecure_channel(srv.endpoint) as ch:
        server = srv.member.server
        assert server is not None
        kv = rpc_pb2_grpc.KVStub(ch)
        await kv.Put(rpc_pb2.PutRequest(key=b"warm", value=b"up"), timeout=10)
        registry = srv.member.registry
        before = registry.get_sample_value("etcd_disk_wal_fsync_duration_seconds_count") or 0.0
        gate = threading.Event()
        sizes: list[int] = []
        real_append = server.wal.append

        def held_append(entries: list[object]) -> None:
            sizes.append(len(entries))
            gate.wait(30)
            real_append(entries)  # type: ignore[arg-type]

        server.wal.append = held_append  # type: ignore[method-assign]
        puts = [
            asyncio.ensure_future(kv.Put(rpc_pb2.PutRequest(key=b"k%04d" % i, value=b"v"), timeout=60))
            for i in range(WRITES)
        ]
        deadline = time.monotonic() + 30
        while not (sizes and sizes[0] + len(server._pending) == WRITES):
            assert time.monotonic() < deadline, "puts did not arrive"
            await asyncio.sleep(0.01)
        gate.set()
        resps = await asyncio.gather(*puts)
        after = registry.get_sample_value("etcd_disk_wal_fsync_duration_seconds_count") or 0.0
        return sizes, after - before, sorted(r.header.revision for r in resps)


def test_writes_queued_during_an_fsync_share_the_next_one(tmp_path: Path) -> None:
    sizes, fsyncs, revisions = asyncio.run(_run(tmp_path))
    assert revisions == list(range(3, 3 + WRITES))  # every put acknowledged, one revision each
    assert sum(sizes) == WRITES
    assert len(sizes) == 2 and fsyncs == 2, f"appends of {sizes}: the queued puts were not committed together"
