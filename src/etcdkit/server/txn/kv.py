"""Range, Put, DeleteRange and Txn applied with etcd's semantics.

Responses carry a header with only ``revision`` set (the server fills the
rest of the top-level header; inner txn headers stay that way, as in etcd).
Errors are raised before anything is written, so a failed request leaves the
write transaction untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from etcdkit.api import errors
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.mvcc import MVCCStore, WriteTxn

__all__ = ["LeaseView", "apply_delete_range", "apply_put", "apply_range", "apply_txn", "is_txn_readonly"]

KeyValue = kv_pb2.KeyValue
RR = rpc_pb2.RangeRequest
Cmp = rpc_pb2.Compare


class LeaseView(Protocol):
    """What KV semantics need from the lessor."""

    def exists(self, lease_id: int) -> bool: ...

    def attach(self, lease_id: int, key: bytes) -> None: ...

    def detach(self, lease_id: int, key: bytes) -> None: ...


_SORT_KEYS: dict[int, Callable[[KeyValue], Any]] = {
    RR.KEY: lambda kv: kv.key,
    RR.VERSION: lambda kv: kv.version,
    RR.CREATE: lambda kv: kv.create_revision,
    RR.MOD: lambda kv: kv.mod_revision,
    RR.VALUE: lambda kv: kv.value,
}


def apply_range(store: MVCCStore, txn: Any, r: rpc_pb2.RangeRequest, cur_rev: int) -> rpc_pb2.RangeResponse:
    """Serve a RangeRequest reading ``txn`` whose latest revision is ``cur_rev``."""
    rev = r.revision
    if rev > cur_rev:
        raise EtcdServerError(errors.FUTURE_REV)
    if rev <= 0:
        rev = cur_rev
    if rev < store.compact_revision():
        raise EtcdServerError(errors.COMPACTED)
    resp = rpc_pb2.RangeResponse()
    resp.header.revision = cur_rev
    live = list(store.iter_live(txn, r.key, r.range_end, rev))
    resp.count = len(live)
    if r.count_only:
        return resp
    filtered = bool(r.min_mod_revision or r.max_mod_revision or r.min_create_revision or r.max_create_revision)
    order = r.sort_order
    if r.sort_target != RR.KEY and order == RR.NONE:
        order = RR.ASCEND
    if not filtered and order in (RR.NONE, RR.ASCEND) and r.sort_target == RR.KEY:
        # Key order is the index order: fetch only what is returned.
        if r.limit > 0 and len(live) > r.limit:
            live = live[: r.limit]
            resp.more = True
        kvs = [store.fetch(txn, p) for p in live]
    else:
        kvs = [store.fetch(txn, p) for p in live]
        if filtered:
            kvs = [kv for kv in kvs if _passes(r, kv)]
        if order in (RR.ASCEND, RR.DESCEND):  # other values: key order, as etcd 3.4
            kvs.sort(key=_SORT_KEYS[r.sort_target], reverse=order == RR.DESCEND)
        if r.limit > 0 and len(kvs) > r.limit:
            kvs = kvs[: r.limit]
            resp.more = True
    if r.keys_only:
        for kv in kvs:
            kv.ClearField("value")
    resp.kvs.extend(kvs)
    return resp


def _passes(r: rpc_pb2.RangeRequest, kv: KeyValue) -> bool:
    return not (
        (r.max_mod_revision and kv.mod_revision > r.max_mod_revision)
        or (r.min_mod_revision and kv.mod_revision < r.min_mod_revision)
        or (r.max_create_revision and kv.create_revision > r.max_create_revision)
        or (r.min_create_revision and kv.create_revision < r.min_create_revision)
    )


def _check_put(w: WriteTxn, p: rpc_pb2.PutRequest, leases: LeaseView) -> KeyValue | None:
    """Apply-time checks of a put; returns the current kv when it was read."""
    cur = w.get(p.key) if (p.ignore_value or p.ignore_lease or p.prev_kv) else None
    if (p.ignore_value or p.ignore_lease) and cur is None:
        raise EtcdServerError(errors.KEY_NOT_FOUND)
    lease = cur.lease if (p.ignore_lease and cur is not None) else p.lease
    if lease and not leases.exists(lease):
        raise EtcdServerError(errors.LEASE_NOT_FOUND)
    return cur


def apply_put(w: WriteTxn, p: rpc_pb2.PutRequest, leases: LeaseView) -> rpc_pb2.PutResponse:
    cur = _check_put(w, p, leases)
    value = cur.value if (p.ignore_value and cur is not None) else p.value
    lease = cur.lease if (p.ignore_lease and cur is not None) else p.lease
    _kv, prev = w.put(p.key, value, lease)
    if prev is not None and prev.lease:
        leases.detach(prev.lease, p.key)
    if lease:
        leases.attach(lease, p.key)
    resp = rpc_pb2.PutResponse()
    resp.header.revision = w.rev
    if p.prev_kv and prev is not None:
        resp.prev_kv.CopyFrom(prev)
    return resp


def apply_delete_range(w: WriteTxn, d: rpc_pb2.DeleteRangeRequest, leases: LeaseView) -> rpc_pb2.DeleteRangeResponse:
    prevs = w.delete_range(d.key, d.range_end)
    for prev in prevs:
        if prev.lease:
            leases.detach(prev.lease, prev.key)
    resp = rpc_pb2.DeleteRangeResponse(deleted=len(prevs))
    resp.header.revision = w.rev if w.events else w.begin_rev
    if d.prev_kv:
        resp.prev_kvs.extend(prevs)
    return resp


# -- txn -------------------------------------------------------------------


def is_txn_readonly(r: rpc_pb2.TxnRequest) -> bool:
    for op in (*r.success, *r.failure):
        which = op.WhichOneof("request")
        if which in ("request_put", "request_delete_range"):
            return False
        if which == "request_txn" and not is_txn_readonly(op.request_txn):
            return False
    return True


def _compare_kv(c: rpc_pb2.Compare, kv: KeyValue) -> bool:
    which = c.WhichOneof("target_union")
    if c.target == Cmp.VALUE:
        want_b = c.value if which == "value" else b""
        result = (kv.value > want_b) - (kv.value < want_b)
    else:
        field, have = {
            Cmp.CREATE: ("create_revision", kv.create_revision),
            Cmp.MOD: ("mod_revision", kv.mod_revision),
            Cmp.VERSION: ("version", kv.version),
            Cmp.LEASE: ("lease", kv.lease),
        }.get(c.target, ("", 0))
        want = getattr(c, field) if field and which == field else 0
        result = (have > want) - (have < want)
    if c.result == Cmp.EQUAL:
        return result == 0
    if c.result == Cmp.NOT_EQUAL:
        return result != 0
    if c.result == Cmp.GREATER:
        return result > 0
    if c.result == Cmp.LESS:
        return result < 0
    return True


def _compare(store: MVCCStore, txn: Any, rev: int, c: rpc_pb2.Compare) -> bool:
    kvs = store.range_kvs(txn, c.key, c.range_end, rev)
    if not kvs:
        return c.target != Cmp.VALUE and _compare_kv(c, KeyValue())
    return all(_compare_kv(c, kv) for kv in kvs)


def _path(store: MVCCStore, txn: Any, rev: int, r: rpc_pb2.TxnRequest, out: list[bool]) -> None:
    """Evaluate every compare on the pre-txn state, pre-order over executed branches."""
    ok = all(_compare(store, txn, rev, c) for c in r.compare)
    out.append(ok)
    for op in r.success if ok else r.failure:
        if op.WhichOneof("request") == "request_txn":
            _path(store, txn, rev, op.request_txn, out)


def _check_branch(
    store: MVCCStore, w: WriteTxn, r: rpc_pb2.TxnRequest, path: Iterator[bool], leases: LeaseView, write: bool
) -> None:
    for op in r.success if next(path) else r.failure:
        which = op.WhichOneof("request")
        if which == "request_put" and write:
            p = op.request_put
            if (p.ignore_value or p.ignore_lease) and w.get(p.key) is None:
                raise EtcdServerError(errors.KEY_NOT_FOUND)
            if p.lease and not leases.exists(p.lease):
                raise EtcdServerError(errors.LEASE_NOT_FOUND)
        elif which == "request_range":
            rv = op.request_range.revision
            if rv > w.begin_rev:
                raise EtcdServerError(errors.FUTURE_REV)
            if 0 < rv < store.compact_revision():
                raise EtcdServerError(errors.COMPACTED)
        elif which == "request_txn":
            _check_branch(store, w, op.request_txn, path, leases, write)


def _exec(
    store: MVCCStore, w: WriteTxn, r: rpc_pb2.TxnRequest, path: Iterator[bool], leases: LeaseView
) -> rpc_pb2.TxnResponse:
    resp = rpc_pb2.TxnResponse(succeeded=next(path))
    resp.header.SetInParent()
    for op in r.success if resp.succeeded else r.failure:
        which = op.WhichOneof("request")
        out = resp.responses.add()
        if which == "request_range":
            out.response_range.CopyFrom(apply_range(store, w.txn, op.request_range, w.read_rev))
        elif which == "request_put":
            out.response_put.CopyFrom(apply_put(w, op.request_put, leases))
        elif which == "request_delete_range":
            out.response_delete_range.CopyFrom(apply_delete_range(w, op.request_delete_range, leases))
        elif which == "request_txn":
            out.response_txn.CopyFrom(_exec(store, w, op.request_txn, path, leases))
    return resp


def apply_txn(store: MVCCStore, w: WriteTxn, r: rpc_pb2.TxnRequest, leases: LeaseView) -> rpc_pb2.TxnResponse:
    """Evaluate compares on the state before the txn, check, then run the chosen branches."""
    path: list[bool] = []
    _path(store, w.txn, w.begin_rev, r, path)
    _check_branch(store, w, r, iter(path), leases, write=not is_txn_readonly(r))
    resp = _exec(store, w, r, iter(path), leases)
    resp.header.revision = w.rev if w.events else w.begin_rev
    return resp
