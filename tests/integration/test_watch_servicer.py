"""The Watch servicer in-process (embedded member on the test's loop): cancel/close
races keep the gauges exact, the fault hooks, and registration through the
generated ``add_WatchServicer_to_server`` (message mode) on a fake store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import rpc_pb2_grpc
from etcdkit.embed import AsyncServer
from etcdkit.server.rpc.watch import WatchServicer
from etcdkit.server.watch import WatchHub

from ..unit.watch_fake_store import FakeStore, header


def _watch(channel: grpc.aio.Channel) -> Any:
    """Open a Watch call (grpc-stubs types only the sync API, so this is Any)."""
    stub: Any = rpc_pb2_grpc.WatchStub(channel)
    return stub.Watch()


def create(key: bytes, **kw: Any) -> pb.WatchRequest:
    return pb.WatchRequest(create_request=pb.WatchCreateRequest(key=key, **kw))


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_cancel_racing_stream_close_keeps_gauges_exact() -> None:
    """etcd PR #11882: cancels immediately followed by closing the stream."""

    async def main() -> None:
        async with AsyncServer(unsafe_no_fsync=True) as srv:
            hub: WatchHub = srv.member.server.hub  # type: ignore[union-attr]
            registry = srv.member.registry
            async with grpc.aio.insecure_channel(srv.endpoint) as ch:
                stub: Any = rpc_pb2_grpc.WatchStub(ch)
                calls = [stub.Watch() for _ in range(20)]
                for call in calls:
                    for i in range(10):
                        await call.write(create(b"race/%d" % i))
                for call in calls:
                    for _ in range(10):
                        assert (await asyncio.wait_for(call.read(), 10)).created
                assert hub.watcher_count == 200
                for call in calls:
                    for wid in range(10):
                        await call.write(pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=wid)))
                        await call.write(pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=wid)))
                    call.cancel()
                await until(lambda: not hub.streams)
            assert hub.watcher_count == 0 and hub.slow_count == 0 and hub.pending_events == 0
            assert registry.get_sample_value("etcd_debugging_mvcc_watcher_total") == 0
            assert registry.get_sample_value("etcd_debugging_mvcc_watch_stream_total") == 0

    asyncio.run(main())


def test_fault_hooks_cancel_watches_and_drop_streams() -> None:
    async def main() -> None:
        async with AsyncServer(unsafe_no_fsync=True) as srv:
            hub: WatchHub = srv.member.server.hub  # type: ignore[union-attr]
            own = [("grpc.use_local_subchannel_pool", 1)]  # two connections, two peers
            async with (
                grpc.aio.insecure_channel(srv.endpoint, options=own) as ch,
                grpc.aio.insecure_channel(srv.endpoint, options=own) as ch2,
            ):
                victim: Any = _watch(ch)
                other: Any = _watch(ch2)
                await victim.write(create(b"v"))
                await other.write(create(b"a"))
                assert (await asyncio.wait_for(victim.read(), 5)).created
                assert (await asyncio.wait_for(other.read(), 5)).created
                peers = {s.label for s in hub.streams}
                assert len(peers) == 2
                # Both streams have a watch id 0; the victim's is the one watching b"v".
                victim_peer = next(s.label for s in hub.streams if 0 in s.watchers and s.watchers[0].key == b"v")
                assert hub.cancel_watches("injected: reason", peer=victim_peer) == 1
                resp = await asyncio.wait_for(victim.read(), 5)
                assert resp.canceled and resp.cancel_reason == "injected: reason" and resp.watch_id == 0
                assert hub.drop_streams(peer=victim_peer) == 1
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    await asyncio.wait_for(victim.read(), 5)
                assert info.value.code() == grpc.StatusCode.UNAVAILABLE
                assert info.value.details() == "etcdserver: server stopped"
                kv: Any = rpc_pb2_grpc.KVStub(ch2)
                await kv.Put(pb.PutRequest(key=b"a", value=b"1"))
                resp = await asyncio.wait_for(other.read(), 5)
                assert [e.kv.key for e in resp.events] == [b"a"]  # the other client is unaffected
                other.cancel()

    asyncio.run(main())


def test_periodic_progress_uses_the_configured_interval() -> None:
    async def main() -> None:
        async with (
            AsyncServer(unsafe_no_fsync=True, watch_progress_notify_interval=0.1) as srv,
            grpc.aio.insecure_channel(srv.endpoint) as ch,
        ):
            call: Any = _watch(ch)
            await call.write(create(b"p", progress_notify=True))
            assert (await asyncio.wait_for(call.read(), 5)).created
            for _ in range(2):
                resp = await asyncio.wait_for(call.read(), 5)
                assert resp.watch_id == 0 and not resp.events and resp.header.revision == 1
            call.cancel()

    asyncio.run(main())


def test_generated_registration_sends_messages() -> None:
    """``add_WatchServicer_to_server`` (message mode) works on any EventSource."""

    async def main() -> None:
        store = FakeStore()
        hub = WatchHub(store)
        store.hub = hub
        info = SimpleNamespace(
            config=SimpleNamespace(max_request_bytes=1 << 20, watch_progress_notify_interval=0),
            header=lambda revision=None: header(store.rev if revision is None else revision),
            current_revision=lambda: store.rev,
        )
        server = grpc.aio.server()
        rpc_pb2_grpc.add_WatchServicer_to_server(WatchServicer(info, hub), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                call: Any = _watch(ch)
                await call.write(create(b"k", prev_kv=True))
                assert (await asyncio.wait_for(call.read(), 5)).created
                store.put(b"k", b"1")
                store.put(b"k", b"2")
                events: list[Any] = []
                for _ in range(2):  # one or two responses (a lagging sender merges revisions)
                    resp = await asyncio.wait_for(call.read(), 5)
                    assert resp.header.revision == resp.events[-1].kv.mod_revision
                    events.extend(resp.events)
                    if len(events) == 2:
                        break
                assert [e.kv.value for e in events] == [b"1", b"2"]
                assert not events[0].HasField("prev_kv") and events[1].prev_kv.value == b"1"
                call.cancel()
        finally:
            await server.stop(None)
        # The handler's cleanup may run a few loop turns after stop() returns (a cancelled
        # async-generator handler is closed by asyncio's finalizer hook): wait, bounded.
        for _ in range(500):
            if hub.watcher_count == 0:
                break
            await asyncio.sleep(0.01)
        assert hub.watcher_count == 0

    asyncio.run(main())


def test_concurrent_writers_every_stream_gets_each_revision_once_in_order() -> None:
    """Several writers racing many streams' senders: every stream gets every revision
    exactly once, in order, whole (a lagging sender may merge revisions in one response)."""
    streams, writers, puts = 12, 4, 20

    async def main() -> None:
        async with AsyncServer(unsafe_no_fsync=True) as srv, grpc.aio.insecure_channel(srv.endpoint) as ch:
            calls: list[Any] = [_watch(ch) for _ in range(streams)]
            for call in calls:
                await call.write(create(b"f/", range_end=b"f0", prev_kv=True))
            for call in calls:
                assert (await asyncio.wait_for(call.read(), 10)).created
            kv: Any = rpc_pb2_grpc.KVStub(ch)

            async def writer(w: int) -> list[int]:
                revs = []
                for i in range(puts):
                    resp = await kv.Put(pb.PutRequest(key=b"f/%d" % w, value=b"%d" % i))
                    revs.append(resp.header.revision)
                return revs

            written = sorted(r for revs in await asyncio.gather(*(writer(w) for w in range(writers))) for r in revs)

            async def reader(call: Any) -> list[tuple[int, bytes, bytes]]:
                got: list[tuple[int, bytes, bytes]] = []
                while len(got) < len(written):
                    resp = await asyncio.wait_for(call.read(), 10)
                    assert resp.events and resp.header.revision >= resp.events[-1].kv.mod_revision
                    got += [(e.kv.mod_revision, e.kv.key, e.kv.value) for e in resp.events]
                return got

            for got in await asyncio.gather(*(reader(c) for c in calls)):
                assert [rev for rev, _, _ in got] == written  # each revision once, in order
                last: dict[bytes, int] = {}
                for _, key, value in got:  # per writer, values arrive in write order
                    assert int(value) == last.get(key, -1) + 1
                    last[key] = int(value)
            for call in calls:
                call.cancel()

    asyncio.run(main())
