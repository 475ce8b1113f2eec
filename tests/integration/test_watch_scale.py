"""Scale: 10,000 watchers on one etcdkit server plus one consumer that does not read.

Writes must keep their pace while the slow stream's queue overflows (its
watcher becomes a victim, visible in etcd_debugging_mvcc_slow_watcher_total),
every fast watcher must receive every event in order, and the slow watcher,
once it reads, must receive everything in order with no gap or duplicate.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess

pytestmark = pytest.mark.slow

STREAMS = 20
PER_STREAM = 500  # 1 prefix watcher + 499 single-key watchers per stream
WRITES = 1500
VALUE = b"v" * 1024
PREFIX = b"/scale/p/"
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def server() -> Iterator[EtcdkitProcess]:
    with EtcdkitProcess(extra_args=["--unsafe-no-fsync"]) as srv:
        yield srv


def metric(srv: EtcdkitProcess, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.metrics_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    m = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    assert m, f"{name} not exported"
    return float(m.group(1))


def create(key: bytes, range_end: bytes = b"") -> pb.WatchRequest:
    return pb.WatchRequest(create_request=pb.WatchCreateRequest(key=key, range_end=range_end))


async def scenario(srv: EtcdkitProcess) -> None:
    opts = [("grpc.max_receive_message_length", -1)]
    async with (
        grpc.aio.insecure_channel(srv.endpoint, options=opts) as ch,
        grpc.aio.insecure_channel(srv.endpoint, options=[*opts, ("grpc.http2.bdp_probe", 0)]) as slow_ch,
    ):
        # grpc-stubs types the sync API only; the aio calls are Any here
        kv: Any = rpc_pb2_grpc.KVStub(ch)
        watch: Any = rpc_pb2_grpc.WatchStub(ch)
        calls: list[Any] = [watch.Watch() for _ in range(STREAMS)]
        single_keys: list[list[bytes]] = []
        for s, call in enumerate(calls):
            await call.write(create(PREFIX, b"/scale/p0"))  # watch id 0 on every stream
            keys = [b"/scale/k/%d/%d" % (s, i) for i in range(1, PER_STREAM)]
            single_keys.append(keys)
            for key in keys:
                await call.write(create(key))
        for call in calls:
            for _ in range(PER_STREAM):
                resp: Any = await asyncio.wait_for(call.read(), 30)
                assert resp.created and not resp.canceled
        slow_stub: Any = rpc_pb2_grpc.WatchStub(slow_ch)
        slow = slow_stub.Watch()
        await slow.write(create(PREFIX, b"/scale/p0"))
        assert (await asyncio.wait_for(slow.read(), 10)).created
        assert metric(srv, "etcd_debugging_mvcc_watcher_total") == STREAMS * PER_STREAM + 1

        received: list[dict[int, list[tuple[int, bytes]]]] = [{} for _ in calls]

        async def reader(i: int) -> None:
            while True:
                resp: Any = await calls[i].read()
                if resp is EOF:
                    return
                got = received[i].setdefault(resp.watch_id, [])
                got.extend((e.kv.mod_revision, e.kv.key) for e in resp.events)

        readers = [asyncio.create_task(reader(i)) for i in range(STREAMS)]
        latencies, revisions, peak_slow = [], [], 0.0
        t0 = time.monotonic()
        for n in range(WRITES):
            start = time.monotonic()
            resp = await kv.Put(pb.PutRequest(key=PREFIX + b"%d" % (n % 50), value=VALUE), timeout=10)
            latencies.append(time.monotonic() - start)
            revisions.append(resp.header.revision)
            if n % 300 == 299:
                peak_slow = max(peak_slow, metric(srv, "etcd_debugging_mvcc_slow_watcher_total"))
        write_time = time.monotonic() - t0
        peak_slow = max(peak_slow, metric(srv, "etcd_debugging_mvcc_slow_watcher_total"))
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99)]
        assert p99 < 1.0, f"writes stalled: p99 put latency {p99:.3f}s over {write_time:.1f}s"
        assert peak_slow >= 1, "the consumer that does not read never became a victim"

        # every fast prefix watcher got every event, in order
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(r.get(0, [])) < WRITES for r in received):
            await asyncio.sleep(0.05)
        for r in received:
            assert [rv for rv, _ in r[0]] == revisions

        # single-key watchers: one write to a sample of them reaches exactly those
        sample = [(s, i) for s in range(STREAMS) for i in range(0, PER_STREAM - 1, 50)]
        for s, i in sample:
            await kv.Put(pb.PutRequest(key=single_keys[s][i], value=b"x"), timeout=10)
        want = {(s, i + 1) for s, i in sample}  # watch id i+1 watches single_keys[s][i]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(len(received[s].get(w, [])) for s, w in want) < len(want):
            await asyncio.sleep(0.05)
        got_ids = {(s, w) for s in range(STREAMS) for w, evs in received[s].items() if w != 0 and evs}
        assert got_ids == want

        # the slow consumer now reads: everything, in order, exactly once
        slow_events: list[int] = []
        deadline = time.monotonic() + 120
        while len(slow_events) < WRITES and time.monotonic() < deadline:
            sresp: Any = await asyncio.wait_for(slow.read(), 30)
            assert not sresp.canceled
            slow_events.extend(e.kv.mod_revision for e in sresp.events)
        assert slow_events == revisions
        assert metric(srv, "etcd_debugging_mvcc_slow_watcher_total") == 0

        for call in [*calls, slow]:
            call.cancel()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    deadline = time.monotonic() + 10
    while metric(srv, "etcd_debugging_mvcc_watcher_total") != 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert metric(srv, "etcd_debugging_mvcc_watcher_total") == 0
    assert metric(srv, "etcd_debugging_mvcc_watch_stream_total") == 0


def test_ten_thousand_watchers_and_a_slow_consumer(server: EtcdkitProcess) -> None:
    asyncio.run(scenario(server))
