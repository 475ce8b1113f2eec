"""Conformance: malformed request bytes get etcd's answer; the server keeps serving."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn, case


@case
def case_truncated_protobuf_is_internal_error(c: Conn) -> None:
    raw = c.channel.unary_unary(
        "/etcdserverpb.KV/Put", request_serializer=lambda b: b, response_deserializer=lambda b: b
    )
    c.record(c.try_call(raw, b"\x0a\xff\xff\xff\xff\x0f"), "truncated bytes")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("after"), value=b"ok"), "server still serves")


@case
def case_truncated_protobuf_on_lease_lock_election(c: Conn) -> None:
    for method, data in (
        # field 1 of each request, its wire type right, its value cut short
        ("/etcdserverpb.Lease/LeaseGrant", b"\x08\xff"),
        ("/etcdserverpb.Lease/LeaseTimeToLive", b"\x08\xff\xff"),
        ("/etcdserverpb.Lease/LeaseRevoke", b"\x08"),
        ("/v3lockpb.Lock/Lock", b"\x0a\x05ab"),
        ("/v3lockpb.Lock/Unlock", b"\x0a\xff\xff\xff\xff\x0f"),
        ("/v3electionpb.Election/Leader", b"\x0a\x09x"),
        ("/v3electionpb.Election/Campaign", b"\x0a\x03"),
    ):
        raw = c.channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        c.record(c.try_call(raw, data), f"truncated bytes to {method}")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=30, ID=0x5eed), "server still serves")


@case
def case_garbage_on_keepalive_stream(c: Conn) -> None:
    raw = c.channel.stream_stream(
        "/etcdserverpb.Lease/LeaseKeepAlive",
        request_serializer=lambda b: b,
        response_deserializer=pb.LeaseKeepAliveResponse.FromString,
    )
    good = pb.LeaseKeepAliveRequest(ID=0x77).SerializeToString()
    call = raw(iter([good, b"\x08\xff"]), timeout=10)
    try:
        outcome: object = [c.normalise(r) for r in call]
    except Exception as err:  # grpc.RpcError
        outcome = c.normalise(err)
    c.record(outcome, "an unknown lease answers TTL 0, then garbage bytes end the stream")
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=30, ID=0x78), "server still serves")
