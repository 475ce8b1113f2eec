"""Helpers shared by the lease, lock and election conformance cases (no cases here).

Lease ids: a case that lets the server pick ids records them through
:class:`LeaseNames`, which replaces each id by its order of first appearance
(``"lease#0"``, ...), because etcd and etcdkit pick different ids. Cases that
need ids inside keys (locks, elections) choose ids themselves (:func:`lease_id`).

Every case revokes what it granted before returning, so no lease expires later,
in the middle of another case sharing the server.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.testing import wait_until

from .harness import Conn

__all__ = [
    "LeaseNames",
    "grant",
    "lease_id",
    "revoke_all",
    "sorted_ids",
    "wait_key_gone",
    "wait_keys",
    "watch_responses",
]

_ID_FIELDS = frozenset({"ID", "lease"})


def lease_id(c: Conn, n: int) -> int:
    """A client-chosen lease id, distinct per case and per ``n`` (stable across servers)."""
    return ((zlib.crc32(c.ns) & 0xFFFFFF) << 16) | (n + 1)


def grant(c: Conn, n: int, ttl: int = 60, label: str = "") -> int:
    """Grant lease ``lease_id(c, n)`` with ``ttl``; record the response when labelled."""
    req = pb.LeaseGrantRequest(ID=lease_id(c, n), TTL=ttl)
    resp = c.call(c.lease.LeaseGrant, req, label) if label else c.lease.LeaseGrant(req, timeout=c.timeout)
    return int(resp.ID)


def revoke_all(c: Conn, ids: list[int]) -> None:
    """Revoke every lease in ``ids`` that still exists (cleanup; not recorded)."""
    for i in ids:
        try:
            c.lease.LeaseRevoke(pb.LeaseRevokeRequest(ID=i), timeout=c.timeout)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise


class LeaseNames:
    """Maps lease ids to ``lease#<n>`` names in order of first appearance."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def name(self, lease: int | str) -> str:
        key = str(lease)
        if key in ("0", "-1"):
            return key
        return self._names.setdefault(key, f"lease#{len(self._names)}")

    def sub(self, value: Any) -> Any:
        """``value`` (an already normalised transcript item) with ids renamed."""
        if isinstance(value, dict):
            return {k: (self.name(v) if k in _ID_FIELDS else self.sub(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.sub(v) for v in value]
        return value

    def record(self, c: Conn, value: Any, label: str) -> None:
        c.record(self.sub(c.normalise(value)), label)

    def call(self, c: Conn, method: Callable[..., Any], request: Any, label: str) -> Any:
        out = c.try_call(method, request)
        self.record(c, out, label)
        return out


def sorted_ids(resp: pb.LeaseLeasesResponse, among: set[int]) -> list[int]:
    """The ids of ``resp`` that are in ``among`` (other cases' leases ignored), sorted."""
    return sorted(int(s.ID) for s in resp.leases if int(s.ID) in among)


def wait_key_gone(c: Conn, key: bytes, timeout: float = 15.0) -> None:
    """Poll until ``key`` no longer exists (lease expiry), bounded by ``timeout``."""

    def gone() -> bool:
        return not c.kv.Range(pb.RangeRequest(key=key), timeout=c.timeout).kvs

    wait_until(gone, timeout, interval=0.05, what=f"{key!r} to be deleted")


def wait_keys(c: Conn, prefix: bytes, count: int, timeout: float = 10.0) -> None:
    """Poll until exactly ``count`` keys exist under ``prefix``."""

    def enough() -> bool:
        resp = c.kv.Range(pb.RangeRequest(key=prefix, range_end=prefix_end(prefix), count_only=True), timeout=c.timeout)
        return int(resp.count) == count

    wait_until(enough, timeout, interval=0.02, what=f"{count} keys under {prefix!r}")


def watch_responses(stream: Iterable[pb.WatchResponse]) -> Iterator[pb.WatchResponse]:
    """Iterate a Watch stream (both servers serve Watch; errors propagate)."""
    yield from stream
