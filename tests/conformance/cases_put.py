"""Conformance: Put (prev_kv, ignore_value / ignore_lease, leases, version and revision rules)."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import grant, lease_id, prefix, put, revoke
from .harness import Conn, case


def _get(c: Conn, key: str, label: str) -> None:
    c.call(c.kv.Range, pb.RangeRequest(key=c.k(key)), label)


@case
def case_put_prev_kv_on_missing_key(c: Conn) -> None:
    put(c, "a", b"1", "prev_kv on a new key", prev_kv=True)
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
    put(c, "a", b"2", "prev_kv on a deleted key", prev_kv=True)


@case
def case_put_prev_kv_on_existing_key(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "a", b"2", "prev_kv returns the old value", prev_kv=True)
    put(c, "a", b"", "empty value with prev_kv", prev_kv=True)
    put(c, "a", b"3", "prev_kv of the empty value", prev_kv=True)


@case
def case_put_same_value_twice_bumps_revision(c: Conn) -> None:
    put(c, "a", b"same")
    put(c, "a", b"same", "same value again", prev_kv=True)
    _get(c, "a", "version 2, mod_revision moved")


@case
def case_put_version_and_revision_rules(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "b", b"1")
    put(c, "a", b"2")
    _get(c, "a", "a: version 2, create r1, mod r3")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
    put(c, "a", b"3")
    _get(c, "a", "recreated a: version 1, new create_revision")


@case
def case_put_ignore_value_on_existing_key(c: Conn) -> None:
    put(c, "a", b"keep")
    put(c, "a", b"", "ignore_value with prev_kv", ignore_value=True, prev_kv=True)
    _get(c, "a", "value kept, version and mod_revision bumped")


@case
def case_put_ignore_value_on_missing_key(c: Conn) -> None:
    put(c, "a", b"", "ignore_value on a missing key", ignore_value=True)
    put(c, "b", b"1")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("b")), "delete b")
    put(c, "b", b"", "ignore_value on a deleted key", ignore_value=True)
    _get(c, "a", "nothing was written")


@case
def case_put_ignore_value_with_value(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "a", b"2", "ignore_value and a value", ignore_value=True)
    put(c, "missing", b"2", "ignore_value and a value on a missing key", ignore_value=True)
    _get(c, "a", "unchanged")


@case
def case_put_ignore_lease_on_existing_key(c: Conn) -> None:
    lid = grant(c)
    try:
        put(c, "a", b"1", "put with lease", lease=lid)
        put(c, "a", b"2", "ignore_lease keeps the lease", ignore_lease=True, prev_kv=True)
        _get(c, "a", "lease kept, value changed")
        put(c, "a", b"3", "plain put drops the lease")
        _get(c, "a", "lease gone")
        put(c, "b", b"1")
        put(c, "b", b"2", "ignore_lease on a key without lease", ignore_lease=True)
        _get(c, "b", "still no lease")
    finally:
        revoke(c, lid)
    _get(c, "a", "a survives the revoke (detached)")


@case
def case_put_ignore_lease_on_missing_key(c: Conn) -> None:
    put(c, "a", b"1", "ignore_lease on a missing key", ignore_lease=True)
    _get(c, "a", "nothing was written")


@case
def case_put_ignore_lease_with_lease(c: Conn) -> None:
    lid = grant(c)
    try:
        put(c, "a", b"1")
        put(c, "a", b"2", "ignore_lease and a lease", ignore_lease=True, lease=lid)
        put(c, "a", b"2", "ignore_lease and an unknown lease", ignore_lease=True, lease=lease_id(c, 99))
        _get(c, "a", "unchanged")
    finally:
        revoke(c, lid)


@case
def case_put_ignore_value_and_ignore_lease(c: Conn) -> None:
    lid = grant(c)
    try:
        put(c, "a", b"v", "put with lease", lease=lid)
        put(c, "a", b"", "both ignores", ignore_value=True, ignore_lease=True, prev_kv=True)
        _get(c, "a", "value and lease kept")
        put(c, "a", b"", "ignore_value alone drops the lease", ignore_value=True)
        _get(c, "a", "value kept, lease dropped")
    finally:
        revoke(c, lid)


@case
def case_put_unknown_lease(c: Conn) -> None:
    put(c, "a", b"1", "put with an unknown lease", lease=lease_id(c, 7))
    put(c, "a", b"1", "put with a negative lease", lease=-5)
    _get(c, "a", "nothing was written")


@case
def case_put_moves_key_between_leases(c: Conn) -> None:
    l1 = grant(c, 1)
    l2 = grant(c, 2)
    try:
        put(c, "a", b"1", "attach to lease 1", lease=l1)
        put(c, "a", b"2", "move to lease 2", lease=l2)
        revoke(c, l1, "revoke lease 1 (a no longer attached)")
        _get(c, "a", "a still there")
    finally:
        revoke(c, l2, "revoke lease 2 deletes a")
    _get(c, "a", "a gone with lease 2")


@case
def case_put_binary_key_and_value(c: Conn) -> None:
    key = c.k("bin") + bytes(range(256))
    value = bytes(range(255, -1, -1)) * 4
    c.call(c.kv.Put, pb.PutRequest(key=key, value=value), "put all byte values")
    c.call(c.kv.Range, pb.RangeRequest(key=key), "read back")


@case
def case_put_delete_detaches_lease(c: Conn) -> None:
    lid = grant(c)
    try:
        put(c, "a", b"1", "put a with lease", lease=lid)
        put(c, "b", b"1", "put b with lease", lease=lid)
        c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
        put(c, "a", b"2", "recreate a without lease")
    finally:
        revoke(c, lid, "revoke deletes only b")
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end), "a survives")
