"""The watch driver against a scripted in-process gRPC Watch server (no etcd).

The fake server serves a fixed history, honours ``start_revision``, and kills
every stream after a few responses. The client must see the whole history
exactly once, send ``hasleader: true``, and re-create at the right revision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import grpc.aio

from etcdkit.api.pb import kv_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.client import AsyncClient, ClientConfig, WatchConfig
from tests.client.conftest import run

HISTORY = {rev: [b"k%d" % (rev % 3)] * (1 + rev % 2) for rev in range(2, 60)}


class ScriptedWatch(rpc_pb2_grpc.WatchServicer):
    def __init__(self, responses_per_stream: int) -> None:
        self.per_stream = responses_per_stream
        self.creates: list[int] = []
        self.metadata: list[dict[str, str]] = []

    async def Watch(
        self,
        request_iterator: AsyncIterator[rpc_pb2.WatchRequest],
        context: grpc.aio.ServicerContext[rpc_pb2.WatchRequest, rpc_pb2.WatchResponse],
    ) -> AsyncIterator[rpc_pb2.WatchResponse]:
        self.metadata.append({k: str(v) for k, v in context.invocation_metadata() or ()})
        head = max(HISTORY)
        sent = 0
        async for req in request_iterator:
            if not req.HasField("create_request"):
                continue
            start = req.create_request.start_revision or head + 1
            self.creates.append(start)
            yield rpc_pb2.WatchResponse(header=rpc_pb2.ResponseHeader(revision=head), watch_id=0, created=True)
            for rev in range(start, head + 1, 2):  # two revisions per response, never split
                events = [
                    kv_pb2.Event(kv=kv_pb2.KeyValue(key=k, value=b"%d-%d" % (r, i), mod_revision=r))
                    for r in (rev, rev + 1)
                    if r in HISTORY
                    for i, k in enumerate(HISTORY[r])
                ]
                sent += 1
                if sent > self.per_stream:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted stream failure")
                yield rpc_pb2.WatchResponse(header=rpc_pb2.ResponseHeader(revision=head), events=events)
            # caught up: keep the stream open, waiting for more requests


def test_driver_resumes_exactly_across_stream_kills() -> None:
    async def body() -> None:
        server = grpc.aio.server()
        servicer = ScriptedWatch(responses_per_stream=4)
        rpc_pb2_grpc.add_WatchServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            watch_cfg = WatchConfig(progress_interval=5, stall_timeout=10, backoff_initial=0.01, backoff_max=0.05)
            cfg = ClientConfig(endpoints=(f"127.0.0.1:{port}",), watch=watch_cfg)
            async with AsyncClient(cfg) as c:
                w = await c.watch(b"k", prefix=True, start_revision=2)
                expected = [(r, b"%d-%d" % (r, i)) for r in sorted(HISTORY) for i in range(len(HISTORY[r]))]
                got: list[tuple[int, bytes]] = []
                while len(got) < len(expected):
                    batch = await asyncio.wait_for(w.__anext__(), 10)
                    got.extend((e.kv.mod_revision, e.kv.value) for e in batch.events)
                assert got == expected
                # 4 responses of 2 revisions per stream: each re-create starts right
                # after the last delivered revision, never earlier (no replay), never later.
                assert servicer.creates == list(range(2, 60, 8))
                assert w.stats.reconnects == len(servicer.creates) - 1
                assert all(md.get("hasleader") == "true" for md in servicer.metadata)
        finally:
            await server.stop(None)

    run(body())
