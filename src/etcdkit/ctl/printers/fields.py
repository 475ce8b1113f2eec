"""``-w fields``: one ``"Name" : value`` line per field, strings Go-quoted (``%q``).

Pure functions of the response protobufs, mirroring etcdctl 3.4's fields
printer; commands without a function here print just the response header.
"""

from __future__ import annotations

from typing import Any

from etcdkit.ctl.printers._gofmt import go_quote, go_slice
from etcdkit.ctl.printers.simple import ALARM_TYPES, EVENT_TYPES

__all__ = [
    "alarm", "db_status", "delete", "endpoint_hashkv", "endpoint_health", "endpoint_status", "get", "grant",
    "hdr", "keep_alive", "kv", "leases", "member_list", "put", "role_get", "role_list", "time_to_live", "txn",
    "watch",
]  # fmt: skip


def _b(v: bool) -> str:
    return "true" if v else "false"


def hdr(h: Any) -> str:
    """The four header lines (etcdctl dereferences the header: a response without one panics)."""
    if h is None:
        from etcdkit.ctl.printers import GoPanic

        raise GoPanic("runtime error: invalid memory address or nil pointer dereference")
    return (
        f'"ClusterID" : {h.cluster_id}\n"MemberID" : {h.member_id}\n'
        f'"Revision" : {h.revision}\n"RaftTerm" : {h.raft_term}\n'
    )


def kv(pfx: str, item: Any) -> str:
    return (
        f'"{pfx}Key" : {go_quote(item.key)}\n"{pfx}CreateRevision" : {item.create_revision}\n'
        f'"{pfx}ModRevision" : {item.mod_revision}\n"{pfx}Version" : {item.version}\n'
        f'"{pfx}Value" : {go_quote(item.value)}\n"{pfx}Lease" : {item.lease}\n'
    )


def get(resp: Any) -> str:
    return hdr(resp.header) + "".join(kv("", x) for x in resp.kvs) + (
        f'"More" : {_b(resp.more)}\n"Count" : {resp.count}\n'
    )


def put(resp: Any) -> str:
    return hdr(resp.header) + (kv("Prev", resp.prev_kv) if resp.HasField("prev_kv") else "")


def delete(resp: Any) -> str:
    return hdr(resp.header) + f'"Deleted" : {resp.deleted}\n' + "".join(kv("Prev", x) for x in resp.prev_kvs)


def txn(resp: Any) -> str:
    out = [hdr(resp.header), f'"Succeeded" : {_b(resp.succeeded)}\n']
    for r in resp.responses:
        which = r.WhichOneof("response")
        if which == "response_range":
            out.append(get(r.response_range))
        elif which == "response_put":
            out.append(put(r.response_put))
        elif which == "response_delete_range":
            out.append(delete(r.response_delete_range))
    return "".join(out)


def watch(resp: Any) -> str:
    out = [hdr(resp.header)]
    for ev in resp.events:
        out.append(f'"Type" : {EVENT_TYPES.get(ev.type, str(ev.type))}\n')
        if ev.HasField("prev_kv"):
            out.append(kv("Prev", ev.prev_kv))
        out.append(kv("", ev.kv))
    return "".join(out)


def grant(resp: Any) -> str:
    return hdr(resp.header) + f'"ID" : {resp.ID}\n"TTL" : {resp.TTL}\n'


def keep_alive(resp: Any) -> str:
    return hdr(resp.header) + f'"ID" : {resp.ID}\n"TTL" : {resp.TTL}\n'


def time_to_live(resp: Any, keys: bool) -> str:
    out = hdr(resp.header) + f'"ID" : {resp.ID}\n"TTL" : {resp.TTL}\n"GrantedTTL" : {resp.grantedTTL}\n'
    return out + "".join(f'"Key" : {go_quote(k)}\n' for k in resp.keys)


def leases(resp: Any) -> str:
    return hdr(resp.header) + "".join(f'"ID" : {x.ID}\n' for x in resp.leases)


def member_list(resp: Any) -> str:
    out = [hdr(resp.header)]
    for m in resp.members:
        out.append(f'"ID" : {m.ID}\n"Name" : {go_quote(m.name)}\n')
        out.extend(f'"PeerURL" : {go_quote(u)}\n' for u in m.peerURLs)
        out.extend(f'"ClientURL" : {go_quote(u)}\n' for u in m.clientURLs)
        out.append(f'"IsLearner" : {_b(m.isLearner)}\n\n')
    return "".join(out)


def endpoint_health(results: list[dict[str, Any]]) -> str:
    return "".join(
        f'"Endpoint" : {go_quote(h["endpoint"])}\n"Health" : {_b(h["health"])}\n"Took" : {h["took"]}\n'
        f'"Error" : {h.get("error", "")}\n\n'
        for h in results
    )


def endpoint_status(statuses: list[tuple[str, Any]]) -> str:
    out = []
    for ep, r in statuses:
        out.append(hdr(r.header))
        out.append(
            f'"Version" : {go_quote(r.version)}\n"DBSize" : {r.dbSize}\n"Leader" : {r.leader}\n'
            f'"IsLearner" : {_b(r.isLearner)}\n"RaftIndex" : {r.raftIndex}\n"RaftTerm" : {r.raftTerm}\n'
            f'"RaftAppliedIndex" : {r.raftAppliedIndex}\n"Errors" : {go_slice(list(r.errors))}\n'
            f'"Endpoint" : {go_quote(ep)}\n\n'
        )
    return "".join(out)


def endpoint_hashkv(hashes: list[tuple[str, Any]]) -> str:
    return "".join(
        hdr(r.header) + f'"Endpoint" : {go_quote(ep)}\n"Hash" : {r.hash}\n\n'
        for ep, r in hashes
    )


def alarm(resp: Any) -> str:
    return hdr(resp.header if resp.HasField("header") else None) + "".join(
        f'"MemberID" : {a.memberID}\n"AlarmType" : {ALARM_TYPES.get(a.alarm, str(a.alarm))}\n\n'
        for a in resp.alarms
    )


def role_get(role: str, resp: Any) -> str:
    names = {0: "READ", 1: "WRITE", 2: "READWRITE"}
    return hdr(resp.header) + "".join(
        f'"PermType" :  {names.get(p.permType, str(p.permType))}\n"Key" : {go_quote(p.key)}\n'
        f'"RangeEnd" : {go_quote(p.range_end)}\n'
        for p in resp.perm
    )


def role_list(resp: Any) -> str:
    return hdr(resp.header) + '"Roles" :' + "".join(f" {go_quote(r)}" for r in resp.roles) + "\n"


def db_status(st: dict[str, int]) -> str:
    return f'"Hash" : {st["hash"]}\n"Revision" : {st["revision"]}\n"Keys" : {st["totalKey"]}\n' + (
        f'"Size" : {st["totalSize"]}\n'
    )
