"""Conformance: Maintenance and Cluster (Status, HashKV, Hash, Defragment, MemberList).

These responses carry numbers that legitimately differ between two servers
(member ids derived from each server's own peer URL, database sizes, raft
indexes, hash values of differently laid out stores). The cases record only
what must agree: derived booleans and relations, never the raw numbers.
"""

from __future__ import annotations

import re
from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import prefix, put, rev
from .harness import Conn, case

_PORT = re.compile(r":\d+(?=/|$)")


def _status(c: Conn) -> Any:
    return c.maintenance.Status(pb.StatusRequest(), timeout=c.timeout)


def _ok(c: Conn, out: Any) -> Any:
    return c.normalise(out) if isinstance(out, grpc.RpcError) else "ok"


def _hashkv(c: Conn, revision: int) -> Any:
    return c.try_call(c.maintenance.HashKV, pb.HashKVRequest(revision=revision))


def _hashkv_view(c: Conn, out: Any) -> Any:
    """HashKV without the hash value: header revision and compact revision, relative."""
    if isinstance(out, grpc.RpcError):
        return c.normalise(out)
    return {"revision": c.rel(out.header.revision), "compact_revision": c.rel(out.compact_revision)}


@case
def case_status_fields(c: Conn) -> None:
    st = _status(c)
    c.record(
        {
            "leader is this member": st.leader == st.header.member_id and st.leader != 0,
            "header has cluster and member ids": st.header.cluster_id != 0 and st.header.member_id != 0,
            "header revision is current": c.rel(st.header.revision) == 0,
            "raftIndex > 0": st.raftIndex > 0,
            "raftTerm > 0 and equals header raft_term": st.raftTerm > 0 and st.raftTerm == st.header.raft_term,
            "raftAppliedIndex in (0, raftIndex]": 0 < st.raftAppliedIndex <= st.raftIndex,
            "dbSize > 0": st.dbSize > 0,
            "dbSizeInUse in (0, dbSize]": 0 < st.dbSizeInUse <= st.dbSize,
            "version looks like 3.x.y": re.fullmatch(r"3\.\d+\.\d+", st.version) is not None,
            "errors": list(st.errors),
            "isLearner": st.isLearner,
        },
        "status",
    )


@case
def case_status_raft_index_grows_with_writes(c: Conn) -> None:
    before = _status(c)
    put(c, "a", b"1")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "a read")
    after = _status(c)
    c.record(after.raftIndex > before.raftIndex, "raftIndex grew after a put")
    c.record(after.raftTerm == before.raftTerm, "raftTerm unchanged")
    c.record(c.rel(after.header.revision), "status header revision (relative)")


@case(fresh=True)
def case_hashkv(c: Conn) -> None:
    r1 = rev(put(c, "a", b"1"))
    h1 = _hashkv(c, 0)
    c.record(_hashkv_view(c, h1), "hashkv at 0 (current)")
    c.record(h1.hash == _hashkv(c, 0).hash, "same hash when taken twice")
    c.record(h1.hash == _hashkv(c, r1).hash, "hash at the current revision equals hash at 0")
    r2 = rev(put(c, "b", b"2"))
    h2 = _hashkv(c, 0)
    c.record(_hashkv_view(c, h2), "hashkv after a put")
    c.record(h2.hash != h1.hash, "hash changed")
    c.record(_hashkv(c, r1).hash == h1.hash, "hash at the old revision unchanged")
    c.record(_hashkv_view(c, _hashkv(c, r2 + 1)), "hashkv at a future revision")
    c.call(c.kv.Compact, pb.CompactionRequest(revision=r2, physical=True), "compact at r2")
    h3 = _hashkv(c, 0)
    c.record(_hashkv_view(c, h3), "hashkv after compaction: compact_revision")
    c.record(h3.hash == h2.hash, "compaction keeps the hash of the current revision")
    c.record(_hashkv_view(c, _hashkv(c, r1)), "hashkv below the compaction")


@case
def case_hash_succeeds(c: Conn) -> None:
    out = c.try_call(c.maintenance.Hash, pb.HashRequest())
    c.record(_ok(c, out), "hash")


@case
def case_defragment_keeps_data(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "b", b"2")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("b")), "delete b")
    c.record(_ok(c, c.try_call(c.maintenance.Defragment, pb.DefragmentRequest())), "defragment")
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end), "data intact")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("b"), revision=c.base_rev + 2), "history intact")
    put(c, "c", b"3", "writes continue")
    st = _status(c)
    c.record(0 < st.dbSizeInUse <= st.dbSize, "status sizes sane after defragment")


@case
def case_member_list(c: Conn) -> None:
    out = c.cluster.MemberList(pb.MemberListRequest(), timeout=c.timeout)
    members = [
        {
            "is this member": out.header.member_id == m.ID and m.ID != 0,
            "name": m.name,
            "peerURLs": [_PORT.sub(":<port>", u) for u in m.peerURLs],
            "clientURLs": [_PORT.sub(":<port>", u) for u in m.clientURLs],
            "isLearner": m.isLearner,
        }
        for m in out.members
    ]
    c.record(members, "members")
    c.record(out.header.cluster_id != 0, "header has a cluster id")
