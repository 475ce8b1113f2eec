"""Conformance: HashKV is identical to etcd's (same key-bucket bytes and keep rules)."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn, case


def _history(c: Conn) -> list[int]:
    revs = []
    for i in range(5):
        r = c.kv.Put(pb.PutRequest(key=c.k(f"k{i % 3}"), value=f"v{i}".encode()))
        revs.append(r.header.revision)
    c.kv.DeleteRange(pb.DeleteRangeRequest(key=c.k("k1")))
    txn = pb.TxnRequest(
        compare=[pb.Compare(key=c.k("k0"), target=pb.Compare.VERSION, result=pb.Compare.GREATER, version=0)],
        success=[
            pb.RequestOp(request_put=pb.PutRequest(key=c.k("t1"), value=b"a")),
            pb.RequestOp(request_put=pb.PutRequest(key=c.k("t2"), value=b"b")),
            pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=c.k("k2"))),
        ],
    )
    revs.append(c.kv.Txn(txn).header.revision)
    c.kv.Put(pb.PutRequest(key=c.k("k1"), value=b"again"))
    return revs


@case(fresh=True)
def case_hashkv_matches_etcd(c: Conn) -> None:
    revs = _history(c)
    for rev in (0, *revs):
        c.call(c.maintenance.HashKV, pb.HashKVRequest(revision=rev), f"hashkv at {rev}")


@case(fresh=True)
def case_hashkv_after_compaction_matches_etcd(c: Conn) -> None:
    revs = _history(c)
    c.call(c.kv.Compact, pb.CompactionRequest(revision=revs[3], physical=True), "compact")
    for rev in (0, revs[3], revs[4], revs[-1]):
        c.call(c.maintenance.HashKV, pb.HashKVRequest(revision=rev), f"hashkv at {rev}")
    c.call(c.maintenance.HashKV, pb.HashKVRequest(revision=revs[1]), "hashkv below compaction")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("k"), range_end=c.k("l"), revision=revs[3]), "read at compact rev")
