"""Conformance: request limits and errors (empty keys, --max-request-bytes, NOSPACE / alarms).

NOSPACE: etcd checks the quota against the size of its bbolt file, which no other
storage engine reproduces byte for byte. The cases therefore either make the quota
so small that the very first write trips it (any store is larger than 1 byte), or
fill the store and record only the observable sequence (docs/compatibility.md).
"""

from __future__ import annotations

from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import op_delete, op_put, op_range, prefix, put, rev
from .harness import Conn, case

NOSPACE = pb.AlarmType.NOSPACE
Action = pb.AlarmRequest.AlarmAction


def _alarms(c: Conn, label: str) -> None:
    """Record the alarm list (GET) with member ids reduced to "is this member"."""
    _alarm(c, label, Action.GET, alarm=pb.AlarmType.NONE)  # NONE: every alarm type


def _alarm(c: Conn, label: str, action: int, member: int = 0, alarm: int = NOSPACE) -> None:
    """Call Alarm and record ``[{"self": ..., "alarm": ...}]`` or the error.

    etcd 3.4 sends Alarm responses without a header, so neither the header nor the
    raw member ids (derived from each server's own peer URL) are compared.
    """
    out = c.try_call(c.maintenance.Alarm, pb.AlarmRequest(action=action, memberID=member, alarm=alarm))  # type: ignore[arg-type]
    if isinstance(out, grpc.RpcError):
        c.record(out, label)
        return
    me = _member_id(c)
    c.record([{"self": a.memberID == me, "alarm": pb.AlarmType.Name(a.alarm)} for a in out.alarms], label)


def _member_id(c: Conn) -> int:
    return int(c.maintenance.Status(pb.StatusRequest(), timeout=c.timeout).header.member_id)


def _status_errors(c: Conn, label: str) -> None:
    st = c.maintenance.Status(pb.StatusRequest(), timeout=c.timeout)
    me = str(st.header.member_id)
    c.record([e.replace(me, "<self>") for e in st.errors], label)


@case
def case_empty_key_in_every_kv_rpc(c: Conn) -> None:
    c.call(c.kv.Put, pb.PutRequest(key=b"", value=b"x", prev_kv=True), "put")
    c.call(c.kv.Range, pb.RangeRequest(key=b"", range_end=b"\x00"), "range with range_end")
    c.call(c.kv.Range, pb.RangeRequest(key=b"", count_only=True), "range count_only")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=b"", range_end=b"\x00"), "delete with range_end")
    c.call(c.kv.Txn, pb.TxnRequest(compare=[pb.Compare(key=b"")]), "txn compare")
    c.call(c.kv.Txn, pb.TxnRequest(success=[pb.RequestOp(request_put=pb.PutRequest())]), "txn put")


@case(extra_args=("--max-request-bytes=1024",))
def case_request_too_large(c: Conn) -> None:
    put(c, "small", b"x" * 500, "put of ~500 bytes")
    put(c, "big", b"x" * 2000, "put of 2000 bytes")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("k" * 2000), value=b"x"), "put with a 2000-byte key")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_put(c, f"t{i}", b"x" * 300) for i in range(5)]), "txn of 1500 bytes")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("d" * 2000)), "delete with a 2000-byte key")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_delete(c, "d" * 2000)]), "txn delete with a 2000-byte key")
    # Reads are not proposals: etcd does not apply the limit to them.
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("r" * 2000)), "range with a 2000-byte key")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_range(c, "r" * 2000)]), "read-only txn with a 2000-byte key")
    put(c, "after", b"x", "server keeps serving")
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end, keys_only=True), "only the small writes landed")


@case(extra_args=("--max-request-bytes=1024",))
def case_request_over_grpc_limit(c: Conn) -> None:
    # Beyond max-request-bytes + 512 KiB the gRPC layer itself refuses the message; the
    # wording of that error belongs to the gRPC library, so only the code is recorded.
    out = c.try_call(c.kv.Put, pb.PutRequest(key=c.k("huge"), value=b"x" * (600 * 1024)))
    code = out.code().name if isinstance(out, grpc.RpcError) else "OK"
    c.record(code, "put of 600 KiB: status code")
    put(c, "after", b"x", "server keeps serving")


@case(fresh=True)
def case_alarm_get_empty_then_activate_nospace(c: Conn) -> None:
    _alarms(c, "no alarms on a fresh server")
    me = _member_id(c)
    put(c, "keep", b"1")
    put(c, "gone", b"1")
    _alarm(c, "activate", Action.ACTIVATE, me)
    _alarms(c, "alarm list")
    _status_errors(c, "status errors")
    put(c, "new", b"1", "put is rejected")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_put(c, "t")]), "txn with a put is rejected")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_range(c, "keep")]), "read-only txn works")
    c.call(c.kv.Txn, pb.TxnRequest(success=[op_delete(c, "none")]), "delete-only txn")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("keep")), "range works")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("gone")), "delete works")
    c.call(c.kv.Compact, pb.CompactionRequest(revision=c.current_revision()), "compact works")
    out = c.try_call(c.maintenance.Defragment, pb.DefragmentRequest())
    c.record(out if isinstance(out, grpc.RpcError) else "ok", "defragment works")
    _alarms(c, "alarm survives defragment")
    _alarm(c, "disarm", Action.DEACTIVATE, me)
    _alarms(c, "alarm list after disarm")
    put(c, "new", b"1", "put works again")


@case(fresh=True)
def case_alarm_deactivate_unknown(c: Conn) -> None:
    me = _member_id(c)
    _alarm(c, "none raised", Action.DEACTIVATE, me)
    _alarm(c, "activate", Action.ACTIVATE, me)
    _alarm(c, "activate again", Action.ACTIVATE, me)
    _alarms(c, "listed once")
    _alarm(c, "wrong id", Action.DEACTIVATE, me + 1)
    _alarms(c, "still raised")
    _alarm(c, "disarm", Action.DEACTIVATE, me)
    _alarms(c, "cleared")


@case(extra_args=("--quota-backend-bytes=1",))
def case_nospace_first_write_over_tiny_quota(c: Conn) -> None:
    _alarms(c, "no alarm before any write")
    put(c, "a", b"1", "first put trips the quota")
    _alarms(c, "NOSPACE raised")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "the rejected put was not applied")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete still allowed")
    me = _member_id(c)
    _alarm(c, "disarm", Action.DEACTIVATE, me)
    _alarms(c, "cleared")
    put(c, "a", b"1", "still over quota: rejected again")
    _alarms(c, "raised again")


@case(extra_args=("--quota-backend-bytes=262144",))
def case_nospace_fill_until_alarm(c: Conn) -> None:
    # Where exactly the quota trips depends on the storage engine's file size, so the
    # index of the first failure is not recorded; only the sequence of outcomes is.
    first_error: Any = None
    written = 0
    for i in range(4000):
        out = c.try_call(c.kv.Put, pb.PutRequest(key=c.k(f"fill/{i:05d}"), value=b"x" * 1024))
        if isinstance(out, grpc.RpcError):
            first_error = out
            break
        written += 1
    c.record(first_error is not None, "some put failed within 4000 puts of 1 KiB")
    c.record(first_error, "that failure")
    _alarms(c, "alarm list")
    c.record(c.normalise(c.try_call(c.kv.Put, pb.PutRequest(key=c.k("more"), value=b"x"))), "later put rejected")
    out = c.try_call(c.kv.Range, pb.RangeRequest(key=c.k("fill/"), range_end=c.k("fill0"), count_only=True))
    # etcd may apply the put it answered NOSPACE for (its maintenance guide says so), so the
    # rejected put may or may not be there; every acknowledged one must be.
    extra = int(out.count) - written
    c.record(extra in (0, 1), "every acknowledged put is readable (plus at most the rejected one)")
    c.record(rev(out) - c.base_rev == written + extra, "one revision per applied put")


@case(fresh=True)
def case_alarm_nospace_rejects_lease_grant(c: Conn) -> None:
    me = _member_id(c)
    _alarm(c, "activate", Action.ACTIVATE, me)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=60, ID=4242), "lease grant is rejected")
    _alarm(c, "disarm", Action.DEACTIVATE, me)
    c.call(c.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=60, ID=4242), "lease grant works again")
    c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=4242), "revoke")
