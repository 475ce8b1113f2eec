"""The KeepAlive servicer's hand-made response bytes are exactly protobuf's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from etcdkit.api.pb import rpc_pb2
from etcdkit.server.rpc.lease import encode_keepalive_response

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    cluster=st.integers(min_value=0, max_value=2**64 - 1),
    member=st.integers(min_value=0, max_value=2**64 - 1),
    revision=_INT64,
    term=st.integers(min_value=0, max_value=2**64 - 1),
    lease_id=_INT64,
    ttl=_INT64,
)
def test_matches_protobuf_serialization(cluster: int, member: int, revision: int, term: int, lease_id: int,
                                        ttl: int) -> None:
    header = rpc_pb2.ResponseHeader(cluster_id=cluster, member_id=member, revision=revision, raft_term=term)
    want = rpc_pb2.LeaseKeepAliveResponse(header=header, ID=lease_id, TTL=ttl).SerializeToString()
    got = encode_keepalive_response(header.SerializeToString(), lease_id, ttl)
    assert got == want
    assert rpc_pb2.LeaseKeepAliveResponse.FromString(got) == rpc_pb2.LeaseKeepAliveResponse(
        header=header, ID=lease_id, TTL=ttl
    )


def test_edge_values() -> None:
    h = rpc_pb2.ResponseHeader(cluster_id=1, member_id=2, revision=3, raft_term=4)
    for lease_id, ttl in [(0, 0), (1, 0), (0, 1), (-1, 60), (2**63 - 1, 2**63 - 1), (127, 128), (-(2**63), 0)]:
        want = rpc_pb2.LeaseKeepAliveResponse(header=h, ID=lease_id, TTL=ttl).SerializeToString()
        assert encode_keepalive_response(h.SerializeToString(), lease_id, ttl) == want, (lease_id, ttl)


class _Recorder:
    """Captures what a servicer registration hands to a grpc.aio server."""

    def __init__(self) -> None:
        self.generic: list[object] = []
        self.registered: dict[str, dict[str, object]] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        self.generic.extend(handlers)  # type: ignore[call-overload]

    def add_registered_method_handlers(self, service: str, handlers: dict[str, object]) -> None:
        self.registered[service] = handlers


def test_keepalive_registered_with_identity_serializer_both_ways() -> None:
    from types import SimpleNamespace

    from etcdkit.server.rpc.lease import register

    rec = _Recorder()
    register(SimpleNamespace(hub=None, current_revision=lambda: 1), rec)  # type: ignore[arg-type]
    ka = rec.registered["etcdserverpb.Lease"]["LeaseKeepAlive"]
    assert ka.response_serializer(b"raw") == b"raw"  # type: ignore[attr-defined]
    # the generic fallback resolves the full method path to the same handler kind
    (gh,) = [g for g in rec.generic if g.service_name() == "etcdserverpb.Lease"]  # type: ignore[attr-defined]
    details = SimpleNamespace(method="/etcdserverpb.Lease/LeaseKeepAlive", invocation_metadata=())
    found = gh.service(details)  # type: ignore[attr-defined]
    assert found is not None and found.response_serializer(b"raw") == b"raw"
    details.method = "/etcdserverpb.Lease/LeaseGrant"
    grant = gh.service(details)  # type: ignore[attr-defined]
    assert grant is not None and grant.response_serializer is not found.response_serializer
