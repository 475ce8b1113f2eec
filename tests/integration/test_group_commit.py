"""Group commit: concurrent writes share WAL fsyncs (counted by etcd's fsync histogram)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc

import etcdkit.embed
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc

WRITES = 200


def _fsyncs(srv: etcdkit.embed.AsyncServer) -> float:
    value = srv.member.registry.get_sample_value("etcd_disk_wal_fsync_duration_seconds_count")
    assert value is not None
    return value


async def _run(tmp_path: Path) -> tuple[float, float, list[int]]:
    srv = etcdkit.embed.AsyncServer(data_dir=tmp_path / "d", port=0)
    async with srv, grpc.aio.insecure_channel(srv.endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)
        await kv.Put(rpc_pb2.PutRequest(key=b"warm", value=b"up"), timeout=10)
        before = _fsyncs(srv)
        resps = await asyncio.gather(
            *(kv.Put(rpc_pb2.PutRequest(key=b"k%04d" % i, value=b"v"), timeout=30) for i in range(WRITES))
        )
        return before, _fsyncs(srv), sorted(r.header.revision for r in resps)


def test_concurrent_puts_share_fsyncs(tmp_path: Path) -> None:
    before, after, revisions = asyncio.run(_run(tmp_path))
    assert revisions == list(range(3, 3 + WRITES))  # every put acknowledged, one revision each
    fsyncs = after - before
    assert 1 <= fsyncs < WRITES / 2, f"{fsyncs} fsyncs for {WRITES} concurrent puts: no group commit"
