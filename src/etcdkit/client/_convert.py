"""Protobuf <-> typed dataclass conversion, with namespace prefixing.

The namespace (clientv3's ``namespace`` package) is applied here and only
here: outgoing keys get the prefix, outgoing range ends are mapped into the
prefix (``b"\\0"``, "every key from here", becomes the end of the
namespace), incoming keys lose the prefix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from etcdkit.api.keys import FROM_KEY, prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.client.types import (
    DeleteResponse,
    Event,
    EventType,
    GetResponse,
    KeyValue,
    Member,
    PutResponse,
    ResponseHeader,
    TxnResponse,
)

__all__ = ["Namespace", "header"]


_EVENT_TYPES = (EventType.PUT, EventType.DELETE)  # by wire value (mvccpb.Event.EventType)

# Hot-path constructors of the frozen result types. A frozen dataclass's generated __init__ sets
# every field through object.__setattr__; setting the slots through their descriptors builds the
# same (equal, hashable, still frozen) object in about half the time. Used for the types every
# get, put and watch event builds; the field order is checked here, at import.
_Setter = Callable[[Any, Any], None]
_new = object.__new__


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[_Setter, ...]:
    if tuple(f.name for f in dataclasses.fields(cls)) != names:
        raise AssertionError(f"{cls.__name__}'s fields changed: update etcdkit.client._convert")
    return tuple(getattr(cls, n).__set__ for n in names)


_H_CLUSTER, _H_MEMBER, _H_REVISION, _H_TERM = _slot_setters(
    ResponseHeader, ("cluster_id", "member_id", "revision", "raft_term")
)
_KV_KEY, _KV_VALUE, _KV_CREATE, _KV_MOD, _KV_VERSION, _KV_LEASE = _slot_setters(
    KeyValue, ("key", "value", "create_revision", "mod_revision", "version", "lease")
)
_GET_HEADER, _GET_KVS, _GET_COUNT, _GET_MORE = _slot_setters(GetResponse, ("header", "kvs", "count", "more"))


def header(h: rpc_pb2.ResponseHeader) -> ResponseHeader:
    out = _new(ResponseHeader)
    _H_CLUSTER(out, h.cluster_id)
    _H_MEMBER(out, h.member_id)
    _H_REVISION(out, h.revision)
    _H_TERM(out, h.raft_term)
    return out


def member(m: rpc_pb2.Member) -> Member:
    return Member(m.ID, m.name, tuple(m.peerURLs), tuple(m.clientURLs), m.isLearner)


class Namespace:
    """Key prefix isolation. ``Namespace(b"")`` is the identity."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def key(self, key: bytes) -> bytes:
        return self.prefix + key

    def range_end(self, key: bytes, range_end: bytes) -> bytes:
        if not self.prefix or not range_end:
            return range_end
        if range_end == FROM_KEY:
            # "every key >= key" inside the namespace; also covers key == b"\0" (all keys).
            return prefix_end(self.prefix)
        return self.prefix + range_end

    def strip(self, key: bytes) -> bytes:
        if self.prefix and key.startswith(self.prefix):
            return key[len(self.prefix) :]
        return key

    # --- responses -------------------------------------------------------------

    def kv(self, kv: kv_pb2.KeyValue) -> KeyValue:
        key = kv.key
        if self.prefix and key.startswith(self.prefix):
            key = key[len(self.prefix) :]
        out = _new(KeyValue)
        _KV_KEY(out, key)
        _KV_VALUE(out, kv.value)
        _KV_CREATE(out, kv.create_revision)
        _KV_MOD(out, kv.mod_revision)
        _KV_VERSION(out, kv.version)
        _KV_LEASE(out, kv.lease)
        return out

    def event(self, e: kv_pb2.Event) -> Event:
        prev = self.kv(e.prev_kv) if e.HasField("prev_kv") else None
        return Event(_EVENT_TYPES[e.type], self.kv(e.kv), prev)

    def get(self, r: rpc_pb2.RangeResponse) -> GetResponse:
        kvs = r.kvs
        out = _new(GetResponse)
        _GET_HEADER(out, header(r.header))
        _GET_KVS(out, tuple([self.kv(kv) for kv in kvs]) if kvs else ())
        _GET_COUNT(out, r.count)
        _GET_MORE(out, r.more)
        return out

    def put(self, r: rpc_pb2.PutResponse) -> PutResponse:
        return PutResponse(header(r.header), self.kv(r.prev_kv) if r.HasField("prev_kv") else None)

    def delete(self, r: rpc_pb2.DeleteRangeResponse) -> DeleteResponse:
        return DeleteResponse(header(r.header), r.deleted, tuple(self.kv(kv) for kv in r.prev_kvs))

    def txn(self, r: rpc_pb2.TxnResponse) -> TxnResponse:
        out: list[GetResponse | PutResponse | DeleteResponse | TxnResponse] = []
        for op in r.responses:
            which = op.WhichOneof("response")
            if which == "response_range":
                out.append(self.get(op.response_range))
            elif which == "response_put":
                out.append(self.put(op.response_put))
            elif which == "response_delete_range":
                out.append(self.delete(op.response_delete_range))
            elif which == "response_txn":
                out.append(self.txn(op.response_txn))
        return TxnResponse(header(r.header), r.succeeded, tuple(out))
