"""``-w simple``: etcdctl's default human/script output.

Every function is pure: response protobuf(s) in, the exact text etcdctl 3.4
writes to stdout out (``str`` in which raw key/value bytes are decoded with
``surrogateescape`` so they round-trip to the same bytes). Functions missing
here make the command fail with "simple not supported as output format".
"""

from __future__ import annotations

from typing import Any

from etcdkit.api.keys import prefix_end
from etcdkit.ctl.printers._gofmt import go_bytes_str, humanize_bytes

__all__ = [
    "alarm", "auth_disable", "auth_enable", "auth_status", "db_status", "delete", "endpoint_hashkv", "endpoint_health",
    "endpoint_status", "get", "grant", "hex_bytes", "keep_alive", "kv", "leases", "member_add", "member_list",
    "member_list_rows", "member_promote", "member_remove", "member_update", "move_leader", "put", "revoke",
    "role_add", "role_delete", "role_get", "role_grant_permission", "role_list", "role_revoke_permission",
    "status_rows", "time_to_live", "txn", "user_add", "user_change_password", "user_delete", "user_get",
    "user_grant_role", "user_list", "user_revoke_role", "watch",
]  # fmt: skip

EVENT_TYPES = {0: "PUT", 1: "DELETE"}
ALARM_TYPES = {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}


def hex_bytes(b: bytes) -> str:
    """etcdctl's ``addHexPrefix(hex.EncodeToString(b))``: ``\\x61\\x62``."""
    return "".join(f"\\x{c:02x}" for c in b)


def _s(b: bytes, is_hex: bool) -> str:
    return hex_bytes(b) if is_hex else go_bytes_str(b)


def kv(item: Any, is_hex: bool = False, value_only: bool = False) -> str:
    """One key-value: key line then value line (only the value with ``value_only``)."""
    if value_only:
        return _s(item.value, is_hex) + "\n"
    return _s(item.key, is_hex) + "\n" + _s(item.value, is_hex) + "\n"


def get(resp: Any, is_hex: bool = False, value_only: bool = False) -> str:
    return "".join(kv(x, is_hex, value_only) for x in resp.kvs)


def put(resp: Any, is_hex: bool = False) -> str:
    out = "OK\n"
    if resp.HasField("prev_kv"):
        out += kv(resp.prev_kv, is_hex)
    return out


def delete(resp: Any, is_hex: bool = False) -> str:
    return f"{resp.deleted}\n" + "".join(kv(x, is_hex) for x in resp.prev_kvs)


def txn(resp: Any, is_hex: bool = False) -> str:
    out = ["SUCCESS\n" if resp.succeeded else "FAILURE\n"]
    for r in resp.responses:
        out.append("\n")
        which = r.WhichOneof("response")
        if which == "response_range":
            out.append(get(r.response_range, is_hex))
        elif which == "response_put":
            out.append(put(r.response_put, is_hex))
        elif which == "response_delete_range":
            out.append(delete(r.response_delete_range, is_hex))
    return "".join(out)


def watch(resp: Any, is_hex: bool = False, value_only: bool = False) -> str:
    out = []
    for ev in resp.events:
        out.append(EVENT_TYPES.get(ev.type, str(ev.type)) + "\n")
        if ev.HasField("prev_kv"):
            out.append(kv(ev.prev_kv, is_hex, value_only))
        out.append(kv(ev.kv, is_hex, value_only))
    return "".join(out)


def grant(resp: Any) -> str:
    return f"lease {resp.ID:016x} granted with TTL({resp.TTL}s)\n"


def revoke(lease_id: int, resp: Any) -> str:
    return f"lease {lease_id:016x} revoked\n"


def keep_alive(resp: Any) -> str:
    return f"lease {resp.ID:016x} keepalived with TTL({resp.TTL})\n"


def time_to_live(resp: Any, keys: bool) -> str:
    if resp.grantedTTL == 0 and resp.TTL == -1:
        return f"lease {resp.ID:016x} already expired\n"
    txt = f"lease {resp.ID:016x} granted with TTL({resp.grantedTTL}s), remaining({resp.TTL}s)"
    if keys:
        txt += ", attached keys([" + " ".join(go_bytes_str(k) for k in resp.keys) + "])"
    return txt + "\n"


def leases(resp: Any) -> str:
    return f"found {len(resp.leases)} leases\n" + "".join(f"{x.ID:016x}\n" for x in resp.leases)


def alarm(resp: Any) -> str:
    out = []
    for a in resp.alarms:
        out.append(f"memberID:{a.memberID} alarm:{ALARM_TYPES.get(a.alarm, str(a.alarm))} \n")
    return "".join(out)


def member_add(resp: Any) -> str:
    return f"Member {resp.member.ID:16x} added to cluster {resp.header.cluster_id:16x}\n"


def member_remove(member_id: int, resp: Any) -> str:
    return f"Member {member_id:16x} removed from cluster {resp.header.cluster_id:16x}\n"


def member_update(member_id: int, resp: Any) -> str:
    return f"Member {member_id:16x} updated in cluster {resp.header.cluster_id:16x}\n"


def member_promote(member_id: int, resp: Any) -> str:
    return f"Member {member_id:16x} promoted in cluster {resp.header.cluster_id:16x}\n"


def member_list_rows(resp: Any) -> tuple[list[str], list[list[str]]]:
    """The header and rows etcdctl's ``makeMemberListTable`` builds (shared with the table printer)."""
    hdr = ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"]
    rows = []
    for m in resp.members:
        rows.append([
            f"{m.ID:x}", "started" if m.name else "unstarted", m.name, ",".join(m.peerURLs),
            ",".join(m.clientURLs), "true" if m.isLearner else "false",
        ])
    return hdr, rows


def member_list(resp: Any) -> str:
    return "".join(", ".join(r) + "\n" for r in member_list_rows(resp)[1])


def _go_bool(b: bool) -> str:
    return "true" if b else "false"


def status_rows(statuses: list[tuple[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """``makeEndpointStatusTable``: (endpoint, StatusResponse) pairs to header and rows."""
    hdr = ["endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term", "raft index",
           "raft applied index", "errors"]
    rows = []
    for ep, r in statuses:
        rows.append([
            ep, f"{r.header.member_id:x}", r.version, humanize_bytes(r.dbSize),
            _go_bool(r.leader == r.header.member_id), _go_bool(r.isLearner), str(r.raftTerm), str(r.raftIndex),
            str(r.raftAppliedIndex), ", ".join(r.errors),
        ])
    return hdr, rows


def endpoint_status(statuses: list[tuple[str, Any]]) -> str:
    return "".join(", ".join(r) + "\n" for r in status_rows(statuses)[1])


def endpoint_hashkv(hashes: list[tuple[str, Any]]) -> str:
    return "".join(f"{ep}, {r.hash}\n" for ep, r in hashes)


def endpoint_health(results: list[dict[str, Any]]) -> str:
    """etcdctl 3.4 writes every health line to stderr; this renders them (the command routes them)."""
    return "".join(
        f"{h['endpoint']} is healthy: successfully committed proposal: took = {h['took']}\n" if not h.get("error")
        else f"{h['endpoint']} is unhealthy: failed to commit proposal: {h['error']}\n"
        for h in results
    )


def move_leader(leader: int, target: int, resp: Any) -> str:
    return f"Leadership transferred from {leader:x} to {target:x}\n"


def db_status(st: dict[str, int]) -> str:
    return f"{st['hash']:x}, {st['revision']}, {st['totalKey']}, {humanize_bytes(st['totalSize'])}\n"


def auth_enable(resp: Any) -> str:
    return "Authentication Enabled\n"


def auth_disable(resp: Any) -> str:
    return "Authentication Disabled\n"


def auth_status(resp: Any) -> str:
    return f"Authentication Status: {_go_bool(resp.enabled)}\nAuthRevision: {resp.authRevision}\n"


def role_add(role: str, resp: Any) -> str:
    return f"Role {role} created\n"


def role_delete(role: str, resp: Any) -> str:
    return f"Role {role} deleted\n"


def role_list(resp: Any) -> str:
    return "".join(f"{r}\n" for r in resp.roles)


def role_grant_permission(role: str, resp: Any) -> str:
    return f"Role {role} updated\n"


def role_revoke_permission(role: str, key: str, end: str, resp: Any) -> str:
    if not end:
        return f"Permission of key {key} is revoked from role {role}\n"
    if end == "\x00":
        return f"Permission of range [{key}, <open ended> is revoked from role {role}\n"
    return f"Permission of range [{key}, {end}) is revoked from role {role}\n"


def role_get(role: str, resp: Any) -> str:
    out = [f"Role {role}\n"]
    for title, types in (("KV Read:", (0, 2)), ("KV Write:", (1, 2))):
        out.append(title + "\n")
        for perm in resp.perm:
            if perm.permType not in types:
                continue
            key = go_bytes_str(perm.key)
            if not perm.range_end:
                out.append(f"\t{key}\n")
                continue
            end = go_bytes_str(perm.range_end)
            line = f"\t[{key}, {end})" if perm.range_end != b"\x00" else f"\t[{key}, <open ended>"
            if prefix_end(perm.key) == perm.range_end:
                line += f" (prefix {key})"
            out.append(line + "\n")
    return "".join(out)


def user_add(name: str, resp: Any) -> str:
    return f"User {name} created\n"


def user_delete(name: str, resp: Any) -> str:
    return f"User {name} deleted\n"


def user_get(name: str, resp: Any) -> str:
    return f"User: {name}\nRoles:" + "".join(f" {r}" for r in resp.roles) + "\n"


def user_list(resp: Any) -> str:
    return "".join(f"{u}\n" for u in resp.users)


def user_change_password(resp: Any) -> str:
    return "Password updated\n"


def user_grant_role(user: str, role: str, resp: Any) -> str:
    return f"Role {role} is granted to user {user}\n"


def user_revoke_role(user: str, role: str, resp: Any) -> str:
    return f"Role {role} is revoked from user {user}\n"
