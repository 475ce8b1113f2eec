"""Conformance: the Lease service (grant, revoke, keepalive, timetolive, leases,
expiry) and its bad inputs."""

from __future__ import annotations

import time
from collections.abc import Iterator

from etcdkit.api.pb import kv_pb2
from etcdkit.api.pb import rpc_pb2 as pb

from .cases_lease_support import LeaseNames, grant, lease_id, revoke_all, sorted_ids, wait_key_gone, watch_responses
from .harness import Conn, case


@case
def case_lease_grant_server_chosen_id(c: Conn) -> None:
    names = LeaseNames()
    ids = []
    for ttl in (30, 1, 0, -7):  # below the minimum (2 s) is raised to it, not an error
        resp = names.call(c, c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl), f"grant ttl={ttl}")
        ids.append(int(resp.ID))
    c.record(all(i > 0 for i in ids), "server-chosen ids are positive")
    c.record(len(set(ids)), "and distinct")
    leases = c.lease.LeaseLeases(pb.LeaseLeasesRequest(), timeout=c.timeout)
    c.record([names.name(i) for i in sorted_ids(leases, set(ids))] == [names.name(i) for i in sorted(ids)], "listed")
    for i in ids:
        names.call(c, c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=i), "revoke")
    leases = c.lease.LeaseLeases(pb.LeaseLeasesRequest(), timeout=c.timeout)
    c.record(sorted_ids(leases, set(ids)), "none listed after revoke")


@case
def case_lease_grant_client_chosen_id_and_errors(c: Conn) -> None:
    a = lease_id(c, 0)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=a, TTL=40), "grant with id")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=a, TTL=40), "same id again")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=lease_id(c, 1), TTL=9_000_000_001), "ttl too large")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=lease_id(c, 2), TTL=9_000_000_000), "max ttl ok")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=lease_id(c, 2)), "revoke max ttl lease")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=lease_id(c, 3)), "revoke unknown")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=0), "revoke id 0")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("k"), value=b"v", lease=lease_id(c, 3)), "put with unknown lease")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("k")), "the put did not happen")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "revoke")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "revoke twice")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("k"), value=b"v", lease=a), "put with revoked lease")


@case
def case_lease_revoke_deletes_attached_keys_in_one_revision(c: Conn) -> None:
    a, b = grant(c, 0, 60, "grant a"), grant(c, 1, 60, "grant b")
    for name in ("x", "y", "z"):
        c.call(c.kv.Put, pb.PutRequest(key=c.k(name), value=b"1", lease=a), f"put {name} with a")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("w"), value=b"1", lease=b), "put w with b")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("y"), value=b"2", lease=b), "move y to b")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("z"), value=b"2"), "z loses its lease")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("x")), "delete x (detached)")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("x"), value=b"3", lease=a), "re-put x with a")
    ttl = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=a, keys=True), timeout=c.timeout)
    c.record(sorted(ttl.keys), "keys of a")
    ttl = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=b, keys=True), timeout=c.timeout)
    c.record(sorted(ttl.keys), "keys of b")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=b), "revoke b: w and y go in one revision")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(""), range_end=c.k("\xff")), "what is left")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "revoke a")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(""), range_end=c.k("\xff")), "only z is left")
    c.call(c.lease.LeaseTimeToLive, pb.LeaseTimeToLiveRequest(ID=a, keys=True), "timetolive of revoked lease")


@case
def case_lease_revoke_emits_delete_events(c: Conn) -> None:
    a = grant(c, 0, 60)
    start = c.current_revision()
    for name in ("p", "q"):
        c.kv.Put(pb.PutRequest(key=c.k(name), value=b"v", lease=a), timeout=c.timeout)
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "revoke")
    create = pb.WatchCreateRequest(key=c.k(""), range_end=c.k("\xff"), start_revision=start + 1)
    stream = c.watch.Watch(iter([pb.WatchRequest(create_request=create)]), timeout=c.timeout)
    events: list[tuple[str, bytes, int]] = []
    try:
        for resp in watch_responses(stream):
            for ev in resp.events:
                events.append((kv_pb2.Event.EventType.Name(ev.type), ev.kv.key, c.rel(ev.kv.mod_revision)))
            if len(events) >= 4:
                break
    finally:
        stream.cancel()
    c.record(events, "two puts, then both deletes at one revision")


@case
def case_lease_timetolive(c: Conn) -> None:
    a = grant(c, 0, 100)
    c.kv.Put(pb.PutRequest(key=c.k("b"), value=b"", lease=a), timeout=c.timeout)
    c.kv.Put(pb.PutRequest(key=c.k("a"), value=b"", lease=a), timeout=c.timeout)
    for keys in (False, True):
        resp = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=a, keys=keys), timeout=c.timeout)
        c.record(
            {
                "ID": a == resp.ID,
                "grantedTTL": resp.grantedTTL,
                "ttl ok": 95 <= resp.TTL <= 100,
                "keys": sorted(resp.keys),
            },
            f"timetolive keys={keys}",
        )
    c.call(c.lease.LeaseTimeToLive, pb.LeaseTimeToLiveRequest(ID=lease_id(c, 9), keys=True), "unknown lease: TTL -1")
    revoke_all(c, [a])


@case
def case_lease_keepalive(c: Conn) -> None:
    a = grant(c, 0, 30)
    b = grant(c, 1, 5)
    reqs = [pb.LeaseKeepAliveRequest(ID=i) for i in (a, b, lease_id(c, 7), 0, a)]
    out = list(c.lease.LeaseKeepAlive(iter(reqs), timeout=c.timeout))
    c.record(c.normalise(out), "keepalive answers (unknown => TTL 0)")
    resp = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=b), timeout=c.timeout)
    c.record(4 <= resp.TTL <= 5, "b refreshed")
    revoke_all(c, [a, b])
    out = list(c.lease.LeaseKeepAlive(iter([pb.LeaseKeepAliveRequest(ID=a)]), timeout=c.timeout))
    c.record(c.normalise(out), "keepalive after revoke => TTL 0")


@case
def case_lease_expiry_deletes_keys_in_one_revision(c: Conn) -> None:
    a = grant(c, 0, 2, "grant ttl 2")
    b = grant(c, 1, 60)
    for name in ("e1", "e2", "e3"):
        c.call(c.kv.Put, pb.PutRequest(key=c.k(name), value=b"v", lease=a), f"put {name}")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("keep"), value=b"v", lease=b), "put keep with another lease")
    before = c.current_revision()
    wait_key_gone(c, c.k("e1"))
    c.record(c.rel(c.current_revision()), "one revision for the whole expiry")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(""), range_end=c.k("\xff"), revision=before), "before expiry")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(""), range_end=c.k("\xff")), "after expiry")
    c.call(c.lease.LeaseTimeToLive, pb.LeaseTimeToLiveRequest(ID=a), "expired lease is gone")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "revoking it is an error")
    out = list(c.lease.LeaseKeepAlive(iter([pb.LeaseKeepAliveRequest(ID=a)]), timeout=c.timeout))
    c.record(c.normalise(out), "keepalive of expired lease")
    revoke_all(c, [b])


@case
def case_lease_keepalive_prevents_expiry(c: Conn) -> None:
    a = grant(c, 0, 2)
    c.kv.Put(pb.PutRequest(key=c.k("alive"), value=b"v", lease=a), timeout=c.timeout)

    # Renew every 0.5 s for 3.5 s (longer than the TTL), in one stream.
    def renewals() -> Iterator[pb.LeaseKeepAliveRequest]:
        for _ in range(7):
            yield pb.LeaseKeepAliveRequest(ID=a)
            time.sleep(0.5)  # paces the client's renewals; not synchronisation

    out = list(c.lease.LeaseKeepAlive(renewals(), timeout=c.timeout))
    c.record([r.TTL for r in out], "every renewal answered with the TTL")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("alive"), keys_only=True), "key still there")
    revoke_all(c, [a])


@case
def case_lease_negative_client_chosen_id(c: Conn) -> None:
    neg = -lease_id(c, 0)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(ID=neg, TTL=30), "etcd accepts a negative id")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("n"), value=b"v", lease=neg), "put under it")
    resp = c.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=neg, keys=True), timeout=c.timeout)
    c.record([neg == resp.ID, resp.grantedTTL, list(resp.keys)], "timetolive")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=neg), "revoke")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("n")), "key gone")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("after"), value=b"v"), "the server still writes")
