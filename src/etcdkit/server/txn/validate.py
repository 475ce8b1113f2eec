"""Request validation done before a request is proposed (etcd's v3rpc checks).

Order and messages follow etcd: txn op budget, empty compare keys, each op
(recursively, with the remaining budget), then duplicate-key intervals of the
success and failure branches.
"""

from __future__ import annotations

from collections.abc import Iterable

from etcdkit.api import errors
from etcdkit.api.pb import rpc_pb2
from etcdkit.server.errors import EtcdServerError

__all__ = ["check_delete", "check_intervals", "check_put", "check_range", "check_txn"]

_SORT_TARGETS = frozenset(rpc_pb2.RangeRequest.SortTarget.values())


def _fail(wire: errors.WireError) -> EtcdServerError:
    return EtcdServerError(wire)


def check_range(r: rpc_pb2.RangeRequest) -> None:
    """etcd 3.4 ignores an unknown ``sort_order`` (keys come back in key order);
    an unknown ``sort_target`` crashes etcd 3.4, so we answer as etcd 3.5 does."""
    if not r.key:
        raise _fail(errors.EMPTY_KEY)
    if r.sort_target not in _SORT_TARGETS:
        raise _fail(errors.INVALID_SORT_OPTION)


def check_put(r: rpc_pb2.PutRequest) -> None:
    if not r.key:
        raise _fail(errors.EMPTY_KEY)
    if r.ignore_value and r.value:
        raise _fail(errors.VALUE_PROVIDED)
    if r.ignore_lease and r.lease != 0:
        raise _fail(errors.LEASE_PROVIDED)


def check_delete(r: rpc_pb2.DeleteRangeRequest) -> None:
    if not r.key:
        raise _fail(errors.EMPTY_KEY)


def _check_op(op: rpc_pb2.RequestOp, max_ops: int) -> None:
    which = op.WhichOneof("request")
    if which == "request_range":
        check_range(op.request_range)
    elif which == "request_put":
        check_put(op.request_put)
    elif which == "request_delete_range":
        check_delete(op.request_delete_range)
    elif which == "request_txn":
        _check_txn_request(op.request_txn, max_ops)
    else:  # an empty RequestOp
        raise _fail(errors.KEY_NOT_FOUND)


def _check_txn_request(r: rpc_pb2.TxnRequest, max_ops: int) -> None:
    opc = max(len(r.compare), len(r.success), len(r.failure))
    if opc > max_ops:
        raise _fail(errors.TOO_MANY_OPS)
    for c in r.compare:
        if not c.key:
            raise _fail(errors.EMPTY_KEY)
    for op in r.success:
        _check_op(op, max_ops - opc)
    for op in r.failure:
        _check_op(op, max_ops - opc)


def check_txn(r: rpc_pb2.TxnRequest, max_ops: int) -> None:
    """All of etcd's pre-proposal txn checks, in etcd's order."""
    _check_txn_request(r, max_ops)
    check_intervals(r.success)
    check_intervals(r.failure)


class _Intervals:
    """Half-open byte-string intervals; ``b""`` as an end means unbounded."""

    def __init__(self) -> None:
        self.items: list[tuple[bytes, bytes]] = []

    def add(self, begin: bytes, end: bytes) -> None:
        self.items.append((begin, end))

    def hits(self, k: bytes) -> bool:
        # A put is the point interval [k, k + "\0"); it overlaps [b, e) iff b <= k < e.
        return any(b <= k and (e == b"" or k < e) for b, e in self.items)


def check_intervals(reqs: Iterable[rpc_pb2.RequestOp]) -> tuple[set[bytes], _Intervals]:
    """etcd's duplicate-key rule for one branch level (and its nested txns).

    Two puts of one key, or a put inside a delete range of the same or an
    enclosing level, are rejected; puts in a nested txn's then- and else-
    branches may overlap each other (only one runs). A delete's ``range_end``
    is taken literally, as etcd does (so a from-key ``b"\\0"`` end covers nothing).
    """
    ops = list(reqs)
    dels = _Intervals()
    for op in ops:
        if op.WhichOneof("request") != "request_delete_range":
            continue
        d = op.request_delete_range
        dels.add(d.key, d.range_end if d.range_end else d.key + b"\x00")
    puts: set[bytes] = set()
    for op in ops:
        if op.WhichOneof("request") != "request_txn":
            continue
        puts_then, dels_then = check_intervals(op.request_txn.success)
        puts_else, dels_else = check_intervals(op.request_txn.failure)
        for k in puts_then:
            if k in puts or dels.hits(k):
                raise _fail(errors.DUPLICATE_KEY)
            puts.add(k)
        for k in puts_else:
            if (k in puts and k not in puts_then) or dels.hits(k):
                raise _fail(errors.DUPLICATE_KEY)
            puts.add(k)
        dels.items.extend(dels_then.items)
        dels.items.extend(dels_else.items)
    for op in ops:
        if op.WhichOneof("request") != "request_put":
            continue
        k = op.request_put.key
        if k in puts or dels.hits(k):
            raise _fail(errors.DUPLICATE_KEY)
        puts.add(k)
    return puts, dels
