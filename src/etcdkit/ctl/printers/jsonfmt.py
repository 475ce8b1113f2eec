"""``-w json``: ``encoding/json`` of the Go value etcdctl 3.4 prints for each command.

Most commands print the raw response struct (``pb_to_go``); the clientv3
wrapper types (lease responses, watch responses) and etcdctl's own endpoint
and snapshot structs have their own shapes, spelled out here. Pure functions.
"""

from __future__ import annotations

from typing import Any

from etcdkit.ctl.printers._gojson import encode, pb_to_go

__all__ = [
    "db_status", "endpoint_hashkv", "endpoint_health", "endpoint_status", "generic", "grant", "keep_alive",
    "leases", "time_to_live", "watch",
]  # fmt: skip


def generic(resp: Any) -> str:
    """``printJSON(resp)`` of a raw response protobuf."""
    return encode(pb_to_go(resp)) + "\n"


def _promoted_header(resp: Any) -> dict[str, Any]:
    return pb_to_go(resp.header) if resp.HasField("header") else {}


def grant(resp: Any) -> str:
    return encode({**_promoted_header(resp), "ID": resp.ID, "TTL": resp.TTL, "Error": resp.error}) + "\n"


def keep_alive(resp: Any) -> str:
    return encode({**_promoted_header(resp), "ID": resp.ID, "TTL": resp.TTL}) + "\n"


def time_to_live(resp: Any, keys: bool) -> str:
    return encode({
        **_promoted_header(resp), "id": resp.ID, "ttl": resp.TTL, "granted-ttl": resp.grantedTTL,
        "keys": [bytes(k) for k in resp.keys] if len(resp.keys) else None,
    }) + "\n"


def leases(resp: Any) -> str:
    return encode({**_promoted_header(resp), "leases": [{"id": x.ID} for x in resp.leases]}) + "\n"


def watch(resp: Any) -> str:
    return encode({
        "Header": pb_to_go(resp.header),
        "Events": [pb_to_go(e) for e in resp.events] if len(resp.events) else None,
        "CompactRevision": resp.compact_revision,
        "Canceled": resp.canceled,
        "Created": resp.created,
    }) + "\n"


def endpoint_health(results: list[dict[str, Any]]) -> str:
    out = []
    for h in results:
        d = {"endpoint": h["endpoint"], "health": h["health"], "took": h["took"]}
        if h.get("error"):
            d["error"] = h["error"]
        out.append(d)
    return encode(out) + "\n"


def endpoint_status(statuses: list[tuple[str, Any]]) -> str:
    return encode([{"Endpoint": ep, "Status": pb_to_go(r)} for ep, r in statuses]) + "\n"


def endpoint_hashkv(hashes: list[tuple[str, Any]]) -> str:
    return encode([{"Endpoint": ep, "HashKV": pb_to_go(r)} for ep, r in hashes]) + "\n"


def db_status(st: dict[str, int]) -> str:
    return encode({k: st[k] for k in ("hash", "revision", "totalKey", "totalSize")}) + "\n"
