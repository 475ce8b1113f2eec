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


@case(fresh=True)  # an empty name locks under "/": it must not wait behind other cases' keys
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


@case(fresh=True)
def case_lease_lock_election_with_auth(c: Conn) -> None:
    """With auth on, Lock/Election act with the caller's permissions and
    LeaseRevoke needs write permission on every attached key."""
    from etcdkit.api.pb import auth_pb2
    from etcdkit.api.pb import v3election_pb2 as el

    a = c.auth
    a.UserAdd(pb.AuthUserAddRequest(name="root", password="r"), timeout=c.timeout)
    a.UserGrantRole(pb.AuthUserGrantRoleRequest(user="root", role="root"), timeout=c.timeout)
    a.UserAdd(pb.AuthUserAddRequest(name="al", password="a"), timeout=c.timeout)
    a.RoleAdd(pb.AuthRoleAddRequest(name="ra"), timeout=c.timeout)
    mine = c.k("a/")
    perm = auth_pb2.Permission(permType=auth_pb2.Permission.READWRITE, key=mine, range_end=c.k("a0"))
    a.RoleGrantPermission(pb.AuthRoleGrantPermissionRequest(name="ra", perm=perm), timeout=c.timeout)
    a.UserGrantRole(pb.AuthUserGrantRoleRequest(user="al", role="ra"), timeout=c.timeout)
    a.AuthEnable(pb.AuthEnableRequest(), timeout=c.timeout)
    root = [("token", a.Authenticate(pb.AuthenticateRequest(name="root", password="r"), timeout=c.timeout).token)]
    al = [("token", a.Authenticate(pb.AuthenticateRequest(name="al", password="a"), timeout=c.timeout).token)]
    other = c.k("b/")
    one, two = lease_id(c, 0), lease_id(c, 1)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=one, TTL=60), "grant without a token")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=two, TTL=60), "grant", metadata=al)
    c.call(
        c.kv.Put, pb.PutRequest(key=other + b"x", value=b"", lease=one), "root puts outside al's range", metadata=root
    )
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=one), "al may not revoke it", metadata=al)
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=one), "nor may a caller without token")
    c.call(c.lock.Lock, lk.LockRequest(name=other + b"l", lease=two), "al locks outside", metadata=al)
    held = c.call(c.lock.Lock, lk.LockRequest(name=mine + b"l", lease=two), "al locks inside", metadata=al)
    c.call(c.lock.Lock, lk.LockRequest(name=mine + b"l2", lease=two), "lock without token")
    c.call(c.lock.Unlock, lk.UnlockRequest(key=other + b"x"), "al unlocks outside", metadata=al)
    c.call(c.lock.Unlock, lk.UnlockRequest(key=held.key), "al unlocks inside", metadata=al)
    camp = el.CampaignRequest(name=other + b"e", lease=two, value=b"v")
    c.call(c.election.Campaign, camp, "al campaigns outside", metadata=al)
    c.call(c.election.Leader, el.LeaderRequest(name=other + b"e"), "al asks outside", metadata=al)
    camp = el.CampaignRequest(name=mine + b"e", lease=two, value=b"v")
    c.call(c.election.Campaign, camp, "al campaigns inside", metadata=al)
    c.call(c.election.Leader, el.LeaderRequest(name=mine + b"e"), "al asks inside", metadata=al)
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=two), "al revokes her own", metadata=al)
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=one), "root revokes", metadata=root)
