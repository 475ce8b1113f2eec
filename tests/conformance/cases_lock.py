"""Conformance: the Lock service (v3lockpb) — acquisition, contention between
several clients, release by unlock and by lease loss, and bad input."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import v3lock_pb2 as lk

from .cases_lease_support import grant, lease_id, revoke_all, wait_keys
from .harness import Conn, case


@case
def case_lock_uncontended(c: Conn) -> None:
    a = grant(c, 0, 60)
    name = c.k("lock")
    held = c.call(c.lock.Lock, lk.LockRequest(name=name, lease=a), "lock")
    c.record(held.key == name + b"/" + format(a, "x").encode(), "key is name/<lease hex>")
    c.call(c.kv.Range, pb.RangeRequest(key=held.key), "the lock key (empty value, under the lease)")
    c.call(c.lock.Lock, lk.LockRequest(name=name, lease=a), "same lease locks again: re-entrant")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=held.key), "unlock")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=held.key), "unlock again: no-op")
    c.call(c.lock.Lock, lk.LockRequest(name=name, lease=a), "lock again after unlock")
    revoke_all(c, [a])
    c.call(c.kv.Range, pb.RangeRequest(key=held.key), "revoking the lease released it")


@case
def case_lock_contention_three_clients(c: Conn) -> None:
    a, b, d = (grant(c, i, 60) for i in range(3))
    name = c.k("mutex")
    first = c.call(c.lock.Lock, lk.LockRequest(name=name, lease=a), "a locks")
    second = c.lock.Lock.future(lk.LockRequest(name=name, lease=b), timeout=c.timeout)
    wait_keys(c, name + b"/", 2)
    third = c.lock.Lock.future(lk.LockRequest(name=name, lease=d), timeout=c.timeout)
    wait_keys(c, name + b"/", 3)
    c.record([second.done(), third.done()], "b and d wait")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=first.key), "a unlocks")
    c.record(c.normalise(second.result()), "b holds the lock")
    c.record(third.done(), "d still waits")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=b), "b's lease is revoked")
    c.record(c.normalise(third.result()), "d holds the lock")
    revoke_all(c, [a, d])


@case
def case_lock_expiring_lease_hands_over(c: Conn) -> None:
    a, b = grant(c, 0, 2), grant(c, 1, 60)
    name = c.k("mutex")
    c.call(c.lock.Lock, lk.LockRequest(name=name, lease=a), "a locks with a 2 s lease")
    got = c.lock.Lock(lk.LockRequest(name=name, lease=b), timeout=c.timeout)
    c.record(c.normalise(got), "b gets the lock when a's lease expires")
    c.call(c.lease.LeaseTimeToLive, pb.LeaseTimeToLiveRequest(ID=a), "a's lease is gone")
    revoke_all(c, [b])


@case
def case_lock_bad_input(c: Conn) -> None:
    c.call(c.lock.Lock, lk.LockRequest(name=c.k("m"), lease=lease_id(c, 5)), "unknown lease")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(""), range_end=c.k("\xff")), "nothing written")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=b""), "unlock without key")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=c.k("never-locked")), "unlock of a key that is not there")
    a = grant(c, 0, 60)
    # etcd 3.4 accepts an empty name: the key is "/<lease hex>"
    held = c.call(c.lock.Lock, lk.LockRequest(name=b"", lease=a), "empty name")
    if isinstance(held, lk.LockResponse):
        c.call(c.lock.Unlock, lk.UnlockRequest(key=held.key), "unlock it")
    revoke_all(c, [a])


@case
def case_lock_lease_zero_creates_a_session_lease(c: Conn) -> None:
    name = c.k("mutex")
    held = c.lock.Lock(lk.LockRequest(name=name, lease=0), timeout=c.timeout)
    c.record(c.rel(held.header.revision), "locked")
    prefix, _, hexid = held.key.rpartition(b"/")
    c.record(prefix == name, "key under the name")
    lease = int(hexid, 16)
    ttl = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=lease, keys=True), timeout=c.timeout)
    c.record([ttl.grantedTTL, 50 <= ttl.TTL <= 60, list(ttl.keys) == [held.key]], "a fresh 60 s lease holds the key")
    revoke_all(c, [lease])
