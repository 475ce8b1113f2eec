"""Protobuf -> result conversion: the fast constructors build the same frozen objects as the dataclasses."""

from __future__ import annotations

import dataclasses

import pytest

from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.client._convert import Namespace, header
from etcdkit.client.types import Event, EventType, GetResponse, KeyValue, PutResponse, ResponseHeader

H = rpc_pb2.ResponseHeader(cluster_id=11, member_id=22, revision=33, raft_term=44)
EXPECTED_HEADER = ResponseHeader(11, 22, 33, 44)


def _kv(key: bytes, n: int) -> kv_pb2.KeyValue:
    return kv_pb2.KeyValue(key=key, value=b"v%d" % n, create_revision=n, mod_revision=n + 1, version=n + 2,
                           lease=n + 3)


def test_get_builds_equal_hashable_frozen_results() -> None:
    resp = rpc_pb2.RangeResponse(header=H, kvs=[_kv(b"ns/a", 1), _kv(b"ns/b", 5)], count=7, more=True)
    got = Namespace(b"ns/").get(resp)
    want = GetResponse(
        EXPECTED_HEADER,
        (KeyValue(b"a", b"v1", 1, 2, 3, 4), KeyValue(b"b", b"v5", 5, 6, 7, 8)),
        7,
        True,
    )
    assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
    assert type(got.kvs) is tuple and got.value == b"v1"
    assert dataclasses.asdict(got) == dataclasses.asdict(want)
    for obj, field in ((got, "count"), (got.header, "revision"), (got.kvs[0], "value")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, 0)


def test_empty_get_and_default_fields() -> None:
    got = Namespace(b"").get(rpc_pb2.RangeResponse(header=rpc_pb2.ResponseHeader()))
    assert got == GetResponse(ResponseHeader()) and got.kvs == () and got.value is None
    assert Namespace(b"").kv(kv_pb2.KeyValue(key=b"k")) == KeyValue(b"k")


def test_put_event_and_header() -> None:
    ns = Namespace(b"p/")
    plain = ns.put(rpc_pb2.PutResponse(header=H))
    assert plain == PutResponse(EXPECTED_HEADER, None)
    prev = ns.put(rpc_pb2.PutResponse(header=H, prev_kv=_kv(b"p/x", 2)))
    assert prev == PutResponse(EXPECTED_HEADER, KeyValue(b"x", b"v2", 2, 3, 4, 5))
    ev = ns.event(kv_pb2.Event(type=kv_pb2.Event.DELETE, kv=_kv(b"p/y", 9), prev_kv=_kv(b"p/y", 8)))
    assert ev == Event(EventType.DELETE, KeyValue(b"y", b"v9", 9, 10, 11, 12), KeyValue(b"y", b"v8", 8, 9, 10, 11))
    assert header(H) == EXPECTED_HEADER and hash(header(H)) == hash(EXPECTED_HEADER)
