"""The fan-out floor: the least a grpc.aio server must do to serve bench/watch.py's fan-out cells.

A stand-in server for one question: how fast and how late can *any* server
built on grpc.aio deliver the fan-out workload on this machine? It speaks just
enough of the etcd v3 wire protocol for ``etcdkit.bench.fanout`` and nothing
else:

* ``KV/Put``: bumps a revision (nothing is stored) and queues, for every
  watch, one ``WatchResponse`` carrying the put as a PUT event; the put's
  answer is sent after the fan-out is queued, as etcd and etcdkit do;
* ``Watch/Watch``: a create request gets a ``created`` answer and a
  stream-unique watch id; every watch matches every put (the cells watch one
  prefix and write only under it); other requests are ignored.

Per delivered event it does what a real server cannot avoid: gRPC messages
written with ``await context.write()`` from a sender task per stream, fed by
a queue so that a slow stream never blocks a put. The event and header are
encoded once per put and joined with a per-watch ``watch_id`` field; whatever
a sender finds queued when it is free goes out as one message (concatenated
protobuf encodings merge: the events add up, the header is the newest), as
etcd batches a lagging watcher's events. No storage, no history, no filters,
no flow control: its CPU per event and delivery latency are a floor under
every real server on this transport, not a server.
"""

from __future__ import annotations

import asyncio
from typing import Any

from etcdkit.api.pb import kv_pb2, rpc_pb2

__all__ = ["floor_etcd"]

_SERVICE_KV = "etcdserverpb.KV"
_SERVICE_WATCH = "etcdserverpb.Watch"


class _Outbox:
    """One stream's pending messages, kept per watch (messages of two watches are never merged)."""

    def __init__(self) -> None:
        self.ids: list[bytes] = []  # the encoded watch_id field of each watch, by watch id
        self._pending: dict[bytes, list[bytes]] = {}  # oldest first (dicts keep insertion order)
        self._bell: asyncio.Future[None] | None = None

    def add(self, key: bytes, message: bytes) -> None:
        """Queue ``message`` under ``key`` (a watch's events, or one watch's ``created`` answer)."""
        self._pending.setdefault(key, []).append(message)
        if self._bell is not None and not self._bell.done():
            self._bell.set_result(None)

    async def take(self) -> bytes:
        """The oldest key's queued messages joined into one (waits while nothing is queued)."""
        while not self._pending:
            self._bell = asyncio.get_running_loop().create_future()
            await self._bell
        key = next(iter(self._pending))
        return b"".join(self._pending.pop(key))


def _header(revision: int) -> rpc_pb2.ResponseHeader:
    return rpc_pb2.ResponseHeader(cluster_id=1, member_id=1, revision=revision, raft_term=1)


def floor_etcd(port_q: Any) -> None:
    """Child process (see ``_spawn.spawned_server``): serve on a free loopback port until killed."""
    import grpc

    async def serve() -> None:
        revision = 1
        outboxes: list[_Outbox] = []

        async def put(req: rpc_pb2.PutRequest, _context: Any) -> rpc_pb2.PutResponse:
            nonlocal revision
            revision += 1
            header = _header(revision)
            kv = kv_pb2.KeyValue(key=req.key, value=req.value, create_revision=revision, mod_revision=revision,
                                 version=1)
            shared = rpc_pb2.WatchResponse(header=header, events=[kv_pb2.Event(kv=kv)]).SerializeToString()
            for box in outboxes:
                for wid in box.ids:
                    box.add(wid, shared + wid)
            return rpc_pb2.PutResponse(header=header)

        async def watch(requests: Any, context: Any) -> None:
            box = _Outbox()
            outboxes.append(box)

            async def read() -> None:
                async for req in requests:
                    if req.HasField("create_request"):
                        wid = rpc_pb2.WatchResponse(watch_id=len(box.ids)).SerializeToString()
                        created = rpc_pb2.WatchResponse(header=_header(revision), created=True)
                        # under its own key: a created answer is never merged with events
                        box.add(b"created" + wid, created.SerializeToString() + wid)
                        box.ids.append(wid)

            reader = asyncio.create_task(read())
            try:
                while True:  # ends when the client cancels the stream (the handler is cancelled)
                    await context.write(await box.take())
            finally:
                outboxes.remove(box)
                reader.cancel()

        kv = grpc.method_handlers_generic_handler(
            _SERVICE_KV,
            {
                "Put": grpc.unary_unary_rpc_method_handler(
                    put,
                    request_deserializer=rpc_pb2.PutRequest.FromString,
                    response_serializer=rpc_pb2.PutResponse.SerializeToString,
                )
            },
        )
        watch_handler = grpc.method_handlers_generic_handler(
            _SERVICE_WATCH,
            {
                "Watch": grpc.stream_stream_rpc_method_handler(
                    watch, request_deserializer=rpc_pb2.WatchRequest.FromString, response_serializer=bytes
                )
            },
        )
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((kv, watch_handler))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        port_q.put(port)
        await server.wait_for_termination()

    asyncio.run(serve())
