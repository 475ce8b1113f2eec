"""Lock and Election safety details that are etcdkit-only checks (one shared server):

* a waiter whose lease ends while it waits does not get the lock
  (``mutex: session is expired``: the etcd#11456 Jepsen fix, present in etcd
  >= 3.5; etcd 3.4.23, our conformance oracle, still grants the lock here);
* a Lock or Campaign abandoned by its caller (deadline) withdraws its key, so
  it does not block the waiters behind it (etcd: ``Unlock``/``Resign`` on error);
* many clients contending for one lock are served one at a time, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import rpc_pb2_grpc, v3election_pb2, v3election_pb2_grpc, v3lock_pb2, v3lock_pb2_grpc
from etcdkit.testing import EtcdkitProcess, wait_until


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    with EtcdkitProcess() as server, grpc.insecure_channel(server.endpoint) as ch:
        yield ch


def _count(ch: grpc.Channel, prefix: bytes) -> int:
    kv = rpc_pb2_grpc.KVStub(ch)
    end = prefix[:-1] + bytes([prefix[-1] + 1])
    return int(kv.Range(pb.RangeRequest(key=prefix, range_end=end, count_only=True), timeout=10).count)


def _grant(ch: grpc.Channel, ttl: int = 60) -> int:
    return int(rpc_pb2_grpc.LeaseStub(ch).LeaseGrant(pb.LeaseGrantRequest(TTL=ttl), timeout=10).ID)


def test_waiter_that_loses_its_lease_is_told_and_does_not_hold(channel: grpc.Channel) -> None:
    lock = v3lock_pb2_grpc.LockStub(channel)
    a, b = _grant(channel), _grant(channel)
    held = lock.Lock(v3lock_pb2.LockRequest(name=b"/safety/m1", lease=a), timeout=10)
    waiting = lock.Lock.future(v3lock_pb2.LockRequest(name=b"/safety/m1", lease=b), timeout=20)
    wait_until(lambda: _count(channel, b"/safety/m1/") == 2, 10, what="waiter queued")
    rpc_pb2_grpc.LeaseStub(channel).LeaseRevoke(pb.LeaseRevokeRequest(ID=b), timeout=10)
    assert not waiting.done()  # still waits for the earlier holder, as etcd does
    lock.Unlock(v3lock_pb2.UnlockRequest(key=held.key), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        waiting.result()
    assert err.value.code() == grpc.StatusCode.UNKNOWN
    assert err.value.details() == "mutex: session is expired"
    assert _count(channel, b"/safety/m1/") == 0


def test_abandoned_lock_withdraws_its_key(channel: grpc.Channel) -> None:
    lock = v3lock_pb2_grpc.LockStub(channel)
    a, b, c = _grant(channel), _grant(channel), _grant(channel)
    held = lock.Lock(v3lock_pb2.LockRequest(name=b"/safety/m2", lease=a), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        lock.Lock(v3lock_pb2.LockRequest(name=b"/safety/m2", lease=b), timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until(lambda: _count(channel, b"/safety/m2/") == 1, 10, what="abandoned key withdrawn")
    third = lock.Lock.future(v3lock_pb2.LockRequest(name=b"/safety/m2", lease=c), timeout=20)
    wait_until(lambda: _count(channel, b"/safety/m2/") == 2, 10, what="third queued")
    lock.Unlock(v3lock_pb2.UnlockRequest(key=held.key), timeout=10)
    assert third.result().key.endswith(format(c, "x").encode())


def test_abandoned_campaign_resigns(channel: grpc.Channel) -> None:
    el = v3election_pb2_grpc.ElectionStub(channel)
    a, b = _grant(channel), _grant(channel)
    el.Campaign(v3election_pb2.CampaignRequest(name=b"/safety/e", lease=a, value=b"a"), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        el.Campaign(v3election_pb2.CampaignRequest(name=b"/safety/e", lease=b, value=b"b"), timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until(lambda: _count(channel, b"/safety/e/") == 1, 10, what="abandoned candidate withdrawn")


def test_contending_clients_hold_the_lock_one_at_a_time(channel: grpc.Channel) -> None:
    clients = 6
    leases = [_grant(channel) for _ in range(clients)]
    inside, max_inside, order = [0], [0], []
    guard = threading.Lock()
    errors: list[BaseException] = []

    def worker(lease: int) -> None:
        try:
            stub = v3lock_pb2_grpc.LockStub(channel)
            kv = rpc_pb2_grpc.KVStub(channel)
            for _ in range(3):
                held = stub.Lock(v3lock_pb2.LockRequest(name=b"/safety/m3", lease=lease), timeout=30)
                with guard:
                    inside[0] += 1
                    max_inside[0] = max(max_inside[0], inside[0])
                    order.append(lease)
                # a read-modify-write that is only safe under the lock
                cur = kv.Range(pb.RangeRequest(key=b"/safety/counter"), timeout=10)
                n = int(cur.kvs[0].value) if cur.kvs else 0
                kv.Put(pb.PutRequest(key=b"/safety/counter", value=str(n + 1).encode()), timeout=10)
                with guard:
                    inside[0] -= 1
                stub.Unlock(v3lock_pb2.UnlockRequest(key=held.key), timeout=10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert max_inside[0] == 1
    assert len(order) == clients * 3
    final = rpc_pb2_grpc.KVStub(channel).Range(pb.RangeRequest(key=b"/safety/counter"), timeout=10)
    assert final.kvs[0].value == str(clients * 3).encode()
