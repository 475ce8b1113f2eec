"""Small builders shared by the ``cases_*.py`` modules.

Everything here only builds requests or performs recorded calls through a
``Conn``; nothing talks to a server behind the harness's back. Keys passed to
these helpers are *relative* names, namespaced with ``c.k()``.
"""

from __future__ import annotations

import zlib
from typing import Any

import grpc

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn

__all__ = [
    "cmp",
    "grant",
    "lease_id",
    "op_delete",
    "op_put",
    "op_range",
    "op_txn",
    "prefix",
    "put",
    "rev",
    "revoke",
    "seed",
]

Target = pb.Compare.CompareTarget
Result = pb.Compare.CompareResult


def rev(resp: Any) -> int:
    """The raw header revision of a response; a failed call fails the case here, readably."""
    if isinstance(resp, grpc.RpcError):
        raise AssertionError(f"call failed where a revision was needed: {resp.code()} {resp.details()}")
    return int(resp.header.revision)


def prefix(c: Conn, p: str) -> tuple[bytes, bytes]:
    """``(key, range_end)`` selecting every key under ``p`` in the case namespace."""
    key = c.k(p)
    return key, prefix_end(key)


def put(c: Conn, key: str, value: bytes = b"v", label: str = "", **kw: Any) -> Any:
    """A recorded Put of ``c.k(key)``."""
    return c.call(c.kv.Put, pb.PutRequest(key=c.k(key), value=value, **kw), label or f"put {key}={value!r}")


def seed(c: Conn, pairs: list[tuple[str, bytes]]) -> list[int]:
    """Put every ``(key, value)`` in order (recorded); return the raw revisions."""
    return [rev(put(c, k, v)) for k, v in pairs]


def lease_id(c: Conn, n: int = 0) -> int:
    """A lease id unique to this case (stable across targets, so transcripts match)."""
    return (zlib.crc32(c.ns) << 8 | n) & 0x7FFF_FFFF_FFFF


def grant(c: Conn, n: int = 0, ttl: int = 600) -> int:
    """Grant (recorded) the case's lease number ``n`` with a long TTL; return its id.

    Cases that grant a lease must revoke it before they return (``revoke``), so
    no expiry lands in another case's revision window on the shared server.
    """
    lid = lease_id(c, n)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl, ID=lid), f"grant lease {n}")
    return lid


def revoke(c: Conn, lid: int, label: str = "revoke lease") -> None:
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=lid), label)


def op_put(c: Conn, key: str, value: bytes = b"v", **kw: Any) -> pb.RequestOp:
    return pb.RequestOp(request_put=pb.PutRequest(key=c.k(key), value=value, **kw))


def op_range(c: Conn, key: str, range_end: bytes = b"", **kw: Any) -> pb.RequestOp:
    return pb.RequestOp(request_range=pb.RangeRequest(key=c.k(key), range_end=range_end, **kw))


def op_delete(c: Conn, key: str, range_end: bytes = b"", **kw: Any) -> pb.RequestOp:
    return pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=c.k(key), range_end=range_end, **kw))


def op_txn(
    compare: list[pb.Compare] | None = None,
    success: list[pb.RequestOp] | None = None,
    failure: list[pb.RequestOp] | None = None,
) -> pb.RequestOp:
    return pb.RequestOp(request_txn=pb.TxnRequest(compare=compare, success=success, failure=failure))


def cmp(c: Conn, key: str, target: int, result: int, range_end: bytes = b"", **operand: Any) -> pb.Compare:
    """A Compare on ``c.k(key)``; ``operand`` is one of version/create_revision/mod_revision/value/lease."""
    return pb.Compare(key=c.k(key), target=target, result=result, range_end=range_end, **operand)  # type: ignore[arg-type]
