"""Leases, keys under leases and a held lock survive ``kill -9`` and a restart;
expiries still happen afterwards (etcdkit only; etcd's own behaviour is the
model: leases are persisted at grant/revoke, their deadlines refreshed on start).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import rpc_pb2_grpc, v3lock_pb2, v3lock_pb2_grpc
from etcdkit.testing import EtcdkitProcess, wait_until


def _keepalives(lease: int, stop: threading.Event, sent: list[int]) -> Iterator[pb.LeaseKeepAliveRequest]:
    while not stop.is_set():
        sent[0] += 1
        yield pb.LeaseKeepAliveRequest(ID=lease)
        stop.wait(0.2)  # the client's renewal period


def _keep_alive(endpoint: str, lease: int, stop: threading.Event, sent: list[int], answered: list[int]) -> None:
    with grpc.insecure_channel(endpoint) as ch:
        stub = rpc_pb2_grpc.LeaseStub(ch)
        try:
            for resp in stub.LeaseKeepAlive(_keepalives(lease, stop, sent), timeout=60):
                answered.append(int(resp.TTL))
        except grpc.RpcError:
            return  # the server was killed under the stream


@pytest.mark.slow
def test_leases_and_lock_survive_kill_9() -> None:
    server = EtcdkitProcess()
    try:
        server.start()
        with grpc.insecure_channel(server.endpoint) as ch:
            kv, lease, lock = rpc_pb2_grpc.KVStub(ch), rpc_pb2_grpc.LeaseStub(ch), v3lock_pb2_grpc.LockStub(ch)
            long_id = lease.LeaseGrant(pb.LeaseGrantRequest(TTL=60), timeout=10).ID
            short_id = lease.LeaseGrant(pb.LeaseGrantRequest(ID=0x5157, TTL=3), timeout=10).ID
            gone_id = lease.LeaseGrant(pb.LeaseGrantRequest(TTL=60), timeout=10).ID
            kept_id = lease.LeaseGrant(pb.LeaseGrantRequest(TTL=4), timeout=10).ID
            lock_lease = lease.LeaseGrant(pb.LeaseGrantRequest(TTL=60), timeout=10).ID
            neg_id = lease.LeaseGrant(pb.LeaseGrantRequest(ID=-0x77, TTL=60), timeout=10).ID
            kv.Put(pb.PutRequest(key=b"/r/neg", value=b"v", lease=neg_id), timeout=10)
            for k in (b"/r/long/1", b"/r/long/2"):
                kv.Put(pb.PutRequest(key=k, value=b"v", lease=long_id), timeout=10)
            kv.Put(pb.PutRequest(key=b"/r/short", value=b"v", lease=short_id), timeout=10)
            kv.Put(pb.PutRequest(key=b"/r/gone", value=b"v", lease=gone_id), timeout=10)
            kv.Put(pb.PutRequest(key=b"/r/kept", value=b"v", lease=kept_id), timeout=10)
            lease.LeaseRevoke(pb.LeaseRevokeRequest(ID=gone_id), timeout=10)
            held = lock.Lock(v3lock_pb2.LockRequest(name=b"/r/job", lease=lock_lease), timeout=10)
            acked_rev = kv.Range(pb.RangeRequest(key=b"/r/", range_end=b"/r0"), timeout=10).header.revision

        stop, sent, answered = threading.Event(), [0], list[int]()
        pinger = threading.Thread(target=_keep_alive, args=(server.endpoint, kept_id, stop, sent, answered))
        pinger.start()
        try:
            wait_until(lambda: len(answered) >= 3, 10, what="keepalives answered")
            server.kill()  # keepalives in flight
        finally:
            stop.set()
            pinger.join(timeout=10)
        assert set(answered) == {4}
        server.start()

        with grpc.insecure_channel(server.endpoint) as ch:
            kv, lease, lock = rpc_pb2_grpc.KVStub(ch), rpc_pb2_grpc.LeaseStub(ch), v3lock_pb2_grpc.LockStub(ch)
            resp = kv.Range(pb.RangeRequest(key=b"/r/", range_end=b"/r0"), timeout=10)
            assert resp.header.revision == acked_rev
            got = {x.key: x.lease for x in resp.kvs}
            assert got == {
                b"/r/long/1": long_id,
                b"/r/long/2": long_id,
                b"/r/short": short_id,
                b"/r/kept": kept_id,
                b"/r/neg": neg_id,
                held.key: lock_lease,
            }
            listed = {s.ID for s in lease.LeaseLeases(pb.LeaseLeasesRequest(), timeout=10).leases}
            assert listed == {long_id, short_id, kept_id, lock_lease, neg_id}
            ttl = lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=long_id, keys=True), timeout=10)
            assert (ttl.grantedTTL, sorted(ttl.keys)) == (60, [b"/r/long/1", b"/r/long/2"])
            assert 55 <= ttl.TTL <= 61  # refreshed on start (+ election timeout), as etcd's Promote
            dead = lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=gone_id), timeout=10)
            assert dead.TTL == -1  # the acknowledged revoke was not lost

            # The lock is still held: a second locker waits until it is released.
            other = lease.LeaseGrant(pb.LeaseGrantRequest(TTL=60), timeout=10).ID
            waiting = lock.Lock.future(v3lock_pb2.LockRequest(name=b"/r/job", lease=other), timeout=30)
            wait_until(
                lambda: (
                    kv.Range(pb.RangeRequest(key=b"/r/job/", range_end=b"/r/job0", count_only=True), timeout=10).count
                    == 2
                ),
                10,
                what="second locker queued",
            )
            assert not waiting.done()
            lock.Unlock(v3lock_pb2.UnlockRequest(key=held.key), timeout=10)
            assert waiting.result().key == b"/r/job/" + format(other, "x").encode()

            # Expiry still happens after the restart, deleting the key in one revision.
            before = kv.Range(pb.RangeRequest(key=b"/r/short"), timeout=10).header.revision
            wait_until(
                lambda: not kv.Range(pb.RangeRequest(key=b"/r/short"), timeout=10).kvs, 15, what="short lease to expire"
            )
            wait_until(
                lambda: not kv.Range(pb.RangeRequest(key=b"/r/kept"), timeout=10).kvs,
                15,
                what="the lease whose keepalives stopped to expire",
            )
            after = kv.Range(pb.RangeRequest(key=b"/r/", range_end=b"/r0"), timeout=10)
            assert after.header.revision == before + 2  # one revision per expired lease
            assert {x.key for x in after.kvs} == {b"/r/long/1", b"/r/long/2", b"/r/neg", waiting.result().key}
            assert lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=short_id), timeout=10).TTL == -1
    finally:
        server.cleanup()
